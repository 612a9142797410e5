"""`versicolor urls`: the domains where experiments may run (the Edit API v3's Urls), over HTTP."""

from __future__ import annotations

import re
from typing import Annotated

import typer
from rich.table import Table

from versicolor.cli import console
from versicolor.cli.remote.connection import ProfileName, Progress, connect, reporting
from versicolor.client import Url, Versicolor

app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, help="Domains where experiments may run (over HTTP).")

Target = Annotated[str, typer.Argument(metavar="HOST_OR_ID", help="A host (shop.example.com) or a Url id.")]
OBJECT_ID = re.compile(r"[0-9a-f]{24}")


@app.command("list")
def list_urls(
    domain: Annotated[
        str | None, typer.Option("--domain", metavar="DOMAIN", help="Only this domain and its subdomains.")
    ] = None,
    profile: ProfileName = None,
    as_json: console.AsJson = False,
) -> None:
    """List the account's domains, newest first."""
    progress = Progress()
    with reporting(as_json=as_json), progress.showing("listing domains"), connect(profile, progress) as client:
        found = list(client.urls.list(domain=domain))
    if as_json:
        console.print_json([url.raw() for url in found])
        return
    table = Table("id", "host", "enabled", "environment", "archived", box=None, pad_edge=False)
    for url in found:
        table.add_row(url.id, url.host, url.enabled, url.url_group_id or "default", "yes" if url.archived_at else "")
    console.out.print(table)
    console.err.print(f"{len(found)} domain{'s' if len(found) != 1 else ''}", highlight=False)


def _find(client: Versicolor, target: str) -> Url | None:
    if OBJECT_ID.fullmatch(target):
        return client.urls.get(target)
    return client.urls.find(target)


def _set(target: str, enabled: str, profile: str | None, as_json: bool) -> None:
    progress = Progress()
    with (
        reporting(as_json=as_json),
        progress.showing(f"setting {target} to {enabled}"),
        connect(profile, progress) as client,
    ):
        url = _find(client, target)
        if url is None and enabled == "off":
            console.fail(f"no domain {target!r} in this account: nothing to disable")
        if url is None:
            url = client.urls.create(target, enabled=enabled)
        elif url.enabled != enabled:
            url = client.urls.update(url.id, enabled=enabled)
    if as_json:
        console.print_json({"url": url.raw()})
        return
    console.out.print(f"{url.host} ({url.id}) is {url.enabled}", highlight=False)


@app.command("enable")
def enable(
    target: Target,
    subdomains: Annotated[
        bool, typer.Option("--subdomains", help="Also let new subdomains run experiments (enabled=subdomain).")
    ] = False,
    profile: ProfileName = None,
    as_json: console.AsJson = False,
) -> None:
    """Let pages on a host run experiments (adds the host if the account does not have it yet)."""
    _set(target, "subdomain" if subdomains else "on", profile, as_json)


@app.command("disable")
def disable(target: Target, profile: ProfileName = None, as_json: console.AsJson = False) -> None:
    """Stop experiments on a host: its pages get no experiments and their data is refused."""
    _set(target, "off", profile, as_json)
