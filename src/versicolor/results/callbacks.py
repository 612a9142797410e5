"""Delivery of a READY report to the caller's `callbackUrl`: signed, retried, and never into our own network.

A callback URL must be HTTPS, and every address its host resolves to must be public: a loopback, private,
link-local, multicast or otherwise reserved address is refused when the report is requested and again at
every delivery attempt, because DNS can change in between (rebinding). Each attempt connects to the address
it just checked (the request goes to that IP, with the original host in `Host` and in TLS SNI, so the
certificate is still verified for the host), so a second lookup cannot swap the address under us.

Signature (docs/results.md): `X-Versicolor-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>...]` where each
`hex` is HMAC-SHA256 over `"<t>." + body` with one of the account's callback keys in force
(results/callback_keys.py; `account_callback_key` until the account first rotates).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import logging
import re
import socket
import time
import unicodedata
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

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


def signature(*, key: str | Sequence[str], timestamp: int, body: bytes) -> str:
    """The signature header's value for `body` sent at `timestamp`: one `v1=` per key (several while a
    rotated-out key is still in force, newest first)."""
    keys = [key] if isinstance(key, str) else list(key)
    digests = [hmac.new(k.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest() for k in keys]
    return ",".join([f"t={timestamp}", *(f"v1={digest}" for digest in digests)])


# One answer for every target refused, whatever the reason: the error must not tell a caller what our DNS
# says, nor which internal addresses exist.
REFUSED = (
    "cannot receive reports: it must be an https:// URL whose host is a public DNS name or public IP address "
    "(written in the usual form) and whose port is one of {ports}"
)
DEFAULT_PORTS = frozenset({443, 8443})
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")
_NUMERIC = re.compile(r"^[0-9a-fx.]+$")


def parse_ports(value: str) -> frozenset[int]:
    """The ports of a comma-separated list (VERSICOLOR_CALLBACK_PORTS); raises ValueError."""
    ports = frozenset(int(part) for part in value.split(",") if part.strip())
    if not ports or any(not 1 <= port <= 65535 for port in ports):
        raise ValueError(f"{value!r} is not a comma-separated list of ports 1-65535")
    return ports


def refusal(address: IpAddress) -> str | None:
    """Why a callback may not go to `address`, or None when it is a public address.

    IPv6 forms that carry an IPv4 address (IPv4-mapped, 6to4, NAT64) are judged by the IPv4 address they
    lead to as well: `2002:7f00:1::` is 127.0.0.1 reached through a 6to4 relay.
    """
    embedded: list[IpAddress] = [address]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            embedded = [address.ipv4_mapped]
        elif address in _NAT64:
            embedded = [ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)]
        elif address.sixtofour is not None:
            embedded.append(address.sixtofour)
    for candidate in embedded:
        if candidate.is_loopback:
            return "a loopback address"
        if candidate.is_link_local:
            return "a link-local address"
        if candidate.is_private:
            return "a private address"
        if candidate.is_multicast or candidate.is_unspecified or candidate.is_reserved or not candidate.is_global:
            return "not a public address"
    return None


@dataclass(frozen=True)
class Target:
    """A callback URL taken apart: its host (an ASCII DNS name or an IP address) and its port."""

    host: str
    port: int
    literal: IpAddress | None


def target_of(url: str, *, ports: frozenset[int] = DEFAULT_PORTS) -> Target:
    """The host and port `url` names, strictly read; raises Invalid (one text, whatever is wrong)."""
    refused = Invalid.field(FIELD, REFUSED.format(ports=" or ".join(str(p) for p in sorted(ports))))
    try:
        parts = urlsplit(url)
        port = parts.port if parts.port is not None else 443
        host = parts.hostname or ""
    except ValueError:
        raise refused from None
    if parts.scheme.lower() != "https" or not host or port not in ports:
        raise refused
    # A bracketed IPv6 literal, never with a zone (fe80::1%eth0 names an interface of ours).
    if ":" in host:
        try:
            return Target(host=host, port=port, literal=ipaddress.IPv6Address(host))
        except ValueError:
            raise refused from None
    # Full-width digits and other compatibility forms are what a resolver would see after IDNA: fold them.
    host = unicodedata.normalize("NFKC", host).rstrip(".").lower()
    if _NUMERIC.match(host) and any(ch.isdigit() for ch in host.replace(".", "")[-1:]):
        # Only the dotted-quad form: 0177.0.0.1 (octal), 0x7f.1, 2130706433 or 127.1 reach 127.0.0.1 through
        # a resolver's inet_aton, and would pass a check that reads them otherwise.
        try:
            return Target(host=host, port=port, literal=ipaddress.IPv4Address(host))
        except ValueError:
            raise refused from None
    try:
        ascii_host = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        raise refused from None
    labels = ascii_host.split(".")
    if len(ascii_host) > 253 or len(labels) < 2 or not all(_HOST_LABEL.match(label) for label in labels):
        raise refused  # "localhost", "intranet": single-label names resolve inside
    if labels[-1].isdigit():
        raise refused  # 10.0.0.0x1 and other numeric-looking names a resolver may read as an address
    return Target(host=ascii_host, port=port, literal=None)


async def safe_addresses(url: str, *, resolve: Resolver, ports: frozenset[int] = DEFAULT_PORTS) -> list[str]:
    """Every address the URL's host resolves to, all public; raises Invalid naming callbackUrl otherwise.

    The refusal reads the same whatever the reason (a private address, no such host, a port not allowed), so
    that it tells a caller nothing about the network it was aimed at; the reason goes to the log.
    """
    target = target_of(url, ports=ports)
    refused = Invalid.field(FIELD, REFUSED.format(ports=" or ".join(str(p) for p in sorted(ports))))
    if target.literal is not None:
        resolved = [str(target.literal)]
    else:
        try:
            resolved = list(await resolve(target.host, target.port))
        except (OSError, UnicodeError) as exc:
            log.info("callback host %s does not resolve (%s)", target.host, exc)
            raise Unresolved(refused) from exc
        if not resolved:
            log.info("callback host %s resolves to no address", target.host)
            raise Unresolved(refused)
    for raw in resolved:
        # getaddrinfo may append an IPv6 zone ("fe80::1%eth0"); the zone makes no address public.
        try:
            address = ipaddress.ip_address(raw.split("%", 1)[0])
        except ValueError:
            raise refused from None
        reason = refusal(address)
        if reason is not None:
            log.info("callback host %s resolves to %s, %s: refused", target.host, address, reason)
            raise refused
    return resolved


class Unresolved(Invalid):
    """A callback host that does not resolve (now): a delivery tries it again later."""

    def __init__(self, refused: Invalid) -> None:
        super().__init__(refused.message, details=refused.details)


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
    ports: frozenset[int] = DEFAULT_PORTS

    async def check(self, url: str) -> None:
        """Raise Invalid (naming callbackUrl) unless `url` may receive callbacks now."""
        await safe_addresses(url, resolve=self.resolve, ports=self.ports)

    async def deliver(self, *, url: str, body: bytes, key: str | Sequence[str], data_code: str) -> Delivery:
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
        self, client: httpx.AsyncClient, *, url: str, body: bytes, key: str | Sequence[str], data_code: str
    ) -> tuple[str, bool] | None:
        """None when delivered; otherwise the problem and whether another attempt may succeed."""
        try:
            addresses = await safe_addresses(url, resolve=self.resolve, ports=self.ports)
        except Unresolved:
            return "the host does not resolve", True  # it may come back
        except Invalid:
            # One that now points inside (or is no longer allowed) never gets a request.
            return "the host is no longer a public HTTPS endpoint", False
        target = target_of(url, ports=self.ports)
        parts = urlsplit(url)
        address = addresses[0].split("%", 1)[0]
        at = f"[{address}]" if ":" in address else address
        pinned = httpx.URL(f"https://{at}:{target.port}{parts.path or '/'}{'?' + parts.query if parts.query else ''}")
        named = f"[{target.host}]" if ":" in target.host else target.host
        headers = {
            "Host": named if target.port == 443 else f"{named}:{target.port}",
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
