"""Where the test suite finds PostgreSQL and Redis, and whether they answer.

`python -m tests.services [postgresql|redis]` exits non-zero, naming what does not answer.
"""

from __future__ import annotations

import asyncio
import os
import sys

import asyncpg
import redis

PG_URL = os.environ.get("VERSICOLOR_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("VERSICOLOR_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def postgresql_problem() -> str | None:
    """Why PostgreSQL cannot be used, or None."""

    async def probe() -> str | None:
        connection = await asyncpg.connect(PG_URL, timeout=5)
        try:
            may_create = await connection.fetchval(
                "SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user"
            )
        finally:
            await connection.close()
        if not may_create:
            return f"the user of {PG_URL} may not create databases (the suite makes a fresh one per run)"
        return None

    try:
        return asyncio.run(probe())
    except asyncpg.InvalidCatalogNameError:
        return (
            f"the database named in {PG_URL} does not exist; point VERSICOLOR_TEST_PG_URL at one that does "
            "(every server has `postgres`): the suite only connects to it to create its own"
        )
    except Exception as exc:
        return f"PostgreSQL does not answer at {PG_URL}: {exc}"


def redis_problem() -> str | None:
    """Why Redis cannot be used, or None."""
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except Exception as exc:
        return f"Redis does not answer at {REDIS_URL}: {exc}"
    return None


if __name__ == "__main__":
    wanted = sys.argv[1:] or ["postgresql", "redis"]
    checks = {"postgresql": postgresql_problem, "redis": redis_problem}
    problems = [p for name in wanted if (p := checks[name]())]
    if problems:
        print("; ".join(problems) + " -- the suites that need it cannot run", file=sys.stderr)
        sys.exit(1)
