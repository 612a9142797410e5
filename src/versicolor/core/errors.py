"""The one hierarchy of domain errors; each API dialect maps it to a status and a body in one place."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Detail:
    """One problem with one field of the input."""

    field: str
    message: str


class DomainError(Exception):
    """Base of every error the domain raises on purpose; `message` is written for the API's user."""

    def __init__(self, message: str, *, details: list[Detail] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []


class Invalid(DomainError):
    """The input cannot be accepted as it is (400)."""

    @classmethod
    def field(cls, field: str, message: str) -> Invalid:
        """An error about one named field; the message leads with the field's name."""
        return cls(f"{field}: {message}", details=[Detail(field, message)])


class NotFound(DomainError):
    """No such object in the caller's account (404); another account's objects are reported the same."""

    @classmethod
    def object(cls, kind: str, object_id: object) -> NotFound:
        """The standard message for an unknown id."""
        return cls(f"{kind} {object_id} not found")


class Conflict(DomainError):
    """The object's current state does not allow the action (409)."""


class Forbidden(DomainError):
    """The caller is known but not allowed to do this (403)."""


class Unauthenticated(DomainError):
    """The caller could not be identified: token missing, malformed, forged or expired (401)."""


class TooManyAttempts(DomainError):
    """Too many failed attempts at a secret: wait `retry_after` seconds (429)."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
