"""What every Automation-dialect body shares: camelCase names and strict input."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    PlainSerializer,
    SerializerFunctionWrapHandler,
    WithJsonSchema,
    field_validator,
    model_serializer,
)
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from versicolor.api.strict_input import StrictInput
from versicolor.core import resources
from versicolor.core.errors import Invalid


def _iso_z(value: datetime) -> str:
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")


# Timestamps go out as ISO-8601 UTC with a Z (docs/conventions.md).
Timestamp = Annotated[datetime, PlainSerializer(_iso_z, return_type=str)]

# An object's id, in a path or a body (docs/conventions.md: int64). Any other whole number is accepted here on purpose:
# the core looks every id up through core.resources.check_id, so that one no object can have (0, negative,
# past int64) answers the same 404 as an unknown one, in a path and in a body alike (docs/resources.md, Ids).
Id = Annotated[int, WithJsonSchema({"type": "integer", "format": "int64", "minimum": 1})]


# Code a resource runs in the page (core/experiments/code.py holds the limit).
Code = Annotated[str | None, Field(description="kept exactly as sent; at most 256 KiB of UTF-8")]


class CamelOut(BaseModel):
    """An object as the Automation dialect renders it."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, from_attributes=True, serialize_by_alias=True
    )


class CamelIn(StrictInput):
    """A request body: camelCase names, unknown fields refused so that typos do not pass silently, numbers and
    booleans taken only as JSON numbers and booleans (api/strict_input.py)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=False, extra="forbid")


def not_null(*fields: str) -> Callable[[object], object]:
    """A validator for a body class refusing an explicit null in `fields` (a 400 naming the field)."""
    return field_validator(*fields)(_refuse_null)


def _refuse_null(value: object) -> object:
    # Absent means "default" or "unchanged"; an explicit null would mean "no value", which these cannot have.
    if value is None:
        raise PydanticCustomError("not_null", "cannot be null")
    return value


def check_path_id(kind: str, path_id: int, sent_id: int | None) -> None:
    """Refuse (400) a body whose `id` names another object than the path does (sending none is fine)."""
    if sent_id is not None and sent_id != path_id:
        raise Invalid.field("id", f"is {sent_id} but the path names {kind} {path_id}")


# A field Kameleoon's reference documents that Versicolor has no meaning for yet: any JSON value, kept and
# returned as it was given (docs/compatibility.md).
Kept = Annotated[JsonValue, Field(default=None, description="documented by Kameleoon; kept and returned as given")]


def kept_fields(body: BaseModel, kept: type[BaseModel]) -> dict[str, Any]:
    """The fields of `kept` (a class of Kept fields the body's class derives from) that the body sent, by name."""
    sent = body.model_fields_set
    return {field.alias or name: getattr(body, name) for name, field in kept.model_fields.items() if name in sent}


class KeptOut(CamelOut):
    """An answer that also carries the fields its object keeps as given (those it does not show itself)."""

    stored_fields: dict[str, Any] = Field(default_factory=dict, exclude=True)

    @model_serializer(mode="wrap")
    def _with_kept(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        for name, value in self.stored_fields.items():
            data.setdefault(name, value)
        return data


class ReadOnlyEcho(CamelIn):
    """Read-only fields every object shows, which a client may send back as it got them (GET, edit, PUT)."""

    id: Id | None = None
    date_created: datetime | None = None
    date_modified: datetime | None = Field(default=None, description="ignored: it changes with every write")

    def check_echo(self, kind: str, row: Any, *others: tuple[str, object, object]) -> None:
        """Refuse (400) an id, creation date or other read-only field (name, sent, current) that differs."""
        resources.check_unchanged(
            kind, [("id", self.id, row.id), ("dateCreated", self.date_created, row.date_created), *others]
        )
