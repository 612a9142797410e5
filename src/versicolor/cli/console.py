"""What every command prints: results as text or as JSON, errors as one line on stderr, and its exit codes.

Exit codes (docs/client.md): 0 done; 1 refused (bad input, an invalid folder, a conflict, a plan apply must
not make); 2 `sync plan --detailed-exitcode` found changes to make; 3 not authenticated or not allowed;
4 the server could not be reached, kept failing or kept rate-limiting; 64 the command line itself is wrong.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console

OK = 0
REFUSED = 1
CHANGES = 2
NOT_ALLOWED = 3
UNAVAILABLE = 4
USAGE = 64

# Output to a pipe or a log file has no width of its own: Rich would wrap it at 80 columns and cut table cells
# short ("inconclusi…"). There, lines are as long as their content needs (unless COLUMNS says otherwise).
_UNWRAPPED = 250

err = Console(stderr=True)
out = Console() if sys.stdout.isatty() or "COLUMNS" in os.environ else Console(width=_UNWRAPPED)

AsJson = Annotated[bool, typer.Option("--json", help="Print JSON on stdout (the API's field names) for scripts.")]


def fail(message: str, *, code: int = REFUSED) -> NoReturn:
    """One clear line on stderr and a non-zero exit: never a traceback."""
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True, markup=True)
    raise typer.Exit(code=code)


def warn(message: str) -> None:
    """A line on stderr that does not stop the command."""
    err.print(f"[yellow]warning:[/] {message}", highlight=False, soft_wrap=True)


def print_json(value: Any) -> None:
    """One JSON document on stdout."""
    sys.stdout.write(json.dumps(value, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def show(result: dict[str, Any], *, as_json: bool, headline: str) -> None:
    """A created object: one JSON object for scripts, or a headline and aligned fields for people."""
    if as_json:
        print_json(result)
        return
    out.print(f"[bold green]{headline}[/]")
    for key, value in result.items():
        shown = " ".join(value) if isinstance(value, list) else value
        out.print(f"  {key:15} {shown}", highlight=False)
