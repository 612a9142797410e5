"""Turning a template and its values into an HTML answer: the Jinja environment, number and date formats,
asset URLs that change when the asset does, and the headers every page carries."""

from __future__ import annotations

import hashlib
import math
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.responses import HTMLResponse

STATIC_PATH = "/app/static"

# No inline script or style anywhere: scripts and stylesheets come from the package's own files only. SVG
# charts are drawn with presentation attributes, which a style-src policy does not govern.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
NONE = "\u2013"  # an en dash: a figure that does not exist
MINUS = "\u2212"  # a true minus sign, as wide as the plus

PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    # Pages show an account's private figures and carry CSRF tokens: never kept by a cache.
    "Cache-Control": "no-store",
}


def percent(value: float | None, digits: int = 2) -> str:
    """`12.35%`; an en dash when there is no value."""
    if value is None or not math.isfinite(value):
        return NONE
    return f"{value:.{digits}f}%"


def signed_percent(value: float | None, digits: int = 1) -> str:
    """`+12.3%` or `-4.0%` (with a true minus sign); an en dash when there is no value."""
    if value is None or not math.isfinite(value):
        return NONE
    text = f"{abs(value):.{digits}f}%"
    if round(value, digits) == 0:
        return text
    return ("+" if value > 0 else MINUS) + text


def count(value: float | None) -> str:
    """`12,345`; an en dash when there is no value."""
    if value is None:
        return NONE
    return f"{round(value):,}"


def p_value(value: float | None) -> str:
    """A p-value as people read it: `0.032`, `< 0.001`."""
    if value is None or not math.isfinite(value):
        return NONE
    if value < 0.001:
        return "< 0.001"
    return f"{value:.3f}"


def moment(value: datetime | None) -> str:
    """`2024-05-06 10:00 UTC`; an en dash for none."""
    if value is None:
        return NONE
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def day(value: datetime | None) -> str:
    """`2024-05-06`; an en dash for none."""
    if value is None:
        return NONE
    return value.astimezone(UTC).strftime("%Y-%m-%d")


def ago(value: datetime | None, now: datetime | None = None) -> str:
    """`3 minutes ago`."""
    if value is None:
        return "never"
    seconds = max(0, int(((now or datetime.now(UTC)) - value).total_seconds()))
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            amount = seconds // size
            return f"{amount} {unit}{'s' if amount != 1 else ''} ago"
    return "just now"


@cache
def asset_version(name: str) -> str:
    """A short digest of a static file's content: its URL changes whenever the file does."""
    content = resources.files("versicolor.web").joinpath("static", name).read_bytes()
    return hashlib.sha256(content).hexdigest()[:12]


def asset(name: str) -> str:
    """The URL of a static file, with its version (so it can be cached for good)."""
    return f"{STATIC_PATH}/{name}?v={asset_version(name)}"


_environment = Environment(
    loader=PackageLoader("versicolor.web", "templates"),
    autoescape=select_autoescape(["html"], default=True),
    undefined=StrictUndefined,  # a misspelt value is an error in the tests, not an empty cell on a page
    trim_blocks=True,
    lstrip_blocks=True,
    auto_reload=False,  # the templates ship with the package and never change while it runs
)
_environment.filters.update(
    percent=percent,
    signed_percent=signed_percent,
    count=count,
    p_value=p_value,
    moment=moment,
    day=day,
    ago=ago,
)
_environment.globals.update(asset=asset)


def render(template: str, **values: Any) -> str:
    """A template rendered with `values`."""
    return _environment.get_template(template).render(**values)


def html(template: str, *, status: int = 200, headers: dict[str, str] | None = None, **values: Any) -> HTMLResponse:
    """An HTML answer with the page headers."""
    return HTMLResponse(render(template, **values), status_code=status, headers={**PAGE_HEADERS, **(headers or {})})
