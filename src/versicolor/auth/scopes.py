"""What a partner application's tokens may do: the scopes a user approves on the authorization page.

A partner application asks for scopes (`scope=read write`, RFC 6749 §3.3); the consent page shows them; its
tokens then carry them, and each call needs both the user's role and the scope to allow it. Whatever the
scopes, a partner token never administers the account (users, API credentials, the account secret, partner
applications, signing keys): those calls need the account's own, first-party credentials, so that nothing a
partner's token creates can outlive the revocation of that token.

Tokens from a user's own API credentials (the client credentials grant) carry no scope: they can do what the
user's role allows.
"""

from __future__ import annotations

from collections.abc import Iterable

from versicolor.core.roles import Permission

READ = "read"
WRITE = "write"
# Each scope, the permission it lends, and what the consent page says about it.
SCOPES: dict[str, tuple[Permission, str]] = {
    READ: (Permission.READ, "see your account's sites, experiments, goals, segments, domains and results"),
    WRITE: (Permission.WRITE, "create, change, start, stop and delete them"),
}
DEFAULT = (READ,)
# Authorizations made before scopes existed acted with the user's role: they keep reading and writing.
LEGACY = (READ, WRITE)
MAX_SCOPE = 200


class ScopeError(ValueError):
    """A scope parameter that names no scope Versicolor has."""


def parse(value: str | None) -> tuple[str, ...]:
    """The scopes a `scope` parameter asks for, in canonical order (DEFAULT when absent); raises ScopeError."""
    if value is None or not value.strip():
        return DEFAULT
    if len(value) > MAX_SCOPE:
        raise ScopeError(f"scope is over {MAX_SCOPE} characters")
    asked = set(value.split())
    unknown = sorted(asked - SCOPES.keys())
    if unknown:
        raise ScopeError(f"unknown scope {unknown[0][:32]!r}: the scopes are {' and '.join(SCOPES)}")
    return canonical(asked)


def canonical(scopes: Iterable[str]) -> tuple[str, ...]:
    """`scopes` in the order of SCOPES, once each."""
    given = set(scopes)
    return tuple(name for name in SCOPES if name in given)


def stored(value: str | None) -> tuple[str, ...]:
    """The scopes a stored authorization or a token's claim holds (LEGACY when it predates scopes)."""
    if value is None:
        return LEGACY
    return canonical(name for name in value.split() if name in SCOPES)


def permissions(scopes: Iterable[str]) -> frozenset[Permission]:
    """The permissions `scopes` lend (never ADMIN: no scope lends it)."""
    return frozenset(SCOPES[name][0] for name in scopes if name in SCOPES)
