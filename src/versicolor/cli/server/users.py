"""`versicolor users`: users of an account."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from versicolor.cli.console import AsJson, show
from versicolor.cli.server import passwords
from versicolor.cli.server.database import DatabaseUrl, run_in_db, settings_with
from versicolor.core.roles import Role

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from versicolor.core.accounts import NewUser

app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, help="Users of an account.")
ROLES = "|".join(Role)


@app.command("create")
def create(
    account_id: Annotated[
        int,
        typer.Option("--account-id", metavar="ID", help="The account the user joins (accountId of accounts create)."),
    ],
    email: Annotated[str, typer.Option(metavar="EMAIL", help="The user's email.")],
    role: Annotated[
        Role, typer.Option(metavar=ROLES, help="What the user may do.", case_sensitive=False)
    ] = Role.VIEWER,
    password: passwords.Password = None,
    password_stdin: passwords.PasswordStdin = False,
    ask_password: passwords.AskPassword = False,
    as_json: AsJson = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Add a user, with API credentials of its own, to an account."""
    from versicolor.core import accounts

    secret = passwords.read(password, from_stdin=password_stdin, ask=ask_password)
    settings = settings_with(database_url=database_url)

    async def work(session: AsyncSession) -> NewUser:
        return await accounts.create_user(
            session=session, account_id=account_id, email=email, password=secret, role=role
        )

    created = run_in_db(settings, work)
    result = {
        "accountId": created.user.account_id,
        "userId": created.user.id,
        "email": created.user.email,
        "role": created.user.role,
        "clientId": created.credentials.client_id,
        "clientSecret": created.credentials.client_secret,
    }
    show(result, as_json=as_json, headline="User created. The client secret is shown once; keep it safe.")
