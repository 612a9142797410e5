"""The in-memory moving windows, against a clock the test moves."""

from __future__ import annotations

from versicolor.api.conventions.windows import MemoryWindows, parse_windows


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_a_window_moves_request_by_request() -> None:
    clock = Clock()
    windows = MemoryWindows(parse_windows("3/10s"), clock=clock)
    assert [windows.decide("k").allowed for _ in range(3)] == [True, True, True]
    clock.now += 4
    refused = windows.decide("k")
    assert not refused.allowed and refused.retry_after == 6 and refused.reset == 1_000_010.0
    clock.now += 6.001  # the first three leave together
    assert windows.decide("k").allowed


def test_headers_name_the_window_nearest_to_running_out() -> None:
    clock = Clock()
    windows = MemoryWindows(parse_windows("10/10s;3/1h"), clock=clock)
    first = windows.decide("k")
    assert (first.window.limit, first.remaining, first.reset) == (3, 2, clock.now + 3600)
    clock.now += 100
    second = windows.decide("k")
    assert (second.remaining, second.reset) == (1, 1_000_000.0 + 3600)  # the oldest counted leaves then


def test_the_longest_wait_wins_when_several_windows_are_full() -> None:
    clock = Clock()
    windows = MemoryWindows(parse_windows("2/1s;3/30s"), clock=clock)
    assert [windows.decide("k").allowed for _ in range(3)] == [True, True, False]
    clock.now += 1.5
    assert windows.decide("k").allowed
    refused = windows.decide("k")
    assert not refused.allowed and refused.window.limit == 3 and refused.retry_after == 29


def test_a_refused_request_counts_nowhere() -> None:
    clock = Clock()
    windows = MemoryWindows(parse_windows("1/10s"), clock=clock)
    windows.decide("k")
    for _ in range(100):
        clock.now += 0.05
        assert not windows.decide("k").allowed
    clock.now = 1_000_010.001
    assert windows.decide("k").allowed


def test_a_cost_takes_that_many_slots_or_none() -> None:
    clock = Clock()
    windows = MemoryWindows(parse_windows("10/1m"), clock=clock)
    assert windows.decide("k", cost=6).remaining == 4
    refused = windows.decide("k", cost=5)
    assert not refused.allowed and refused.retry_after == 60
    assert windows.decide("k", cost=4).remaining == 0
    assert not windows.decide("k", cost=11).allowed  # more than the window holds: never


def test_keys_whose_windows_emptied_are_forgotten() -> None:
    clock = Clock()
    windows = MemoryWindows(parse_windows("5/10s;50/1m"), clock=clock)
    for i in range(1000):
        windows.decide(f"k{i}")
    assert len(windows) == 1000
    clock.now += 30
    windows.decide("busy")
    assert len(windows) == 1001  # still inside the minute
    clock.now += 31
    windows.decide("busy")
    assert len(windows) == 1


def test_memory_per_key_is_bounded_by_the_largest_limit() -> None:
    clock = Clock()
    windows = MemoryWindows(parse_windows("100/1s;1000/1h"), clock=clock)
    for _ in range(5000):
        clock.now += 4  # 900 an hour: every one admitted
        assert windows.decide("k").allowed
    # Only the newest 1,000 can matter, kept with a quarter of slack so that trimming is rare.
    assert 1000 <= len(windows._hits["k"]) <= 1250


def test_the_number_of_keys_is_capped() -> None:
    clock = Clock()
    windows = MemoryWindows(parse_windows("5/1h"), clock=clock, max_keys=100)
    for i in range(250):
        windows.decide(f"k{i}")
    assert len(windows) == 100
