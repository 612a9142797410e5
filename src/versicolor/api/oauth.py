"""The OAuth 2.0 endpoints (RFC 6749): the token endpoint."""

from __future__ import annotations

import base64
import binascii

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from versicolor.api.deps import DbSession, RuntimeDep
from versicolor.auth import grants
from versicolor.auth.grants import OAuthError

router = APIRouter(prefix="/oauth", tags=["oauth"])

_MAX_FORM_BYTES = 16 * 1024


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        raise grants.invalid_client()
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise grants.invalid_client() from exc
    client_id, sep, client_secret = decoded.partition(":")
    if not sep:
        raise grants.invalid_client()
    return client_id, client_secret


async def _form(request: Request) -> dict[str, str]:
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != "application/x-www-form-urlencoded":
        raise OAuthError("invalid_request", "send the parameters as application/x-www-form-urlencoded")
    body = await request.body()
    if len(body) > _MAX_FORM_BYTES:
        raise OAuthError("invalid_request", f"the request body is over {_MAX_FORM_BYTES} bytes")
    form = await request.form()
    values: dict[str, str] = {}
    for name in form:
        given = form.getlist(name)
        if len(given) != 1:
            raise OAuthError("invalid_request", f"parameter {name} is given more than once")
        if not isinstance(given[0], str):
            raise OAuthError("invalid_request", f"parameter {name} must be a plain value")
        values[name] = given[0]
    return values


def _client(request: Request, form: dict[str, str]) -> tuple[str, str]:
    basic = _basic_credentials(request)
    in_form = form.get("client_id"), form.get("client_secret")
    if basic is not None:
        if in_form[1] is not None:
            raise OAuthError("invalid_request", "authenticate the client one way: Basic or form fields, not both")
        return basic
    if in_form[0] is None or in_form[1] is None:
        raise grants.invalid_client()
    return in_form[0], in_form[1]


@router.post("/token")
async def token(request: Request, session: DbSession, runtime: RuntimeDep) -> JSONResponse:
    """Exchange a grant for tokens."""
    form = await _form(request)
    grant_type = form.get("grant_type")
    if grant_type is None:
        raise OAuthError("invalid_request", "grant_type is required")
    if grant_type == "client_credentials":
        client_id, client_secret = _client(request, form)
        answer = await grants.client_credentials(
            session=session,
            key=runtime.signing_key,
            ttl=runtime.settings.access_token_ttl,
            client_id=client_id,
            client_secret=client_secret,
        )
    else:
        raise OAuthError("unsupported_grant_type", f"grant_type {grant_type!r} is not supported")
    return JSONResponse(answer.as_json(), headers={"Cache-Control": "no-store", "Pragma": "no-cache"})
