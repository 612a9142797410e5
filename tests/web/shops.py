"""Shops for the dashboard's tests: the hand-made history of tests/results/dataset.py, and experiments by the
thousand, made through the same services and endpoints users reach."""

from __future__ import annotations

import httpx
from tests.factories import Factory, TestAccount
from tests.results.dataset import history, send
from tests.tracking.fixtures import Shop, shop

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
