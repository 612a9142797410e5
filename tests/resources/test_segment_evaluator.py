"""The segment evaluator, table-driven: which visitors a conditions tree lets in (no database, no HTTP)."""

from __future__ import annotations

from typing import Any

import pytest

from versicolor.core.custom_data import DataFormat
from versicolor.core.errors import Invalid
from versicolor.core.segments import VisitorAttributes, matches
from versicolor.core.segments.conditions import MATCHES_BY_FORMAT
from versicolor.core.segments.tree import parse


def one(condition: dict[str, Any]) -> dict[str, Any]:
    return {"firstLevel": [{"conditions": [condition], "orOperators": []}], "firstLevelOrOperators": []}


def url(match_type: str, value: str, include: bool = True) -> dict[str, Any]:
    return {"targetingType": "PAGE_URL", "include": include, "matchType": match_type, "value": value}


def datum(index: int, match_type: str, value: Any = None, include: bool = True) -> dict[str, Any]:
    condition = {"targetingType": "CUSTOM_DATUM", "include": include, "customDataIndex": index, "matchType": match_type}
    return condition if value is None else {**condition, "value": value}


SHOP = "https://shop.example/cart/checkout?step=2"
V = VisitorAttributes

SINGLE_CONDITIONS: list[tuple[str, dict[str, Any], VisitorAttributes, bool]] = [
    # PAGE_URL
    ("url contains", url("CONTAINS", "/checkout"), V(page_url=SHOP), True),
    ("url contains is case-sensitive", url("CONTAINS", "/CHECKOUT"), V(page_url=SHOP), False),
    ("url exact", url("CORRESPONDS_EXACTLY", SHOP), V(page_url=SHOP), True),
    ("url exact needs all of it", url("CORRESPONDS_EXACTLY", "https://shop.example/cart"), V(page_url=SHOP), False),
    ("url regex searches anywhere", url("REGULAR_EXPRESSION", r"step=\d"), V(page_url=SHOP), True),
    ("url regex anchored", url("REGULAR_EXPRESSION", r"^https://blog\."), V(page_url=SHOP), False),
    ("url excluded", url("CONTAINS", "/checkout", include=False), V(page_url=SHOP), False),
    ("url excluded elsewhere", url("CONTAINS", "/checkout", include=False), V(page_url="https://shop.example/"), True),
    ("url unknown", url("CONTAINS", "/"), V(), False),
    ("url unknown, excluded", url("CONTAINS", "/", include=False), V(), True),
    # DEVICE_TYPE
    ("device one", {"targetingType": "DEVICE_TYPE", "include": True, "value": "MOBILE"}, V(device_type="MOBILE"), True),
    (
        "device other",
        {"targetingType": "DEVICE_TYPE", "include": True, "value": "MOBILE"},
        V(device_type="DESKTOP"),
        False,
    ),
    (
        "device any of",
        {"targetingType": "DEVICE_TYPE", "include": True, "value": ["MOBILE", "TABLET"]},
        V(device_type="TABLET"),
        True,
    ),
    (
        "device none of",
        {"targetingType": "DEVICE_TYPE", "include": False, "value": ["MOBILE", "TABLET"]},
        V(device_type="DESKTOP"),
        True,
    ),
    ("device unknown", {"targetingType": "DEVICE_TYPE", "include": True, "value": "DESKTOP"}, V(), False),
    # BROWSER
    ("browser", {"targetingType": "BROWSER", "include": True, "value": "FIREFOX"}, V(browser="FIREFOX"), True),
    (
        "browser excluded",
        {"targetingType": "BROWSER", "include": False, "value": "FIREFOX"},
        V(browser="FIREFOX"),
        False,
    ),
    (
        "browser not listed",
        {"targetingType": "BROWSER", "include": True, "value": ["CHROME", "EDGE"]},
        V(browser="SAFARI"),
        False,
    ),
    # NEW_VISITOR
    ("new visitor", {"targetingType": "NEW_VISITOR", "include": True}, V(new_visitor=True), True),
    ("returning is not new", {"targetingType": "NEW_VISITOR", "include": True}, V(new_visitor=False), False),
    ("returning visitor", {"targetingType": "NEW_VISITOR", "include": False}, V(new_visitor=False), True),
    ("new is not returning", {"targetingType": "NEW_VISITOR", "include": False}, V(new_visitor=True), False),
    ("unknown is not new", {"targetingType": "NEW_VISITOR", "include": True}, V(), False),
    # COUNTRY
    ("country", {"targetingType": "COUNTRY", "include": True, "value": "FR"}, V(country="FR"), True),
    (
        "country any of",
        {"targetingType": "COUNTRY", "include": True, "value": ["DE", "AT", "CH"]},
        V(country="CH"),
        True,
    ),
    ("country other", {"targetingType": "COUNTRY", "include": True, "value": ["DE"]}, V(country="FR"), False),
    ("not in country, unknown", {"targetingType": "COUNTRY", "include": False, "value": "FR"}, V(), True),
    # CUSTOM_DATUM: text
    ("datum contains", datum(1, "CONTAINS", "gold"), V(custom_data={1: "plan-gold-2024"}), True),
    ("datum exact", datum(1, "CORRESPONDS_EXACTLY", "gold"), V(custom_data={1: "gold "}), False),
    ("datum regex", datum(1, "REGULAR_EXPRESSION", "^g.ld$"), V(custom_data={1: "gold"}), True),
    ("datum other index", datum(1, "CONTAINS", "gold"), V(custom_data={2: "gold"}), False),
    ("datum list, any element", datum(1, "CORRESPONDS_EXACTLY", "shoes"), V(custom_data={1: ["hats", "shoes"]}), True),
    ("datum list, none", datum(1, "CORRESPONDS_EXACTLY", "shoes"), V(custom_data={1: ["hats"]}), False),
    ("datum count list, keys", datum(1, "CONTAINS", "sho"), V(custom_data={1: {"shoes": 3, "hats": 1}}), True),
    ("datum text against a number", datum(1, "CONTAINS", "4"), V(custom_data={1: 42}), False),
    # CUSTOM_DATUM: numbers
    ("datum equal", datum(3, "EQUAL", 2), V(custom_data={3: 2}), True),
    ("datum equal float", datum(3, "EQUAL", 2), V(custom_data={3: 2.0}), True),
    ("datum less", datum(3, "LESS", 10), V(custom_data={3: 9.5}), True),
    ("datum less, not equal", datum(3, "LESS", 10), V(custom_data={3: 10}), False),
    ("datum less or equal", datum(3, "LESS_OR_EQUAL", 10), V(custom_data={3: 10}), True),
    ("datum greater", datum(3, "GREATER", 100), V(custom_data={3: 150}), True),
    ("datum greater or equal", datum(3, "GREATER_OR_EQUAL", 100), V(custom_data={3: 99}), False),
    ("datum numeric string", datum(3, "GREATER", 100), V(custom_data={3: " 150 "}), True),
    ("datum not a number", datum(3, "GREATER", 100), V(custom_data={3: "lots"}), False),
    ("datum boolean is no number", datum(3, "EQUAL", 1), V(custom_data={3: True}), False),
    ("datum not greater", datum(3, "GREATER", 100, include=False), V(custom_data={3: 50}), True),
    ("datum list of numbers", datum(3, "GREATER", 100), V(custom_data={3: [5, 500]}), True),
    # CUSTOM_DATUM: booleans and presence
    ("datum true", datum(5, "TRUE"), V(custom_data={5: True}), True),
    ("datum true, false value", datum(5, "TRUE"), V(custom_data={5: False}), False),
    ("datum false", datum(5, "FALSE"), V(custom_data={5: False}), True),
    ("datum false, missing", datum(5, "FALSE"), V(), False),
    ("datum defined", datum(5, "DEFINED"), V(custom_data={5: "x"}), True),
    ("datum defined, empty text", datum(5, "DEFINED"), V(custom_data={5: ""}), False),
    ("datum defined, empty list", datum(5, "DEFINED"), V(custom_data={5: []}), False),
    ("datum defined, zero", datum(5, "DEFINED"), V(custom_data={5: 0}), True),
    ("datum undefined", datum(5, "DEFINED", include=False), V(), True),
]


@pytest.mark.parametrize(
    ("case", "condition", "visitor", "expected"), SINGLE_CONDITIONS, ids=[c[0] for c in SINGLE_CONDITIONS]
)
def test_one_condition(case: str, condition: dict[str, Any], visitor: VisitorAttributes, expected: bool) -> None:
    assert matches(one(condition), visitor) is expected
    assert matches(parse(one(condition)), visitor) is expected  # a parsed tree answers the same


T = {"targetingType": "NEW_VISITOR", "include": True}  # holds for NEW
F = {"targetingType": "NEW_VISITOR", "include": False}  # fails for NEW
NEW = V(new_visitor=True)


def group(conditions: list[dict[str, Any]], ors: list[bool]) -> dict[str, Any]:
    return {"conditions": conditions, "orOperators": ors}


COMBINATIONS: list[tuple[str, dict[str, Any], bool]] = [
    ("and of two true", {"firstLevel": [group([T, T], [False])]}, True),
    ("and with a false", {"firstLevel": [group([T, F], [False])]}, False),
    ("or with a true", {"firstLevel": [group([F, T], [True])]}, True),
    ("or of two false", {"firstLevel": [group([F, F], [True])]}, False),
    # AND binds tighter than OR: F AND F OR T = (F AND F) OR T
    ("and before or: F and F or T", {"firstLevel": [group([F, F, T], [False, True])]}, True),
    # T OR F AND F = T OR (F AND F): read left to right it would be (T OR F) AND F = false
    ("and before or: T or F and F", {"firstLevel": [group([T, F, F], [True, False])]}, True),
    ("and before or: F or T and F", {"firstLevel": [group([F, T, F], [True, False])]}, False),
    ("and before or: F or T and T", {"firstLevel": [group([F, T, T], [True, False])]}, True),
    ("groups joined by and", {"firstLevel": [group([T], []), group([F], [])], "firstLevelOrOperators": [False]}, False),
    ("groups joined by or", {"firstLevel": [group([F], []), group([T], [])], "firstLevelOrOperators": [True]}, True),
    (
        "groups: F and T or T",
        {"firstLevel": [group([F], []), group([T], []), group([T], [])], "firstLevelOrOperators": [False, True]},
        True,
    ),
    (
        "groups: T or F and F",
        {"firstLevel": [group([T], []), group([F], []), group([F], [])], "firstLevelOrOperators": [True, False]},
        True,
    ),
    (
        "groups: F or T and F",
        {"firstLevel": [group([F], []), group([T], []), group([F], [])], "firstLevelOrOperators": [True, False]},
        False,
    ),
    ("one group, operators left out", {"firstLevel": [{"conditions": [T]}]}, True),
]


@pytest.mark.parametrize(("case", "tree", "expected"), COMBINATIONS, ids=[c[0] for c in COMBINATIONS])
def test_operators_combine_with_and_before_or(case: str, tree: dict[str, Any], expected: bool) -> None:
    tree = {"firstLevelOrOperators": [], **tree}
    assert matches(tree, NEW) is expected


def test_a_realistic_segment() -> None:
    # (mobile AND France AND on the cart) OR (a returning visitor whose cart is worth more than 100)
    tree = {
        "firstLevel": [
            group(
                [
                    {"targetingType": "DEVICE_TYPE", "include": True, "value": ["MOBILE", "TABLET"]},
                    {"targetingType": "COUNTRY", "include": True, "value": "FR"},
                    url("CONTAINS", "/cart"),
                ],
                [False, False],
            ),
            group([{"targetingType": "NEW_VISITOR", "include": False}, datum(0, "GREATER", 100)], [False]),
        ],
        "firstLevelOrOperators": [True],
    }
    compiled = parse(tree)
    french_phone_on_cart = V(page_url=SHOP, device_type="MOBILE", country="FR", new_visitor=True)
    assert matches(compiled, french_phone_on_cart)
    assert not matches(compiled, V(page_url=SHOP, device_type="DESKTOP", country="FR", new_visitor=True))
    big_returning_cart = V(
        page_url="https://shop.example/", device_type="DESKTOP", new_visitor=False, custom_data={0: 180}
    )
    assert matches(compiled, big_returning_cart)
    assert not matches(compiled, V(new_visitor=False, custom_data={0: 80}))
    assert not matches(compiled, V())


def test_a_malformed_stored_tree_is_refused_not_guessed() -> None:
    with pytest.raises(Invalid) as caught:
        matches({"firstLevel": [{"conditions": [{"targetingType": "MOON_PHASE"}]}]}, V())
    assert caught.value.details[0].field == "conditionsData.firstLevel[0].conditions[0].targetingType"


def test_match_types_are_known_for_every_custom_data_format() -> None:
    assert set(MATCHES_BY_FORMAT) == {f.value for f in DataFormat}
