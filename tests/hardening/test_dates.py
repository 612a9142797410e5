"""Dates that exist in their own time zone but not in UTC (year 10000, year 0) are a 400 naming the field.

The database stores UTC; converting such a date used to overflow while storing it, and answer 500.
"""

from __future__ import annotations

import httpx
import pytest

from tests.factories import Factory
from tests.resources import experiment_fixtures as make


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"dateStart": "9999-12-31T23:59:59-14:00"}, "dateStart"),
        ({"dateStart": "2030-01-01T00:00:00Z", "dateEnd": "9999-12-31T23:59:59-14:00"}, "dateEnd"),
        ({"dateStart": "0001-01-01T00:00:00+14:00"}, "dateStart"),
    ],
)
async def test_schedule_date_outside_utc_years_is_400(
    client: httpx.AsyncClient, factory: Factory, query: dict[str, str], field: str
) -> None:
    account = await factory.account()
    ready = await make.ready(client, account)
    answer = await client.patch(
        f"/experiments/{ready.id}", params={"action": "SCHEDULE", **query}, headers=account.headers
    )
    assert answer.status_code == 400, answer.text
    assert answer.json()["details"] == [
        {"field": field, "message": f"{query[field]} falls outside the years 1 to 9999 in UTC"}
    ]
    after = await client.get(f"/experiments/{ready.id}", headers=account.headers)
    assert after.json() == ready.experiment, "a refused schedule changes nothing"
