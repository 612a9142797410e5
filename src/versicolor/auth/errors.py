"""The errors of the OAuth endpoints, in RFC 6749 §5.2 terms."""

from __future__ import annotations


class OAuthError(Exception):
    """An RFC 6749 §5.2 error: `error` is the code, `description` says what to do about it."""

    def __init__(self, error: str, description: str, *, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


def invalid_client() -> OAuthError:
    """The one answer for any failed client authentication, whichever part was wrong."""
    return OAuthError("invalid_client", "client authentication failed: unknown client_id or wrong secret", status=401)


def invalid_request(description: str) -> OAuthError:
    """A request that is missing a parameter, repeats one, or is otherwise malformed."""
    return OAuthError("invalid_request", description)


def invalid_grant(description: str) -> OAuthError:
    """A code or refresh token that is unknown, expired, used, revoked or bound to something else."""
    return OAuthError("invalid_grant", description)


class Replayed(Exception):
    """A code or refresh token was presented again: what it issued the first time must be revoked.

    Raised inside the transaction that noticed, which then rolls back; the revocation runs in its own.
    `authorization_id` names what to revoke, or `code_id` the code whose authorization it is.
    """

    def __init__(self, description: str, *, authorization_id: int | None = None, code_id: int | None = None) -> None:
        super().__init__(description)
        self.description = description
        self.authorization_id = authorization_id
        self.code_id = code_id
