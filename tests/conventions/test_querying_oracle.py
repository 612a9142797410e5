"""The list language against a plain-Python oracle: random rows, random filter/sort/page, the same answer.

The suite runs once per backend, so "the database equals the oracle" on both means SQLite and PostgreSQL
answer identically. Rows mix nulls, case, non-ASCII letters whose case folding differs between databases,
and the characters LIKE treats specially (`%`, `_`, `\\`, and our escape character `!`).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import BigInteger, Boolean, Float, Integer, String, delete, insert, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from tests import services
from tests.conftest import BACKEND
from versicolor.core import querying
from versicolor.core.querying import Choice, Fields, Kind, Operator
from versicolor.db.engine import create_engine, session_factory
from versicolor.db.types import UtcDateTime


class ProbeBase(DeclarativeBase):
    """Tables of this test only, in a database of their own (the app's schema stays as migrations made it)."""


class Row(ProbeBase):
    """One row of every searchable kind, every column nullable."""

    __tablename__ = "probe_rows"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(50))
    count: Mapped[int | None] = mapped_column(BigInteger)
    score: Mapped[float | None] = mapped_column(Float)
    flag: Mapped[bool | None] = mapped_column(Boolean)
    at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    colour: Mapped[str | None] = mapped_column(String(10))


COLOURS = ("RED", "GREEN", "BLUE")
FIELDS = Fields(
    {
        "id": Row.id,
        "name": Row.name,
        "count": Row.count,
        "score": Row.score,
        "flag": Row.flag,
        "at": Row.at,
        "colour": Choice(Row.colour, COLOURS),
    }
)
ATTRIBUTE = {
    "id": "id",
    "name": "name",
    "count": "count",
    "score": "score",
    "flag": "flag",
    "at": "at",
    "colour": "colour",
}


@pytest.fixture(scope="module")
async def probe_engine(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[AsyncEngine]:
    """An engine on a fresh database of the backend under test, holding the probe table."""
    dropped: str | None = None
    if BACKEND == "postgresql":
        dropped = f"versicolor_probe_{uuid.uuid4().hex[:12]}"
        admin = await asyncpg.connect(services.PG_URL)
        # A linguistic default collation (where the server has ICU) sorts "B" before "a" and folds "É":
        # the answers must still be the oracle's, so the language may not lean on the database's locale.
        try:
            await admin.execute(
                f"CREATE DATABASE \"{dropped}\" TEMPLATE template0 ENCODING 'UTF8' "
                "LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'"
            )
        except asyncpg.PostgresError:
            await admin.execute(f'CREATE DATABASE "{dropped}"')
        await admin.close()
        url = make_url(services.PG_URL).set(database=dropped).render_as_string(hide_password=False)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('probe') / 'probe.db'}"
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(ProbeBase.metadata.create_all)
    yield engine
    await engine.dispose()
    if dropped:
        admin = await asyncpg.connect(services.PG_URL)
        await admin.execute(f'DROP DATABASE IF EXISTS "{dropped}" WITH (FORCE)')
        await admin.close()


# --- data --------------------------------------------------------------------------------------------------

# Letters whose case folding differs by backend (e acute, dotted and dotless i, sharp s, the sigmas), ASCII
# case pairs, LIKE's specials and our escape character.
ALPHABET = "aAbBzZ\u00e9\u00c9\u0130\u0131\u00df\u03a3\u03c3\u03c2%_\\! \U0001f600\n"
texts = st.text(alphabet=ALPHABET, max_size=6)
ints = st.one_of(st.integers(-5, 5), st.integers(-(2**62), 2**62))
floats = st.one_of(st.sampled_from([-1.5, 0.0, 0.5, 2.0]), st.floats(-1e9, 1e9, allow_nan=False))
moments = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)).map(
    lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000)
)
VALUES: dict[str, st.SearchStrategy[Any]] = {
    "id": st.integers(1, 40),
    "name": texts,
    "count": ints,
    "score": floats,
    "flag": st.booleans(),
    "at": moments,
    "colour": st.sampled_from(COLOURS),
}


@st.composite
def rows(draw: st.DrawFn) -> list[dict[str, Any]]:
    ids = draw(st.lists(st.integers(1, 40), unique=True, max_size=14))
    made = []
    for row_id in ids:
        row: dict[str, Any] = {"id": row_id}
        for name, strategy in VALUES.items():
            if name != "id":
                row[name] = draw(st.one_of(st.none(), strategy))
        made.append(row)
    return made


def _param(name: str, value: Any) -> Any:
    """A typed value as a client writes it in JSON."""
    if isinstance(value, datetime):
        return value.isoformat()
    return value


CASE_CHANGES = (str.upper, str.lower, str.swapcase, str.casefold, lambda c: c)


@st.composite
def patterns(draw: st.DrawFn, table: list[dict[str, Any]], name: str) -> str:
    """A piece of some row's text with each character's case changed at random (Unicode rules), or any text."""
    present = [r[name] for r in table if r[name]]
    if not present or not draw(st.integers(0, 3)):
        return draw(texts)
    source = draw(st.sampled_from(present))
    start = draw(st.integers(0, len(source)))
    piece = source[start : draw(st.integers(start, len(source)))]
    return "".join(draw(st.sampled_from(CASE_CHANGES))(c) for c in piece)


@st.composite
def queries(draw: st.DrawFn, table: list[dict[str, Any]]) -> dict[str, Any]:
    """A search body over the probe fields, with values often taken from the rows so that filters hit."""

    def value_of(name: str) -> Any:
        present = [r[name] for r in table if r[name] is not None]
        if present and draw(st.booleans()):
            return draw(st.sampled_from(present))
        return draw(VALUES[name])

    conditions = []
    for _ in range(draw(st.integers(0, 3))):
        # Text is where backends differ most, so it is drawn more often than its share.
        name = draw(st.sampled_from([*sorted(FIELDS.by_name), "name", "name", "name"]))
        kind = FIELDS.by_name[name].kind
        operator = draw(st.sampled_from(sorted(querying.OPERATORS_OF[kind])))
        if operator in (Operator.IS_NULL, Operator.IS_NOT_NULL):
            parameters: list[Any] = []
        elif operator in (Operator.LIKE, Operator.CONTAINS):
            parameters = [draw(patterns(table, name)) for _ in range(draw(st.integers(1, 2)))]
            if operator is Operator.LIKE:
                ends = st.sampled_from(["%", "_", ""])
                parameters = [draw(ends) + p + draw(ends) for p in parameters]
        elif operator is Operator.BETWEEN:
            low, high = sorted([value_of(name), value_of(name)])
            parameters = [_param(name, low), _param(name, high)]
        elif operator in (Operator.EQUAL, Operator.NOT_EQUAL, Operator.IN, Operator.NOT_IN):
            parameters = [_param(name, value_of(name)) for _ in range(draw(st.integers(1, 3)))]
        else:
            parameters = [_param(name, value_of(name))]
        conditions.append({"field": name, "operator": operator.value, "parameters": parameters})
    sort = [
        {"field": name, "direction": draw(st.sampled_from(["ASC", "DESC"]))}
        for name in draw(st.lists(st.sampled_from(sorted(FIELDS.by_name)), unique=True, max_size=3))
    ]
    return {"filter": conditions, "sort": sort, "page": draw(st.integers(1, 4)), "perPage": draw(st.integers(1, 6))}


# --- the oracle ----------------------------------------------------------------------------------------------


def _typed(name: str, raw: Any) -> Any:
    kind = FIELDS.by_name[name].kind
    if kind is Kind.DATETIME:
        return datetime.fromisoformat(raw).astimezone(UTC)
    if kind is Kind.NUMBER:
        return float(raw)
    return raw


def _holds(condition: dict[str, Any], row: dict[str, Any]) -> bool:
    name, operator = condition["field"], Operator(condition["operator"])
    value = row[ATTRIBUTE[name]]
    params = (
        [_typed(name, p) for p in condition["parameters"]]
        if operator not in (Operator.LIKE, Operator.CONTAINS)
        else condition["parameters"]
    )
    if operator is Operator.IS_NULL:
        return value is None
    if operator is Operator.IS_NOT_NULL:
        return value is not None
    if operator in (Operator.NOT_EQUAL, Operator.NOT_IN):
        return value is None or value not in params
    if value is None:
        return False
    if operator in (Operator.EQUAL, Operator.IN):
        return value in params
    if operator is Operator.LIKE:
        return any(querying.like_pattern(p).regex().fullmatch(querying.fold(value)) for p in params)
    if operator is Operator.CONTAINS:
        return any(querying.fold(p) in querying.fold(value) for p in params)
    if operator is Operator.LESS:
        return bool(value < params[0])
    if operator is Operator.LESS_OR_EQUAL:
        return bool(value <= params[0])
    if operator is Operator.GREATER:
        return bool(value > params[0])
    if operator is Operator.GREATER_OR_EQUAL:
        return bool(value >= params[0])
    assert operator is Operator.BETWEEN
    return bool(params[0] <= value <= params[1])


def oracle(table: list[dict[str, Any]], body: dict[str, Any]) -> tuple[list[int], int]:
    """The ids of the page and the total, computed in Python by the documented rules."""
    kept = [r for r in table if all(_holds(c, r) for c in body["filter"])]
    kept.sort(key=lambda r: r["id"])  # the tie-breaker, applied first so that stable sorts keep it
    for order in reversed(body["sort"]):
        attribute = ATTRIBUTE[order["field"]]
        # (present, value): nulls first ascending; reversed, they come last.
        kept.sort(
            key=lambda r: (r[attribute] is not None, r[attribute] if r[attribute] is not None else 0),
            reverse=order["direction"] == "DESC",
        )
    start = (body["page"] - 1) * body["perPage"]
    return [r["id"] for r in kept[start : start + body["perPage"]]], len(kept)


# --- the property ----------------------------------------------------------------------------------------------


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(data=st.data())
async def test_database_answers_as_the_oracle(probe_engine: AsyncEngine, data: st.DataObject) -> None:
    table = data.draw(rows(), label="rows")
    sessions = session_factory(probe_engine)
    async with sessions() as session, session.begin():
        await session.execute(delete(Row))
        if table:
            await session.execute(insert(Row), table)
    for _ in range(5):
        body = data.draw(queries(table), label="query")
        query = querying.parse_body(FIELDS, json.loads(json.dumps(body)))
        async with sessions() as session, session.begin():
            page = await querying.fetch(session=session, statement=select(Row), query=query)
        assert ([r.id for r in page.items], page.total) == oracle(table, body), body
