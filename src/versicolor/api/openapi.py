"""The API document (`/openapi.json`): FastAPI's, completed from what each route already declares.

FastAPI documents a route's parameters, body and successful answer. The rest is written here, once for every
route, from what the route itself says, so that a route added tomorrow is documented as truthfully as today's:

- security: the ways its caller authenticates (api/security.py, `ways_of`): an OAuth 2.0 access token (client
  credentials or authorization code flow), the account secret (v3), or a page on an enabled host (Data API; its
  `Origin` and `Referer` headers are then documented too);
- errors: each status the route can answer, with its dialect's error body (api/dialects.py): 400 for input, 401
  and 403 where a caller is checked, 403 for the HTTPS rule, 404 where the path names an object, 409 for a
  write, 429 where a limiter counts the request; never FastAPI's 422, which Versicolor does not send (a bad
  input is a 400, api/errors.py);
- headers: `X-Request-Id` on every answer; the rate limit headers where a limiter counts, `Retry-After` on a
  429, `WWW-Authenticate` on a 401; `X-Total-Count` and `Link` on Automation lists (api/conventions/listing.py).

A route with something of its own to say declares it with FastAPI's `responses=` or `openapi_extra=`; what a
route declares is kept, and only what it leaves out is derived.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts

from versicolor.api import https
from versicolor.api.conventions import listing
from versicolor.api.dialects import ERROR_BODIES, Dialect, dialect_of
from versicolor.api.routes import CheckedRoute
from versicolor.api.security import ACCEPTS_KEY, PERMISSION_KEY, Way, ways_of
from versicolor.auth import scopes
from versicolor.core.roles import Permission

OAUTH = "OAuth2"
BEARER = "BearerToken"
ACCOUNT_SECRET = "AccountSecret"  # noqa: S105  (a scheme's name, not a secret)
ACCOUNT_SECRET_PARAMETER = "AccountSecretParameter"  # noqa: S105

SECURITY_SCHEMES: dict[str, Any] = {
    OAUTH: {
        "type": "oauth2",
        "description": (
            "An access token from `POST /oauth/token`, sent as `Authorization: Bearer <token>`. Your own API "
            "credentials (Account > API credentials) use the client credentials flow; a partner application "
            "registered with redirect URLs uses the authorization code flow (PKCE S256 supported)."
        ),
        "flows": {
            "clientCredentials": {"tokenUrl": "/oauth/token", "scopes": {}},
            "authorizationCode": {
                "authorizationUrl": "/oauth/authorize",
                "tokenUrl": "/oauth/token",
                "refreshUrl": "/oauth/token",
                # What a partner application may ask a user for (auth/scopes.py); no scope lends administration.
                "scopes": {name: text for name, (_, text) in scopes.SCOPES.items()},
            },
        },
    },
    BEARER: {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "An access token you already hold (from `POST /oauth/token`), as `Authorization: Bearer`.",
    },
    ACCOUNT_SECRET: {
        "type": "apiKey",
        "in": "header",
        "name": "X-Account-Secret",
        "description": "The account secret (Edit v3 only); it acts for the whole account.",
    },
    ACCOUNT_SECRET_PARAMETER: {
        "type": "apiKey",
        "in": "query",
        "name": "account_secret",
        "description": "The account secret as a query parameter (Edit v3 only), for clients that cannot set headers.",
    },
}

_REQUIREMENTS: dict[Way, list[dict[str, list[str]]]] = {
    Way.BEARER: [{OAUTH: []}, {BEARER: []}],
    Way.ACCOUNT_SECRET: [{ACCOUNT_SECRET: []}, {ACCOUNT_SECRET_PARAMETER: []}],
    Way.PAGE: [{}],  # nothing but the page's own Origin or Referer
}

_PAGE_HEADERS = [
    {
        "name": "Origin",
        "in": "header",
        "required": False,
        "description": "Sent by browsers: the page's origin, whose host must be enabled in the account's Domains.",
        "schema": {"type": "string"},
    },
    {
        "name": "Referer",
        "in": "header",
        "required": False,
        "description": "The page's address, read when a browser sends no Origin.",
        "schema": {"type": "string"},
    },
]

_INTEGER = {"schema": {"type": "integer"}}
HEADERS: dict[str, Any] = {
    "X-Request-Id": {
        "description": "The request's id, as the logs name it (a client's own id is kept).",
        "required": True,
        "schema": {"type": "string"},
    },
    "X-RateLimit-Limit": {"description": "Requests allowed in the window nearest to running out.", **_INTEGER},
    "X-RateLimit-Remaining": {"description": "Requests left in that window.", **_INTEGER},
    "X-RateLimit-Reset": {
        "description": "When that window's oldest counted request leaves it (Unix time, s).",
        **_INTEGER,
    },
    "Retry-After": {"description": "Seconds to wait before trying again.", "required": True, **_INTEGER},
    "X-Ratelimit-Wait": {
        "description": "Seconds to wait before trying again (as `Retry-After`).",
        "required": True,
        **_INTEGER,
    },
    "WWW-Authenticate": {
        "description": "The Bearer challenge (RFC 6750).",
        "required": True,
        "schema": {"type": "string"},
    },
    "X-Total-Count": {"description": "How many items all pages of the list hold.", "required": True, **_INTEGER},
    "Link": {
        "description": "Links to the `first`, `prev`, `next` and `last` pages (RFC 8288), e.g. "
        '`<...?page=2&perPage=20>; rel="next"`.',
        "required": True,
        "schema": {"type": "string"},
    },
}
_RATE_LIMIT_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")


def install(app: FastAPI) -> None:
    """Serve `app`'s document as described above (built once, on the first request for it)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to replace the document


def document(app: FastAPI) -> dict[str, Any]:
    """The API document of `app`."""
    spec = get_openapi(
        title=app.title,
        version=app.version,
        openapi_version=app.openapi_version,
        description=app.description,
        routes=app.routes,
        tags=app.openapi_tags,
    )
    # The routes as FastAPI's own document walks them (an included router's routes carry its prefix).
    for context in iter_route_contexts(app.routes):
        route, path, methods = context.original_route, context.path_format, context.methods
        if not isinstance(route, APIRoute) or not context.include_in_schema or path is None or methods is None:
            continue
        for method in methods:
            _complete(route, path, method, spec["paths"][path][method.lower()])
    components = spec.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    for body in ERROR_BODIES.values():
        schemas[body.__name__] = body.model_json_schema(by_alias=True, ref_template="#/components/schemas/{model}")
    components["securitySchemes"] = SECURITY_SCHEMES
    components["headers"] = HEADERS
    return spec


def _complete(route: APIRoute, path: str, method: str, operation: dict[str, Any]) -> None:
    """Add to one operation what its route knows and FastAPI did not write."""
    responses: dict[str, Any] = operation.setdefault("responses", {})
    responses.pop("422", None)
    ways = ways_of(route)
    operation.pop(ACCEPTS_KEY, None)
    if ways and "security" not in operation:
        operation["security"] = [requirement for way in ways for requirement in _REQUIREMENTS[way]]
    if Way.PAGE in ways:
        named = {str(parameter["name"]).lower() for parameter in operation.get("parameters", [])}
        missing = [header for header in _PAGE_HEADERS if str(header["name"]).lower() not in named]
        operation.setdefault("parameters", []).extend(missing)

    dialect = dialect_of(path)
    checked = isinstance(route, CheckedRoute)
    limited = checked or bool(ways)
    for code, description in _errors(route, path, method, operation, ways, checked=checked, limited=limited):
        if str(code) not in responses:
            responses[str(code)] = {
                "description": description,
                "content": {"application/json": {"schema": {"$ref": _ref(ERROR_BODIES[dialect].__name__)}}},
            }
    paged = listing.answers_pages(route)
    for status, response in responses.items():
        headers = response.setdefault("headers", {})
        names = ["X-Request-Id"]
        if limited:
            names += _RATE_LIMIT_HEADERS
        if status == "429":
            names += ["Retry-After", *(["X-Ratelimit-Wait"] if dialect is Dialect.V3 else [])]
        if status == "401":
            names.append("WWW-Authenticate")
        if paged and status.startswith("2"):
            names += ["X-Total-Count", "Link"]
        for name in names:
            headers.setdefault(name, {"$ref": f"#/components/headers/{name}"})


def _errors(
    route: APIRoute,
    path: str,
    method: str,
    operation: dict[str, Any],
    ways: tuple[Way, ...],
    *,
    checked: bool,
    limited: bool,
) -> list[tuple[int, str]]:
    """The error statuses an operation can answer, each with what it means there."""
    errors: list[tuple[int, str]] = []
    takes_input = checked or bool(operation.get("parameters")) or "requestBody" in operation or bool(ways)
    if takes_input:
        errors.append((400, "The request is refused as it is: the message names the parameter or field at fault."))
    secured = [way for way in ways if way is not Way.PAGE]
    if secured:
        how = "an access token" + (" or an account secret" if Way.ACCOUNT_SECRET in ways else "")
        errors.append(
            (401, f"No valid credential: {how} is needed, and the one sent is missing, malformed or expired.")
        )
    refusals = ["the request came over plain HTTP and HTTPS is required"]
    if secured:
        refusals.insert(0, "the credential is revoked, or its role does not allow this call")
    if Way.ACCOUNT_SECRET in ways:
        refusals.insert(1, "the account secret is not valid")
    if Way.PAGE in ways:
        refusals.insert(0, "the page's host is not enabled in the account's Domains")
    if path not in https.EXEMPT:
        errors.append((403, _sentence("Refused: " + "; or ".join(refusals))))
    if (checked or ways) and _names_objects(path, operation):
        errors.append(
            (
                404,
                "No such object in your account, where the path or the request names one (another account's "
                "objects answer the same).",
            )
        )
    if "requestBody" in operation:
        errors.append((413, "The body is over the most its API takes (docs/conventions.md); nothing of it was read."))
    if checked and _writes(route, method):
        errors.append((409, "The object's state, or another object, does not allow this; the message says which."))
    if limited:
        errors.append((429, "Too many requests: wait the seconds `Retry-After` says, then send it again."))
    return errors


_PATH_PARAMETER = re.compile(r"\{[^}]+\}")


def _names_objects(path: str, operation: dict[str, Any]) -> bool:
    """Whether a request may name an object: in its path, its body, or a required query parameter."""
    required = any(p.get("required") and p.get("in") == "query" for p in operation.get("parameters", []))
    return bool(_PATH_PARAMETER.search(path)) or "requestBody" in operation or required


def _writes(route: APIRoute, method: str) -> bool:
    """Whether the operation changes something (a search sent by POST declares that it only reads)."""
    reads = (route.openapi_extra or {}).get(PERMISSION_KEY) == Permission.READ.value
    return not reads and method not in {"GET", "HEAD", "OPTIONS"}


def _sentence(text: str) -> str:
    return text.rstrip(".") + "."


def _ref(name: str) -> str:
    return f"#/components/schemas/{name}"
