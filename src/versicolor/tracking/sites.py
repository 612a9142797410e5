"""The site a Data API request names by its public code."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from versicolor.core.errors import NotFound
from versicolor.db.models import Site

# Site codes are 10 lowercase letters and digits (core.sites); a little room for codes made elsewhere.
_LONGEST_CODE = 64


@dataclass(frozen=True)
class SiteRef:
    """A site, as much of it as tracking needs."""

    id: int
    account_id: int
    code: str


def not_found(code: str) -> NotFound:
    """The one answer for a code that is unknown, or another account's."""
    return NotFound(f"site with code {code!r} not found")


async def by_code(*, session: AsyncSession, code: str) -> SiteRef:
    """The site with this code, whoever owns it: codes are public, they are written into every page."""
    if not (0 < len(code) <= _LONGEST_CODE and code.isascii() and code.isalnum()):
        raise not_found(code)  # no site has such a code; and the database need not see what a client made up
    row = (await session.execute(select(Site.id, Site.account_id).where(Site.code == code))).first()
    if row is None:
        raise not_found(code)
    return SiteRef(id=row.id, account_id=row.account_id, code=code)
