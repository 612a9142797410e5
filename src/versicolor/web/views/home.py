"""The way in: `/` links to the dashboard and the API docs; `/app/` goes to the experiments."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from versicolor import __version__
from versicolor.web import pages, rendering, sessions


async def landing(request: Request) -> HTMLResponse:
    """The service's front page (`/`): what it is, and links to the dashboard and the API docs."""
    return rendering.html("landing.html", me=None, csrf_token="", nav="", version=__version__)


async def index(request: Request) -> Response:
    """`/app/`: the experiments (signing in first if need be)."""
    return pages.see_other(sessions.HOME)
