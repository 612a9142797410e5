"""Generating and checking the random secrets Versicolor hands out (client secrets, account secrets)."""

from __future__ import annotations

import hashlib
import hmac
import secrets as _random

# Generated secrets carry 256 bits of entropy, so a fast hash is enough to keep them unreadable at rest
# (argon2 is for passwords people choose); it also keeps per-request secret checks cheap.


def new_secret() -> str:
    """A new random secret, URL-safe."""
    return _random.token_urlsafe(32)


def new_client_id() -> str:
    """A new public client identifier."""
    return _random.token_hex(16)


def digest(secret: str) -> str:
    """The stored form of a generated secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


def matches(secret: str, stored_digest: str) -> bool:
    """Whether `secret` is the one whose digest is stored, in constant time."""
    return hmac.compare_digest(digest(secret), stored_digest)
