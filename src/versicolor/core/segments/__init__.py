"""Segments: named sets of a site's visitors, described by a conditions tree that the evaluator tests."""

from versicolor.core.segments.evaluator import PageOnly, evaluate, matches
from versicolor.core.segments.service import (
    DEFAULTS,
    SegmentFields,
    SegmentType,
    SegmentUsers,
    conditions_of,
    create,
    custom_datum_conditions_suit,
    delete,
    describe,
    get,
    replace,
    scoped,
    update,
    update_condition,
    users_of,
    using_custom_datum,
)
from versicolor.core.segments.visitor import VisitorAttributes

__all__ = [
    "DEFAULTS",
    "PageOnly",
    "SegmentFields",
    "SegmentType",
    "SegmentUsers",
    "VisitorAttributes",
    "conditions_of",
    "create",
    "custom_datum_conditions_suit",
    "delete",
    "describe",
    "evaluate",
    "get",
    "matches",
    "replace",
    "scoped",
    "update",
    "update_condition",
    "users_of",
    "using_custom_datum",
]
