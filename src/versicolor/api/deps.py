"""Per-request dependencies: the runtime, and the one database transaction of the request."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from versicolor.core.errors import Invalid
from versicolor.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    """The service's long-lived objects."""
    runtime: Runtime = request.app.state.runtime
    return runtime


async def transaction(request: Request) -> AsyncIterator[AsyncSession]:
    """A session whose transaction commits when the endpoint returns, and rolls back if it raises.

    Declared with scope="function" (below) so that the commit happens before the answer is sent: a client
    is never told "created" about a row that then failed to commit.
    """
    runtime = get_runtime(request)
    async with runtime.sessions() as session, session.begin():
        yield session


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
DbSession = Annotated[AsyncSession, Depends(transaction, scope="function")]


async def require_json(request: Request) -> None:
    """Refuse a request body that is not declared as JSON (seed 000: 400 without the header)."""
    if request.method in ("POST", "PUT", "PATCH"):
        content_type = request.headers.get("content-type", "")
        media_type = content_type.split(";", 1)[0].strip().lower()
        if media_type != "application/json":
            body = await request.body()
            if body or content_type:
                raise Invalid(
                    "the body must be JSON sent with Content-Type: application/json"
                    + (f" (got {media_type!r})" if media_type else " (no Content-Type given)")
                )
