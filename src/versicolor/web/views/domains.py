"""An ADMIN's controls over Domains (enable, disable, archive a host) and Environments (archive one, with or
without its Domains): the same core functions the Edit API v3 calls."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from versicolor.core.domains import url_groups, urls
from versicolor.core.domains.url_groups import UrlGroupChanges
from versicolor.core.domains.urls import UrlChanges
from versicolor.core.domains.values import UNSET, now
from versicolor.core.errors import Invalid
from versicolor.core.roles import Permission
from versicolor.web import pages, sessions


def _sites(_request: Request) -> str:
    return "/app/sites"


def _archive(form: dict[str, str]) -> bool | None:
    value = form.get("archive")
    if value is None:
        return None
    if value not in ("yes", "no"):
        raise Invalid.field("archive", "is yes or no")
    return value == "yes"


@pages.action(Permission.ADMIN, back=_sites)
async def change_domain(ctx: pages.Context) -> Response:
    """Enable, disable or archive one Domain."""
    archive = _archive(ctx.form)
    enabled = ctx.form.get("enabled")
    if enabled is None and archive is None:
        raise Invalid.field("enabled", "say what to change: enabled (off, on, subdomain) or archive (yes, no)")
    changes = UrlChanges(
        enabled=UNSET if enabled is None else enabled,
        archived_at=UNSET if archive is None else (now() if archive else None),
    )
    await urls.update(
        session=ctx.db, principal=ctx.me.principal, url_id=ctx.request.path_params["url_id"], changes=changes
    )
    return pages.see_other(sessions.safe_next(ctx.form.get("next")))


@pages.action(Permission.ADMIN, back=_sites)
async def change_environment(ctx: pages.Context) -> Response:
    """Archive an Environment (and its Domains, if asked), or bring it back."""
    archive = _archive(ctx.form)
    if archive is None:
        raise Invalid.field("archive", "say yes or no")
    changes = UrlGroupChanges(
        archived_at=now() if archive else None,
        urls_action_on_archive=ctx.form.get("urls", "ignore") if archive else UNSET,
    )
    await url_groups.update(
        session=ctx.db,
        principal=ctx.me.principal,
        url_group_id=ctx.request.path_params["url_group_id"],
        changes=changes,
    )
    return pages.see_other(sessions.safe_next(ctx.form.get("next")))
