"""Reports and their status: created WAITING, then READY with data or ERROR with a reason; kept for a day."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from versicolor.core.errors import NotFound
from versicolor.core.roles import Principal
from versicolor.db.models.results import ResultReport
from versicolor.db.types import utcnow
from versicolor.results.request import ReportRequest

# How long a report can be fetched after it was requested (docs/results.md); it is cheap to ask again.
LIFETIME = timedelta(hours=24)
# A report still WAITING after this long lost its computation (the process stopped): it shows as ERROR.
STALE_AFTER = timedelta(minutes=10)
# How many of an experiment's most recent reports `latest` looks through for one asked the same way.
_RECENT = 50
# 32 random bytes: a data code cannot be guessed.
_CODE_BYTES = 32


class Status(StrEnum):
    """Where a report's computation is."""

    WAITING = "WAITING"
    READY = "READY"
    ERROR = "ERROR"


class CallbackStatus(StrEnum):
    """Where a report's callback delivery is."""

    PENDING = "PENDING"
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"


def new_data_code() -> str:
    """A fresh, unguessable data code (URL-safe)."""
    return secrets.token_urlsafe(_CODE_BYTES)


async def create(
    *,
    session: AsyncSession,
    principal: Principal,
    experiment_id: int,
    request: ReportRequest,
    now: datetime | None = None,
) -> ResultReport:
    """A WAITING report of an experiment the caller may read (the caller checked that), requested at `now`."""
    now = now or utcnow()
    await purge_expired(session=session, now=now)
    report = ResultReport(
        account_id=principal.account_id,
        experiment_id=experiment_id,
        data_code=new_data_code(),
        status=Status.WAITING.value,
        request=request.to_json(),
        callback_url=request.callback_url,
        callback_status=CallbackStatus.PENDING.value if request.callback_url else None,
        date_created=now,
        date_expires=now + LIFETIME,
    )
    session.add(report)
    await session.flush()
    return report


async def get(*, session: AsyncSession, principal: Principal, data_code: str) -> ResultReport:
    """A report of the caller's account that has not expired."""
    report = await session.scalar(
        select(ResultReport).where(
            ResultReport.data_code == data_code,
            ResultReport.account_id == principal.account_id,
            ResultReport.date_expires > utcnow(),
        )
    )
    if report is None:
        raise NotFound("no report with this dataCode: it is unknown or expired; request the results again")
    return report


def status_of(report: ResultReport, *, now: datetime | None = None) -> tuple[Status, str | None]:
    """The status a caller sees, and the reason of an ERROR."""
    status = Status(report.status)
    if status is Status.WAITING and (now or utcnow()) - report.date_created > STALE_AFTER:
        return Status.ERROR, "the computation of this report was interrupted; request the results again"
    return status, report.error


async def latest(
    *,
    session: AsyncSession,
    principal: Principal,
    experiment_id: int,
    request: ReportRequest,
    since: datetime,
    now: datetime | None = None,
) -> ResultReport | None:
    """The newest report of the experiment asked with exactly `request` at or after `since` (not expired)."""
    now = now or utcnow()
    wanted = request.to_json()
    # The request is JSON: compared here rather than in SQL, among the experiment's recent reports only.
    recent = await session.execute(
        select(ResultReport.id, ResultReport.request)
        .where(
            ResultReport.account_id == principal.account_id,
            ResultReport.experiment_id == experiment_id,
            ResultReport.date_created >= since,
            ResultReport.date_expires > now,
        )
        .order_by(ResultReport.id.desc())
        .limit(_RECENT)
    )
    for report_id, asked in recent:
        if asked == wanted:
            return await session.get(ResultReport, report_id)
    return None


async def load(*, session: AsyncSession, report_id: int) -> ResultReport | None:
    """A report by id, for the background computation (which acts for the account that asked)."""
    return await session.get(ResultReport, report_id)


@dataclass(frozen=True)
class Delivery:
    """Where a report goes once computed: its callback URL (None: nowhere), its data code and account."""

    callback_url: str | None
    data_code: str
    account_id: int


async def delivery_of(*, session: AsyncSession, report_id: int) -> Delivery | None:
    """Where report `report_id` goes once computed, read without its data (which can be large)."""
    found = (
        await session.execute(
            select(ResultReport.callback_url, ResultReport.data_code, ResultReport.account_id).where(
                ResultReport.id == report_id
            )
        )
    ).one_or_none()
    return None if found is None else Delivery(*found)


async def mark_ready(*, session: AsyncSession, report: ResultReport, data: dict[str, Any]) -> None:
    """Store the computed report."""
    report.status = Status.READY.value
    report.data = data
    report.date_ready = utcnow()
    await session.flush()


async def mark_error(*, session: AsyncSession, report_id: int, reason: str) -> None:
    """Record that the report could not be computed, and why."""
    await session.execute(
        update(ResultReport)
        .where(ResultReport.id == report_id)
        .values(status=Status.ERROR.value, error=reason, date_ready=utcnow())
    )


async def record_callback(*, session: AsyncSession, report_id: int, delivered: bool, attempts: int) -> None:
    """Record how the callback delivery ended."""
    await session.execute(
        update(ResultReport)
        .where(ResultReport.id == report_id)
        .values(
            callback_status=(CallbackStatus.DELIVERED if delivered else CallbackStatus.FAILED).value,
            callback_attempts=attempts,
        )
    )


async def purge_expired(*, session: AsyncSession, now: datetime) -> None:
    """Delete every expired report, of any account."""
    await session.execute(delete(ResultReport).where(ResultReport.date_expires <= now))
