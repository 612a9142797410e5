"""Edit v3 ids: 24 lowercase hex digits, time first, in creation order within a process."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from versicolor.core import object_ids


def test_ids_are_24_lowercase_hex_and_sort_in_creation_order() -> None:
    made = [object_ids.new() for _ in range(20_000)]
    assert all(re.fullmatch(r"[0-9a-f]{24}", i) for i in made)
    assert made == sorted(made)
    assert len(set(made)) == len(made)


def test_an_id_carries_its_creation_second_like_an_object_id() -> None:
    at = datetime(2019, 1, 24, 5, 44, 35, 250_000, tzinfo=UTC)
    made = object_ids.first_of_second(at, 1)
    assert object_ids.time_of(made) == at.replace(microsecond=0)
    assert made.startswith("5c4950c3")  # the seed's example id was made in that second
    now = datetime.now(UTC) + timedelta(seconds=2)
    assert object_ids.time_of(object_ids.new(now)) == now.replace(microsecond=0)


def test_ids_stay_ordered_when_the_clock_steps_back() -> None:
    now = datetime.now(UTC)
    first = object_ids.new(now)
    second = object_ids.new(now - timedelta(hours=1))
    assert second > first


def test_backdated_ids_sort_first_in_their_second_and_stay_unique() -> None:
    now = datetime.now(UTC)
    later_in_that_second = object_ids.new(now)
    first = object_ids.first_of_second(now, 1)
    other = object_ids.first_of_second(now, 2)
    assert object_ids.time_of(first) == now.replace(microsecond=0)
    assert first < other < later_in_that_second
    assert object_ids.first_of_second(datetime(2020, 1, 1, tzinfo=UTC), 7) < first
    with pytest.raises(ValueError, match="8 bytes"):
        object_ids.first_of_second(now, 1 << 64)


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("5c4950c34733cc0004d5bfd7", "5c4950c34733cc0004d5bfd7"),
        ("5C4950C34733CC0004D5BFD7", "5c4950c34733cc0004d5bfd7"),
        ("5c4950c34733cc0004d5bfd", None),
        ("5c4950c34733cc0004d5bfd7a", None),
        ("zc4950c34733cc0004d5bfd7", None),
        ("", None),
    ],
)
def test_parse_accepts_only_24_hex_digits(text: str, parsed: str | None) -> None:
    assert object_ids.parse(text) == parsed


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        object_ids.new(datetime(2020, 1, 1))


def test_a_forked_worker_never_makes_its_parent_s_ids() -> None:
    # Workers are forked from one process: each draws its own random part, so two workers making ids in the
    # same second (same time part) still make different ones.
    import multiprocessing

    at = datetime.now(UTC)
    ours = [object_ids.new(at) for _ in range(1000)]
    with multiprocessing.get_context("fork").Pool(1) as pool:
        theirs = pool.apply(_ids_made_at, (at, 1000))
    assert not set(ours) & set(theirs)
    assert {i[8:18] for i in ours}.isdisjoint({i[8:18] for i in theirs})


def _ids_made_at(at: datetime, count: int) -> list[str]:
    return [object_ids.new(at) for _ in range(count)]
