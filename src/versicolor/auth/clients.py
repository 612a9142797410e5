"""OAuth clients: a user's own API credentials, or a partner application. Both prove themselves with a secret."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from versicolor.auth.errors import OAuthError, invalid_client
from versicolor.core import secrets
from versicolor.db.models import ApiCredential, PartnerApp, User
from versicolor.db.types import utcnow

# Client ids and secrets Versicolor issues are far shorter; longer input is refused before any lookup.
MAX_CLIENT_ID = 64
MAX_CLIENT_SECRET = 128


class ClientKind(StrEnum):
    """Which grants a client may use."""

    CREDENTIALS = "credentials"  # a user's API credentials: client_credentials, acting as that user
    PARTNER_APP = "partner_app"  # a partner application: authorization_code and refresh_token


@dataclass(frozen=True)
class Client:
    """An authenticated client."""

    kind: ClientKind
    client_id: str
    # For CREDENTIALS: the user it acts as, and the credentials' generation.
    user_id: int | None = None
    account_id: int | None = None
    generation: int | None = None
    # For PARTNER_APP: the application, and whether it is a public client (no secret, PKCE required).
    app_id: int | None = None
    public: bool = False


async def authenticate(*, session: AsyncSession, client_id: str, client_secret: str | None) -> Client:
    """The client whose id and secret these are; raises invalid_client otherwise, whichever part was wrong.

    `client_secret` None: a public client, identified by its id alone (RFC 6749 §2.1); only a partner
    application registered as public is one.
    """
    if client_secret is None:
        if not client_id or len(client_id) > MAX_CLIENT_ID or "\x00" in client_id:
            raise invalid_client()
        public_id = await session.scalar(
            select(PartnerApp.id).where(PartnerApp.client_id == client_id, PartnerApp.public.is_(True))
        )
        if public_id is None:
            raise invalid_client()
        return Client(kind=ClientKind.PARTNER_APP, client_id=client_id, app_id=public_id, public=True)
    if (
        not client_id
        or len(client_id) > MAX_CLIENT_ID
        or len(client_secret) > MAX_CLIENT_SECRET
        or "\x00" in client_id  # PostgreSQL text cannot hold it, and no client id contains it
    ):
        raise invalid_client()
    row = (
        await session.execute(
            select(ApiCredential.secret_hash, ApiCredential.generation, User.id, User.account_id)
            .join(User, User.id == ApiCredential.user_id)
            .where(ApiCredential.client_id == client_id)
        )
    ).first()
    if row is not None:
        if not secrets.matches(client_secret, row.secret_hash):
            raise invalid_client()
        return Client(
            kind=ClientKind.CREDENTIALS,
            client_id=client_id,
            user_id=row.id,
            account_id=row.account_id,
            generation=row.generation,
        )
    app = (
        await session.execute(
            select(
                PartnerApp.id,
                PartnerApp.secret_hash,
                PartnerApp.previous_secret_hash,
                PartnerApp.previous_secret_expires_at,
            ).where(PartnerApp.client_id == client_id, PartnerApp.public.is_(False))
        )
    ).first()
    if app is None:
        raise invalid_client()
    # After a rotation the previous secret works too, until its overlap ends.
    previous_in_force = (
        app.previous_secret_hash is not None
        and app.previous_secret_expires_at is not None
        and app.previous_secret_expires_at > utcnow()
    )
    current = secrets.matches(client_secret, app.secret_hash)
    previous = previous_in_force and secrets.matches(client_secret, app.previous_secret_hash or "")
    if not (current or previous):
        raise invalid_client()
    return Client(kind=ClientKind.PARTNER_APP, client_id=client_id, app_id=app.id)


def require_kind(client: Client, kind: ClientKind, grant_type: str) -> None:
    """Raise unauthorized_client unless `client` may use a grant meant for `kind`."""
    if client.kind is kind:
        return
    if kind is ClientKind.CREDENTIALS:
        message = f"{grant_type} is for a user's own API credentials; partner applications use authorization_code"
    else:
        message = f"{grant_type} is for partner applications; API credentials use client_credentials"
    raise OAuthError("unauthorized_client", message)
