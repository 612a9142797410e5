"""The OAuth 2.0 grants: each turns a client's proof into tokens, or an RFC 6749 error."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from versicolor.auth import tokens
from versicolor.core import secrets
from versicolor.db.models import ApiCredential, User


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


@dataclass(frozen=True)
class TokenResponse:
    """The token endpoint's successful answer."""

    access_token: str
    expires_in: int
    refresh_token: str | None = None

    def as_json(self) -> dict[str, str | int]:
        """The JSON body of RFC 6749 §5.1."""
        body: dict[str, str | int] = {
            "access_token": self.access_token,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
        }
        if self.refresh_token is not None:
            body["refresh_token"] = self.refresh_token
        return body


async def client_credentials(
    *, session: AsyncSession, key: str, ttl: int, client_id: str, client_secret: str
) -> TokenResponse:
    """Exchange a user's API credentials for an access token acting as that user."""
    row = (
        await session.execute(
            select(ApiCredential, User)
            .join(User, User.id == ApiCredential.user_id)
            .where(ApiCredential.client_id == client_id)
        )
    ).first()
    if row is None or not secrets.matches(client_secret, row[0].secret_hash):
        raise invalid_client()
    credential, user = row
    issued = tokens.issue(
        key=key, user_id=user.id, account_id=user.account_id, ttl=ttl, generation=credential.generation
    )
    return TokenResponse(access_token=issued.token, expires_in=ttl)
