"""Every setting of the service, read from `VERSICOLOR_*` environment variables (CLI flags override)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """The service's configuration; one instance is built at start-up and passed down explicitly."""

    model_config = SettingsConfigDict(env_prefix="VERSICOLOR_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///./versicolor.db",
        description="sqlite:///PATH or postgresql://user@host:port/dbname",
    )
    redis_url: str | None = Field(
        default=None, description="redis://host:port/db; shares rate limits and revocations across workers"
    )
    access_token_ttl: int = Field(default=7200, ge=60, description="Lifetime of access tokens, in seconds")
    refresh_token_ttl: int = Field(
        default=60 * 60 * 24 * 30, ge=60, description="Lifetime of refresh tokens, in seconds"
    )
    rate_limits: str = Field(
        default="50/10s;1000/1h", description="Per-token request limits, `;`-separated COUNT/WINDOW pairs"
    )
    require_https: bool = Field(default=True, description="Refuse plain-HTTP requests that do not come from loopback")
    trusted_proxies: str = Field(
        default="",
        description="Comma-separated addresses or CIDRs whose X-Forwarded-Proto is believed",
    )
    log_level: str = Field(default="info", description="debug, info, warning or error")
