"""MkDocs hooks of the documentation site (mkdocs.yml): the API reference is made from the service's own
OpenAPI document at every build, so it cannot drift from the code."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

OPENAPI = Path("build/openapi.json")


def on_pre_build(config: Any) -> None:
    """Write the OpenAPI document that docs/api.md renders."""
    from versicolor.app import create_app
    from versicolor.settings import Settings

    document = create_app(Settings(database_url="sqlite:///build/docs-unused.db")).openapi()
    OPENAPI.parent.mkdir(parents=True, exist_ok=True)
    OPENAPI.write_text(json.dumps(document, indent=1))
