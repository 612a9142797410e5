"""How many events pages may send: per remote address and per site, counted in events (docs/tracking.md).

A page proves nothing but the host it names, and anyone can name an enabled host, so what pages send is
bounded where its cost is known: once the batch is read, each of its events takes a slot in the address's
windows (`page_events_per_address`) and in the site's (`page_events_per_site`). A bearer token's batches are
counted per token by the rate limit middleware instead (`data_rate_limits`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request
from fastapi.responses import JSONResponse

from versicolor.api.conventions.limiter import Limiter
from versicolor.api.conventions.ratelimit import Policies, address_key, refusal_message
from versicolor.api.conventions.windows import Decision
from versicolor.api.dialects import Dialect, error_response
from versicolor.core.errors import Invalid
from versicolor.tracking.sites import SiteRef


@dataclass(frozen=True)
class Counted:
    """Whether a page's batch fits its windows: the headers of its answer, or the 429 it gets."""

    allowed: bool
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    message: str = ""
    decision: Decision | None = None

    def refusal(self, cors: dict[str, str]) -> JSONResponse:
        """The 429, with the CORS headers so that the page can read it."""
        assert self.decision is not None
        headers = {**cors, **{k.decode(): v.decode() for k, v in self.decision.headers()}}
        return error_response(Dialect.AUTOMATION, 429, self.message, headers=headers)


async def count_events(request: Request, site: SiteRef, events: int) -> Counted:
    """Count a page's batch of `events` in its address's and its site's windows, if both have room."""
    limiter: Limiter = request.app.state.rate_limiter
    policies: Policies = request.app.state.rate_limits
    nearest: Decision | None = None
    for policy, key, whose in (
        (policies.page_events_per_address, address_key(request.scope), "address sending without a token"),
        (policies.page_events_per_site, f"site:{site.id}", "site from pages"),
    ):
        if not policy:
            continue
        smallest = min(w.limit for w in policy.windows)
        if events > smallest:
            raise Invalid.field(
                "events",
                f"the batch has {events} events; a page may send at most {smallest} in one batch "
                f"(at most {min(policy.windows, key=lambda w: w.limit).describe('event')} per {whose.split()[0]})",
            )
        decision = await limiter.decide(policy, key, cost=events)
        if not decision.allowed:
            return Counted(allowed=False, message=refusal_message(decision, policy, whose), decision=decision)
        if nearest is None or decision.remaining < nearest.remaining:
            nearest = decision
    return Counted(allowed=True, headers=nearest.headers() if nearest is not None else [])
