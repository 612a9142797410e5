"""The fields sync knows for each kind of object: their types, defaults, and the checks a manifest must pass."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from versicolor.sync.documents import Node, Problem

REQUIRED = object()
KEY = re.compile(r"[a-z0-9][a-z0-9._-]{0,99}")
KEY_RULE = "1 to 100 lower-case letters, digits, '.', '_' or '-', starting with a letter or a digit"

GOAL_TYPES = ("CLICK", "URL", "PAGE_VIEWS", "CUSTOM", "SCROLL", "TIME_SPENT")
GOAL_STATUSES = ("ACTIVE", "INACTIVE")
EXPERIMENT_TYPES = ("CLASSIC", "DEVELOPER", "AI", "MVT", "SDK_HYBRID")
STATUSES = ("DRAFT", "SCHEDULED", "ACTIVE", "PAUSED", "STOPPED", "DEACTIVATED")


@dataclass(frozen=True)
class Known:
    """A field sync understands: `kind` is text, text?, choice, bool, int?, object, object?, texts."""

    kind: str
    default: Any = REQUIRED
    choices: tuple[str, ...] = ()


GOAL = {
    "name": Known("text"),
    "type": Known("choice", choices=GOAL_TYPES),
    "params": Known("object", default={}),
    "hasMultipleConversions": Known("bool", default=False),
    "status": Known("choice", default="ACTIVE", choices=GOAL_STATUSES),
    "description": Known("text?", default=None),
    "tags": Known("texts", default=[]),
}
SEGMENT = {
    "name": Known("text"),
    "conditionsData": Known("object"),
    "segmentType": Known("text", default="STANDARD"),
    "description": Known("text?", default=None),
    "tags": Known("texts", default=[]),
}
EXPERIMENT = {
    "name": Known("text"),
    "baseURL": Known("text"),
    "type": Known("choice", default="CLASSIC", choices=EXPERIMENT_TYPES),
    "description": Known("text?", default=None),
    "tags": Known("texts", default=[]),
}
VARIATION = {
    "name": Known("text"),
    "color": Known("int?", default=None),
    "redirection": Known("object?", default=None),
}

# Fields the server sets or that sync writes another way: a manifest that gives them is told what to do instead.
SERVER_SET = {
    "id": "ids belong to one server; objects are matched by key",
    "siteId": "the folder's site is named in site.yaml",
    "key": "the key is the name the object is given in the folder",
    "experimentId": "a variation belongs to the experiment whose manifest lists it",
    "variations": "list variations under `variations:` by key",
    "mainGoalId": "name the main goal by key: mainGoal",
    "targetingSegmentId": "name the segment by key: targetingSegment",
    "jsCode": "put the code in a .js file beside the manifest and name it: jsFile",
    "cssCode": "put the code in a .css file beside the manifest and name it: cssFile",
    "commonJavaScriptCode": "put the code in a .js file beside the manifest and name it: commonJavaScriptFile",
    "commonCssCode": "put the code in a .css file beside the manifest and name it: commonCssFile",
}


# Fields an answer carries that describe the object rather than set it: never written to a folder nor sent.
SHOWN_ONLY = frozenset({"siteCode", "schedules", "globalScript", "snippet", "status"})


def is_server_set(name: str) -> bool:
    """Whether the server sets this field itself (ids, dates, the site's code, the schedule...)."""
    return name in SERVER_SET or name in SHOWN_ONLY or name.startswith("date")


def check_key(value: object, node: Node, what: str, problems: list[Problem]) -> bool:
    """Whether `value` is a valid key; otherwise a problem naming `what`."""
    if isinstance(value, str) and KEY.fullmatch(value):
        return True
    problems.append(Problem(node.where, f"{what} {value!r} is not a key: use {KEY_RULE}"))
    return False


def check(known: Known, node: Node, name: str, problems: list[Problem]) -> Any:
    """The value of `node` for field `name` if it fits `known`; otherwise None and a problem."""
    value = node.value
    kind = known.kind
    nullable = kind.endswith("?")
    if value is None and nullable:
        return None
    base = kind.rstrip("?")
    if base == "text" and isinstance(value, str):
        if not nullable and not value.strip():
            problems.append(Problem(node.where, f"{name} cannot be empty"))
            return None
        return value.strip() if name == "name" else value
    if base == "choice" and isinstance(value, str) and value in known.choices:
        return value
    if base == "bool" and isinstance(value, bool):
        return value
    if base == "int" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if base == "object" and isinstance(value, dict):
        return node.plain()
    if base == "texts" and isinstance(value, list) and all(isinstance(item.value, str) for item in value):
        return list(dict.fromkeys(item.value.strip() for item in value))
    problems.append(Problem(node.where, f"{name} {_expected(known)}, not {_describe(value)}"))
    return None


def _expected(known: Known) -> str:
    described = {
        "text": "must be text",
        "choice": "must be one of " + ", ".join(known.choices),
        "bool": "must be true or false",
        "int": "must be a whole number",
        "object": "must be a mapping",
        "texts": "must be a list of text",
    }[known.kind.rstrip("?")]
    return described + (" or null" if known.kind.endswith("?") else "")


def _describe(value: object) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "null (nothing)"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean: put text in quotes)"
    return repr(value)
