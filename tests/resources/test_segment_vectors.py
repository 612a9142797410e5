"""The shared segment vectors (tests/vectors/segments.json): the server's evaluator gives every case's answer.

The page engine runs the same file; a case's `serverExpected` (when present) is the server's answer where it
differs from the page's: null where only a page can decide (a JS_CODE condition decides).
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from versicolor.core.segments import VisitorAttributes, evaluate
from versicolor.core.segments.tree import parse
from versicolor.core.segments.vocabulary import TargetingType

VECTORS = json.loads((Path(__file__).parents[1] / "vectors" / "segments.json").read_text())
CASES: list[dict[str, Any]] = VECTORS["cases"]


def attributes(context: dict[str, Any]) -> VisitorAttributes:
    """The visitor a case's plain-JSON context describes."""
    return VisitorAttributes(
        page_url=context.get("pageUrl"),
        page_title=context.get("pageTitle"),
        landing_page_url=context.get("landingPageUrl"),
        previous_page_url=context.get("previousPageUrl"),
        referrer=context.get("referrer"),
        visited_pages=context.get("visitedPages"),
        device_type=context.get("deviceType"),
        browser=context.get("browser"),
        os=context.get("os"),
        country=context.get("country"),
        region=context.get("region"),
        city=context.get("city"),
        new_visitor=context.get("newVisitor"),
        custom_data={int(index): value for index, value in context.get("customData", {}).items()},
        cookies=context.get("cookies"),
        now=datetime.fromisoformat(context["now"]) if "now" in context else None,
        local_time=datetime.fromisoformat(context["localTime"]) if "localTime" in context else None,
    )


def test_the_file_describes_its_format_and_has_cases_of_every_targeting_type() -> None:
    assert "context" in VECTORS["format"] and len(CASES) > 50
    groups = [group for case in CASES for group in case["conditionsData"]["firstLevel"]]
    kinds = {condition["targetingType"] for group in groups for condition in group["conditions"]}
    assert kinds == {t.value for t in TargetingType}
    assert len({case["name"] for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_the_server_gives_each_cases_answer(case: dict[str, Any]) -> None:
    expected = case.get("serverExpected", case["expected"])
    assert evaluate(case["conditionsData"], attributes(case["context"])) is expected


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_each_tree_is_in_the_canonical_form_answers_carry(case: dict[str, Any]) -> None:
    # The page engine reads trees as page configurations serve them: the vectors use no other spelling.
    assert parse(case["conditionsData"]).canonical == case["conditionsData"]
