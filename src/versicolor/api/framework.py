"""The web framework versions Versicolor runs on, and the private behaviour of theirs it leans on, checked.

Two places trade a framework's public surface for speed (docs/architecture.md, "Framework internals"):
api/routing.py finds a request's route itself, and api/routes.py with api/security.py take the caller's
parameters out of FastAPI's dependencies (which is also how a caller is checked before the body is read); and
api/body_limits.py counts on FastAPI passing its 413 on from the body it reads. A FastAPI or Starlette release
may change what they lean on; the service must then refuse to start with a message that names the change,
instead of answering wrongly.

`check()` runs once per process, when the app is made: the installed versions must satisfy the ranges the
package declares (pyproject.toml, where the tested range is written once), and each probe below must still
see the behaviour it names. A probe that only costs speed when it fails is logged, not fatal.
"""

from __future__ import annotations

import asyncio
import functools
import importlib.metadata
import logging
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, FastAPI, Request, Response
from fastapi.routing import APIRoute, APIRouter
from packaging.requirements import Requirement
from starlette.routing import Router
from starlette.types import Message, Receive, Scope, Send

log = logging.getLogger(__name__)

# The frameworks whose private behaviour the probes check; their ranges are the package's own requirements.
FRAMEWORKS = ("fastapi", "starlette")


class UnsupportedFramework(RuntimeError):
    """The installed FastAPI or Starlette is not one this version of Versicolor was tested with."""


@dataclass(frozen=True)
class Reliance:
    """One piece of private framework behaviour the code depends on, and how to tell it is still there."""

    name: str
    where: str
    fatal: bool  # False: when it fails, requests are slower but still right
    probe: Callable[[], Awaitable[str | None]]  # None when the behaviour is there, else what changed


async def _router_calls_its_middleware_stack() -> str | None:
    """api/routing.py installs the route index as the router's `middleware_stack`."""
    router = Router()
    reached: list[Scope] = []

    async def index(scope: Scope, receive: Receive, send: Send) -> None:
        reached.append(scope)

    router.middleware_stack = index
    await router({"type": "http", "path": "/", "method": "GET"}, _no_body, _discard)
    if not reached:
        return "Starlette's Router no longer sends requests through `router.middleware_stack`"
    return None


def _refuse() -> None:
    raise AssertionError("a dependency taken out of the route was solved anyway")


async def _dependencies_taken_out_are_not_solved() -> str | None:
    """api/security.py, while api/routes.py builds a route's handler, removes the route's caller parameters from
    `route.dependant` and wraps `dependant.call`; FastAPI must then solve and call what it finds there."""

    async def endpoint(taken: None = Depends(_refuse)) -> dict[str, str]:
        return {"by": "endpoint"}

    async def wrapped(**values: Any) -> dict[str, str]:
        return {"by": "wrapper"}

    class TakingRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            dependant = self.dependant
            dependant.dependencies = [sub for sub in dependant.dependencies if sub.call is not _refuse]
            dependant.call = wrapped
            return super().get_route_handler()

    plain = APIRoute("/probe", endpoint).dependant
    if not all(hasattr(plain, name) for name in ("dependencies", "call", "request_param_name")):
        return "FastAPI's Dependant lost `dependencies`, `call` or `request_param_name`"
    if [sub.call for sub in plain.dependencies] != [_refuse]:
        return "FastAPI's Dependant no longer lists a route's dependencies in `dependencies`"
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    app.router.add_api_route("/probe", endpoint, route_class_override=TakingRoute)
    scope: Scope = {"type": "http", "method": "GET", "path": "/probe", "headers": [], "query_string": b""}
    try:
        await app(scope, _no_body, send)
    except AssertionError as exc:
        return f"FastAPI solves dependencies taken out of `route.dependant` ({exc})"
    body = b"".join(message.get("body", b"") for message in sent)
    if body != b'{"by":"wrapper"}':
        return f"FastAPI no longer calls the `route.dependant.call` a route class set (answered {body[:80]!r})"
    return None


async def _route_options_read_back() -> str | None:
    """api/routing.py's include() makes a route again from the attributes of the one the router made."""
    from versicolor.api.routing import ROUTE_OPTIONS

    router = APIRouter()
    router.add_api_route("/probe", _refuse)
    route = router.routes[-1]
    missing = [name for name in ROUTE_OPTIONS if not hasattr(route, name)]
    if missing:
        return f"FastAPI's APIRoute no longer keeps these add_api_route options as attributes: {', '.join(missing)}"
    return None


async def _included_routers_name_their_router() -> str | None:
    """api/routing.py indexes an included router by its prefix and its routes (`original_router`)."""
    router = APIRouter()
    router.add_api_route("/x", _refuse)
    app = FastAPI()
    app.include_router(router, prefix="/probe")
    entry = app.router.routes[-1]
    context = getattr(entry, "include_context", None)
    if getattr(entry, "original_router", None) is not router or getattr(context, "prefix", None) != "/probe":
        return (
            "FastAPI no longer keeps an included router as one entry with `original_router` and "
            "`include_context.prefix`: the route index tries such entries for every path (slower, still right)"
        )
    return None


async def _body_errors_pass_through() -> str | None:
    """api/body_limits.py raises its 413 (an HTTPException) from `receive`, while FastAPI reads a route's body;
    FastAPI must pass it on as it is (it turns any other exception there into a 400)."""
    from starlette.exceptions import HTTPException

    async def endpoint(body: dict[str, int]) -> dict[str, str]:
        return {"by": "endpoint"}

    async def too_large() -> Message:
        raise HTTPException(status_code=413, detail="probe")

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    app.router.add_api_route("/probe", endpoint, methods=["POST"])
    headers = [(b"content-type", b"application/json")]
    scope: Scope = {"type": "http", "method": "POST", "path": "/probe", "headers": headers, "query_string": b""}
    await app(scope, too_large, send)
    status = next((message["status"] for message in sent if message["type"] == "http.response.start"), None)
    if status != 413:
        return f"FastAPI no longer passes on an HTTPException raised while it reads a body (answered {status})"
    return None


RELIANCES = (
    Reliance("the router's middleware stack", "api/routing.py install()", True, _router_calls_its_middleware_stack),
    Reliance(
        "dependencies taken out of a route",
        "api/security.py take_caller_parameters()",
        True,
        _dependencies_taken_out_are_not_solved,
    ),
    Reliance("route options read back", "api/routing.py include()", True, _route_options_read_back),
    Reliance("body errors passed on", "api/body_limits.py BodyTooLarge", True, _body_errors_pass_through),
    Reliance("included routers' entries", "api/routing.py RouteIndex", False, _included_routers_name_their_router),
)


async def _no_body() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _discard(message: Message) -> None:
    return None


def version_problems() -> list[str]:
    """Each installed framework outside the range the package declares for it."""
    try:
        declared = [Requirement(text) for text in importlib.metadata.requires("versicolor") or []]
    except importlib.metadata.PackageNotFoundError:  # running from a source tree that was never installed
        return ["versicolor is not installed: run scripts/bootstrap, which installs it and its locked dependencies"]
    problems = []
    for requirement in declared:
        if requirement.name not in FRAMEWORKS or requirement.marker is not None:
            continue
        installed = importlib.metadata.version(requirement.name)
        if not requirement.specifier.contains(installed, prereleases=True):
            problems.append(
                f"{requirement.name} {installed} is installed, but this Versicolor is tested with "
                f"{requirement.name}{requirement.specifier} only"
            )
    return problems


async def _probe_all() -> list[tuple[Reliance, str]]:
    failed = []
    for reliance in RELIANCES:
        try:
            problem = await reliance.probe()
        except Exception as exc:  # a changed framework may fail the probe itself in any way
            problem = f"the probe failed: {exc!r}"
        if problem is not None:
            failed.append((reliance, problem))
    return failed


def probe_problems() -> list[tuple[Reliance, str]]:
    """The reliances whose behaviour is gone, with what changed (probes run on a loop of their own)."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="framework-probe") as pool:
        return pool.submit(asyncio.run, _probe_all()).result()


@functools.cache
def check() -> None:
    """Refuse to go on with a framework outside the tested range or without the behaviour the code leans on."""
    problems = version_problems()
    for reliance, problem in probe_problems():
        if reliance.fatal:
            problems.append(f"{reliance.where} ({reliance.name}): {problem}")
        else:
            log.warning("%s (%s): %s", reliance.where, reliance.name, problem)
    if problems:
        raise UnsupportedFramework(
            "Versicolor cannot run on the installed web framework:\n  - "
            + "\n  - ".join(problems)
            + "\nInstall the locked versions with scripts/bootstrap (docs/architecture.md, 'Framework internals')."
        )
