"""Request bodies take JSON's types as they are: `true` is not a number, `"5"` is not an integer, `1` is not `true`.

FastAPI validates a parsed body in pydantic's Python mode, whose lax defaults read `true` as the integer 1, `"5"`
as 5, and `1.9` as a date-time (seconds since 1970). Pydantic's `strict=True` would stop that, but in Python mode
it also refuses what JSON can only send as a string (an ISO date for a `datetime`, a value for an `Enum`). So
`StrictInput`, the base of every request body (CamelIn, SnakeIn), makes strict only the numbers and booleans of its
schema, wherever they sit (a field, a list's items, a union's branch, a dict's values), takes date-times only as
text that is not a number, and leaves the rest lax. A body model that derives from it needs nothing of its own: a
field added tomorrow is strict too.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, cast

from pydantic import BaseModel, GetCoreSchemaHandler
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

# Schemas whose values JSON sends as themselves, so strictness costs a client nothing.
_STRICT_TYPES = frozenset({"int", "float", "bool", "literal"})
# An enum of numbers (IntEnum) cannot be made strict (Python mode would then want the enum member itself), but
# it must not take a boolean for 0 or 1 either.
_NUMBER_ENUM_TYPES = frozenset({"int", "float"})
# A number as text, as pydantic would read it into a date-time.
_NUMBER = re.compile(r"\s*[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\s*")
# Left as they are: JSON object keys are always strings (a `dict[int, ...]` key must stay lax to be read at all);
# metadata and serialization are not validation (and metadata may hold JSON Schema, with "type" keys of its own).
_LEFT_ALONE = frozenset({"keys_schema", "metadata", "serialization"})


def strict_scalars(schema: Any) -> Any:
    """A copy of a pydantic core schema in which every int, float, bool and literal schema is strict."""
    if isinstance(schema, list):
        return [strict_scalars(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    copied = {key: value if key in _LEFT_ALONE else strict_scalars(value) for key, value in schema.items()}
    kind = copied.get("type")
    if not isinstance(kind, str):
        return copied  # not a schema: a model's fields by name (one may be called "type")
    if kind in _STRICT_TYPES:
        copied["strict"] = True
    elif kind == "enum" and copied.get("sub_type") in _NUMBER_ENUM_TYPES:
        return core_schema.no_info_before_validator_function(_not_a_boolean, cast(CoreSchema, copied))
    elif kind == "datetime":
        return core_schema.no_info_before_validator_function(date_time_text, cast(CoreSchema, copied))
    return copied


def date_time_text(value: object) -> object:
    """`value` if it may be read as a date-time: text that is not a number (or a datetime already).

    For a query parameter, as `Annotated[datetime, BeforeValidator(date_time_text)]`; bodies get it for free."""
    # Lax, pydantic would read a number (or a string of digits) as seconds since 1970: no client means that by a
    # date, and the document says a date-time is a string.
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or _NUMBER.fullmatch(value):
        raise PydanticCustomError("datetime_text", "Input should be a date-time string such as 2024-05-01T12:00:00Z")
    return value


def _not_a_boolean(value: object) -> object:
    if isinstance(value, bool):
        raise PydanticCustomError("bool_not_number", "Input should be a number, not true or false")
    return value


class StrictInput(BaseModel):
    """A request body whose numbers and booleans are taken only as JSON numbers and booleans."""

    @classmethod
    def __get_pydantic_core_schema__(cls, source: type[BaseModel], handler: GetCoreSchemaHandler, /) -> CoreSchema:
        """The model's schema with its numbers and booleans strict."""
        return cast(CoreSchema, strict_scalars(handler(source)))
