"""Sites: the list, and one site with how to install the page engine on it, its goals and segments, and the account's
Domains and Environments (which hosts may run experiments), with their controls for an ADMIN."""

from __future__ import annotations

import math
from urllib.parse import urlencode

from sqlalchemy import func, select
from starlette.responses import Response

from versicolor.core import goals, sites
from versicolor.core.domains import url_groups, urls
from versicolor.core.domains.values import Enabled
from versicolor.core.errors import Invalid
from versicolor.core.experiments import experiments
from versicolor.core.segments import service as segments
from versicolor.db.models import Experiment, Goal, Segment, Site, Url, UrlGroup
from versicolor.engine.script import SiteSettings
from versicolor.engine.snippet import snippet
from versicolor.web import pages

DOMAINS_PER_PAGE = 50


@pages.view()
async def sites_list(ctx: pages.Context) -> Response:
    """The account's sites, with how many experiments each has."""
    principal = ctx.me.principal
    found = list(await ctx.db.scalars(sites.scoped(principal).order_by(Site.name, Site.id)))
    per_site = await ctx.db.execute(
        select(Experiment.site_id, func.count())
        .where(Experiment.account_id == principal.account_id)
        .group_by(Experiment.site_id)
    )
    counts = {site_id: number for site_id, number in per_site}
    return ctx.render("sites.html", nav="sites", sites=found, counts=counts)


def _page_number(raw: str | None) -> int:
    raw = (raw or "1").strip() or "1"
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= 1_000_000_000:
        raise Invalid.field("domains", f"{raw[:40]!r} is not a page number")
    return int(raw)


@pages.view()
async def site_page(ctx: pages.Context) -> Response:
    """A site: installation, goals, segments, and the account's Domains and Environments."""
    principal = ctx.me.principal
    site = await sites.get(session=ctx.db, principal=principal, site_id=ctx.int_param("site_id"))
    page = _page_number(ctx.request.query_params.get("domains"))
    site_goals = list(await ctx.db.scalars(goals.scoped(principal).where(Goal.site_id == site.id).order_by(Goal.id)))
    site_segments = list(
        await ctx.db.scalars(segments.scoped(principal).where(Segment.site_id == site.id).order_by(Segment.id))
    )
    running = await ctx.db.scalar(
        select(func.count()).select_from(
            experiments.scoped(principal).where(Experiment.site_id == site.id, Experiment.status == "ACTIVE").subquery()
        )
    )
    environments = list(
        await ctx.db.scalars(
            (await url_groups.listing(session=ctx.db, principal=principal)).order_by(UrlGroup.created_at, UrlGroup.id)
        )
    )
    total = await ctx.db.scalar(select(func.count()).select_from(urls.scoped(principal).subquery())) or 0
    last_page = max(1, math.ceil(total / DOMAINS_PER_PAGE))
    hosts = list(
        await ctx.db.scalars(
            urls.scoped(principal)
            .order_by(Url.archived_at.is_not(None), Url.host, Url.id)
            .offset((page - 1) * DOMAINS_PER_PAGE)
            .limit(DOMAINS_PER_PAGE)
        )
    )
    # The address pages reach Versicolor at: VERSICOLOR_PUBLIC_URL when set (as the API's snippet), otherwise
    # the one this page was asked with (the user's own browser, never another's).
    public = (ctx.runtime.settings.public_url or "").rstrip("/")
    origin = public or f"{ctx.request.url.scheme}://{ctx.request.url.netloc}"
    settings = SiteSettings(site.code, site.anti_flicker_timeout, site.consent_required)
    here = f"/app/sites/{site.id}" + (f"?{urlencode({'domains': page})}" if page > 1 else "")
    return ctx.render(
        "site.html",
        nav="sites",
        site=site,
        origin=origin,
        snippet=snippet(origin, settings),
        goals=site_goals,
        segments=site_segments,
        running=running or 0,
        environments=environments,
        environment_names={group.id: group.name for group in environments},
        default_environment=next((g for g in environments if g.default_for_account_id is not None), None),
        hosts=hosts,
        total_hosts=total,
        page=page,
        last_page=last_page,
        here=here,
        enabled_choices=list(Enabled),
    )
