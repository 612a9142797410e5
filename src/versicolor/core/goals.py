"""Goals: what counts as a conversion on a site, with settings (`params`) checked per goal type."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Any, TypedDict

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from versicolor.core import keys, resources, sites
from versicolor.core.errors import Invalid
from versicolor.core.roles import Principal
from versicolor.core.segments.matching import TextMatch, allowed
from versicolor.db.models import Goal

MAX_PAGE_VIEWS = 1000
MAX_TIME_SECONDS = 86_400
MAX_CSS_SELECTOR = 1000


class GoalType(StrEnum):
    """What a visitor does to convert."""

    CLICK = "CLICK"
    URL = "URL"
    PAGE_VIEWS = "PAGE_VIEWS"
    CUSTOM = "CUSTOM"
    SCROLL = "SCROLL"
    TIME_SPENT = "TIME_SPENT"


class GoalStatus(StrEnum):
    """Whether a goal records conversions."""

    ACTIVE = "ACTIVE"
    INACTIVE = "INACTIVE"


class GoalFields(TypedDict, total=False):
    """A goal's changeable fields, snake_case; values are checked by this module, so they may be raw input."""

    name: Any
    type: Any
    params: Any
    has_multiple_conversions: Any
    status: Any
    description: Any
    tags: Any
    key: Any


# What create and PUT give a field the body leaves out. Name and type are required: None makes their
# checks report them missing. The key is not among them: a PUT that leaves it out keeps it.
DEFAULTS: GoalFields = {
    "name": None,
    "type": None,
    "params": None,
    "has_multiple_conversions": False,
    "status": GoalStatus.ACTIVE,
    "description": None,
    "tags": [],
}


def _integer(params: Mapping[str, Any], key: str, low: int, high: int, goal_type: GoalType) -> int:
    value = params.get(key)
    if value is None:
        raise Invalid.field(f"params.{key}", f"is required for a {goal_type} goal: an integer from {low} to {high}")
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise Invalid.field(f"params.{key}", f"must be an integer from {low} to {high}, not {value!r}")
    return value


def _url_params(params: Mapping[str, Any]) -> dict[str, Any]:
    match = TextMatch.of(
        params.get("matchType"),
        params.get("matchString"),
        type_field="params.matchType",
        pattern_field="params.matchString",
    )
    return {"matchString": match.pattern, "matchType": match.match_type.value}


def _click_params(params: Mapping[str, Any]) -> dict[str, Any]:
    selector = params.get("cssSelector")
    if selector is None:
        return {}
    if not isinstance(selector, str) or not selector.strip() or len(selector) > MAX_CSS_SELECTOR:
        raise Invalid.field("params.cssSelector", f"must be a CSS selector of 1 to {MAX_CSS_SELECTOR} characters")
    return {"cssSelector": selector}


# Per type: the params it takes and how to check them. CUSTOM goals take none: the page or the Data API
# reports their conversions by goal id. CLICK goals may name the elements whose clicks convert.
_PARAMS: Mapping[GoalType, tuple[frozenset[str], Callable[[Mapping[str, Any]], dict[str, Any]]]] = {
    GoalType.CLICK: (frozenset({"cssSelector"}), _click_params),
    GoalType.URL: (frozenset({"matchString", "matchType"}), _url_params),
    GoalType.PAGE_VIEWS: (
        frozenset({"pageViews"}),
        lambda p: {"pageViews": _integer(p, "pageViews", 1, MAX_PAGE_VIEWS, GoalType.PAGE_VIEWS)},
    ),
    GoalType.CUSTOM: (frozenset(), lambda p: {}),
    GoalType.SCROLL: (
        frozenset({"scrollValue"}),
        lambda p: {"scrollValue": _integer(p, "scrollValue", 0, 100, GoalType.SCROLL)},
    ),
    GoalType.TIME_SPENT: (
        frozenset({"timeSeconds"}),
        lambda p: {"timeSeconds": _integer(p, "timeSeconds", 1, MAX_TIME_SECONDS, GoalType.TIME_SPENT)},
    ),
}


def goal_type(value: object) -> GoalType:
    """The goal type `value` names; raises Invalid listing the allowed ones."""
    if value is None:
        raise Invalid.field("type", f"is required: {allowed(GoalType)}")
    if not isinstance(value, str) or value not in GoalType.__members__:
        raise Invalid.field("type", f"must be {allowed(GoalType)}, not {value!r}")
    return GoalType(value)


def check_params(kind: GoalType, params: object) -> dict[str, Any]:
    """The params of a goal of type `kind`, as stored; raises Invalid naming the param at fault."""
    if params is None:
        params = {}
    if not isinstance(params, Mapping):
        raise Invalid.field("params", "must be an object")
    known, check = _PARAMS[kind]
    for key in params:
        if key not in known:
            takes = f"takes only {', '.join(sorted(known))}" if known else "takes no params"
            raise Invalid.field(f"params.{key}", f"is not a param of a {kind} goal (a {kind} goal {takes})")
    return check(params)


def _status(value: object) -> str:
    if not isinstance(value, str) or value not in GoalStatus.__members__:
        raise Invalid.field("status", f"must be {allowed(GoalStatus)}, not {value!r}")
    return value


def _flag(value: object, field: str) -> bool:
    if not isinstance(value, bool):
        raise Invalid.field(field, f"must be true or false, not {value!r}")
    return value


def _apply(goal: Goal, fields: GoalFields) -> None:
    """Set the given fields on `goal`, then check that its type and params agree."""
    if "name" in fields:
        goal.name = resources.name(fields["name"])
    if "type" in fields:
        goal.type = goal_type(fields["type"]).value
    if "status" in fields:
        goal.status = _status(fields["status"])
    if "has_multiple_conversions" in fields:
        goal.has_multiple_conversions = _flag(fields["has_multiple_conversions"], "hasMultipleConversions")
    if "description" in fields:
        goal.description = resources.description(fields["description"])
    if "tags" in fields:
        goal.tags = resources.tags(fields["tags"])
    # Changing the type alone re-checks the params the goal already has against the new type.
    params = fields.get("params", goal.params)
    goal.params = check_params(GoalType(goal.type), params)


async def _set_key(session: AsyncSession, goal: Goal, fields: GoalFields) -> None:
    if "key" in fields:
        await keys.assign(
            session=session,
            row=goal,
            key=fields["key"],
            holders=lambda key: select(Goal).where(Goal.site_id == goal.site_id, Goal.key == key),
            scope=f"site {goal.site_id}",
        )


def scoped(principal: Principal) -> Select[Goal]:
    """Every goal of the caller's account, as a query to refine."""
    return select(Goal).where(Goal.account_id == principal.account_id)


async def create(*, session: AsyncSession, principal: Principal, site_id: int, fields: GoalFields) -> Goal:
    """Create a goal on a site of the caller's account."""
    site = await sites.get(session=session, principal=principal, site_id=site_id)
    goal = Goal(account_id=principal.account_id, site_id=site.id, params={})
    _apply(goal, {**DEFAULTS, **fields})
    session.add(goal)
    await session.flush()
    await _set_key(session, goal, fields)
    return goal


async def get(*, session: AsyncSession, principal: Principal, goal_id: int) -> Goal:
    """A goal of the caller's account."""
    return await resources.one(session, scoped(principal).where(Goal.id == goal_id), kind="goal", object_id=goal_id)


async def update(
    *, session: AsyncSession, principal: Principal, goal_id: int, changes: GoalFields, site_id: int | None = None
) -> Goal:
    """Change the named fields of a goal (PATCH: what is named is replaced, arrays whole)."""
    goal = await get(session=session, principal=principal, goal_id=goal_id)
    resources.check_site_unchanged(site_id, goal.site_id, "goal")
    _apply(goal, changes)
    await session.flush()
    await _set_key(session, goal, changes)
    return goal


async def delete(*, session: AsyncSession, principal: Principal, goal_id: int) -> None:
    """Delete a goal; experiments that measured it stop measuring it (and lose it as their main goal)."""
    goal = await get(session=session, principal=principal, goal_id=goal_id)
    await session.delete(goal)
    await session.flush()
