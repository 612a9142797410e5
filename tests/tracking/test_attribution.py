"""What counts for an experiment: conversions and visits from the visitor's first exposure on."""

from __future__ import annotations

import httpx

from tests.factories import Factory
from tests.tracking.fixtures import conversion, exposure, now_ms, shop, visit
from versicolor.runtime import Runtime
from versicolor.tracking import attribution


async def test_only_conversions_at_or_after_the_first_exposure_count(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    made = await shop(client, factory)
    green = made.variation_ids[0]
    t0 = now_ms() - 3_600_000
    events = [
        visit("anna", visitId="anna-1", timestamp=t0 - 600_000),
        conversion(made.goal_id, "anna", visitId="anna-1", timestamp=t0 - 500_000, revenue=1),  # before: stays out
        visit("anna", visitId="anna-2", timestamp=t0 - 1_000),
        exposure(made.experiment_id, green, "anna", visitId="anna-2", timestamp=t0),
        conversion(made.goal_id, "anna", visitId="anna-2", timestamp=t0, revenue=2),  # same instant: counts
        conversion(made.other_goal_id, "anna", visitId="anna-2", timestamp=t0 + 10, revenue=3),
        visit("anna", visitId="anna-3", timestamp=t0 + 86_400_000 // 48),
        conversion(made.goal_id, "anna", visitId="anna-3", timestamp=t0 + 86_400_000 // 48 + 5, revenue=4),
        conversion(made.goal_id, "bob", timestamp=t0 + 5, revenue=100),  # never exposed: never counts
        exposure(made.experiment_id, 0, "carl", timestamp=t0),
    ]
    sent = await client.post(made.events_path, json={"events": events}, headers=made.account.headers)
    assert sent.status_code == 202, sent.text
    async with runtime.sessions() as session:
        visitors = sorted(
            (
                await session.execute(
                    attribution.exposed_visitors(account_id=made.account.account_id, experiment_id=made.experiment_id)
                )
            ).all()
        )
        counted = (
            await session.execute(
                attribution.counted_conversions(
                    account_id=made.account.account_id, experiment_id=made.experiment_id, goal_ids=[made.goal_id]
                )
            )
        ).all()
        visits = (
            await session.execute(
                attribution.counted_visits(account_id=made.account.account_id, experiment_id=made.experiment_id)
            )
        ).all()
        elsewhere = (
            await session.execute(
                attribution.counted_conversions(
                    account_id=made.account.account_id + 1_000_000,
                    experiment_id=made.experiment_id,
                    goal_ids=[made.goal_id],
                )
            )
        ).all()
    assert visitors == [("anna", green), ("carl", 0)]
    assert sorted((row.variation_id, row.visitor_code, row.revenue) for row in counted) == [
        (green, "anna", 2.0),
        (green, "anna", 4.0),
    ]
    assert sorted((row.variation_id, row.visit_id) for row in visits) == [(green, "anna-2"), (green, "anna-3")]
    assert elsewhere == []
