"""The values Urls and Url Groups accept, each checked once here with a message that names the field."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from enum import Enum, StrEnum
from typing import TypeVar

from versicolor.core.errors import Invalid


class Enabled(StrEnum):
    """A Url's authorisation state: `subdomain` also turns on hosts below it seen for the first time."""

    OFF = "off"
    ON = "on"
    SUBDOMAIN = "subdomain"


class UrlsActionOnArchive(StrEnum):
    """What archiving an Environment does to its Urls."""

    IGNORE = "ignore"
    ARCHIVE = "archive"


class Unset(Enum):
    """The type of UNSET: a field the request did not name (unlike null, which names it empty)."""

    UNSET = "unset"


UNSET = Unset.UNSET

E = TypeVar("E", bound=StrEnum)

NAME_LENGTH = 200
DESCRIPTION_LENGTH = 2000
SHORT_NAME_LENGTH = 3
_COLOR = re.compile(r"[0-9A-Fa-f]{6}\Z")


def now() -> datetime:
    """The current time in UTC, to the millisecond: what the API shows is exactly what is stored."""
    return to_ms(datetime.now(UTC))


def to_ms(at: datetime) -> datetime:
    """`at` in UTC, truncated to the millisecond (timestamps are rendered with milliseconds)."""
    if at.tzinfo is None:
        raise ValueError("naive datetimes are ambiguous; pass an aware one")
    at = at.astimezone(UTC)
    return at.replace(microsecond=at.microsecond // 1000 * 1000)


def shown(value: object) -> str:
    """A short rendering of a client's value for an error message."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value if len(value) <= 80 else value[:77] + "...")
    if isinstance(value, int | float):
        return str(value)
    return f"a JSON {'array' if isinstance(value, list | tuple) else 'object'}"


def choice(field: str, value: object, allowed: type[E]) -> E:
    """`value` as a member of `allowed`; anything else is Invalid, listing the allowed values."""
    if isinstance(value, str):
        for member in allowed:
            if member.value == value:
                return member
    names = ", ".join(member.value for member in allowed)
    raise Invalid.field(field, f"must be one of {names} (got {shown(value)})")


def enabled(value: object) -> Enabled:
    """A Url's `enabled` from the client; `true` and `false` (what the older public docs' clients send) are on/off."""
    if isinstance(value, bool):
        return Enabled.ON if value else Enabled.OFF
    return choice("enabled", value, Enabled)


def name(value: str) -> str:
    """An Environment's name: 1 to 200 characters, trimmed."""
    value = value.strip()
    if not value or len(value) > NAME_LENGTH:
        raise Invalid.field("name", f"must be 1 to {NAME_LENGTH} characters")
    return value


def description(value: str | None) -> str | None:
    """An Environment's description (null clears it)."""
    if value is not None and len(value) > DESCRIPTION_LENGTH:
        raise Invalid.field("description", f"must be at most {DESCRIPTION_LENGTH} characters")
    return value


def short_name(value: str | None) -> str | None:
    """An Environment's short name: 1 to 3 characters, trimmed (null clears it)."""
    if value is None:
        return None
    trimmed = value.strip()
    if not 1 <= len(trimmed) <= SHORT_NAME_LENGTH:
        raise Invalid.field("short_name", f"must be 1 to {SHORT_NAME_LENGTH} characters (got {shown(value)})")
    return trimmed


def color(value: str | None) -> str | None:
    """An Environment's colour: six hex digits without '#', stored upper case (null clears it)."""
    if value is None:
        return None
    if value.startswith("#"):
        raise Invalid.field(
            "style_short_name_color", f"must be 6 hex digits without the leading '#' (got {shown(value)})"
        )
    if not _COLOR.match(value):
        raise Invalid.field("style_short_name_color", f"must be 6 hex digits such as E7AD5A (got {shown(value)})")
    return value.upper()


def archive_state(
    *,
    archived_at: datetime | Unset | None,
    unlisted: bool | Unset,
    current: datetime | None,
    at: datetime,
) -> datetime | Unset | None:
    """The `archived_at` a request asks for, through either field (`unlisted` is its deprecated alias)."""
    if unlisted is UNSET:
        return archived_at if archived_at is UNSET or archived_at is None else to_ms(archived_at)
    if archived_at is not UNSET:
        if (archived_at is not None) != unlisted:
            raise Invalid.field(
                "unlisted",
                "disagrees with archived_at; unlisted is the deprecated alias of archived_at, send only archived_at",
            )
        return None if archived_at is None else to_ms(archived_at)
    if not unlisted:
        return None
    return current or at
