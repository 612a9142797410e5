"""The page engine as served: the parts in js/ wrapped in one function and given the site's settings.

The readable sources are served minified (rjsmin: comments and whitespace out, names kept), built once per
process. The body is the same for every page of a site until the engine or the site's settings change, so its
ETag is a hash of the exact bytes.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from importlib import resources

import rjsmin

# In this order: what each part uses is defined by a part before it (engine.js runs last).
PARTS = ("assign.js", "regex.js", "segments.js", "engine.js")
HEADER = "/*! Versicolor page engine: docs/engine.md */\n"
DEFAULT_ANTI_FLICKER_MS = 1000


@dataclass(frozen=True)
class SiteSettings:
    """What a site's engine is told: its code, how long the page may stay hidden, and whether it waits for consent."""

    code: str
    anti_flicker_timeout: int = DEFAULT_ANTI_FLICKER_MS
    consent_required: bool = False


@dataclass(frozen=True)
class EngineScript:
    """The script as sent: its exact bytes and their entity tag."""

    body: bytes
    etag: str

    def matches(self, if_none_match: str | None) -> bool:
        """Whether an If-None-Match header names this version (weak comparison)."""
        if not if_none_match:
            return False
        if if_none_match.strip() == "*":
            return True
        wanted = self.etag.removeprefix("W/")
        return any(tag.strip().removeprefix("W/") == wanted for tag in if_none_match.split(","))


def source() -> str:
    """The engine's readable source: its parts, in order, as one text."""
    folder = resources.files("versicolor.engine") / "js"
    return "\n".join(folder.joinpath(part).read_text(encoding="utf-8") for part in PARTS)


@functools.cache
def minified() -> str:
    """The engine's code, minified, once per process."""
    code: str = rjsmin.jsmin(source())
    return code


def for_site(settings: SiteSettings) -> EngineScript:
    """The script a site's pages load."""
    told = json.dumps(
        {
            "site": settings.code,
            "timeout": settings.anti_flicker_timeout,
            "consent": settings.consent_required,
        },
        separators=(",", ":"),
    )
    body = (
        f'{HEADER}(function(){{"use strict";{minified()}\n'
        f'try{{engine({told})}}catch(e){{console.warn("[versicolor]",e)}}}})();\n'
    ).encode()
    return EngineScript(body=body, etag=f'"{hashlib.sha256(body).hexdigest()[:32]}"')
