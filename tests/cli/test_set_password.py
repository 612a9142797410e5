"""`versicolor users set-password EMAIL`: a forgotten password set again from the server's machine, run as a user runs
it (a real process on the database under test, from a pipe and from a terminal), with every way it can go wrong."""

from __future__ import annotations

import os
import select
import subprocess
import time

import httpx
from fastapi import FastAPI

from tests.factories import PASSWORD, Factory, Member
from tests.server import CLI, invoke_cli
from tests.web.conftest import Dashboard
from versicolor.core import accounts
from versicolor.runtime import Runtime

NEW_PASSWORD = "plum orchard lantern ferry"


def set_password(database_url: str, *args: str, typed: str | None = None) -> subprocess.CompletedProcess[str]:
    """`versicolor users set-password ARGS` with `typed` on a piped standard input (none: an empty one)."""
    return invoke_cli(["users", "set-password", *args, "--database-url", database_url], input_text=typed)


def browser(app: FastAPI, port: int) -> Dashboard:
    """A browser of its own (its own cookies) on the dashboard, from this machine."""
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", port))
    return Dashboard(httpx.AsyncClient(transport=transport, base_url="http://dashboard.example"))


async def signs_in(dashboard: Dashboard, email: str, password: str) -> bool:
    """Whether the sign-in form lets `email` in with `password`."""
    await dashboard.get("/app/sign-in")
    answer = await dashboard.post("/app/sign-in", {"email": email, "password": password, "next": "/app/experiments"})
    assert answer.status_code in (303, 401), answer.text
    return answer.status_code == 303


async def opens(runtime: Runtime, member: Member, password: str) -> bool:
    """Whether `password` is `member`'s password now."""
    async with runtime.sessions() as session:
        found = await accounts.authenticate_user(session=session, email=member.email, password=password)
    return any(user.id == member.user_id for user in found)


async def test_a_forgotten_password_is_set_from_a_pipe_and_every_browser_session_of_the_user_ends(
    database_url: str, app: FastAPI, factory: Factory
) -> None:
    account = await factory.account()
    admin = account.admin
    laptop, phone = browser(app, 50401), browser(app, 50402)
    for dashboard in (laptop, phone):
        assert await signs_in(dashboard, admin.email, PASSWORD)
        assert (await dashboard.get("/app/experiments")).status_code == 200

    done = set_password(database_url, admin.email.upper(), typed=f"{NEW_PASSWORD}\n")
    assert done.returncode == 0, done.stderr
    assert f"Password set for {admin.email} (account {account.account_id})." in done.stdout
    assert "Browser sessions ended: 2" in done.stdout
    assert NEW_PASSWORD not in done.stdout + done.stderr

    for dashboard in (laptop, phone):  # signed out, on every device
        again = await dashboard.get("/app/experiments")
        assert again.status_code == 303 and again.headers["location"].startswith("/app/sign-in")
    assert not await signs_in(laptop, admin.email, PASSWORD)
    assert await signs_in(laptop, admin.email, NEW_PASSWORD)
    # The password is not the API credentials: the admin's token still works.
    assert (await factory.client.get("/accounts/me", headers=admin.headers)).status_code == 200
    for dashboard in (laptop, phone):
        await dashboard.http.aclose()


async def test_an_unknown_email_a_weak_password_or_none_is_one_line_exit_1_and_changes_nothing(
    database_url: str, runtime: Runtime, factory: Factory
) -> None:
    admin = (await factory.account()).admin
    unknown = set_password(database_url, "nobody-here@example.com", typed=f"{NEW_PASSWORD}\n")
    assert unknown.returncode == 1
    assert "no user with email 'nobody-here@example.com'" in unknown.stderr and "users create" in unknown.stderr
    not_an_email = set_password(database_url, "not-an-email", typed=f"{NEW_PASSWORD}\n")
    assert not_an_email.returncode == 1 and "is not an email address" in not_an_email.stderr

    refusals = {
        "short one\n": "at least 12 characters",
        "password1234\n": "too easy to guess",
        "": "standard input held no password",
    }
    for typed, reason in refusals.items():
        refused = set_password(database_url, admin.email, typed=typed)
        assert refused.returncode == 1 and reason in refused.stderr, (typed, refused.stderr)
        assert "Traceback" not in refused.stderr and len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert await opens(runtime, admin, PASSWORD) and not await opens(runtime, admin, NEW_PASSWORD)


async def test_an_email_with_users_in_several_accounts_needs_the_account_named(
    database_url: str, runtime: Runtime, factory: Factory
) -> None:
    first, second = await factory.account("First"), await factory.account("Second")
    same = await factory.member(first, role=first.admin.role)
    async with runtime.sessions() as session, session.begin():
        await accounts.create_user(session=session, account_id=second.account_id, email=same.email, password=PASSWORD)

    ambiguous = set_password(database_url, same.email, typed=f"{NEW_PASSWORD}\n")
    assert ambiguous.returncode == 1
    assert f"several accounts ({first.account_id}, {second.account_id})" in ambiguous.stderr
    assert "--account-id" in ambiguous.stderr
    elsewhere = set_password(database_url, same.email, "--account-id", "999999999", typed=f"{NEW_PASSWORD}\n")
    assert elsewhere.returncode == 1 and "in account 999999999" in elsewhere.stderr

    chosen = set_password(database_url, same.email, "--account-id", str(first.account_id), typed=f"{NEW_PASSWORD}\n")
    assert chosen.returncode == 0, chosen.stderr
    assert f"(account {first.account_id})" in chosen.stdout
    async with runtime.sessions() as session:
        opened = await accounts.authenticate_user(session=session, email=same.email, password=NEW_PASSWORD)
        kept = await accounts.authenticate_user(session=session, email=same.email, password=PASSWORD)
    assert [user.account_id for user in opened] == [first.account_id]
    assert [user.account_id for user in kept] == [second.account_id]


class Terminal:
    """The command on a pseudo-terminal, as a person at the server's console runs it."""

    def __init__(self, args: list[str]) -> None:
        self.master, replica = os.openpty()
        self.process = subprocess.Popen([*CLI, *args], stdin=replica, stdout=replica, stderr=replica, close_fds=True)
        os.close(replica)
        self.screen = ""

    def wait_for(self, text: str, *, after: int = 0, timeout: float = 60) -> int:
        """Read what the command shows until `text` appears past position `after`; where it ends."""
        deadline = time.monotonic() + timeout
        while (found := self.screen.find(text, after)) < 0:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"{text!r} never showed; the screen:\n{self.screen}"
            if select.select([self.master], [], [], remaining)[0]:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:  # the command ended and closed the terminal
                    chunk = b""
                assert chunk, f"the command ended before showing {text!r}; the screen:\n{self.screen}"
                self.screen += chunk.decode(errors="replace")
        return found + len(text)

    def type(self, line: str) -> None:
        os.write(self.master, line.encode())

    def finish(self) -> int:
        """Read the rest of the screen and the exit code."""
        code = self.process.wait(timeout=60)
        while select.select([self.master], [], [], 0.5)[0]:
            try:
                chunk = os.read(self.master, 4096)
            except OSError:
                break
            if not chunk:
                break
            self.screen += chunk.decode(errors="replace")
        os.close(self.master)
        return code


def _mismatched(database_url: str, admin: Member, repeated: str) -> tuple[Terminal, int]:
    """set-password for `admin` on a terminal, given NEW_PASSWORD then `repeated`: the terminal once it has said
    they do not match and asks again, and where on its screen it asked."""
    terminal = Terminal(["users", "set-password", admin.email, "--database-url", database_url])
    at = terminal.wait_for("Password: ")
    terminal.type(f"{NEW_PASSWORD}\n")
    at = terminal.wait_for("Repeat for confirmation: ", after=at)
    terminal.type(f"{repeated}\n")
    at = terminal.wait_for("do not match", after=at)
    return terminal, terminal.wait_for("Password: ", after=at)


async def test_on_a_terminal_it_asks_twice_hidden_and_again_when_the_two_differ(
    database_url: str, runtime: Runtime, factory: Factory
) -> None:
    admin = (await factory.account()).admin
    terminal, at = _mismatched(database_url, admin, "plum orchard lantern fairy")
    terminal.type(f"{NEW_PASSWORD}\n")
    terminal.wait_for("Repeat for confirmation: ", after=at)
    terminal.type(f"{NEW_PASSWORD}\n")
    assert terminal.finish() == 0, terminal.screen
    assert f"Password set for {admin.email}" in terminal.screen
    assert "lantern" not in terminal.screen, "the password was echoed"
    assert await opens(runtime, admin, NEW_PASSWORD)


async def test_on_a_terminal_giving_up_after_a_mismatch_changes_nothing(
    database_url: str, runtime: Runtime, factory: Factory
) -> None:
    admin = (await factory.account()).admin
    terminal, _ = _mismatched(database_url, admin, "something else entirely")
    terminal.type("\x04")  # Ctrl-D
    assert terminal.finish() == 1, terminal.screen
    assert "aborted" in terminal.screen and "Traceback" not in terminal.screen
    assert await opens(runtime, admin, PASSWORD) and not await opens(runtime, admin, NEW_PASSWORD)
