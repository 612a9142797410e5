"""`POST /experiments/{id}/results` and `GET /results?dataCode=`: asynchronous reports (docs/results.md)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Request
from pydantic import BeforeValidator, Field

from versicolor.api.automation.schemas import CamelIn, CamelOut, Timestamp
from versicolor.api.deps import DbSession, RuntimeDep, runtime_of
from versicolor.api.routes import CheckedRoute
from versicolor.api.security import Caller, needs
from versicolor.core.roles import Permission
from versicolor.results import callback_keys, store
from versicolor.results.callbacks import SIGNATURE_HEADER, CallbackSender, parse_ports
from versicolor.results.request import (
    MAX_DATE_INTERVALS,
    MAX_FILTER_VALUES,
    MAX_FILTERS,
    MAX_GOALS,
    Attribute,
    BreakdownType,
    ConversionType,
    Interval,
    ReportRequest,
)

router = APIRouter(tags=["results"], route_class=CheckedRoute)


def callback_sender(request: Request) -> CallbackSender:
    """How callbacks reach the network (tests override this dependency to stand in for it)."""
    sender = getattr(request.app.state, "callback_sender", None)
    if not isinstance(sender, CallbackSender):
        ports = parse_ports(runtime_of(request).settings.callback_ports)
        sender = request.app.state.callback_sender = CallbackSender(ports=ports)
    return sender


Callbacks = Annotated[CallbackSender, Depends(callback_sender)]


_SPELLED_ID = re.compile(r"-?[0-9]{1,19}")


def _id_or_its_digits(value: Any) -> Any:
    return int(value) if isinstance(value, str) and _SPELLED_ID.fullmatch(value) else value


# A variation id as a number, or as a string of its digits: the public service's own example sends
# "referenceVariationId": "0". Anything else (true, "green") stays refused by the strict integer.
VariationReference = Annotated[int, BeforeValidator(_id_or_its_digits)]


class DateIntervalIn(CamelIn):
    """A period [start, end) of the report; a time without a zone is UTC."""

    start: datetime
    end: datetime


class BreakdownIn(CamelIn):
    """How to split each variation's data."""

    type: BreakdownType
    interval: Interval | None = None
    index: int | None = Field(default=None, description="with type CUSTOM_DATUM: the index of a custom datum")


class FilterIn(CamelIn):
    """Keep (include) or drop units whose attribute is one of `values`."""

    type: Attribute
    values: list[str | bool] = Field(max_length=MAX_FILTER_VALUES)
    include: bool = True


class ResultsRequestIn(CamelIn):
    """The body of `POST /experiments/{id}/results`."""

    goals_ids: list[int] | None = Field(default=None, max_length=MAX_GOALS)
    reference_variation_id: VariationReference = 0
    visitor_data: bool = Field(
        default=False, description="units are visitors (true) or visits (false, Kameleoon's default when omitted)"
    )
    all_variations_data: bool = Field(
        default=False, description="Kameleoon's switch for every variation at once: a report always holds them all"
    )
    conversion_type: ConversionType = ConversionType.ALL_CONVERSION
    date_intervals: list[DateIntervalIn] | None = Field(default=None, max_length=MAX_DATE_INTERVALS)
    sequential_testing: bool = False
    bayesian: bool = False
    enabled_multiple_testing: bool = False
    goal_ids_cuped: list[int] | None = Field(default=None, max_length=MAX_GOALS)
    breakdown: BreakdownIn | None = None
    cumulative: bool = False
    filters: list[FilterIn] | None = Field(default=None, max_length=MAX_FILTERS)
    callback_url: str | None = None

    def to_request(self) -> ReportRequest:
        """The domain request; raises Invalid naming each field whose value does not fit the others."""
        return ReportRequest.build(
            goal_ids=self.goals_ids,
            reference_variation_id=self.reference_variation_id,
            visitor_data=self.visitor_data,
            conversion_type=self.conversion_type,
            date_intervals=[(i.start, i.end) for i in self.date_intervals or ()],
            sequential_testing=self.sequential_testing,
            bayesian=self.bayesian,
            multiple_testing=self.enabled_multiple_testing,
            cuped_goal_ids=self.goal_ids_cuped,
            breakdown_type=self.breakdown.type if self.breakdown else None,
            breakdown_interval=self.breakdown.interval if self.breakdown else None,
            breakdown_index=self.breakdown.index if self.breakdown else None,
            cumulative=self.cumulative,
            filters=[(f.type, f.values, f.include) for f in self.filters or ()],
            callback_url=self.callback_url,
        )


class DataCodeOut(CamelOut):
    """Where to fetch the report."""

    data_code: str


class PreviousKeyOut(CamelOut):
    """A key rotated out that still signs callbacks (beside the new one) until `expiresAt`."""

    key: str
    expires_at: Timestamp


class CallbackKeyOut(CamelOut):
    """The key that signs this account's callbacks, and the rotated-out ones still in force."""

    key: str
    header: str
    algorithm: str
    previous_keys: list[PreviousKeyOut] = []


class CallbackKeyRotation(CamelIn):
    """The body of `POST /results/callbackKey/rotate` (optional)."""

    overlap_seconds: int = Field(
        default=86_400,
        ge=0,
        # Bounded here too, so that no number is too large to be a duration.
        le=int(callback_keys.MAX_OVERLAP.total_seconds()),
        description="how long the current key keeps signing beside the new one (default a day; at most 30 days)",
    )


def _key_out(keys: list[callback_keys.KeyInForce]) -> CallbackKeyOut:
    newest, *older = keys
    return CallbackKeyOut(
        key=newest.key,
        header=SIGNATURE_HEADER,
        algorithm="HMAC-SHA256",
        previous_keys=[PreviousKeyOut(key=k.key, expires_at=k.expires_at) for k in older if k.expires_at is not None],
    )


@router.post("/experiments/{experiment_id}/results", openapi_extra=needs(Permission.READ))
async def request_results(
    experiment_id: int,
    body: ResultsRequestIn,
    session: DbSession,
    caller: Caller,
    runtime: RuntimeDep,
    background: BackgroundTasks,
    callbacks: Callbacks,
) -> DataCodeOut:
    """Ask for a report of an experiment's results; fetch it with `GET /results?dataCode=`."""
    from versicolor.results import service  # the statistics engine (numpy, scipy): loaded with the first report

    report = await service.request_report(
        session=session,
        principal=caller,
        experiment_id=experiment_id,
        request=body.to_request(),
        callbacks=callbacks,
    )
    # Runs once the answer is sent, after the request's transaction committed the WAITING report.
    background.add_task(
        service.run,
        sessions=runtime.sessions,
        slots=runtime.reports,
        report_id=report.id,
        callbacks=callbacks,
        server_key=runtime.signing_key,
        sealer=runtime.sealer,
    )
    return DataCodeOut(data_code=report.data_code)


@router.get("/results")
async def get_results(
    session: DbSession, caller: Caller, data_code: Annotated[str, Query(alias="dataCode", max_length=128)]
) -> dict[str, Any]:
    """A report: WAITING while it is computed, then READY with its data (or ERROR with the reason)."""
    from versicolor.results import service  # the statistics engine (numpy, scipy): loaded with the first report

    report = await store.get(session=session, principal=caller, data_code=data_code)
    status, error = store.status_of(report)
    data = report.data if status is store.Status.READY else None
    return service.rendered(data_code=report.data_code, status=status, data=data, error=error)


@router.get("/results/callbackKey", openapi_extra=needs(Permission.ADMIN))
async def get_callback_key(caller: Caller, runtime: RuntimeDep, session: DbSession) -> CallbackKeyOut:
    """The key this account's callbacks are signed with (HMAC-SHA256 over `"<t>." + body`)."""
    caller.require_first_party()
    keys = await callback_keys.in_force(
        session=session, sealer=runtime.sealer, server_secret=runtime.signing_key, account_id=caller.account_id
    )
    return _key_out(keys)


@router.post("/results/callbackKey/rotate", openapi_extra=needs(Permission.ADMIN))
async def rotate_callback_key(
    caller: Caller, runtime: RuntimeDep, session: DbSession, body: CallbackKeyRotation | None = None
) -> CallbackKeyOut:
    """A new callback key; the current one keeps signing beside it for `overlapSeconds` (default a day)."""
    overlap = timedelta(seconds=(body or CallbackKeyRotation()).overlap_seconds)
    keys = await callback_keys.rotate(
        session=session,
        sealer=runtime.sealer,
        server_secret=runtime.signing_key,
        principal=caller,
        overlap=overlap,
    )
    return _key_out(keys)
