"""Host names as Urls store them, and their registrable domain by the Public Suffix List (offline).

A host is stored lower case, without scheme, user, port, path or trailing dot, with internationalised labels
in punycode (`bücher.example` -> `xn--bcher-kva.example`). IP addresses and single-label hosts such as
`localhost` are their own domain. The list ships inside the `publicsuffixlist` package, private section
included, so that `shop.myshopify.com` is its own domain and never shares one with other customers' shops.
"""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache

import idna
from publicsuffixlist import PublicSuffixList

from versicolor.core.domains.values import shown
from versicolor.core.errors import Invalid

MAX_LENGTH = 253
MAX_LABEL = 63

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
_AUTHORITY_END = re.compile(r"[/?#\\]")
# Letters, digits and inner hyphens (RFC 1123); underscores too, which real hosts carry (`_dmarc`, `my_app`).
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?\Z")
_NUMERIC_LABEL = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)\Z")

# Explicit rules only: tells a known suffix (`com`) from an unknown single label (`localhost`, `intranet`).
_KNOWN_SUFFIXES = PublicSuffixList(accept_unknown=False)
# With the list's default rule `*`: `corp.internal` is the registrable domain of `app.corp.internal`.
_SUFFIXES = PublicSuffixList()


def normalize(value: object, *, field: str = "host") -> str:
    """The stored form of a host given as a host name, an address or a whole URL; Invalid names `field`."""
    if not isinstance(value, str):
        raise Invalid.field(field, f"must be a string such as app.example.com (got {shown(value)})")
    text = value.strip()
    if not text:
        raise Invalid.field(field, "must not be empty; give a host such as app.example.com")
    return _normalize(text, field)


@lru_cache(maxsize=4096)
def _normalize(text: str, field: str) -> str:
    host = _authority(text, field)
    if host.startswith("["):
        return _bracketed_ipv6(host, text, field)
    if host.count(":") > 1:
        return _address(host, text, field, "an IPv6 address")
    host, _, port = host.partition(":")
    if port and not (port.isascii() and port.isdigit() and int(port) <= 65535):
        raise Invalid.field(field, f"{shown(text)} has an invalid port {shown(port)}")
    if host.endswith("."):  # the root's dot: `example.com.` is `example.com`
        host = host[:-1]
    if not host:
        raise Invalid.field(field, f"{shown(text)} names no host; give a host such as app.example.com")
    try:
        return str(ipaddress.IPv4Address(host))
    except ValueError:
        pass
    return _domain_name(host, text, field)


def _authority(text: str, field: str) -> str:
    scheme = _SCHEME.match(text)
    if scheme:
        text = text[scheme.end() :]
    elif text.startswith("//"):
        text = text[2:]
    authority = _AUTHORITY_END.split(text, maxsplit=1)[0]
    return authority.rpartition("@")[2]  # drop `user:password@`


def _bracketed_ipv6(host: str, text: str, field: str) -> str:
    inside, closing, rest = host[1:].partition("]")
    port = rest[1:] if rest.startswith(":") else rest
    if not closing or (rest and not rest.startswith(":")) or (port and not port.isdigit()):
        raise Invalid.field(field, f"{shown(text)} is not a valid [IPv6]:port")
    return _address(inside, text, field, "an IPv6 address")


def _address(host: str, text: str, field: str, kind: str) -> str:
    try:
        return ipaddress.IPv6Address(host).compressed
    except ValueError:
        raise Invalid.field(field, f"{shown(text)} is not {kind}") from None


def _domain_name(host: str, text: str, field: str) -> str:
    if not host.isascii():
        try:
            host = idna.uts46_remap(host, std3_rules=False, transitional=False)
        except (idna.IDNAError, UnicodeError) as exc:
            raise Invalid.field(field, f"{shown(text)} is not a valid internationalised host name ({exc})") from None
    labels = host.lower().split(".")
    encoded = [_label(label, text, field) for label in labels]
    if _NUMERIC_LABEL.match(encoded[-1]):
        # `127.1` or `1.2.3.256`: browsers read a numeric last label as an IPv4 address, never as a name.
        raise Invalid.field(field, f"{shown(text)} is not a valid IPv4 address")
    result = ".".join(encoded)
    if len(result) > MAX_LENGTH:
        raise Invalid.field(field, f"{shown(text)} is {len(result)} characters long; a host has at most {MAX_LENGTH}")
    return result


def _label(label: str, text: str, field: str) -> str:
    if not label:
        raise Invalid.field(field, f"{shown(text)} has an empty label (two dots in a row, or a leading dot)")
    if not label.isascii():
        try:
            label = idna.alabel(label).decode("ascii")
        except (idna.IDNAError, UnicodeError) as exc:
            raise Invalid.field(field, f"{shown(text)} is not a valid internationalised host name ({exc})") from None
    elif label.startswith("xn--"):
        try:
            idna.ulabel(label)
        except (idna.IDNAError, UnicodeError):
            raise Invalid.field(field, f"{shown(text)} has an invalid punycode label {shown(label)}") from None
    if len(label) > MAX_LABEL:
        raise Invalid.field(
            field, f"{shown(text)} has a label of {len(label)} characters; a label has at most {MAX_LABEL}"
        )
    if not _LABEL.match(label):
        raise Invalid.field(
            field,
            f"{shown(text)} is not a host name: labels hold letters, digits, '-' and '_', "
            "and neither start nor end with '-'",
        )
    return label


def is_ip_address(host: str) -> bool:
    """Whether a normalised host is an IP address."""
    return ":" in host or _NUMERIC_LABEL.match(host.rpartition(".")[2]) is not None


@lru_cache(maxsize=4096)
def registrable_domain(host: str, *, field: str = "host") -> str:
    """The registrable domain of a normalised host (`app.example.co.uk` -> `example.co.uk`).

    IP addresses and single-label hosts are their own domain; `*.localhost` is `localhost` (RFC 6761). A host
    that is itself a public suffix (`co.uk`, `github.io`, `com`) cannot be a customer's: Invalid names `field`.
    """
    if is_ip_address(host) or host == "localhost":
        return host
    if host.endswith(".localhost"):
        return "localhost"
    if "." not in host:
        if _KNOWN_SUFFIXES.publicsuffix(host) is not None:
            raise Invalid.field(field, f"{host} is a top-level domain; give a domain under it such as example.{host}")
        return host
    domain = _SUFFIXES.privatesuffix(host)
    if domain is None:
        raise Invalid.field(
            field, f"{host} is a public suffix shared by many owners; give a domain under it such as example.{host}"
        )
    return str(domain)


def ancestors(host: str, domain: str) -> list[str]:
    """The hosts from `host`'s parent up to its registrable `domain`, nearest first (empty for the domain)."""
    if host == domain or not host.endswith("." + domain):
        return []
    labels = host.split(".")
    depth = domain.count(".") + 1
    return [".".join(labels[i:]) for i in range(1, len(labels) - depth + 1)]
