"""The aggregate queries give the same figures however they are run."""

from __future__ import annotations

import httpx
import pytest

from tests.factories import Factory
from tests.results.dataset import history, send
from tests.tracking.fixtures import shop
from versicolor.results import aggregation, sums
from versicolor.results.request import BreakdownType, ReportRequest
from versicolor.runtime import Runtime


@pytest.mark.parametrize(
    "request_",
    [
        ReportRequest(),
        ReportRequest.build(visitor_data=False, breakdown_type=BreakdownType.DEVICE_TYPE),
    ],
)
async def test_side_by_side_queries_agree_with_one_after_another(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime, request_: ReportRequest
) -> None:
    made = await shop(client, factory)
    await send(client, made, history(made))
    scope = sums.Scope(experiment_id=made.experiment_id, goal_ids=(made.goal_id, made.other_goal_id), request=request_)
    async with runtime.sessions() as session, session.begin():
        serial = await aggregation.aggregate(session=session, scope=scope)
    async with runtime.sessions() as session, session.begin():
        side_by_side = await aggregation.aggregate(session=session, scope=scope, sessions=runtime.sessions)
    assert serial == side_by_side
    assert sum(units.visitors for units in serial.units.values()) == 8
