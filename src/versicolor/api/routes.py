"""The route class of every Automation and v3 route: its caller checked, then its input, before FastAPI reads the
body or solves anything (api/routing.py finds the route; this is what the route does first).

The caller comes first, from the headers alone: a request without valid credentials is answered 401/403
without a byte of its body being read (bodies are bounded as they are read, api/body_limits.py, but a stranger
should not even get that far).

`APIRouter(..., route_class=CheckedRoute)`. Both checks are called directly rather than declared as FastAPI
dependencies: FastAPI 0.16x spends about 20 µs of a request solving each dependency, more than either check
costs, and more than the whole token check. A route's `Caller` and `CallerUser` parameters still read as
dependencies in its signature; they are filled in from the check made here (api/security.py).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

from versicolor.api import security
from versicolor.api.deps import require_json


class CheckedRoute(APIRoute):
    """A route that authenticates and authorises its caller when it has a `Caller`, `CallerUser` or `V3Caller`
    parameter, then refuses input no endpoint can take (`require_json`), before its dependencies and body are
    read."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """FastAPI's handler of the route, behind the input check and the caller check."""
        # FastAPI may build a route's handler more than once; its caller parameters are taken the first time.
        if not hasattr(self, "_caller_check"):
            self._caller_check = security.take_caller_parameters(self.dependant)
        handler = super().get_route_handler()
        caller_check = self._caller_check

        async def checked(request: Request) -> Response:
            if caller_check is not None:
                await caller_check(request)
            await require_json(request)
            return await handler(request)

        return checked

    @property
    def caller_check(self) -> security.CallerCheck | None:
        """The check of the caller the route runs before anything else (None: it takes no caller)."""
        check: security.CallerCheck | None = getattr(self, "_caller_check", None)
        return check
