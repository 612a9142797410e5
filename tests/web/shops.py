"""Shops for the dashboard's tests: the hand-made history of tests/results/dataset.py, a shop whose visitors'
pages sent a custom datum, and experiments by the thousand, made through the same services and endpoints users
reach."""

from __future__ import annotations

import httpx
from tests.factories import Factory, TestAccount
from tests.results.dataset import HOUR, T, event, history, send
from tests.tracking.fixtures import Shop, created, shop

from versicolor.core.experiments import experiments
from versicolor.core.experiments.experiments import ExperimentFields
from versicolor.core.roles import Principal, Role
from versicolor.runtime import Runtime


async def stocked_shop(client: httpx.AsyncClient, factory: Factory, account: TestAccount | None = None) -> Shop:
    """A shop whose experiment has the whole hand-made history: original 4 visitors (2 purchases), Green 3
    (3 purchases), Blue 1 (none)."""
    made = await shop(client, factory, account=account)
    await send(client, made, history(made))
    return made


# The visitors of `planned_shop`: (visitor, arm: 0 the original, 1 Green, 2 Blue; the value of Plan its first
# exposure carried, None for none; whether it bought). Visitors per value, as the page shows them:
#   <b>bold</b>   Original 0, Green 1, Blue 0
#   _vip          Original 0, Green 1, Blue 0   (the report's key is __vip)
#   gold          Original 2, Green 1, Blue 0
#   silver        Original 1, Green 0, Blue 1
#   Not recorded  Original 1, Green 1, Blue 0   (no value, or an empty one)
PLAN_VISITORS: tuple[tuple[str, int, str | None, bool], ...] = (
    ("o1", 0, "gold", True),
    ("o2", 0, "gold", False),
    ("o3", 0, "silver", False),
    ("o4", 0, None, False),
    ("g1", 1, "gold", True),
    ("g2", 1, "_vip", True),
    ("g3", 1, "<b>bold</b>", False),
    ("g4", 1, "", False),
    ("b1", 2, "silver", False),
)
PLAN, TAGS, TIER, ELSEWHERE = 3, 4, 7, 5  # custom data indexes


async def planned_shop(client: httpx.AsyncClient, factory: Factory) -> Shop:
    """A shop whose site has the UNIQUE custom data Plan (3) and Tier (7) and the LIST Tags (4), another site of
    the account the UNIQUE Region (5); its visitors (PLAN_VISITORS) sent Plan, and Tags, with their exposures
    through the Data API."""
    made = await shop(client, factory)
    for index, name, kind in ((PLAN, "Plan", "UNIQUE"), (TAGS, "Tags", "LIST"), (TIER, "Tier", "UNIQUE")):
        await created(
            client, made.account, "/custom-datas", {"name": name, "siteId": made.site_id, "index": index, "type": kind}
        )
    elsewhere = await created(client, made.account, "/sites", {"name": "Elsewhere"})
    await created(
        client, made.account, "/custom-datas", {"name": "Region", "siteId": elsewhere["id"], "index": ELSEWHERE}
    )
    arms = [0, *made.variation_ids]
    events = []
    for visitor, arm, plan, bought in PLAN_VISITORS:
        sent = {str(TAGS): ["x", "y"]} | ({str(PLAN): plan} if plan is not None else {})
        events.append(
            event("EXPOSURE", visitor, "a", T, experimentId=made.experiment_id, variationId=arms[arm], customData=sent)
        )
        if bought:
            events.append(event("CONVERSION", visitor, "a", T + HOUR, goalId=made.goal_id, revenue=10))
    await send(client, made, events)
    return made


async def many_experiments(runtime: Runtime, account: TestAccount, site_id: int, count: int, name: str) -> None:
    """`count` DRAFT experiments on a site, named `name 0001`..., made through the experiments service."""
    principal = Principal(account_id=account.account_id, user_id=account.admin.user_id, role=Role.ADMIN)
    async with runtime.sessions() as session, session.begin():
        for number in range(1, count + 1):
            await experiments.create(
                session=session,
                principal=principal,
                site_id=site_id,
                values=ExperimentFields(name=f"{name} {number:04d}", base_url="https://shop.example/"),
            )
