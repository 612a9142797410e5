"""Assignment is a pure function every implementation reproduces from tests/vectors/assignment.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from versicolor.tracking.assignment import assign, bucket_point, hash_key, murmur3_32, ordered_deviations

VECTORS: dict[str, Any] = json.loads((Path(__file__).parents[1] / "vectors" / "assignment.json").read_text())


@pytest.mark.parametrize("vector", VECTORS["murmur3"], ids=lambda v: repr(v.get("input", v.get("inputHex"))))
def test_murmur3_matches_the_published_and_shared_vectors(vector: dict[str, Any]) -> None:
    data = bytes.fromhex(vector["inputHex"]) if "inputHex" in vector else vector["input"].encode()
    assert murmur3_32(data, vector["seed"]) == vector["hash"]


def test_murmur3_matches_values_published_with_the_reference_implementation() -> None:
    # Independent of our own vectors file: values quoted with Appleby's SMHasher and widely reproduced.
    assert murmur3_32(b"") == 0
    assert murmur3_32(b"", 1) == 0x514E28B7
    assert murmur3_32(b"\xff\xff\xff\xff") == 0x76293B50
    assert murmur3_32(b"\x21\x43\x65\x87") == 0xF55B516B
    assert murmur3_32(b"\x21\x43\x65") == 0x7E4A8634
    assert murmur3_32(b"Hello, world!", 1234) == 0xFAF6CDB3
    assert murmur3_32(b"The quick brown fox jumps over the lazy dog") == 0x2E4FF723


@pytest.mark.parametrize("vector", VECTORS["assignment"], ids=lambda v: v["key"][:40])
def test_assignment_matches_the_shared_vectors(vector: dict[str, Any]) -> None:
    experiment_id, visitor_code = vector["experimentId"], vector["visitorCode"]
    assert hash_key(experiment_id, visitor_code).decode() == vector["key"]
    assert murmur3_32(hash_key(experiment_id, visitor_code)) == vector["hash"]
    assert bucket_point(experiment_id, visitor_code) == vector["point"]
    assert assign(experiment_id, visitor_code, vector["deviations"]) == vector["variationId"]


def test_vectors_cover_every_outcome_and_the_exact_boundaries() -> None:
    outcomes = {v["variationId"] for v in VECTORS["assignment"]}
    assert None in outcomes and 0 in outcomes
    points = {v["point"] for v in VECTORS["assignment"]}
    assert {0.0, 0.5, 0.75} <= points


def test_deviation_keys_are_ordered_as_numbers_not_as_strings() -> None:
    assert ordered_deviations({"12": 0.1, "origin": 0.2, "3": 0.3, "100": 0.4}) == [
        (0, 0.2),
        (3, 0.3),
        (12, 0.1),
        (100, 0.4),
    ]


@pytest.mark.parametrize("key", ["0", "-4", "original", "1.5"])
def test_a_key_that_is_neither_origin_nor_a_variation_id_is_refused(key: str) -> None:
    with pytest.raises(ValueError):
        ordered_deviations({key: 0.5})


def test_traffic_splits_in_the_configured_proportions() -> None:
    deviations = {"origin": 0.2, "1": 0.3, "2": 0.25}
    counts: dict[int | None, int] = {}
    visitors = 40_000
    for n in range(visitors):
        chosen = assign(314, f"visitor-{n}", deviations)
        counts[chosen] = counts.get(chosen, 0) + 1
    expected = {0: 0.2, 1: 0.3, 2: 0.25, None: 0.25}
    for outcome, share in expected.items():
        # Binomial standard deviation at 40,000 draws is at most 0.0025; 4 of them is a generous margin.
        assert abs(counts[outcome] / visitors - share) < 0.01, (outcome, counts)


shares = st.lists(st.floats(min_value=0, max_value=1, allow_nan=False), min_size=1, max_size=6)


@given(
    experiment_id=st.integers(min_value=1, max_value=2**53 - 1),
    visitor_code=st.text(min_size=1, max_size=80),
    values=shares,
)
def test_the_answer_is_deterministic_and_one_of_the_keys(
    experiment_id: int, visitor_code: str, values: list[float]
) -> None:
    total = sum(values)
    deviations = {("origin" if i == 0 else str(i * 7)): v / max(total, 1.0) for i, v in enumerate(values)}
    chosen = assign(experiment_id, visitor_code, deviations)
    assert chosen == assign(experiment_id, visitor_code, dict(reversed(list(deviations.items()))))
    if chosen is not None:
        key = "origin" if chosen == 0 else str(chosen)
        assert deviations[key] > 0
    assert 0 <= bucket_point(experiment_id, visitor_code) < 1
