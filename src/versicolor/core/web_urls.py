"""The URLs Versicolor stores for people and pages to follow (a site's url, an experiment's baseURL, a variation's
redirection): `http` or `https`, with a host, and nothing a browser would read another way.

A stored `javascript:` URL becomes a script the moment a page or the dashboard links to it, so every such URL is
checked here when it is saved; the empty string is not a URL either. (A results `callbackUrl` is stricter still,
https only, and checked with its network rules in results/.)
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from versicolor.core.domains import hosts
from versicolor.core.domains.values import shown
from versicolor.core.errors import Invalid

MAX_LENGTH = 2048
SCHEMES = ("http", "https")
# Spaces and control characters: browsers strip or reinterpret them (`java\tscript:`), so a URL holding one is
# refused rather than stored as something other than what it will be read as.
_NOT_IN_A_URL = re.compile(r"[\x00-\x20\x7f]")
_EXAMPLE = "https://shop.example/"


def checked(field: str, value: object) -> str:
    """`value` as stored: an absolute http(s) URL with a host, at most MAX_LENGTH characters; Invalid names `field`."""
    if not isinstance(value, str):
        raise Invalid.field(field, f"must be a URL such as {_EXAMPLE} (got {shown(value)})")
    url = value.strip()
    if not url:
        raise Invalid.field(field, f"must not be empty; give a URL such as {_EXAMPLE}")
    if len(url) > MAX_LENGTH:
        raise Invalid.field(field, f"must be at most {MAX_LENGTH} characters")
    if _NOT_IN_A_URL.search(url):
        raise Invalid.field(field, "must not hold spaces or control characters; percent-encode them (%20)")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError on a port that is not a number from 0 to 65535
    except ValueError:
        raise Invalid.field(field, f"{shown(url)} is not a URL; give one such as {_EXAMPLE}") from None
    if parts.scheme.lower() not in SCHEMES:
        scheme = f"{parts.scheme}:" if parts.scheme else "no scheme"
        raise Invalid.field(field, f"must be an http:// or https:// URL (got {scheme}), such as {_EXAMPLE}")
    if not parts.hostname:
        raise Invalid.field(field, f"{shown(url)} names no host; give a URL such as {_EXAMPLE}")
    if "@" in parts.netloc:
        raise Invalid.field(field, "must not carry a user name or password (user:password@)")
    hosts.normalize(parts.netloc, field=field)  # a host Domains could hold: labels, IDN, addresses, port
    return url
