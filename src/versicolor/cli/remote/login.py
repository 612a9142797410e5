"""`versicolor login`: check a server's URL and API credentials, and keep them in a profile."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from versicolor.cli import console
from versicolor.cli.remote import profiles
from versicolor.cli.remote.connection import ProfileName, Progress, reporting
from versicolor.client import Versicolor


def login(
    url: Annotated[
        str | None, typer.Option("--url", metavar="URL", help="The server, e.g. https://ab.example.com.")
    ] = None,
    client_id: Annotated[
        str | None, typer.Option("--client-id", metavar="ID", help="Your API client id (asked when left out).")
    ] = None,
    client_secret_stdin: Annotated[
        bool,
        typer.Option("--client-secret-stdin", help="Read the client secret from standard input (for scripts)."),
    ] = False,
    profile: ProfileName = None,
    as_json: console.AsJson = False,
) -> None:
    """Check the server and your API credentials, then keep them (the secret is asked for, never a flag)."""
    saved = profiles.load(profile)
    url = url or saved.url or typer.prompt("Server URL", default="http://127.0.0.1:8000")
    client_id = client_id or typer.prompt("Client id", default=saved.client_id or None)
    if client_secret_stdin:
        secret = sys.stdin.readline().strip()
    elif sys.stdin.isatty():
        secret = typer.prompt("Client secret", hide_input=True)
    else:
        console.fail("no terminal to ask the client secret on: give it on standard input with --client-secret-stdin")
    if not secret:
        console.fail("the client secret is empty")
    progress = Progress()
    with (
        reporting(as_json=as_json),
        progress.showing(f"checking the credentials with {url}"),
        Versicolor(url, client_id=client_id, client_secret=secret, on_wait=progress.waiting) as client,
    ):
        me = client.transport.request("GET", "/accounts/me").json()
    file = profiles.save(profile, profiles.Profile(url=url, client_id=client_id, client_secret=secret))
    name = profiles.chosen(profile)
    if as_json:
        console.print_json({"url": url, "profile": name, "path": str(file), **me})
        return
    console.out.print(
        f"Logged in to {url} as {me.get('email')} ({me.get('role')}, account {me.get('accountId')}); "
        f"profile {name!r} saved in {file}",
        highlight=False,
    )
