"""Matching a text against a pattern the way goals and targeting conditions describe it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from versicolor.core.errors import Invalid

MAX_PATTERN_LENGTH = 2048


class MatchType(StrEnum):
    """How a pattern is compared with a text (a URL, a custom datum)."""

    CONTAINS = "CONTAINS"
    CORRESPONDS_EXACTLY = "CORRESPONDS_EXACTLY"
    REGULAR_EXPRESSION = "REGULAR_EXPRESSION"


def allowed(values: type[StrEnum] | tuple[str, ...]) -> str:
    """The allowed values of an enumeration, for a message: `A, B or C`."""
    names = [str(v) for v in values]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


@dataclass(frozen=True)
class TextMatch:
    """A checked pattern, ready to test texts; build it with `TextMatch.of`."""

    match_type: MatchType
    pattern: str
    # Compiled once: a segment is evaluated for many visitors.
    regex: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def of(cls, match_type: object, pattern: object, *, type_field: str, pattern_field: str) -> TextMatch:
        """A TextMatch; raises Invalid naming the field at fault (unknown match type, empty pattern, bad regex)."""
        if match_type is None:
            raise Invalid.field(type_field, f"is required: {allowed(MatchType)}")
        if not isinstance(match_type, str) or match_type not in MatchType.__members__:
            raise Invalid.field(type_field, f"must be {allowed(MatchType)}, not {match_type!r}")
        kind = MatchType(match_type)
        if pattern is None:
            raise Invalid.field(pattern_field, "is required")
        if not isinstance(pattern, str):
            raise Invalid.field(pattern_field, f"must be a string, not {pattern!r}")
        if not pattern:
            raise Invalid.field(pattern_field, "must not be empty")
        if len(pattern) > MAX_PATTERN_LENGTH:
            raise Invalid.field(pattern_field, f"must be at most {MAX_PATTERN_LENGTH} characters")
        regex = None
        if kind is MatchType.REGULAR_EXPRESSION:
            try:
                regex = re.compile(pattern)
            except re.error as exc:
                raise Invalid.field(pattern_field, f"is not a valid regular expression: {exc}") from exc
        return cls(kind, pattern, regex)

    def test(self, text: str) -> bool:
        """Whether `text` matches: a substring, the whole text, or a regular expression found anywhere in it."""
        if self.match_type is MatchType.CONTAINS:
            return self.pattern in text
        if self.match_type is MatchType.CORRESPONDS_EXACTLY:
            return text == self.pattern
        assert self.regex is not None
        return self.regex.search(text) is not None
