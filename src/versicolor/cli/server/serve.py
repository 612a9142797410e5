"""`versicolor serve`: serve the API, and on an empty database create a first account."""

from __future__ import annotations

import glob
import logging
import os
import secrets
import shutil
import sys
import tempfile
from typing import TYPE_CHECKING, Annotated

import typer

from versicolor.cli.console import err, fail, out
from versicolor.cli.server.accounts import print_exports
from versicolor.cli.server.database import DatabaseUrl, run_in_db, settings_with

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from versicolor.core.accounts import NewAccount
    from versicolor.settings import Settings


def _first_start(settings: Settings, host: str, port: int, scheme: str) -> None:
    """On an empty database, create a first account and show its credentials once."""
    from versicolor.core import accounts

    async def work(session: AsyncSession) -> tuple[NewAccount, str] | None:
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
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104 - reading, not binding
    base = f"{scheme}://{shown_host}:{port}"
    email = created.admin.user.email
    out.print("[bold green]First start: created an account and its admin. These secrets are shown once.[/]")
    out.print(f"  sign in as      {email}  password {password}", highlight=False, soft_wrap=True)
    out.print(f"  the dashboard   {base}/app/  (sign in with this email and password)", highlight=False, soft_wrap=True)
    out.print(
        f"  account secret  {created.account_secret}  (X-Account-Secret, on /v3)", highlight=False, soft_wrap=True
    )
    print_exports(base, credentials.client_id, credentials.client_secret)
    out.print("Then, for example:  versicolor experiments list", highlight=False, soft_wrap=True)
    out.print(
        f"or get an access token:  curl -s -X POST {base}/oauth/token -d grant_type=client_credentials "
        '-d client_id="$VERSICOLOR_CLIENT_ID" -d client_secret="$VERSICOLOR_CLIENT_SECRET"',
        highlight=False,
        markup=False,
        soft_wrap=True,
    )
    out.print(
        f"Lost the client secret? On this machine: versicolor accounts reset-credentials --email {email}",
        highlight=False,
        soft_wrap=True,
    )


def serve(
    host: Annotated[
        str, typer.Option(metavar="ADDRESS", envvar="VERSICOLOR_HOST", help="Address to listen on (VERSICOLOR_HOST).")
    ] = "127.0.0.1",
    port: Annotated[
        int,
        typer.Option(
            metavar="PORT", envvar="VERSICOLOR_PORT", help="Port to listen on (VERSICOLOR_PORT).", min=1, max=65535
        ),
    ] = 8000,
    workers: Annotated[int, typer.Option(metavar="N", help="Worker processes.", min=1, max=64)] = 1,
    database_url: DatabaseUrl = None,
    redis_url: Annotated[
        str | None, typer.Option("--redis-url", metavar="URL", help="redis://... (VERSICOLOR_REDIS_URL)")
    ] = None,
    tls_cert: Annotated[
        str | None, typer.Option("--tls-cert", metavar="FILE", help="PEM certificate: serve HTTPS.")
    ] = None,
    tls_key: Annotated[
        str | None, typer.Option("--tls-key", metavar="FILE", help="PEM private key for --tls-cert.")
    ] = None,
) -> None:
    """Serve the API."""
    import uvicorn

    if (tls_cert is None) != (tls_key is None):
        fail("--tls-cert and --tls-key go together")
    from versicolor import logs
    from versicolor.api import framework

    try:
        framework.check()
    except framework.UnsupportedFramework as exc:
        fail(str(exc))
    settings = settings_with(database_url=database_url, redis_url=redis_url)
    # Before anything imports prometheus_client, which picks where its values live once, on import.
    metrics_directory = _metrics_directory() if settings.metrics_token else None
    # Workers are separate processes that build their settings from the environment: hand the flags on.
    os.environ["VERSICOLOR_DATABASE_URL"] = settings.database_url
    if settings.redis_url:
        os.environ["VERSICOLOR_REDIS_URL"] = settings.redis_url
    _first_start(settings, host, port, "https" if tls_cert else "http")
    if not settings.secret_key:
        warning = (
            "VERSICOLOR_SECRET_KEY is not set: the signing keys are stored in the database in clear (docs/security.md)"
        )
        if settings.log_format == "json":  # a log collector reads every line as JSON
            record = logging.LogRecord("versicolor", logging.WARNING, __file__, 0, warning, None, None)
            print(logs.JsonLines().format(record), file=sys.stderr)
        else:
            err.print(f"[yellow]warning:[/] {warning}", highlight=False)
    try:
        uvicorn.run(
            "versicolor.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            ssl_certfile=tls_cert,
            ssl_keyfile=tls_key,
            log_level=settings.log_level,
            # every line, the access log's too, with secrets masked
            log_config=logs.config(settings.log_level, settings.log_format),
            proxy_headers=False,  # the HTTPS rule decides itself whom to believe
            # A client that sends on a connection the server is closing gets no answer: the side that keeps
            # connections (a proxy) must give up on them first.
            timeout_keep_alive=settings.keep_alive_timeout,
        )
    finally:
        if metrics_directory is not None:
            shutil.rmtree(metrics_directory, ignore_errors=True)


def _metrics_directory() -> str | None:
    """Where the workers keep their metrics for /metrics to add up (versicolor/metrics.py): a new directory of
    this server's, removed when it stops (returned), or the operator's PROMETHEUS_MULTIPROC_DIR, emptied of an
    earlier run's values (kept)."""
    given = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if given:
        os.makedirs(given, exist_ok=True)
        for stale in glob.glob(os.path.join(given, "*.db")):
            os.remove(stale)
        return None
    made = tempfile.mkdtemp(prefix="versicolor-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = made
    return made
