"""Deviations: how an experiment splits its traffic between the original (`origin`) and its variations.

`{"origin": 0.5, "<variation id>": 0.5}`: each share is between 0 and 1 and the shares add up to at most 1;
what is left over is traffic that does not take part in the experiment. A variation without a key gets no
traffic. Every change is recorded with its time, because the sample-ratio check of the results must compare
the traffic each arm received with the split that was in force when it arrived.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from versicolor.core.errors import Detail, Invalid
from versicolor.db.models import DeviationChange, Experiment

ORIGIN = "origin"
# Shares are floats: 1/3 + 1/3 + 1/3 may not add up to exactly 1.
TOLERANCE = 1e-9


def keys_for(variation_ids: Sequence[int]) -> list[str]:
    """The keys a split over these variations may use, in order."""
    return [ORIGIN, *(str(v) for v in variation_ids)]


def check(deviations: Mapping[str, object], *, variation_ids: Sequence[int]) -> dict[str, float]:
    """The deviations as stored, or Invalid naming every problem."""
    allowed = keys_for(variation_ids)
    problems: list[str] = []
    cleaned: dict[str, float] = {}
    for key, value in deviations.items():
        if key not in allowed:
            problems.append(
                f"unknown key {key!r}: keys are 'origin' and the ids of the experiment's variations"
                + (f" ({', '.join(allowed[1:])})" if len(allowed) > 1 else " (it has none yet)")
            )
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            problems.append(f"{key!r} must be a number from 0 to 1, got {value!r}")
            continue
        if not 0 <= value <= 1:
            problems.append(f"{key!r} must be from 0 to 1, got {value}")
            continue
        cleaned[key] = float(value)
    total = math.fsum(cleaned.values())
    if not problems and total > 1 + TOLERANCE:
        problems.append(f"the shares add up to {total:g}; they may add up to at most 1")
    if problems:
        raise Invalid("deviations: " + "; ".join(problems), details=[Detail("deviations", p) for p in problems])
    return cleaned


def equal_split(variation_ids: Sequence[int]) -> dict[str, float]:
    """All traffic, shared equally between the original and every variation."""
    keys = keys_for(variation_ids)
    return {key: 1 / len(keys) for key in keys}


def restricted(deviations: Mapping[str, float], *, variation_ids: Sequence[int]) -> dict[str, float]:
    """The deviations without the keys of variations that are no longer in the experiment."""
    allowed = set(keys_for(variation_ids))
    return {key: share for key, share in deviations.items() if key in allowed}


def launch_problems(deviations: Mapping[str, float], *, variation_ids: Sequence[int]) -> list[str]:
    """Why these deviations cannot run an experiment (empty when they can)."""
    try:
        check(deviations, variation_ids=variation_ids)
    except Invalid as exc:
        return [exc.message]
    if not any(deviations.get(str(v), 0) > 0 for v in variation_ids):
        return ["its deviations send no traffic to any variation"]
    return []


async def record(*, session: AsyncSession, experiment: Experiment, now: datetime) -> None:
    """Remember the experiment's deviations as in force from `now`."""
    session.add(
        DeviationChange(
            account_id=experiment.account_id,
            experiment_id=experiment.id,
            deviations=dict(experiment.deviations),
            status=experiment.status,
            date_effective=now,
        )
    )
    await session.flush()


async def history(*, session: AsyncSession, experiment: Experiment) -> list[DeviationChange]:
    """Every split the experiment has had, oldest first; each holds until the next one's `date_effective`."""
    rows = await session.scalars(
        select(DeviationChange)
        .where(DeviationChange.account_id == experiment.account_id, DeviationChange.experiment_id == experiment.id)
        .order_by(DeviationChange.date_effective, DeviationChange.id)
    )
    return list(rows)
