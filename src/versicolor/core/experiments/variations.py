"""Variations: alternative versions of a page, each attached to (at most) one experiment of its site."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from versicolor.core import keys, references, resources, sites, web_urls
from versicolor.core.errors import Conflict, Invalid
from versicolor.core.experiments import code, experiments, lifecycle
from versicolor.core.roles import Principal
from versicolor.db.models import Experiment, Variation
from versicolor.db.types import utcnow


class RedirectionType(StrEnum):
    """How a redirection variation sends the visitor elsewhere."""

    GLOBAL_REDIRECTION = "GLOBAL_REDIRECTION"  # to another URL
    PARAMETER_REDIRECTION = "PARAMETER_REDIRECTION"  # to the same URL with extra query parameters


@dataclass(frozen=True)
class VariationFields:
    """Values for a variation's writable fields; an update applies only the ones it is told were given.

    `redirection` is the wire object `{"type", "url", "parameters", "includeQueryParameters"}`.
    """

    name: str = ""
    experiment_id: int | None = None
    js_code: str | None = None
    css_code: str | None = None
    color: int | None = None
    redirection: Mapping[str, Any] | None = None
    key: str | None = None


FIELD_NAMES: frozenset[str] = frozenset(f.name for f in fields(VariationFields))
# A PUT that leaves these out keeps them: the experiment (leaving it would orphan the variation) and the key
# (clients that gave one find the variation by it).
_KEPT_BY_PUT_UNLESS_GIVEN = frozenset({"experiment_id", "key"})


def scoped(principal: Principal) -> Select[Variation]:
    """Every variation of the caller's account, as a query to refine."""
    return select(Variation).where(Variation.account_id == principal.account_id)


async def get(*, session: AsyncSession, principal: Principal, variation_id: int) -> Variation:
    """A variation of the caller's account."""
    return await resources.one(
        session, scoped(principal).where(Variation.id == variation_id), kind="variation", object_id=variation_id
    )


async def create(
    *, session: AsyncSession, principal: Principal, site_id: int | None, values: VariationFields
) -> Variation:
    """Create a variation on a site; given an experiment it joins it (and the site may be left out)."""
    experiment = None
    if values.experiment_id is not None:
        experiment = await experiments.get(
            session=session, principal=principal, experiment_id=values.experiment_id, for_update=True
        )
    if site_id is None:
        if experiment is None:
            raise Invalid.field("siteId", "is required (or give experimentId, whose site the variation then joins)")
        site_id = experiment.site_id
    site = await sites.get(session=session, principal=principal, site_id=site_id)
    if experiment is not None and experiment.site_id != site.id:
        raise Invalid.field(
            "experimentId", f"experiment {experiment.id} belongs to site {experiment.site_id}, not to site {site.id}"
        )
    now = utcnow()
    variation = Variation(account_id=principal.account_id, site_id=site.id, date_created=now, date_modified=now)
    _apply_own_fields(variation, values, given=FIELD_NAMES - {"experiment_id", "key"})
    variation.key = keys.check(values.key)
    if experiment is not None:
        await _require_key_free(session, variation, experiment)
    session.add(variation)
    await session.flush()
    if experiment is not None:
        await _join(session, variation, experiment, now=now)
    return variation


async def update(
    *,
    session: AsyncSession,
    principal: Principal,
    variation_id: int,
    values: VariationFields,
    given: Collection[str],
    site_id: int | None = None,
) -> Variation:
    """Change the named fields (`given`); `experimentId` moves the variation in or out of an experiment.

    `site_id` is the read-only value a client may echo back from a GET: it must match.
    """
    unknown = set(given) - FIELD_NAMES
    if unknown:
        raise ValueError(f"not variation fields: {sorted(unknown)}")
    variation = await get(session=session, principal=principal, variation_id=variation_id)
    if site_id is not None and site_id != variation.site_id:
        raise Invalid.field(
            "siteId", f"a variation cannot move to another site (it belongs to site {variation.site_id})"
        )
    now = utcnow()
    _apply_own_fields(variation, values, given=frozenset(given) - {"key"})
    variation.date_modified = now
    await session.flush()
    moving = "experiment_id" in given and values.experiment_id != variation.experiment_id
    if moving:
        await _leave(session, principal, variation, now=now)
    if "key" in given:
        key = keys.check(values.key)
        if key != variation.key and variation.experiment_id is not None:
            current = await experiments.get(
                session=session, principal=principal, experiment_id=variation.experiment_id, for_update=True
            )
            await _require_key_free(session, variation, current, key=key)
        variation.key = key
        await session.flush()
    if moving and values.experiment_id is not None:
        target = await experiments.get(
            session=session, principal=principal, experiment_id=values.experiment_id, for_update=True
        )
        references.require_same_site(
            experiments.KIND, target, field="experimentId", what=f"variation {variation.id}", site_id=variation.site_id
        )
        await _require_key_free(session, variation, target)
        await _join(session, variation, target, now=now)
    return variation


async def replace(
    *,
    session: AsyncSession,
    principal: Principal,
    variation_id: int,
    values: VariationFields,
    given: Collection[str],
    site_id: int | None = None,
) -> Variation:
    """Replace every writable field: those not in `given` return to their defaults.

    The experiment it belongs to changes only when `experiment_id` is given, as a PUT that left it out
    would otherwise pull the variation out of its experiment.
    """
    applied = (FIELD_NAMES - _KEPT_BY_PUT_UNLESS_GIVEN) | (frozenset(given) & _KEPT_BY_PUT_UNLESS_GIVEN)
    return await update(
        session=session, principal=principal, variation_id=variation_id, values=values, given=applied, site_id=site_id
    )


async def delete(*, session: AsyncSession, principal: Principal, variation_id: int) -> None:
    """Delete a variation; one of an experiment that is no longer a DRAFT cannot be deleted."""
    variation = await get(session=session, principal=principal, variation_id=variation_id)
    now = utcnow()
    await _leave(session, principal, variation, now=now)
    await session.delete(variation)
    await session.flush()


async def _require_key_free(
    session: AsyncSession, variation: Variation, experiment: Experiment, *, key: str | None = None
) -> None:
    """Refuse (409) a key another variation of `experiment` holds; the experiment is locked, so two joins take turns."""
    wanted = key if key is not None else variation.key
    if wanted is None:
        return
    holder = await session.scalar(
        select(Variation).where(Variation.experiment_id == experiment.id, Variation.key == wanted)
    )
    if holder is not None and holder is not variation:
        raise Conflict(
            f"experiment {experiment.id} already has a variation with key {wanted!r}: "
            f"variation {holder.id} {holder.name!r}"
        )


async def _join(session: AsyncSession, variation: Variation, experiment: Experiment, *, now: datetime) -> None:
    variation.experiment_id = experiment.id
    await session.flush()
    await experiments.settle_deviations(session=session, experiment=experiment, now=now)


async def _leave(session: AsyncSession, principal: Principal, variation: Variation, *, now: datetime) -> None:
    if variation.experiment_id is None:
        return
    experiment = await experiments.get(
        session=session, principal=principal, experiment_id=variation.experiment_id, for_update=True
    )
    lifecycle.require_variations_removable(experiment, variation.id)
    variation.experiment_id = None
    await session.flush()
    await experiments.settle_deviations(session=session, experiment=experiment, now=now)


def _apply_own_fields(variation: Variation, values: VariationFields, *, given: frozenset[str]) -> None:
    if "name" in given:
        variation.name = resources.name(values.name)
    if "js_code" in given:
        variation.js_code = code.check("jsCode", values.js_code)
    if "css_code" in given:
        variation.css_code = code.check("cssCode", values.css_code)
    if "color" in given:
        variation.color = values.color
    if "redirection" in given:
        variation.redirection = _check_redirection(values.redirection)


def _check_redirection(redirection: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if redirection is None:
        return None
    kind = redirection.get("type")
    allowed = ", ".join(RedirectionType)
    if kind not in set(RedirectionType):
        raise Invalid.field("redirection.type", f"must be one of {allowed}, got {kind!r}")
    if kind == RedirectionType.GLOBAL_REDIRECTION and not redirection.get("url"):
        raise Invalid.field("redirection.url", "a GLOBAL_REDIRECTION needs the url to send visitors to")
    if kind == RedirectionType.PARAMETER_REDIRECTION and not redirection.get("parameters"):
        raise Invalid.field(
            "redirection.parameters", "a PARAMETER_REDIRECTION needs the parameters to add, e.g. param1=foo&param2=bar"
        )
    kept = {key: value for key, value in redirection.items() if value is not None}
    if "url" in kept:
        kept["url"] = web_urls.checked("redirection.url", kept["url"])
    return kept
