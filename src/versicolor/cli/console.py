"""What every command prints: a result as text or as one JSON object, and errors as one line on stderr."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console

err = Console(stderr=True)
out = Console()

AsJson = Annotated[bool, typer.Option("--json", help="Print exactly one JSON object on stdout.")]


def fail(message: str, *, code: int = 1) -> NoReturn:
    """One clear line on stderr and a non-zero exit: never a traceback."""
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code=code)


def show(result: dict[str, Any], *, as_json: bool, headline: str) -> None:
    """A created object: one JSON object for scripts, or a headline and aligned fields for people."""
    if as_json:
        sys.stdout.write(json.dumps(result) + "\n")
        return
    out.print(f"[bold green]{headline}[/]")
    for key, value in result.items():
        shown = " ".join(value) if isinstance(value, list) else value
        out.print(f"  {key:15} {shown}", highlight=False)
