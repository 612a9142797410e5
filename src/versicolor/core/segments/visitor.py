"""What is known about a visitor when a segment decides on them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

# A custom datum's value as a page reports it: one value, a LIST of values, or a COUNT_LIST (value -> count).
Scalar = str | int | float | bool
CustomValue = Scalar | Sequence[Scalar] | Mapping[str, int]


@dataclass(frozen=True)
class VisitorAttributes:
    """What is known about a visitor at the moment of the decision; None means unknown.

    `now` is the moment itself (aware, UTC); `local_time` is the visitor's wall clock (naive), which day-of-week
    and hour ranges read, as a page does with its own clock.
    """

    page_url: str | None = None
    page_title: str | None = None
    landing_page_url: str | None = None
    previous_page_url: str | None = None
    referrer: str | None = None
    visited_pages: Sequence[str] | None = None
    device_type: str | None = None
    browser: str | None = None
    os: str | None = None
    country: str | None = None
    region: str | None = None
    city: str | None = None
    new_visitor: bool | None = None
    # Keyed by the custom datum's index on the site.
    custom_data: Mapping[int, CustomValue] = field(default_factory=dict)
    cookies: Mapping[str, str] | None = None
    now: datetime | None = None
    local_time: datetime | None = None
