"""The dashboard at /app: server-rendered pages over `core` and `results`, another rendering beside the APIs.

It calls the domain directly, never the HTTP API. Each page is a small view function in `views/`; what every
request shares (who is signed in, the transaction, CSRF, roles, error pages) is in `pages.py`; templates and
static assets ship in the package, and the pages work under a Content-Security-Policy without inline scripts.
"""

from versicolor.web.app import create
from versicolor.web.views.home import landing

__all__ = ["create", "landing"]
