"""`versicolor users`: users of an account."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from versicolor.cli.console import AsJson, show
from versicolor.cli.server.database import DatabaseUrl, run_in_db, settings_with
from versicolor.core.roles import Role

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from versicolor.core.accounts import NewUser

app = typer.Typer(no_args_is_help=True, help="Users of an account.")


@app.command("create")
def create(
    account_id: Annotated[int, typer.Option("--account-id", metavar="ID", help="The account the user joins.")],
    email: Annotated[str, typer.Option(metavar="EMAIL", help="The user's email.")],
    password: Annotated[str | None, typer.Option(metavar="PASSWORD", help="Password for signing in.")] = None,
    role: Annotated[Role, typer.Option(help="ADMIN, EDITOR or VIEWER.", case_sensitive=False)] = Role.VIEWER,
    as_json: AsJson = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Add a user, with API credentials of its own, to an account."""
    from versicolor.core import accounts

    settings = settings_with(database_url=database_url)

    async def work(session: AsyncSession) -> NewUser:
        return await accounts.create_user(
            session=session, account_id=account_id, email=email, password=password, role=role
        )

    created = run_in_db(settings, work)
    result = {
        "account_id": created.user.account_id,
        "user_id": created.user.id,
        "email": created.user.email,
        "role": created.user.role,
        "client_id": created.credentials.client_id,
        "client_secret": created.credentials.client_secret,
    }
    show(result, as_json=as_json, headline="User created. The client secret is shown once; keep it safe.")
