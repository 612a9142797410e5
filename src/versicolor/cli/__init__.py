"""The `versicolor` command: one module per command group.

`server/` holds the commands that run beside the server and work on its database (serve, db, accounts, users,
apps); the commands over HTTP sit beside them and reach the server only through `versicolor.client`.
"""

from __future__ import annotations

import typer

from versicolor.cli.server import accounts, apps, db, keys, serve, users

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Versicolor experimentation platform.")
app.command("serve")(serve.serve)
app.add_typer(db.app, name="db")
app.add_typer(accounts.app, name="accounts")
app.add_typer(users.app, name="users")
app.add_typer(apps.app, name="apps")
app.add_typer(keys.app, name="keys")


def main() -> None:
    """Entry point of the console script."""
    app()
