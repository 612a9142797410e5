"""User regular expressions: the accepted syntax (docs/patterns.md), its shared vectors, and linear time."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from versicolor.core import patterns

VECTORS: dict[str, Any] = json.loads((Path(__file__).parents[1] / "vectors" / "regex.json").read_text())


def test_every_shared_vector_gives_its_answer() -> None:
    assert len(VECTORS["cases"]) > 1000
    wrong = [
        (case["pattern"], case["text"])
        for case in VECTORS["cases"]
        if patterns.compile_pattern(case["pattern"]).search(case["text"]) is not case["expected"]
    ]
    assert wrong == []


@pytest.mark.parametrize("source", VECTORS["refused"], ids=lambda s: repr(s[:30]))
def test_syntax_outside_the_documented_subset_is_refused(source: str) -> None:
    assert patterns.problem(source) is not None
    with pytest.raises(patterns.PatternError):
        patterns.compile_pattern(source)


@pytest.mark.parametrize(
    ("source", "words"),
    [
        ("(?=a)", "no lookaround"),
        ("a**", "a repeat cannot be repeated"),
        ("a{1001}", "0 to 1000"),
        ("\\1", "\\1 is not accepted (at character 1)"),
        ("ab(c", "a ( is never closed (at character 3)"),
        ("a{", "write \\{ for the character"),
        ("(a{1000}){100}", "100001 steps, at most 20000"),
        ("[[:alpha:]]", "POSIX classes are not accepted"),
    ],
)
def test_a_refusal_says_where_and_what_to_write(source: str, words: str) -> None:
    assert words in (patterns.problem(source) or "")


def test_the_largest_program_the_engine_holds_is_accepted() -> None:
    assert patterns.problem("(ab){1000}") is None  # 3,001 steps
    assert patterns.problem("a{999}b{999}c{999}" * 6) is None
    assert patterns.problem("(" * 100 + "a" + ")" * 100) is None
    assert "nest at most 100" in (patterns.problem("(" * 101 + "a" + ")" * 101) or "")


def test_the_worst_case_of_a_backtracking_engine_is_answered_at_once() -> None:
    # Python's re takes about 0.9 s on 24 a's and doubles with each more (benchmarks/regex.py); here 100,000.
    pattern = patterns.compile_pattern("^(a+)+$")
    assert pattern.search("a" * 100_000 + "!") is False
    assert pattern.search("a" * 100_000) is True
