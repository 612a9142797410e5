"""A segment's conditions tree: groups of conditions joined by AND/OR, validated whole.

The tree is `{"firstLevel": [group, ...], "firstLevelOrOperators": [bool, ...]}`, a group is
`{"conditions": [condition, ...], "orOperators": [bool, ...]}`. Between two neighbours, `true` means OR and
`false` means AND; AND binds tighter than OR, as in ordinary boolean algebra.

`parse` validates a tree and also gives it back in canonical form (`Conditions.canonical`): Kameleoon's
spelling of every type, field and value (core.segments.reading), operators exactly one fewer than their
neighbours, `orOperators` on every group. That form is what is stored, answered and served to pages.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

from versicolor.core.errors import Detail, Invalid
from versicolor.core.segments import reading
from versicolor.core.segments.conditions import Condition, CustomDatum, JsCode
from versicolor.core.segments.matching import MatchType, TextMatch

# Bounds that keep one segment cheap to store and to evaluate for every page view.
MAX_GROUPS = 50
MAX_CONDITIONS_PER_GROUP = 50

_Term = TypeVar("_Term")


def and_runs(terms: Sequence[_Term], or_operators: Sequence[bool]) -> tuple[tuple[_Term, ...], ...]:
    """The terms split at each OR: AND binds tighter, so the whole holds when every term of some run does."""
    runs: list[list[_Term]] = [[]]
    for position, term in enumerate(terms):
        if position > 0 and or_operators[position - 1]:
            runs.append([])
        runs[-1].append(term)
    return tuple(tuple(run) for run in runs)


@dataclass(frozen=True)
class Group:
    """Conditions joined by AND/OR operators (`or_operators[i]` joins conditions i and i+1)."""

    conditions: tuple[Condition, ...]
    or_operators: tuple[bool, ...]
    # Worked out once, so that evaluating a visitor only walks them.
    runs: tuple[tuple[Condition, ...], ...] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "runs", and_runs(self.conditions, self.or_operators))


@dataclass(frozen=True)
class Conditions:
    """A whole, validated conditions tree, and its canonical form."""

    groups: tuple[Group, ...]
    or_operators: tuple[bool, ...]
    canonical: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    runs: tuple[tuple[Group, ...], ...] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "runs", and_runs(self.groups, self.or_operators))

    def custom_data_indexes(self) -> frozenset[int]:
        """The custom data indexes the tree refers to."""
        return frozenset(c.index for g in self.groups for c in g.conditions if isinstance(c, CustomDatum))

    def custom_datum_conditions(self) -> list[tuple[str, CustomDatum]]:
        """Every CUSTOM_DATUM condition with the path of its field in the tree."""
        return [
            (f"firstLevel[{g}].conditions[{c}]", condition)
            for g, group in enumerate(self.groups)
            for c, condition in enumerate(group.conditions)
            if isinstance(condition, CustomDatum)
        ]

    def regular_expressions(self) -> frozenset[str]:
        """The patterns of every REGULAR_EXPRESSION match in the tree."""
        return frozenset(
            match.pattern
            for group in self.groups
            for condition in group.conditions
            for match in (getattr(condition, f.name) for f in fields(condition))
            if isinstance(match, TextMatch) and match.match_type is MatchType.REGULAR_EXPRESSION
        )

    def page_only(self) -> bool:
        """Whether some condition can be evaluated in the page only (JS_CODE)."""
        return any(isinstance(c, JsCode) for g in self.groups for c in g.conditions)


class _Problems:
    """Collects every problem of a tree so that one answer names them all."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.details: list[Detail] = []

    def add(self, path: str, message: str) -> None:
        self.details.append(Detail(f"{self.root}.{path}" if path else self.root, message))

    def absorb(self, error: Invalid, path: str) -> None:
        for detail in error.details:
            self.add(f"{path}.{detail.field}", detail.message)


def parse(data: object, *, root: str = "conditionsData") -> Conditions:
    """The validated tree of `data`; raises Invalid naming every field at fault (paths start with `root`)."""
    problems = _Problems(root)
    conditions = _parse_tree(data, problems)
    if problems.details or conditions is None:
        message = "; ".join(f"{d.field}: {d.message}" for d in problems.details)
        raise Invalid(message, details=problems.details)
    return conditions


def condition_ids(canonical: Mapping[str, Any]) -> Iterator[int]:
    """The ids the conditions of a canonical tree carry."""
    for group in canonical["firstLevel"]:
        for condition in group["conditions"]:
            if "id" in condition:
                yield condition["id"]


def _parse_tree(data: object, problems: _Problems) -> Conditions | None:
    if not isinstance(data, Mapping):
        problems.add("", "must be an object with firstLevel and firstLevelOrOperators")
        return None
    _refuse_unknown(data, {"firstLevel", "firstLevelOrOperators"}, "", problems)
    raw_groups = data.get("firstLevel")
    if not isinstance(raw_groups, list) or not raw_groups:
        problems.add("firstLevel", "must be a non-empty array of condition groups")
        return None
    if len(raw_groups) > MAX_GROUPS:
        problems.add("firstLevel", f"must hold at most {MAX_GROUPS} groups")
        return None
    parsed = [_parse_group(raw, f"firstLevel[{i}]", problems) for i, raw in enumerate(raw_groups)]
    operators = _parse_operators(
        data.get("firstLevelOrOperators"), len(raw_groups), "firstLevelOrOperators", "groups", problems
    )
    if problems.details:
        return None
    groups = [g for g, _ in (p for p in parsed if p is not None)]
    _check_unique_ids([c for p in parsed if p is not None for c in p[1]], problems)
    if problems.details:
        return None
    canonical = {
        "firstLevel": [
            {"conditions": conditions, "orOperators": list(group.or_operators)}
            for group, conditions in (p for p in parsed if p is not None)
        ],
        "firstLevelOrOperators": list(operators),
    }
    return Conditions(groups=tuple(groups), or_operators=operators, canonical=canonical)


def _check_unique_ids(conditions: list[dict[str, Any]], problems: _Problems) -> None:
    seen: set[int] = set()
    for condition in conditions:
        condition_id = condition.get("id")
        if condition_id is None:
            continue
        if condition_id in seen:
            problems.add("", f"condition id {condition_id} is given to two conditions; ids are unique in a segment")
        seen.add(condition_id)


def _parse_group(data: object, path: str, problems: _Problems) -> tuple[Group, list[dict[str, Any]]] | None:
    if not isinstance(data, Mapping):
        problems.add(path, "must be an object with conditions and orOperators")
        return None
    _refuse_unknown(data, {"conditions", "orOperators"}, path, problems)
    raw_conditions = data.get("conditions")
    if not isinstance(raw_conditions, list) or not raw_conditions:
        problems.add(f"{path}.conditions", "must be a non-empty array of conditions")
        return None
    if len(raw_conditions) > MAX_CONDITIONS_PER_GROUP:
        problems.add(f"{path}.conditions", f"must hold at most {MAX_CONDITIONS_PER_GROUP} conditions")
        return None
    conditions = [_parse_condition(raw, f"{path}.conditions[{i}]", problems) for i, raw in enumerate(raw_conditions)]
    operators = _parse_operators(
        data.get("orOperators"), len(raw_conditions), f"{path}.orOperators", "conditions", problems
    )
    parsed = [c for c in conditions if c is not None]
    if len(parsed) != len(conditions) or len(operators) != len(parsed) - 1:
        return None  # the problems are recorded; parse() raises them all
    return Group(tuple(c for c, _ in parsed), operators), [canonical for _, canonical in parsed]


def _parse_operators(data: object, count: int, path: str, what: str, problems: _Problems) -> tuple[bool, ...]:
    # Omitting the operators is fine where there is nothing to join. One operator per neighbour is also read
    # (Kameleoon's own clients send one after every group), the last one then joining nothing.
    if data is None and count == 1:
        return ()
    expected = f"must be an array of {count - 1} booleans (one between each two {what}; true = OR, false = AND)"
    if not isinstance(data, list) or len(data) not in (count - 1, count) or not all(isinstance(v, bool) for v in data):
        problems.add(path, expected)
        return ()
    return tuple(data[: count - 1])


def _refuse_unknown(data: Mapping[str, Any], known: set[str], path: str, problems: _Problems) -> None:
    for key in data:
        if key not in known:
            where = f"{path}.{key}" if path else str(key)
            problems.add(where, f"is not a known field here (known: {', '.join(sorted(known))})")


def _parse_condition(data: object, path: str, problems: _Problems) -> tuple[Condition, dict[str, Any]] | None:
    if not isinstance(data, Mapping):
        problems.add(path, "must be an object with targetingType, include and the type's fields")
        return None
    try:
        return reading.read(data)
    except Invalid as error:
        problems.absorb(error, path)
        return None
