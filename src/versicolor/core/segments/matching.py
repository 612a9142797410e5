"""Matching a text against a pattern the way goals and targeting conditions describe it."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from versicolor.core import patterns
from versicolor.core.errors import Detail, Invalid

MAX_PATTERN_LENGTH = patterns.MAX_LENGTH


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
    # Compiled once (RE2, linear time: core/patterns.py): a segment is evaluated for many visitors.
    regex: patterns.Pattern | None = field(default=None, compare=False, repr=False)

    @classmethod
    def of(cls, match_type: object, pattern: object, *, type_field: str, pattern_field: str) -> TextMatch:
        """A TextMatch; raises Invalid naming every field at fault (unknown match type, empty pattern, bad regex)."""
        problems: list[Detail] = []
        kind: MatchType | None = None
        if match_type is None:
            problems.append(Detail(type_field, f"is required: {allowed(MatchType)}"))
        elif not isinstance(match_type, str) or match_type not in MatchType.__members__:
            problems.append(Detail(type_field, f"must be {allowed(MatchType)}, not {match_type!r}"))
        else:
            kind = MatchType(match_type)
        problem = _pattern_problem(pattern, kind)
        if problem:
            problems.append(Detail(pattern_field, problem))
        if problems or kind is None or not isinstance(pattern, str):
            raise Invalid("; ".join(f"{d.field}: {d.message}" for d in problems), details=problems)
        regex = patterns.compile_pattern(pattern) if kind is MatchType.REGULAR_EXPRESSION else None
        return cls(kind, pattern, regex)

    def test(self, text: str) -> bool:
        """Whether `text` matches: a substring, the whole text, or a regular expression found anywhere in it."""
        if self.match_type is MatchType.CONTAINS:
            return self.pattern in text
        if self.match_type is MatchType.CORRESPONDS_EXACTLY:
            return text == self.pattern
        assert self.regex is not None
        return self.regex.search(text)


def _pattern_problem(pattern: object, kind: MatchType | None) -> str | None:
    if pattern is None:
        return "is required"
    if not isinstance(pattern, str):
        return f"must be a string, not {pattern!r}"
    if not pattern:
        return "must not be empty"
    if len(pattern) > MAX_PATTERN_LENGTH:
        return f"must be at most {MAX_PATTERN_LENGTH} characters"
    if kind is MatchType.REGULAR_EXPRESSION:
        problem = patterns.problem(pattern)
        if problem:
            return f"is not an accepted regular expression (docs/patterns.md): {problem}"
    return None
