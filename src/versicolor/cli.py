"""The `versicolor` command: serve the API, migrate the database, create accounts and users."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from versicolor.auth import apps
from versicolor.core import accounts
from versicolor.core.errors import DomainError
from versicolor.core.roles import Role
from versicolor.db import migrate
from versicolor.db.urls import DatabaseUrlError
from versicolor.runtime import Runtime
from versicolor.settings import Settings

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Versicolor experimentation platform.")
db_app = typer.Typer(no_args_is_help=True, help="Database schema.")
accounts_app = typer.Typer(no_args_is_help=True, help="Customer accounts.")
users_app = typer.Typer(no_args_is_help=True, help="Users of an account.")
apps_app = typer.Typer(no_args_is_help=True, help="Partner applications (OAuth authorization code flow).")
app.add_typer(db_app, name="db")
app.add_typer(accounts_app, name="accounts")
app.add_typer(users_app, name="users")
app.add_typer(apps_app, name="apps")

err = Console(stderr=True)
out = Console()
T = TypeVar("T")

DatabaseUrl = Annotated[
    str | None, typer.Option("--database-url", help="sqlite:///PATH or postgresql://... (VERSICOLOR_DATABASE_URL)")
]
AsJson = Annotated[bool, typer.Option("--json", help="Print exactly one JSON object on stdout.")]


def fail(message: str) -> NoReturn:
    """One clear line on stderr and a non-zero exit: never a traceback."""
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code=1)


def settings_with(**overrides: Any) -> Settings:
    """Settings from the environment, with the CLI flags that were given taking precedence."""
    given = {name: value for name, value in overrides.items() if value is not None}
    try:
        return Settings(**given)
    except ValueError as exc:
        fail(f"invalid configuration: {exc}")


@contextmanager
def _clear_errors() -> Iterator[None]:
    try:
        yield
    except DatabaseUrlError as exc:
        fail(str(exc))
    except migrate.SchemaError as exc:
        fail(str(exc))
    except DomainError as exc:
        fail(exc.message)
    except (OperationalError, DBAPIError, OSError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        fail(f"cannot use the database: {reason}")


def run_in_db(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` in one committed transaction on a migrated database."""

    async def main() -> T:
        runtime = await Runtime.start(settings)
        try:
            async with runtime.sessions() as session, session.begin():
                return await work(session)
        finally:
            await runtime.close()

    with _clear_errors():
        return asyncio.run(main())


@db_app.command("upgrade")
def db_upgrade(database_url: DatabaseUrl = None) -> None:
    """Apply every pending migration."""
    settings = settings_with(database_url=database_url)

    async def main() -> None:
        runtime = await Runtime.start(settings)
        await runtime.close()

    with _clear_errors():
        asyncio.run(main())
    err.print(f"database is at revision {migrate.head_revision()}")


@accounts_app.command("create")
def accounts_create(
    name: Annotated[str, typer.Option(help="The customer's name.")],
    email: Annotated[str, typer.Option(help="Email of the account's first ADMIN user.")],
    password: Annotated[str | None, typer.Option(help="Password for signing in (authorization page).")] = None,
    as_json: AsJson = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Create an account, its first ADMIN user and that user's API credentials."""
    settings = settings_with(database_url=database_url)

    async def work(session: AsyncSession) -> accounts.NewAccount:
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
    _show(result, as_json, "Account created. The secrets below are shown once; keep them safe.")


@users_app.command("create")
def users_create(
    account_id: Annotated[int, typer.Option("--account-id", help="The account the user joins.")],
    email: Annotated[str, typer.Option(help="The user's email.")],
    password: Annotated[str | None, typer.Option(help="Password for signing in.")] = None,
    role: Annotated[Role, typer.Option(help="ADMIN, EDITOR or VIEWER.", case_sensitive=False)] = Role.VIEWER,
    as_json: AsJson = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Add a user, with API credentials of its own, to an account."""
    settings = settings_with(database_url=database_url)

    async def work(session: AsyncSession) -> accounts.NewUser:
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
    _show(result, as_json, "User created. The client secret is shown once; keep it safe.")


@apps_app.command("create")
def apps_create(
    account_id: Annotated[int, typer.Option("--account-id", help="The account registering the application.")],
    name: Annotated[str, typer.Option(help="The application's name, shown to users who authorize it.")],
    redirect_uri: Annotated[
        list[str], typer.Option("--redirect-uri", help="Where users are sent back (repeat for several).")
    ],
    as_json: AsJson = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Register a partner application and print its client id and secret (shown once)."""
    settings = settings_with(database_url=database_url)

    async def work(session: AsyncSession) -> apps.NewApp:
        return await apps.create(session=session, account_id=account_id, name=name, redirect_uris=redirect_uri)

    created = run_in_db(settings, work)
    result = {
        "id": created.app.id,
        "account_id": created.app.account_id,
        "name": created.app.name,
        "client_id": created.app.client_id,
        "client_secret": created.client_secret,
        "redirect_uris": created.app.redirect_uris,
    }
    if not as_json:
        result["redirect_uris"] = " ".join(created.app.redirect_uris)
    _show(result, as_json, "Application registered. The client secret is shown once; keep it safe.")


def _show(result: dict[str, Any], as_json: bool, headline: str) -> None:
    if as_json:
        sys.stdout.write(json.dumps(result) + "\n")
        return
    out.print(f"[bold green]{headline}[/]")
    for key, value in result.items():
        out.print(f"  {key:15} {value}", highlight=False)


def _first_start(settings: Settings, host: str, port: int, scheme: str) -> None:
    """On an empty database, create a first account and show its credentials once."""

    async def work(session: AsyncSession) -> tuple[accounts.NewAccount, str] | None:
        if await accounts.count_accounts(session=session) > 0:
            return None
        password = secrets.token_urlsafe(12)
        created = await accounts.create_account(
            session=session, name="My account", email="admin@example.com", password=password
        )
        return created, password

    first = run_in_db(settings, work)
    if first is None:
        return
    created, password = first
    credentials = created.admin.credentials
    base = f"{scheme}://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"  # noqa: S104 - reading, not binding
    out.print("[bold green]First start: created an account and its admin. These secrets are shown once.[/]")
    out.print(f"  email           {created.admin.user.email}", highlight=False)
    out.print(f"  password        {password}", highlight=False)
    out.print(f"  client_id       {credentials.client_id}", highlight=False)
    out.print(f"  client_secret   {credentials.client_secret}", highlight=False)
    out.print(f"  account_secret  {created.account_secret}", highlight=False)
    out.print("Get an access token:")
    out.print(
        f"  curl -s -X POST {base}/oauth/token -d grant_type=client_credentials "
        f"-d client_id={credentials.client_id} -d client_secret={credentials.client_secret}",
        highlight=False,
        soft_wrap=True,
    )


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.", min=1, max=64)] = 1,
    database_url: DatabaseUrl = None,
    redis_url: Annotated[str | None, typer.Option("--redis-url", help="redis://... (VERSICOLOR_REDIS_URL)")] = None,
    tls_cert: Annotated[str | None, typer.Option("--tls-cert", help="PEM certificate: serve HTTPS.")] = None,
    tls_key: Annotated[str | None, typer.Option("--tls-key", help="PEM private key for --tls-cert.")] = None,
) -> None:
    """Serve the API."""
    import uvicorn

    if (tls_cert is None) != (tls_key is None):
        fail("--tls-cert and --tls-key go together")
    settings = settings_with(database_url=database_url, redis_url=redis_url)
    # Workers are separate processes that build their settings from the environment: hand the flags on.
    os.environ["VERSICOLOR_DATABASE_URL"] = settings.database_url
    if settings.redis_url:
        os.environ["VERSICOLOR_REDIS_URL"] = settings.redis_url
    _first_start(settings, host, port, "https" if tls_cert else "http")
    uvicorn.run(
        "versicolor.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        ssl_certfile=tls_cert,
        ssl_keyfile=tls_key,
        log_level=settings.log_level,
        proxy_headers=False,  # the HTTPS rule decides itself whom to believe
    )


def main() -> None:
    """Entry point of the console script."""
    app()
