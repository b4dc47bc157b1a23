"""Fetching web pages politely and safely: the one HTTP client object every network-touching stage uses.

:class:`FetchClient` wraps ``requests`` (one Session per worker thread) with what a news crawler owes the
sites it reads and the machine it runs on:

* politeness: robots.txt obeyed (with its Crawl-delay), at most one request in flight per host and a minimum
  spacing between requests to the same host, a User-Agent that names mediawatch and a contact;
* resilience: connect, read and total timeouts, retries with exponential backoff and jitter on transient
  failures only (connection errors, timeouts, 5xx, 408, 429 with Retry-After honoured);
* time budgets: each host and the whole run get a bounded amount of fetching time (:class:`FetchBudget`);
  a URL that finds its budget spent raises :class:`BudgetExhaustedError` and is left for the next run;
* safety: only http(s); every redirect hop followed by hand and checked; hosts resolving to private, loopback,
  link-local, multicast or reserved addresses refused (checked before connecting and again on the connected
  socket, so DNS rebinding does not get through) unless a network was opted in; body size capped while
  streaming and decompressed size capped (gzip bombs);
* conditional GET: ``If-None-Match`` / ``If-Modified-Since`` from validators the caller kept.

Failures are raised as :class:`FetchError` with a reason code (the ``REASON_*`` constants) that callers
turn into :class:`~tasks.records.Rejection` rows. :func:`decode_html` turns fetched bytes into text by the
rule of :mod:`tasks.decode`, the one every input is decoded by.
Prefect wrappers do not live here: the batch tasks that use this client are in :mod:`tasks.sources`.

The client is built from four smaller modules, whose public names are handed on from here so callers import
from ``tasks.fetch`` alone: :mod:`tasks.fetch_errors` (reason codes, :class:`FetchError`, what is transient),
:mod:`tasks.fetch_guard` (the address guard), :mod:`tasks.fetch_limits` (per-host politeness and time
budgets) and :mod:`tasks.fetch_body` (content types, compressed bodies, charsets).
"""

from __future__ import annotations

import email.utils
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from functools import partial
from typing import TYPE_CHECKING, Protocol, TypeVar
from urllib.parse import urljoin, urlsplit, urlunsplit

from protego import Protego

from tasks.decode import headers_with_charset
from tasks.fetch_body import (
    ACCEPT_HEADERS,
    Accept,
    HeadersLike,
    content_type_acceptable,
    decode_html,
    decoder_for,
    gunzip_capped,
    header_value,
    resolve_charset,
    sniffed_not_html,
)
from tasks.fetch_errors import (
    REASON_BAD_CONTENT_TYPE,
    REASON_BAD_SCHEME,
    REASON_BAD_URL,
    REASON_BLOCKED_ADDRESS,
    REASON_CONNECTION_ERROR,
    REASON_HTTP_5XX,
    REASON_REDIRECT_LOOP,
    REASON_ROBOTS_DISALLOWED,
    REASON_ROBOTS_UNAVAILABLE,
    REASON_TIMEOUT,
    REASON_TOO_LARGE,
    REASON_TOO_MANY_REDIRECTS,
    REASON_TRUNCATED_BODY,
    REASON_UNEXPECTED_STATUS,
    TRANSIENT_STATUSES,
    BudgetExhaustedError,
    FetchError,
    is_transient,
    reason_for_status,
)
from tasks.fetch_guard import BlockedPeerError, address_allowed, check_url, parse_networks
from tasks.fetch_limits import FetchBudget, HostLimiter

if TYPE_CHECKING:  # imported with the first session: a run that fetches nothing never loads requests
    import requests

__all__ = [
    "ACCEPT_HEADERS",
    "CHUNK_BYTES",
    "KEPT_HEADERS",
    "MAX_BACKOFF_SECONDS",
    "MAX_CRAWL_DELAY_SECONDS",
    "REASON_BAD_CONTENT_TYPE",
    "REASON_BAD_SCHEME",
    "REASON_BAD_URL",
    "REASON_BLOCKED_ADDRESS",
    "REASON_CONNECTION_ERROR",
    "REASON_HTTP_5XX",
    "REASON_REDIRECT_LOOP",
    "REASON_ROBOTS_DISALLOWED",
    "REASON_ROBOTS_UNAVAILABLE",
    "REASON_TIMEOUT",
    "REASON_TOO_LARGE",
    "REASON_TOO_MANY_REDIRECTS",
    "REASON_TRUNCATED_BODY",
    "REASON_UNEXPECTED_STATUS",
    "REDIRECT_STATUSES",
    "ROBOTS_MAX_BYTES",
    "ROBOTS_TOKEN",
    "TRANSIENT_STATUSES",
    "Accept",
    "BudgetExhaustedError",
    "FetchBudget",
    "FetchClient",
    "FetchError",
    "FetchOptions",
    "FetchResponse",
    "FetchStats",
    "Fetcher",
    "HeadersLike",
    "HostLimiter",
    "address_allowed",
    "check_url",
    "decode_html",
    "gunzip_capped",
    "header_value",
    "headers_with_charset",
    "is_transient",
    "reason_for_status",
    "resolve_charset",
]

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
# A socket timeout may fire a hair before the time it was given; a timeout this close to the end of a request's
# budgeted time is taken as the budget's.
_BUDGET_SLACK_SECONDS = 0.05
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

_T = TypeVar("_T")


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
    # Seconds of request time one host may use in a run: 5 minutes, hundreds of ordinary pages. A host that
    # drips a byte every 2 s costs ~2 minutes per URL (deadline, then retries), so a feed of 2,000 such links
    # would hold the run for days; once spent, the host's remaining URLs wait for the next run.
    host_budget_seconds: float = 300.0
    # Wall time the run's fetching may use (time with a request under way): 30 minutes, after which no new
    # request starts and what is left waits for the next run, so the lake is not held for hours.
    run_budget_seconds: float = 1800.0

    def user_agent_string(self) -> str:
        """Return the User-Agent header: the template with the contact filled in."""
        return self.user_agent.format(contact=self.contact)


# ------------------------------------------------------------------------------------------------------------
# robots.txt

# A robots.txt request that failed with one of these broke down in transport (refused, no name, TLS, timed out,
# cut off) before the site said anything about robots.txt: its URLs carry that reason, not robots_unavailable.
_TRANSPORT_REASONS = frozenset({REASON_CONNECTION_ERROR, REASON_TIMEOUT, REASON_TRUNCATED_BODY})


@dataclass(frozen=True, slots=True)
class _RobotsEntry:
    """An origin's robots.txt as one client read it: its rules, or why nothing may be fetched from the origin."""

    rules: Protego | None  # None: allow everything (no robots.txt)
    unavailable: str | None = None  # set: robots.txt could not be read, so nothing is fetched from the origin
    # The reason each of the origin's URLs is refused with while ``unavailable`` is set: ``robots_unavailable``
    # when the site answered but robots.txt could not be read, the transport reason when the request failed.
    reason: str = REASON_ROBOTS_UNAVAILABLE
    transient: bool = False
    crawl_delay: float = 0.0
    sitemaps: tuple[str, ...] = ()


def _robots_failure(exc: FetchError) -> _RobotsEntry:
    """Return the entry for an origin whose robots.txt request failed with ``exc`` (not a 4xx: that is no rules).

    RFC 9309 §2.3.1.4: robots.txt unreachable (a 5xx answer or none) means nothing may be fetched for now. When
    the site answered (5xx, 429, too many redirects, a body we refuse) its URLs get ``robots_unavailable``; when
    the request failed in transport (``connection_error``, ``timeout``, ``truncated_body``) they get that reason,
    with a detail naming robots.txt, so a host that is down is not reported as a robots.txt problem.
    """
    if exc.reason in _TRANSPORT_REASONS:
        return _RobotsEntry(
            rules=None, unavailable=f"robots.txt: {exc.detail}", reason=exc.reason, transient=exc.transient
        )
    return _RobotsEntry(rules=None, unavailable=f"robots.txt unavailable: {exc.reason}: {exc.detail}")


def _netloc(url: str) -> str:
    """Return the host (with port) a URL's requests are limited and budgeted under ("" when unparseable)."""
    try:
        return urlsplit(url).netloc.lower()
    except ValueError:
        return ""


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
    # Child sitemaps of an index not read: past ``FetchOptions.max_sitemaps_per_source``, or once the
    # source's URL cap was reached (their URLs are not known, so they are counted as sitemaps).
    sitemaps_over_cap: int = 0
    # URLs (pages, feeds, sitemaps) not fetched because a time budget was spent: left for the next run.
    deferred_budget: int = 0
    # Hosts whose own time budget ran out (their names: :meth:`budget_hosts`); 1 when the run's budget did.
    hosts_over_budget: int = 0
    run_over_budget: int = 0
    _budget_hosts: set[str] = field(default_factory=set, repr=False, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, name: str, amount: int = 1) -> None:
        """Add ``amount`` to the counter ``name``."""
        with self._lock:
            setattr(self, name, getattr(self, name) + amount)

    def note_budget_spent(self, host: str | None) -> None:
        """Record that ``host``'s time budget ran out (``None``: the run's), once each."""
        with self._lock:
            if host is None:
                self.run_over_budget = 1
            elif host not in self._budget_hosts:
                self._budget_hosts.add(host)
                self.hosts_over_budget += 1

    def budget_hosts(self) -> list[str]:
        """Return the hosts whose time budget ran out, sorted."""
        with self._lock:
            return sorted(self._budget_hosts)

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
    counts requests, retries, 304s and skips for the run record; ``budget`` holds the run's time budgets.
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
        parse_networks(options.allow_networks)  # fail fast on a malformed CIDR
        self.options = options
        self.stats = FetchStats()
        self.budget = FetchBudget(options.host_budget_seconds, options.run_budget_seconds)
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
            import requests

            from tasks.fetch_adapter import GuardedAdapter

            session = requests.Session()
            # No proxies or .netrc from the environment: the address guard must see the real peer.
            session.trust_env = False
            adapter = GuardedAdapter(self.options.allow_networks)
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
        except BudgetExhaustedError:
            raise  # not an answer about robots.txt: ask again when there is time
        except FetchError as exc:
            if exc.status is not None and 400 <= exc.status < 500 and exc.status != 429:
                return _RobotsEntry(rules=None)
            if exc.reason in (REASON_BLOCKED_ADDRESS, REASON_BAD_SCHEME, REASON_BAD_URL):
                raise
            return _robots_failure(exc)
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
            raise FetchError(entry.reason, entry.unavailable, url=url, transient=entry.transient)
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
        ``redirect_loop``, ``too_many_redirects`` or ``unexpected_status``; when the host did not answer for its
        robots.txt, the transport reason with a detail starting ``robots.txt:``. Raises :class:`BudgetExhaustedError`
        (not a failure of the URL) when its host's or the run's time budget is spent before it is fetched.
        """
        with self.budget.running():
            return self._get(url, accept=accept, etag=etag, last_modified=last_modified, check_robots=True)

    def _out_of_budget(self, url: str, host: str, detail: str = "") -> BudgetExhaustedError:
        """Return the error for ``url`` not fetched for lack of time, recording which budget ran out."""
        spent = self.budget.spent_by(host)
        if spent is not None:
            self.stats.note_budget_spent(host if spent == "host" else None)
        what = {"host": f"{host}'s time budget is spent", "run": "the run's time budget is spent"}
        return BudgetExhaustedError(
            detail or what.get(spent or "", "too little time left"), url=url, host=host, scope=spent
        )

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
        if self.budget.remaining(_netloc(url)) <= 0:
            raise self._out_of_budget(url, _netloc(url))  # before resolving its name: nothing more to spend
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
                if self.budget.remaining(host) <= delay:
                    raise self._out_of_budget(url, host, f"no time left to retry after {exc.reason}") from exc
                self.stats.add("retries")
                attempt += 1
                with self.budget.charge(host):
                    self._sleep(delay)

    def _request_once(
        self, url: str, host: str, headers: dict[str, str], accept: Accept
    ) -> tuple[int, tuple[tuple[str, str], ...], bytes]:
        with self._limiter.slot(host, self._host_delay(url)):
            left = self.budget.remaining(host)
            if left <= 0:
                raise self._out_of_budget(url, host)
            self.stats.add("requests")
            started = time.monotonic()
            try:
                with self.budget.charge(host):
                    return self._exchange(url, headers, accept, min(self.options.total_timeout, left))
            except FetchError as exc:
                # A timeout that came when the budget's time was up is the budget's doing, not the URL's.
                if exc.reason == REASON_TIMEOUT and time.monotonic() - started >= left - _BUDGET_SLACK_SECONDS:
                    self.budget.use_up(host)
                    raise self._out_of_budget(url, host) from exc
                raise

    def _exchange(
        self, url: str, headers: dict[str, str], accept: Accept, total: float
    ) -> tuple[int, tuple[tuple[str, str], ...], bytes]:
        """One request and its body within ``total`` seconds; raises :class:`FetchError` as :meth:`get` says."""
        import requests  # loaded by the session already: here for the exception classes

        options = self.options
        deadline = time.monotonic() + total
        try:
            response = self._session().get(
                url,
                headers=headers,
                stream=True,
                allow_redirects=False,
                timeout=(min(options.connect_timeout, total), min(options.read_timeout, total)),
            )
        except BlockedPeerError as exc:
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
            if not content_type_acceptable(accept, content_type):
                raise FetchError(REASON_BAD_CONTENT_TYPE, f"content-type {content_type!r}", url=url)
            body = self._read_body(response, url, deadline)
        if accept == "html" and sniffed_not_html(content_type, body):
            raise FetchError(REASON_BAD_CONTENT_TYPE, f"content-type {content_type!r} and body is not HTML", url=url)
        return status, kept, body

    def _read_body(self, response: requests.Response, url: str, deadline: float) -> bytes:
        """Return the body, decompressed, enforcing the wire and decompressed caps and the deadline.

        Raises ``too_large``, ``timeout``, ``truncated_body``, ``connection_error`` or ``bad_content_type``
        (an encoding we did not ask for).
        """
        from urllib3.exceptions import IncompleteRead, ProtocolError, ReadTimeoutError

        options = self.options
        declared = _int_or_none(response.headers.get("content-length"))
        if declared is not None and declared > options.max_bytes:
            raise FetchError(REASON_TOO_LARGE, f"Content-Length {declared} > {options.max_bytes}", url=url)
        decoder = decoder_for(response.headers.get("content-encoding", ""), url)
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


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _short(exc: BaseException, limit: int = 300) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= limit else text[: limit - 1] + "…"
