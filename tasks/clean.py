"""Clean stage: one raw item (page bytes or plain text) in, main text plus metadata with provenance out.

An HTML item is decoded by :mod:`tasks.decode` (byte-order mark, valid UTF-8, HTTP header charset,
``<meta charset>``, detection), parsed once, its metadata read from JSON-LD / meta tags / markup
(:mod:`tasks.metadata`), and its main text chosen among three extractors by their agreement
(:mod:`tasks.maintext`; comments off) after each is rid of boilerplate paragraphs that extractors keep across
sites ("Read more: ...", newsletter and subscription calls, copyright lines); a standfirst the page shows apart
from the body is put first. The language is the declared one checked by detection
(:mod:`tasks.language`). A plain-text item is taken as given (:mod:`tasks.load` decoded it).

Every failure is a :class:`~tasks.records.Rejection` with one of the ``REASON_*`` codes below, never an
exception. A bad value outside the main text (an unreadable date, a lone surrogate in a title) is repaired or
dropped and noted in ``Article.repairs`` (codes in :mod:`tasks.records`); only an item without usable text is
rejected. :func:`clean_items` runs extraction in child processes so a pathological page is stopped after
``timeout_seconds`` (a thread cannot be stopped in Python, and Prefect runs tasks in worker threads).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from tasks.decode import DecodeError, bom_codec, decode_bytes
from tasks.ids import content_hash, make_article_id
from tasks.language import resolve_language
from tasks.maintext import extract_main_text, members_version
from tasks.metadata import Found, PageMetadata, date_from_url, extract_page_metadata, read_datetime
from tasks.records import (
    REPAIR_CONTROL_CHARACTERS,
    REPAIR_LONE_SURROGATE,
    STAGE_CLEAN,
    Article,
    RawItem,
    Rejection,
    describe_error,
    repair_surrogates,
    with_repairs,
)
from tasks.urls import canonicalize_url, site_of
from tasks.workers import JobLost, WorkerPool, serve

REASON_EMPTY_PAYLOAD = "empty_payload"
REASON_BINARY_PAYLOAD = "binary_payload"
REASON_NOT_HTML = "not_html"
REASON_DECODE_ERROR = "decode_error"
REASON_NO_MAIN_TEXT = "no_main_text"
REASON_TOO_SHORT = "too_short"
REASON_TOO_LARGE = "too_large"
REASON_TEXT_TOO_LONG = "text_too_long"
REASON_EXTRACT_TIMEOUT = "extract_timeout"
REASON_EXTRACT_ERROR = "extract_error"

# The extractor column of a plain-text item, taken as given.
EXTRACTOR_PLAIN_TEXT = "plain_text"

TEASER_PAYWALL_MARKER = "paywall_marker"
TEASER_DECLARED_BODY = "shorter_than_declared_body"
TEASER_DECLARED_WORD_COUNT = "shorter_than_declared_word_count"
TEASER_NOT_FREE = "not_accessible_for_free"


@dataclass(frozen=True, slots=True)
class CleanOptions:
    """Settings of the clean stage."""

    # Fewest words of main text extracted from an HTML page: a news brief runs 40+ words; below 25 words what
    # is left is a caption, a teaser line or an error page. Text items have no floor.
    min_words: int = 25
    # Per-document budget, enforced by killing the child process that extracts it (see clean_items).
    timeout_seconds: float = 5.0
    # Child processes used by clean_items; 0 extracts in the calling thread (no hard time limit, only the
    # size pre-checks below). 2 matches the 2-core target machine.
    workers: int = 2
    # Real article pages stay under 3 MB (largest of 1,022 benchmark pages: 2.2 MB); trafilatura's cost grows
    # faster than linearly, so a 10 MB page cannot be extracted within the budget anyway.
    max_payload_bytes: int = 10_000_000
    # Tag count above which extraction would exceed the budget (5 MB of 100,000 paragraphs takes 26 s);
    # the largest benchmark page has about 40,000 tags.
    max_tags: int = 120_000
    # Longest main text kept, in characters. The longest of the 976 real article texts in the dedup set runs
    # 37,289 characters and a 10,000-word long read about 60,000, so 500,000 is a book-length dump (a whole
    # feed or transcript in one item), not an article; spaCy refuses texts over its max_length (1,000,000 by
    # default, error E088) and its cost grows with length, so such a text is rejected here, before the NLP
    # stage, which raises the model's max_length to this limit when it is set higher.
    max_text_chars: int = 500_000
    # Tables carry data in news (results, figures); trafilatura keeps them as text rows.
    include_tables: bool = True
    # Drop paragraphs matching cross-site boilerplate (newsletter, "Read more:", subscription calls): gains
    # 1.9 points of pass rate on the extraction set with no snippet lost.
    drop_boilerplate: bool = True
    # Put the standfirst (the meta description, when the page shows it as its own element) before the text.
    standfirst: bool = True
    # A text with fewer words than this share of the JSON-LD wordCount / articleBody is a teaser.
    teaser_ratio: float = 0.5
    # A page marked isAccessibleForFree=false whose text is below this many words is a teaser.
    paywalled_max_words: int = 150
    extra_boilerplate: tuple[str, ...] = field(default=())


# ---------------------------------------------------------------------------------------------- decoding

# Magic numbers of formats that are not text: PDF, PNG, GIF, JPEG, ZIP/Office, gzip, WebP/RIFF, MP4, OLE.
_BINARY_MAGIC = (b"%PDF", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"PK\x03\x04", b"\x1f\x8b", b"RIFF", b"\xd0\xcf")
_HTML_MARKER = re.compile(
    r"<\s*(?:!doctype|html|head|body|meta|title|div|p|article|section|main|span|a|table|h[1-6]|br|ul|script)\b",
    re.IGNORECASE,
)


def decode_html(payload: bytes, http_headers: Sequence[tuple[str, str]] = ()) -> tuple[str, str]:
    """Return ``(text, codec)`` for page bytes, read by the rule of :func:`tasks.decode.decode_bytes`.

    Raises :class:`~tasks.decode.DecodeError` (reason ``decode_error``) when no charset reads them.
    """
    decoded = decode_bytes(payload, http_headers)
    return decoded.text, decoded.codec


# C0 control bytes that text does not use (tab, line breaks, form feed and ESC, which ISO-2022 text uses, are
# left out), and the share of them above which bytes are binary: random or compressed bytes hold about 10 %, a
# page with a stray NUL from a broken CMS export well under 0.1 %.
_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 11, 12, 13, 27))
MAX_CONTROL_SHARE = 0.05


def _is_binary(payload: bytes) -> bool:
    """Return True for bytes that are a binary file rather than text (magic number, or a share of control bytes
    over ``MAX_CONTROL_SHARE``: one stray NUL in a page does not make it binary)."""
    if bom_codec(payload):
        return False
    head = payload[:4096]
    controls = len(head) - len(head.translate(None, _CONTROL_BYTES))
    return head.startswith(_BINARY_MAGIC) or controls > MAX_CONTROL_SHARE * len(head)


# ------------------------------------------------------------------------------------- text handling

_WS = re.compile(r"[ \t\r\f\v\u00a0\u2000-\u200b\u202f\u205f\u3000]+")
_CJK_CHAR = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_NON_CJK_WORD = re.compile(r"[^\s\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")

# Paragraphs that sites add around articles, in the languages a monitor meets: cross-links, newsletter and
# app calls, subscription walls, comment invitations, copyright lines. Only short paragraphs are tested
# (an article paragraph that quotes such a phrase is longer than MAX_BOILERPLATE_WORDS).
_BOILERPLATE = re.compile(
    r"""^(?:
        (?:read|see|watch|listen)\s+(?:more|also|next)\b.{0,200}$
      | (?:related|recommended|more)\s*(?:stories|articles|reading|coverage|on\s+this)\s*:?.{0,200}$
      | also\s+read\s*:.{0,200}$
      | (?:lea|lee|vea|ver|mira)\s+(?:también|más|además)\b.{0,200}$
      | (?:lea|lee)\s*:.{0,200}$
      | (?:lesen\s+sie\s+(?:auch|mehr|hier)|mehr\s+zum\s+thema|auch\s+interessant)\b.{0,200}$
      | (?:lire\s+aussi|à\s+lire\s+aussi|voir\s+aussi)\b.{0,200}$
      | (?:leggi\s+anche|leia\s+(?:também|mais))\b.{0,200}$
      | (?=.*\b(?:sign\s*up|subscribe|suscr[ií]b|abonn|anmelden)).*\b(?:newsletter|by\s+e-?mail|inbox|boletín)\b.*$
      | (?=.*\b(?:newsletter|by\s+e-?mail|inbox|boletín)).*\b(?:sign\s*up|subscribe|suscr[ií]b|abonn|anmelden).*$
      | \(?(?:photo|image|picture|credit|foto|bild|quelle|source|imagen|crédito)s?(?:\s+credit)?\s*:.{0,80}$
      | .{0,120}\bwe\s+may\s+(?:receive|earn)\s+(?:a\s+)?(?:compensation|commission)\b.*$
      | (?:https?://)?(?:www\.)?[\w-]+(?:\.[\w-]+)*\.[a-z]{2,6}/?
      | \(?[^\W\d_]{2,10}(?:\s?/\s?[^\W\d_]{2,10}){1,3}\)?
      | (?:never|don'?t)\s+miss\b.{0,200}$
      | follow\s+(?:us|the\s+\w+|\w+)\s+on\s+(?:twitter|facebook|instagram|x\b|linkedin|tiktok|google\s+news).*$
      | .{0,60}\b(?:download|get)\s+(?:the|our)\s+.{0,40}\bapps?\b.*$
      | .{0,80}\bsubscribe\s+(?:now|today)\b.*$
      | .{0,60}\b(?:to\s+(?:view|read|continue)|continue\s+reading|keep\s+reading)
        .{0,40}\b(?:subscribe|subscriber|log\s*in|sign\s*in|register)\b.*$
      | .{0,80}\balready\s+a\s+subscriber\b.*$
      | (?:would\s+you\s+like\s+to|want\s+to|we\s+want\s+to\s+hear).{0,60}\b(?:comment|think|hear)\b.*$
      | (?:join|leave)\s+(?:the|a)\s+(?:conversation|discussion|comment).*$
      | (?:©|\(c\)|copyright)\s*.{0,160}$
      | .{0,120}\ball\s+rights\s+reserved\.?$
      | (?:abonnieren\s+sie|jetzt\s+abonnieren|jetzt\s+registrieren).*$
      | (?:suscríbete|hazte\s+(?:miembro|socio)|abonnez-vous).*$
      | advertisement|anzeige|publicidad|publicité|werbung|sponsored
      | share\s+(?:this|on)\b.{0,60}$
    )""",
    re.IGNORECASE | re.VERBOSE,
)
# Paywall notices: the page shows a teaser and asks to subscribe or log in.
_PAYWALL = re.compile(
    r"""(?:
        to\s+(?:view|read|continue\s+reading)\s+(?:the\s+full|this|the\s+rest).{0,40}\b(?:subscribe|subscriber|log\s*in|sign\s*in)
      | subscribe\s+(?:now\s+)?(?:to|for)\s+.{0,40}\bfull\s+(?:story|article)
      | (?:this|the\s+full)\s+(?:article|story|content)\s+is\s+(?:only\s+)?(?:available|reserved)
        \s+(?:to|for)\s+(?:subscribers|members)
      | already\s+a\s+subscriber\?
      | dieser\s+(?:artikel|beitrag|inhalt)\s+ist\s+(?:nur\s+)?(?:für|exklusiv\s+für)\s+abonnent
      | (?:weiterlesen|lesen\s+sie\s+weiter)\s+mit\s+\w*(?:plus|abo)
      | (?:contenido|artículo)\s+(?:exclusivo\s+)?para\s+suscriptores
      | (?:article|contenu)\s+réservé\s+aux\s+abonnés
    )""",
    re.IGNORECASE | re.VERBOSE,
)
# Longest paragraph the boilerplate rules apply to: such notices are one or two sentences.
MAX_BOILERPLATE_WORDS = 40
# Headings that introduce a list of links to other articles ("Read more:", "Lue aiheesta lisää:",
# "Contenido relacionado"), and the longest headline such a list holds.
_LINKS_HEAD = re.compile(
    r"""^(?:
        (?:read|see)\s+(?:more|also)(?:\s+(?:on|about)\s+(?:this|the)\s+(?:topic|subject))?\s*:?
      | (?:related|recommended|more)\s+(?:stories|articles|content|reading|coverage|news)\s*:?
      | (?:related|more\s+on\s+this(?:\s+story)?)\s*:?
      | (?:lesen\s+sie\s+(?:auch|mehr)|mehr\s+zum\s+thema|das\s+könnte\s+sie\s+auch\s+interessieren)\s*:?
      | (?:contenido|artículos?|noticias?)\s+relacionad[oa]s?\s*:?
      | (?:lea|lee|vea)\s+(?:también|más)\s*:?
      | (?:lire\s+aussi|à\s+lire\s+aussi|sur\s+le\s+même\s+sujet)\s*:?
      | (?:leggi\s+anche|leia\s+(?:também|mais))\s*:?
      | lue\s+(?:myös|aiheesta\s+lisää|lisää)\s*:?
      | (?:läs\s+(?:också|mer)|les\s+(?:også|mer)|læs\s+(?:også|mere))\s*:?
      | (?:lees\s+ook|czytaj\s+(?:też|także|więcej)|přečtěte\s+si\s+také|читайте\s+также)\s*:?
    )$""",
    re.IGNORECASE | re.VERBOSE,
)
MAX_LINK_WORDS = 25


def count_words(text: str) -> int:
    """Return the word count of ``text``; each Chinese/Japanese character counts as one word."""
    return len(_NON_CJK_WORD.findall(text)) + len(_CJK_CHAR.findall(text))


def _clean_line(line: str) -> str:
    return _WS.sub(" ", unicodedata.normalize("NFC", line)).strip()


# C0 control characters other than tab and line breaks: never text, and invisible when stored (a NUL the page
# or the export carried).
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0e-\x1f]")


def _strip_controls(text: str, repairs: list[str]) -> str:
    """Return ``text`` without C0 control characters, noting ``control_characters`` in ``repairs`` if any."""
    if not _CONTROL_CHARS.search(text):
        return text
    repairs.append(REPAIR_CONTROL_CHARACTERS)
    return _CONTROL_CHARS.sub("", text)


def split_paragraphs(text: str, *, blank_line_separated: bool = False) -> list[str]:
    """Return the non-empty paragraphs of ``text``, whitespace collapsed.

    With ``blank_line_separated`` the paragraphs are separated by blank lines and single line breaks are
    wrapped lines (plain-text files); otherwise every line is a paragraph (extractor output), except a line
    that goes on with the sentence the line before left open: an extractor keeps the line breaks of a paragraph
    whose source is wrapped by hand ("For nearly 4" / "years, Python 3 ..."), and a paragraph never opens on a
    lower-case word after a line that ends on a word, a number or a comma.
    """
    if blank_line_separated:
        blocks = re.split(r"\n\s*\n", text.replace("\r\n", "\n").replace("\r", "\n"))
        return [p for b in blocks if (p := _clean_line(b.replace("\n", " ")))]
    paragraphs: list[str] = []
    for line in text.splitlines():
        p = _clean_line(line)
        if not p:
            continue
        if paragraphs and _WRAPPED_ON.match(p) and _LEFT_OPEN.search(paragraphs[-1]):
            paragraphs[-1] += " " + p
        else:
            paragraphs.append(p)
    return paragraphs


# A line that ends mid-sentence, and one that goes on with it (see :func:`split_paragraphs`).
_LEFT_OPEN = re.compile(r"[\w,]$")
_WRAPPED_ON = re.compile(r"\(?[a-z]")


def drop_boilerplate(paragraphs: Sequence[str], extra: Sequence[re.Pattern[str]] = ()) -> tuple[list[str], bool]:
    """Return the paragraphs without boilerplate notices, and whether a paywall notice was among them.

    A "Read more:" / "Related" heading is dropped with the run of headline-like paragraphs (short, no final
    full stop) that follows it: those are links to other articles.
    """
    kept: list[str] = []
    paywalled = False
    in_links = False
    for paragraph in paragraphs:
        words = count_words(paragraph)
        if in_links and words <= MAX_LINK_WORDS and not paragraph.endswith((".", "!", "?", "。")):
            continue
        in_links = False
        if words <= MAX_LINK_WORDS and _LINKS_HEAD.match(paragraph):
            in_links = True
            continue
        if words <= MAX_BOILERPLATE_WORDS:
            if _PAYWALL.search(paragraph):
                paywalled = True
                continue
            if _BOILERPLATE.fullmatch(paragraph) or any(p.search(paragraph) for p in extra):
                continue
        kept.append(paragraph)
    return kept, paywalled


# ------------------------------------------------------------------------------------------ extraction


@lru_cache(maxsize=8)
def _extra_patterns(patterns: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p, re.IGNORECASE) for p in patterns)


def _reject(item: RawItem, reason: str, detail: str) -> Rejection:
    return Rejection(
        item_key=item.item_key,
        source_uri=item.source_uri,
        stage=STAGE_CLEAN,
        reason=reason,
        detail=detail[:500],
        payload=item.payload,
        external_id=item.external_id,
        url=item.url,
    )


# A description shorter than this is a slogan, not a standfirst.
MIN_LEAD_WORDS = 8


def _visible_lead(tree: Any, description: str) -> str | None:
    """Return the page's standfirst when the meta description is shown as its own element in the body.

    Extractors often drop the standfirst (set in the article header, apart from the body), while publishers
    count it as the article's lead; a description that only lives in <meta> is not article text.
    """
    lead = _clean_line(description)
    if count_words(lead) < MIN_LEAD_WORDS:
        return None
    body = tree.find("body")
    if body is None:
        return None
    probe = lead[:30]
    for node in body.iter("p", "h2", "h3", "div", "span", "strong"):
        own = node.text
        if node.tag in ("p", "h2", "h3") or (own and _clean_line(own).startswith(probe)):
            shown = _clean_line(node.text_content())
            if shown.startswith(probe) and (
                shown == lead or (shown.startswith(lead[:-3].rstrip(".…")) and len(shown) <= len(lead) * 1.2)
            ):
                return shown
    return None


def _extract_main_text(
    tree: Any, html: str, url: str | None, meta: PageMetadata, options: CleanOptions
) -> tuple[str, bool, str]:
    """Return the main text (paragraphs joined by blank lines), whether a paywall notice was seen, and which
    extractor gave the text (:attr:`tasks.maintext.MainText.extractor`).

    Boilerplate paragraphs are dropped from every member's text before the members are compared, so that the
    comparison is about the article, not about which of them kept a "Read more:" line.
    """
    paywalled = False
    extra = _extra_patterns(options.extra_boilerplate)

    def tidy(raw: str) -> str:
        nonlocal paywalled
        if not options.drop_boilerplate:
            return raw
        kept, notice = drop_boilerplate(split_paragraphs(raw), extra)
        paywalled = paywalled or notice
        return "\n".join(kept)

    chosen = extract_main_text(tree, html, url, include_tables=options.include_tables, tidy=tidy)
    paragraphs, extractor = split_paragraphs(chosen.text), chosen.extractor
    if options.standfirst and meta.description and paragraphs and (lead := _visible_lead(tree, meta.description.value)):
        opening = " ".join(paragraphs[:3])
        if lead[:60] not in opening:
            paragraphs.insert(0, lead)
    return "\n\n".join(paragraphs), paywalled, extractor


def _parse_html(decoded: str) -> Any:
    """Return the lxml tree of a page that passed the markup check (:data:`_HTML_MARKER`), or None when the
    parser builds no element at all.

    The markup check is the one rule for what is HTML. trafilatura's loader adds a guess of its own: it drops a
    tree with a single top-level element when "html" is not among the first 50 characters. That refuses real
    pages lxml reads whole, such as one opening with a long comment or a cut-off declaration before a
    ``<body>`` and no ``<head>`` ("<!-- cached 2024-03-05 by edge-7 --><body><p>...").
    Such a page is parsed again the way the loader parses, without the guess.
    """
    from trafilatura.utils import fromstring_bytes, load_html, repair_faulty_html

    tree = load_html(decoded)
    if tree is None:
        tree = fromstring_bytes(repair_faulty_html(decoded, decoded[:50].lower()))
    return tree


def _published(
    meta: PageMetadata, item: RawItem, url: str | None, repairs: list[str]
) -> tuple[datetime | None, bool | None, str | None]:
    """Return the publication time in UTC, whether its timezone was known, and its provenance.

    A declared time that cannot be read is passed over for the next source (page, input item, URL) and its
    repair code added to ``repairs``; a date guessed from the URL that does not read is no repair.
    """
    candidates: list[tuple[str | None, str]] = []
    if meta.published:
        candidates.append((meta.published.value, meta.published.origin))
    if item.published_at:
        origin = item.published_at_source if item.published_at_source in _ORIGINS else "input"
        candidates.append((item.published_at, origin))
    candidates.append((date_from_url(url), "url"))
    for raw, origin in candidates:
        parsed, repair = read_datetime(raw, now=item.fetched_at)
        if repair and origin != "url":
            repairs.append(repair)
        if parsed:
            return parsed[0], parsed[1], origin
    return None, None, None


_ORIGINS = frozenset({"jsonld", "meta", "time_tag", "feed", "url", "text", "http_header", "input", "detected"})


def _canonical(meta: PageMetadata, item: RawItem) -> tuple[str | None, str | None]:
    """Return the canonical URL and its provenance; a canonical pointing at a site's home page is ignored."""
    if meta.canonical_url:
        url = canonicalize_url(meta.canonical_url.value)
        given = canonicalize_url(item.url) if item.url else None
        # Some CMS templates point every page's canonical at the home page: keep the item's own URL then.
        home_page = url is not None and given is not None and _path(url) == "/" and _path(given) != "/"
        if url and not home_page:
            return url, meta.canonical_url.origin
    if item.url and (url := canonicalize_url(item.url)):
        return url, "input"
    return None, None


def _path(url: str) -> str:
    return urlsplit(url).path or "/"


def _teaser(meta: PageMetadata, words: int, paywalled: bool, options: CleanOptions) -> str | None:
    """Return why the text is only a teaser of the article, or None when it looks complete."""
    if paywalled:
        return TEASER_PAYWALL_MARKER
    if meta.article_body and words < options.teaser_ratio * count_words(meta.article_body):
        return TEASER_DECLARED_BODY
    if meta.declared_word_count and words < options.teaser_ratio * meta.declared_word_count:
        return TEASER_DECLARED_WORD_COUNT
    if meta.accessible_for_free is False and words < options.paywalled_max_words:
        return TEASER_NOT_FREE
    return None


def _header(item: RawItem, name: str) -> str | None:
    for key, value in item.http_headers:
        if key.casefold() == name:
            return value
    return None


def _clean_html(item: RawItem, options: CleanOptions, repairs: list[str]) -> Article | Rejection:
    payload = item.payload
    if len(payload) > options.max_payload_bytes:
        detail = f"{len(payload)} bytes exceed max_payload_bytes={options.max_payload_bytes}"
        return _reject(item, REASON_TOO_LARGE, detail)
    try:
        decoded = decode_bytes(payload, item.http_headers).text
    except DecodeError as exc:
        return _reject(item, REASON_DECODE_ERROR, str(exc))
    decoded = _strip_controls(decoded, repairs)
    if not _HTML_MARKER.search(decoded[:65536]):
        return _reject(item, REASON_NOT_HTML, "no HTML markup in the first 64 KB")
    tags = decoded.count("<")
    if tags > options.max_tags:
        return _reject(item, REASON_TOO_LARGE, f"{tags} tags exceed max_tags={options.max_tags}")
    tree = _parse_html(decoded)
    if tree is None:
        return _reject(item, REASON_NOT_HTML, "the HTML parser found no document")
    meta, repaired = repair_surrogates(extract_page_metadata(tree, item.url))  # JSON-LD "\ud800" escapes
    if repaired:
        repairs.append(REPAIR_LONE_SURROGATE)
    text, paywalled, extractor = _extract_main_text(tree, decoded, item.url, meta, options)
    if not text:
        return _reject(item, REASON_NO_MAIN_TEXT, "the extractor found no main text")
    if len(text) > options.max_text_chars:
        return _reject(item, REASON_TEXT_TOO_LONG, f"{len(text)} characters > max_text_chars={options.max_text_chars}")
    words = count_words(text)
    if words < options.min_words:
        return _reject(item, REASON_TOO_SHORT, f"{words} words < min_words={options.min_words}")
    return _build_article(item, text, words, meta, paywalled, options, repairs, extractor)


def _build_article(
    item: RawItem,
    text: str,
    words: int,
    meta: PageMetadata,
    paywalled: bool,
    options: CleanOptions,
    repairs: list[str],
    extractor: str,
) -> Article:
    provenance: dict[str, str] = {}

    def pick(found: Found | None, name: str) -> str | None:
        if found is None:
            return None
        provenance[name] = found.origin
        return found.value

    canonical_url, origin = _canonical(meta, item)
    if origin:
        provenance["canonical_url"] = origin
    title = pick(meta.title, "title")
    if not title and item.title:
        title = _clean_line(item.title)
        provenance["title"] = "input"
    authors = meta.authors
    if authors and meta.authors_origin:
        provenance["authors"] = meta.authors_origin
    elif item.authors:
        authors = tuple(a for a in (_clean_line(a) for a in item.authors) if a)
        provenance["authors"] = "input"
    published_at, tz_known, origin = _published(meta, item, canonical_url or item.url, repairs)
    if origin:
        provenance["published_at"] = origin
    modified_at = None
    if meta.modified:
        parsed, repair = read_datetime(meta.modified.value, now=item.fetched_at)
        if repair:
            repairs.append(repair)
        if parsed:
            modified_at = parsed[0]
            provenance["modified_at"] = meta.modified.origin
    declared, declared_origin = None, "meta"
    if meta.language:
        declared, declared_origin = meta.language.value, meta.language.origin
    elif language_header := _header(item, "content-language"):
        declared, declared_origin = language_header, "http_header"
    elif item.language or item.hints.language:
        declared, declared_origin = item.language or item.hints.language, "input"
    call = resolve_language(text, declared, declared_origin)
    if call.origin:
        provenance["language"] = call.origin
    site_name = pick(meta.site_name, "site_name")
    top_image = pick(meta.top_image, "top_image")
    section = pick(meta.section, "section")
    description = pick(meta.description, "description")
    if meta.keywords and meta.keywords_origin:
        provenance["keywords"] = meta.keywords_origin
    source = item.source or site_of(canonical_url or item.url) or "local"
    provenance["source"] = "input" if item.source else ("url" if source != "local" else "input")
    teaser_reason = _teaser(meta, words, paywalled, options)
    article = Article(
        article_id=make_article_id(canonical_url, text),
        item_key=item.item_key,
        source_uri=item.source_uri,
        source=source,
        text=text,
        content_hash=content_hash(text),
        fetched_at=item.fetched_at,
        title=title,
        url=item.url,
        canonical_url=canonical_url,
        external_id=item.external_id,
        authors=authors,
        published_at=published_at,
        published_tz_known=tz_known,
        modified_at=modified_at,
        language=call.language,
        site_name=site_name,
        top_image=top_image,
        section=section,
        keywords=meta.keywords,
        description=description,
        is_teaser=teaser_reason is not None,
        teaser_reason=teaser_reason,
        word_count=words,
        provenance=provenance,
        extractor=extractor,
        extractor_version="" if extractor == EXTRACTOR_PLAIN_TEXT else members_version(),
        hints=item.hints,
    )
    # The last net for what the fields above took from the page or the item unchecked.
    article, repaired = repair_surrogates(article)
    if repaired:
        repairs.append(REPAIR_LONE_SURROGATE)
    if item.repairs or repairs:
        article = replace(article, repairs=with_repairs(item.repairs, *repairs))
    return article


def _clean_text(item: RawItem, options: CleanOptions, repairs: list[str]) -> Article | Rejection:
    try:
        decoded = item.payload.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return _reject(item, REASON_DECODE_ERROR, f"plain text is not UTF-8: {exc}")
    decoded = _strip_controls(decoded, repairs)
    blank_separated = bool(re.search(r"\n\s*\n", decoded))
    paragraphs = split_paragraphs(decoded, blank_line_separated=blank_separated)
    text = "\n\n".join(paragraphs)
    if not text:
        return _reject(item, REASON_NO_MAIN_TEXT, "the text has no visible characters")
    if len(text) > options.max_text_chars:
        return _reject(item, REASON_TEXT_TOO_LONG, f"{len(text)} characters > max_text_chars={options.max_text_chars}")
    # No word floor: a wire flash or a brief handed over as text is a real item (the floor guards extraction
    # from HTML, where a few words are a caption or an error page).
    words = count_words(text)
    return _build_article(item, text, words, PageMetadata(), False, options, repairs, EXTRACTOR_PLAIN_TEXT)


def clean_item(item: RawItem, options: CleanOptions) -> Article | Rejection:
    """Return the cleaned article for one raw item, or a Rejection with one of the reasons:

    ``empty_payload`` (no bytes or only whitespace), ``binary_payload`` (a file format by its signature, or
    bytes of which more than ``MAX_CONTROL_SHARE`` are control bytes), ``decode_error`` (no charset reads it),
    ``not_html`` (an html item without markup), ``too_large`` (more bytes than ``max_payload_bytes`` or more
    tags than ``max_tags``: past the time budget), ``no_main_text``, ``text_too_long`` (main text longer than
    ``max_text_chars``), ``too_short`` (fewer than ``min_words`` words of main text from an HTML page),
    ``extract_error`` (anything unexpected; the exception in the detail). The hard time limit
    (``extract_timeout``) is applied by :func:`clean_items`. Runs in the calling thread.

    The article's ``repairs`` are the item's own followed by the stage's: ``lone_surrogate`` (in any field of
    the item or the page's metadata), ``control_characters``, ``unparseable_date``, ``implausible_date``,
    ``bad_utc_offset``.
    """
    if not item.payload.strip():
        return _reject(item, REASON_EMPTY_PAYLOAD, f"payload of {len(item.payload)} bytes has no content")
    if _is_binary(item.payload):
        return _reject(item, REASON_BINARY_PAYLOAD, f"binary content starting {item.payload[:8]!r}")
    repairs: list[str] = []
    try:
        # A JSONL "title": "bad \ud800 title" reaches here as a lone surrogate, which no UTF-8 writer accepts.
        item, repaired = repair_surrogates(item)
        if repaired:
            repairs.append(REPAIR_LONE_SURROGATE)
        if item.kind == "text":
            return _clean_text(item, options, repairs)
        return _clean_html(item, options, repairs)
    except Exception as exc:  # noqa: BLE001 - a bad page must become a Rejection, never stop the run
        return _reject(item, REASON_EXTRACT_ERROR, describe_error(exc))


# ------------------------------------------------------------------------------ hard per-document budget

# Seconds a new worker may take to import this module and answer its first message.
WORKER_START_SECONDS = 60.0


def serve_worker() -> None:
    """Worker process of the clean stage's pool: receives the :class:`CleanOptions`, then cleans one
    ``RawItem`` per message (see :mod:`tasks.workers`)."""
    serve(lambda options, item: clean_item(item, options), lambda _options: warm_up())


def warm_up() -> None:
    """Load what the first extraction would otherwise load lazily (language model, extractor tables), so a
    worker's first item is not charged for it against the time budget."""
    sentence = "The council approved the budget after a long debate about schools and roads. "
    page = f"<html><head><title>t</title></head><body><article><p>{sentence * 6}</p></article></body></html>"
    clean_item(
        RawItem(item_key="warm-up", source_uri="warm-up", payload=page.encode(), kind="html", fetched_at=_EPOCH),
        CleanOptions(workers=0),
    )


_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_WORKER_ENTRY = "tasks.clean:serve_worker"


def _lost(item: RawItem, lost: JobLost) -> Rejection:
    """Return the Rejection of an item whose worker gave no answer: over the time budget, or crashed."""
    if lost.kind == "timeout":
        return _reject(item, REASON_EXTRACT_TIMEOUT, f"extraction {lost.detail}")
    return _reject(item, REASON_EXTRACT_ERROR, lost.detail)


@lru_cache(maxsize=4)
def _shared_pool(options: CleanOptions) -> WorkerPool:
    """Return this process's pool for ``options`` (started once, reused by every batch).

    Each item is cleaned under a hard ``timeout_seconds`` limit: a worker that overruns is killed and replaced
    (the replacement starts while the other workers go on) and its item becomes an ``extract_timeout``
    Rejection; a worker that dies mid-item (a crash in the HTML parser) gives ``extract_error``. If no worker
    can start, items are cleaned in the calling thread.
    """
    return WorkerPool(
        _WORKER_ENTRY,
        options,
        options.workers,
        fallback=lambda item: clean_item(item, options),
        start_seconds=WORKER_START_SECONDS,
        timeout_seconds=options.timeout_seconds,
        on_lost=_lost,
    )


def clean_items(
    items: Sequence[RawItem], options: CleanOptions, on_done: Callable[[int], None] | None = None
) -> tuple[list[Article], list[Rejection]]:
    """Return the cleaned articles and the rejections of a batch (see :func:`clean_item` for reasons).

    With ``options.workers > 0`` each item is extracted in a child process killed after
    ``options.timeout_seconds`` (reason ``extract_timeout``); with 0 items are cleaned in this thread.
    ``on_done(n)`` is told as items finish (progress bars move item by item).
    """
    if options.workers > 0 and items:
        results = _shared_pool(options).map(items, on_done)
    else:
        results = []
        for item in items:
            results.append(clean_item(item, options))
            if on_done is not None:
                on_done(1)
    articles = [r for r in results if isinstance(r, Article)]
    rejections = [r for r in results if isinstance(r, Rejection)]
    return articles, rejections


# ------------------------------------------------------------------------------------- Prefect wrappers
# Built on first use (PEP 562), so the worker processes, which import this module, start without importing
# Prefect: that import was most of their 3-6 s start-up.


if TYPE_CHECKING:
    from prefect import Task

    clean_items_task: Task[[Sequence[RawItem], CleanOptions], tuple[list[Article], list[Rejection]]]


def __getattr__(name: str) -> object:
    if name == "clean_items_task":
        from prefect import task
        from prefect.cache_policies import NO_CACHE

        # No input hashing: a batch of pages is megabytes, and cleaning is never cached across runs.
        wrapper = task(name="clean", cache_policy=NO_CACHE)(clean_items)
        globals()["clean_items_task"] = wrapper
        return wrapper
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
