"""`versicolor accounts`: customer accounts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from versicolor.cli.console import AsJson, show
from versicolor.cli.server.database import DatabaseUrl, run_in_db, settings_with

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from versicolor.core.accounts import NewAccount

app = typer.Typer(no_args_is_help=True, help="Customer accounts.")


@app.command("create")
def create(
    name: Annotated[str, typer.Option(metavar="NAME", help="The customer's name.")],
    email: Annotated[str, typer.Option(metavar="EMAIL", help="Email of the account's first ADMIN user.")],
    password: Annotated[
        str | None, typer.Option(metavar="PASSWORD", help="Password for signing in (authorization page).")
    ] = None,
    as_json: AsJson = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Create an account, its first ADMIN user and that user's API credentials."""
    from versicolor.core import accounts

    settings = settings_with(database_url=database_url)

    async def work(session: AsyncSession) -> NewAccount:
        return await accounts.create_account(session=session, name=name, email=email, password=password)

    created = run_in_db(settings, work)
    result = {
        "account_id": created.account.id,
        "user_id": created.admin.user.id,
        "email": created.admin.user.email,
        "role": created.admin.user.role,
        "client_id": created.admin.credentials.client_id,
        "client_secret": created.admin.credentials.client_secret,
        "account_secret": created.account_secret,
    }
    show(result, as_json=as_json, headline="Account created. The secrets below are shown once; keep them safe.")
