"""How a command takes a password: asked on the terminal, read from standard input, or (for old scripts) a flag.

A flag's value shows in `ps` and in shell history, so it still works but warns.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from versicolor.cli.console import fail, warn

Password = Annotated[
    str | None,
    typer.Option(
        "--password",
        metavar="PASSWORD",
        help="Other users of the machine can read it in `ps`: prefer --ask-password or --password-stdin.",
    ),
]
PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from the first line of standard input.")
]
AskPassword = Annotated[bool, typer.Option("--ask-password", help="Ask for the password on the terminal (hidden).")]


def read(password: str | None, *, from_stdin: bool, ask: bool) -> str | None:
    """The password given one of the three ways, or None when none was."""
    if sum((password is not None, from_stdin, ask)) > 1:
        fail("give the password one way only: --ask-password, --password-stdin or --password")
    if password is not None:
        warn(
            "--password shows the password to other users of this machine (ps); use --ask-password or --password-stdin"
        )
        return password
    if from_stdin:
        return _first_line("--password-stdin: standard input held no password")
    if ask:
        if not sys.stdin.isatty():
            fail("--ask-password needs a terminal; use --password-stdin in scripts")
        return _asked()
    return None


def read_required(password: str | None, *, from_stdin: bool, ask: bool) -> str:
    """For a command that needs a password: given one of the three ways, or else asked twice on a terminal, or else
    the first line of standard input (a script's pipe), so that no flag is needed either way."""
    given = read(password, from_stdin=from_stdin, ask=ask)
    if given is not None:
        return given
    if sys.stdin.isatty():
        return _asked()
    return _first_line("standard input held no password: pipe it in, or run the command on a terminal to be asked")


def _first_line(empty: str) -> str:
    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        fail(empty)
    return line


def _asked() -> str:
    # Asked again until the two agree (click says when they do not); Ctrl-D or Ctrl-C gives up, changing nothing.
    asked: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return asked
