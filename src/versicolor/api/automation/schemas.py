"""What every Automation-dialect body shares: camelCase names and strict input."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, PlainSerializer
from pydantic.alias_generators import to_camel


def _iso_z(value: datetime) -> str:
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")


# Timestamps go out as ISO-8601 UTC with a Z (CONTRACT §1).
Timestamp = Annotated[datetime, PlainSerializer(_iso_z, return_type=str)]


class CamelOut(BaseModel):
    """An object as the Automation dialect renders it."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, from_attributes=True, serialize_by_alias=True
    )


class CamelIn(BaseModel):
    """A request body: camelCase names, unknown fields refused so that typos do not pass silently."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=False, extra="forbid")
