"""`/accounts`: the users of the caller's account."""

from __future__ import annotations

from fastapi import APIRouter

from versicolor.api.automation.schemas import CamelOut, Timestamp
from versicolor.api.deps import DbSession
from versicolor.api.security import Caller
from versicolor.core import accounts
from versicolor.core.errors import Forbidden

router = APIRouter(prefix="/accounts", tags=["accounts"])


class Me(CamelOut):
    """The caller, with its API client id (never a secret)."""

    id: int
    account_id: int
    email: str
    first_name: str | None
    last_name: str | None
    role: str
    date_created: Timestamp
    client_id: str | None


@router.get("/me")
async def me(session: DbSession, caller: Caller) -> Me:
    """Who the access token acts as."""
    if caller.user_id is None:
        raise Forbidden("this credential acts for the account, not for a user")
    user = await accounts.get_user(session=session, principal=caller, user_id=caller.user_id)
    credential = await accounts.credentials_of(session=session, user_id=user.id)
    return Me(
        id=user.id,
        account_id=user.account_id,
        email=user.email,
        first_name=user.first_name,
        last_name=user.last_name,
        role=user.role,
        date_created=user.date_created,
        client_id=credential.client_id if credential else None,
    )
