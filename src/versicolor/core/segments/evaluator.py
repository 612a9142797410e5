"""Whether a visitor belongs to a segment: a validated conditions tree tested against what is known of them.

A condition whose attribute is unknown for the visitor (no country resolved, no value for a custom datum)
does not hold; `include: false` turns that into a match, as "not in France" holds for an unknown country.

A JS_CODE condition runs in the page only. Here it is neither true nor false but unknown, and the logic is
three-valued (Kleene's): `unknown AND false` is false, `unknown OR true` is true, anything else with an
unknown in it is unknown. `evaluate` answers None when the unknown decides; the caller must then say it cannot
decide rather than guess.
"""

from __future__ import annotations

from collections.abc import Mapping

from versicolor.core.segments.tree import Conditions, Group, parse
from versicolor.core.segments.visitor import VisitorAttributes


class PageOnly(Exception):
    """The segment's answer depends on a condition only the page can evaluate (JS_CODE)."""


def evaluate(conditions: Conditions | Mapping[str, object], visitor: VisitorAttributes) -> bool | None:
    """Whether `visitor` belongs to the segment; None when a page-only condition decides it."""
    tree = conditions if isinstance(conditions, Conditions) else parse(conditions)
    # Both levels are ORs of AND-runs (AND binds tighter); each loop stops at the first answer. Plain loops:
    # this runs for every visitor, and any()/all() over generators made it 3x slower (benchmarks/segment_evaluator).
    unknown = False
    for run in tree.runs:
        run_unknown = False
        for group in run:
            holds = _group_holds(group, visitor)
            if holds is False:
                break
            if holds is None:
                run_unknown = True
        else:
            if not run_unknown:
                return True
            unknown = True
    return None if unknown else False


def matches(conditions: Conditions | Mapping[str, object], visitor: VisitorAttributes) -> bool:
    """Whether `visitor` belongs to the segment; raises PageOnly when only the page can tell."""
    verdict = evaluate(conditions, visitor)
    if verdict is None:
        raise PageOnly("the segment's answer depends on a JS_CODE condition, which only the page can evaluate")
    return verdict


def _group_holds(group: Group, visitor: VisitorAttributes) -> bool | None:
    unknown = False
    for run in group.runs:
        run_unknown = False
        for condition in run:
            holds = condition.holds(visitor)
            if holds is None:
                run_unknown = True
            elif holds != condition.include:
                break
        else:
            if not run_unknown:
                return True
            unknown = True
    return None if unknown else False
