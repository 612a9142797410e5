"""MkDocs hooks of the documentation site (mkdocs.yml): the API reference is made from the service's own
OpenAPI document at every build, so it cannot drift from the code."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

OPENAPI = Path("build/openapi.json")


def on_pre_build(config: Any) -> None:
    """Write the OpenAPI document that docs/api.md renders."""
    from versicolor.app import create_app
    from versicolor.settings import Settings

    document = create_app(Settings(database_url="sqlite:///build/docs-unused.db")).openapi()
    # The reference puts a security scheme's description into the page's HTML as it is: `Bearer <token>` would be
    # read as an element that is never closed, so the text vanished from the page and the search index, which
    # nests every later element in it, took a minute of CPU more per build.
    for scheme in document.get("components", {}).get("securitySchemes", {}).values():
        if "description" in scheme:
            scheme["description"] = html.escape(scheme["description"], quote=False)
    OPENAPI.parent.mkdir(parents=True, exist_ok=True)
    OPENAPI.write_text(json.dumps(document, indent=1))
