"""The Data API (`/data/v1`): page configuration, event ingestion, server-side assignment (docs/tracking.md), the page
engine (docs/engine.md).

Its bodies are JSON or NDJSON, so it checks media types itself rather than through `require_json`.
"""

from __future__ import annotations

from fastapi import APIRouter

from versicolor.api.data import config, engine, events, variations, visitors

router = APIRouter(prefix="/data/v1")
router.include_router(config.router)
router.include_router(events.router)
router.include_router(variations.router)
router.include_router(visitors.router)
router.include_router(engine.router)
