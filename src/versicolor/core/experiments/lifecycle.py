"""The experiment lifecycle: one table of allowed transitions, and the status rules that follow from it.

Every status change, whether a user asks for it (`PATCH /experiments/{id}?action=...`) or the clock makes it
(the scheduler), is a row of `TRANSITIONS`. A (status, action) pair that is not in the table is refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from versicolor.core.errors import Conflict, Invalid
from versicolor.db.models import Experiment, Personalization

# What moves through the lifecycle: experiments, and personalizations (core/personalizations.py) by the same table.
Staged = Experiment | Personalization


class Status(StrEnum):
    """Where an experiment is in its life (docs/resources.md)."""

    DRAFT = "DRAFT"
    SCHEDULED = "SCHEDULED"
    ACTIVE = "ACTIVE"
    PAUSED = "PAUSED"
    STOPPED = "STOPPED"
    DEACTIVATED = "DEACTIVATED"


class Action(StrEnum):
    """What a user may ask for with `?action=`."""

    ACTIVATE = "ACTIVATE"
    PAUSE = "PAUSE"
    RESUME = "RESUME"
    STOP = "STOP"
    SCHEDULE = "SCHEDULE"
    DEACTIVATE = "DEACTIVATE"


class ClockEvent(StrEnum):
    """What the scheduler does when a scheduled date arrives; never requested through the API."""

    SCHEDULED_START = "SCHEDULED_START"
    SCHEDULED_END = "SCHEDULED_END"


@dataclass(frozen=True)
class Transition:
    """One allowed step: from `source`, on `action`, to `target`, and which dates it sets."""

    source: Status
    action: Action | ClockEvent
    target: Status
    starts: bool = False  # sets dateStarted: traffic begins
    ends: bool = False  # sets dateEnded: traffic ends for good
    launches: bool = False  # a person sends traffic (now or at a date): the setup must be able to run


S, A, C = Status, Action, ClockEvent

TRANSITIONS: tuple[Transition, ...] = (
    Transition(S.DRAFT, A.ACTIVATE, S.ACTIVE, starts=True, launches=True),
    Transition(S.DRAFT, A.SCHEDULE, S.SCHEDULED, launches=True),
    Transition(S.SCHEDULED, C.SCHEDULED_START, S.ACTIVE, starts=True),
    Transition(S.ACTIVE, A.PAUSE, S.PAUSED),
    Transition(S.PAUSED, A.RESUME, S.ACTIVE, launches=True),
    Transition(S.ACTIVE, A.STOP, S.STOPPED, ends=True),
    Transition(S.PAUSED, A.STOP, S.STOPPED, ends=True),
    Transition(S.ACTIVE, C.SCHEDULED_END, S.STOPPED, ends=True),
    Transition(S.PAUSED, C.SCHEDULED_END, S.STOPPED, ends=True),
    # "any -> DEACTIVATED": every status but DEACTIVATED itself; a running experiment ends there.
    Transition(S.DRAFT, A.DEACTIVATE, S.DEACTIVATED),
    Transition(S.SCHEDULED, A.DEACTIVATE, S.DEACTIVATED),
    Transition(S.ACTIVE, A.DEACTIVATE, S.DEACTIVATED, ends=True),
    Transition(S.PAUSED, A.DEACTIVATE, S.DEACTIVATED, ends=True),
    Transition(S.STOPPED, A.DEACTIVATE, S.DEACTIVATED),
)

_BY_KEY: dict[tuple[Status, Action | ClockEvent], Transition] = {(t.source, t.action): t for t in TRANSITIONS}
assert len(_BY_KEY) == len(TRANSITIONS), "two transitions share a (status, action) pair"

# Statuses in which the experiment serves, or is about to serve, traffic: its setup must stay launchable.
LIVE: frozenset[Status] = frozenset({S.SCHEDULED, S.ACTIVE, S.PAUSED})
# As in Kameleoon's API (docs/resources.md): an experiment can be deleted only before it ran or once it stopped.
DELETABLE: frozenset[Status] = frozenset({S.DRAFT, S.STOPPED})
# Removing a variation would rewrite the history of traffic already split between variations.
VARIATIONS_REMOVABLE: frozenset[Status] = frozenset({S.DRAFT})


def find(status: Status, action: Action | ClockEvent) -> Transition | None:
    """The transition `action` makes from `status`, or None when the table has none."""
    return _BY_KEY.get((status, action))


def transition(
    status: Status, action: Action, *, kind: str = "experiment", actions: frozenset[Action] = frozenset(Action)
) -> Transition:
    """The transition `action` makes from `status` among `actions` (what a `kind` of object may ask for); raises
    Conflict naming the status when there is none."""
    found = find(status, action) if action in actions else None
    if found is None:
        allowed = sorted(
            t.action for t in TRANSITIONS if t.source == status and isinstance(t.action, Action) and t.action in actions
        )
        hint = f"; from {status} you can: {', '.join(allowed)}" if allowed else "; its status can no longer change"
        article = "an" if kind[0] in "aeiou" else "a"
        raise Conflict(f"cannot {action} {article} {kind} whose status is {status}{hint}")
    return found


def by_clock(event: ClockEvent) -> tuple[Transition, ...]:
    """Every transition the scheduler makes for `event`."""
    return tuple(t for t in TRANSITIONS if t.action == event)


def apply(experiment: Staged, step: Transition, *, now: datetime) -> None:
    """Move `experiment` (or a personalization) along `step`, setting the dates the step sets."""
    experiment.status = step.target
    experiment.date_status_modified = now
    if step.starts:
        experiment.date_started = now
    if step.ends:
        experiment.date_ended = now


def require_launchable(staged: Staged, action: Action, problems: Sequence[str], *, kind: str = "experiment") -> None:
    """Raise Conflict listing what keeps `staged` from running (its launch problems), if anything does."""
    if problems:
        raise Conflict(f"cannot {action} {kind} {staged.id}: " + "; ".join(problems))


def require_deletable(staged: Staged, *, kind: str = "experiment") -> None:
    """Raise Conflict unless the status of `staged` (an experiment, or another `kind`) allows deleting it."""
    if Status(staged.status) not in DELETABLE:
        raise Conflict(
            f"{kind} {staged.id} is {staged.status}: only DRAFT or STOPPED {kind}s can be deleted"
            + (" (STOP it first)" if staged.status in (S.ACTIVE, S.PAUSED) else "")
        )


def require_status_unchanged(staged: Staged, status: str | None, *, kind: str = "experiment") -> None:
    """Refuse a `status` sent back with a body unless it is the current one: only `?action=` changes it."""
    if status is not None and status != staged.status:
        raise Invalid.field("status", f"is {staged.status}; change it with PATCH /{kind}s/{staged.id}?action=...")


def require_variations_removable(experiment: Experiment, variation_id: int) -> None:
    """Raise Conflict unless variations may be taken out of the experiment in its status."""
    if Status(experiment.status) not in VARIATIONS_REMOVABLE:
        raise Conflict(
            f"variation {variation_id} belongs to experiment {experiment.id}, which is {experiment.status}: "
            "variations can be removed only while the experiment is DRAFT"
        )
