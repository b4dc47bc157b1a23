"""Fetching web pages politely and safely: the one HTTP client object every network-touching stage uses.

:class:`FetchClient` wraps ``requests`` (one Session per worker thread) with what a news crawler owes the
sites it reads and the machine it runs on:

* politeness: robots.txt obeyed (with its Crawl-delay), at most one request in flight per host and a minimum
  spacing between requests to the same host, a User-Agent that names mediawatch and a contact;
* resilience: connect, read and total timeouts, retries with exponential backoff and jitter on transient
  failures only (connection errors, timeouts, 5xx, 408, 429 with Retry-After honoured);
* safety: only http(s); every redirect hop followed by hand and checked; hosts resolving to private, loopback,
  link-local, multicast or reserved addresses refused (checked before connecting and again on the connected
  socket, so DNS rebinding does not get through) unless a network was opted in; body size capped while
  streaming and decompressed size capped (gzip bombs);
* conditional GET: ``If-None-Match`` / ``If-Modified-Since`` from validators the caller kept.

Failures are raised as :class:`FetchError` with a reason code (the ``REASON_*`` constants below) that callers
turn into :class:`~tasks.records.Rejection` rows. :func:`decode_html` turns fetched bytes into text without
mojibake.
Prefect wrappers do not live here: the batch tasks that use this client are in :mod:`tasks.sources`.
"""

from __future__ import annotations

import codecs
import email.utils
import ipaddress
import random
import re
import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from functools import lru_cache, partial
from typing import Literal, Protocol, TypeVar
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests
from protego import Protego
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import IncompleteRead, ProtocolError, ReadTimeoutError

# ------------------------------------------------------------------------------------------------------------
# Reason codes (``Rejection.reason`` for stage "fetch"). 4xx statuses are reported as ``http_<code>``.
REASON_HTTP_5XX = "http_5xx"
REASON_TIMEOUT = "timeout"
REASON_CONNECTION_ERROR = "connection_error"
REASON_TOO_LARGE = "too_large"
REASON_TRUNCATED_BODY = "truncated_body"
REASON_ROBOTS_DISALLOWED = "robots_disallowed"
REASON_ROBOTS_UNAVAILABLE = "robots_unavailable"
REASON_BLOCKED_ADDRESS = "blocked_address"
REASON_BAD_SCHEME = "bad_scheme"
REASON_BAD_URL = "bad_url"
REASON_BAD_CONTENT_TYPE = "bad_content_type"
REASON_REDIRECT_LOOP = "redirect_loop"
REASON_TOO_MANY_REDIRECTS = "too_many_redirects"
REASON_UNEXPECTED_STATUS = "unexpected_status"

TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504, 507, 509, 520, 521, 522, 523, 524})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})

# robots.txt is matched on this product token (RFC 9309 §2.2.1: the token is the crawler's name).
ROBOTS_TOKEN = "mediawatch"  # noqa: S105 (a product token, not a secret)
# RFC 9309 §2.5: crawlers must parse at least 500 KiB of robots.txt; more than that is ignored.
ROBOTS_MAX_BYTES = 512_000
# A Crawl-delay is honoured up to this many seconds; beyond it one host would stall a run for hours, so the
# cap keeps a run bounded while still being far slower than our default.
MAX_CRAWL_DELAY_SECONDS = 60.0
# Backoff sleeps never exceed this, however many retries are configured.
MAX_BACKOFF_SECONDS = 30.0
# Bytes read per socket read while streaming: small enough to check size caps and the deadline often.
CHUNK_BYTES = 65_536
# Response headers copied onto fetched items: what later stages may use (charset, language, dates, the
# canonical Link header, robots directives). Cookies and server internals are not kept.
KEPT_HEADERS = (
    "content-type",
    "content-language",
    "content-location",
    "last-modified",
    "etag",
    "date",
    "link",
    "x-robots-tag",
)

Accept = Literal["html", "xml", "any"]
_T = TypeVar("_T")
ACCEPT_HEADERS: dict[Accept, str] = {
    "html": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1",
    "xml": "application/rss+xml,application/atom+xml,application/xml;q=0.9,text/xml;q=0.9,*/*;q=0.1",
    "any": "*/*",
}
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
# Served for files whose type the server does not know: decided by sniffing the body.
_AMBIGUOUS_TYPES = frozenset({"", "application/octet-stream", "binary/octet-stream", "text/plain"})
_XML_EXTRA_TYPES = frozenset({"text/html", "application/x-gzip", "application/gzip", "application/x-rss", "text/rss"})
_HTML_SNIFF = re.compile(rb"<(?:!doctype\s+html|html|head|body|meta|title)[\s>]", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class FetchOptions:
    """How to fetch. Built once by the owner's settings object (``MEDIAWATCH_*``) and passed down."""

    contact: str = "https://example.invalid/mediawatch-operator"
    user_agent: str = "mediawatch/0.1 (+{contact})"
    # 1 request per second per host: what well-behaved news crawlers (Media Cloud, Common Crawl's CC-NEWS
    # fetcher) use; faster gets crawlers throttled or blocked by publishers' WAFs. robots.txt may ask for
    # more (Crawl-delay).
    host_delay_seconds: float = 1.0
    # 10 MB on the wire: the largest real article pages are ~2-3 MB; anything bigger is a video or a dump.
    max_bytes: int = 10_000_000
    # 50 MiB decompressed: the sitemap protocol's own limit for one file, well above any article page, and
    # small enough that a gzip bomb is cut off before it hurts memory.
    max_decompressed_bytes: int = 52_428_800
    connect_timeout: float = 5.0
    read_timeout: float = 15.0
    # Per attempt, headers to last byte: a server dripping bytes just under the read timeout is cut here.
    total_timeout: float = 30.0
    retries: int = 3
    # 1 s, 2 s, 4 s (each jittered down to half): rides out a restart or a short overload of one site.
    backoff_base_seconds: float = 1.0
    # A Retry-After longer than this is not waited for; the URL is rejected (http_429 / http_5xx) instead.
    max_retry_after_seconds: float = 120.0
    max_redirects: int = 5
    allow_networks: tuple[str, ...] = ()
    refetch: bool = False
    # Hosts are fetched in parallel by this many threads; each host still sees one request at a time.
    max_workers: int = 8
    # Article URLs taken from one feed or sitemap (newest first when the sitemap gives dates): a large
    # site's sitemap index lists its whole archive, which is not news.
    max_urls_per_source: int = 2_000
    # Child sitemaps read from one sitemap index (newest first): news sites split by day or by section.
    max_sitemaps_per_source: int = 50

    def user_agent_string(self) -> str:
        """Return the User-Agent header: the template with the contact filled in."""
        return self.user_agent.format(contact=self.contact)


class FetchError(Exception):
    """A URL could not be fetched. ``reason`` is a ``REASON_*`` code or ``http_<status>``."""

    def __init__(
        self,
        reason: str,
        detail: str,
        *,
        url: str = "",
        status: int | None = None,
        transient: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        self.url = url
        self.status = status
        self.transient = transient
        self.retry_after = retry_after


class _BlockedPeerError(Exception):
    """Raised from inside urllib3 when the connected socket's peer is not an allowed address."""


def is_transient(exc_or_status: BaseException | int) -> bool:
    """Return True when a failure (an exception or an HTTP status) is worth retrying later.

    Transient: connection errors, timeouts, truncated bodies, 5xx, 408 and 429. Never other 4xx, robots or
    address refusals. Usable as a Prefect ``retry_condition_fn`` building block.
    """
    if isinstance(exc_or_status, bool):
        return False
    if isinstance(exc_or_status, int):
        return exc_or_status in TRANSIENT_STATUSES or 500 <= exc_or_status <= 599
    if isinstance(exc_or_status, FetchError):
        return exc_or_status.transient
    if isinstance(exc_or_status, requests.exceptions.SSLError):
        return False
    return isinstance(
        exc_or_status,
        requests.exceptions.ConnectionError
        | requests.exceptions.Timeout
        | requests.exceptions.ChunkedEncodingError
        | ConnectionError
        | TimeoutError,
    )


def reason_for_status(status: int) -> str:
    """Return the reason code for an HTTP error status: ``http_5xx`` for any 5xx, else ``http_<status>``."""
    return REASON_HTTP_5XX if 500 <= status <= 599 else f"http_{status}"


# ------------------------------------------------------------------------------------------------------------
# Address guard


@lru_cache(maxsize=64)
def _networks(cidrs: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
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
    if any(ip in net for net in _networks(allow_networks)):
        return True
    return ip.is_global and not ip.is_multicast and not ip.is_reserved


def check_url(url: str, allow_networks: tuple[str, ...] = (), *, resolve: bool = True) -> str:
    """Return the URL's host after checking scheme and addresses; raise :class:`FetchError` otherwise.

    Reasons: ``bad_scheme`` (not http/https), ``bad_url`` (no host, bad port, name does not resolve),
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


def _guarded_pool_classes(
    allow_networks: tuple[str, ...],
) -> dict[str, type[HTTPConnectionPool]]:
    """Return urllib3 pool classes whose connections refuse a socket connected to a non-allowed peer."""

    def check_peer(sock: socket.socket) -> None:
        peer = str(sock.getpeername()[0])
        if not address_allowed(peer, allow_networks):
            sock.close()
            raise _BlockedPeerError(f"connected peer {peer} is not an allowed address")

    class GuardedHTTPConnection(HTTPConnection):
        def _new_conn(self) -> socket.socket:
            sock = super()._new_conn()
            check_peer(sock)
            return sock

    class GuardedHTTPSConnection(HTTPSConnection):
        def _new_conn(self) -> socket.socket:
            sock = super()._new_conn()
            check_peer(sock)
            return sock

    class GuardedHTTPPool(HTTPConnectionPool):
        ConnectionCls = GuardedHTTPConnection

    class GuardedHTTPSPool(HTTPSConnectionPool):
        ConnectionCls = GuardedHTTPSConnection

    return {"http": GuardedHTTPPool, "https": GuardedHTTPSPool}


class _GuardedAdapter(HTTPAdapter):
    """A requests adapter with no urllib3 retries (the client retries itself) and guarded connections."""

    def __init__(self, allow_networks: tuple[str, ...]) -> None:
        self._pool_classes = _guarded_pool_classes(allow_networks)
        super().__init__(max_retries=0, pool_connections=16, pool_maxsize=4)

    def init_poolmanager(self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: object) -> None:
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)
        self.poolmanager.pool_classes_by_scheme = self._pool_classes


# ------------------------------------------------------------------------------------------------------------
# Politeness


class HostLimiter:
    """Per-host politeness: one request at a time per host, and a minimum gap between its requests.

    Thread-safe. The gap runs from the end of one request to the start of the next; :meth:`defer` pushes a
    host's next slot out (Retry-After), for every thread.
    """

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._meta = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self._next: dict[str, float] = {}

    def _lock_for(self, host: str) -> threading.Lock:
        with self._meta:
            return self._locks.setdefault(host, threading.Lock())

    def defer(self, host: str, seconds: float) -> None:
        """Make the next request to ``host`` wait at least ``seconds`` from now."""
        with self._meta:
            self._next[host] = max(self._next.get(host, 0.0), self._clock() + seconds)

    @contextmanager
    def slot(self, host: str, delay: float) -> Iterator[None]:
        """Hold ``host``'s single slot for one request, waiting for its turn; ``delay`` follows it."""
        with self._lock_for(host):
            while True:
                with self._meta:
                    wait = self._next.get(host, 0.0) - self._clock()
                if wait <= 0:
                    break
                self._sleep(wait)
            try:
                yield
            finally:
                self.defer(host, delay)


@dataclass(frozen=True, slots=True)
class _RobotsEntry:
    rules: Protego | None  # None: allow everything (no robots.txt)
    unavailable: str | None = None  # set: robots.txt could not be read, so nothing is fetched from the origin
    crawl_delay: float = 0.0
    sitemaps: tuple[str, ...] = ()


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), "", "", ""))


# ------------------------------------------------------------------------------------------------------------
# Responses and counters


@dataclass(frozen=True, slots=True)
class FetchResponse:
    """A successful fetch: status 200 with the (decompressed) body, or 304 Not Modified with an empty body."""

    url: str
    final_url: str
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    redirects: tuple[str, ...] = ()

    @property
    def not_modified(self) -> bool:
        """True for a 304 answer to a conditional GET."""
        return self.status == 304

    def header(self, name: str) -> str | None:
        """Return the first response header called ``name`` (case-insensitive), or None."""
        return header_value(self.headers, name)


@dataclass
class FetchStats:
    """Counters for run accounting; thread-safe through :meth:`add`."""

    requests: int = 0
    retries: int = 0
    not_modified: int = 0
    skipped_known: int = 0
    robots_fetched: int = 0
    bytes_received: int = 0
    # URLs a feed or sitemap listed beyond ``FetchOptions.max_urls_per_source`` (left for a later run).
    urls_over_cap: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, name: str, amount: int = 1) -> None:
        """Add ``amount`` to the counter ``name``."""
        with self._lock:
            setattr(self, name, getattr(self, name) + amount)

    def snapshot(self) -> dict[str, int]:
        """Return the counters as a plain dict."""
        with self._lock:
            return {f.name: int(getattr(self, f.name)) for f in fields(self) if not f.name.startswith("_")}


class Fetcher(Protocol):
    """What discovery and fetching need from a client: :class:`FetchClient` or a fixture client in tests."""

    stats: FetchStats

    def get(
        self,
        url: str,
        *,
        accept: Accept = "html",
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> FetchResponse: ...

    def set_host_delay(self, url: str, seconds: float) -> None: ...


HeadersLike = Mapping[str, str] | Iterable[tuple[str, str]]


def header_value(headers: HeadersLike, name: str) -> str | None:
    """Return the first header ``name`` (case-insensitive) from a mapping or a sequence of pairs, or None."""
    wanted = name.lower()
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    for key, value in pairs:
        if key.lower() == wanted:
            return value
    return None


def _parse_retry_after(value: str | None) -> float | None:
    """Return Retry-After in seconds (delta-seconds or an HTTP date), or None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


# ------------------------------------------------------------------------------------------------------------
# The client


class FetchClient:
    """The one HTTP client: polite, retrying, size-capped and address-guarded. Use as a context manager.

    Thread-safe: each worker thread gets its own ``requests.Session``; per-host limits are shared. ``stats``
    counts requests, retries, 304s and skips for the run record.
    """

    def __init__(
        self,
        options: FetchOptions,
        *,
        limiter: HostLimiter | None = None,
        rng: random.Random | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if options.max_redirects < 0 or options.retries < 0:
            raise ValueError("max_redirects and retries must be >= 0")
        _networks(options.allow_networks)  # fail fast on a malformed CIDR
        self.options = options
        self.stats = FetchStats()
        self._limiter = limiter or HostLimiter(sleep=sleep)
        self._host_delays: dict[str, float] = {}
        self._rng = rng or random.Random()
        self._sleep = sleep
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._sessions_lock = threading.Lock()
        self._robots: dict[str, _RobotsEntry] = {}
        self._robots_locks: dict[str, threading.Lock] = {}
        self._robots_meta = threading.Lock()

    def __enter__(self) -> FetchClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close every session this client opened."""
        with self._sessions_lock:
            for session in self._sessions:
                session.close()
            self._sessions.clear()
        self._local = threading.local()

    # -- sessions ------------------------------------------------------------------------------------------
    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            # No proxies or .netrc from the environment: the address guard must see the real peer.
            session.trust_env = False
            adapter = _GuardedAdapter(self.options.allow_networks)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            session.headers.update({"User-Agent": self.options.user_agent_string(), "Accept-Encoding": "gzip, deflate"})
            self._local.session = session
            with self._sessions_lock:
                self._sessions.append(session)
        return session

    # -- robots.txt ------------------------------------------------------------------------------------------
    def robots(self, url: str) -> _RobotsEntry:
        """Return the parsed robots.txt for ``url``'s origin, fetching it once per client (per origin)."""
        origin = _origin(url)
        with self._robots_meta:
            entry = self._robots.get(origin)
            if entry is not None:
                return entry
            lock = self._robots_locks.setdefault(origin, threading.Lock())
        with lock:
            with self._robots_meta:
                entry = self._robots.get(origin)
            if entry is None:
                entry = self._fetch_robots(origin)
                with self._robots_meta:
                    self._robots[origin] = entry
        return entry

    def _fetch_robots(self, origin: str) -> _RobotsEntry:
        """RFC 9309: 4xx means no rules; 5xx or unreachable means nothing may be fetched for now."""
        self.stats.add("robots_fetched")
        try:
            response = self._get(origin + "/robots.txt", accept="any", check_robots=False)
        except FetchError as exc:
            if exc.status is not None and 400 <= exc.status < 500 and exc.status != 429:
                return _RobotsEntry(rules=None)
            if exc.reason in (REASON_BLOCKED_ADDRESS, REASON_BAD_SCHEME, REASON_BAD_URL):
                raise
            return _RobotsEntry(rules=None, unavailable=f"robots.txt unavailable: {exc.reason}: {exc.detail}")
        text = response.body[:ROBOTS_MAX_BYTES].decode("utf-8", errors="replace")
        rules = Protego.parse(text)
        delay = rules.crawl_delay(ROBOTS_TOKEN) or 0.0
        return _RobotsEntry(
            rules=rules,
            crawl_delay=min(float(delay), MAX_CRAWL_DELAY_SECONDS),
            sitemaps=tuple(rules.sitemaps),
        )

    def _check_robots(self, url: str) -> None:
        entry = self.robots(url)
        if entry.unavailable:
            raise FetchError(REASON_ROBOTS_UNAVAILABLE, entry.unavailable, url=url)
        if entry.rules is not None and not entry.rules.can_fetch(url, ROBOTS_TOKEN):
            raise FetchError(REASON_ROBOTS_DISALLOWED, "robots.txt disallows this path", url=url)

    def set_host_delay(self, url: str, seconds: float) -> None:
        """Use ``seconds`` between requests to ``url``'s host instead of the default (a source's ``rate``).

        robots.txt's Crawl-delay still wins when it asks for more.
        """
        if seconds < 0:
            raise ValueError("a host delay cannot be negative")
        self._host_delays[_origin(url)] = seconds

    def _host_delay(self, url: str) -> float:
        origin = _origin(url)
        with self._robots_meta:
            entry = self._robots.get(origin)
        crawl_delay = entry.crawl_delay if entry is not None else 0.0
        return max(self._host_delays.get(origin, self.options.host_delay_seconds), crawl_delay)

    # -- fetching --------------------------------------------------------------------------------------------
    def get(
        self,
        url: str,
        *,
        accept: Accept = "html",
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> FetchResponse:
        """Return the response for ``url`` after robots, address checks, redirects and retries.

        Returns status 200 with the body, or 304 when ``etag``/``last_modified`` were given and the server
        says nothing changed. Raises :class:`FetchError` with reason ``http_<4xx>``, ``http_5xx``,
        ``timeout``, ``connection_error``, ``too_large``, ``truncated_body``, ``robots_disallowed``,
        ``robots_unavailable``, ``blocked_address``, ``bad_scheme``, ``bad_url``, ``bad_content_type``,
        ``redirect_loop``, ``too_many_redirects`` or ``unexpected_status``.
        """
        return self._get(url, accept=accept, etag=etag, last_modified=last_modified, check_robots=True)

    def _get(
        self,
        url: str,
        *,
        accept: Accept,
        etag: str | None = None,
        last_modified: str | None = None,
        check_robots: bool,
    ) -> FetchResponse:
        headers = {"Accept": ACCEPT_HEADERS[accept]}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        current = url
        seen = {url}
        hops: list[str] = []
        while True:
            self._retrying(current, partial(check_url, current, self.options.allow_networks))
            if check_robots:
                self._check_robots(current)
            status, response_headers, body = self._retrying(
                current, partial(self._request_once, current, urlsplit(current).netloc.lower(), headers, accept)
            )
            if status not in REDIRECT_STATUSES:
                return FetchResponse(
                    url=url,
                    final_url=current,
                    status=status,
                    headers=response_headers,
                    body=body,
                    redirects=tuple(hops),
                )
            location = header_value(response_headers, "location")
            if not location:
                raise FetchError(
                    REASON_UNEXPECTED_STATUS, f"redirect {status} without Location", url=url, status=status
                )
            target = urljoin(current, location.strip()).split("#", 1)[0]
            if target in seen:
                raise FetchError(REASON_REDIRECT_LOOP, " -> ".join([*hops, current, target]), url=url)
            if len(hops) >= self.options.max_redirects:
                raise FetchError(
                    REASON_TOO_MANY_REDIRECTS,
                    f"more than {self.options.max_redirects} redirects: {' -> '.join([*hops, current])}",
                    url=url,
                )
            seen.add(target)
            hops.append(current)
            current = target

    def _backoff(self, attempt: int) -> float:
        # Exponential with "equal jitter": between half and all of base * 2^attempt, so retries from many
        # workers spread out while each still waits a predictable minimum.
        ceiling = min(MAX_BACKOFF_SECONDS, self.options.backoff_base_seconds * (2.0**attempt))
        return ceiling / 2 + self._rng.uniform(0, ceiling / 2)

    def _retrying(self, url: str, attempt_once: Callable[[], _T]) -> _T:
        """Return ``attempt_once()``, retried with backoff while it fails transiently (``FetchError``)."""
        host = urlsplit(url).netloc.lower()
        attempt = 0
        while True:
            try:
                return attempt_once()
            except FetchError as exc:
                if not exc.transient or attempt >= self.options.retries:
                    raise
                delay = self._backoff(attempt)
                if exc.retry_after is not None:
                    if exc.retry_after > self.options.max_retry_after_seconds:
                        raise
                    self._limiter.defer(host, exc.retry_after)
                    delay = max(delay, exc.retry_after)
                self.stats.add("retries")
                attempt += 1
                self._sleep(delay)

    def _request_once(
        self, url: str, host: str, headers: dict[str, str], accept: Accept
    ) -> tuple[int, tuple[tuple[str, str], ...], bytes]:
        options = self.options
        with self._limiter.slot(host, self._host_delay(url)):
            self.stats.add("requests")
            deadline = time.monotonic() + options.total_timeout
            try:
                response = self._session().get(
                    url,
                    headers=headers,
                    stream=True,
                    allow_redirects=False,
                    timeout=(options.connect_timeout, min(options.read_timeout, options.total_timeout)),
                )
            except _BlockedPeerError as exc:
                raise FetchError(REASON_BLOCKED_ADDRESS, str(exc), url=url) from exc
            except requests.exceptions.Timeout as exc:
                raise FetchError(REASON_TIMEOUT, _short(exc), url=url, transient=True) from exc
            except requests.exceptions.SSLError as exc:
                raise FetchError(REASON_CONNECTION_ERROR, f"TLS: {_short(exc)}", url=url) from exc
            except requests.exceptions.ConnectionError as exc:
                raise FetchError(REASON_CONNECTION_ERROR, _short(exc), url=url, transient=True) from exc
            except (requests.exceptions.InvalidURL, requests.exceptions.InvalidSchema, ValueError) as exc:
                raise FetchError(REASON_BAD_URL, _short(exc), url=url) from exc
            except requests.exceptions.RequestException as exc:
                raise FetchError(REASON_CONNECTION_ERROR, _short(exc), url=url, transient=True) from exc
            with response:
                status = response.status_code
                kept = tuple((name, value) for name, value in response.headers.items() if name.lower() in KEPT_HEADERS)
                if status in REDIRECT_STATUSES:
                    location = response.headers.get("location")
                    return status, (*kept, ("location", location)) if location else kept, b""
                if status == 304:
                    self.stats.add("not_modified")
                    return status, kept, b""
                if status >= 400:
                    retry_after = _parse_retry_after(response.headers.get("retry-after"))
                    raise FetchError(
                        reason_for_status(status),
                        f"HTTP {status} {response.reason or ''}".strip(),
                        url=url,
                        status=status,
                        transient=is_transient(status),
                        retry_after=retry_after if status in (429, 503) else None,
                    )
                if status not in (200, 203):
                    raise FetchError(REASON_UNEXPECTED_STATUS, f"HTTP {status}", url=url, status=status)
                content_type = response.headers.get("content-type", "")
                if not _content_type_acceptable(accept, content_type):
                    raise FetchError(REASON_BAD_CONTENT_TYPE, f"content-type {content_type!r}", url=url)
                body = self._read_body(response, url, deadline)
            if accept == "html" and _mime(content_type) in _AMBIGUOUS_TYPES and not _HTML_SNIFF.search(body[:4096]):
                raise FetchError(
                    REASON_BAD_CONTENT_TYPE, f"content-type {content_type!r} and body is not HTML", url=url
                )
            return status, kept, body

    def _read_body(self, response: requests.Response, url: str, deadline: float) -> bytes:
        """Return the body, decompressed, enforcing the wire and decompressed caps and the deadline.

        Raises ``too_large``, ``timeout``, ``truncated_body``, ``connection_error`` or ``bad_content_type``
        (an encoding we did not ask for).
        """
        options = self.options
        declared = _int_or_none(response.headers.get("content-length"))
        if declared is not None and declared > options.max_bytes:
            raise FetchError(REASON_TOO_LARGE, f"Content-Length {declared} > {options.max_bytes}", url=url)
        decoder = _decoder_for(response.headers.get("content-encoding", ""), url)
        parts: list[bytes] = []
        received = 0
        produced = 0
        raw = response.raw
        while True:
            if time.monotonic() > deadline:
                raise FetchError(
                    REASON_TIMEOUT,
                    f"body not complete within {options.total_timeout}s",
                    url=url,
                    transient=True,
                )
            try:
                chunk = raw.read1(CHUNK_BYTES, decode_content=False)
            except ReadTimeoutError as exc:
                raise FetchError(REASON_TIMEOUT, f"read timeout: {_short(exc)}", url=url, transient=True) from exc
            except IncompleteRead as exc:
                raise FetchError(REASON_TRUNCATED_BODY, _short(exc), url=url, transient=True) from exc
            except (ProtocolError, OSError) as exc:
                reason = REASON_TRUNCATED_BODY if received else REASON_CONNECTION_ERROR
                raise FetchError(reason, _short(exc), url=url, transient=True) from exc
            if not chunk:
                break
            received += len(chunk)
            if received > options.max_bytes:
                raise FetchError(REASON_TOO_LARGE, f"body exceeds {options.max_bytes} bytes", url=url)
            if decoder is None:
                parts.append(chunk)
                continue
            produced = decoder.feed(chunk, parts, produced, options.max_decompressed_bytes)
        self.stats.add("bytes_received", received)
        if declared is not None and received < declared:
            raise FetchError(REASON_TRUNCATED_BODY, f"got {received} of {declared} bytes", url=url, transient=True)
        if decoder is not None:
            decoder.finish(parts, produced, options.max_decompressed_bytes)
        return b"".join(parts)


class _Decompressor:
    """Streaming gzip/deflate decoding that stops as soon as the output passes the cap."""

    def __init__(self, wbits: int, url: str) -> None:
        self._wbits = wbits
        self._url = url
        self._obj = zlib.decompressobj(wbits)
        self._started = False

    def feed(self, data: bytes, parts: list[bytes], produced: int, cap: int) -> int:
        while data:
            try:
                out = self._obj.decompress(data, cap - produced + 1)
            except zlib.error as exc:
                if not self._started and self._wbits == zlib.MAX_WBITS:
                    # "deflate" is meant to be zlib-wrapped, but some servers send raw deflate.
                    self._wbits = -zlib.MAX_WBITS
                    self._obj = zlib.decompressobj(self._wbits)
                    continue
                raise FetchError(REASON_TRUNCATED_BODY, f"corrupt compressed body: {exc}", url=self._url) from exc
            self._started = True
            produced += len(out)
            if produced > cap:
                raise FetchError(REASON_TOO_LARGE, f"decompressed body exceeds {cap} bytes", url=self._url)
            parts.append(out)
            data = self._obj.unconsumed_tail
            if self._obj.eof:
                break
        return produced

    def finish(self, parts: list[bytes], produced: int, cap: int) -> None:
        tail = self._obj.flush()
        if produced + len(tail) > cap:
            raise FetchError(REASON_TOO_LARGE, f"decompressed body exceeds {cap} bytes", url=self._url)
        parts.append(tail)
        if not self._obj.eof:
            raise FetchError(REASON_TRUNCATED_BODY, "compressed body ends early", url=self._url, transient=True)


def _decoder_for(content_encoding: str, url: str) -> _Decompressor | None:
    encoding = content_encoding.strip().lower()
    if encoding in ("", "identity"):
        return None
    if encoding in ("gzip", "x-gzip"):
        return _Decompressor(16 + zlib.MAX_WBITS, url)
    if encoding == "deflate":
        return _Decompressor(zlib.MAX_WBITS, url)
    raise FetchError(REASON_BAD_CONTENT_TYPE, f"unsupported content-encoding {encoding!r}", url=url)


def _mime(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def _content_type_acceptable(accept: Accept, content_type: str) -> bool:
    mime = _mime(content_type)
    if accept == "any" or mime in _AMBIGUOUS_TYPES:
        return True
    if accept == "html":
        return mime in _HTML_TYPES
    return mime.endswith(("/xml", "+xml")) or mime in _XML_EXTRA_TYPES


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _short(exc: BaseException, limit: int = 300) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def gunzip_capped(data: bytes, cap: int, url: str = "") -> bytes:
    """Return ``data`` un-gzipped when it starts with the gzip magic (a ``.xml.gz`` sitemap), else ``data``.

    Raises :class:`FetchError` ``too_large`` past ``cap`` decompressed bytes, ``truncated_body`` when corrupt.
    """
    if not data.startswith(b"\x1f\x8b"):
        return data
    decoder = _Decompressor(16 + zlib.MAX_WBITS, url)
    parts: list[bytes] = []
    produced = decoder.feed(data, parts, 0, cap)
    decoder.finish(parts, produced, cap)
    return b"".join(parts)


# ------------------------------------------------------------------------------------------------------------
# Charset handling

# WHATWG Encoding Standard label mapping for the labels where Python's codec differs from what browsers do:
# browsers decode "iso-8859-1"/"ascii" as windows-1252 and "gb2312"/"gbk" as gb18030, and so must we, or
# curly quotes and rarer Chinese characters come out garbled.
_CHARSET_ALIASES = {
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "iso_8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "l1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "windows-1252": "cp1252",
    "x-user-defined": "cp1252",
    "iso-8859-9": "cp1254",
    "latin5": "cp1254",
    "iso-8859-11": "cp874",
    "tis-620": "cp874",
    "gb2312": "gb18030",
    "gb_2312-80": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "csgb2312": "gb18030",
    "chinese": "gb18030",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "ms_kanji": "cp932",
    "windows-31j": "cp932",
    "euc-kr": "cp949",
    "ks_c_5601-1987": "cp949",
    "big5": "big5hkscs",
    "utf8": "utf-8",
    "unicode-1-1-utf-8": "utf-8",
    # A page that says UTF-16 in an ASCII-compatible meta tag is not UTF-16 (HTML spec: treat as UTF-8).
    "utf-16": "utf-8",
    "utf-16le": "utf-8",
    "utf-16be": "utf-8",
}
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_CHARSET_PARAM = re.compile(r"charset\s*=\s*[\"']?\s*([\w.:\-]+)", re.IGNORECASE)
_META_CHARSET = re.compile(rb"<meta[^>]{0,512}?charset\s*=\s*[\"']?\s*([\w.:\-]+)", re.IGNORECASE | re.DOTALL)
_XML_ENCODING = re.compile(rb"^\s*<\?xml[^>]{0,200}?encoding\s*=\s*[\"']([\w.:\-]+)", re.IGNORECASE)
# The HTML spec's prescan reads 1024 bytes; real pages put long scripts before the meta tag, so read more.
_META_SCAN_BYTES = 8192


def normalize_charset(label: str | None) -> str | None:
    """Return the Python codec name for a charset label as a browser reads it, or None if unknown."""
    if not label:
        return None
    key = label.strip().strip("\"'").lower()
    key = _CHARSET_ALIASES.get(key, key)
    try:
        name = codecs.lookup(key).name
    except LookupError:
        return None
    return _CHARSET_ALIASES.get(name, name)


@lru_cache(maxsize=1)
def _c1_error_handler() -> str:
    """Register (once) the error handler that maps windows-1252's five unassigned bytes to C1 controls, as
    browsers do, so a stray 0x81 does not make a declared windows-1252 page fail to decode."""
    name = "mediawatch-c1"

    def handler(err: UnicodeError) -> tuple[str, int]:
        if not isinstance(err, UnicodeDecodeError):
            raise err
        return "".join(chr(b) for b in err.object[err.start : err.end]), err.end

    codecs.register_error(name, handler)
    return name


def _try_decode(payload: bytes, codec: str) -> str | None:
    try:
        if codec == "cp1252":
            return payload.decode(codec, errors=_c1_error_handler())
        return payload.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def _declared_charsets(payload: bytes, headers: HeadersLike) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for bom, codec in _BOMS:
        if payload.startswith(bom):
            found.append((codec, "bom"))
    content_type = header_value(headers, "content-type") or ""
    match = _CHARSET_PARAM.search(content_type)
    if match and (header_codec := normalize_charset(match.group(1))):
        found.append((header_codec, "header"))
    head = payload[:_META_SCAN_BYTES]
    for pattern in (_XML_ENCODING, _META_CHARSET):
        meta = pattern.search(head)
        if meta and (meta_codec := normalize_charset(meta.group(1).decode("ascii", "ignore"))):
            found.append((meta_codec, "meta"))
    return found


def resolve_charset(payload: bytes, headers: HeadersLike = ()) -> tuple[str, str]:
    """Return ``(codec, source)``: the encoding to read ``payload`` with and where it came from.

    Order: a byte-order mark; then UTF-8 when the bytes are valid UTF-8 and not plain ASCII (legacy text is
    practically never valid UTF-8 by accident, while servers and templates that wrongly declare ISO-8859-1 or
    GB2312 for UTF-8 pages are common); then the HTTP header charset and the ``<meta charset>`` / XML
    declaration, the first that decodes the bytes cleanly; then statistical detection (charset_normalizer);
    then windows-1252. ``source`` is ``bom``, ``utf8``, ``header``, ``meta``, ``detected`` or ``fallback``.
    """
    declared = _declared_charsets(payload, headers)
    if declared and declared[0][1] == "bom":
        return declared[0]
    if not payload.isascii() and _try_decode(payload, "utf-8") is not None:
        return "utf-8", "utf8"
    for codec, source in declared:
        if _try_decode(payload, codec) is not None:
            return codec, source
    if _try_decode(payload, "utf-8") is not None:
        return "utf-8", "utf8"
    detected = _detect_charset(payload)
    if detected:
        return detected, "detected"
    if declared:
        return declared[0][0], declared[0][1]
    return "cp1252", "fallback"


def _detect_charset(payload: bytes) -> str | None:
    from charset_normalizer import from_bytes

    best = from_bytes(payload[:200_000]).best()
    if best is None:
        return None
    return normalize_charset(best.encoding)


def decode_html(payload: bytes, headers: HeadersLike = ()) -> str:
    """Return ``payload`` as text, read with the charset :func:`resolve_charset` picks (never garbled by a
    wrong default: declared windows-1252 and GB2312 pages are read as browsers read them)."""
    codec, _ = resolve_charset(payload, headers)
    text = _try_decode(payload, codec)
    if text is None:
        text = payload.decode(codec, errors="replace")
    return text.removeprefix("\ufeff")


def headers_with_charset(payload: bytes, headers: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    """Return ``headers`` with a Content-Type that names the charset the payload really uses.

    The original Content-Type is kept as ``x-original-content-type`` when it changes, and
    ``x-charset-source`` tells where the charset came from (see :func:`resolve_charset`).
    """
    codec, source = resolve_charset(payload, headers)
    original = header_value(headers, "content-type") or ""
    mime = _mime(original) or "text/html"
    rest = tuple((k, v) for k, v in headers if k.lower() != "content-type")
    content_type = f"{mime}; charset={codec}"
    extra: tuple[tuple[str, str], ...] = (("x-charset-source", source),)
    if original and original != content_type:
        extra += (("x-original-content-type", original),)
    return (("content-type", content_type), *rest, *extra)
