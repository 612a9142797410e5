"""The Default Environment: one per account, made once even when many requests ask at the same time."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from tests.factories import Factory
from versicolor.core import object_ids
from versicolor.core.domains import url_groups
from versicolor.db.models import Account, UrlGroup
from versicolor.runtime import Runtime


async def test_concurrent_first_uses_make_one_default_environment(runtime: Runtime, factory: Factory) -> None:
    account = await factory.account()

    async def ask() -> str:
        async with runtime.sessions() as session, session.begin():
            return (await url_groups.default(session=session, account_id=account.account_id)).id

    ids = await asyncio.gather(*(ask() for _ in range(4)))
    assert len(set(ids)) == 1
    async with runtime.sessions() as session:
        count = await session.scalar(
            select(func.count()).select_from(UrlGroup).where(UrlGroup.account_id == account.account_id)
        )
    assert count == 1


async def test_the_default_environment_counts_as_created_with_the_account(runtime: Runtime, factory: Factory) -> None:
    account = await factory.account()
    async with runtime.sessions() as session, session.begin():
        default = await url_groups.default(session=session, account_id=account.account_id)
        owner = await session.get(Account, account.account_id)
    assert owner is not None
    assert default.created_at == owner.date_created.replace(microsecond=owner.date_created.microsecond // 1000 * 1000)
    assert object_ids.time_of(default.id) == default.created_at.replace(microsecond=0)
    assert default.default_for_account_id == account.account_id and default.name == "Default"
