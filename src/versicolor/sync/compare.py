"""Whether a value in a folder and the value on the server are the same, as the server would store it."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

TOLERANCE = 1e-9


def same(wanted: Any, stored: Any) -> bool:
    """Equal, reading objects the way the server writes them back.

    A member the server fills in empty (null, [], {}), or an `id` it gives the parts of a tree (a segment's
    conditions), is not a difference when the folder leaves it out; numbers compare within a rounding error.
    """
    if isinstance(wanted, Mapping) and isinstance(stored, Mapping):
        for name in set(wanted) | set(stored):
            if name not in wanted and (stored[name] in (None, [], {}) or name == "id"):
                continue
            if name not in stored and wanted[name] is None:
                continue
            if name not in wanted or name not in stored or not same(wanted[name], stored[name]):
                return False
        return True
    if isinstance(wanted, list) and isinstance(stored, list):
        return len(wanted) == len(stored) and all(same(a, b) for a, b in zip(wanted, stored, strict=True))
    if isinstance(wanted, bool) or isinstance(stored, bool):
        return wanted is stored
    if isinstance(wanted, int | float) and isinstance(stored, int | float):
        return math.isclose(wanted, stored, rel_tol=TOLERANCE, abs_tol=TOLERANCE)
    return bool(wanted == stored)


def same_split(wanted: Mapping[str, float], stored: Mapping[str, float]) -> bool:
    """Two traffic splits give every arm the same share (an arm left out has none)."""
    return all(
        math.isclose(wanted.get(arm, 0.0), stored.get(arm, 0.0), abs_tol=TOLERANCE) for arm in set(wanted) | set(stored)
    )


def equal_split(arms: list[str]) -> dict[str, float]:
    """The split the server keeps while deviations are automatic: the original and each variation alike."""
    everyone = ["origin", *arms]
    return {arm: 1.0 / len(everyone) for arm in everyone}
