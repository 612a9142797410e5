"""The `versicolor` command: one module per command group.

`server/` holds the commands that run beside the server and work on its database (serve, db, accounts, users,
apps, keys); `remote/` holds the commands over HTTP (login, experiments, results, urls, sync), which reach the server
only through `versicolor.client`, as any API client would.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from versicolor import __version__
from versicolor.cli import console
from versicolor.cli.remote import experiments, login, results, sync, urls
from versicolor.cli.server import accounts, apps, db, keys, serve, users

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode=None,
    help="Versicolor experimentation platform. Exit codes: 0 done, 1 refused, 2 changes found "
    "(sync plan --detailed-exitcode), 3 not authenticated or not allowed, 4 server unavailable, 64 usage.",
)


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"versicolor {__version__}\n")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Versicolor experimentation platform."""


app.command("serve")(serve.serve)
app.add_typer(db.app, name="db")
app.add_typer(accounts.app, name="accounts")
app.add_typer(users.app, name="users")
app.add_typer(apps.app, name="apps")
app.add_typer(keys.app, name="keys")
app.command("login")(login.login)
app.add_typer(experiments.app, name="experiments")
app.command("results")(results.results)
app.add_typer(urls.app, name="urls")
app.add_typer(sync.app, name="sync")


def main() -> None:
    """Entry point of the console script: usage errors exit with 64, so that 2 keeps its `sync plan` meaning."""
    try:
        code = app(standalone_mode=False)
    except typer.Abort:
        console.err.print("aborted")
        sys.exit(console.REFUSED)
    except typer.TyperException as exc:  # the command line's own errors: unknown option, missing argument...
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        status = getattr(exc, "exit_code", console.REFUSED)
        sys.exit(console.USAGE if status == 2 else status)  # 2: click's code for usage errors
    sys.exit(code if isinstance(code, int) else console.OK)
