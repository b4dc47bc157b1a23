"""What discovery hands to fetching: pages to fetch, the keys they are remembered under, and fetch rejections.

A page's identity is its canonical URL (:func:`state_key`): the fetch state remembers it under that key and
its item key is the same with a ``fetch:`` prefix.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from tasks.fetch import FetchError
from tasks.records import STAGE_FETCH, RawItem, Rejection, SourceHints
from tasks.urls import canonicalize_url

# Reason code for a failure nobody foresaw: one page or source's bug must not lose the batch.
REASON_INTERNAL_ERROR = "internal_error"
# Rejection payloads keep the start of what was received: enough to see what went wrong, bounded.
REJECTION_PAYLOAD_BYTES = 65_536


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


def source_rejection(
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


def fetch_rejection(exc: FetchError, url: str, source_uri: str, external_id: str | None = None) -> Rejection:
    return source_rejection(url, source_uri, exc.reason, exc.detail, external_id=external_id)
