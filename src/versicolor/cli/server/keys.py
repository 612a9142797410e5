"""`versicolor keys`: rotate the access-token signing key while the service runs."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Annotated

import typer

from versicolor.cli.console import AsJson, show
from versicolor.cli.server.database import DatabaseUrl, clear_errors, settings_with

app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, help="The keys the service signs access tokens with.")


@app.command("rotate")
def rotate(
    overlap: Annotated[
        int | None,
        typer.Option(
            "--overlap",
            metavar="SECONDS",
            min=0,
            help="How long tokens signed with the old keys keep working (default: the access token lifetime).",
        ),
    ] = None,
    as_json: AsJson = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Start signing with a new key (in 10 s, once every worker knows it); retire the old ones after the overlap."""
    from versicolor.auth import signing_key
    from versicolor.auth.gate import TokenGate
    from versicolor.runtime import Runtime

    settings = settings_with(database_url=database_url)
    kept = timedelta(seconds=settings.access_token_ttl if overlap is None else overlap)

    async def main() -> tuple[str, str]:
        runtime = await Runtime.start(settings)
        gate = TokenGate.for_runtime(runtime)
        try:
            # Through the token gate: every running worker has read the new key before this returns (Redis),
            # or within VERSICOLOR_AUTH_SYNC_INTERVAL (without it); in both cases before it signs anything.
            async with gate.changing() as session:
                kid, retire_at = await signing_key.rotate(session=session, sealer=runtime.sealer, overlap=kept)
            return kid, retire_at.isoformat()
        finally:
            await gate.close()
            await runtime.close()

    with clear_errors():
        kid, retire_at = asyncio.run(main())
    show(
        {"kid": kid, "old_keys_retire_at": retire_at},
        as_json=as_json,
        headline="New signing key: it signs in 10 s; tokens of the old keys work until they retire.",
    )
