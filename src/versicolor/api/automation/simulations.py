"""`GET /experiments/simulate/{id}`: preview links, one per variation, that show it in one browser, untracked.

Each link is a page of the site (the experiment's `baseURL`) with a signed token the page engine reads
(engine/preview.py): it shows that variation in that browser tab, drafts included, and sends nothing. Links
last 24 hours. Another account's experiment is a 404.
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request

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


@router.get("/simulate/{experiment_id}")
async def simulate_experiment(
    experiment_id: Id, request: Request, session: DbSession, caller: Caller
) -> list[PreviewLinkOut]:
    """Preview links for the experiment's original and each variation, valid for 24 hours."""
    experiment = await experiments.get(session=session, principal=caller, experiment_id=experiment_id)
    site = await session.get(Site, experiment.site_id)
    assert site is not None  # an experiment's site is deleted with it
    key = runtime_of(request).signing_key
    expires_at = utcnow() + timedelta(seconds=preview.LIFETIME_SECONDS)
    variations = await experiments.variations_of(session=session, experiment=experiment)
    shown = [(0, "Original")] + [(v.id, v.name) for v in variations]
    return [
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
