"""RSS, Atom and RDF feeds: bytes in, entries (link, title, date, authors, id, language) out.

XML is checked with entity declarations, external entities and DTDs refused before feedparser reads it, so a
billion-laughs feed is rejected at once.
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime
from typing import Any
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as safe_fromstring

from tasks.sources.entries import Entry, SourceParseError, clean_text, join_url, reject_entities

# Reason code produced here.
REASON_FEED_PARSE_ERROR = "feed_parse_error"


def parse_feed(data: bytes, base_url: str) -> list[Entry]:
    """Return the entries of an RSS/Atom/RDF feed, links made absolute.

    Raises :class:`SourceParseError` ``feed_parse_error`` for entity declarations (billion laughs, XXE), or a
    body feedparser cannot read as a feed. Feeds that are only slightly malformed are read leniently.
    """
    reject_entities(data, REASON_FEED_PARSE_ERROR)
    try:
        safe_fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise SourceParseError(REASON_FEED_PARSE_ERROR, f"unsafe XML: {exc!r}") from exc
    except (ParseError, ValueError, LookupError):
        pass  # not well-formed (or an unknown declared encoding): feedparser's lenient parser decides below
    try:
        import feedparser  # here, not at the top: a run that reads no feed does not import it (20 ms)

        parsed = feedparser.parse(
            data,
            response_headers={"content-location": base_url, "content-type": "application/xml"},
            resolve_relative_uris=False,
            sanitize_html=False,
        )
    except Exception as exc:  # feedparser's own bugs on hostile input (a "&#2000000;" reference) are not ours
        raise SourceParseError(REASON_FEED_PARSE_ERROR, f"feedparser failed: {exc!r}") from exc
    if not parsed.get("version") and not parsed.entries:
        problem = parsed.get("bozo_exception")
        raise SourceParseError(REASON_FEED_PARSE_ERROR, f"not a feed: {problem!r}" if problem else "not a feed")
    feed_language = clean_text(parsed.feed.get("language"))
    entries: list[Entry] = []
    for position, item in enumerate(parsed.entries):
        link = _entry_link(item)
        published, published_sort = _entry_date(item)
        entries.append(
            Entry(
                url=join_url(base_url, link),
                title=clean_text(item.get("title")),
                published_at=published,
                published_at_source="feed" if published else None,
                authors=_entry_authors(item),
                external_id=clean_text(item.get("id")),
                language=(clean_text(item.get("language")) or feed_language or "").lower() or None,
                sort_key=published_sort or f"~{position:08d}",
            )
        )
    return entries


def _entry_link(item: Any) -> str | None:
    link = clean_text(item.get("link"))
    if link:
        return link
    for candidate in item.get("links", []) or []:
        href = clean_text(candidate.get("href"))
        if href and candidate.get("rel", "alternate") == "alternate":
            return href
    guid = clean_text(item.get("id"))
    if guid and guid.lower().startswith(("http://", "https://")):
        return guid
    return None


def _entry_date(item: Any) -> tuple[str | None, str | None]:
    """Return (published_at as given or ISO 8601 UTC, sortable ISO string)."""
    for key in ("published", "updated", "created"):
        parsed = item.get(f"{key}_parsed")
        if parsed:
            try:
                iso = datetime.fromtimestamp(calendar.timegm(parsed), UTC).isoformat()
            except (ValueError, OverflowError, OSError):
                continue  # a date feedparser read but no datetime holds ("0000"): the raw text below is kept
            return iso, iso
    for key in ("published", "updated", "created"):
        raw = clean_text(item.get(key))
        if raw:
            return raw, None
    return None, None


def _entry_authors(item: Any) -> tuple[str, ...]:
    names: list[str] = []
    for author in item.get("authors", []) or []:
        name = clean_text(author.get("name")) if hasattr(author, "get") else None
        if name:
            names.append(name)
    if not names and (single := clean_text(item.get("author"))):
        names.append(single)
    return tuple(dict.fromkeys(names))
