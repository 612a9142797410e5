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
    """The user a request acts as, in the account it belongs to."""

    account_id: int
    user_id: int | None
    role: Role

    def require(self, permission: Permission) -> None:
        """Raise Forbidden unless this caller's role carries `permission`."""
        if permission not in _GRANTS[self.role]:
            raise Forbidden(f"your role {self.role} does not allow this call (it needs {permission} access)")

    def can(self, permission: Permission) -> bool:
        """Whether this caller's role carries `permission`."""
        return permission in _GRANTS[self.role]
