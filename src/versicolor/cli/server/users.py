"""`versicolor users`: users of an account."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from versicolor.cli.console import AsJson, fail, out, print_json, show
from versicolor.cli.server import passwords
from versicolor.cli.server.database import DatabaseUrl, run_in_db, settings_with
from versicolor.core.roles import Role

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from versicolor.core.accounts import NewUser
    from versicolor.db.models import User
    from versicolor.settings import Settings

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


AccountOfEmail = Annotated[
    int | None,
    typer.Option("--account-id", metavar="ID", help="The user's account, when the same email has a user in several."),
]


def the_user(settings: Settings, email: str, account_id: int | None) -> int:
    """The id of the one user with `email` (in account `account_id`, if given); says why and exits 1 when there is
    none, or one in each of several accounts."""
    from versicolor.core import accounts

    async def find(session: AsyncSession) -> list[User]:
        return await accounts.users_by_email(session=session, email=email)

    found = [user for user in run_in_db(settings, find) if account_id is None or user.account_id == account_id]
    if not found:
        where = "" if account_id is None else f" in account {account_id}"
        fail(f"no user with email {escape(repr(email))}{where}; `versicolor users create` adds one")
    if len(found) > 1:
        accounts_of = ", ".join(str(user.account_id) for user in found)
        fail(f"{escape(repr(email))} is a user of several accounts ({accounts_of}); say which with --account-id")
    return found[0].id


@app.command("set-password")
def set_password(
    email: Annotated[str, typer.Argument(metavar="EMAIL", help="The user's email (who forgot their password).")],
    account_id: AccountOfEmail = None,
    password: passwords.Password = None,
    password_stdin: passwords.PasswordStdin = False,
    ask_password: passwords.AskPassword = False,
    as_json: AsJson = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Set a user's password (a forgotten one, say): asked twice on a terminal, else read from standard input.

    Every browser session the user has (the dashboard, the authorization page) ends; API credentials and tokens
    are not affected.
    """
    from versicolor.core import accounts

    settings = settings_with(database_url=database_url)
    # Who it is, before asking for anything: a mistyped email is said at once, not after two prompts.
    user_id = the_user(settings, email, account_id)
    secret = passwords.read_required(password, from_stdin=password_stdin, ask=ask_password)

    async def work(session: AsyncSession) -> tuple[User, int] | None:
        user = await accounts.find_user(session=session, user_id=user_id)
        if user is None:
            return None
        return user, await accounts.set_password(session=session, user=user, password=secret)

    changed = run_in_db(settings, work)
    if changed is None:  # removed while the password was being typed
        fail(f"no user with email {escape(repr(email))} any more")
    user, ended = changed
    if as_json:
        print_json({"accountId": user.account_id, "userId": user.id, "email": user.email, "sessionsEnded": ended})
        return
    out.print(f"[bold green]Password set for {escape(user.email)} (account {user.account_id}).[/]", soft_wrap=True)
    out.print(
        f"Browser sessions ended: {ended} (they sign in again with the new password). "
        "API credentials and tokens are unchanged.",
        soft_wrap=True,
        highlight=False,
    )
