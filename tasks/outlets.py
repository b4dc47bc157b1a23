"""Outlets: who published an article, as a registrable domain, with archive captures resolved to the page they keep.

``source`` is the site host of an item, so ``www.bbc.co.uk``, ``bbc.co.uk`` and ``news.bbc.co.uk`` are three
sources and every Wayback Machine capture is ``web.archive.org``. Counting the outlets that ran a story needs one
name per publisher: :func:`outlet_of` gives the registrable domain (eTLD+1) of a URL, and :func:`captured_url`
finds the original URL inside an archive capture so that the capture counts for the outlet it preserves.

The registrable domain comes from the Public Suffix List as bundled with ``tldextract`` (the snapshot inside the
installed package); the list is never downloaded and nothing is cached on disk. ``tldextract`` only fetches when it
is given URLs to fetch and only caches when it is given a cache directory: :func:`load_extractor` gives it neither,
so it falls back to the bundled snapshot (``tldextract.suffix_list``: an empty URL list raises
``SuffixListNotFound`` before any request, and the snapshot is read with ``pkgutil.get_data``).

Decisions, each tested in ``tests/test_outlets.py``:

* private suffixes count: the list's private section names platforms that give anyone a subdomain
  (``blogspot.com``, ``github.io``, ``netlify.app``), and two blogs on one platform are two publishers, so
  ``foo.blogspot.com`` is an outlet of its own;
* a host that is itself a public suffix (``gov.uk``, ``blogspot.com``) is its own outlet, and so is ``www.`` in
  front of one of two labels or more (``www.gov.uk`` is GOV.UK, the site of the suffix's owner, not a registrant
  called "www"; ``www.com`` stays ``www.com``);
* IP addresses, ``localhost`` and other single-label hosts are kept as the host (an IPv6 address without brackets);
  a host under no known suffix (an intranet or test name such as ``intranet.corp``) is kept whole, less a leading
  ``www.``, because nothing says which part of it was registered;
* internationalised hosts come out in Unicode, lower case, NFKC-normalised (``xn--mnchen-3ya.de`` and
  ``MÜNCHEN.de`` are both ``münchen.de``): one form for both spellings, the one a reader recognises; a label whose
  punycode does not decode is kept as written;
* a URL without a scheme (``www.lemonde.fr/a``, ``localhost:8080/a``) is read as a host and path, but a lone word
  (``foo``) is no URL; anything else without a usable host (``mailto:``, ``http://``, a host with a space) gives
  None.
"""

from __future__ import annotations

import functools
import ipaddress
import re
import unicodedata
from urllib.parse import unquote, urlsplit

import tldextract

# Hosts of the Internet Archive's Wayback Machine, and the mirrors of archive.today (one archive, several names;
# archive.fo is an older one still found in links).
WAYBACK_HOSTS = ("web.archive.org", "wayback.archive.org")
ARCHIVE_TODAY_HOSTS = (
    "archive.today",
    "archive.ph",
    "archive.is",
    "archive.li",
    "archive.md",
    "archive.vn",
    "archive.fo",
)

# Wayback: /web/<timestamp><flag>/<url>; the timestamp may be cut short (the archive picks the nearest capture),
# the flag (id_, im_, js_, cs_, if_, fw_, oe_ ...) selects a rendering of the same capture. "/web/" is optional:
# the archive also answers /<timestamp>/<url>. A "*" in the timestamp is a listing of captures, not a capture.
_WAYBACK = re.compile(
    r"^https?://(?:" + "|".join(re.escape(h) for h in WAYBACK_HOSTS) + r")\.?(?::\d+)?/(?:web/)?"
    r"\d{1,14}(?:[a-z]{2}_)?/(?P<rest>.+)$",
    re.IGNORECASE | re.DOTALL,
)

# archive.today long form: /<timestamp>/<url>, the timestamp as 14 digits or "2019.01.01-000000"; "newest" and
# "oldest" name the latest or first capture of that URL. Short ids (/AbCd1) say nothing about the captured page.
_ARCHIVE_TODAY = re.compile(
    r"^https?://(?:www\.)?(?:" + "|".join(re.escape(h) for h in ARCHIVE_TODAY_HOSTS) + r")\.?(?::\d+)?/"
    r"(?:\d{14}|\d{4}\.\d{2}\.\d{2}-\d{6}|newest|oldest)/(?P<rest>.+)$",
    re.IGNORECASE | re.DOTALL,
)

_SCHEME_AUTHORITY = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
# "https:/www.example.com": the slashes collapsed by URL normalisation (or written that way in archive links).
_COLLAPSED_SCHEME = re.compile(r"^(https?):/*", re.IGNORECASE)
_ENCODED_SCHEME = re.compile(r"^https?%3a", re.IGNORECASE)
# A URL given without a scheme: host[:port] then a path, query, fragment or nothing.
_SCHEMELESS = re.compile(r"^[^/:?#@\s]+(?::\d+)?(?:[/?#]|$)")
# Dots that IDNA reads as label separators (ideographic, full-width and half-width full stops).
_DOTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})
# An archive link may archive an archive link; a few levels cover every real case and bound the loop.
_MAX_NESTING = 3


@functools.cache
def load_extractor() -> tldextract.TLDExtract:
    """Return the process's suffix-list extractor: bundled snapshot, private suffixes on, no fetch, no disk cache.

    Built on first use, not at import, and once per process: parsing the snapshot takes about 30 ms.
    """
    return tldextract.TLDExtract(
        suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True, include_psl_private_domains=True
    )


def _valid_label(label: str) -> bool:
    # Letters, marks (scripts such as Devanagari need them), digits, "-" and "_" (found in real hostnames); at least
    # one letter or digit, so "-" or "_" alone is no host.
    if not label:
        return False
    ok = all(ch in "-_" or unicodedata.category(ch)[0] in "LMN" for ch in label)
    return ok and any(unicodedata.category(ch)[0] in "LN" for ch in label)


def _unicode_label(label: str) -> str:
    """Return one host label in the module's form: lower case, NFKC, punycode decoded when it decodes cleanly."""
    label = unicodedata.normalize("NFKC", label).lower()
    if label.startswith("xn--"):
        try:
            decoded = unicodedata.normalize("NFKC", label[4:].encode("ascii").decode("punycode")).lower()
        except UnicodeError:
            return label
        if decoded and not decoded.isascii() and _valid_label(decoded):
            return decoded
    return label


def _host_of(url: str) -> tuple[str, bool] | None:
    """Return the host of ``url`` (lower case, no trailing dot, IPv6 without brackets) and whether ``url`` had no
    scheme, or None when it has no host."""
    text = url.strip()
    schemeless = False
    if _SCHEMELESS.match(text):
        schemeless = True
        text = "//" + text
    elif not text.startswith("//") and not _SCHEME_AUTHORITY.match(text):
        return None  # "mailto:", "javascript:", "data:", words: no host part
    try:
        host = urlsplit(text).hostname
    except ValueError:
        return None
    host = (host or "").translate(_DOTS).rstrip(".")
    return (host, schemeless) if host else None


def _ip(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return None


def outlet_of(url: str | None) -> str | None:
    """Return the outlet of ``url``: its registrable domain (eTLD+1), private suffixes included, or None.

    ``news.bbc.co.uk`` is ``bbc.co.uk``, ``foo.blogspot.com`` stays ``foo.blogspot.com``, an IP address or
    ``localhost`` is the host; see the module docstring for every rule. None when ``url`` has no usable host.
    """
    if not url:
        return None
    found = _host_of(url)
    if found is None:
        return None
    host, schemeless = found
    if ip := _ip(host):
        return ip
    labels = [_unicode_label(label) for label in host.split(".")]
    if not all(_valid_label(label) for label in labels):
        return None
    name = ".".join(labels)
    if len(labels) == 1:
        # localhost or an intranet name; without a scheme a lone word is no URL ("localhost" aside)
        return None if schemeless and name != "localhost" else name
    parts = load_extractor()(name)
    if not parts.suffix:
        return name.removeprefix("www.") if len(labels) > 2 else name  # no known suffix: the host is all we know
    if not parts.domain or (parts.domain == "www" and "." in parts.suffix):
        # The host is a public suffix, or www. in front of one: the site of the suffix's owner (www.gov.uk). Not
        # for a top-level domain: www.com is a registrant's name, not the site of ".com".
        return parts.suffix
    return f"{parts.domain}.{parts.suffix}"


def _inner_url(rest: str) -> str | None:
    """Return the URL kept inside an archive path (``rest``), or None when it is no http(s) URL with a host."""
    if _ENCODED_SCHEME.match(rest):
        rest = unquote(rest)  # the whole URL was percent-encoded as one path segment: undo it once
    if _COLLAPSED_SCHEME.match(rest):
        rest = _COLLAPSED_SCHEME.sub(lambda m: m.group(1) + "://", rest, count=1)
    elif _SCHEMELESS.match(rest) and "." in re.split(r"[/?#:]", rest, maxsplit=1)[0]:
        rest = "http://" + rest  # "web/2019/example.com/a": the archive reads a bare host as http
    else:
        return None  # another scheme (ftp:, data:, javascript:), a word, a listing ("*")
    try:
        host = urlsplit(rest).hostname
    except ValueError:
        return None
    return rest if host else None


def captured_url(url: str | None) -> str | None:
    """Return the original URL of an archive capture (Wayback Machine or archive.today long form), else None.

    ``https://web.archive.org/web/20190101000000id_/http://www.example.com/a`` gives
    ``http://www.example.com/a``; an archive.today short id (``https://archive.ph/AbCd1``), a listing of captures
    or any other URL gives None. The URL comes back as the archive path holds it, with its query, except that a
    percent-encoded URL is decoded once, ``https:/`` (slashes collapsed by normalisation) becomes ``https://`` and
    a bare host gets ``http://``. A capture of a capture gives the innermost URL.
    """
    if not url:
        return None
    found: str | None = None
    current = url.strip()
    for _ in range(_MAX_NESTING):
        match = _WAYBACK.match(current) or _ARCHIVE_TODAY.match(current)
        if match is None:
            break
        inner = _inner_url(match.group("rest"))
        if inner is None:
            break
        found = current = inner
    return found


def outlet_for(canonical_url: str | None, url: str | None) -> tuple[str | None, str | None]:
    """Return ``(outlet, captured_url)`` of an item.

    An archive capture (its URL, else its canonical URL, is a capture) counts for the outlet of the page it keeps,
    and ``captured_url`` is that page's URL; otherwise the outlet is the canonical URL's, else the URL's, and
    ``captured_url`` is None.
    """
    captured = captured_url(url) or captured_url(canonical_url)
    if captured is not None:
        return outlet_of(captured), captured
    return outlet_of(canonical_url) or outlet_of(url), None
