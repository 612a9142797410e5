"""The route class of every Automation and v3 route: its input checked, then its caller, before FastAPI solves
anything (api/routing.py finds the route; this is what the route does first).

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
    """A route that refuses input no endpoint can take (`require_json`), then authenticates and authorises its
    caller when it has a `Caller` or `CallerUser` parameter, before its dependencies and body are read."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """FastAPI's handler of the route, behind the input check and the caller check."""
        # FastAPI may build a route's handler more than once; its caller parameters are taken the first time.
        if not hasattr(self, "_takes_caller"):
            self._takes_caller = security.take_caller_parameters(self.dependant)
        handler = super().get_route_handler()
        takes_caller = self._takes_caller

        async def checked(request: Request) -> Response:
            await require_json(request)
            if takes_caller:
                await security.check_caller(request)
            return await handler(request)

        return checked
