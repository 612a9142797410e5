"""One check that every scalar field a resource returns filters and sorts, as a client would use them."""

from __future__ import annotations

import json
from typing import Any

import httpx

from versicolor.core.querying import Fields, Kind


def _in_order(values: list[Any], descending: bool) -> bool:
    # Nulls first on ASC and last on DESC (docs/conventions.md); the rest in order (ISO timestamps order as text).
    nulls = [v is None for v in values]
    if nulls != sorted(nulls, reverse=not descending):
        return False
    present = [v for v in values if v is not None]
    return present == sorted(present, reverse=descending)


def _equal_filter(kind: Kind, value: Any) -> dict[str, Any]:
    if value is None:
        return {"operator": "IS_NULL", "parameters": []}
    if kind is Kind.DATETIME:
        # The API shows milliseconds and stores microseconds: the displayed millisecond is a range.
        return {"operator": "BETWEEN", "parameters": [value, value.removesuffix("Z") + "999Z"]}
    return {"operator": "EQUAL", "parameters": [value]}


async def check_every_field_filters_and_sorts(
    client: httpx.AsyncClient, headers: dict[str, str], path: str, items: list[dict[str, Any]], fields: Fields
) -> None:
    """Each declared field of `items` (the account's whole list, as the API returned it) sorts and filters."""
    returned = set(items[0])
    assert set(fields.by_name) <= returned, f"declared but not returned: {set(fields.by_name) - returned}"
    scalar = {k for k, v in items[0].items() if not isinstance(v, dict | list)}
    assert scalar <= set(fields.by_name), f"returned but not searchable: {scalar - set(fields.by_name)}"
    everyone = sorted(i["id"] for i in items)
    for name, field in fields.by_name.items():
        for direction in ("ASC", "DESC"):
            answer = await client.get(
                path, params={"sort": json.dumps([{"field": name, "direction": direction}])}, headers=headers
            )
            assert answer.status_code == 200, (name, answer.text)
            assert sorted(i["id"] for i in answer.json()) == everyone, name
            shown = [i[name] for i in answer.json()]
            assert _in_order(shown, direction == "DESC"), (name, direction, shown)
        value = items[0][name]
        answer = await client.get(
            path, params={"filter": json.dumps([{"field": name, **_equal_filter(field.kind, value)}])}, headers=headers
        )
        assert answer.status_code == 200, (name, answer.text)
        assert sorted(i["id"] for i in answer.json()) == sorted(i["id"] for i in items if i[name] == value), name
