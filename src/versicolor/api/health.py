"""Liveness and readiness probes for orchestrators and load balancers."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text

from versicolor.api.deps import RuntimeDep
from versicolor.db import migrate

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


class Readiness(BaseModel):
    """Whether the process can serve: `ok`, or `unavailable` with each check's finding."""

    status: str
    checks: dict[str, str]


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={
        503: {
            "model": Readiness,
            "description": "The database or Redis does not answer, or the database is not at this code's migration.",
        }
    },
)
async def readyz(runtime: RuntimeDep) -> JSONResponse:
    """The database answers and is at this code's migration; Redis answers when configured."""
    checks: dict[str, str] = {}
    try:
        async with runtime.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        checks["database"] = "ok" if await migrate.is_current(runtime.engine) else "not at the current migration"
    except Exception as exc:
        checks["database"] = f"unreachable: {type(exc).__name__}"
    if runtime.redis is not None:
        try:
            await runtime.redis.ping()
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = f"unreachable: {type(exc).__name__}"
    ready = all(value == "ok" for value in checks.values())
    return JSONResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks}, status_code=200 if ready else 503
    )
