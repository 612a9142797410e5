"""Per-request dependencies: the runtime, the token gate, the one database transaction of the request, and input
checks."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterable
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from sqlalchemy.ext.asyncio import AsyncSession

from versicolor.auth.gate import TokenGate
from versicolor.core import json_text
from versicolor.core.errors import Invalid
from versicolor.db.models import oauth as journal
from versicolor.db.types import unstorable
from versicolor.runtime import Runtime

# A JSON body can only carry a NUL or a lone surrogate as an escape: \u0000, or a \ud800-\udfff that is not
# half of a pair. An escape is real when an odd number of backslashes lead to its "u".
_ESCAPE = re.compile(rb"(\\+)u(0000|[dD][89a-fA-F][0-9a-fA-F]{2})")


def runtime_of(request: Request) -> Runtime:
    """The service's long-lived objects."""
    runtime: Runtime = request.app.state.runtime
    return runtime


def token_gate(request: Request) -> TokenGate:
    """The application's token gate, made on first use."""
    return app_token_gate(request.app)


def app_token_gate(app: FastAPI) -> TokenGate:
    """`token_gate` for code that has the app but no request (ASGI middleware)."""
    state = app.state
    gate = getattr(state, "token_gate", None)
    if not isinstance(gate, TokenGate):
        gate = TokenGate.for_runtime(state.runtime)
        state.token_gate = gate
    return gate


async def close_token_gate(app: FastAPI) -> None:
    """Stop the application's token gate listening on Redis, if it was made."""
    gate = getattr(app.state, "token_gate", None)
    if isinstance(gate, TokenGate):
        await gate.close()
        del app.state.token_gate


async def get_runtime(request: Request) -> Runtime:
    """`runtime_of` as a dependency."""
    # async, though it awaits nothing: FastAPI runs a plain `def` dependency in a thread pool on every request.
    return runtime_of(request)


async def transaction(request: Request) -> AsyncIterator[AsyncSession]:
    """A session whose transaction commits when the endpoint returns, and rolls back if it raises.

    Declared with scope="function" (below) so that the commit happens before the answer is sent: a client
    is never told "created" about a row that then failed to commit.
    """
    runtime = runtime_of(request)
    async with runtime.sessions() as session:
        async with session.begin():
            yield session
        if session.info.pop(journal.COMMITTED, False):
            # A user deleted or changed: every worker's token gate knows before the caller hears of it.
            await token_gate(request).publish()


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
DbSession = Annotated[AsyncSession, Depends(transaction, scope="function")]


async def require_json(request: Request) -> None:
    """Refuse input no endpoint of the Automation and v3 dialects can take, before any endpoint reads it.

    A body must be declared as JSON (the Automation API: 400 without the header) and be UTF-8; and no text
    anywhere in the request (path, query, JSON body, keys included) may hold what the database cannot store
    (db.types.unstorable):
    it is refused with a 400 naming where it was, rather than failing on one backend and not the other.
    """
    scope = request.scope
    if scope.get("path_params"):
        _refuse_unstorable(request.path_params.items())
    if scope.get("query_string"):
        _refuse_unstorable(request.query_params.multi_items())
    if request.method in ("POST", "PUT", "PATCH"):
        content_type = request.headers.get("content-type", "")
        media_type = content_type.split(";", 1)[0].strip().lower()
        if media_type != "application/json":
            if content_type or await request.body():  # a wrong Content-Type is refused without reading the body
                raise Invalid(
                    "the body must be JSON sent with Content-Type: application/json"
                    + (f" (got {media_type!r})" if media_type else " (no Content-Type given)")
                )
        else:
            body = await request.body()
            problem = json_text.not_utf8(body)
            if problem:
                raise Invalid(problem)
            if _has_unstorable_escape(body):
                # Rare, so the parsed body (Starlette keeps it from the endpoint's own parse) is only walked
                # then, to name the field.
                try:
                    document = await request.json()
                except ValueError:
                    return  # not JSON: the endpoint's own parse says so
                _refuse_unstorable_json(document)


def _has_unstorable_escape(body: bytes) -> bool:
    if b"\\u" not in body:
        return False
    high_ended_at = -1  # where a high surrogate escape ended: its low half must start right there
    for found in _ESCAPE.finditer(body):
        if len(found[1]) % 2 == 0:
            continue  # escaped backslashes followed by the letter u: plain text
        starts_at, unit = found.end(1) - 1, int(found[2], 16)
        if high_ended_at != -1:
            if starts_at != high_ended_at or not 0xDC00 <= unit <= 0xDFFF:
                return True
            high_ended_at = -1
        elif 0xD800 <= unit <= 0xDBFF:
            high_ended_at = found.end()
        else:
            return True  # a NUL, or a low surrogate with no high one before it
    return high_ended_at != -1


def _refuse_unstorable(pairs: Iterable[tuple[str, object]]) -> None:
    for name, value in pairs:
        problem = unstorable(name)
        if problem:
            raise Invalid.field(json.dumps(name), f"the parameter name {problem}")
        problem = unstorable(value) if isinstance(value, str) else None
        if problem:
            raise Invalid.field(name, problem)


def _refuse_unstorable_json(document: object) -> None:
    # Iterative (a body may nest deeply), in document order, naming the place as the schemas do
    # (conditionsData.firstLevel[0].conditions[1].value).
    pending: list[tuple[str, object]] = [("", document)]
    while pending:
        where, value = pending.pop()
        if isinstance(value, str):
            problem = unstorable(value)
            if problem:
                raise Invalid.field(where or "body", problem)
        elif isinstance(value, dict):
            children = []
            for key, item in value.items():
                problem = unstorable(key)
                if problem:
                    raise Invalid.field(f"{where}[{json.dumps(key)}]", f"the name {problem}")
                children.append((f"{where}.{key}" if where else key, item))
            pending.extend(reversed(children))
        elif isinstance(value, list):
            pending.extend(reversed([(f"{where}[{index}]", item) for index, item in enumerate(value)]))
