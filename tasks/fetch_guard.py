"""The address guard: which URLs the fetcher may connect to, checked before connecting and on the socket.

A news crawler fetches URLs that strangers wrote (feeds, sitemaps, redirects), so a URL must not reach the
machine's own services: only http(s) is fetched, and a host that resolves to a private, loopback, link-local,
multicast or reserved address is refused unless its network was opted in (``FetchOptions.allow_networks``).
:func:`check_url` checks the resolved names before a request; :class:`tasks.fetch_adapter.GuardedAdapter` checks
the peer of every socket it connects, so a name that resolves differently the second time (DNS rebinding) does not
get through.
"""

from __future__ import annotations

import ipaddress
import socket
from functools import lru_cache
from urllib.parse import urlsplit

from tasks.fetch_errors import (
    REASON_BAD_SCHEME,
    REASON_BAD_URL,
    REASON_BLOCKED_ADDRESS,
    REASON_CONNECTION_ERROR,
    FetchError,
)


class BlockedPeerError(Exception):
    """Raised from inside urllib3 when the connected socket's peer is not an allowed address."""


@lru_cache(maxsize=64)
def parse_networks(cidrs: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """Return the opted-in networks; raises ``ValueError`` on a malformed CIDR (cached: asked per connection)."""
    return tuple(ipaddress.ip_network(c, strict=False) for c in cidrs)


def address_allowed(address: str, allow_networks: tuple[str, ...] = ()) -> bool:
    """Return True when ``address`` (an IP literal) is a public unicast address or inside an opted-in network.

    Refused: private, loopback, link-local (cloud metadata at 169.254.169.254), multicast, reserved,
    unspecified, shared (CGNAT) and other non-global ranges, also when written as IPv4-mapped IPv6.
    """
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if any(ip in net for net in parse_networks(allow_networks)):
        return True
    return ip.is_global and not ip.is_multicast and not ip.is_reserved


def check_url(url: str, allow_networks: tuple[str, ...] = (), *, resolve: bool = True) -> str:
    """Return the URL's host after checking scheme and addresses; raise :class:`FetchError` otherwise.

    Reasons: ``bad_scheme`` (not http/https), ``bad_url`` (unparseable, no host, bad port),
    ``connection_error`` (the name does not resolve; transient only when the resolver says "try again"),
    ``blocked_address`` (any resolved address is not allowed, see :func:`address_allowed`).
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise FetchError(REASON_BAD_URL, f"unparseable URL: {exc}", url=url) from exc
    if parts.scheme.lower() not in ("http", "https"):
        raise FetchError(REASON_BAD_SCHEME, f"scheme {parts.scheme!r} is not fetched", url=url)
    host = parts.hostname
    if not host:
        raise FetchError(REASON_BAD_URL, "URL has no host", url=url)
    if not resolve:
        return host
    try:
        infos = socket.getaddrinfo(host, port or (443 if parts.scheme == "https" else 80), type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError) as exc:
        # Only a temporary resolver failure is worth retrying; a name that does not exist stays so.
        temporary = isinstance(exc, socket.gaierror) and exc.errno == socket.EAI_AGAIN
        raise FetchError(
            REASON_CONNECTION_ERROR, f"cannot resolve {host}: {exc}", url=url, transient=temporary
        ) from exc
    for info in infos:
        address = str(info[4][0])
        if not address_allowed(address, allow_networks):
            raise FetchError(REASON_BLOCKED_ADDRESS, f"{host} resolves to {address}", url=url)
    return host
