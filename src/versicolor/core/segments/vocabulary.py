"""The words of a conditions tree: targeting types, the values they compare, and the older spellings they replace.

Kameleoon's spelling is the one answers show (`PHONE`, `NEW_VISITORS`, `GEOLOCATION`); the spellings Versicolor
used before (`MOBILE`, `NEW_VISITOR`, `COUNTRY`) are still read as input and turned into Kameleoon's.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum


class TargetingType(StrEnum):
    """What a condition looks at: the targeting types Versicolor evaluates, in Kameleoon's spelling."""

    PAGE_URL = "PAGE_URL"
    PAGE_TITLE = "PAGE_TITLE"
    LANDING_PAGE = "LANDING_PAGE"
    PREVIOUS_PAGE = "PREVIOUS_PAGE"
    ORIGIN = "ORIGIN"
    VISITED_PAGES = "VISITED_PAGES"
    DEVICE_TYPE = "DEVICE_TYPE"
    BROWSER = "BROWSER"
    OPERATING_SYSTEM = "OPERATING_SYSTEM"
    NEW_VISITORS = "NEW_VISITORS"
    GEOLOCATION = "GEOLOCATION"
    CUSTOM_DATUM = "CUSTOM_DATUM"
    JS_CODE = "JS_CODE"
    COOKIE = "COOKIE"
    DAY_OF_WEEK = "DAY_OF_WEEK"
    HOUR_MINUTE_RANGE = "HOUR_MINUTE_RANGE"
    TIME_RANGE = "TIME_RANGE"


# Versicolor's earlier names of targeting types, and what they are now.
OLD_TARGETING_TYPES: Mapping[str, TargetingType] = {
    "NEW_VISITOR": TargetingType.NEW_VISITORS,
    "COUNTRY": TargetingType.GEOLOCATION,
}

# Kameleoon targeting types Versicolor does not evaluate (yet): a condition of one of them is refused by name
# rather than silently taken as true or false.
NOT_EVALUATED: frozenset[str] = frozenset(
    {
        "ORIGIN_TYPE",
        "REFERRERS",
        "INTERESTS",
        "BROWSER_LANGUAGE",
        "SCREEN_DIMENSION",
        "VISITOR_IP",
        "AD_BLOCKER",
        "KEY_PAGES",
        "PAGE_VIEWS",
        "FIRST_VISIT",
        "LAST_VISIT",
        "ACTIVE_SESSION",
        "TIME_SINCE_PAGE_LOAD",
        "SAME_DAY_VISITS",
        "VISITS",
        "VISITS_BY_PAGE",
        "INTERNAL_SEARCH_KEYWORDS",
        "TABS_ON_SITE",
        "CONVERSION_PROBABILITY",
        "HEAT_SLICE",
        "SKY_STATUS",
        "TEMPERATURE",
        "DAY_NIGHT",
        "FORECAST_SKY_STATUS",
        "FORECAST_TEMPERATURE",
        "EVENT",
        "DOM_ELEMENT",
        "MOUSE_OUT",
        "EXPERIMENTS",
        "CONVERSIONS",
        "YSANCE_SEGMENT",
        "YSANCE_ATTRIBUT",
        "TEALIUM_BADGE",
        "TEALIUM_AUDIENCE",
        "PRICE_OF_DISPLAYED_PAGE",
        "NUMBER_OF_VISITED_PAGES",
        "MEAN_PAGE_DURATION",
        "TIME_SINCE_PREVIOUS_VISIT",
        "TARGET_FEATURE_FLAG",
        "TARGET_EXPERIMENT",
        "TARGET_PERSONALIZATION",
        "EXCLUSIVE_EXPERIMENT",
        "SDK_LANGUAGE",
        "APPLICATION_VERSION",
        "VISITOR_CODE",
        "SEGMENT",
    }
)


class DeviceType(StrEnum):
    """The kinds of device a visitor may use."""

    DESKTOP = "DESKTOP"
    TABLET = "TABLET"
    PHONE = "PHONE"


class Browser(StrEnum):
    """The browsers a visitor may use; everything else is OTHER."""

    CHROME = "CHROME"
    FIREFOX = "FIREFOX"
    SAFARI = "SAFARI"
    EDGE = "EDGE"
    OPERA = "OPERA"
    SAMSUNG_INTERNET = "SAMSUNG_INTERNET"
    INTERNET_EXPLORER = "INTERNET_EXPLORER"
    OTHER = "OTHER"


class OperatingSystem(StrEnum):
    """The operating systems a visitor may use."""

    WINDOWS = "WINDOWS"
    MAC = "MAC"
    IOS = "IOS"
    LINUX = "LINUX"
    ANDROID = "ANDROID"
    WINDOWS_PHONE = "WINDOWS_PHONE"


class VisitorType(StrEnum):
    """Whether a NEW_VISITORS condition asks for a first visit or a returning visitor."""

    NEW = "NEW"
    RETURNING = "RETURNING"


class Weekday(StrEnum):
    """The days a DAY_OF_WEEK condition names (the visitor's own calendar)."""

    MONDAY = "MONDAY"
    TUESDAY = "TUESDAY"
    WEDNESDAY = "WEDNESDAY"
    THURSDAY = "THURSDAY"
    FRIDAY = "FRIDAY"
    SATURDAY = "SATURDAY"
    SUNDAY = "SUNDAY"


# Older or other spellings of values, read as the value on the right.
VALUE_ALIASES: Mapping[type[StrEnum], Mapping[str, str]] = {
    DeviceType: {"MOBILE": DeviceType.PHONE},
    Browser: {"IE": Browser.INTERNET_EXPLORER},
}


def device_type(value: str | None) -> str | None:
    """A device type in today's spelling (`MOBILE`, the earlier name, is `PHONE`)."""
    return DeviceType.PHONE.value if value == "MOBILE" else value
