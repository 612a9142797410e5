"""The sample ratio check follows the deviations in force when each visitor arrived."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.factories import Factory
from tests.results.dataset import event, send
from tests.results.test_results_api import report
from tests.tracking.fixtures import Shop, shop


def arrivals(shop: Shop, arm: int, count: int, prefix: str, at: datetime) -> list[dict[str, object]]:
    return [
        event("EXPOSURE", f"{prefix}{i}", "a", at, experimentId=shop.experiment_id, variationId=arm)
        for i in range(count)
    ]


async def test_a_split_changed_mid_run_sets_each_periods_expectation(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    made = await shop(client, factory, deviations={"origin": 0.5, "v1": 0.5, "v2": 0})
    v1, v2 = made.variation_ids
    before = datetime.now(UTC)
    await send(client, made, arrivals(made, 0, 100, "o", before) + arrivals(made, v1, 100, "a", before))
    await asyncio.sleep(0.01)
    changed = await client.patch(
        f"/experiments/{made.experiment_id}",
        json={"deviations": {"origin": 0.9, str(v1): 0.1, str(v2): 0}},
        headers=made.account.headers,
    )
    assert changed.status_code == 200, changed.text
    after = datetime.now(UTC) + timedelta(seconds=1)
    await send(client, made, arrivals(made, 0, 90, "p", after) + arrivals(made, v1, 10, "b", after))
    data = await report(client, made)
    # 200 visitors under 50/50, then 100 under 90/10: 190 and 110 expected, exactly what came.
    assert data["srm"]["expectedVisitors"] == {"0": pytest.approx(190), str(v1): pytest.approx(110), str(v2): 0}
    assert data["srm"]["observedVisitors"] == {"0": 190, str(v1): 110, str(v2): 0}
    assert data["srm"]["pValue"] == pytest.approx(1.0) and data["srm"]["flagged"] is False
