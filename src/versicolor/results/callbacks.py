"""Delivery of a READY report to the caller's `callbackUrl`: signed, retried, and never into our own network.

A callback URL must be HTTPS, and every address its host resolves to must be public: a loopback, private,
link-local, multicast or otherwise reserved address is refused when the report is requested and again at
every delivery attempt, because DNS can change in between (rebinding). Each attempt connects to the address
it just checked (the request goes to that IP, with the original host in `Host` and in TLS SNI, so the
certificate is still verified for the host), so a second lookup cannot swap the address under us.

Signature (docs/results.md): `X-Versicolor-Signature: t=<unix seconds>,v1=<hex>` where `hex` is
HMAC-SHA256 over `"<t>." + body` with the account's callback key (`account_callback_key`).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import logging
import socket
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import httpx

from versicolor.core.errors import Invalid

log = logging.getLogger("versicolor.results.callbacks")

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# (host, port) -> the addresses the host resolves to; raises OSError when it does not resolve.
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]
Sleep = Callable[[float], Awaitable[None]]

SIGNATURE_HEADER = "X-Versicolor-Signature"
DATA_CODE_HEADER = "X-Versicolor-Data-Code"
FIELD = "callbackUrl"
# Seconds to wait before the 2nd, 3rd, ... attempt: five attempts over about a minute and a half.
RETRY_DELAYS: tuple[float, ...] = (1.0, 4.0, 16.0, 64.0)
# Receivers answering these are asked again later; any other 4xx means they refuse the callback for good.
_RETRIED_STATUSES = frozenset({408, 425, 429})
_KEY_CONTEXT = b"versicolor results callback key v1\x00"


async def system_resolver(host: str, port: int) -> Sequence[str]:
    """The host's addresses by the system resolver."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def account_callback_key(*, server_key: str, account_id: int) -> str:
    """The account's key for callback signatures, derived from the server's signing key (hex)."""
    message = _KEY_CONTEXT + str(account_id).encode()
    return hmac.new(server_key.encode(), message, hashlib.sha256).hexdigest()


def signature(*, key: str, timestamp: int, body: bytes) -> str:
    """The signature header's value for `body` sent at `timestamp`."""
    digest = hmac.new(key.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def refusal(address: IpAddress) -> str | None:
    """Why a callback may not go to `address`, or None when it is a public address."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_private:
        return "a private address"
    if address.is_multicast or address.is_unspecified or address.is_reserved or not address.is_global:
        return "not a public address"
    return None


async def safe_addresses(url: str, *, resolve: Resolver) -> list[str]:
    """Every address the URL's host resolves to, all public; raises Invalid naming callbackUrl otherwise."""
    parsed = httpx.URL(url)
    if parsed.scheme != "https":
        raise Invalid.field(FIELD, "must be an https:// URL; reports are not sent over plain HTTP")
    host = parsed.host
    try:
        literal: IpAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        resolved = [str(literal)]
    else:
        try:
            resolved = list(await resolve(host, parsed.port or 443))
        except (OSError, UnicodeError) as exc:
            raise Invalid.field(FIELD, f"host {host} does not resolve ({exc})") from exc
        if not resolved:
            raise Invalid.field(FIELD, f"host {host} does not resolve")
    for raw in resolved:
        # getaddrinfo may append an IPv6 zone ("fe80::1%eth0"); the zone makes no address public.
        address = ipaddress.ip_address(raw.split("%", 1)[0])
        reason = refusal(address)
        if reason is not None:
            raise Invalid.field(
                FIELD,
                f"host {host} resolves to {address}, {reason}; callbacks go only to public HTTPS endpoints",
            )
    return resolved


@dataclass(frozen=True)
class Delivery:
    """How a delivery ended: delivered or not, after how many attempts, and the last problem."""

    delivered: bool
    attempts: int
    problem: str | None = None


@dataclass
class CallbackSender:
    """Posts reports to callback URLs; resolver, transport, sleep and clock are parameters so tests can
    stand in for the network and the passing of time."""

    resolve: Resolver = system_resolver
    transport: httpx.AsyncBaseTransport | None = None
    sleep: Sleep = asyncio.sleep
    clock: Callable[[], float] = time.time
    delays: Sequence[float] = field(default=RETRY_DELAYS)
    timeout: float = 10.0

    async def check(self, url: str) -> None:
        """Raise Invalid (naming callbackUrl) unless `url` may receive callbacks now."""
        await safe_addresses(url, resolve=self.resolve)

    async def deliver(self, *, url: str, body: bytes, key: str, data_code: str) -> Delivery:
        """POST `body` to `url`, retrying with backoff until it is accepted (2xx) or refused for good."""
        attempts = 0
        problem: str | None = None
        async with httpx.AsyncClient(
            transport=self.transport, timeout=self.timeout, follow_redirects=False, trust_env=False
        ) as client:
            for delay in (0.0, *self.delays):
                if delay:
                    await self.sleep(delay)
                attempts += 1
                outcome = await self._attempt(client, url=url, body=body, key=key, data_code=data_code)
                if outcome is None:
                    return Delivery(delivered=True, attempts=attempts)
                problem, retry = outcome
                log.info("callback for report %s, attempt %d: %s", data_code, attempts, problem)
                if not retry:
                    break
        log.warning("callback for report %s not delivered after %d attempts: %s", data_code, attempts, problem)
        return Delivery(delivered=False, attempts=attempts, problem=problem)

    async def _attempt(
        self, client: httpx.AsyncClient, *, url: str, body: bytes, key: str, data_code: str
    ) -> tuple[str, bool] | None:
        """None when delivered; otherwise the problem and whether another attempt may succeed."""
        try:
            addresses = await safe_addresses(url, resolve=self.resolve)
        except Invalid as exc:
            # A host that stopped resolving may come back; one that now points inside never gets a request.
            return exc.message, "does not resolve" in exc.message
        target = httpx.URL(url)
        pinned = target.copy_with(host=addresses[0].split("%", 1)[0])
        headers = {
            "Host": target.netloc.decode("ascii"),
            "Content-Type": "application/json",
            "User-Agent": "Versicolor-Callbacks/1",
            DATA_CODE_HEADER: data_code,
            SIGNATURE_HEADER: signature(key=key, timestamp=int(self.clock()), body=body),
        }
        try:
            answer = await client.post(pinned, content=body, headers=headers, extensions={"sni_hostname": target.host})
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}", True
        if answer.is_success:
            return None
        retry = answer.status_code >= 500 or answer.status_code in _RETRIED_STATUSES
        return f"the receiver answered {answer.status_code}", retry
