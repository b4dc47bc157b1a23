"""Discovery: source specs expanded into pages to fetch, and items already in hand.

Feeds and sitemaps (and sitemap indexes, recursively) are fetched with conditional GET through a
:class:`~tasks.fetch.Fetcher`; what they listed is kept as a memo in the fetch state, so an unchanged feed
(304) still yields its entries. WARC records come straight out as items.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from prefect import task
from prefect.cache_policies import NO_CACHE

from storage.fetch_state import FetchState
from tasks.fetch import (
    REASON_BAD_SCHEME,
    BudgetExhaustedError,
    Fetcher,
    FetchError,
    FetchOptions,
    FetchResponse,
    gunzip_capped,
)
from tasks.records import RawItem, Rejection
from tasks.sources.entries import Entry, SourceParseError, newest_first, sniff_kind, sortable_date
from tasks.sources.feeds import parse_feed
from tasks.sources.pages import item_from_response, per_host, retry_on_transient
from tasks.sources.sitemaps import MAX_SITEMAP_DEPTH, REASON_SITEMAP_PARSE_ERROR, parse_sitemap
from tasks.sources.specs import SourceKind, SourceSpec
from tasks.sources.targets import REASON_INTERNAL_ERROR, FetchTarget, fetch_rejection, source_rejection, state_key
from tasks.sources.warc import iter_warc

# Reason codes produced here (besides the fetch, feed, sitemap and WARC reasons).
REASON_NO_URL = "no_url"
REASON_NOT_A_SOURCE = "not_a_source"


@dataclass
class _Outcome:
    targets: list[FetchTarget] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    items: list[RawItem] = field(default_factory=list)

    def extend(self, other: _Outcome) -> None:
        self.targets.extend(other.targets)
        self.rejections.extend(other.rejections)
        self.items.extend(other.items)


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
    canonical URL. Specs that carry a rejection (a URL list's bad line) are reported as they are.

    What is left out is counted in ``client.stats``, never dropped unseen: listed URLs past the source's cap
    (``urls_over_cap``), child sitemaps not read (``sitemaps_over_cap``), feeds and sitemaps not fetched
    because a time budget ran out (``deferred_budget``: not rejected, read by the next run).
    Reasons: every fetch reason, ``feed_parse_error``, ``sitemap_parse_error``, ``no_url``, ``bad_scheme``,
    ``not_a_source``, ``bad_url``, ``not_a_url_list``, the WARC reasons of :func:`~tasks.sources.warc.iter_warc`,
    ``internal_error``.
    """
    outcome = _Outcome()
    network: list[SourceSpec] = []
    for spec in sources:
        if spec.rejection is not None:
            outcome.rejections.append(spec.rejection)
        elif spec.kind == "warc":
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
            return _Outcome(rejections=[source_rejection(spec.uri, spec.uri, REASON_INTERNAL_ERROR, repr(exc))])

    for result in per_host(network, lambda s: s.uri, expand, options.max_workers):
        outcome.extend(result)
    unique: dict[str, FetchTarget] = {}
    for target in outcome.targets:
        unique.setdefault(target.key, target)
    return list(unique.values()), outcome.rejections, outcome.items


def _expand_source(spec: SourceSpec, client: Fetcher, state: FetchState, options: FetchOptions) -> _Outcome:
    outcome = _Outcome()
    urls_left = spec.max_items or options.max_urls_per_source
    queue: list[tuple[str, int]] = [(spec.uri, 0)]
    sitemaps_read = 0
    seen: set[str] = set()
    while queue:
        if urls_left <= 0:
            client.stats.add("sitemaps_over_cap", _unread(queue, seen))  # the URL cap is reached
            break
        url, depth = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        if depth > 0:
            sitemaps_read += 1
            if sitemaps_read > options.max_sitemaps_per_source:
                client.stats.add("sitemaps_over_cap", 1 + _unread(queue, seen))
                break
        try:
            result = _read_listing(spec, url, depth, client, state, options)
        except BudgetExhaustedError:
            # Not read, not rejected, not remembered: the next run reads this listing and what is queued.
            client.stats.add("deferred_budget", 1 + _unread(queue, seen))
            break
        if isinstance(result, Rejection):
            outcome.rejections.append(result)
            continue
        if isinstance(result, RawItem):
            outcome.items.append(result)
            continue
        entries, children = result
        if depth < MAX_SITEMAP_DEPTH:
            ordered = sorted(children, key=lambda c: sortable_date(c[1]) or "", reverse=True)
            queue.extend((child, depth + 1) for child, _ in ordered)
        elif children:
            outcome.rejections.append(
                source_rejection(
                    url,
                    spec.uri,
                    REASON_SITEMAP_PARSE_ERROR,
                    f"sitemap indexes nested deeper than {MAX_SITEMAP_DEPTH}",
                )
            )
        ordered_entries = newest_first(entries)
        if len(ordered_entries) > urls_left:
            client.stats.add("urls_over_cap", len(ordered_entries) - urls_left)
            ordered_entries = ordered_entries[:urls_left]
        urls_left -= len(ordered_entries)
        for entry in ordered_entries:
            if not entry.url:
                outcome.rejections.append(
                    source_rejection(
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
                    source_rejection(
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


def _unread(queue: list[tuple[str, int]], seen: set[str]) -> int:
    """Return how many distinct listings in ``queue`` have not been read."""
    return len({url for url, _ in queue} - seen)


def _read_listing(
    spec: SourceSpec, url: str, depth: int, client: Fetcher, state: FetchState, options: FetchOptions
) -> tuple[list[Entry], list[tuple[str, str]]] | Rejection | RawItem:
    """Fetch one feed or sitemap (conditionally) and return its entries and child sitemaps.

    An ``auto`` source that turns out to be a page comes back as a :class:`RawItem`; one delivered by an
    earlier run is skipped like any known page (asked for conditionally with ``refetch``). Raises
    :class:`~tasks.fetch.BudgetExhaustedError` when there is no time left to fetch it.
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
    except BudgetExhaustedError:
        raise
    except FetchError as exc:
        return fetch_rejection(exc, url, spec.uri)
    if response.not_modified:
        if prior is None or prior.memo is None:
            return [], []  # a page that has not changed since it was delivered
        state.record(key, status=304, etag=prior.etag, last_modified=prior.last_modified, memo=prior.memo)
        return _from_memo(prior.memo)
    try:
        body = gunzip_capped(response.body, options.max_decompressed_bytes, url)
    except FetchError as exc:
        return fetch_rejection(exc, url, spec.uri)
    sniffed = sniff_kind(body)
    kind: SourceKind | None = spec.kind if depth == 0 else "sitemap"
    if kind == "auto":
        kind = sniffed
        if kind == "page":
            return _page_item(spec, response, state)
        if kind is None:
            return source_rejection(
                url, spec.uri, REASON_NOT_A_SOURCE, "body is neither a feed, a sitemap nor a page", body
            )
    elif sniffed in ("feed", "sitemap"):
        kind = sniffed  # a URL named like a feed may serve a sitemap, and the other way round
    try:
        if kind == "feed":
            entries, children = parse_feed(body, response.final_url), []
        else:
            doc = parse_sitemap(body, response.final_url)
            entries, children = list(doc.entries), list(doc.children)
    except SourceParseError as exc:
        return source_rejection(url, spec.uri, exc.reason, exc.detail, body)
    state.record(
        key,
        status=response.status,
        etag=response.header("etag"),
        last_modified=response.header("last-modified"),
        memo=_to_memo(entries, children),
    )
    return entries, children


def _to_memo(entries: list[Entry], children: list[tuple[str, str]]) -> str:
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


def _from_memo(memo: str) -> tuple[list[Entry], list[tuple[str, str]]]:
    data = json.loads(memo)
    entries = [
        Entry(
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
    return item_from_response(target, response, state)


discover_targets_task = task(
    name="discover-targets",
    retries=2,
    retry_delay_seconds=30,
    retry_condition_fn=retry_on_transient,
    cache_policy=NO_CACHE,
)(discover_targets)
