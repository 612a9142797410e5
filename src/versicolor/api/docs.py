"""The API explorer at `/docs`: Swagger UI 5 (it renders OpenAPI 3.1), served from the swagger-ui-bundle-v2 package.

Nothing comes from another site, and the page runs no inline script: Swagger UI's files are served under
`/docs-assets/`, and the few lines that start it are a file of ours (docs.js) served at `/docs/explorer.js`. So
its Content-Security-Policy allows scripts from this server only. Swagger UI sets styles inline (hence
`'unsafe-inline'` for styles alone) and draws icons as `data:` images; it fetches the API document and, for
"Authorize", `/oauth/token` from this server (`connect-src 'self'`).
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

ASSETS = "/docs-assets"
EXPLORER_SCRIPT = "/docs/explorer.js"
_SCRIPT_FILE = Path(__file__).with_name("docs.js")

POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


def page(*, title: str, openapi_url: str) -> str:
    """The explorer's HTML: Swagger UI's stylesheet and script, and ours that starts it on `openapi_url`."""
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{escape(title)}</title>
<link rel="stylesheet" href="{ASSETS}/swagger-ui.css">
<link rel="icon" type="image/png" href="{ASSETS}/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{escape(openapi_url)}"
  data-oauth2-redirect="{ASSETS}/oauth2-redirect.html"></div>
<script src="{ASSETS}/swagger-ui-bundle.js"></script>
<script src="{EXPLORER_SCRIPT}"></script>
</body>
</html>
"""


def install(app: FastAPI) -> None:
    """Serve the explorer at /docs, Swagger UI's files under /docs-assets/."""
    app.mount(ASSETS, StaticFiles(directory=swagger_ui_path), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def explorer() -> HTMLResponse:
        html = page(title=f"{app.title} API", openapi_url=app.openapi_url or "/openapi.json")
        return HTMLResponse(html, headers={"Content-Security-Policy": POLICY})

    @app.get(EXPLORER_SCRIPT, include_in_schema=False)
    async def explorer_script() -> FileResponse:
        return FileResponse(_SCRIPT_FILE, media_type="text/javascript; charset=utf-8")
