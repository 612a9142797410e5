"""Partner applications: registered by an operator for an account, authorized by users of any account."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from versicolor.auth import revocation
from versicolor.core import resources, secrets
from versicolor.core.errors import Invalid, NotFound
from versicolor.core.roles import Principal
from versicolor.db.models import Account, PartnerApp
from versicolor.db.types import utcnow

MAX_REDIRECT_URIS = 20
MAX_REDIRECT_URI_LENGTH = 2048
_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
_UNSAFE = re.compile(r"[\s\x00-\x1f\x7f]")


@dataclass(frozen=True)
class NewApp:
    """A freshly registered application and its secret, shown this once (None for a public client)."""

    app: PartnerApp
    client_secret: str | None


def check_redirect_uri(uri: str) -> str:
    """A redirect URI as registered; raises Invalid unless it is an absolute https URL (http only for loopback)."""
    if not uri or len(uri) > MAX_REDIRECT_URI_LENGTH or _UNSAFE.search(uri):
        raise Invalid.field("redirect_uri", f"must be an absolute URL of at most {MAX_REDIRECT_URI_LENGTH} characters")
    parts = urlsplit(uri)
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not host:
        raise Invalid.field("redirect_uri", f"{uri!r} is not an absolute https:// URL")
    if parts.scheme == "http" and host not in _LOOPBACK_HOSTS:
        raise Invalid.field("redirect_uri", f"{uri!r} must use https:// (http:// is allowed for localhost only)")
    if parts.fragment or "#" in uri:
        raise Invalid.field("redirect_uri", f"{uri!r} must not have a #fragment (RFC 6749 §3.1.2)")
    if "@" in parts.netloc:
        raise Invalid.field("redirect_uri", f"{uri!r} must not carry a user name or password")
    return uri


async def create(
    *, session: AsyncSession, account_id: int, name: str, redirect_uris: Sequence[str], public: bool = False
) -> NewApp:
    """Register a partner application for an account, with one or more redirect URIs.

    A public client (a native or single-page app, which cannot keep a secret) gets no secret, and every
    authorization request of it must carry a PKCE challenge.
    """
    if await session.get(Account, account_id) is None:
        raise NotFound.object("account", account_id)
    if not redirect_uris:
        raise Invalid.field("redirect_uri", "give at least one redirect URI")
    if len(redirect_uris) > MAX_REDIRECT_URIS:
        raise Invalid.field("redirect_uri", f"at most {MAX_REDIRECT_URIS} redirect URIs")
    uris = list(dict.fromkeys(check_redirect_uri(uri) for uri in redirect_uris))
    client_secret = None if public else secrets.new_secret()
    app = PartnerApp(
        account_id=account_id,
        name=resources.name(name),
        client_id=secrets.new_client_id(),
        # A public client's "secret" is the digest of nothing anyone can send (clients.authenticate never
        # compares it): a random value, so that no string matches it.
        secret_hash=secrets.digest(client_secret or secrets.new_secret()),
        public=public,
        redirect_uris=uris,
    )
    session.add(app)
    await session.flush()
    return NewApp(app=app, client_secret=client_secret)


def scoped(principal: Principal) -> Select[PartnerApp]:
    """Every application the caller's account registered, as a query to refine."""
    return select(PartnerApp).where(PartnerApp.account_id == principal.account_id)


async def get(*, session: AsyncSession, principal: Principal, app_id: int) -> PartnerApp:
    """An application of the caller's account."""
    return await resources.one(
        session, scoped(principal).where(PartnerApp.id == app_id), kind="application", object_id=app_id
    )


async def delete(*, session: AsyncSession, principal: Principal, app_id: int) -> None:
    """Delete an application of the caller's account; every token issued to it stops working."""
    principal.require_first_party()
    app = await get(session=session, principal=principal, app_id=app_id)
    await revocation.revoke_app_tokens(session=session, app_id=app.id)
    await session.delete(app)
    await session.flush()


MAX_SECRET_OVERLAP = timedelta(days=30)


async def rotate_secret(
    *, session: AsyncSession, principal: Principal, app_id: int, overlap: timedelta
) -> tuple[PartnerApp, str]:
    """Give an application a new secret (shown this once); the current one keeps working for `overlap`, so that
    the application can be redeployed with the new one without a moment refused. Not for public clients."""
    principal.require_first_party()
    if not timedelta(0) <= overlap <= MAX_SECRET_OVERLAP:
        raise Invalid.field("overlapSeconds", f"must be between 0 and {int(MAX_SECRET_OVERLAP.total_seconds())}")
    app = await get(session=session, principal=principal, app_id=app_id)
    if app.public:
        raise Invalid.field("application", f"{app.name} is a public client: it has no secret to rotate")
    client_secret = secrets.new_secret()
    app.previous_secret_hash = app.secret_hash if overlap else None
    app.previous_secret_expires_at = utcnow() + overlap if overlap else None
    app.secret_hash = secrets.digest(client_secret)
    await session.flush()
    return app, client_secret


async def by_client_id(*, session: AsyncSession, client_id: str) -> PartnerApp | None:
    """The application a client id names, whichever account registered it (for the authorization page)."""
    if not client_id or len(client_id) > 64 or "\x00" in client_id:
        return None
    return await session.scalar(select(PartnerApp).where(PartnerApp.client_id == client_id))
