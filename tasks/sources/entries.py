"""What feeds and sitemaps list: entries, the parse error both raise, and the helpers both parsers share.

Also :func:`sniff_kind`, which tells a feed, a sitemap and a page apart from the first bytes of a body.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urljoin

from tasks.sources.specs import SourceKind

_ROOT_TAG = re.compile(rb"<(?![?!])([A-Za-z_][\w:.\-]*)")
_HTML_SNIFF = re.compile(rb"<(?:!doctype\s+html|html|head|body)[\s>]", re.IGNORECASE)


class SourceParseError(Exception):
    """A feed or sitemap body could not be read; ``reason`` is a ``REASON_*`` code."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Entry:
    url: str
    title: str | None = None
    published_at: str | None = None
    published_at_source: str | None = None
    authors: tuple[str, ...] = ()
    external_id: str | None = None
    language: str | None = None
    sort_key: str = ""


def reject_entities(data: bytes, reason: str) -> None:
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


def join_url(base_url: str, link: str | None) -> str:
    """Return ``link`` resolved against ``base_url``, or "" when there is none or it is no URL at all (a
    ``<loc>http://[</loc>`` that urljoin refuses): the entry is then reported as having no URL."""
    if not link:
        return ""
    try:
        return urljoin(base_url, link)
    except ValueError:
        return ""


def clean_text(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    text = " ".join(value.split())
    return text or None


def sortable_date(value: str | None) -> str | None:
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


def newest_first(entries: Sequence[Entry]) -> list[Entry]:
    # Dated entries newest first, then undated ones in document order (their sort keys start with "~").
    dated = sorted((e for e in entries if not e.sort_key.startswith("~")), key=lambda e: e.sort_key, reverse=True)
    return [*dated, *(e for e in entries if e.sort_key.startswith("~"))]
