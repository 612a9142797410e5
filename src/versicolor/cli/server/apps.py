"""`versicolor apps`: partner applications (OAuth authorization code flow)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from versicolor.cli.console import AsJson, show
from versicolor.cli.server.database import DatabaseUrl, run_in_db, settings_with

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from versicolor.auth.apps import NewApp

app = typer.Typer(
    no_args_is_help=True, rich_markup_mode=None, help="Partner applications (OAuth authorization code flow)."
)


@app.command("create")
def create(
    account_id: Annotated[
        int, typer.Option("--account-id", metavar="ID", help="The account registering the application.")
    ],
    name: Annotated[str, typer.Option(metavar="NAME", help="The application's name, shown to users who authorize it.")],
    redirect_uri: Annotated[
        list[str],
        typer.Option("--redirect-uri", metavar="URL", help="Where users are sent back (repeat for several)."),
    ],
    public: Annotated[
        bool, typer.Option("--public", help="A native or browser app that cannot keep a secret: none, PKCE required.")
    ] = False,
    as_json: AsJson = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Register a partner application and print its client id and secret (shown once)."""
    from versicolor.auth import apps

    settings = settings_with(database_url=database_url)

    async def work(session: AsyncSession) -> NewApp:
        return await apps.create(
            session=session, account_id=account_id, name=name, redirect_uris=redirect_uri, public=public
        )

    created = run_in_db(settings, work)
    result = {
        "id": created.app.id,
        "accountId": created.app.account_id,
        "name": created.app.name,
        "clientId": created.app.client_id,
        "clientSecret": created.client_secret,
        "redirectUris": created.app.redirect_uris,
    }
    show(result, as_json=as_json, headline="Application registered. The client secret is shown once; keep it safe.")
