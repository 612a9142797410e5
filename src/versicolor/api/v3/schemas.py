"""What every Edit v3 body shares: snake_case names, strict input, timestamps in UTC with a Z."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, PlainSerializer
from pydantic_core import PydanticCustomError

from versicolor.api.conventions.cursor import TIMESTAMP_EXAMPLE, parse_timestamp
from versicolor.api.strict_input import StrictInput


def _iso_z(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _timestamp_or_null(value: Any) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_timestamp(value, seconds=False)
    except ValueError as exc:
        raise PydanticCustomError(
            "timestamp", "{reason}; or null", {"reason": str(exc), "example": TIMESTAMP_EXAMPLE}
        ) from None


# Timestamps go out as ISO-8601 UTC with milliseconds and a Z (docs/conventions.md).
Timestamp = Annotated[datetime, PlainSerializer(_iso_z, return_type=str)]
# Timestamps come in as strings, ISO-8601 with any offset or RFC 2822, and are kept in UTC.
TimestampIn = Annotated[datetime | None, BeforeValidator(_timestamp_or_null)]


class SnakeOut(BaseModel):
    """An object as the v3 dialect renders it."""

    model_config = ConfigDict(from_attributes=True)


class SnakeIn(StrictInput):
    """A v3 request body: unknown fields are refused so that typos do not pass silently; numbers and booleans are
    taken only as JSON numbers and booleans (api/strict_input.py)."""

    model_config = ConfigDict(extra="forbid")
