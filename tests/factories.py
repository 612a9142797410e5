"""Test data made through the service functions and HTTP endpoints users reach."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import httpx

from versicolor.core import accounts, passwords
from versicolor.core.roles import Role
from versicolor.db.models import User
from versicolor.runtime import Runtime

PASSWORD = "correct horse battery staple"
_password_hash: str | None = None


async def _give_password(user: User) -> None:
    """Give a new user the factory's password, as one real argon2 hash of it made once per process.

    argon2 takes about 0.2 s of CPU a hash, by design, and the suite makes well over a thousand users, every one
    with the same password: hashing it for each was minutes of every run. The tests of making users with a
    password (its rules, its hashing off the event loop) call `accounts` with one themselves."""
    global _password_hash
    if _password_hash is None:
        _password_hash = await passwords.hash_password(PASSWORD)
    user.password_hash = _password_hash


@dataclass
class Member:
    """A user of a test account, with its credentials and a token once asked for."""

    user_id: int
    email: str
    role: Role
    client_id: str
    client_secret: str
    password: str
    token: str = ""

    @property
    def headers(self) -> dict[str, str]:
        """Authorization headers for this user's token."""
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class TestAccount:
    """An account made for one test."""

    __test__ = False  # a data class, not a test case

    account_id: int
    account_secret: str
    admin: Member
    members: list[Member] = field(default_factory=list)

    @property
    def headers(self) -> dict[str, str]:
        """The admin's authorization headers."""
        return self.admin.headers


class Factory:
    """Makes accounts and users, and gets their tokens over HTTP."""

    def __init__(self, runtime: Runtime, client: httpx.AsyncClient) -> None:
        self.runtime = runtime
        self.client = client

    async def account(self, name: str = "Test account") -> TestAccount:
        """A new account whose admin already holds an access token."""
        email = f"admin-{uuid.uuid4().hex[:10]}@example.com"
        async with self.runtime.sessions() as session, session.begin():
            created = await accounts.create_account(session=session, name=name, email=email)
            await _give_password(created.admin.user)
        admin = Member(
            user_id=created.admin.user.id,
            email=email,
            role=Role.ADMIN,
            client_id=created.admin.credentials.client_id,
            client_secret=created.admin.credentials.client_secret,
            password=PASSWORD,
        )
        admin.token = await self.token(admin)
        return TestAccount(account_id=created.account.id, account_secret=created.account_secret, admin=admin)

    async def member(self, account: TestAccount, role: Role) -> Member:
        """A new user of `account` with `role`, holding an access token."""
        email = f"{role.value.lower()}-{uuid.uuid4().hex[:10]}@example.com"
        async with self.runtime.sessions() as session, session.begin():
            created = await accounts.create_user(session=session, account_id=account.account_id, email=email, role=role)
            await _give_password(created.user)
        member = Member(
            user_id=created.user.id,
            email=email,
            role=role,
            client_id=created.credentials.client_id,
            client_secret=created.credentials.client_secret,
            password=PASSWORD,
        )
        member.token = await self.token(member)
        account.members.append(member)
        return member

    async def token(self, member: Member) -> str:
        """An access token for `member` by the client credentials grant."""
        answer = await self.client.post(
            "/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": member.client_id,
                "client_secret": member.client_secret,
            },
        )
        assert answer.status_code == 200, answer.text
        token: str = answer.json()["access_token"]
        return token
