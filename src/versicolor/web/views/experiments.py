"""The experiments of the account: filtered by site, status and name, newest first, a page at a time, each with
its visitors and its leading variation on the main goal (from the same report the experiment's page shows)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select
from starlette.responses import Response

from versicolor.core import querying, sites
from versicolor.core.errors import Invalid
from versicolor.core.experiments import experiments
from versicolor.core.experiments.lifecycle import Status
from versicolor.core.querying import Choice, Fields
from versicolor.db.models import Experiment, Site, Variation
from versicolor.results import store
from versicolor.web import figures, pages, reports

PER_PAGE = 25
MAX_NAME = 200

# What the list filters and sorts on, in the query language the API's lists use (so both agree on matching).
FIELDS = Fields(
    {
        "id": Experiment.id,
        "name": Experiment.name,
        "siteId": Experiment.site_id,
        "status": Choice(Experiment.status, [status.value for status in Status]),
        "dateCreated": Experiment.date_created,
    }
)


@dataclass(frozen=True)
class Filters:
    """The list's filters and page, from its query string."""

    site_id: int | None = None
    status: Status | None = None
    name: str = ""
    page: int = 1

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> Filters:
        """The filters; raises Invalid naming a value that cannot be one."""
        site = params.get("site", "").strip()
        if site and not (site.isascii() and site.isdigit() and len(site) <= 19):
            raise Invalid.field("site", f"{site[:40]!r} is not a site id")
        status = params.get("status", "").strip()
        if status and status not in Status.__members__:
            raise Invalid.field("status", f"{status[:40]!r} is not one of {', '.join(Status)}")
        name = params.get("name", "").strip()
        if len(name) > MAX_NAME:
            raise Invalid.field("name", f"is at most {MAX_NAME} characters")
        page = params.get("page", "1").strip() or "1"
        if not (page.isascii() and page.isdigit()) or not 1 <= int(page) <= querying.MAX_PAGE:
            raise Invalid.field("page", f"{page[:40]!r} is not a page number")
        return cls(
            site_id=int(site) if site else None, status=Status(status) if status else None, name=name, page=int(page)
        )

    def query(self) -> querying.ListQuery:
        """The list query these filters make."""
        conditions: list[dict[str, Any]] = []
        if self.site_id is not None:
            conditions.append({"field": "siteId", "operator": "EQUAL", "parameters": [self.site_id]})
        if self.status is not None:
            conditions.append({"field": "status", "operator": "EQUAL", "parameters": [self.status.value]})
        if self.name:
            conditions.append({"field": "name", "operator": "CONTAINS", "parameters": [self.name]})
        return querying.parse_body(
            FIELDS,
            {
                "filter": conditions,
                "sort": [{"field": "dateCreated", "direction": "DESC"}],
                "page": self.page,
                "perPage": PER_PAGE,
            },
        )

    def link(self, page: int) -> str:
        """The URL of another page of the same list."""
        params = {"site": self.site_id or "", "status": self.status or "", "name": self.name, "page": page}
        return "/app/experiments?" + urlencode({k: v for k, v in params.items() if v not in ("", None)})


@dataclass(frozen=True)
class Summary:
    """What the list says of one experiment's results."""

    state: str  # none (never started), computing, failed, ready
    visitors: int | None = None
    leader: str | None = None
    improvement: float | None = None
    significant: bool = False
    srm: bool = False
    note: str | None = None


@dataclass(frozen=True)
class Line:
    """One experiment of the list."""

    experiment: Experiment
    site: str
    days: int | None
    summary: Summary


def days_running(experiment: Experiment, now: datetime) -> int | None:
    """Whole days since the experiment started, until it ended (None when it never started)."""
    if experiment.date_started is None:
        return None
    end = experiment.date_ended or now
    return max(0, (end - experiment.date_started).days)


def summarize(shown: reports.Shown | None, names: Mapping[str, str], main_goal_id: int | None) -> Summary:
    """The list's line about one report."""
    if shown is None:
        return Summary(state="none")
    if shown.status is store.Status.WAITING:
        return Summary(state="computing")
    if shown.status is store.Status.ERROR or shown.data is None:
        return Summary(state="failed", note=shown.error)
    data = shown.data
    visitors = figures.total_units(data)
    srm = bool((data.get("srm") or {}).get("flagged"))
    if main_goal_id is None:
        return Summary(state="ready", visitors=visitors, srm=srm, note="no main goal")
    arms = figures.arms_of(data, names)
    (table,) = figures.goal_tables(data, arms, [(main_goal_id, "")], main_goal_id, reports.Options())
    compared = [row for row in table.rows if row.arm.key != figures.REFERENCE and row.improvement is not None]
    if not visitors or not compared:
        return Summary(state="ready", visitors=visitors, srm=srm)
    winner = (data.get("winner") or {}).get("variationId")
    best = next((row for row in compared if row.arm.key == str(winner)), None) or max(
        compared, key=lambda row: row.improvement or 0.0
    )
    return Summary(
        state="ready",
        visitors=visitors,
        leader=best.arm.name,
        improvement=best.improvement,
        significant=best.verdict.tone == "better",
        srm=srm,
    )


@pages.view()
async def experiments_list(ctx: pages.Context) -> pages.AfterCommit:
    """Experiments of the account, filtered and paged."""
    filters = Filters.parse(ctx.request.query_params)
    principal = ctx.me.principal
    if filters.site_id is not None:
        await sites.get(session=ctx.db, principal=principal, site_id=filters.site_id)  # another account's: 404
    all_sites = list(await ctx.db.scalars(sites.scoped(principal).order_by(Site.name, Site.id)))
    found = await querying.fetch(session=ctx.db, statement=experiments.scoped(principal), query=filters.query())
    ids = [e.id for e in found.items]
    names: dict[int, dict[str, str]] = {i: {figures.REFERENCE: "Original"} for i in ids}
    if ids:
        for variation in await ctx.db.scalars(select(Variation).where(Variation.experiment_id.in_(ids))):
            if variation.experiment_id is not None:
                names[variation.experiment_id][str(variation.id)] = variation.name
    default = reports.Options()
    started = [e for e in found.items if e.date_started is not None]  # never started: no traffic, no report
    goal_ids = await experiments.goal_ids_of(session=ctx.db, experiment_ids=[e.id for e in started])
    wanted = {
        e.id: await reports.find_or_request(
            session=ctx.db, principal=principal, experiment_id=e.id, request=default.over_time(goal_ids[e.id])
        )
        for e in started
    }
    site_names = {site.id: site.name for site in all_sites}

    async def finish() -> Response:
        settled = await reports.settle(ctx.runtime, wanted.values())
        now = datetime.now(UTC)
        lines = [
            Line(
                experiment=e,
                site=site_names.get(e.site_id, ""),
                days=days_running(e, now),
                summary=summarize(
                    settled.shown.get(wanted[e.id].row.id) if e.id in wanted else None, names[e.id], e.main_goal_id
                ),
            )
            for e in found.items
        ]
        answer = ctx.render(
            "experiments.html",
            nav="experiments",
            lines=lines,
            filters=filters,
            sites=all_sites,
            statuses=list(Status),
            total=found.total,
            last_page=found.last_page,
            computing=any(line.summary.state == "computing" for line in lines),
        )
        answer.background = pages.background(settled)
        return answer

    return pages.AfterCommit(finish)
