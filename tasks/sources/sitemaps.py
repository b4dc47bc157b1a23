"""Sitemaps and sitemap indexes (Google News sitemaps included): bytes in, page entries or child sitemaps out.

XML is parsed with DTDs, entity declarations and external entities refused; plain-text sitemaps (one URL per
line) are read too.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as safe_fromstring

from tasks.sources.entries import Entry, SourceParseError, clean_text, join_url, reject_entities, sortable_date

# Reason code produced here.
REASON_SITEMAP_PARSE_ERROR = "sitemap_parse_error"

# Sitemap indexes may (against the protocol) point to other indexes; three levels cover every real layout
# (index by year -> by month -> by day) without letting a cycle run away.
MAX_SITEMAP_DEPTH = 3


@dataclass(frozen=True, slots=True)
class SitemapDoc:
    """A parsed sitemap: page entries (a urlset) or child sitemaps (an index) with their lastmod."""

    entries: tuple[Entry, ...] = ()
    children: tuple[tuple[str, str], ...] = ()


def _local(tag: object) -> str:
    return str(tag).rsplit("}", 1)[-1].lower()


def _child_text(element: Element, *path: str) -> str | None:
    node: Element | None = element
    for name in path:
        if node is None:
            return None
        node = next((child for child in node if _local(child.tag) == name), None)
    return clean_text(node.text) if node is not None else None


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
        return SitemapDoc(entries=tuple(Entry(url=u, sort_key=f"~{i:08d}") for i, u in enumerate(urls)))
    reject_entities(data, REASON_SITEMAP_PARSE_ERROR)
    try:
        root = safe_fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise SourceParseError(REASON_SITEMAP_PARSE_ERROR, f"unsafe XML: {exc!r}") from exc
    except (ParseError, ValueError, LookupError) as exc:  # LookupError: an unknown declared encoding
        raise SourceParseError(REASON_SITEMAP_PARSE_ERROR, f"malformed XML: {exc}") from exc
    kind = _local(root.tag)
    if kind == "sitemapindex":
        children = []
        for node in root:
            loc = _child_text(node, "loc") if _local(node.tag) == "sitemap" else None
            if child := join_url(base_url, loc):
                children.append((child, _child_text(node, "lastmod") or ""))
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
            Entry(
                url=join_url(base_url, loc),
                title=_child_text(node, "news", "title"),
                published_at=news_date,
                published_at_source="sitemap" if news_date else None,
                language=(_child_text(node, "news", "publication", "language") or "").lower() or None,
                sort_key=sortable_date(news_date or lastmod) or f"~{position:08d}",
            )
        )
    return SitemapDoc(entries=tuple(entries))
