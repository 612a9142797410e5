"""`/`: the service's front door. With an account secret it answers as the Edit API v3 does, to check a secret.

Chameleon documents `GET https://api.chameleon.io` with `X-Account-Secret` (or `?account_secret=`) as the way
to test a secret, and clients do exactly that before anything else (a data connector probes the root and reads
200 as "valid", 401/403 as "invalid"). A valid secret answers `{"account": {"id": "<id>"}}` (the id a string,
as every v3 id is); a wrong or blank one is a 403 in the v3 error shape. A request without a secret (a browser)
gets the front page, as before; a bearer token alone is no secret, so it gets the page too.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse
from starlette.responses import Response

from versicolor import web
from versicolor.api import credentials
from versicolor.api.credentials import Kind
from versicolor.api.deps import runtime_of
from versicolor.core.errors import Forbidden


async def front_door(request: Request) -> Response:
    """`GET /`: the account an account secret belongs to, or the front page when no secret was given."""
    credential = credentials.of(request.scope)  # a secret given twice, or two that disagree: a 400
    if credential is None or credential.kind is not Kind.ACCOUNT_SECRET:
        return await web.landing(request)
    account_id = await credential.look_up_alone(runtime_of(request).sessions)
    if account_id is None:
        raise Forbidden("the account secret is not valid; find it under your account's API settings")
    return JSONResponse({"account": {"id": str(account_id)}}, headers={"Cache-Control": "no-store"})
