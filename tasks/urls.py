"""URL canonicalisation: one article, one URL, whatever tracking, mobile or AMP variant it was reached by.

:func:`canonicalize_url` is what the dedup stage compares and what ``article_id`` is derived from when a page
gives no ``rel=canonical``; it must therefore be stable (same input, same output, on every machine) and
conservative: two URLs that may show different content must stay different. The rules:

* scheme: ``http`` and ``https`` both become ``https`` (sites moved to TLS; the same article is reached by both);
* host: lower-cased, trailing dot and default port dropped; a leading ``www.``, ``m.``, ``mobile.`` or ``amp.``
  label is dropped (mobile and AMP hosts serve the desktop article) as long as two labels remain;
* path: a trailing ``/amp`` segment and the ``.amp`` in ``.amp.html`` are dropped, trailing slashes (and
  whitespace) are dropped (``/a/b/`` and ``/a/b`` are one page on news sites), empty path is ``/``;
* query: tracking parameters (``utm_*``, ``fbclid``, ``gclid``, ``CMP``, ``mc_cid`` ... see ``TRACKING_PARAMS``)
  and AMP switches (``amp``, ``outputType=amp``) are dropped; the rest may select content (``id=``, ``page=``,
  ``seite=all``) so it is kept, sorted by name so that parameter order does not matter;
* fragment: dropped (it never selects a different article), except ``#!`` routes of old single-page sites;
* ``&amp;`` (an ampersand HTML-escaped by a feed, once or more) is read as ``&``; a lone surrogate as U+FFFD.

courlan (installed with trafilatura) was considered: its ``normalize_url`` keeps ``m.`` hosts, ``/amp`` paths,
trailing slashes and ``CMP``, and its tracker pattern drops any parameter containing ``source`` or ``id``-like
words, which can select content; the hand-written rules below are narrower and cover the variants news feeds
produce. Its tracker list (ClearURLs, Firefox query stripping) was used as a reference for ``TRACKING_PARAMS``.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit

# Parameter-name prefixes that only ever carry campaign or analytics data (Google Analytics utm_, Mailchimp mc_,
# Piwik/Matomo pk_ and mtm_, HubSpot _hs, Adobe s_, Marketo mkt_, Omeda oly_, Vero vero_, itm_ internal tracking).
TRACKING_PREFIXES = ("utm_", "mc_", "pk_", "mtm_", "_hs", "hsa_", "mkt_", "oly_", "vero_", "itm_", "at_", "wt_", "wt.")

# Whole parameter names (compared case-insensitively) that identify a click, a share or a campaign, not content.
TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "gclsrc",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "twclid",
        "ttclid",
        "igshid",
        "igsh",
        "li_fat_id",
        "epik",
        "cmp",
        "cmpid",
        "intcmp",
        "icid",
        "ocid",
        "ncid",
        "xtor",
        "_ga",
        "_gl",
        "ito",
        "ref",
        "ref_src",
        "ref_url",
        "referrer",
        "smid",
        "smtyp",
        "sr_share",
        "share",
        "rss",
        "feed",
        "src",
        "s_cid",
        "s_kwcid",
        "soc_src",
        "soc_trk",
        "spm",
        "ns_mchannel",
        "ns_source",
        "ns_campaign",
        "ns_linkname",
        "ns_fee",
        "mbid",
        "cid_source",
        "__twitter_impression",
    }
)

# Query switches that ask for the AMP rendering of the same article.
_AMP_PARAM_VALUES = {"amp": None, "outputtype": "amp", "output": "amp", "view": "amp", "platform": "amp"}

# Host labels that select a rendering (mobile, AMP) or nothing at all (www), not a different site.
_HOST_PREFIXES = ("www.", "m.", "mobile.", "amp.", "www2.")

_MULTI_SLASH = re.compile(r"/{2,}")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _is_tracking(name: str, value: str) -> bool:
    low = name.lower()
    if low.startswith(TRACKING_PREFIXES) or low in TRACKING_PARAMS:
        return True
    if low in _AMP_PARAM_VALUES:
        wanted = _AMP_PARAM_VALUES[low]
        return wanted is None or value.lower() == wanted
    return False


def _canonical_host(host: str) -> str:
    host = host.lower().rstrip(".")
    changed = True
    while changed:
        changed = False
        for prefix in _HOST_PREFIXES:
            rest = host[len(prefix) :]
            if host.startswith(prefix) and "." in rest:
                host = rest
                changed = True
    return host


def _canonical_path(path: str) -> str:
    path = _MULTI_SLASH.sub("/", path or "/")
    # Repeat until nothing changes, so that the result is already canonical: "/a/amp/amp" and "/a.amp.amp.html"
    # lose each AMP marker, and "/a/ /" loses its trailing blank with the slashes (whitespace at the end of a
    # URL is dropped, as around the whole URL).
    previous = None
    while path != previous:
        previous = path
        path = path.rstrip("/").rstrip()
        if path.endswith("/amp"):
            path = path[: -len("/amp")]
        if path.endswith(".amp.html"):
            path = path[: -len(".amp.html")] + ".html"
    return path or "/"


def _split_netloc(netloc: str) -> tuple[str, int | None] | None:
    """Return (host, port) of a URL's netloc without user info, or None when it is malformed."""
    hostport = netloc.rpartition("@")[2]
    if hostport.startswith("["):
        host, bracket, rest = hostport[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            return None
        port_text = rest[1:]
        host = f"[{host.lower()}]"
    else:
        host, _, port_text = hostport.partition(":")
    if not port_text:
        return host, None
    # ASCII digits only: "²" and "٨٠" are digits to str.isdigit, and the first one is no int at all
    if not (port_text.isascii() and port_text.isdigit()) or int(port_text) > 65535:
        return None
    return host, int(port_text)


def canonicalize_url(url: str) -> str | None:
    """Return the canonical form of an http(s) URL, or None when ``url`` is not an absolute http(s) URL.

    See the module docstring for the rules. Idempotent: ``canonicalize_url(canonicalize_url(u)) ==
    canonicalize_url(u)``.
    """
    # A lone surrogate (from a JSON escape such as "\ud800" with no pair) has no UTF-8 form: it becomes U+FFFD, as an
    # undecodable %-escape in the query does.
    text = _LONE_SURROGATE.sub("\ufffd", url.strip())
    while "&amp;" in text:  # escaped once or twice over by a feed: "?a=1&amp;amp;b=2"
        text = text.replace("&amp;", "&")
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https"):
        return None
    split = _split_netloc(parts.netloc)
    if split is None or split[0] == "[]":
        return None
    host, port = split
    host = _canonical_host(host)
    if not host:
        return None  # no host at all, or only dots ("http://./a")
    netloc = f"{host}:{port}" if port not in (None, 80, 443) else host
    query = ""
    if parts.query:
        kept = sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k, v))
        query = "?" + urlencode(kept) if kept else ""
    fragment = "#" + parts.fragment.rstrip() if parts.fragment.startswith("!") else ""
    return f"https://{netloc}{_canonical_path(parts.path)}{query}{fragment}"


def site_of(url: str | None) -> str | None:
    """Return the site domain of ``url`` (lower case, without ``www.``, ``m.``, ``amp.`` ...), or None."""
    if not url:
        return None
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:
        return None
    if not host:
        return None
    return _canonical_host(host)
