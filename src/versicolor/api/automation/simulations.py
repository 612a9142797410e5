"""`GET /experiments/simulate/{id}`: preview links, one per variation, that show it in one browser, untracked.

Each link is a page of the site (the experiment's `baseURL`) with a signed token the page engine reads
(engine/preview.py): it shows that variation in that browser tab, drafts included, and sends nothing. Links
last 24 hours. Another account's experiment is a 404.

Kameleoon's clients read this answer as text and open it as the link (a deploy script opens it in the browser
once the code is pushed): that is the answer, as `text/plain`, unless the request asks for JSON alone
(`Accept: application/json`, without `text/plain` or `text/*`), which gets every link with its variation. The
one link is the first variation's (the original's when the experiment has none): what was just deployed.
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request, Response
from fastapi.responses import PlainTextResponse

from versicolor.api.automation.schemas import CamelOut, Id, Timestamp
from versicolor.api.deps import DbSession, runtime_of
from versicolor.api.routes import CheckedRoute
from versicolor.api.security import Caller
from versicolor.core.experiments import experiments
from versicolor.db.models import Site
from versicolor.db.types import utcnow
from versicolor.engine import preview

router = APIRouter(prefix="/experiments", tags=["experiments"], route_class=CheckedRoute)


class PreviewLinkOut(CamelOut):
    """A link that previews one variation (0: the original) of the experiment."""

    experiment_id: int
    variation_id: int
    variation_name: str
    url: str
    expires_at: Timestamp


def _wants_the_list(request: Request) -> bool:
    """Whether the request's `Accept` names JSON and not text (a media range with `q=0` names nothing)."""
    named = set()
    for media_range in request.headers.get("accept", "").split(","):
        media_type, *parameters = (part.strip().lower() for part in media_range.split(";"))
        weights = [value for name, _, value in (p.partition("=") for p in parameters) if name.strip() == "q"]
        try:
            refused = bool(weights) and float(weights[0]) == 0
        except ValueError:
            refused = False
        if not refused:
            named.add(media_type)
    return "application/json" in named and not named & {"text/plain", "text/*"}


@router.get(
    "/simulate/{experiment_id}",
    response_model=list[PreviewLinkOut],
    responses={
        200: {
            "description": "The first variation's link as text (the original's without variations); every link "
            "with its variation for `Accept: application/json`",
            "content": {"text/plain": {"schema": {"type": "string", "format": "uri"}}},
        }
    },
)
async def simulate_experiment(
    experiment_id: Id, request: Request, session: DbSession, caller: Caller
) -> list[PreviewLinkOut] | Response:
    """Preview links for the experiment's original and each variation, valid for 24 hours."""
    experiment = await experiments.get(session=session, principal=caller, experiment_id=experiment_id)
    site = await session.get(Site, experiment.site_id)
    assert site is not None  # an experiment's site is deleted with it
    key = runtime_of(request).signing_key
    expires_at = utcnow() + timedelta(seconds=preview.LIFETIME_SECONDS)
    variations = await experiments.variations_of(session=session, experiment=experiment)
    shown = [(0, "Original")] + [(v.id, v.name) for v in variations]
    links = [
        PreviewLinkOut(
            experiment_id=experiment.id,
            variation_id=variation_id,
            variation_name=name,
            url=preview.link(
                experiment.base_url,
                preview.token(key=key, preview=preview.Preview(site.code, experiment.id, variation_id)),
            ),
            expires_at=expires_at,
        )
        for variation_id, name in shown
    ]
    if not _wants_the_list(request):
        return PlainTextResponse(links[1 if variations else 0].url)
    return links
