"""Regular expressions users write (segment conditions, URL goals): the one syntax Versicolor accepts, checked when
a pattern is saved, and run in time linear in the text.

Python's `re` backtracks: `^(a+)+$` against 24 `a`s and a `!` took 0.9 s, and doubles with every `a`. Patterns
run here on RE2 (google-re2), an automaton that never backtracks. The page engine runs the same patterns in the
browser with a small automaton of its own (engine/js/regex.js), never with JavaScript's backtracking RegExp. So
the syntax is the part of RE2's that both can run alike, and nothing more: docs/patterns.md lists it, and
`check` accepts exactly that list (it parses the pattern itself, then RE2 compiles it). A pattern outside it is
refused when it is saved, with the position and what to write instead; it never reaches either matcher.

The page does not parse patterns: `parsed` gives the tree the server's own parser made (the page
configuration carries one for each pattern it holds), and the page turns it into a program for its automaton.
So one parser decides, for both matchers, what a pattern means. The size rule is the page's: a pattern, its
repeats counted out, is a program of at most MAX_PROGRAM instructions (`steps` counts them the way
engine/js/regex.js emits them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeAlias

import re2

MAX_LENGTH = 2048
MAX_REPEAT = 1000
MAX_NESTING = 100
MAX_PROGRAM = 20_000
CASE_INSENSITIVE = "(?i)"

_ESCAPED_CONTROLS = {"t": 9, "n": 10, "r": 13, "f": 12, "v": 11}
_DIGIT = (48, 57)
_WORD = (48, 57, 65, 90, 95, 95, 97, 122)
_SPACE = (9, 10, 12, 13, 32, 32)  # \t \n \f \r and the space: RE2's \s leaves out \v
_CLASS_ESCAPES = {"d": _DIGIT, "w": _WORD, "s": _SPACE}
# There is no multi-line mode: \A and \z are ^ and $.
_ASSERTION_ESCAPES = {"A": "^", "z": "$", "b": "b", "B": "B"}
_NAME_START = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
_NAME_CHARS = _NAME_START | frozenset("0123456789")
_HEX = frozenset("0123456789abcdefABCDEF")
_DIGITS = frozenset("0123456789")

_OPTIONS = re2.Options()
_OPTIONS.max_mem = 64 << 20  # room for the largest program MAX_PROGRAM allows (RE2's default is 8 MiB)


# A pattern's tree, as the page engine receives it (JSON):
#   a number        that character (a code point)
#   "^" "$" "b" "B" the start, the end of the text; a word boundary, not a word boundary
#   ["set", lo, hi, ...] / ["not", lo, hi, ...]    a character within one of the ranges / within none
#   ["seq", x, y, ...] x then y...;  ["alt", x, y, ...] x or y or...
#   ["rep", n, m, x]  n to m of x (m null: no upper bound)
Node: TypeAlias = int | str | list[Any]


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
    parsed(source)


def parsed(source: str) -> dict[str, Any]:
    """`source` checked and parsed into the form the page engine runs (JSON-ready); raises PatternError."""
    if not source:
        raise PatternError("must not be empty")
    if len(source) > MAX_LENGTH:
        raise PatternError(f"must be at most {MAX_LENGTH} characters")
    return {"ignoreCase": source.startswith(CASE_INSENSITIVE), "tree": _Parser(source).parse()}


def steps(tree: Node) -> int:
    """The instructions of the page engine's program for `tree`, without the final match."""
    if not isinstance(tree, list):
        return 1
    kind, *parts = tree
    if kind in ("set", "not"):
        return 1
    if kind == "seq":
        return sum(steps(part) for part in parts)
    if kind == "alt":
        return sum(steps(part) for part in parts) + 2 * (len(parts) - 1)  # a split and a jump per option but one
    low: int = parts[0]
    high: int | None = parts[1]
    size = steps(parts[2])
    if high is None:
        return low * size + size + 2  # n copies, then a split, one more copy and a jump back
    return low * size + (high - low) * (size + 1)  # n copies, then m - n optional ones, a split before each


def compile_pattern(source: str) -> Pattern:
    """`source` checked and compiled; raises PatternError."""
    check(source)
    try:
        compiled = re2.compile(source, options=_OPTIONS)
    except re2.error as exc:  # within the syntax, RE2 should compile anything: say so rather than fail later
        raise PatternError(f"cannot be compiled ({exc})") from None
    return Pattern(source, compiled)


class _Parser:
    """A recursive descent over the accepted syntax, building the tree the page engine runs (see `parsed`)."""

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

    def parse(self) -> Node:
        tree = self.alternation()
        if self.peek() is not None:
            raise self.fail("a ) has no (")
        size = steps(tree) + 1  # the final "match" instruction
        if size > MAX_PROGRAM:
            raise PatternError(
                f"is too large: its repeats counted out make {size} steps, at most {MAX_PROGRAM}; "
                "repeat smaller parts or use * and + instead of large counts"
            )
        return tree

    def alternation(self) -> Node:
        options = [self.sequence()]
        while self.peek() == "|":
            self.at += 1
            options.append(self.sequence())
        return options[0] if len(options) == 1 else ["alt", *options]

    def sequence(self) -> Node:
        items: list[Node] = []
        while self.peek() not in (None, "|", ")"):
            items.append(self.repeat())
        return items[0] if len(items) == 1 else ["seq", *items]

    def repeat(self) -> Node:
        start = self.at
        node = self.atom()
        bounds = self.quantifier()
        if bounds is None:
            return node
        if isinstance(node, str):
            raise self.fail("an anchor or \\b cannot be repeated", start)
        if self.peek() == "?":
            self.at += 1  # lazy: the same answer, since a search only asks whether there is a match
        if self.peek() in ("*", "+", "?") or (self.peek() == "{" and self.counted_repeat_follows()):
            raise self.fail("a repeat cannot be repeated; put the first in a group: (a*)*")
        low, high = bounds
        return ["rep", low, high, node]

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
        digits = self.text[start : self.at].lstrip("0")
        return int(digits or "0") if len(digits) <= 5 else MAX_REPEAT + 1  # past 5 digits: over MAX_REPEAT anyway

    def atom(self) -> Node:
        """The next atom: a character, a class, a group, or an assertion (a string, which takes no character)."""
        char = self.peek()
        if char == "(":
            return self.group()
        if char == "[":
            return self.character_class()
        if char == "\\":
            return self.escape()
        if char in ("^", "$"):
            self.at += 1
            return char
        if char == ".":
            self.at += 1
            return ["not", 10, 10]
        if char in ("*", "+", "?"):
            raise self.fail(f"nothing to repeat before {char}; write \\{char} for the character")
        if char == "{":
            raise self.fail("nothing to repeat before {; write \\{ for the character")
        if char in ("}", "]"):
            raise self.fail(f"write \\{char} for the character {char}")
        assert char is not None
        self.at += 1
        return ord(char)

    def group(self) -> Node:
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
        inner = self.alternation()
        self.depth -= 1
        if self.peek() != ")":
            raise self.fail("a ( is never closed", opened)
        self.at += 1
        return inner

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

    def escape(self) -> Node:
        """`\\` and what follows, outside a class."""
        letter = self.peek(1)
        if letter is not None and letter in _ASSERTION_ESCAPES:
            self.at += 2
            return _ASSERTION_ESCAPES[letter]
        return self.escaped_character(in_class=False)

    def escaped_character(self, *, in_class: bool) -> int | list[Any]:
        """Consume `\\x`: the code point it stands for, or the class it names (\\d, \\W...)."""
        start = self.at
        letter = self.peek(1)
        if letter is None:
            raise self.fail("a pattern cannot end with a lone \\")
        self.at += 2
        if letter in _CLASS_ESCAPES:
            return ["set", *_CLASS_ESCAPES[letter]]
        if letter.lower() in _CLASS_ESCAPES:
            if in_class:
                raise self.fail(f"\\{letter} is not accepted inside [...]; use [^...]", start)
            return ["not", *_CLASS_ESCAPES[letter.lower()]]
        if letter in _ESCAPED_CONTROLS:
            return _ESCAPED_CONTROLS[letter]
        if letter == "x":
            digits = self.text[self.at : self.at + 2]
            if len(digits) != 2 or not set(digits) <= _HEX:
                raise self.fail("\\x needs two hexadecimal digits, as in \\x41", start)
            self.at += 2
            return int(digits, 16)
        if letter.isascii() and not letter.isalnum() and letter.isprintable() and letter != " ":
            return ord(letter)  # an escaped punctuation character stands for itself
        raise self.fail(f"\\{letter} is not accepted", start)

    def character_class(self) -> Node:
        opened = self.at
        self.at += 1
        negated = self.peek() == "^"
        if negated:
            self.at += 1
        first = self.at
        ranges: list[int] = []
        while self.peek() != "]":
            char = self.peek()
            if char is None:
                raise self.fail("a [ is never closed", opened)
            low = self.class_character(first)
            if self.peek() == "-" and self.peek(1) not in ("]", None):
                dash = self.at
                self.at += 1
                high = self.class_character(first)
                if not isinstance(low, int) or not isinstance(high, int):
                    raise self.fail("a range in [...] goes from one character to another", dash)
                if high < low:
                    raise self.fail("a range in [...] goes backwards", dash)
                ranges += [low, high]
            elif isinstance(low, int):
                ranges += [low, low]
            else:
                ranges += low[1:]  # \\d, \\w or \\s: its ranges
        if self.at == first:
            raise self.fail("a [...] needs at least one character; write \\] for the character ]", opened)
        self.at += 1
        return ["not" if negated else "set", *ranges]

    def class_character(self, first: int) -> int | list[Any]:
        """Consume one item of a class: its code point, or the class it names (\\d)."""
        char = self.peek()
        assert char is not None
        if char == "\\":
            return self.escaped_character(in_class=True)
        if char == "[":
            raise self.fail("write \\[ for the character [ inside [...] (POSIX classes are not accepted)")
        if char == "-" and self.at != first and self.peek(1) != "]":
            raise self.fail("write \\- for the character - inside [...], unless it comes first or last")
        self.at += 1
        return ord(char)
