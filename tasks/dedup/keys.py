"""Exact lookup keys of articles: ids, canonical URLs, content hashes and (title, outlet, day), as 64-bit ints."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import xxhash

from tasks.dedup.options import DedupOptions
from tasks.dedup.signatures import I32, U64
from tasks.ids import normalize_text
from tasks.records import Article
from tasks.urls import canonicalize_url


@dataclass(frozen=True, slots=True)
class IndexRow:
    """One stored article as the ``articles`` dataset holds it: enough to rebuild the index."""

    article_id: str
    cluster_id: str
    canonical_url: str | None
    content_hash: str
    title: str | None
    source: str
    published_at: datetime | None
    fetched_at: datetime
    text: str
    url: str | None = None


def key64(value: str) -> int:
    """Return the 64-bit lookup key of a string (xxh3: fast, stable across processes and machines)."""
    return int(xxhash.xxh3_64_intdigest(value.encode("utf-8")))


def id_to_int(article_id: str) -> int:
    """Return the 64-bit integer form of a 16-hex-digit article id (see :func:`tasks.ids.make_article_id`)."""
    if len(article_id) != 16:
        raise ValueError(f"article_id must be 16 hex digits (tasks.ids.make_article_id), got {article_id!r}")
    try:
        return int(article_id, 16)
    except ValueError:
        raise ValueError(f"article_id must be 16 hex digits, got {article_id!r}") from None


def int_to_id(value: int) -> str:
    """Return the article id string of its integer form."""
    return f"{value:016x}"


def hours(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() // 3600)


def url_keys(canonical_url: str | None, url: str | None) -> list[int]:
    """Return the lookup keys of an article's URLs: its canonical URL and its fetched URL, canonicalised."""
    keys: list[int] = []
    for candidate in (canonical_url, url if url != canonical_url else None):
        if candidate:
            canon = canonicalize_url(candidate)
            if canon:
                k = key64("u:" + canon)
                if k not in keys:
                    keys.append(k)
    return keys


def title_key(title: str | None, source: str, event_hour: int, options: DedupOptions) -> int | None:
    """Return the key of (normalised title, outlet, UTC day), or None for a missing or too generic title."""
    if not title:
        return None
    norm = normalize_text(title)
    if len(norm) < options.title_min_chars:
        return None
    return key64(f"t:{norm}\x1f{source.casefold()}\x1f{event_hour // 24}")


def content_key(content_hash: str) -> int:
    """Return the key of the body's content hash (bodies too short to identify a story are not keyed: the
    index drops the key of a body under ``min_shared_words`` words)."""
    return key64("c:" + content_hash)


@dataclass(frozen=True, slots=True)
class BatchKeys:
    """The lookup keys of a batch of articles besides their signatures, one row per article (0: no key)."""

    article_id: U64
    urls: U64  # (n, 2): canonical URL, fetched URL canonicalised
    content: U64
    title: U64
    event_hour: I32
    fetched_hour: I32


def batch_keys(records: Sequence[Article] | Sequence[IndexRow], options: DedupOptions) -> BatchKeys:
    """Return the keys of ``records``. Raises ValueError for an article_id that is not 16 hex digits."""
    ids: list[int] = []
    urls: list[list[int]] = []
    contents: list[int] = []
    titles: list[int] = []
    events: list[int] = []
    fetched: list[int] = []
    for r in records:
        event = hours(r.published_at or r.fetched_at)
        ids.append(id_to_int(r.article_id))
        u = url_keys(r.canonical_url, r.url)
        urls.append([*u, 0, 0][:2])
        contents.append(content_key(r.content_hash))
        titles.append(title_key(r.title, r.source, event, options) or 0)
        events.append(event)
        fetched.append(hours(r.fetched_at))
    n = len(ids)
    return BatchKeys(
        article_id=np.asarray(ids, dtype=np.uint64).reshape(n),
        urls=np.asarray(urls, dtype=np.uint64).reshape(n, 2),
        content=np.asarray(contents, dtype=np.uint64).reshape(n),
        title=np.asarray(titles, dtype=np.uint64).reshape(n),
        event_hour=np.asarray(events, dtype=np.int32).reshape(n),
        fetched_hour=np.asarray(fetched, dtype=np.int32).reshape(n),
    )
