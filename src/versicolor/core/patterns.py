"""Regular expressions users write (segment conditions, URL goals): the one syntax Versicolor accepts, checked when
a pattern is saved, and run in time linear in the text.

Python's `re` backtracks: `^(a+)+$` against 24 `a`s and a `!` took 0.9 s, and doubles with every `a`. Patterns
run here on RE2 (google-re2), an automaton that never backtracks. The page engine runs the same patterns in the
browser with a small automaton of its own (engine/js/regex.js), never with JavaScript's backtracking RegExp. So
the syntax is the part of RE2's that both can run alike, and nothing more: docs/patterns.md lists it, and
`check` accepts exactly that list (it parses the pattern itself, then RE2 compiles it). A pattern outside it is
refused when it is saved, with the position and what to write instead; it never reaches either matcher.

The size rule is the page engine's: a pattern, its repeats counted out, is a program of at most MAX_PROGRAM
instructions (`_Parser` counts them the way engine/js/regex.js emits them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import re2

MAX_LENGTH = 2048
MAX_REPEAT = 1000
MAX_NESTING = 100
MAX_PROGRAM = 20_000
CASE_INSENSITIVE = "(?i)"

_META = frozenset("\\.+*?()|[]{}^$")
_ESCAPED_CONTROLS = {"t": 9, "n": 10, "r": 13, "f": 12, "v": 11}
_CLASS_ESCAPES = frozenset("dws")
_ASSERTION_ESCAPES = frozenset("AzbB")
_NAME_START = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
_NAME_CHARS = _NAME_START | frozenset("0123456789")
_HEX = frozenset("0123456789abcdefABCDEF")
_DIGITS = frozenset("0123456789")

_OPTIONS = re2.Options()
_OPTIONS.max_mem = 64 << 20  # room for the largest program MAX_PROGRAM allows (RE2's default is 8 MiB)


class PatternError(ValueError):
    """A pattern outside the accepted syntax; the message names the position and the problem."""


@dataclass(frozen=True)
class Pattern:
    """A checked pattern, compiled once: `search` finds it anywhere in a text, in time linear in the text."""

    source: str
    _compiled: Any = field(compare=False, repr=False)

    def search(self, text: str) -> bool:
        """Whether the pattern matches somewhere in `text`."""
        return self._compiled.search(text) is not None


def problem(source: str) -> str | None:
    """What is wrong with `source` as a pattern, said for the person who wrote it, or None when it is accepted."""
    try:
        check(source)
    except PatternError as exc:
        return str(exc)
    return None


def check(source: str) -> None:
    """Raise PatternError unless `source` is within the accepted syntax and size."""
    if not source:
        raise PatternError("must not be empty")
    if len(source) > MAX_LENGTH:
        raise PatternError(f"must be at most {MAX_LENGTH} characters")
    _Parser(source).parse()


def compile_pattern(source: str) -> Pattern:
    """`source` checked and compiled; raises PatternError."""
    check(source)
    try:
        compiled = re2.compile(source, options=_OPTIONS)
    except re2.error as exc:  # within the syntax, RE2 should compile anything: say so rather than fail later
        raise PatternError(f"cannot be compiled ({exc})") from None
    return Pattern(source, compiled)


class _Parser:
    """A recursive descent over the accepted syntax, counting the program the page engine would emit."""

    def __init__(self, source: str) -> None:
        self.text = source
        self.at = len(CASE_INSENSITIVE) if source.startswith(CASE_INSENSITIVE) else 0
        self.depth = 0
        self.names: set[str] = set()

    def fail(self, what: str, at: int | None = None) -> PatternError:
        where = self.at if at is None else at
        return PatternError(f"{what} (at character {where + 1})")

    def peek(self, ahead: int = 0) -> str | None:
        index = self.at + ahead
        return self.text[index] if index < len(self.text) else None

    def parse(self) -> int:
        size = self.alternation() + 1  # the final "match" instruction
        if self.peek() is not None:
            raise self.fail("a ) has no (")
        if size > MAX_PROGRAM:
            raise PatternError(
                f"is too large: its repeats counted out make {size} steps, at most {MAX_PROGRAM}; "
                "repeat smaller parts or use * and + instead of large counts"
            )
        return size

    def alternation(self) -> int:
        sizes = [self.sequence()]
        while self.peek() == "|":
            self.at += 1
            sizes.append(self.sequence())
        return sum(sizes) + 2 * (len(sizes) - 1)  # a split and a jump for each option but the last

    def sequence(self) -> int:
        size = 0
        while self.peek() not in (None, "|", ")"):
            size += self.repeat()
        return size

    def repeat(self) -> int:
        start = self.at
        size, assertion = self.atom()
        bounds = self.quantifier()
        if bounds is None:
            return size
        if assertion:
            raise self.fail("an anchor or \\b cannot be repeated", start)
        if self.peek() == "?":
            self.at += 1  # lazy: the same answer, since a search only asks whether there is a match
        if self.peek() in ("*", "+", "?") or (self.peek() == "{" and self.counted_repeat_follows()):
            raise self.fail("a repeat cannot be repeated; put the first in a group: (a*)*")
        low, high = bounds
        if high is None:
            return low * size + size + 2
        return low * size + (high - low) * (size + 1)

    def quantifier(self) -> tuple[int, int | None] | None:
        char = self.peek()
        if char in ("*", "+", "?"):
            self.at += 1
            return {"*": (0, None), "+": (1, None), "?": (0, 1)}[char]
        if char != "{":
            return None
        if not self.counted_repeat_follows():
            raise self.fail("a { must start a repeat such as {2}, {2,} or {2,5}; write \\{ for the character")
        self.at += 1
        low = self.number()
        high: int | None = low
        if self.peek() == ",":
            self.at += 1
            high = self.number() if self.peek() != "}" else None
        self.at += 1  # the closing brace
        if low > MAX_REPEAT or (high is not None and (high > MAX_REPEAT or high < low)):
            raise self.fail(f"a repeat count must be 0 to {MAX_REPEAT}, the smaller first")
        return low, high

    def counted_repeat_follows(self) -> bool:
        index = self.at + 1
        digits = 0
        while index < len(self.text) and self.text[index] in _DIGITS:
            index, digits = index + 1, digits + 1
        if not digits:
            return False
        if index < len(self.text) and self.text[index] == ",":
            index += 1
            while index < len(self.text) and self.text[index] in _DIGITS:
                index += 1
        return index < len(self.text) and self.text[index] == "}"

    def number(self) -> int:
        start = self.at
        while self.peek() in _DIGITS:
            self.at += 1
        return int(self.text[start : self.at][:5])  # past 5 digits it is over MAX_REPEAT anyway

    def atom(self) -> tuple[int, bool]:
        """The size of the next atom, and whether it is an assertion (which takes no character)."""
        char = self.peek()
        if char == "(":
            return self.group(), False
        if char == "[":
            self.character_class()
            return 1, False
        if char == "\\":
            return self.escape()
        if char in ("^", "$"):
            self.at += 1
            return 1, True
        if char in ("*", "+", "?"):
            raise self.fail(f"nothing to repeat before {char}; write \\{char} for the character")
        if char == "{":
            raise self.fail("nothing to repeat before {; write \\{ for the character")
        if char in ("}", "]"):
            raise self.fail(f"write \\{char} for the character {char}")
        self.at += 1
        return 1, False

    def group(self) -> int:
        opened = self.at
        self.at += 1
        if self.peek() == "?":
            if self.text.startswith("?:", self.at):
                self.at += 2
            elif self.text.startswith("?P<", self.at) or self.text.startswith("?<", self.at):
                self.at += 3 if self.peek(1) == "P" else 2
                self.group_name()
            else:
                raise self.fail(
                    "only (...), (?:...), (?P<name>...) and (?<name>...) groups are accepted: no lookaround, no "
                    "back-references, no flags (a leading (?i) is the one flag)"
                )
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise self.fail(f"groups nest at most {MAX_NESTING} deep")
        size = self.alternation()
        self.depth -= 1
        if self.peek() != ")":
            raise self.fail("a ( is never closed", opened)
        self.at += 1
        return size

    def group_name(self) -> None:
        start = self.at
        while self.peek() in _NAME_CHARS:
            self.at += 1
        name = self.text[start : self.at]
        if not name or name[0] not in _NAME_START or self.peek() != ">":
            raise self.fail("a group name is letters, digits and _, not starting with a digit, then >", start)
        if name in self.names:
            raise self.fail(f"the group name {name} is used twice", start)
        self.names.add(name)
        self.at += 1

    def escape(self) -> tuple[int, bool]:
        """`\\` and what follows, outside a class."""
        letter = self.peek(1)
        if letter is not None and letter in _ASSERTION_ESCAPES:
            self.at += 2
            return 1, True
        self.escaped_character(in_class=False)
        return 1, False

    def escaped_character(self, *, in_class: bool) -> bool:
        """Consume `\\x`; whether it stands for one character (not a class such as \\d)."""
        start = self.at
        letter = self.peek(1)
        if letter is None:
            raise self.fail("a pattern cannot end with a lone \\")
        self.at += 2
        if letter in _CLASS_ESCAPES:
            return False
        if letter.lower() in _CLASS_ESCAPES:
            if in_class:
                raise self.fail(f"\\{letter} is not accepted inside [...]; use [^...]", start)
            return False
        if letter in _ESCAPED_CONTROLS:
            return True
        if letter == "x":
            digits = self.text[self.at : self.at + 2]
            if len(digits) != 2 or not set(digits) <= _HEX:
                raise self.fail("\\x needs two hexadecimal digits, as in \\x41", start)
            self.at += 2
            return True
        if letter.isascii() and not letter.isalnum() and letter.isprintable() and letter != " ":
            return True  # an escaped punctuation character stands for itself
        raise self.fail(f"\\{letter} is not accepted", start)

    def character_class(self) -> None:
        opened = self.at
        self.at += 1
        if self.peek() == "^":
            self.at += 1
        first = self.at
        while self.peek() != "]":
            char = self.peek()
            if char is None:
                raise self.fail("a [ is never closed", opened)
            low = self.class_character(first)
            if self.peek() == "-" and self.peek(1) not in ("]", None):
                dash = self.at
                self.at += 1
                high = self.class_character(first)
                if low is None or high is None:
                    raise self.fail("a range in [...] goes from one character to another", dash)
                if high < low:
                    raise self.fail("a range in [...] goes backwards", dash)
        if self.at == first:
            raise self.fail("a [...] needs at least one character; write \\] for the character ]", opened)
        self.at += 1

    def class_character(self, first: int) -> int | None:
        """Consume one item of a class; its code point, or None for a class such as \\d."""
        char = self.peek()
        assert char is not None
        if char == "\\":
            start = self.at
            single = self.escaped_character(in_class=True)
            if not single:
                return None
            return _escaped_code(self.text[start : self.at])
        if char == "[":
            raise self.fail("write \\[ for the character [ inside [...] (POSIX classes are not accepted)")
        if char == "-" and self.at != first and self.peek(1) != "]":
            raise self.fail("write \\- for the character - inside [...], unless it comes first or last")
        self.at += 1
        return ord(char)


def _escaped_code(escape: str) -> int:
    letter = escape[1]
    if letter in _ESCAPED_CONTROLS:
        return _ESCAPED_CONTROLS[letter]
    if letter == "x":
        return int(escape[2:4], 16)
    return ord(letter)
