"""Tests of the clean stage on small pages written for the purpose (tests/fixtures/pages) and inline inputs."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

import tasks.clean as clean
from tasks.clean import (
    REASON_BINARY_PAYLOAD,
    REASON_DECODE_ERROR,
    REASON_EMPTY_PAYLOAD,
    REASON_EXTRACT_ERROR,
    REASON_EXTRACT_TIMEOUT,
    REASON_NO_MAIN_TEXT,
    REASON_NOT_HTML,
    REASON_TOO_LARGE,
    REASON_TOO_SHORT,
    CleanOptions,
    clean_item,
    clean_items,
    decode_html,
    drop_boilerplate,
    split_paragraphs,
)
from tasks.ids import content_hash, make_article_id
from tasks.language import normalize_language_code, resolve_language
from tasks.metadata import clean_authors, date_from_url, parse_datetime, read_datetime
from tasks.records import (
    REPAIR_BAD_UTC_OFFSET,
    REPAIR_IMPLAUSIBLE_DATE,
    REPAIR_UNPARSEABLE_DATE,
    STAGE_CLEAN,
    Article,
    RawItem,
    Rejection,
    SourceHints,
)

PAGES = Path(__file__).parent / "fixtures" / "pages"
FETCHED = datetime(2024, 12, 1, 12, 0, tzinfo=UTC)
OPTIONS = CleanOptions(workers=0)
COURIER_URL = "https://www.riverside-courier.example/news/2024/03/05/flood-barrier-plan?utm_source=rss"


def html_item(name: str, url: str | None = None, **fields: object) -> RawItem:
    payload = (PAGES / name).read_bytes()
    return RawItem(
        item_key=f"{name}#1",
        source_uri=str(PAGES / name),
        payload=payload,
        kind="html",
        fetched_at=FETCHED,
        url=url,
        **fields,  # type: ignore[arg-type]
    )


def raw(payload: bytes, kind: str = "html", **fields: object) -> RawItem:
    return RawItem(
        item_key="inline#1",
        source_uri="inline",
        payload=payload,
        kind=kind,  # type: ignore[arg-type]
        fetched_at=FETCHED,
        **fields,  # type: ignore[arg-type]
    )


def article(item: RawItem, options: CleanOptions = OPTIONS) -> Article:
    result = clean_item(item, options)
    assert isinstance(result, Article), result
    return result


def rejection(item: RawItem, options: CleanOptions = OPTIONS) -> Rejection:
    result = clean_item(item, options)
    assert isinstance(result, Rejection), result
    assert result.stage == STAGE_CLEAN
    assert result.payload == item.payload
    return result


# ------------------------------------------------------------------------------------------ main text


def test_main_text_keeps_article_and_drops_boilerplate() -> None:
    text = article(html_item("news_article.html", COURIER_URL)).text
    for wanted in (
        "The harbour council on Tuesday approved a plan to build a tidal barrier",
        '"We have lost furniture, photographs and a good deal of sleep," said Margaret Okafor',
        "thanked residents for their patience during the long consultation.",
        # the standfirst, shown on the page and repeated in the meta description
        "The harbour council voted to fund a tidal barrier after three winters of flooding in the old town.",
    ):
        assert wanted in text
    for unwanted in (
        "We use cookies",
        "Sport",
        "Bakery on Quay Street",
        "This barrier is a waste of money",
        "All rights reserved",
        "Read more",
        "Fishermen fear for harbour access",
        "morning newsletter",
    ):
        assert unwanted not in text
    assert "\n\n" in text and "\n\n\n" not in text


def test_drop_boilerplate_cuts_link_lists_and_notices_only() -> None:
    paragraphs = [
        "A long article paragraph that explains the story in some detail for the reader.",
        "Lue aiheesta lisää:",
        "Karhut heräsivät jo talviunilta",
        "Vuosi toi kylmää ja kuumaa",
        "Follow us on Twitter for more updates.",
        "To view the full story, please subscribe to The Daily Example.",
    ]
    kept, paywalled = drop_boilerplate(paragraphs)
    assert kept == paragraphs[:1]
    assert paywalled
    quoted = "He said: " + "the newsletter was sent to every subscriber in the district " * 5
    assert drop_boilerplate([quoted]) == ([quoted], False)


def test_a_paragraph_wrapped_by_hand_in_its_source_stays_one_paragraph() -> None:
    html = (
        "<html><head><title>Porting notes</title></head><body><article><h1>Porting notes</h1>"
        + "<p>The move took longer than planned. <strong>For nearly 4\nyears, the old runtime held the project"
        " back</strong>, and the <code>u''</code> prefix\n(restored in a later release) helped.</p>"
        + "".join(
            f"<p>Paragraph {i} of the notes says what changed in release {i} and why it mattered.</p>" for i in range(6)
        )
        + "</article></body></html>"
    )
    fetched = datetime(2024, 5, 1, tzinfo=UTC)
    text = article(
        RawItem(item_key="k", source_uri="file:k", payload=html.encode(), kind="html", fetched_at=fetched)
    ).text
    assert "For nearly 4 years, the old runtime" in text
    assert "prefix (restored in a later release)" in text
    assert "Paragraph 0 of the notes" in text and "\n\nParagraph 1 of the notes" in text
    assert split_paragraphs("Sales rose.\nthe next line\nA heading\nand more,\nthen this") == [
        "Sales rose.",
        "the next line",
        "A heading and more, then this",
    ]


# ------------------------------------------------------------------------------------------- metadata


def test_metadata_and_provenance_from_jsonld_and_meta() -> None:
    result = article(html_item("news_article.html", COURIER_URL, source=None))
    assert result.title == "Harbour council approves flood barrier plan"
    assert result.authors == ("Jane Doe", "Tom O'Neill")
    assert result.published_at == datetime(2024, 3, 5, 8, 15, tzinfo=UTC)
    assert result.published_tz_known is True
    assert result.modified_at == datetime(2024, 3, 5, 10, 40, tzinfo=UTC)
    assert result.canonical_url == "https://riverside-courier.example/news/2024/03/05/flood-barrier-plan"
    assert result.source == "riverside-courier.example"
    assert result.site_name == "The Riverside Courier"
    assert result.top_image == "https://cdn.riverside-courier.example/img/barrier.jpg"
    assert result.section == "Local news"
    assert result.keywords == ("flooding", "harbour", "council")
    assert result.language == "en"
    assert result.provenance["title"] == "jsonld"
    assert result.provenance["authors"] == "jsonld"
    assert result.provenance["published_at"] == "jsonld"
    assert result.provenance["canonical_url"] == "meta"
    assert result.provenance["language"] == "meta"
    assert result.provenance["site_name"] == "meta"
    assert result.article_id == make_article_id(result.canonical_url, result.text)
    assert result.content_hash == content_hash(result.text)
    assert result.word_count > 150
    assert result.extractor and result.extractor_version
    assert not result.is_teaser


def test_copied_fields_and_hints() -> None:
    hints = SourceHints(name="Courier", currency="EUR")
    result = article(html_item("news_article.html", COURIER_URL, external_id="x-1", source="courier", hints=hints))
    assert (result.item_key, result.url, result.external_id) == ("news_article.html#1", COURIER_URL, "x-1")
    assert result.fetched_at == FETCHED
    assert result.source == "courier"
    assert result.hints == hints


def test_windows_1252_page_decodes_and_language_and_timezone() -> None:
    item = html_item("windows1252_fr.html", url="https://vignes.example/2024/07/14/secheresse")
    result = article(item)
    assert "Hélène Garçon" in result.text
    assert "« Les feuilles jaunissent trop tôt" in result.text
    assert "\ufffd" not in result.text
    assert "Accueil" not in result.text
    # declared lang="en" is overruled by detection on the French text
    assert result.language == "fr"
    assert result.provenance["language"] == "detected"
    # article:published_time without offset: UTC assumed and flagged
    assert result.published_at == datetime(2024, 7, 14, 8, 30, tzinfo=UTC)
    assert result.published_tz_known is False
    assert result.authors == ("Marie Dupont",)
    assert result.provenance["authors"] == "meta"


def test_decode_html_prefers_http_header_then_meta() -> None:
    body = "<html><head><meta charset='utf-8'></head><body><p>Ça coûte 5 €</p></body></html>"
    text, codec = decode_html(body.encode("cp1252"), [("Content-Type", "text/html; charset=windows-1252")])
    assert codec == "cp1252"
    assert "Ça coûte 5 €" in text
    # a page announcing latin-1 while sending UTF-8 is read as UTF-8
    text, codec = decode_html(body.replace("utf-8", "iso-8859-1").encode("utf-8"))
    assert codec == "utf-8"
    assert "Ça coûte 5 €" in text


def test_teaser_behind_paywall() -> None:
    result = article(html_item("paywall_teaser_de.html"), replace(OPTIONS, min_words=20))
    assert result.is_teaser
    assert result.teaser_reason == clean.TEASER_PAYWALL_MARKER
    assert "nur für Abonnenten" not in result.text
    assert result.authors == ("Klaus Meier",)
    assert result.published_tz_known is False
    assert result.language == "de"
    assert result.source == "local"


def test_input_fields_fill_gaps_with_their_provenance() -> None:
    paragraphs = "".join(
        f"<p>On day {n} the committee met again to discuss the new ferry timetable and the cost of fuel.</p>"
        for n in ("one", "two", "three", "four")
    )
    page = f"<html><body><article>{paragraphs}</article></body></html>".encode()
    item = raw(
        page,
        url="https://ferries.example/news/timetable",
        title="Ferry timetable debated",
        published_at="Mon, 06 May 2024 14:30:00 +0200",
        published_at_source="feed",
        authors=("Ann Lee",),
        language="en",
    )
    result = article(item)
    assert result.title == "Ferry timetable debated"
    assert result.provenance["title"] == "input"
    assert result.published_at == datetime(2024, 5, 6, 12, 30, tzinfo=UTC)
    assert result.provenance["published_at"] == "feed"
    assert result.authors == ("Ann Lee",)
    assert result.provenance["authors"] == "input"
    assert result.canonical_url == "https://ferries.example/news/timetable"
    assert result.provenance["canonical_url"] == "input"


@pytest.mark.parametrize(
    ("raw_names", "expected"),
    [
        (["By Jane Doe, Senior Reporter"], ("Jane Doe",)),
        (["Jane Doe and John Smith"], ("Jane Doe", "John Smith")),
        (["Von Klaus Meier und Anna Berg"], ("Klaus Meier", "Anna Berg")),
        (["Por María José Pérez"], ("María José Pérez",)),
        (["jane.doe@paper.example", "Email the author"], ()),
        (["Staff", "Staff Writer", "The Riverside Courier"], ()),
        (["https://www.facebook.com/janedoe"], ()),
        (["Jane Doe", "JANE DOE"], ("Jane Doe",)),
        (["Tom O'Neill (tom@paper.example)"], ("Tom O'Neill",)),
        (["Jane Doe Senior Correspondent"], ("Jane Doe",)),
        (["AFP"], ("AFP",)),
    ],
)
def test_clean_authors(raw_names: list[str], expected: tuple[str, ...]) -> None:
    assert clean_authors(raw_names, ["The Riverside Courier"]) == expected


def test_parse_datetime_formats() -> None:
    assert parse_datetime("2024-03-05T09:15:00+01:00") == (datetime(2024, 3, 5, 8, 15, tzinfo=UTC), True)
    assert parse_datetime("2024-03-05T09:15:00Z") == (datetime(2024, 3, 5, 9, 15, tzinfo=UTC), True)
    assert parse_datetime("2024-03-05") == (datetime(2024, 3, 5, tzinfo=UTC), False)
    assert parse_datetime("Tue, 05 Mar 2024 09:15:00 GMT") == (datetime(2024, 3, 5, 9, 15, tzinfo=UTC), True)
    assert parse_datetime("1709630100") == (datetime(2024, 3, 5, 9, 15, tzinfo=UTC), True)
    assert parse_datetime("1970-01-01T00:00:00Z") is None
    assert parse_datetime("not a date") is None
    assert date_from_url("https://x.example/2024/03/05/story") == "2024-03-05"
    assert date_from_url("https://x.example/story-20240305.html") == "2024-03-05"


def test_read_datetime_names_what_was_wrong_with_a_bad_value() -> None:
    ten = datetime(2024, 3, 5, 10, 0, tzinfo=UTC)
    assert read_datetime("2024-03-05T10:00:00+01:00") == ((ten.replace(hour=9), True), None)
    # an impossible offset: the value is not trusted (was the time mistyped, or the offset?)
    assert read_datetime("2024-03-05T10:00:00+25:00") == (None, REPAIR_BAD_UTC_OFFSET)
    assert read_datetime("Tue, 05 Mar 2024 10:00:00 +2400") == (None, REPAIR_BAD_UTC_OFFSET)
    assert parse_datetime("2024-03-05T10:00:00+25:00") is None
    assert read_datetime("not a date") == (None, REPAIR_UNPARSEABLE_DATE)
    assert read_datetime("x" * 81) == (None, REPAIR_UNPARSEABLE_DATE)
    assert read_datetime("1970-01-01T00:00:00Z") == (None, REPAIR_IMPLAUSIBLE_DATE)
    assert read_datetime("0001-01-01T00:00:00+01:00") == (None, REPAIR_IMPLAUSIBLE_DATE)
    assert read_datetime("  ") == (None, None)
    assert read_datetime(None) == (None, None)


def test_language_codes_and_detection() -> None:
    assert normalize_language_code("en-US") == "en"
    assert normalize_language_code("pt_BR") == "pt"
    assert normalize_language_code("iw") == "he"
    assert normalize_language_code("x") is None
    spanish = "El gobierno anunció hoy un nuevo plan para mejorar las carreteras de la región antes del invierno."
    call = resolve_language(spanish, "en")
    assert (call.language, call.origin) == ("es", "detected")
    assert resolve_language(spanish, "es").origin == "meta"
    assert resolve_language("Short", "de") == resolve_language("Short", "de-AT")
    assert resolve_language("Short", None).language is None


# ------------------------------------------------------------------------------------------ text kind


def test_text_kind_uses_given_title_and_paragraphs() -> None:
    body = (
        "The river rose by two metres overnight and flooded the lower town.\n"
        "Residents were moved to the school hall.\n\n"
        "The mayor said that the new barrier would be finished before next winter, and thanked volunteers.\n"
    )
    item = raw(
        body.encode(),
        kind="text",
        title="  River floods lower town ",
        published_at="2024-02-01",
        published_at_source="input",
    )
    result = article(item, replace(OPTIONS, min_words=20))
    assert result.title == "River floods lower town"
    assert result.text.split("\n\n") == [
        "The river rose by two metres overnight and flooded the lower town. Residents were moved to the school hall.",
        "The mayor said that the new barrier would be finished before next winter, and thanked volunteers.",
    ]
    assert result.language == "en"
    assert result.provenance["language"] == "detected"
    assert result.published_at == datetime(2024, 2, 1, tzinfo=UTC)
    assert result.published_tz_known is False
    assert result.source == "local"
    assert result.canonical_url is None
    assert result.article_id == make_article_id(None, result.text)


# ------------------------------------------------------------------------------------------ rejections


def test_rejection_empty_payload() -> None:
    assert rejection(raw(b"")).reason == REASON_EMPTY_PAYLOAD
    assert rejection(raw(b"  \n\t ", kind="text")).reason == REASON_EMPTY_PAYLOAD


def test_rejection_binary_payload() -> None:
    assert rejection(raw(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj")).reason == REASON_BINARY_PAYLOAD
    assert rejection(raw(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")).reason == REASON_BINARY_PAYLOAD
    assert rejection(raw(b"hello\x00world", kind="text")).reason == REASON_BINARY_PAYLOAD


def test_rejection_not_html() -> None:
    assert rejection(raw(b'{"status": "ok", "items": [1, 2, 3]}')).reason == REASON_NOT_HTML


def test_page_with_cut_off_doctype_and_no_head_is_parsed() -> None:
    # The doctype lacks its ">", a comment pushes "<html>" past the first 50 characters and the page has no
    # <head>: lxml reads it whole, and the markup check's verdict stands.
    sentence = "The harbour board voted on Tuesday to rebuild the north pier before the winter storms arrive. "
    page = (
        "<!DOCTYPE htm\n<!-- rendered by the archive exporter, node 3 -->\n<html>\n<body>\n"
        f"<article><h1>Pier to be rebuilt</h1><p>{sentence * 3}</p><p>{sentence * 2}</p></article>\n"
        "</body>\n</html>\n"
    )
    result = article(raw(page.encode()))
    assert result.text.startswith("Pier to be rebuilt\n\nThe harbour board voted on Tuesday")
    assert result.text.count("before the winter storms arrive.") == 5


def test_rejection_decode_error() -> None:
    assert rejection(raw(b"Caf\xe9 au lait \xff\xfe\xfa", kind="text")).reason == REASON_DECODE_ERROR


def test_rejection_no_main_text_and_too_short() -> None:
    empty_page = b"<html><head><title>Nothing</title></head><body><div></div><script>var a = 1;</script></body></html>"
    assert rejection(raw(empty_page)).reason == REASON_NO_MAIN_TEXT
    short_page = b"<html><body><article><p>Only a caption of ten words sits on this page.</p></article></body></html>"
    assert rejection(raw(short_page), replace(OPTIONS, min_words=50)).reason == REASON_TOO_SHORT
    short = rejection(raw(short_page), replace(OPTIONS, min_words=50))
    assert "10 words < min_words=50" in short.detail


def test_a_short_text_item_is_an_article() -> None:
    # A wire flash handed over as text is an item whatever its length; the word floor is for HTML pages.
    flash = article(raw(b"BREAKING: Central bank raises rates.", kind="text"))
    assert flash.text == "BREAKING: Central bank raises rates." and flash.word_count == 5


def test_rejection_too_large_by_size_precheck() -> None:
    page = b"<html><body>" + b"<div><span>x</span></div>" * 2000 + b"</body></html>"
    result = rejection(raw(page), replace(OPTIONS, max_tags=1000))
    assert result.reason == REASON_TOO_LARGE
    assert "max_tags=1000" in result.detail
    assert rejection(raw(page), replace(OPTIONS, max_payload_bytes=1000)).reason == REASON_TOO_LARGE


def test_rejection_extract_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> str:
        raise RuntimeError("parser exploded")

    import trafilatura

    monkeypatch.setattr(trafilatura, "extract", broken)
    result = rejection(html_item("news_article.html"))
    assert result.reason == REASON_EXTRACT_ERROR
    assert "parser exploded" in result.detail


def test_clean_items_in_thread_splits_articles_and_rejections() -> None:
    items = [html_item("news_article.html", COURIER_URL), raw(b""), html_item("windows1252_fr.html")]
    articles, rejections = clean_items(items, OPTIONS)
    assert [a.item_key for a in articles] == ["news_article.html#1", "windows1252_fr.html#1"]
    assert [r.reason for r in rejections] == [REASON_EMPTY_PAYLOAD]


@pytest.mark.slow
def test_clean_items_workers_enforce_the_time_budget() -> None:
    # 60,000 paragraphs take trafilatura tens of seconds: the worker is killed after the budget.
    pathological = b"<html><body><article>" + b"<p>word word word word word word word.</p>" * 60_000 + b"</article>"
    options = CleanOptions(workers=1, timeout_seconds=1.0, max_tags=10_000_000)
    items = [raw(pathological), html_item("news_article.html", COURIER_URL), raw(b"\x00\x01")]
    articles, rejections = clean_items(items, options)
    assert [a.item_key for a in articles] == ["news_article.html#1"]
    assert sorted(r.reason for r in rejections) == [REASON_BINARY_PAYLOAD, REASON_EXTRACT_TIMEOUT]
    # the replaced worker serves the next batch
    articles, rejections = clean_items([html_item("windows1252_fr.html")], options)
    assert len(articles) == 1 and not rejections
