"""Where news comes from: source specs, and turning them into pages to fetch or items already in hand.

A source is a feed (RSS/Atom), a sitemap or sitemap index (Google News sitemaps included), a single page, a
text file of URLs, a WARC archive (CC-NEWS layout: ``response`` records of HTML pages) or a TOML file listing
any of these with hints (name, language, country, currency). The package reads them in steps, one module each:

* :mod:`~tasks.sources.specs`: :func:`parse_source` reads a spec into :class:`SourceSpec` values;
* :mod:`~tasks.sources.feeds` and :mod:`~tasks.sources.sitemaps`: bytes in, entries out;
* :mod:`~tasks.sources.warc`: WARC records straight into :class:`~tasks.records.RawItem` values;
* :mod:`~tasks.sources.discover`: :func:`discover_targets` expands feeds and sitemaps into
  :class:`FetchTarget` values (feed entries carry title, date and authors along);
* :mod:`~tasks.sources.pages`: :func:`fetch_targets` fetches the pages.

Parsing functions take bytes; all network access goes through a :class:`~tasks.fetch.Fetcher`.
"""

from tasks.sources.discover import (
    REASON_NO_URL,
    REASON_NOT_A_SOURCE,
    discover_targets,
    discover_targets_task,
)
from tasks.sources.entries import SourceParseError, sniff_kind
from tasks.sources.feeds import REASON_FEED_PARSE_ERROR, parse_feed
from tasks.sources.pages import fetch_targets, fetch_targets_task, retry_on_transient
from tasks.sources.sitemaps import MAX_SITEMAP_DEPTH, REASON_SITEMAP_PARSE_ERROR, SitemapDoc, parse_sitemap
from tasks.sources.specs import (
    REASON_NOT_A_URL_LIST,
    SOURCE_KINDS,
    URL_LIST_KEY_PREFIX,
    WARC_SUFFIXES,
    SourceKind,
    SourceSpec,
    check_readable,
    classify_url,
    load_sources_toml,
    parse_source,
    read_url_list,
)
from tasks.sources.targets import (
    FETCH_KEY_PREFIX,
    REASON_INTERNAL_ERROR,
    REJECTION_PAYLOAD_BYTES,
    FetchTarget,
    staged_keys,
    state_key,
)
from tasks.sources.warc import (
    REASON_EMPTY_PAYLOAD,
    REASON_NOT_A_WARC,
    REASON_TRUNCATED_INPUT,
    REASON_WARC_ERROR,
    iter_warc,
)

__all__ = [
    "FETCH_KEY_PREFIX",
    "MAX_SITEMAP_DEPTH",
    "REASON_EMPTY_PAYLOAD",
    "REASON_FEED_PARSE_ERROR",
    "REASON_INTERNAL_ERROR",
    "REASON_NOT_A_SOURCE",
    "REASON_NOT_A_URL_LIST",
    "REASON_NOT_A_WARC",
    "REASON_NO_URL",
    "REASON_SITEMAP_PARSE_ERROR",
    "REASON_TRUNCATED_INPUT",
    "REASON_WARC_ERROR",
    "REJECTION_PAYLOAD_BYTES",
    "SOURCE_KINDS",
    "URL_LIST_KEY_PREFIX",
    "WARC_SUFFIXES",
    "FetchTarget",
    "SitemapDoc",
    "SourceKind",
    "SourceParseError",
    "SourceSpec",
    "check_readable",
    "classify_url",
    "discover_targets",
    "discover_targets_task",
    "fetch_targets",
    "fetch_targets_task",
    "iter_warc",
    "load_sources_toml",
    "parse_feed",
    "parse_sitemap",
    "parse_source",
    "read_url_list",
    "retry_on_transient",
    "sniff_kind",
    "staged_keys",
    "state_key",
]
