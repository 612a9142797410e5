"""Rate limits per caller, as one pure ASGI middleware in front of every route (docs/conventions.md).

Whose windows a request counts in is decided from its credential, parsed once (api/credentials.py) and
checked before it is counted, so that a credential that does not hold costs no memory of its own:

- a bearer token whose signature and expiry hold: the token's windows (`rate_limits`), keyed by its `jti`;
  on the Data API (`/data/`) the token's Data API windows instead (`data_rate_limits`), fit for an SDK's
  per-visitor lookups;
- an account secret on `/v3` that belongs to an account: the secret's windows (`rate_limits`). Valid secrets
  are remembered a minute per process, so a known one is counted without a database round trip;
- anything else on the Automation and v3 APIs (no credential, a forged or expired token, a wrong secret): the
  remote address's windows (`anonymous_rate_limits`; an IPv6 address by its /64). Pages' Data API requests
  carry no credential and are limited where their cost is known (api/data/events.py); OAuth has its own
  throttle of failures (auth/throttle.py).

Every answer to a counted request carries `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset`
(Unix time, seconds, when the window's oldest counted request leaves it) for the window nearest to running
out. A 429 adds `Retry-After`; on /v3 also `X-Ratelimit-Wait` and `{"code": 429, "messages": [...], "wait": s}`.
The windows themselves, in memory or in Redis, are api/conventions/limiter.py's.
"""

from __future__ import annotations

import ipaddress
import time
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from versicolor.api import credentials
from versicolor.api.conventions.limiter import Limiter, Policy
from versicolor.api.conventions.windows import Decision
from versicolor.api.credentials import Credential, Kind
from versicolor.api.deps import app_token_gate
from versicolor.api.dialects import Dialect, dialect_of, error_response
from versicolor.api.routes import CheckedRoute
from versicolor.core.errors import Invalid, Unauthenticated
from versicolor.runtime import Runtime
from versicolor.settings import Settings

# How long a process remembers that an account secret is valid, to count it without a database round trip
# (authentication still checks it on every request), and how many it remembers.
_SECRET_MEMORY_SECONDS = 60.0
_SECRETS_REMEMBERED = 10_000


@dataclass(frozen=True)
class Policies:
    """Every limit of the service, as configured."""

    api: Policy  # per access token, or per account secret on /v3
    anonymous: Policy  # per address, Automation and v3 requests without a valid credential
    data: Policy  # per access token on the Data API
    page_events_per_address: Policy  # events pages send, per address
    page_events_per_site: Policy  # events pages send, per site
    new_hosts_per_site: Policy  # Urls made on first contact, per site

    @classmethod
    def from_settings(cls, settings: Settings) -> Policies:
        """The policies the settings describe."""
        return cls(
            api=Policy.parse("api", settings.rate_limits),
            anonymous=Policy.parse("anonymous", settings.anonymous_rate_limits),
            data=Policy.parse("data", settings.data_rate_limits),
            page_events_per_address=Policy.parse("page-address", settings.page_events_per_address, unit="event"),
            page_events_per_site=Policy.parse("page-site", settings.page_events_per_site, unit="event"),
            new_hosts_per_site=Policy.parse("new-hosts", settings.new_hosts_per_site, unit="new host"),
        )


def address_key(scope: Scope) -> str:
    """Whose address a request comes from, for limits: the address, an IPv6 one by its /64 (one subscriber)."""
    client = scope.get("client")
    host = client[0] if client else "local"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return f"address:{host[:64]}"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return f"address:{address.ipv4_mapped}"
        return f"address:{ipaddress.IPv6Network((address, 64), strict=False).network_address}/64"
    return f"address:{address}"


@dataclass(frozen=True)
class _Counted:
    policy: Policy
    key: str
    whose: str  # in the 429's message: "per access token"


class RateLimitMiddleware:
    """Counts each request in its caller's windows, refuses it with a 429 when over, and stamps the headers."""

    def __init__(self, app: ASGIApp, *, limiter: Limiter, policies: Policies) -> None:
        self.app = app
        self.limiter = limiter
        self.policies = policies
        self._valid_secrets: dict[str, float] = {}  # digest -> monotonic time until which it is remembered
        self._api_segments: frozenset[str] | None = None
        self._routes_seen = -1

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, self._closing_on_shutdown(send))
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            counted = await self._whose(scope)
        except Invalid as exc:
            response = error_response(dialect_of(scope["path"]), 400, exc.message, details=exc.details)
            await response(scope, receive, send)
            return
        if counted is None or not counted.policy:
            await self.app(scope, receive, send)
            return
        decision = await self.limiter.decide(counted.policy, counted.key)
        if not decision.allowed:
            await refuse(scope, receive, send, decision, counted.policy, counted.whose)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *decision.headers()]
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _whose(self, scope: Scope) -> _Counted | None:
        path: str = scope["path"]
        if path.startswith("/oauth/"):
            return None  # failed client authentications are throttled there (auth/throttle.py)
        data = path.startswith("/data/")
        credential = credentials.of(scope)
        if credential is not None:
            counted = await self._by_credential(scope, credential, data=data)
            if counted is not None:
                return counted
        elif data or not self._is_api(scope):
            return None  # pages' Data API requests are limited by their cost (api/data/events.py)
        return _Counted(self.policies.anonymous, address_key(scope), "address without valid credentials")

    async def _by_credential(self, scope: Scope, credential: Credential, *, data: bool) -> _Counted | None:
        runtime: Runtime | None = getattr(scope["app"].state, "runtime", None)
        if runtime is None:
            return None  # not started: nothing can be checked, and nothing is served but errors
        if credential.kind is Kind.BEARER:
            try:
                claims = credential.verify(app_token_gate(scope["app"]))
            except Unauthenticated:
                return None
            if data:
                return _Counted(self.policies.data, f"data-token:{claims.jti}", "access token on the Data API")
            return _Counted(self.policies.api, f"token:{claims.jti}", "access token")
        digest = credential.digest
        remembered = self._valid_secrets.get(digest)
        now = time.monotonic()
        if remembered is None or remembered < now:
            self._valid_secrets.pop(digest, None)
            if await credential.look_up_alone(runtime.sessions) is None:
                return None
            if len(self._valid_secrets) >= _SECRETS_REMEMBERED:
                self._valid_secrets.clear()
            self._valid_secrets[digest] = now + _SECRET_MEMORY_SECONDS
        return _Counted(self.policies.api, f"secret:{digest[:32]}", "account secret")

    def _is_api(self, scope: Scope) -> bool:
        """Whether the path leads to the Automation or v3 API (routes that check their caller)."""
        app: FastAPI = scope["app"]
        routes = app.router.routes
        if self._api_segments is None or self._routes_seen != len(routes):
            self._api_segments = frozenset(
                route.path[1:].partition("/")[0] for route in routes if isinstance(route, CheckedRoute)
            )
            self._routes_seen = len(routes)
        return scope["path"][1:].partition("/")[0] in self._api_segments

    def _closing_on_shutdown(self, send: Send) -> Send:
        async def closing(message: Message) -> None:
            if message["type"] == "lifespan.shutdown.complete":
                await self.limiter.aclose()
            await send(message)

        return closing


def refusal_message(decision: Decision, policy: Policy, whose: str) -> str:
    """The 429's message: which limit, whose, and when to try again."""
    return (
        f"rate limit exceeded: at most {decision.window.describe(policy.unit)} per {whose}; "
        f"retry in {decision.retry_after} second{'s' if decision.retry_after != 1 else ''}"
    )


async def refuse(
    scope: Scope,
    receive: Receive,
    send: Send,
    decision: Decision,
    policy: Policy,
    whose: str,
    headers: dict[str, str] | None = None,
) -> None:
    """Answer a 429 in the request's dialect, with the rate limit headers (and `headers`)."""
    dialect = dialect_of(scope["path"])
    extra: dict[str, Any] | None = None
    all_headers = {**(headers or {}), **{k.decode(): v.decode() for k, v in decision.headers()}}
    if dialect is Dialect.V3:
        extra = {"wait": decision.retry_after}
        all_headers["X-Ratelimit-Wait"] = str(decision.retry_after)
    message = refusal_message(decision, policy, whose)
    response = error_response(dialect, 429, message, headers=all_headers, extra=extra)
    await response(scope, receive, send)


def install(app: FastAPI, settings: Settings) -> Limiter:
    """Add the rate limit middleware to `app`; the limiter is kept at `app.state.rate_limiter`, the policies at
    `app.state.rate_limits`."""
    limiter = Limiter(
        redis_url=settings.redis_url, redis_prefix=settings.redis_prefix, redis_retry=settings.rate_limit_redis_retry
    )
    policies = Policies.from_settings(settings)
    app.state.rate_limiter = limiter
    app.state.rate_limits = policies
    app.add_middleware(RateLimitMiddleware, limiter=limiter, policies=policies)
    return limiter
