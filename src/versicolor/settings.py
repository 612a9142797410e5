"""Every setting of the service, read from `VERSICOLOR_*` environment variables (CLI flags override)."""

from __future__ import annotations

import ipaddress
import re
from typing import Literal
from urllib.parse import urlsplit

from limits import parse_many
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """The service's configuration; one instance is built at start-up and passed down explicitly."""

    model_config = SettingsConfigDict(env_prefix="VERSICOLOR_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///./versicolor.db",
        description="sqlite:///PATH or postgresql://user@host:port/dbname",
    )
    database_pool_size: int = Field(
        default=10,
        ge=1,
        le=1000,
        description="PostgreSQL connections each worker keeps open; every worker of every machine adds its own",
    )
    database_max_overflow: int = Field(
        default=20,
        ge=0,
        le=1000,
        description="Connections a PostgreSQL worker may open beyond the pool in a burst (closed when returned); "
        "workers x (pool size + overflow) must stay under the server's max_connections",
    )
    redis_url: str | None = Field(
        default=None, description="redis://host:port/db; shares rate limits and revocations across workers"
    )
    access_token_ttl: int = Field(default=7200, ge=60, description="Lifetime of access tokens, in seconds")
    refresh_token_ttl: int = Field(
        default=60 * 60 * 24 * 30, ge=60, description="Lifetime of refresh tokens, in seconds"
    )
    rate_limits: str = Field(
        default="50/10s;1000/1h",
        description="Per-token request limits: `;`-separated COUNT/[N]UNIT windows, UNIT s, m, h or d "
        "(e.g. 50/10s;1000/1h); empty for none",
    )
    anonymous_rate_limits: str = Field(
        default="50/10s;1000/1h",
        description="Per-address limits of Automation and v3 requests without a valid credential (none, a forged "
        "or expired token, a wrong account secret); same format; empty for none",
    )
    data_rate_limits: str = Field(
        default="500/1s;20000/1m",
        description="Per-token limits on the Data API (/data/v1), fit for an SDK's per-visitor calls; same format",
    )
    page_events_per_address: str = Field(
        default="1000/1m;20000/1h",
        description="Events pages (requests without a token) may send to the Data API per remote address; "
        "same format, counted in events",
    )
    page_events_per_site: str = Field(
        default="50000/1m",
        description="Events pages (requests without a token) may send to the Data API per site; same format",
    )
    new_hosts_per_site: str = Field(
        default="20/1h;100/1d",
        description="Urls a site's pages may create on a host's first contact (Domains); same format",
    )
    max_revenue_per_event: float = Field(
        default=1_000_000, gt=0, le=1e12, description="The largest revenue one conversion may carry"
    )
    max_revenue_per_visitor: float = Field(
        default=10_000_000, gt=0, le=1e15, description="The largest revenue one visitor's conversions may add up to"
    )
    redis_prefix: str = Field(
        default="versicolor:", description="Prefix of every Redis key, so deployments or test runs can share a Redis"
    )
    rate_limit_redis_retry: float = Field(
        default=5.0, gt=0, description="Seconds between attempts to reach Redis again after it failed"
    )
    require_https: bool = Field(default=True, description="Refuse plain-HTTP requests that do not come from loopback")
    public_url: str | None = Field(
        default=None,
        description="The service's public base URL (https://versicolor.example.com): absolute URLs it writes "
        "(Link headers, redirects) start with it; unset, they are relative. Never taken from the Host header",
    )
    secret_key: str | None = Field(
        default=None,
        description="Fernet key(s), comma-separated (the first seals, all open), that seal the signing keys "
        "stored in the database; unset, they are stored in clear",
        repr=False,
    )
    hsts_max_age: int = Field(
        default=31_536_000,
        ge=0,
        description="Strict-Transport-Security max-age, in seconds, on answers over HTTPS; 0 sends none",
    )
    trusted_proxies: str = Field(
        default="",
        description="Comma-separated addresses or CIDRs whose X-Forwarded-Proto is believed",
    )
    auth_sync_interval: float = Field(
        default=1.0,
        ge=0,
        description="Seconds between a worker's reads of the revocation journal when Redis does not signal changes",
    )
    auth_failures_before_backoff: int = Field(
        default=5,
        ge=1,
        description="Failed authentications of one client id or email from one network before each further one "
        "doubles the wait (1 s, 2 s, 4 s, ...)",
    )
    auth_backoff_ceiling: int = Field(
        default=900, ge=1, description="The longest wait, in seconds, between failed authentications"
    )
    auth_failures_per_address: str = Field(
        default="30/minute",
        description="Failed client or sign-in authentications allowed per network (an IPv4 address or an IPv6 /64), "
        "whatever identities it tries; empty for none",
    )
    callback_ports: str = Field(
        default="443,8443", description="Comma-separated ports a report's callbackUrl may name (https only)"
    )
    dashboard_session_ttl: int = Field(
        default=12 * 3600,
        ge=60,
        description="Seconds a dashboard sign-in lasts (/app); then the user signs in again",
    )
    keep_alive_timeout: int = Field(
        default=5,
        ge=1,
        le=3600,
        description="Seconds an idle HTTP connection stays open for its next request; behind a reverse proxy that "
        "keeps connections to the service, longer than the proxy's own idle timeout for them",
    )
    log_level: str = Field(default="info", description="debug, info, warning or error")
    log_format: Literal["text", "json"] = Field(
        default="text",
        description="text (uvicorn's lines) or json (one JSON object a line, with the request id); credentials "
        "are masked in both",
    )
    metrics_token: str | None = Field(
        default=None,
        min_length=16,
        description="A bearer token (16 characters or more) that may read /metrics in Prometheus text format; "
        "unset, /metrics is not served and requests are not timed",
        repr=False,
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_networks(cls, value: str) -> str:
        for entry in filter(None, (part.strip() for part in value.split(","))):
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError as exc:
                raise ValueError(f"trusted_proxies: {entry!r} is not an IP address or CIDR") from exc
        return value

    @field_validator("auth_failures_per_address")
    @classmethod
    def _limits_parse(cls, value: str) -> str:
        if not value.strip():
            return value
        try:
            parse_many(value)
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a limit like 10/minute or 30 per 10 minutes") from exc
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url_is_a_base(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise ValueError(f"public_url: {value!r} must be an http(s):// URL with a host (and a path at most)")
        return value.strip().rstrip("/")

    @field_validator("callback_ports")
    @classmethod
    def _ports_parse(cls, value: str) -> str:
        try:
            ports = [int(part) for part in value.split(",") if part.strip()]
        except ValueError:
            ports = []
        if not ports or any(not 1 <= port <= 65535 for port in ports):
            raise ValueError(f"callback_ports: {value!r} is not a comma-separated list of ports 1-65535")
        return value

    @field_validator(
        "rate_limits",
        "anonymous_rate_limits",
        "data_rate_limits",
        "page_events_per_address",
        "page_events_per_site",
        "new_hosts_per_site",
    )
    @classmethod
    def _windows_are_readable(cls, value: str) -> str:
        for part in (p.strip() for p in value.split(";")):
            if part and not re.fullmatch(r"[1-9]\d*\s*/\s*([1-9]\d*)?\s*[smhd]", part):
                raise ValueError(f"{part!r} is not COUNT/[N]UNIT with UNIT one of s, m, h, d (e.g. 50/10s;1000/1h)")
        return value
