"""The one way the client talks to the server: authentication, retries, and errors made into exceptions."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from versicolor import __version__
from versicolor.client.auth import Credentials, TokenCache
from versicolor.client.errors import (
    ApiError,
    AuthenticationFailed,
    ConnectionFailed,
    FieldError,
    RateLimited,
    error_class,
)
from versicolor.client.retries import IDEMPOTENT_METHODS, TRANSIENT_STATUSES, RetryPolicy

TOKEN_PATH = "/oauth/token"  # noqa: S105 - a path, not a secret
# httpx errors raised before a request left: sending it again cannot do anything twice.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)

Params = Mapping[str, str | int | float | bool | None]
WaitListener = Callable[[str, float], None]


class Transport:
    """Sends requests to one server as one client; counts what it sends (`sent`, by method).

    `on_wait(reason, seconds)` hears about every wait before a retry, so that a command line can say why it
    is waiting. `sleep`, `clock` (which says when the token is due) and `http` may be replaced (tests,
    benchmarks).
    """

    def __init__(
        self,
        base_url: str,
        *,
        credentials: Credentials | None = None,
        retry: RetryPolicy | None = None,
        timeout: float = 30.0,
        on_wait: WaitListener | None = None,
        http: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.credentials = credentials
        self.retry = retry or RetryPolicy()
        self.on_wait = on_wait
        self.sent: Counter[str] = Counter()
        self._tokens = TokenCache(clock)
        self._sleep = sleep
        self._http = http or httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            headers={"User-Agent": f"versicolor-client/{__version__}", "Accept": "application/json"},
        )

    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        json: Any = None,
        idempotent: bool | None = None,
    ) -> httpx.Response:
        """Send an authenticated request and return the successful answer, or raise an ApiError.

        `idempotent` says whether the request may be sent again after a connection was cut or a 502/503/504
        (by default: for GET, HEAD, OPTIONS, PUT and DELETE).
        """
        repeatable = method.upper() in IDEMPOTENT_METHODS if idempotent is None else idempotent
        renewed = False
        while True:
            answer = self._send(method, path, params=params, json=json, repeatable=repeatable, authenticated=True)
            if _token_refused(answer) and not renewed and self.credentials is not None:
                # The token expired early, was revoked, or was signed with a key since rotated: one new token
                # (which fails plainly if the credentials themselves were rotated), one retry.
                self._tokens.forget()
                renewed = True
                continue
            return self._checked(answer)

    def token(self) -> str:
        """A valid access token for the credentials, fetched when none is kept or the kept one is due."""
        kept = self._tokens.fresh()
        if kept is not None:
            return kept
        if self.credentials is None:
            raise AuthenticationFailed(
                status=401,
                message="no credentials: give a client id and secret (versicolor login, or VERSICOLOR_CLIENT_ID "
                "and VERSICOLOR_CLIENT_SECRET)",
                method="POST",
                url=self.base_url + TOKEN_PATH,
            )
        form = {
            "grant_type": "client_credentials",
            "client_id": self.credentials.client_id,
            "client_secret": self.credentials.client_secret,
        }
        answer = self._send("POST", TOKEN_PATH, data=form, repeatable=True, authenticated=False)
        if answer.status_code in (400, 401):
            raise AuthenticationFailed(
                status=answer.status_code,
                message=f"the server refused client id {self.credentials.client_id!r}: "
                f"{_oauth_reason(answer)}. The secret may have been rotated: log in again (versicolor login) "
                "or set VERSICOLOR_CLIENT_SECRET",
                method="POST",
                url=str(answer.request.url),
                request_id=answer.headers.get("x-request-id"),
            )
        return self._tokens.keep(self._checked(answer))

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        repeatable: bool,
        authenticated: bool,
    ) -> httpx.Response:
        failures = 0
        waited_on_limits = 0.0
        url = self.base_url + path
        query = {k: v for k, v in (params or {}).items() if v is not None}
        while True:
            headers = {"Authorization": f"Bearer {self.token()}"} if authenticated else {}
            try:
                self.sent[method.upper()] += 1
                answer = self._http.request(method, url, params=query, json=json, data=data, headers=headers)
            except httpx.TransportError as exc:
                failures += 1
                if not (repeatable or isinstance(exc, _NOT_SENT)) or failures >= self.retry.attempts:
                    raise ConnectionFailed(_connection_problem(method, url, exc, failures, repeatable)) from exc
                self._wait(f"{_short(exc)}; trying again", self.retry.backoff(failures))
                continue
            if answer.status_code == 429:
                failures += 1
                wait = self.retry.rate_limit_wait(_advised_wait(answer), failures)
                if waited_on_limits + wait > self.retry.rate_limit_budget:
                    return answer
                waited_on_limits += wait
                self._wait("rate limited by the server (429)", wait)
                continue
            if answer.status_code in TRANSIENT_STATUSES and repeatable:
                failures += 1
                if failures < self.retry.attempts:
                    self._wait(f"the server answered {answer.status_code}", self.retry.backoff(failures))
                    continue
            return answer

    def _wait(self, reason: str, seconds: float) -> None:
        if self.on_wait is not None:
            self.on_wait(reason, seconds)
        self._sleep(seconds)

    def _checked(self, answer: httpx.Response) -> httpx.Response:
        if answer.is_success:
            return answer
        raise _error_of(answer)


def _error_of(answer: httpx.Response) -> ApiError:
    """The exception for an error answer in either dialect (or OAuth's shape)."""
    try:
        body: Any = answer.json()
    except ValueError:
        body = answer.text
    message = answer.reason_phrase or f"HTTP {answer.status_code}"
    errors: tuple[FieldError, ...] = ()
    if isinstance(body, dict):
        if isinstance(body.get("message"), str):
            message = body["message"]
        elif isinstance(body.get("messages"), list) and body["messages"]:
            message = "; ".join(str(m) for m in body["messages"])
        elif isinstance(body.get("error_description"), str):
            message = body["error_description"]
        elif isinstance(body.get("error"), str):
            message = body["error"]
        details = body.get("details")
        if isinstance(details, list):
            errors = tuple(
                FieldError(str(d.get("field", "")), str(d.get("message", ""))) for d in details if isinstance(d, dict)
            )
    elif isinstance(body, str) and body.strip():
        message = body.strip().splitlines()[0][:300]
    common: dict[str, Any] = {
        "status": answer.status_code,
        "message": message,
        "method": answer.request.method,
        "url": str(answer.request.url),
        "errors": errors,
        "request_id": answer.headers.get("x-request-id"),
        "body": body,
    }
    kind = error_class(answer.status_code)
    if kind is RateLimited:
        return RateLimited(retry_after=_advised_wait(answer), **common)
    return kind(**common)


def _token_refused(answer: httpx.Response) -> bool:
    """Whether the server refused the token itself: a 401, or the 403 it answers for a revoked token."""
    if answer.status_code == 401:
        return True
    if answer.status_code != 403:
        return False
    return "revoked" in _error_of(answer).message


def _advised_wait(answer: httpx.Response) -> float | None:
    for header in ("retry-after", "x-ratelimit-wait"):
        value = answer.headers.get(header)
        if value is not None:
            try:
                return float(value)
            except ValueError:
                continue
    return None


def _oauth_reason(answer: httpx.Response) -> str:
    try:
        body = answer.json()
    except ValueError:
        return f"HTTP {answer.status_code}"
    return str(body.get("error_description") or body.get("error") or f"HTTP {answer.status_code}")


def _short(exc: httpx.TransportError) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _connection_problem(method: str, url: str, exc: httpx.TransportError, failures: int, repeatable: bool) -> str:
    if not repeatable and not isinstance(exc, _NOT_SENT):
        return (
            f"{method} {url}: the connection failed after the request was sent ({_short(exc)}); it was not sent "
            "again because it may have taken effect"
        )
    return f"cannot reach {url} ({_short(exc)}; {failures} attempts)"
