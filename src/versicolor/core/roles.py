"""Roles, the permissions they carry, and the caller a request acts as."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from versicolor.core.errors import Forbidden


class Role(StrEnum):
    """A user's role in its account (docs/oauth.md)."""

    ADMIN = "ADMIN"
    EDITOR = "EDITOR"
    VIEWER = "VIEWER"


class Permission(StrEnum):
    """What a call needs: reading, changing a site's resources, or administering the account."""

    READ = "read"
    WRITE = "write"
    ADMIN = "admin"


_GRANTS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.EDITOR: frozenset({Permission.READ, Permission.WRITE}),
    Role.VIEWER: frozenset({Permission.READ}),
}


@dataclass(frozen=True)
class Principal:
    """The user a request acts as, in the account it belongs to.

    `scopes` is None for the account's own credentials (a user's API credentials, the account secret, a signed-in
    page): they may do what the role allows. A partner application's token is *delegated*: it may do only what
    both the role and the scopes the user approved allow, and never administer the account.
    """

    account_id: int
    user_id: int | None
    role: Role
    scopes: frozenset[Permission] | None = None

    @property
    def delegated(self) -> bool:
        """Whether this caller acts through a partner application's token."""
        return self.scopes is not None

    def require(self, permission: Permission) -> None:
        """Raise Forbidden unless this caller's role, and its scopes if delegated, carry `permission`."""
        if permission not in _GRANTS[self.role]:
            raise Forbidden(f"your role {self.role} does not allow this call (it needs {permission} access)")
        if self.scopes is not None and permission not in self.scopes:
            if permission is Permission.ADMIN:
                raise Forbidden(DELEGATED_ADMIN)
            granted = " ".join(sorted(p.value for p in self.scopes)) or "none"
            raise Forbidden(
                f"this partner application's token was granted the scopes {granted!r}; this call needs the "
                f"{permission.value!r} scope: the application must ask the user again with scope={permission.value}"
            )

    def require_first_party(self) -> None:
        """Raise Forbidden if this caller is a partner application's token (credential and user management)."""
        if self.scopes is not None:
            raise Forbidden(DELEGATED_ADMIN)

    def can(self, permission: Permission) -> bool:
        """Whether this caller's role, and its scopes if delegated, carry `permission`."""
        return permission in _GRANTS[self.role] and (self.scopes is None or permission in self.scopes)


DELEGATED_ADMIN = (
    "a partner application's token cannot make this call: managing users, API credentials, the account secret, "
    "partner applications and signing keys needs a token from the account's own API credentials"
)
