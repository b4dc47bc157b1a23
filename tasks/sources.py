"""Where news comes from: source specs, and turning them into pages to fetch or items already in hand.

A source is a feed (RSS/Atom), a sitemap or sitemap index (Google News sitemaps included), a single page, a
text file of URLs, a WARC archive (CC-NEWS layout: ``response`` records of HTML pages) or a TOML file listing
any of these with hints (name, language, country, currency). :func:`parse_source` reads a spec into
:class:`SourceSpec` values; :func:`discover_targets` expands feeds and sitemaps into :class:`FetchTarget`
values (feed entries carry title, date and authors along) and reads WARC records straight into
:class:`~tasks.records.RawItem` values; :func:`fetch_targets` fetches the pages. Parsing functions take bytes;
all network access goes through a :class:`~tasks.fetch.Fetcher`. XML is parsed with entity declarations,
external entities and DTDs refused, so a billion-laughs feed is rejected at once.
"""

from __future__ import annotations

import calendar
import json
import re
import sqlite3
import tomllib
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, TypeVar, cast, get_args
from urllib.parse import urljoin, urlsplit
from xml.etree.ElementTree import Element, ParseError

import feedparser
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as safe_fromstring
from prefect import Task, task
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import State, TaskRun

from storage.fetch_state import FetchState
from tasks.fetch import (
    KEPT_HEADERS,
    REASON_BAD_CONTENT_TYPE,
    REASON_BAD_SCHEME,
    REASON_TOO_LARGE,
    Fetcher,
    FetchError,
    FetchOptions,
    FetchResponse,
    gunzip_capped,
    headers_with_charset,
    is_transient,
    reason_for_status,
)
from tasks.records import STAGE_FETCH, RawItem, Rejection, SourceHints
from tasks.urls import canonicalize_url, site_of

# Reason codes produced here (besides the fetch reasons of tasks.fetch).
REASON_FEED_PARSE_ERROR = "feed_parse_error"
REASON_SITEMAP_PARSE_ERROR = "sitemap_parse_error"
REASON_WARC_ERROR = "warc_error"
REASON_NO_URL = "no_url"
REASON_NOT_A_SOURCE = "not_a_source"
REASON_INTERNAL_ERROR = "internal_error"

SourceKind = Literal["auto", "feed", "sitemap", "page", "warc"]
SOURCE_KINDS: tuple[str, ...] = get_args(SourceKind)
WARC_SUFFIXES = (".warc", ".warc.gz", ".arc", ".arc.gz")
# Sitemap indexes may (against the protocol) point to other indexes; three levels cover every real layout
# (index by year -> by month -> by day) without letting a cycle run away.
MAX_SITEMAP_DEPTH = 3
# Rejection payloads keep the start of what was received: enough to see what went wrong, bounded.
REJECTION_PAYLOAD_BYTES = 65_536
_TOML_KEYS = frozenset({"url", "path", "kind", "name", "language", "country", "currency", "max_items", "rate"})
_HINT_KEYS = ("name", "language", "country", "currency")
_URL_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.\-]*://")
_FEED_PATH = re.compile(r"(?:^|/)(?:feeds?|rss|atom)(?:/|\.xml|\.rss|$)|\.(?:rss|atom|rdf)$")
_ROOT_TAG = re.compile(rb"<(?![?!])([A-Za-z_][\w:.\-]*)")
_HTML_SNIFF = re.compile(rb"<(?:!doctype\s+html|html|head|body)[\s>]", re.IGNORECASE)


class SourceParseError(Exception):
    """A feed or sitemap body could not be read; ``reason`` is a ``REASON_*`` code."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class SourceSpec:
    """One source to read: ``uri`` is an http(s) URL or a local path; kind "auto" is decided by content."""

    uri: str
    kind: SourceKind = "auto"
    hints: SourceHints = field(default_factory=SourceHints)
    max_items: int | None = None
    rate: float | None = None  # requests per second to this source's host (default: MEDIAWATCH_HOST_DELAY_SECONDS)


@dataclass(frozen=True, slots=True)
class FetchTarget:
    """One page to fetch, with what the feed or sitemap that listed it said about it."""

    url: str
    source_uri: str
    hints: SourceHints = field(default_factory=SourceHints)
    title: str | None = None
    published_at: str | None = None
    published_at_source: str | None = None
    authors: tuple[str, ...] = ()
    external_id: str | None = None
    language: str | None = None

    @property
    def key(self) -> str:
        """The stable identity of the page: its canonical URL (also its fetch-state key)."""
        return state_key(self.url)


FETCH_KEY_PREFIX = "fetch:"


def staged_keys(items: Iterable[RawItem]) -> list[str]:
    """Return the fetch-state keys of the fetched pages among ``items`` (their item keys without the prefix)."""
    n = len(FETCH_KEY_PREFIX)
    return [i.item_key[n:] for i in items if i.item_key.startswith(FETCH_KEY_PREFIX)]


def state_key(url: str) -> str:
    """Return the key a URL is remembered under: its canonical form, or the URL as given if it has none."""
    return canonicalize_url(url) or url


# ------------------------------------------------------------------------------------------------------------
# Source specs


def classify_url(url: str, default: SourceKind = "auto") -> SourceKind:
    """Return the kind a URL looks like from its path: ``sitemap``, ``feed``, else ``default``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return default
    path = parts.path.lower()
    if "sitemap" in path or path.endswith(".xml.gz"):
        return "sitemap"
    if (
        _FEED_PATH.search(path)
        or path.endswith(".xml")
        or re.search(r"(?:^|&)(?:format|output)=(?:rss|atom)", parts.query.lower())
    ):
        return "feed"
    return default


def parse_source(
    spec: str | Path,
    *,
    kind: SourceKind | None = None,
    hints: SourceHints | None = None,
    max_items: int | None = None,
) -> list[SourceSpec]:
    """Return the sources ``spec`` names.

    ``spec`` is an http(s) URL (kind from ``kind``, else guessed from the path, else decided by content), a
    ``.toml`` sources file, a ``.warc``/``.warc.gz`` file, a directory (its WARC files), or a text file of
    URLs (one per line, ``#`` comments; each URL's kind guessed from its path, default ``page``).
    Raises ValueError for a spec that names nothing usable (a missing file, a bad TOML entry).
    """
    hints = hints or SourceHints()
    if kind is not None and kind not in SOURCE_KINDS:
        raise ValueError(f"unknown source kind {kind!r}; expected one of {', '.join(SOURCE_KINDS)}")
    text = str(spec).strip()
    if _URL_RE.match(text) and not text.lower().startswith("file://"):
        return [SourceSpec(uri=text, kind=kind or classify_url(text), hints=hints, max_items=max_items)]
    path = Path(text.removeprefix("file://")).expanduser()
    if not path.exists():
        raise ValueError(f"source {text!r} is neither an http(s) URL nor an existing file")
    if path.is_dir():
        warcs = sorted(p for p in path.iterdir() if p.name.lower().endswith(WARC_SUFFIXES))
        if not warcs:
            raise ValueError(f"source directory {path} holds no .warc/.warc.gz files")
        return [SourceSpec(uri=str(p.resolve()), kind="warc", hints=hints, max_items=max_items) for p in warcs]
    name = path.name.lower()
    if kind == "warc" or name.endswith(WARC_SUFFIXES):
        return [SourceSpec(uri=str(path.resolve()), kind="warc", hints=hints, max_items=max_items)]
    if name.endswith(".toml"):
        return load_sources_toml(path, defaults=hints)
    return read_url_list(path, kind=kind, hints=hints, max_items=max_items)


def read_url_list(
    path: Path,
    *,
    kind: SourceKind | None = None,
    hints: SourceHints | None = None,
    max_items: int | None = None,
) -> list[SourceSpec]:
    """Return one source per line of a text file of URLs (blank lines and ``#`` comments skipped).

    Lines that are not URLs are kept as ``page`` sources so the fetch stage rejects them with a reason.
    """
    specs: list[SourceSpec] = []
    for raw in path.read_text(encoding="utf-8-sig", errors="replace").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        url = line.split()[0]
        specs.append(
            SourceSpec(
                uri=url,
                kind=kind or classify_url(url, default="page"),
                hints=hints or SourceHints(),
                max_items=max_items,
            )
        )
    return specs


def load_sources_toml(path: Path, *, defaults: SourceHints | None = None) -> list[SourceSpec]:
    """Return the sources of a TOML file::

        [defaults]                      # optional: hints for every source
        language = "en"
        country = "US"
        currency = "USD"

        [[source]]
        url = "https://example.com/feed.xml"
        kind = "feed"                   # optional: auto, feed, sitemap, page, warc
        name = "Example News"           # optional hints: name, language, country, currency
        max_items = 200                 # optional cap on URLs taken from this source
        rate = 0.5                      # optional requests per second to this source's host

        [[source]]
        path = "more-urls.txt"          # a URL list, WARC or directory, relative to this file

    Raises ValueError naming the entry and key when the file is malformed.
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: not valid TOML: {exc}") from exc
    unknown_top = set(data) - {"defaults", "source", "sources"}
    if unknown_top:
        raise ValueError(f"{path}: unknown top-level keys {sorted(unknown_top)}")
    base = _hints_from(data.get("defaults", {}), defaults or SourceHints(), f"{path} [defaults]")
    entries = [*data.get("source", []), *data.get("sources", [])]
    if not isinstance(entries, list) or not entries:
        raise ValueError(f"{path}: no [[source]] entries")
    specs: list[SourceSpec] = []
    for index, entry in enumerate(entries, start=1):
        where = f"{path} source #{index}"
        if not isinstance(entry, dict):
            raise ValueError(f"{where}: expected a table")
        unknown = set(entry) - _TOML_KEYS
        if unknown:
            raise ValueError(f"{where}: unknown keys {sorted(unknown)}; allowed: {sorted(_TOML_KEYS)}")
        if ("url" in entry) == ("path" in entry):
            raise ValueError(f"{where}: give exactly one of 'url' or 'path'")
        kind = entry.get("kind")
        if kind is not None and kind not in SOURCE_KINDS:
            raise ValueError(f"{where}: kind {kind!r} is not one of {', '.join(SOURCE_KINDS)}")
        max_items = entry.get("max_items")
        if max_items is not None and (not isinstance(max_items, int) or max_items <= 0):
            raise ValueError(f"{where}: max_items must be a positive integer")
        rate = entry.get("rate")
        if rate is not None and (not isinstance(rate, int | float) or isinstance(rate, bool) or rate <= 0):
            raise ValueError(f"{where}: rate must be a positive number of requests per second")
        hints = _hints_from(entry, base, where)
        if "url" in entry:
            url = str(entry["url"]).strip()
            if not _URL_RE.match(url):
                raise ValueError(f"{where}: url {url!r} is not an absolute URL")
            specs.append(
                SourceSpec(
                    uri=url,
                    kind=cast(SourceKind, kind or classify_url(url)),
                    hints=hints,
                    max_items=max_items,
                    rate=float(rate) if rate is not None else None,
                )
            )
        else:
            target = (path.parent / str(entry["path"])).expanduser()
            specs.extend(parse_source(target, kind=cast(SourceKind | None, kind), hints=hints, max_items=max_items))
    return specs


def _hints_from(table: object, base: SourceHints, where: str) -> SourceHints:
    if not isinstance(table, dict):
        raise ValueError(f"{where}: expected a table")
    values: dict[str, str | None] = {}
    for key in _HINT_KEYS:
        value = table.get(key)
        if value is not None and not isinstance(value, str):
            raise ValueError(f"{where}: {key} must be a string")
        values[key] = value if value is not None else getattr(base, key)
    if values["currency"]:
        values["currency"] = values["currency"].upper()
    return SourceHints(**values)


# ------------------------------------------------------------------------------------------------------------
# Feeds and sitemaps: bytes in, entries out


@dataclass(frozen=True, slots=True)
class _Entry:
    url: str
    title: str | None = None
    published_at: str | None = None
    published_at_source: str | None = None
    authors: tuple[str, ...] = ()
    external_id: str | None = None
    language: str | None = None
    sort_key: str = ""


@dataclass(frozen=True, slots=True)
class SitemapDoc:
    """A parsed sitemap: page entries (a urlset) or child sitemaps (an index) with their lastmod."""

    entries: tuple[_Entry, ...] = ()
    children: tuple[tuple[str, str], ...] = ()


def _reject_entities(data: bytes, reason: str) -> None:
    # Entity declarations have no place in a feed or sitemap; refusing them outright stops billion-laughs and
    # external-entity payloads before any parser sees them, even in files too malformed to parse strictly.
    if re.search(rb"<!ENTITY", data, re.IGNORECASE):
        raise SourceParseError(reason, "XML declares entities (refused: entity expansion attack)")


def sniff_kind(data: bytes) -> SourceKind | None:
    """Return ``feed``, ``sitemap`` or ``page`` from the first element of a body, or None."""
    head = data[:4096]
    if _HTML_SNIFF.search(head):
        return "page"
    match = _ROOT_TAG.search(re.sub(rb"<!--.*?-->", b"", head, flags=re.DOTALL))
    if not match:
        return None
    name = match.group(1).decode("ascii", "ignore").rsplit(":", 1)[-1].lower()
    if name in ("rss", "feed", "rdf", "channel"):
        return "feed"
    if name in ("urlset", "sitemapindex"):
        return "sitemap"
    if name == "html":
        return "page"
    return None


def parse_feed(data: bytes, base_url: str) -> list[_Entry]:
    """Return the entries of an RSS/Atom/RDF feed, links made absolute.

    Raises :class:`SourceParseError` ``feed_parse_error`` for entity declarations (billion laughs, XXE), or a
    body feedparser cannot read as a feed. Feeds that are only slightly malformed are read leniently.
    """
    _reject_entities(data, REASON_FEED_PARSE_ERROR)
    try:
        safe_fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise SourceParseError(REASON_FEED_PARSE_ERROR, f"unsafe XML: {exc!r}") from exc
    except (ParseError, ValueError):
        pass  # not well-formed: feedparser's lenient parser below decides whether it is still a feed
    parsed = feedparser.parse(
        data,
        response_headers={"content-location": base_url, "content-type": "application/xml"},
        resolve_relative_uris=False,
        sanitize_html=False,
    )
    if not parsed.get("version") and not parsed.entries:
        problem = parsed.get("bozo_exception")
        raise SourceParseError(REASON_FEED_PARSE_ERROR, f"not a feed: {problem!r}" if problem else "not a feed")
    feed_language = _clean(parsed.feed.get("language"))
    entries: list[_Entry] = []
    for position, item in enumerate(parsed.entries):
        link = _entry_link(item)
        published, published_sort = _entry_date(item)
        entries.append(
            _Entry(
                url=urljoin(base_url, link) if link else "",
                title=_clean(item.get("title")),
                published_at=published,
                published_at_source="feed" if published else None,
                authors=_entry_authors(item),
                external_id=_clean(item.get("id")),
                language=(_clean(item.get("language")) or feed_language or "").lower() or None,
                sort_key=published_sort or f"~{position:08d}",
            )
        )
    return entries


def _clean(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    text = " ".join(value.split())
    return text or None


def _entry_link(item: Any) -> str | None:
    link = _clean(item.get("link"))
    if link:
        return link
    for candidate in item.get("links", []) or []:
        href = _clean(candidate.get("href"))
        if href and candidate.get("rel", "alternate") == "alternate":
            return href
    guid = _clean(item.get("id"))
    if guid and guid.lower().startswith(("http://", "https://")):
        return guid
    return None


def _entry_date(item: Any) -> tuple[str | None, str | None]:
    """Return (published_at as given or ISO 8601 UTC, sortable ISO string)."""
    for key in ("published", "updated", "created"):
        parsed = item.get(f"{key}_parsed")
        if parsed:
            iso = datetime.fromtimestamp(calendar.timegm(parsed), UTC).isoformat()
            return iso, iso
    for key in ("published", "updated", "created"):
        raw = _clean(item.get(key))
        if raw:
            return raw, None
    return None, None


def _entry_authors(item: Any) -> tuple[str, ...]:
    names: list[str] = []
    for author in item.get("authors", []) or []:
        name = _clean(author.get("name")) if hasattr(author, "get") else None
        if name:
            names.append(name)
    if not names and (single := _clean(item.get("author"))):
        names.append(single)
    return tuple(dict.fromkeys(names))


def _local(tag: object) -> str:
    return str(tag).rsplit("}", 1)[-1].lower()


def _child_text(element: Element, *path: str) -> str | None:
    node: Element | None = element
    for name in path:
        if node is None:
            return None
        node = next((child for child in node if _local(child.tag) == name), None)
    return _clean(node.text) if node is not None else None


def parse_sitemap(data: bytes, base_url: str) -> SitemapDoc:
    """Return the pages (``urlset``, incl. Google News ``news:`` fields) or child sitemaps (``sitemapindex``)
    of a sitemap. Plain-text sitemaps (one URL per line) are read too.

    Raises :class:`SourceParseError` ``sitemap_parse_error`` for malformed XML, DTDs or entity declarations,
    or an XML root that is not a sitemap.
    """
    stripped = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped and not stripped.startswith(b"<"):
        lines = stripped.decode("utf-8", errors="replace").splitlines()
        urls = [line.strip() for line in lines if line.strip().lower().startswith(("http://", "https://"))]
        if not urls:
            raise SourceParseError(REASON_SITEMAP_PARSE_ERROR, "neither XML nor a list of URLs")
        return SitemapDoc(entries=tuple(_Entry(url=u, sort_key=f"~{i:08d}") for i, u in enumerate(urls)))
    _reject_entities(data, REASON_SITEMAP_PARSE_ERROR)
    try:
        root = safe_fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise SourceParseError(REASON_SITEMAP_PARSE_ERROR, f"unsafe XML: {exc!r}") from exc
    except (ParseError, ValueError) as exc:
        raise SourceParseError(REASON_SITEMAP_PARSE_ERROR, f"malformed XML: {exc}") from exc
    kind = _local(root.tag)
    if kind == "sitemapindex":
        children = []
        for node in root:
            loc = _child_text(node, "loc") if _local(node.tag) == "sitemap" else None
            if loc:
                children.append((urljoin(base_url, loc), _child_text(node, "lastmod") or ""))
        return SitemapDoc(children=tuple(children))
    if kind != "urlset":
        raise SourceParseError(REASON_SITEMAP_PARSE_ERROR, f"root element <{kind}> is not a sitemap")
    entries = []
    for position, node in enumerate(root):
        if _local(node.tag) != "url":
            continue
        loc = _child_text(node, "loc")
        news_date = _child_text(node, "news", "publication_date")
        lastmod = _child_text(node, "lastmod")
        entries.append(
            _Entry(
                url=urljoin(base_url, loc) if loc else "",
                title=_child_text(node, "news", "title"),
                published_at=news_date,
                published_at_source="sitemap" if news_date else None,
                language=(_child_text(node, "news", "publication", "language") or "").lower() or None,
                sort_key=_sortable(news_date or lastmod) or f"~{position:08d}",
            )
        )
    return SitemapDoc(entries=tuple(entries))


def _sortable(value: str | None) -> str | None:
    """Return an ISO timestamp in UTC for sorting newest first, or None."""
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).isoformat()


def _newest_first(entries: Sequence[_Entry]) -> list[_Entry]:
    # Dated entries newest first, then undated ones in document order (their sort keys start with "~").
    dated = sorted((e for e in entries if not e.sort_key.startswith("~")), key=lambda e: e.sort_key, reverse=True)
    return [*dated, *(e for e in entries if e.sort_key.startswith("~"))]


# ------------------------------------------------------------------------------------------------------------
# WARC archives


def iter_warc(spec: SourceSpec, options: FetchOptions) -> Iterator[RawItem | Rejection]:
    """Yield a :class:`RawItem` for each HTML ``response`` record of a WARC file, or a :class:`Rejection`.

    Other record types (request, metadata, warcinfo, revisit) are not items and are passed over. Rejection
    reasons: ``http_<status>``/``http_5xx`` for non-200 responses, ``bad_content_type`` for non-HTML,
    ``too_large`` past ``options.max_decompressed_bytes``, ``warc_error`` when the file is unreadable or
    corrupt (the items before the damage are still yielded).
    """
    from warcio.archiveiterator import ArchiveIterator

    path = Path(spec.uri)
    label = path.name
    count = 0
    try:
        with path.open("rb") as handle:
            records = ArchiveIterator(handle, arc2warc=True)
            for record in records:
                if record.rec_type != "response" or record.http_headers is None:
                    continue
                if spec.max_items is not None and count >= spec.max_items:
                    return
                count += 1
                yield _warc_record_to_item(record, records, label, spec, options)
    except Exception as exc:  # noqa: BLE001 (warcio raises many kinds on corrupt input; each becomes a rejection)
        yield Rejection(
            item_key=f"warc:{label}#error",
            source_uri=spec.uri,
            stage=STAGE_FETCH,
            reason=REASON_WARC_ERROR,
            detail=f"after {count} records: {type(exc).__name__}: {exc}"[:1000],
            payload=b"",
        )


def _read_capped(stream: Any, cap: int) -> bytes:
    """Read a (possibly short-reading) stream to its end, or to one byte past ``cap``."""
    parts: list[bytes] = []
    size = 0
    while size <= cap:
        chunk = stream.read(min(65_536, cap + 1 - size))
        if not chunk:
            break
        parts.append(chunk)
        size += len(chunk)
    return b"".join(parts)


def _warc_record_to_item(
    record: Any, records: Any, label: str, spec: SourceSpec, options: FetchOptions
) -> RawItem | Rejection:
    headers = record.rec_headers
    url = headers.get_header("WARC-Target-URI") or None
    record_id = headers.get_header("WARC-Record-ID") or None
    http = record.http_headers
    status = int(http.get_statuscode() or 0)
    content_type = http.get_header("Content-Type") or ""
    # Read the body before asking for the record's offset: warcio skips to the record's end to tell it.
    payload = _read_capped(record.content_stream(), options.max_decompressed_bytes) if status == 200 else b""
    key = f"warc:{label}#{records.get_record_offset()}"

    def reject(reason: str, detail: str, payload: bytes = b"") -> Rejection:
        return Rejection(key, spec.uri, STAGE_FETCH, reason, detail, payload, external_id=record_id, url=url)

    if status != 200:
        return reject(reason_for_status(status) if status >= 400 else f"http_{status}", f"WARC response {status}")
    if len(payload) > options.max_decompressed_bytes:
        return reject(REASON_TOO_LARGE, f"record body exceeds {options.max_decompressed_bytes} bytes")
    mime = content_type.split(";", 1)[0].strip().lower()
    if mime not in ("text/html", "application/xhtml+xml") and sniff_kind(payload) != "page":
        return reject(REASON_BAD_CONTENT_TYPE, f"content-type {content_type!r}", payload[:REJECTION_PAYLOAD_BYTES])
    kept = tuple((name, value) for name, value in http.headers if name.lower() in KEPT_HEADERS)
    return RawItem(
        item_key=key,
        source_uri=spec.uri,
        payload=payload,
        kind="html",
        fetched_at=_warc_date(headers.get_header("WARC-Date")),
        url=url,
        external_id=record_id,
        source=spec.hints.name or site_of(url),
        language=spec.hints.language,
        http_headers=headers_with_charset(payload, kept),
        hints=spec.hints,
    )


def _warc_date(value: str | None) -> datetime:
    if value:
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
        except ValueError:
            pass
    return datetime.now(UTC)


# ------------------------------------------------------------------------------------------------------------
# Discovery


@dataclass
class _Outcome:
    targets: list[FetchTarget] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    items: list[RawItem] = field(default_factory=list)

    def extend(self, other: _Outcome) -> None:
        self.targets.extend(other.targets)
        self.rejections.extend(other.rejections)
        self.items.extend(other.items)


def _rejection(
    uri: str, source_uri: str, reason: str, detail: str, payload: bytes = b"", external_id: str | None = None
) -> Rejection:
    return Rejection(
        item_key=f"{FETCH_KEY_PREFIX}{state_key(uri)}",
        source_uri=source_uri,
        stage=STAGE_FETCH,
        reason=reason,
        detail=detail[:2000],
        payload=payload[:REJECTION_PAYLOAD_BYTES],
        external_id=external_id,
        url=uri or None,
    )


def _fetch_rejection(exc: FetchError, url: str, source_uri: str, external_id: str | None = None) -> Rejection:
    return _rejection(url, source_uri, exc.reason, exc.detail, external_id=external_id)


_T = TypeVar("_T")
_R = TypeVar("_R")


def _per_host(items: Sequence[_T], url_of: Callable[[_T], str], work: Callable[[_T], _R], workers: int) -> list[_R]:
    """Return ``work(item)`` for every item, in input order: items of one host in sequence (the host limiter
    would serialise them anyway), different hosts in parallel on up to ``workers`` threads."""
    groups: dict[str, list[int]] = defaultdict(list)
    for index, item in enumerate(items):
        try:
            host = urlsplit(url_of(item)).netloc.lower()
        except ValueError:
            host = ""
        groups[host].append(index)
    results: list[_R | None] = [None] * len(items)

    def run_group(indexes: list[int]) -> None:
        for index in indexes:
            results[index] = work(items[index])

    if len(groups) <= 1 or workers <= 1:
        for indexes in groups.values():
            run_group(indexes)
    else:
        with ThreadPoolExecutor(max_workers=min(workers, len(groups)), thread_name_prefix="fetch") as pool:
            for future in [pool.submit(run_group, indexes) for indexes in groups.values()]:
                future.result()
    return [r for r in results if r is not None]


def discover_targets(
    sources: Sequence[SourceSpec],
    client: Fetcher,
    state: FetchState,
    options: FetchOptions,
) -> tuple[list[FetchTarget], list[Rejection], list[RawItem]]:
    """Return ``(targets, rejections, items)``: pages to fetch, failures, and items already in hand.

    Feeds and sitemaps (and sitemap indexes, recursively) are fetched with conditional GET and expanded into
    targets carrying the entries' title, date, authors and id; an unchanged feed (304) yields the entries it
    listed last time. ``page`` sources become targets. ``auto`` URLs are fetched once and handled by content
    (a page becomes an item directly). WARC records come straight out as items. Targets are de-duplicated by
    canonical URL. Reasons: every fetch reason, ``feed_parse_error``, ``sitemap_parse_error``, ``no_url``,
    ``bad_scheme``, ``not_a_source``, ``warc_error``, ``internal_error``.
    """
    outcome = _Outcome()
    network: list[SourceSpec] = []
    for spec in sources:
        if spec.kind == "warc":
            for record in iter_warc(spec, options):
                if isinstance(record, RawItem):
                    outcome.items.append(record)
                else:
                    outcome.rejections.append(record)
        elif spec.kind == "page":
            outcome.targets.append(FetchTarget(url=spec.uri, source_uri=spec.uri, hints=spec.hints))
        else:
            network.append(spec)

    def expand(spec: SourceSpec) -> _Outcome:
        try:
            return _expand_source(spec, client, state, options)
        except Exception as exc:  # noqa: BLE001 (one broken source must not lose the others' results)
            return _Outcome(rejections=[_rejection(spec.uri, spec.uri, REASON_INTERNAL_ERROR, repr(exc))])

    for result in _per_host(network, lambda s: s.uri, expand, options.max_workers):
        outcome.extend(result)
    unique: dict[str, FetchTarget] = {}
    for target in outcome.targets:
        unique.setdefault(target.key, target)
    return list(unique.values()), outcome.rejections, outcome.items


def _expand_source(spec: SourceSpec, client: Fetcher, state: FetchState, options: FetchOptions) -> _Outcome:
    outcome = _Outcome()
    budget = spec.max_items or options.max_urls_per_source
    queue: list[tuple[str, int]] = [(spec.uri, 0)]
    sitemaps_read = 0
    seen: set[str] = set()
    while queue and budget > 0:
        url, depth = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        if depth > 0:
            sitemaps_read += 1
            if sitemaps_read > options.max_sitemaps_per_source:
                break
        result = _read_listing(spec, url, depth, client, state, options)
        if isinstance(result, Rejection):
            outcome.rejections.append(result)
            continue
        if isinstance(result, RawItem):
            outcome.items.append(result)
            continue
        entries, children = result
        if depth < MAX_SITEMAP_DEPTH:
            ordered = sorted(children, key=lambda c: _sortable(c[1]) or "", reverse=True)
            queue.extend((child, depth + 1) for child, _ in ordered)
        elif children:
            outcome.rejections.append(
                _rejection(
                    url,
                    spec.uri,
                    REASON_SITEMAP_PARSE_ERROR,
                    f"sitemap indexes nested deeper than {MAX_SITEMAP_DEPTH}",
                )
            )
        ordered_entries = _newest_first(entries)
        if len(ordered_entries) > budget:
            client.stats.add("urls_over_cap", len(ordered_entries) - budget)
            ordered_entries = ordered_entries[:budget]
        budget -= len(ordered_entries)
        for entry in ordered_entries:
            if not entry.url:
                outcome.rejections.append(
                    _rejection(
                        url,
                        spec.uri,
                        REASON_NO_URL,
                        f"entry {entry.title or entry.external_id!r} has no link",
                        external_id=entry.external_id,
                    )
                )
                continue
            if urlsplit(entry.url).scheme.lower() not in ("http", "https"):
                outcome.rejections.append(
                    _rejection(
                        entry.url,
                        spec.uri,
                        REASON_BAD_SCHEME,
                        f"listed by {url}",
                        external_id=entry.external_id,
                    )
                )
                continue
            outcome.targets.append(
                FetchTarget(
                    url=entry.url,
                    source_uri=spec.uri,
                    hints=spec.hints,
                    title=entry.title,
                    published_at=entry.published_at,
                    published_at_source=entry.published_at_source,
                    authors=entry.authors,
                    external_id=entry.external_id,
                    language=entry.language or spec.hints.language,
                )
            )
    return outcome


def _read_listing(
    spec: SourceSpec, url: str, depth: int, client: Fetcher, state: FetchState, options: FetchOptions
) -> tuple[list[_Entry], list[tuple[str, str]]] | Rejection | RawItem:
    """Fetch one feed or sitemap (conditionally) and return its entries and child sitemaps.

    An ``auto`` source that turns out to be a page comes back as a :class:`RawItem`; one delivered by an
    earlier run is skipped like any known page (asked for conditionally with ``refetch``).
    """
    key = state_key(url)
    prior = state.get(key)
    listing_before = prior is not None and prior.memo is not None
    if prior is not None and not listing_before and not options.refetch:
        client.stats.add("skipped_known")
        return [], []
    conditional = prior if prior is not None and (listing_before or options.refetch) else None
    try:
        response = client.get(
            url,
            accept="any" if spec.kind == "auto" else "xml",
            etag=conditional.etag if conditional else None,
            last_modified=conditional.last_modified if conditional else None,
        )
    except FetchError as exc:
        return _fetch_rejection(exc, url, spec.uri)
    if response.not_modified:
        if prior is None or prior.memo is None:
            return [], []  # a page that has not changed since it was delivered
        state.record(key, status=304, etag=prior.etag, last_modified=prior.last_modified, memo=prior.memo)
        return _from_memo(prior.memo)
    try:
        body = gunzip_capped(response.body, options.max_decompressed_bytes, url)
    except FetchError as exc:
        return _fetch_rejection(exc, url, spec.uri)
    sniffed = sniff_kind(body)
    kind: SourceKind | None = spec.kind if depth == 0 else "sitemap"
    if kind == "auto":
        kind = sniffed
        if kind == "page":
            return _page_item(spec, response, state)
        if kind is None:
            return _rejection(url, spec.uri, REASON_NOT_A_SOURCE, "body is neither a feed, a sitemap nor a page", body)
    elif sniffed in ("feed", "sitemap"):
        kind = sniffed  # a URL named like a feed may serve a sitemap, and the other way round
    try:
        if kind == "feed":
            entries, children = parse_feed(body, response.final_url), []
        else:
            doc = parse_sitemap(body, response.final_url)
            entries, children = list(doc.entries), list(doc.children)
    except SourceParseError as exc:
        return _rejection(url, spec.uri, exc.reason, exc.detail, body)
    state.record(
        key,
        status=response.status,
        etag=response.header("etag"),
        last_modified=response.header("last-modified"),
        memo=_to_memo(entries, children),
    )
    return entries, children


def _to_memo(entries: list[_Entry], children: list[tuple[str, str]]) -> str:
    return json.dumps(
        {
            "entries": [
                [
                    e.url,
                    e.title,
                    e.published_at,
                    e.published_at_source,
                    list(e.authors),
                    e.external_id,
                    e.language,
                    e.sort_key,
                ]
                for e in entries
            ],
            "children": [list(c) for c in children],
        },
        ensure_ascii=False,
    )


def _from_memo(memo: str) -> tuple[list[_Entry], list[tuple[str, str]]]:
    data = json.loads(memo)
    entries = [
        _Entry(
            url=u,
            title=t,
            published_at=p,
            published_at_source=ps,
            authors=tuple(a),
            external_id=x,
            language=lang,
            sort_key=sk,
        )
        for u, t, p, ps, a, x, lang, sk in data.get("entries", [])
    ]
    return entries, [(str(c[0]), str(c[1])) for c in data.get("children", [])]


def _page_item(spec: SourceSpec, response: FetchResponse, state: FetchState) -> RawItem:
    target = FetchTarget(url=response.url, source_uri=spec.uri, hints=spec.hints, language=spec.hints.language)
    return _item_from_response(target, response, state)


# ------------------------------------------------------------------------------------------------------------
# Fetching pages


def fetch_targets(
    targets: Sequence[FetchTarget],
    client: Fetcher,
    state: FetchState,
    options: FetchOptions,
) -> tuple[list[RawItem], list[Rejection]]:
    """Return ``(items, rejections)`` for the targets: one HTML :class:`RawItem` per page fetched, one
    :class:`Rejection` (stage ``fetch``) per page that failed, with the fetch reason code.

    Incremental: pages delivered by an earlier run (committed in ``state``) are skipped unless
    ``options.refetch``; with refetch they are asked for conditionally and a 304 yields nothing. Skips and
    304s are counted in ``client.stats``. Each fetched page is staged in ``state``; the caller commits it once
    the items are written. ``http_headers`` carry a Content-Type naming the charset the page really uses.
    """
    unique: dict[str, FetchTarget] = {}
    for target in targets:
        unique.setdefault(target.key, target)
    todo = list(unique.values())
    if not options.refetch:
        known = state.known(unique)
        if known:
            client.stats.add("skipped_known", len(known))
            todo = [t for t in todo if t.key not in known]

    def work(target: FetchTarget) -> RawItem | Rejection | None:
        try:
            return _fetch_one(target, client, state, options)
        except Exception as exc:  # noqa: BLE001 (one page's unexpected failure must not lose the batch)
            return _rejection(
                target.url,
                target.source_uri,
                REASON_INTERNAL_ERROR,
                repr(exc),
                external_id=target.external_id,
            )

    results = _per_host(todo, lambda t: t.url, lambda t: (work(t),), options.max_workers)
    items: list[RawItem] = []
    rejections: list[Rejection] = []
    for (result,) in results:
        if isinstance(result, RawItem):
            items.append(result)
        elif isinstance(result, Rejection):
            rejections.append(result)
    return items, rejections


def _fetch_one(
    target: FetchTarget, client: Fetcher, state: FetchState, options: FetchOptions
) -> RawItem | Rejection | None:
    prior = state.get(target.key) if options.refetch else None
    try:
        response = client.get(
            target.url,
            accept="html",
            etag=prior.etag if prior else None,
            last_modified=prior.last_modified if prior else None,
        )
    except FetchError as exc:
        return _fetch_rejection(exc, target.url, target.source_uri, target.external_id)
    if response.not_modified:
        return None
    return _item_from_response(target, response, state)


def _item_from_response(target: FetchTarget, response: FetchResponse, state: FetchState) -> RawItem:
    """Stage ``target`` as fetched in ``state`` and return the page as a :class:`RawItem`."""
    state.record(
        target.key,
        status=response.status,
        etag=response.header("etag"),
        last_modified=response.header("last-modified"),
    )
    return RawItem(
        item_key=f"{FETCH_KEY_PREFIX}{target.key}",
        source_uri=target.source_uri,
        payload=response.body,
        kind="html",
        fetched_at=datetime.now(UTC),
        url=response.final_url,
        external_id=target.external_id,
        title=target.title,
        published_at=target.published_at,
        published_at_source=target.published_at_source,
        authors=target.authors,
        source=target.hints.name or site_of(response.final_url),
        language=target.language,
        http_headers=headers_with_charset(response.body, response.headers),
        hints=target.hints,
    )


# ------------------------------------------------------------------------------------------------------------
# Prefect wrappers: retries for the whole batch only on transient failures (the client already retries each
# URL, so these fire only when something around it failed, e.g. the state database was briefly locked).


def retry_on_transient(task: Task[..., Any], task_run: TaskRun, state: State[Any]) -> bool:
    """Prefect ``retry_condition_fn``: retry the batch task only when it failed for a transient reason."""
    try:
        state.result()
    except Exception as exc:  # noqa: BLE001 (the failure is what we classify)
        # A locked fetch-state database (another run finishing) clears up; so do network-level errors.
        return is_transient(exc) or isinstance(exc, TimeoutError | sqlite3.OperationalError)
    return False


discover_targets_task = task(
    name="discover-targets",
    retries=2,
    retry_delay_seconds=30,
    retry_condition_fn=retry_on_transient,
    cache_policy=NO_CACHE,
)(discover_targets)
fetch_targets_task = task(
    name="fetch-targets",
    retries=2,
    retry_delay_seconds=30,
    retry_condition_fn=retry_on_transient,
    cache_policy=NO_CACHE,
)(fetch_targets)
