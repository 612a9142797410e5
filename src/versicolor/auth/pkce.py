"""PKCE (RFC 7636) with the S256 method only: `plain` gives no protection once the challenge leaks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

METHOD = "S256"
# base64url of a SHA-256 digest, unpadded, is exactly 43 characters.
_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}$")
_VERIFIER = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")


def challenge_problem(challenge: str | None, method: str | None) -> str | None:
    """What is wrong with an authorization request's PKCE parameters, or None when they are fine (or absent)."""
    if challenge is None:
        return None if method is None else "code_challenge_method was given without code_challenge"
    if method != METHOD:
        return f"code_challenge_method must be {METHOD} (plain is not supported)"
    if not _CHALLENGE.match(challenge):
        return "code_challenge must be the 43-character base64url SHA-256 of the code_verifier"
    return None


def verifier_is_well_formed(verifier: str) -> bool:
    """Whether `verifier` has the length and alphabet RFC 7636 §4.1 requires."""
    return _VERIFIER.match(verifier) is not None


def challenge_of(verifier: str) -> str:
    """The S256 challenge of a verifier."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()


def verifies(verifier: str, challenge: str) -> bool:
    """Whether `verifier` is the one `challenge` was made from."""
    return verifier_is_well_formed(verifier) and hmac.compare_digest(challenge_of(verifier), challenge)
