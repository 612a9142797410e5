"""What every Automation-dialect body shares: camelCase names and strict input."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, PlainSerializer, WithJsonSchema
from pydantic.alias_generators import to_camel

from versicolor.api.strict_input import StrictInput


def _iso_z(value: datetime) -> str:
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")


# Timestamps go out as ISO-8601 UTC with a Z (docs/conventions.md).
Timestamp = Annotated[datetime, PlainSerializer(_iso_z, return_type=str)]

# An object's id, in a path or a body (docs/conventions.md: int64). Any other whole number is accepted here on purpose:
# the core looks every id up through core.resources.check_id, so that one no object can have (0, negative,
# past int64) answers the same 404 as an unknown one, in a path and in a body alike (docs/resources.md, Ids).
Id = Annotated[int, WithJsonSchema({"type": "integer", "format": "int64", "minimum": 1})]


class CamelOut(BaseModel):
    """An object as the Automation dialect renders it."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, from_attributes=True, serialize_by_alias=True
    )


class CamelIn(StrictInput):
    """A request body: camelCase names, unknown fields refused so that typos do not pass silently, numbers and
    booleans taken only as JSON numbers and booleans (api/strict_input.py)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=False, extra="forbid")
