"""Article metadata read from a parsed page: JSON-LD first, then meta tags, then visible markup.

Each value comes back with where it was found (``jsonld``, ``meta``, ``time_tag``, ``text``, ``url``) so the
clean stage can record provenance and fall back to what the input item says when the page is silent.
Publishers' structured data (schema.org JSON-LD, Open Graph, Dublin Core, Parse.ly, Sailthru) is preferred to
anything inferred from visible text because it is what the publisher states about the article itself.
"""

from __future__ import annotations

import html
import json
import re
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

from lxml.html import HtmlElement

from tasks.records import REPAIR_BAD_UTC_OFFSET, REPAIR_IMPLAUSIBLE_DATE, REPAIR_UNPARSEABLE_DATE

# schema.org types that describe the article itself (not the site, the breadcrumb or a video on the page).
ARTICLE_TYPES = frozenset(
    {
        "article",
        "newsarticle",
        "reportagenewsarticle",
        "analysisnewsarticle",
        "opinionnewsarticle",
        "backgroundnewsarticle",
        "reviewnewsarticle",
        "askpublicnewsarticle",
        "blogposting",
        "liveblogposting",
        "socialmediaposting",
        "techarticle",
        "scholarlyarticle",
        "report",
        "medicalwebpage",
    }
)
# Types whose datePublished / headline describe the page when no article node exists.
PAGE_TYPES = frozenset({"webpage", "itempage", "collectionpage", "videoobject"})

# Meta names carrying the publication time, best first (Open Graph article, schema itemprop, Dublin Core,
# Parse.ly, Sailthru, Google Scholar, and common CMS names).
PUBLISHED_META = (
    "article:published_time",
    "og:article:published_time",
    "datepublished",
    "article.published",
    "published_time",
    "parsely-pub-date",
    "sailthru.date",
    "dc.date.issued",
    "dcterms.issued",
    "dc.date",
    "dcterms.date",
    "dcterms.created",
    "date",
    "pubdate",
    "publishdate",
    "publish-date",
    "publish_date",
    "publication_date",
    "citation_publication_date",
    "og:pubdate",
    "cxenseparse:recs:publishtime",
    "release_date",
)
MODIFIED_META = (
    "article:modified_time",
    "og:updated_time",
    "datemodified",
    "dcterms.modified",
    "last-modified",
    "article.updated",
)
AUTHOR_META = (
    "author",
    "article:author",
    "parsely-author",
    "sailthru.author",
    "byl",
    "dc.creator",
    "dcterms.creator",
    "citation_author",
    "cxenseparse:author",
    "twitter:creator",
)

# Oldest and newest plausible publication years: older values are placeholders (1970 epochs, 1900 defaults).
MIN_YEAR = 1990
MAX_FUTURE_YEARS = 1

_WS = re.compile(r"\s+")
_URL_DATE = re.compile(r"/(20\d\d|19\d\d)[/-](0[1-9]|1[0-2])[/-](0[1-9]|[12]\d|3[01])(?:/|[^\d]|$)")
_URL_DATE_COMPACT = re.compile(r"[/_-](20\d\d)(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(?:[/_.-]|$)")
_EPOCH = re.compile(r"^\d{10}(\d{3})?$")

# ---------------------------------------------------------------- author cleaning

# Words that make a byline fragment a job title or a desk, not a person ("Senior Reporter", "Staff").
_ROLE_WORDS = frozenset(
    {
        "reporter",
        "reporters",
        "correspondent",
        "editor",
        "editors",
        "writer",
        "writers",
        "staff",
        "contributor",
        "contributors",
        "columnist",
        "journalist",
        "journalists",
        "redakteur",
        "redakteurin",
        "korrespondent",
        "korrespondentin",
        "redaktion",
        "newsroom",
        "desk",
        "team",
        "bureau",
        "chief",
        "senior",
        "producer",
        "photographer",
        "analyst",
        "intern",
        "updated",
        "published",
        "email",
        "e-mail",
        "follow",
        "twitter",
        "facebook",
        "instagram",
        "linkedin",
        "more",
        "articles",
        "author",
        "authors",
        "opinion",
        "contributing",
        "special",
        "guest",
        "associate",
        "deputy",
        "managing",
        "political",
        "investigative",
    }
)
# Byline lead-ins in the languages a monitor meets ("By", "Von", "Por", "Par", "Di", "Door", "Av", ...).
_BYLINE_PREFIX = re.compile(
    r"^\s*(?:(?:written|reported|posted|reporting|text|words|story|interview)\s+)?"
    r"(?:by|von|por|par|di|da|door|av|af|przez|autor(?:in|a)?|author|auteur|text|texto|de)\s*[:\-–—]?\s+",
    re.IGNORECASE,
)
_LABEL_PREFIX = re.compile(r"^\s*(?:autor(?:in|a)?|author|auteur|text|texto|byline)\s*[:\-–—]\s*", re.IGNORECASE)
_EMAIL = re.compile(r"\S+@\S+\.\w+")
_HANDLE = re.compile(r"(?:^|\s)@\w+")
_URLISH = re.compile(r"https?://\S+|www\.\S+")
_SPLIT = re.compile(r"\s*(?:,|;|\||/|\s&\s|\s\+\s|\band\b|\bund\b|\by\b|\bet\b|\be\b|\bi\b|\bog\b|\ben\b)\s*")
_DIGITS = re.compile(r"\d")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
# Longest plausible name: five words ("Maria de los Santos Pérez"); longer fragments are sentences.
MAX_NAME_WORDS = 5


def _norm(value: str) -> str:
    return _WS.sub(" ", html.unescape(value)).strip()


def _clean_author_fragment(fragment: str, site_names: set[str]) -> str | None:
    """Return a person name from one byline fragment, or None when it is not one."""
    name = _norm(fragment).strip(" -–—:·•,.|")
    name = _LABEL_PREFIX.sub("", name)
    for _ in range(2):
        name = _BYLINE_PREFIX.sub("", name)
    name = name.strip(" -–—:·•,.|()[]")
    if not name or name.casefold() in site_names:
        return None
    if _CJK.search(name):
        return name if len(name) <= 20 else None
    words = name.split()
    if len(words) > MAX_NAME_WORDS or _DIGITS.search(name):
        return None
    roles = [i for i, w in enumerate(words) if w.casefold().strip(".,") in _ROLE_WORDS]
    if roles:
        # "Jane Doe Senior Reporter" keeps the name before the title; "Staff Writer" alone is dropped.
        words = words[: roles[0]]
        if len(words) < 2:
            return None
        name = " ".join(words)
    if not any(ch.isalpha() for ch in name) or not any(ch.isupper() for ch in name):
        return None
    return name


def clean_authors(raw: Iterable[str], site_names: Iterable[str] = ()) -> tuple[str, ...]:
    """Return clean person names from raw byline strings, in order and without duplicates.

    Drops "By"/"Von"/"Por" lead-ins, emails, handles, URLs, job titles ("Senior Reporter"), "Staff" and
    the site's own name; splits "A and B", "A, B", "A & B"; keeps agency bylines (AP, AFP, dpa) since those
    are the article's stated authors.
    """
    sites = {s.casefold() for s in site_names if s}
    names: list[str] = []
    seen: set[str] = set()
    for value in raw:
        if not value or _URLISH.fullmatch(value.strip()):
            continue
        text = _URLISH.sub(" ", _EMAIL.sub(" ", _norm(value)))
        text = _HANDLE.sub(" ", text)
        text = re.sub(r"(?i)\b(?:email|e-mail|follow|contact)\s+(?:the\s+)?(?:author|me|us)\b", " ", text)
        for fragment in _SPLIT.split(text):
            name = _clean_author_fragment(fragment, sites)
            if name and name.casefold() not in seen:
                seen.add(name.casefold())
                names.append(name)
    return tuple(names)


# ---------------------------------------------------------------- dates


def parse_datetime(value: str | None, *, now: datetime | None = None) -> tuple[datetime, bool] | None:
    """Return ``(utc_datetime, timezone_known)`` for a date string in any common format, or None.

    Accepts ISO 8601 (with or without offset, date only), RFC 2822 (feeds, HTTP), Unix epochs and free
    text such as "May 2, 2024 10:00 AM". A value without a timezone is read as UTC and flagged unknown.
    Years before 1990 or more than a year ahead of ``now`` are placeholders and give None. See
    :func:`read_datetime` for why a value gave None.
    """
    return read_datetime(value, now=now)[0]


def read_datetime(value: str | None, *, now: datetime | None = None) -> tuple[tuple[datetime, bool] | None, str | None]:
    """Return what :func:`parse_datetime` returns and the repair code of a bad value, None for a good one.

    A bad value gives no datetime: ``unparseable_date`` (no format reads it), ``implausible_date`` (a
    placeholder year) or ``bad_utc_offset`` (an offset of a day or more, such as ``+25:00``: which part was
    mistyped, the time or the offset, cannot be told, so the value is not trusted at all). An empty value is no
    value, not a bad one: ``(None, None)``.
    """
    if value is None:
        return None, None
    text = _norm(str(value))
    if not text:
        return None, None
    parsed = _parse_datetime_text(text) if len(text) <= 80 else None
    if parsed is None:
        return None, REPAIR_UNPARSEABLE_DATE
    try:
        offset = parsed.utcoffset()
    except ValueError:  # datetime refuses offsets of 24 hours or more only when asked for them
        return None, REPAIR_BAD_UTC_OFFSET
    tz_known = parsed.tzinfo is not None and offset is not None
    try:
        result = parsed.astimezone(UTC) if tz_known else parsed.replace(tzinfo=UTC)
    except (OverflowError, ValueError):  # year 1 or 9999 shifted past the calendar's ends
        return None, REPAIR_IMPLAUSIBLE_DATE
    limit = (now or datetime.now(UTC)).year + MAX_FUTURE_YEARS
    if not MIN_YEAR <= result.year <= limit:
        return None, REPAIR_IMPLAUSIBLE_DATE
    return (result, tz_known), None


# dateutil warns on every zone name it cannot map ("MEZ", "CEST") and returns the time without a zone, which
# is read as UTC and flagged published_tz_known=False: the warning adds only noise to the run's log.
warnings.filterwarnings("ignore", message=r"tzname \S+ identified but not understood")


def _parse_datetime_text(text: str) -> datetime | None:
    if _EPOCH.match(text):
        seconds = int(text) / (1000 if len(text) == 13 else 1)
        return datetime.fromtimestamp(seconds, UTC)
    iso = text.replace(" T", "T")
    try:
        return datetime.fromisoformat(iso)
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        pass
    try:
        from dateutil import parser as date_parser

        result: datetime = date_parser.parse(text, fuzzy=False)
        return result
    except (ValueError, OverflowError, TypeError, LookupError):
        return None


def date_from_url(url: str | None) -> str | None:
    """Return ``YYYY-MM-DD`` when the URL path carries a date (``/2024/05/02/`` or ``-20240502``)."""
    if not url:
        return None
    try:
        path = urlsplit(url).path
    except ValueError:
        return None
    match = _URL_DATE.search(path) or _URL_DATE_COMPACT.search(path)
    return f"{match.group(1)}-{match.group(2)}-{match.group(3)}" if match else None


# ---------------------------------------------------------------- page metadata


@dataclass(frozen=True, slots=True)
class Found:
    """A metadata value and where it was found (a provenance value)."""

    value: str
    origin: str


@dataclass(frozen=True, slots=True)
class PageMetadata:
    """What a page says about its article. Dates are raw strings; the clean stage parses them."""

    title: Found | None = None
    authors: tuple[str, ...] = ()
    authors_origin: str | None = None
    published: Found | None = None
    modified: Found | None = None
    canonical_url: Found | None = None
    site_name: Found | None = None
    top_image: Found | None = None
    section: Found | None = None
    keywords: tuple[str, ...] = ()
    keywords_origin: str | None = None
    description: Found | None = None
    language: Found | None = None
    article_body: str | None = None
    declared_word_count: int | None = None
    accessible_for_free: bool | None = None


def _jsonld_objects(tree: HtmlElement) -> list[dict[str, Any]]:
    """Return every JSON-LD object on the page (``@graph`` and nested lists flattened one level)."""
    found: list[dict[str, Any]] = []
    for script in tree.iter("script"):
        if "ld+json" not in (script.get("type") or "").lower():
            continue
        raw = (script.text or "").strip()
        if raw.startswith("<!--"):
            raw = raw[4:].removesuffix("-->")
        raw = raw.strip().removeprefix("//<![CDATA[").removesuffix("//]]>").strip()
        try:
            data = json.loads(raw, strict=False)
        except ValueError:
            continue
        stack: list[Any] = [data]
        while stack:
            node = stack.pop(0)
            if isinstance(node, list):
                stack.extend(node)
            elif isinstance(node, dict):
                found.append(node)
                graph = node.get("@graph")
                if isinstance(graph, list):
                    stack.extend(graph)
                main = node.get("mainEntity")
                if isinstance(main, dict):
                    stack.append(main)
    return found


def _types(node: dict[str, Any]) -> set[str]:
    value = node.get("@type")
    values = value if isinstance(value, list) else [value]
    return {str(v).casefold() for v in values if v}


def _text_of(value: Any) -> str | None:
    """Return a string from a JSON-LD value that may be a string, a list or an object with a name."""
    if isinstance(value, str):
        text = _norm(value)
        return text or None
    if isinstance(value, list):
        return next((found for item in value if (found := _text_of(item))), None)
    if isinstance(value, dict):
        keys = ("name", "@value", "url", "contentUrl", "@id")
        return next((found for key in keys if (found := _text_of(value.get(key)))), None)
    return None


def _jsonld_people(value: Any) -> Iterator[str]:
    """Yield author names from a JSON-LD author value, skipping organisations."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _jsonld_people(item)
    elif isinstance(value, dict):
        if _types(value) & {"organization", "newsmediaorganization", "corporation"}:
            return
        name = value.get("name")
        if isinstance(name, str):
            yield name
        elif isinstance(name, list):
            yield from (n for n in name if isinstance(n, str))


def _pick_article(objects: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Return the JSON-LD node describing the article: an article type, preferring one with a body."""
    articles = [o for o in objects if _types(o) & ARTICLE_TYPES]
    if articles:
        return max(articles, key=lambda o: (bool(o.get("articleBody")), bool(o.get("headline"))))
    pages = [o for o in objects if _types(o) & PAGE_TYPES and (o.get("datePublished") or o.get("headline"))]
    return pages[0] if pages else None


def _meta_map(tree: HtmlElement) -> dict[str, list[str]]:
    """Return meta values by lower-cased name/property/itemprop, in page order."""
    metas: dict[str, list[str]] = {}
    for meta in tree.iter("meta"):
        content = meta.get("content")
        if content is None or not content.strip():
            continue
        for attr in ("property", "name", "itemprop", "http-equiv"):
            key = meta.get(attr)
            if key:
                metas.setdefault(key.strip().casefold(), []).append(_norm(content))
    return metas


def _first_meta(metas: dict[str, list[str]], names: Iterable[str]) -> str | None:
    for name in names:
        for value in metas.get(name, ()):
            if value:
                return value
    return None


def _time_tag(tree: HtmlElement) -> str | None:
    """Return the datetime of the page's publication <time>: itemprop/pubdate first, else one in the article."""
    first_in_article: str | None = None
    for node in tree.iter("time"):
        stamp = node.get("datetime") or ""
        if not stamp.strip():
            continue
        if (node.get("itemprop") or "").casefold() == "datepublished" or node.get("pubdate") is not None:
            return stamp
        if first_in_article is None and any(
            a.tag in ("article", "header", "main") for a in node.iterancestors() if isinstance(a.tag, str)
        ):
            first_in_article = stamp
    return first_in_article


def _byline_texts(tree: HtmlElement) -> list[str]:
    """Return visible byline texts: itemprop=author names, rel=author links, then elements classed byline."""
    texts: list[str] = []
    for node in tree.xpath('//*[@itemprop="author"]'):
        named = node.xpath('.//*[@itemprop="name"]')
        value = named[0].get("content") or named[0].text_content() if named else node.text_content()
        if value and value.strip():
            texts.append(value)
    if texts:
        return texts
    for node in tree.xpath('//a[@rel="author"]'):
        texts.append(node.text_content())
    if texts:
        return texts
    for node in tree.xpath(
        '//*[contains(@class,"byline__name") or contains(@class,"author-name") or contains(@class,"authorName")]'
    )[:3]:
        texts.append(node.text_content())
    return texts


def _clean_title(title: str, site_name: str | None) -> str:
    """Return ``title`` without a trailing or leading site name (``Story | Site``, ``Site - Story``)."""
    title = _norm(title)
    for sep in (" | ", " - ", " – ", " — ", " :: ", " · ", " » "):
        if sep not in title:
            continue
        head, _, tail = title.rpartition(sep)
        if site_name and tail.casefold() == site_name.casefold() and head:
            return head.strip()
        start, _, rest = title.partition(sep)
        if site_name and start.casefold() == site_name.casefold() and rest:
            return rest.strip()
    return title


def extract_page_metadata(tree: HtmlElement, page_url: str | None = None) -> PageMetadata:
    """Return the metadata a parsed page declares, each value with its origin."""
    objects = _jsonld_objects(tree)
    article = _pick_article(objects) or {}
    metas = _meta_map(tree)

    site: Found | None = None
    if value := _first_meta(metas, ("og:site_name", "application-name", "twitter:site")):
        site = Found(value.lstrip("@"), "meta")
    else:
        publisher = _text_of(article.get("publisher")) if article else None
        websites = [o for o in objects if "website" in _types(o)]
        name = publisher or (_text_of(websites[0].get("name")) if websites else None)
        if name and not name.startswith("http"):
            site = Found(name, "jsonld")
    site_name = site.value if site else None

    title: Found | None = None
    if headline := _text_of(article.get("headline")) or _text_of(article.get("name")):
        title = Found(_clean_title(headline, site_name), "jsonld")
    elif value := _first_meta(metas, ("og:title", "twitter:title", "dc.title", "headline")):
        title = Found(_clean_title(value, site_name), "meta")
    else:
        h1 = tree.xpath("//h1")
        heading = _norm(h1[0].text_content()) if h1 else ""
        title_node = tree.find(".//title")
        page_title = _norm(title_node.text_content()) if title_node is not None else ""
        if heading:
            title = Found(heading, "text")
        elif page_title:
            title = Found(_clean_title(page_title, site_name), "meta")

    authors: tuple[str, ...] = ()
    authors_origin: str | None = None
    site_names = [s for s in (site_name, _text_of(article.get("publisher"))) if s]
    candidates: list[tuple[list[str], str]] = [
        (list(_jsonld_people(article.get("author"))), "jsonld"),
        ([v for n in AUTHOR_META for v in metas.get(n, ())], "meta"),
        (_byline_texts(tree), "text"),
    ]
    for raw, origin in candidates:
        authors = clean_authors(raw, site_names)
        if authors:
            authors_origin = origin
            break

    published: Found | None = None
    if stamp := _text_of(article.get("datePublished")) or _text_of(article.get("dateCreated")):
        published = Found(stamp, "jsonld")
    elif stamp := _first_meta(metas, PUBLISHED_META):
        published = Found(stamp, "meta")
    elif stamp := _time_tag(tree):
        published = Found(stamp, "time_tag")
    modified: Found | None = None
    if stamp := _text_of(article.get("dateModified")):
        modified = Found(stamp, "jsonld")
    elif stamp := _first_meta(metas, MODIFIED_META):
        modified = Found(stamp, "meta")

    canonical: Found | None = None
    for link in tree.iter("link"):
        if "canonical" in (link.get("rel") or "").casefold().split() and (href := (link.get("href") or "").strip()):
            canonical = Found(urljoin(page_url or "", href), "meta")
            break
    if canonical is None and (og_url := _first_meta(metas, ("og:url",))):
        canonical = Found(urljoin(page_url or "", og_url), "meta")

    image: Found | None = None
    if value := _first_meta(metas, ("og:image", "og:image:url", "twitter:image", "twitter:image:src")):
        image = Found(urljoin(page_url or "", value), "meta")
    elif value := _text_of(article.get("image")) or _text_of(article.get("thumbnailUrl")):
        image = Found(value, "jsonld")

    section: Found | None = None
    if value := _first_meta(metas, ("article:section", "section", "parsely-section")):
        section = Found(value, "meta")
    elif value := _text_of(article.get("articleSection")):
        section = Found(value, "jsonld")

    keywords: tuple[str, ...] = ()
    keywords_origin: str | None = None
    raw_keywords = metas.get("news_keywords") or metas.get("keywords") or metas.get("article:tag")
    if raw_keywords:
        keywords_origin = "meta"
    elif article.get("keywords"):
        kw = article["keywords"]
        raw_keywords = [k for k in kw if isinstance(k, str)] if isinstance(kw, list) else [str(kw)]
        keywords_origin = "jsonld"
    if raw_keywords:
        split = [_norm(k) for value in raw_keywords for k in re.split(r"[,;]", value)]
        keywords = tuple(dict.fromkeys(k for k in split if k and len(k) <= 80))

    description: Found | None = None
    if value := _first_meta(metas, ("og:description", "description", "twitter:description")):
        description = Found(value, "meta")
    elif value := _text_of(article.get("description")):
        description = Found(value, "jsonld")

    language: Found | None = None
    root = tree.getroottree().getroot()
    if lang := (root.get("lang") or root.get("xml:lang") or "").strip():
        language = Found(lang, "meta")
    elif value := _first_meta(metas, ("content-language", "og:locale", "dc.language", "language")):
        language = Found(value, "meta")
    elif value := _text_of(article.get("inLanguage")):
        language = Found(value, "jsonld")

    body = article.get("articleBody")
    word_count = article.get("wordCount")
    free = article.get("isAccessibleForFree")
    return PageMetadata(
        title=title,
        authors=authors,
        authors_origin=authors_origin,
        published=published,
        modified=modified,
        canonical_url=canonical,
        site_name=site,
        top_image=image,
        section=section,
        keywords=keywords,
        keywords_origin=keywords_origin,
        description=description,
        language=language,
        article_body=html.unescape(body) if isinstance(body, str) and body.strip() else None,
        declared_word_count=_as_int(word_count),
        accessible_for_free=_as_bool(free),
    )


def _as_int(value: Any) -> int | None:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def _as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().casefold() in ("true", "false"):
        return value.strip().casefold() == "true"
    return None
