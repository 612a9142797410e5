"""The account: your own API credentials (rotating them shows the new secret once) and, for an ADMIN, the users
and their roles, inviting and removing users, and the account secret of the Edit API v3."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from versicolor.core import accounts, users
from versicolor.core.errors import Invalid
from versicolor.core.roles import Permission, Role
from versicolor.db.models import Account, User
from versicolor.web import pages

# Answers that show a secret are never stored by a browser's cache (they already say no-store) nor
# reloaded from history: a reload asks again, and the secret is gone.
_SECRET_SHOWN = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _account(_request: Request) -> str:
    return "/app/account"


async def _page(ctx: pages.Context, *, status: int = 200, **shown: object) -> Response:
    principal = ctx.me.principal
    credentials = await accounts.credentials_of(session=ctx.db, user_id=ctx.me.user_id)
    account = await ctx.db.get(Account, principal.account_id)
    members = []
    if ctx.me.can(Permission.ADMIN):
        members = list(await ctx.db.scalars(users.scoped(principal).order_by(User.email, User.id)))
    values: dict[str, object] = {"new_user": None, "new_credentials": None, "new_account_secret": None}
    values.update(shown)
    return ctx.render(
        "account.html",
        status=status,
        headers=_SECRET_SHOWN,
        nav="account",
        account=account,
        client_id=credentials.client_id if credentials else None,
        members=members,
        roles=list(Role),
        **values,
    )


@pages.view()
async def account_page(ctx: pages.Context) -> Response:
    """Your credentials; for an ADMIN, the users of the account."""
    return await _page(ctx)


@pages.action(Permission.READ, back=_account)
async def rotate_credentials(ctx: pages.Context) -> Response:
    """A new client secret for your API credentials, shown this once; the old one stops working."""
    issued = await accounts.rotate_credentials(session=ctx.db, principal=ctx.me.principal)
    return await _page(ctx, new_credentials=issued)


@pages.action(Permission.ADMIN, back=_account)
async def rotate_account_secret(ctx: pages.Context) -> Response:
    """A new account secret (X-Account-Secret), shown this once; the old one stops working."""
    secret = await accounts.rotate_account_secret(session=ctx.db, principal=ctx.me.principal)
    return await _page(ctx, new_account_secret=secret)


def _role(value: str | None) -> Role:
    return users.parse_role(value)


@pages.action(Permission.ADMIN, back=_account)
async def invite_user(ctx: pages.Context) -> Response:
    """Add a user to the account; its API credentials are shown this once."""
    email = ctx.form.get("email", "").strip()
    if not email:
        raise Invalid.field("email", "is needed to add a user")
    created = await users.invite(
        session=ctx.db,
        principal=ctx.me.principal,
        email=email,
        role=_role(ctx.form.get("role")),
        password=ctx.form.get("password") or None,
    )
    return await _page(ctx, status=201, new_user=created)


@pages.action(Permission.ADMIN, back=_account)
async def change_role(ctx: pages.Context) -> Response:
    """Give a user another role (the account's last ADMIN keeps theirs)."""
    await users.update(
        session=ctx.db,
        principal=ctx.me.principal,
        user_id=ctx.int_param("user_id"),
        changes={"role": ctx.form.get("role")},
    )
    return pages.see_other("/app/account")


@pages.action(Permission.ADMIN, back=_account)
async def remove_user(ctx: pages.Context) -> Response:
    """Remove a user from the account; their tokens and sessions stop working."""
    if ctx.form.get("confirm") != "yes":
        raise Invalid.field("confirm", "tick the box to confirm that the user is to be removed")
    await accounts.delete_user(session=ctx.db, principal=ctx.me.principal, user_id=ctx.int_param("user_id"))
    return pages.see_other("/app/account")
