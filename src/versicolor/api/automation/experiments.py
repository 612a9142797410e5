"""`/experiments`: experiments of the account's sites, and their lifecycle (`PATCH ?action=`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request, Response
from pydantic import BeforeValidator, Field, SerializerFunctionWrapHandler, model_serializer
from sqlalchemy import Boolean, literal, select

from versicolor.api.automation.schemas import (
    CamelIn,
    CamelOut,
    Code,
    Id,
    Kept,
    KeptOut,
    Timestamp,
    check_path_id,
    kept_fields,
    not_null,
)
from versicolor.api.conventions import listing
from versicolor.api.deps import DbSession
from versicolor.api.routes import CheckedRoute
from versicolor.api.security import Caller, needs
from versicolor.api.strict_input import date_time_text
from versicolor.core import querying, resources, sites
from versicolor.core.errors import Invalid
from versicolor.core.experiments import experiments
from versicolor.core.experiments.experiments import ExperimentFields, ExperimentType, ExperimentView
from versicolor.core.experiments.lifecycle import Action, Status
from versicolor.core.experiments.targeting import TargetingConfiguration
from versicolor.core.querying import Choice, Fields, Kind, ListQuery, Typed
from versicolor.core.roles import Permission
from versicolor.db.models import Experiment, Site

router = APIRouter(prefix="/experiments", tags=["experiments"], route_class=CheckedRoute)

GOALS = "goals"
GLOBAL_SCRIPT = "globalScript"
OPTIONAL = (GOALS, GLOBAL_SCRIPT)
EXPERIMENT_FIELDS = Fields(
    {
        "id": Experiment.id,
        "name": Experiment.name,
        "key": Experiment.key,
        "siteId": Experiment.site_id,
        "siteCode": Typed(select(Site.code).where(Site.id == Experiment.site_id).scalar_subquery(), Kind.TEXT),
        "isArchived": Typed(literal(False, Boolean), Kind.BOOLEAN),
        "baseURL": Experiment.base_url,
        "type": Choice(Experiment.type, list(ExperimentType)),
        "status": Choice(Experiment.status, list(Status)),
        "description": Experiment.description,
        "mainGoalId": Experiment.main_goal_id,
        "targetingSegmentId": Experiment.targeting_segment_id,
        "commonJavaScriptCode": Experiment.common_javascript_code,
        "commonCssCode": Experiment.common_css_code,
        "targetingConfiguration": Choice(Experiment.targeting_configuration, list(TargetingConfiguration)),
        "dateCreated": Experiment.date_created,
        "dateModified": Experiment.date_modified,
        "dateStarted": Experiment.date_started,
        "dateEnded": Experiment.date_ended,
        "dateStatusModified": Experiment.date_status_modified,
        "dateScheduledStart": Experiment.scheduled_start,
        "dateScheduledEnd": Experiment.scheduled_end,
    },
    unsearchable=(
        "tags",
        "variations",
        "deviations",
        "schedules",
        "trackingTools",
        *OPTIONAL,
    ),
    optional=OPTIONAL,
)
ExperimentQuery = Annotated[ListQuery, Depends(listing.query_params(EXPERIMENT_FIELDS))]
ExperimentSearch = Annotated[ListQuery, Depends(listing.search_body(EXPERIMENT_FIELDS))]
OptionalFields = Annotated[
    str | None, Query(alias="optionalFields", description="comma-separated extra fields: goals, globalScript")
]


def _share(value: object) -> object:
    # Kameleoon's clients send shares as numeric strings too ("0.5"); true and false stay refused.
    if isinstance(value, str):
        try:
            return float(value.strip()) if value.strip() else value
        except ValueError:
            return value
    return value


Deviations = dict[str, Annotated[float, BeforeValidator(_share), Field(strict=True)]]


class ScheduleOut(CamelOut):
    """When a SCHEDULED experiment starts, and stops (null: when someone stops it)."""

    date_start: Timestamp | None
    date_end: Timestamp | None


class ExperimentOut(KeptOut):
    """An experiment as the API shows it; `goals` and `globalScript` only when `optionalFields` names them."""

    id: Id
    name: str
    key: str | None
    site_id: Id
    site_code: str
    base_url: str = Field(alias="baseURL")
    type: str
    status: str
    description: str | None
    tags: list[str]
    variations: list[Id]
    deviations: dict[str, float]
    goals: list[Id] | None = None
    main_goal_id: Id | None
    targeting_segment_id: Id | None
    common_javascript_code: str | None = Field(alias="commonJavaScriptCode")
    common_css_code: str | None
    targeting_configuration: str | None
    global_script: str | None = None
    is_archived: bool = Field(description="always false: Versicolor archives nothing")
    tracking_tools: list[Any]
    schedules: list[ScheduleOut]
    date_created: Timestamp
    date_modified: Timestamp
    date_started: Timestamp | None
    date_ended: Timestamp | None
    date_status_modified: Timestamp | None
    date_scheduled_start: Timestamp | None
    date_scheduled_end: Timestamp | None

    @model_serializer(mode="wrap")
    def _optional_only_when_asked(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        if self.goals is None:
            data.pop(GOALS, None)
        if not self.with_global_script:
            data.pop(GLOBAL_SCRIPT, None)
        for name, value in self.stored_fields.items():
            data.setdefault(name, value)
        return data

    with_global_script: bool = Field(default=False, exclude=True)

    @classmethod
    def of(cls, view: ExperimentView, *, with_global_script: bool = False) -> ExperimentOut:
        """The rendering of one experiment."""
        e = view.experiment
        tracking_tools = e.stored_fields.get("trackingTools")
        schedules = []
        if e.scheduled_start is not None or e.scheduled_end is not None:
            schedules.append(ScheduleOut(date_start=e.scheduled_start, date_end=e.scheduled_end))
        return cls(
            id=e.id,
            name=e.name,
            key=e.key,
            site_id=e.site_id,
            site_code=view.site_code,
            base_url=e.base_url,
            type=e.type,
            status=e.status,
            description=e.description,
            tags=e.tags,
            variations=view.variations,
            deviations=e.deviations,
            goals=view.goals,
            main_goal_id=e.main_goal_id,
            targeting_segment_id=e.targeting_segment_id,
            common_javascript_code=e.common_javascript_code,
            common_css_code=e.common_css_code,
            targeting_configuration=e.targeting_configuration,
            global_script=e.global_script,
            with_global_script=with_global_script,
            is_archived=False,
            tracking_tools=tracking_tools if isinstance(tracking_tools, list) else [],
            schedules=schedules,
            stored_fields=e.stored_fields,
            date_created=e.date_created,
            date_modified=e.date_modified,
            date_started=e.date_started,
            date_ended=e.date_ended,
            date_status_modified=e.date_status_modified,
            date_scheduled_start=e.scheduled_start,
            date_scheduled_end=e.scheduled_end,
        )


class ExperimentKept(CamelIn):
    """Fields Kameleoon documents for experiments that Versicolor keeps and returns as given."""

    auto_optimized: Kept
    collecting_data_enabled: Kept
    execute_code_for_reference: Kept
    is_legacy_editor: Kept
    is_multiple_testing_correction: Kept
    mvt_allocation_settings: Kept
    mvt_variations: Kept
    respool_time: Kept
    tracking_tools: Kept
    traffic_allocation_method: Kept


class Schedule(CamelIn):
    """The one schedule an experiment keeps; `?action=SCHEDULE` without dates uses it."""

    date_start: datetime | None = None
    date_end: datetime | None = None


class _Writable(ExperimentKept):
    """The writable fields; absent means "the default" (POST, PUT) or "unchanged" (PATCH)."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    base_url: str | None = Field(default=None, alias="baseURL", min_length=1, max_length=2048)
    type: ExperimentType | None = Field(default=None, description="default CLASSIC")
    description: str | None = Field(default=None, max_length=10_000)
    tags: list[Annotated[str, Field(min_length=1, max_length=100)]] | None = Field(default=None, max_length=100)
    deviations: Deviations | None = Field(
        default=None,
        description='{"origin": share, "<variationId>": share}, each 0-1, total at most 1; '
        "null or absent: an equal split that follows the variations",
    )
    goals: list[Id] | None = Field(default=None, max_length=1000)
    main_goal_id: Id | None = None
    targeting_segment_id: Id | None = None
    common_javascript_code: Code = Field(default=None, alias="commonJavaScriptCode")
    common_css_code: Code = None
    variations: list[Id] | None = Field(default=None, max_length=1000)
    key: str | None = Field(
        default=None,
        description="a stable name of your choice (a-z, 0-9, . _ -), unique per site; a PUT without it keeps it",
    )
    targeting_configuration: TargetingConfiguration | None = Field(
        default=None, description="where it runs: PAGE (the baseURL's page), URL (pages beginning with it), else all"
    )
    global_script: Code = Field(default=None, description="run on every page where it runs; a PUT without it keeps it")
    schedules: list[Schedule] | None = Field(
        default=None, max_length=1, description="at most one: {dateStart, dateEnd}"
    )

    _not_null = not_null("name", "base_url", "type", "tags", "goals", "variations")

    def values(self) -> ExperimentFields:
        """The body as the core's field values (defaults for what was not sent)."""
        return ExperimentFields(
            name=self.name or "",
            base_url=self.base_url or "",
            type=self.type or ExperimentType.CLASSIC,
            description=self.description,
            tags=self.tags or (),
            deviations=self.deviations,
            goals=self.goals or (),
            main_goal_id=self.main_goal_id,
            targeting_segment_id=self.targeting_segment_id,
            common_javascript_code=self.common_javascript_code,
            common_css_code=self.common_css_code,
            variations=self.variations or (),
            key=self.key,
            targeting_configuration=self.targeting_configuration,
            global_script=self.global_script,
            schedule=(self.schedules[0].date_start, self.schedules[0].date_end) if self.schedules else (None, None),
        )

    def given(self) -> set[str]:
        """The names of the writable fields this body sent."""
        sent = set(self.model_fields_set)
        return (sent & experiments.FIELD_NAMES) | ({"schedule"} if "schedules" in sent else set())


class ExperimentCreate(_Writable):
    """The body of `POST /experiments`: the site by `siteId`, by `siteCode`, or both when they agree."""

    name: str = Field(min_length=1, max_length=200)
    site_id: Id | None = None
    site_code: str | None = Field(default=None, max_length=100)
    base_url: str = Field(alias="baseURL", min_length=1, max_length=2048)


class _ReadOnlyEcho(CamelIn):
    """Read-only fields a client may send back as it got them (GET, edit, PUT): checked or ignored."""

    id: Id | None = None
    site_id: Id | None = None
    status: Status | None = None
    date_created: datetime | None = None
    date_modified: datetime | None = None
    date_started: datetime | None = None
    date_ended: datetime | None = None
    date_status_modified: datetime | None = None
    date_scheduled_start: datetime | None = None
    date_scheduled_end: datetime | None = None
    site_code: str | None = None
    is_archived: bool | None = None

    def check_echo(self, view: ExperimentView) -> None:
        """Refuse (400) a read-only field sent back with another value than the experiment's."""
        e = view.experiment
        resources.check_unchanged(
            "experiment",
            [
                ("dateCreated", self.date_created, e.date_created),
                ("dateStarted", self.date_started, e.date_started),
                ("dateEnded", self.date_ended, e.date_ended),
                ("siteCode", self.site_code, view.site_code),
                ("isArchived", self.is_archived, False),
            ],
        )


class ExperimentPatch(_Writable, _ReadOnlyEcho):
    """The body of `PATCH /experiments/{id}`: only the named fields change; arrays are replaced whole."""


class ExperimentReplace(ExperimentPatch):
    """The body of `PUT /experiments/{id}`: the whole experiment; what is left out returns to its default."""

    name: str = Field(min_length=1, max_length=200)
    base_url: str = Field(alias="baseURL", min_length=1, max_length=2048)


class DuplicateBody(CamelIn):
    """The optional body of `POST /experiments/{id}/duplicate`."""

    name: str | None = Field(default=None, min_length=1, max_length=200)


def _optional(optional_fields: str | None) -> set[str]:
    wanted = {name.strip() for name in (optional_fields or "").split(",") if name.strip()}
    unknown = sorted(wanted - set(OPTIONAL))
    if unknown:
        raise Invalid.field("optionalFields", f"unknown optional field {unknown[0]!r}; allowed: {', '.join(OPTIONAL)}")
    return wanted


async def _view(session: DbSession, experiment: Experiment, *, with_goals: bool = False) -> ExperimentView:
    (view,) = await experiments.views(session=session, experiments=[experiment], with_goals=with_goals)
    return view


async def _one(session: DbSession, experiment: Experiment, optional_fields: str | None) -> ExperimentOut:
    wanted = _optional(optional_fields)
    view = await _view(session, experiment, with_goals=GOALS in wanted)
    return ExperimentOut.of(view, with_global_script=GLOBAL_SCRIPT in wanted)


async def _site_of(session: DbSession, caller: Caller, body: ExperimentCreate) -> int:
    """The site a new experiment goes to: named by siteId, by siteCode, or by both when they agree."""
    if body.site_code is None:
        if body.site_id is None:
            raise Invalid.field("siteId", "is required")  # or siteCode
        return body.site_id
    site = await sites.get_by_code(session=session, principal=caller, code=body.site_code)
    if body.site_id is not None and body.site_id != site.id:
        raise Invalid.field("siteCode", f"{body.site_code!r} is site {site.id}, but siteId is {body.site_id}")
    return site.id


@router.get("")
async def list_experiments(
    query: ExperimentQuery, request: Request, response: Response, session: DbSession, caller: Caller
) -> list[ExperimentOut]:
    """The experiments of the caller's sites: `page`, `perPage`, `filter`, `sort`, `optionalFields=goals`."""
    page = await querying.fetch(session=session, statement=experiments.scoped(caller), query=query)
    listing.set_headers(request, response, page)
    found = await experiments.views(session=session, experiments=page.items, with_goals=GOALS in query.optional_fields)
    with_script = GLOBAL_SCRIPT in query.optional_fields
    return [ExperimentOut.of(view, with_global_script=with_script) for view in found]


@router.post("/search", openapi_extra=needs(Permission.READ))
async def search_experiments(
    query: ExperimentSearch, request: Request, response: Response, session: DbSession, caller: Caller
) -> list[ExperimentOut]:
    """The same as `GET /experiments`, with the query in a JSON body."""
    return await list_experiments(query, request, response, session, caller)


@router.post("", status_code=201)
async def create_experiment(
    body: ExperimentCreate, session: DbSession, caller: Caller, optional_fields: OptionalFields = None
) -> ExperimentOut:
    """Create a DRAFT experiment."""
    _optional(optional_fields)
    site_id = await _site_of(session, caller, body)
    # A client that names the experiment's variations (even as []) gets those and no first variation of its own.
    experiment = await experiments.create(
        session=session,
        principal=caller,
        site_id=site_id,
        values=body.values(),
        first_variation=body.variations is None,
    )
    resources.keep_as_given(experiment, kept_fields(body, ExperimentKept))
    return await _one(session, experiment, optional_fields)


@router.get("/{experiment_id}")
async def get_experiment(
    experiment_id: Id, session: DbSession, caller: Caller, optional_fields: OptionalFields = None
) -> ExperimentOut:
    """One experiment."""
    experiment = await experiments.get(session=session, principal=caller, experiment_id=experiment_id)
    return await _one(session, experiment, optional_fields)


@router.put("/{experiment_id}")
async def replace_experiment(
    experiment_id: Id,
    body: ExperimentReplace,
    session: DbSession,
    caller: Caller,
    optional_fields: OptionalFields = None,
) -> ExperimentOut:
    """Replace an experiment's writable fields (`variations`, `globalScript` and `schedules` stay unless given)."""
    _optional(optional_fields)
    check_path_id(experiments.KIND, experiment_id, body.id)
    experiment = await experiments.replace(
        session=session,
        principal=caller,
        experiment_id=experiment_id,
        values=body.values(),
        given=body.given(),
        site_id=body.site_id,
        status=body.status,
    )
    body.check_echo(await _view(session, experiment))
    resources.keep_as_given(experiment, kept_fields(body, ExperimentKept), replace=True)
    return await _one(session, experiment, optional_fields)


@router.patch("/{experiment_id}")
async def patch_experiment(
    experiment_id: Id,
    session: DbSession,
    caller: Caller,
    body: Annotated[ExperimentPatch | None, Body()] = None,
    action: Annotated[Action | None, Query(description="a lifecycle step; see docs/resources.md")] = None,
    date_start: Annotated[
        datetime | None,
        BeforeValidator(date_time_text),
        Query(alias="dateStart", description="with action=SCHEDULE: when it starts (ISO-8601, Z)"),
    ] = None,
    date_end: Annotated[
        datetime | None,
        BeforeValidator(date_time_text),
        Query(alias="dateEnd", description="with action=SCHEDULE: when it stops (optional)"),
    ] = None,
    optional_fields: OptionalFields = None,
) -> ExperimentOut:
    """Change the named fields, then (with `action`) move the experiment through its lifecycle."""
    _optional(optional_fields)
    if body is not None:
        check_path_id(experiments.KIND, experiment_id, body.id)
        changed = await experiments.update(
            session=session,
            principal=caller,
            experiment_id=experiment_id,
            values=body.values(),
            given=body.given(),
            site_id=body.site_id,
            status=body.status,
        )
        body.check_echo(await _view(session, changed))
        resources.keep_as_given(changed, kept_fields(body, ExperimentKept))
    if action is not None:
        experiment = await experiments.change_status(
            session=session,
            principal=caller,
            experiment_id=experiment_id,
            action=action,
            date_start=date_start,
            date_end=date_end,
        )
    else:
        if date_start is not None or date_end is not None:
            raise Invalid.field("dateStart", "dateStart and dateEnd go with action=SCHEDULE only")
        experiment = await experiments.get(session=session, principal=caller, experiment_id=experiment_id)
    return await _one(session, experiment, optional_fields)


@router.delete("/{experiment_id}", status_code=204)
async def delete_experiment(experiment_id: Id, session: DbSession, caller: Caller) -> Response:
    """Delete a DRAFT or STOPPED experiment and its variations."""
    await experiments.delete(session=session, principal=caller, experiment_id=experiment_id)
    return Response(status_code=204)


@router.post("/{experiment_id}/duplicate", status_code=201)
async def duplicate_experiment(
    experiment_id: Id,
    session: DbSession,
    caller: Caller,
    body: Annotated[DuplicateBody | None, Body()] = None,
    optional_fields: OptionalFields = None,
) -> ExperimentOut:
    """A DRAFT copy of the experiment, with copies of its variations."""
    _optional(optional_fields)
    copy = await experiments.duplicate(
        session=session, principal=caller, experiment_id=experiment_id, name=body.name if body else None
    )
    return await _one(session, copy, optional_fields)
