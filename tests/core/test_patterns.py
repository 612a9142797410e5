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


@pytest.mark.parametrize(
    ("source", "tree"),
    [
        ("abc", ["seq", 97, 98, 99]),
        ("a", 97),
        (".", ["not", 10, 10]),
        ("[^a-c\\d_]", ["not", 97, 99, 48, 57, 95, 95]),
        ("\\W", ["not", 48, 57, 65, 90, 95, 95, 97, 122]),
        ("\\s", ["set", 9, 10, 12, 13, 32, 32]),
        ("\\Ab\\z", ["seq", "^", 98, "$"]),
        ("\\bx\\B", ["seq", "b", 120, "B"]),
        ("\\x41\\t\\.", ["seq", 65, 9, 46]),
        ("(?:a|)b*?", ["seq", ["alt", 97, ["seq"]], ["rep", 0, None, 98]]),
        ("(?P<n>a){2,5}", ["rep", 2, 5, 97]),
        ("a{000001}", ["rep", 1, 1, 97]),
        ("😀", 0x1F600),
    ],
)
def test_the_page_gets_the_pattern_as_the_server_parsed_it(source: str, tree: object) -> None:
    assert patterns.parsed(source) == {"ignoreCase": False, "tree": tree}


def test_a_leading_flag_is_told_apart_from_the_tree() -> None:
    assert patterns.parsed("(?i)a") == {"ignoreCase": True, "tree": 97}


@pytest.mark.parametrize(
    ("source", "counted"),
    [("abc", 3), ("(abc){1000}", 3000), ("a|b|c", 7), ("a*", 3), ("a+", 4), ("a{1,3}", 5), ("x(ab)?", 4)],
)
def test_steps_count_the_program_as_docs_patterns_md_says(source: str, counted: int) -> None:
    assert patterns.steps(patterns.parsed(source)["tree"]) == counted


def test_a_pattern_the_page_cannot_hold_has_no_parsed_form() -> None:
    with pytest.raises(patterns.PatternError, match="20000"):
        patterns.parsed("(a{1000}){100}")
