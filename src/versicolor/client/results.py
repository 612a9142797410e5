"""Experiment results: ask for a report, wait until it is ready, read it per goal and variation."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from versicolor.client.errors import VersicolorError
from versicolor.client.transport import Transport

ORIGINAL = "0"


class ReportFailed(VersicolorError):
    """The server could not compute the report; the message says why."""


class ReportNotReady(VersicolorError):
    """The report was still being computed when the wait ran out."""


@dataclass(frozen=True)
class Interval:
    """An interval of the relative uplift, in percent."""

    lower: float
    upper: float


@dataclass(frozen=True)
class ArmResult:
    """One variation (or the original, id "0") on one goal."""

    variation_id: str
    visitors: int
    visits: int
    conversions: int
    converted: int
    conversion_rate: float
    improvement: float | None
    reliability: float | None
    confidence_interval: Interval | None
    chance_to_win: float | None
    credible_interval: Interval | None

    @property
    def is_original(self) -> bool:
        """Whether this is the original page."""
        return self.variation_id == ORIGINAL


@dataclass(frozen=True)
class Report:
    """A READY report: `data` is the server's report as sent (docs/results.md)."""

    data_code: str
    data: dict[str, Any]

    def goal_ids(self) -> list[str]:
        """The goals the report covers, in the server's order."""
        arms = self.data.get("variationData") or {}
        for arm in arms.values():
            return list(_general(arm).get("goalsData", {}))
        return []

    def arms(self, goal_id: str | int) -> list[ArmResult]:
        """Every arm's figures on a goal, the original first."""
        found = []
        for variation_id, arm in (self.data.get("variationData") or {}).items():
            general = _general(arm)
            goal = (general.get("goalsData") or {}).get(str(goal_id)) or {}
            found.append(
                ArmResult(
                    variation_id=str(variation_id),
                    visitors=int(general.get("visitorCount") or 0),
                    visits=int(general.get("visitCount") or 0),
                    conversions=int(goal.get("conversionCount") or 0),
                    converted=int(goal.get("convertedVisitCount") or 0),
                    conversion_rate=float(goal.get("conversionRate") or 0.0),
                    improvement=goal.get("improvementRate"),
                    reliability=goal.get("reliability"),
                    confidence_interval=_interval(goal.get("confidenceInterval")),
                    chance_to_win=goal.get("chanceToBeatReference"),
                    credible_interval=_interval(goal.get("credibleInterval")),
                )
            )
        return sorted(found, key=lambda a: (not a.is_original, a.variation_id))

    @property
    def winner(self) -> dict[str, Any] | None:
        """The winning variation on the main goal (`variationId`, `goalId`, ...), or None."""
        winner: dict[str, Any] | None = self.data.get("winner")
        return winner

    @property
    def winner_reason(self) -> str | None:
        """Why there is no winner, in words, or None."""
        reason = self.data.get("winnerReasonMessage") or self.data.get("winnerReason")
        return str(reason) if reason else None

    @property
    def srm_flagged(self) -> bool:
        """Whether the traffic split differs from the one set (a sample ratio mismatch)."""
        return bool((self.data.get("srm") or {}).get("flagged"))


def _general(arm: dict[str, Any]) -> dict[str, Any]:
    general: dict[str, Any] = ((arm.get("breakdownData") or {}).get("_reference") or {}).get("generalData") or {}
    return general


def _interval(value: object) -> Interval | None:
    if isinstance(value, dict) and value.get("lower") is not None and value.get("upper") is not None:
        return Interval(float(value["lower"]), float(value["upper"]))
    return None


class Results:
    """`POST /experiments/{id}/results` and `GET /results?dataCode=`."""

    def __init__(self, transport: Transport, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self._transport = transport
        self._sleep = sleep

    def request(self, experiment_id: int, **options: Any) -> str:
        """Ask for a report (options in the API's names: `goalsIds`, `bayesian`...) and return its data code."""
        answer = self._transport.request("POST", f"/experiments/{experiment_id}/results", json=options, idempotent=True)
        return str(answer.json()["dataCode"])

    def fetch(self, data_code: str) -> dict[str, Any]:
        """The report as it stands: `status` WAITING, READY (with `data`) or ERROR (with `error`)."""
        body: dict[str, Any] = self._transport.request("GET", "/results", params={"dataCode": data_code}).json()
        return body

    def wait(self, data_code: str, *, timeout: float = 120.0, on_poll: Callable[[float], None] | None = None) -> Report:
        """Poll until the report is READY (raising ReportFailed on ERROR, ReportNotReady past `timeout`)."""
        started = time.monotonic()
        delay = 0.05
        while True:
            body = self.fetch(data_code)
            status = body.get("status")
            if status == "READY":
                return Report(data_code=data_code, data=body.get("data") or {})
            if status == "ERROR":
                raise ReportFailed(f"report {data_code} failed: {body.get('error') or 'no reason given'}")
            elapsed = time.monotonic() - started
            if elapsed >= timeout:
                raise ReportNotReady(f"report {data_code} was not ready after {timeout:g} s; fetch it later")
            if on_poll is not None:
                on_poll(elapsed)
            self._sleep(min(delay, max(0.0, timeout - elapsed)))
            delay = min(delay * 2, 1.0)

    def report(
        self,
        experiment_id: int,
        *,
        goal_ids: Sequence[int] = (),
        bayesian: bool = False,
        sequential: bool = False,
        timeout: float = 120.0,
        on_poll: Callable[[float], None] | None = None,
        **options: Any,
    ) -> Report:
        """Ask for a report and wait for it: the usual way to read an experiment's results.

        Per visitor unless `visitorData=False` is given: `Report.arms` reads visitors, and the server counts
        visits when the field is left out.
        """
        options.setdefault("visitorData", True)
        if goal_ids:
            options["goalsIds"] = list(goal_ids)
        code = self.request(experiment_id, bayesian=bayesian, sequentialTesting=sequential, **options)
        return self.wait(code, timeout=timeout, on_poll=on_poll)
