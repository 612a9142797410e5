"""The HTTPS rule (the Automation API: plain HTTP fails): refuse requests that did not arrive over HTTPS.

Allowed: requests over TLS (`serve --tls-cert/--tls-key`); requests from a loopback address (local
development); and requests from a trusted proxy (`VERSICOLOR_TRUSTED_PROXIES`) whose `X-Forwarded-Proto` says
`https`. Those continue as `https`. A trusted proxy's requests get their client address from `X-Forwarded-For`
(the nearest untrusted one), so that per-address limits see real clients, not the proxy. A trusted proxy's
word decides even when it connects from loopback: a reverse proxy on this machine must be listed, or every
request it forwards would pass as local. Health probes (`/healthz`, `/readyz`) are exempt: they carry nothing
secret, and load balancers send them in plain HTTP. Everything else gets a 403 that says HTTPS is required.

Answers to requests that came over HTTPS carry `Strict-Transport-Security` (`VERSICOLOR_HSTS_MAX_AGE`), so
that a browser that once reached the service over HTTPS never again tries plain HTTP to it (RFC 6797; never
sent over plain HTTP, where it would mean nothing).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from versicolor.api.dialects import dialect_of, error_response

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# Paths the rule never refuses.
EXEMPT = frozenset({"/healthz", "/readyz"})
MESSAGE = (
    "HTTPS is required: this request arrived over plain HTTP. Use an https:// URL "
    "(plain HTTP is accepted only from this machine, or from a trusted proxy that terminated TLS)"
)


def parse_networks(value: str) -> list[Network]:
    """The networks of a comma-separated list of addresses and CIDRs (validated by Settings)."""
    return [ipaddress.ip_network(part.strip(), strict=False) for part in value.split(",") if part.strip()]


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _header(scope: Scope, name: bytes) -> str | None:
    values = [value.decode("latin-1") for key, value in scope["headers"] if key == name]
    return ",".join(values) if values else None


class HttpsRule:
    """Pure ASGI middleware applying the HTTPS rule."""

    def __init__(
        self, app: ASGIApp, *, required: bool, trusted_proxies: Sequence[Network] = (), hsts_max_age: int = 0
    ) -> None:
        self.app = app
        self.required = required
        self._hsts = f"max-age={hsts_max_age}".encode() if hsts_max_age > 0 else None
        self.trusted = tuple(trusted_proxies)
        self._peers: dict[str, tuple[bool, bool]] = {}

    def _is_trusted(self, address: ipaddress.IPv4Address | ipaddress.IPv6Address | None) -> bool:
        return address is not None and any(address in network for network in self.trusted)

    def _peer(self, host: str) -> tuple[bool, bool]:
        """Whether a peer address is loopback, and whether it is a trusted proxy (remembered: clients return)."""
        known = self._peers.get(host)
        if known is None:
            address = _address(host)
            known = (address is not None and address.is_loopback, self._is_trusted(address))
            if len(self._peers) >= 4096:
                self._peers.clear()
            self._peers[host] = known
        return known

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        # No client address means a Unix socket: local by construction.
        loopback, trusted = self._peer(client[0]) if client else (True, False)
        if trusted:
            # A trusted proxy speaks for its clients, also from loopback (a reverse proxy on this machine).
            scope = self._forwarded(scope)
            loopback = False
        if scope.get("scheme") == "https" and self._hsts is not None:
            send = self._with_hsts(send, self._hsts)
        if not self.required or loopback or scope.get("scheme") == "https" or scope["path"] in EXEMPT:
            await self.app(scope, receive, send)
            return
        await self._refuse(scope, receive, send)

    @staticmethod
    def _with_hsts(send: Send, value: bytes) -> Send:
        async def send_with_hsts(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"strict-transport-security", value)]
            await send(message)

        return send_with_hsts

    def _forwarded(self, scope: Scope) -> Scope:
        # The value our proxy added is the last one; earlier ones came from the client and prove nothing.
        proto = (_header(scope, b"x-forwarded-proto") or "").split(",")[-1].strip().lower()
        scope = dict(scope)
        if proto == "https":
            scope["scheme"] = "https"
        # The client's address whatever the scheme: per-address limits must see clients, never the proxy.
        hops = [hop.strip() for hop in (_header(scope, b"x-forwarded-for") or "").split(",") if hop.strip()]
        for hop in reversed(hops):
            address = _address(hop)
            if address is None:
                break
            if not self._is_trusted(address):
                scope["client"] = (str(address), 0)
                break
        return scope

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"]
        response: JSONResponse
        if path.startswith("/oauth/"):
            response = JSONResponse(
                {"error": "invalid_request", "error_description": MESSAGE},
                status_code=403,
                headers={"Cache-Control": "no-store"},
            )
        else:
            response = error_response(dialect_of(path), 403, MESSAGE)
        await response(scope, receive, send)
