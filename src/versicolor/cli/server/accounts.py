"""`versicolor accounts`: customer accounts, and new API credentials for a user who lost them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from versicolor.cli.console import AsJson, fail, out, print_json, show
from versicolor.cli.server import passwords
from versicolor.cli.server.database import DatabaseUrl, run_in_db, settings_with
from versicolor.cli.server.users import AccountOfEmail, the_user

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from versicolor.core.accounts import IssuedCredentials, NewAccount
    from versicolor.db.models import User

app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, help="Customer accounts.")


@app.command("create")
def create(
    name: Annotated[str, typer.Option(metavar="NAME", help="The customer's name.")],
    email: Annotated[str, typer.Option(metavar="EMAIL", help="Email of the account's first ADMIN user.")],
    password: passwords.Password = None,
    password_stdin: passwords.PasswordStdin = False,
    ask_password: passwords.AskPassword = False,
    as_json: AsJson = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Create an account, its first ADMIN user and that user's API credentials.

    The user signs in on the authorization page with a password only if one is given.
    """
    from versicolor.core import accounts

    secret = passwords.read(password, from_stdin=password_stdin, ask=ask_password)
    settings = settings_with(database_url=database_url)

    async def work(session: AsyncSession) -> NewAccount:
        return await accounts.create_account(session=session, name=name, email=email, password=secret)

    created = run_in_db(settings, work)
    result = {
        "accountId": created.account.id,
        "userId": created.admin.user.id,
        "email": created.admin.user.email,
        "role": created.admin.user.role,
        "clientId": created.admin.credentials.client_id,
        "clientSecret": created.admin.credentials.client_secret,
        "accountSecret": created.account_secret,
    }
    show(result, as_json=as_json, headline="Account created. The secrets below are shown once; keep them safe.")


@app.command("reset-credentials")
def reset_credentials(
    email: Annotated[str, typer.Option(metavar="EMAIL", help="The user whose API credentials are re-issued.")],
    account_id: AccountOfEmail = None,
    url: Annotated[
        str, typer.Option("--url", metavar="URL", help="The server's address, for the lines to paste.")
    ] = "http://127.0.0.1:8000",
    as_json: AsJson = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Give a user a new client secret (a lost admin secret, say): the old one and its tokens stop working."""
    from versicolor.core import accounts
    from versicolor.core.roles import Principal, Role

    settings = settings_with(database_url=database_url)
    user_id = the_user(settings, email, account_id)

    async def work(session: AsyncSession) -> tuple[User, IssuedCredentials] | None:
        user = await accounts.find_user(session=session, user_id=user_id)
        if user is None:
            return None
        principal = Principal(account_id=user.account_id, user_id=user.id, role=Role(user.role))
        return user, await accounts.rotate_credentials(session=session, principal=principal)

    found = run_in_db(settings, work)
    if found is None:  # removed in the meantime
        fail(f"no user with email {escape(repr(email))} any more")
    user, issued = found
    if as_json:
        print_json(
            {
                "accountId": user.account_id,
                "userId": user.id,
                "email": user.email,
                "clientId": issued.client_id,
                "clientSecret": issued.client_secret,
            }
        )
        return
    out.print(
        f"[bold green]New API credentials for {user.email} (account {user.account_id}); shown once.[/]", soft_wrap=True
    )
    print_exports(url, issued.client_id, issued.client_secret)


def print_exports(url: str, client_id: str, client_secret: str) -> None:
    """Lines a shell can paste, so that the command line and scripts find the server and the credentials."""
    out.print("Paste into a shell (the command line and scripts read these):")
    for name, value in (
        ("VERSICOLOR_URL", url),
        ("VERSICOLOR_CLIENT_ID", client_id),
        ("VERSICOLOR_CLIENT_SECRET", client_secret),
    ):
        out.print(f"export {name}={value}", highlight=False, markup=False, soft_wrap=True)
