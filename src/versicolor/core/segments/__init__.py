"""Segments: named sets of a site's visitors, described by a conditions tree that the evaluator tests."""

from versicolor.core.segments.evaluator import VisitorAttributes, matches
from versicolor.core.segments.service import (
    DEFAULTS,
    SegmentFields,
    SegmentType,
    create,
    custom_datum_conditions_suit,
    delete,
    describe,
    get,
    replace,
    scoped,
    update,
    using_custom_datum,
)

__all__ = [
    "DEFAULTS",
    "SegmentFields",
    "SegmentType",
    "VisitorAttributes",
    "create",
    "custom_datum_conditions_suit",
    "delete",
    "describe",
    "get",
    "matches",
    "replace",
    "scoped",
    "update",
    "using_custom_datum",
]
