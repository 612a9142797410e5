"""A site's page engine settings, read by its public code."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from versicolor.db.models import Site
from versicolor.engine.script import SiteSettings
from versicolor.tracking import sites
from versicolor.tracking.sites import SiteRef


async def settings_of(*, session: AsyncSession, code: str) -> tuple[SiteRef, SiteSettings]:
    """The site with this code and its engine settings; NotFound for no such site."""
    site = await sites.by_code(session=session, code=code)
    row = (
        await session.execute(select(Site.anti_flicker_timeout, Site.consent_required).where(Site.id == site.id))
    ).one()
    return site, SiteSettings(code=site.code, anti_flicker_timeout=row[0], consent_required=row[1])
