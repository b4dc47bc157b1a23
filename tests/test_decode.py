"""One decoding rule for every input: byte-order mark, valid UTF-8, HTTP header, <meta>, detection, fallback.

Unit tests on tasks.decode, then the same bytes through the local-file and JSONL paths (load + clean) and the
fetch path (a real server on 127.0.0.1, tasks.fetch) giving the same text."""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tasks.clean import CleanOptions, clean_item
from tasks.decode import (
    MAX_REPLACED_SHARE,
    DecodeError,
    declared_charsets,
    decode_bytes,
    headers_with_charset,
    normalize_charset,
)
from tasks.fetch import FetchClient, FetchOptions, decode_html
from tasks.load import LoadOptions, discover_local, load_items
from tasks.records import Article, RawItem
from tests.httpfaults import FaultServer, page

CP1252_TEXT = "Le groupe a “confirmé” un bénéfice de 5 € par action — déjà versé en février."
GB_TEXT = "中华人民共和国国务院总理李强说，经济增长百分之五。"
# Société Générale with accented letters before and after the stray byte, as in a real paragraph.
FRENCH_UTF8 = (
    "La Société Générale a annoncé mercredi une hausse de 12 % de son résultat, portée par la banque de détail."
)

HTML_TEMPLATE = "<!doctype html><html><head>{head}<title>Nouvelles</title></head><body><p>{body}</p></body></html>"


def html(body: str, head: str = "") -> str:
    return HTML_TEMPLATE.format(head=head, body=body)


# -- the rule, step by step ------------------------------------------------------------------------------------


def test_utf8_bytes_under_a_shift_jis_meta_are_utf8() -> None:
    body = html("Café crème", '<meta charset="shift_jis">').encode()
    decoded = decode_bytes(body)
    assert "Café crème" in decoded.text
    assert (decoded.codec, decoded.source, decoded.replaced) == ("utf-8", "utf8", 0)


@pytest.mark.parametrize(
    ("head", "headers", "source"),
    [
        ('<meta charset="utf-8">', (), "meta"),
        ("", (("Content-Type", "text/html; charset=UTF-8"),), "http_header"),
    ],
)
def test_a_stray_byte_in_a_utf8_page_is_one_replacement_not_a_new_guess(
    head: str, headers: tuple[tuple[str, str], ...], source: str
) -> None:
    good = html(FRENCH_UTF8, head).encode()
    body = good.replace(b"hausse", b"hausse \xe9")  # one lone latin-1 byte pasted into UTF-8
    decoded = decode_bytes(body, headers)
    assert "La Société Générale a annoncé mercredi une hausse \ufffd de 12 %" in decoded.text
    assert (decoded.codec, decoded.source, decoded.replaced) == ("utf-8", source, 1)
    assert decode_html(body, headers) == decoded.text


def test_a_utf8_declaration_on_legacy_bytes_is_not_kept() -> None:
    # Every non-ASCII character fails under UTF-8: the declaration is wrong, not the bytes.
    body = html(CP1252_TEXT, '<meta charset="utf-8">').encode("cp1252")
    decoded = decode_bytes(body)
    assert CP1252_TEXT in decoded.text
    assert (decoded.codec, decoded.source, decoded.replaced) == ("cp1252", "detected", 0)


@pytest.mark.parametrize(
    ("head", "headers", "source"),
    [
        ('<meta charset="windows-1252">', (), "meta"),
        ('<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">', (), "meta"),
        ("", (("content-type", "text/html; charset=latin1"),), "http_header"),
        ("", (), "detected"),
    ],
)
def test_windows_1252_page_with_curly_quotes_and_euro(
    head: str, headers: tuple[tuple[str, str], ...], source: str
) -> None:
    body = html(CP1252_TEXT, head).encode("cp1252")
    decoded = decode_bytes(body, headers)
    assert CP1252_TEXT in decoded.text
    assert (decoded.codec, decoded.source) == ("cp1252", source)


def test_windows_1252_unassigned_bytes_read_as_c1_controls() -> None:
    body = b"<p>caf\xe9 \x81 cr\xe8me</p>"
    decoded = decode_bytes(body, (("Content-Type", "text/html; charset=windows-1252"),))
    assert decoded.text == "<p>café \x81 crème</p>"
    assert decoded.replaced == 0


@pytest.mark.parametrize(
    "head",
    ['<meta charset="gb2312">', '<meta http-equiv="Content-Type" content="text/html; charset=GB2312">'],
)
def test_gb2312_declared_chinese_page(head: str) -> None:
    body = html(GB_TEXT, head).encode("gb2312")
    decoded = decode_bytes(body)
    assert GB_TEXT in decoded.text
    assert (decoded.codec, decoded.source, decoded.replaced) == ("gb18030", "meta", 0)


def test_gb2312_label_reads_gbk_characters() -> None:
    text = "朱镕基"  # 镕 is in GBK, not in GB2312: pages labelled gb2312 use it all the same
    decoded = decode_bytes(html(text, '<meta charset="gb2312">').encode("gbk"))
    assert text in decoded.text


@pytest.mark.parametrize(
    ("bom", "codec", "python_codec"),
    [
        (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16-be"),
        (codecs.BOM_UTF8, "utf-8", "utf-8"),
        (codecs.BOM_UTF32_LE, "utf-32-le", "utf-32-le"),
    ],
)
def test_byte_order_mark_decides(bom: bytes, codec: str, python_codec: str) -> None:
    page_text = html(f"{CP1252_TEXT} {GB_TEXT}", '<meta charset="iso-8859-1">')
    decoded = decode_bytes(bom + page_text.encode(python_codec), (("Content-Type", "text/html; charset=gbk"),))
    assert decoded.text == page_text  # the mark itself is not text
    assert (decoded.codec, decoded.source, decoded.replaced) == (codec, "bom", 0)


def test_http_header_wins_over_a_conflicting_meta_when_it_reads_the_bytes() -> None:
    body = html(CP1252_TEXT, '<meta charset="gb2312">').encode("cp1252")
    decoded = decode_bytes(body, (("Content-Type", "text/html; charset=windows-1252"),))
    assert CP1252_TEXT in decoded.text
    assert (decoded.codec, decoded.source) == ("cp1252", "http_header")


def test_meta_wins_when_the_http_header_charset_does_not_read_the_bytes() -> None:
    body = html(GB_TEXT, '<meta charset="gb2312">').encode("gb2312")
    decoded = decode_bytes(body, {"Content-Type": "text/html; charset=utf-8"})
    assert GB_TEXT in decoded.text
    assert (decoded.codec, decoded.source) == ("gb18030", "meta")


LATIN_1_PAGES = {
    "fr": "Le ministre a déclaré mercredi que la réforme des retraites serait présentée à l'Assemblée en février. "
    "Les syndicats ont déjà prévu une grève générale, et l'opposition dénonce « un passage en force ».",
    "de": "Die Bundesregierung hat am Mittwoch beschlossen, die Förderung für Wärmepumpen zu erhöhen. Das Gesetz "
    "soll im März in Kraft treten; der Städtetag fordert Übergangsfristen.",
    "es": "El gobierno español anunció el miércoles una reducción del IVA para los alimentos básicos. ¿Cuánto "
    "ahorrarán las familias? Los economistas calculan unos 300 euros al año.",
    "it": "Il governo italiano ha approvato giovedì la legge di bilancio, che prevede più fondi per la sanità. Il "
    "ministro ha detto che la crescita sarà dello 0,8% e che il debito scenderà già dal prossimo anno.",
    "pt": "O governo português anunciou na quarta-feira um aumento das pensões e a redução do imposto sobre "
    "combustíveis. A medida entrará em vigor em janeiro, segundo as previsões do ministério.",
}


@pytest.mark.parametrize("language", sorted(LATIN_1_PAGES))
@pytest.mark.parametrize("markup", [True, False])
def test_undeclared_latin_1_text_is_read_as_windows_1252(language: str, markup: bool) -> None:
    text = LATIN_1_PAGES[language]
    body = (html(text) if markup else text).encode("latin-1")
    decoded = decode_bytes(body, markup=markup)
    assert text in decoded.text
    assert (decoded.codec, decoded.source) == ("cp1252", "detected")


@pytest.mark.parametrize(
    ("text", "encoding", "codec"),
    [
        ("Правительство России в среду объявило о повышении пенсий на семь процентов с января.", "cp1251", "cp1251"),
        ("Η κυβέρνηση ανακοίνωσε την Τετάρτη αύξηση των συντάξεων κατά πέντε τοις εκατό.", "cp1253", "cp1253"),
        ("日本銀行は水曜日、金融政策決定会合で政策金利を据え置くと発表した。", "shift_jis", "cp932"),
        (GB_TEXT * 3, "gb18030", "gb18030"),
        ("정부는 수요일 내년도 예산안을 발표했다. 경제 성장률이 2퍼센트에 이를 것이라고 말했다.", "euc-kr", "cp949"),
    ],
)
def test_undeclared_non_latin_pages_keep_their_detected_code_page(text: str, encoding: str, codec: str) -> None:
    decoded = decode_bytes(html(text).encode(encoding))
    assert text in decoded.text
    assert (decoded.codec, decoded.source) == (codec, "detected")


def _charset_rows() -> list[tuple[str, str, str]]:
    lines = (Path(__file__).parent / "fixtures" / "charsets.tsv").read_text(encoding="utf-8").splitlines()
    return [(language, encoding, text) for language, encoding, text in (line.split("\t") for line in lines[1:])]


@pytest.mark.parametrize(("language", "encoding", "text"), _charset_rows())
@pytest.mark.parametrize("as_page", [True, False], ids=["page", "plain"])
@pytest.mark.parametrize("length", [None, 160], ids=["whole", "cut"])
def test_undeclared_legacy_news_paragraphs_are_read_right(
    language: str, encoding: str, text: str, as_page: bool, length: int | None
) -> None:
    # Short news paragraphs in 30 languages and 15 legacy encodings, none declared: detection alone decides.
    content = html(text[:length]) if as_page else text[:length]
    decoded = decode_bytes(content.encode(encoding), markup=as_page)
    assert decoded.text == content, language
    assert decoded.source == ("utf8" if content.isascii() else "detected")


def test_plain_ascii_is_utf8() -> None:
    assert decode_bytes(b"<p>plain</p>") == decode_bytes(b"<p>plain</p>", markup=False)
    decoded = decode_bytes(b"<p>plain</p>")
    assert (decoded.text, decoded.codec, decoded.source, decoded.replaced) == ("<p>plain</p>", "utf-8", "utf8", 0)


def test_plain_text_is_not_scanned_for_meta() -> None:
    text = '<meta charset="koi8-r"> The café “prices” rose by €5 and the baker’s crème brûlée sold out.'
    body = text.encode("cp1252")
    assert decode_bytes(body, markup=False).text == text
    assert decode_bytes(body).codec == "koi8-r"  # the same bytes as HTML do carry a declaration


def test_bytes_no_charset_reads_raise_decode_error() -> None:
    with pytest.raises(DecodeError) as caught:
        decode_bytes(codecs.BOM_UTF8 + b"<p>" + bytes(range(0x80, 0xC0)) + b"</p>")
    assert caught.value.reason == "decode_error"
    with pytest.raises(DecodeError):
        decode_bytes(bytes(range(0x80, 0x100)) * 4)


def test_replaced_share_bounds_what_a_declaration_may_lose() -> None:
    # One stray byte per three good é is the most a page declared UTF-8 may lose and keep its declaration.
    good_per_bad = round((1 - MAX_REPLACED_SHARE) / MAX_REPLACED_SHARE)
    kept = ("é" * good_per_bad).encode() + b"\xe9"
    decoded = decode_bytes(b'<meta charset="utf-8"><p>' + kept + b"</p>")
    assert (decoded.source, decoded.replaced) == ("meta", 1)
    lost = ("é" * (good_per_bad - 1)).encode() + b"\xe9"
    assert decode_bytes(b'<meta charset="utf-8"><p>' + lost + b"</p>").source != "meta"


# -- labels ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "codec"),
    [
        ("ISO-8859-1", "cp1252"),
        ("latin1", "cp1252"),
        ("us-ascii", "cp1252"),
        ("x-user-defined", "cp1252"),
        ("GB2312", "gb18030"),
        ("gbk", "gb18030"),
        ("Shift_JIS", "cp932"),
        ("sjis", "cp932"),
        ("windows-31j", "cp932"),
        ("x-sjis", "cp932"),
        ("euc-kr", "cp949"),
        ("big5", "big5hkscs"),
        ("iso-8859-9", "cp1254"),
        ("windows-874", "cp874"),
        ('"UTF8"', "utf-8"),
        ("utf-7", None),
        ("hz-gb-2312", None),
        ("iso-2022-kr", None),
        ("base64", None),
        ("unicode_escape", None),
        ("no-such-charset", None),
        ("", None),
    ],
)
def test_labels_are_read_as_browsers_read_them(label: str, codec: str | None) -> None:
    assert normalize_charset(label) == codec


def test_declared_charsets_header_first_and_utf16_meta_is_utf8() -> None:
    body = b'<html><head><meta charset="utf-16"></head></html>'
    found = declared_charsets(body, {"Content-Type": "text/html; charset=iso-8859-2"})
    assert found == [("iso8859-2", "http_header"), ("utf-8", "meta")]
    assert declared_charsets(body, markup=False) == []
    xml = b'<?xml version="1.0" encoding="windows-1251"?><html><meta charset="koi8-r"></html>'
    assert declared_charsets(xml) == [("cp1251", "meta")]


def test_headers_with_charset_records_the_codec_and_how_it_was_chosen() -> None:
    body = html(GB_TEXT, '<meta charset="gb2312">').encode("gb2312")
    headers = headers_with_charset(body, (("Content-Type", "text/html"), ("Content-Language", "zh")))
    assert headers == (
        ("content-type", "text/html; charset=gb18030"),
        ("Content-Language", "zh"),
        ("x-charset-source", "meta"),
        ("x-original-content-type", "text/html"),
    )
    # what the clean stage later reads under the recorded charset is the same text
    assert decode_bytes(body, headers).text == decode_bytes(body).text
    undecodable = codecs.BOM_UTF8 + bytes(range(0x80, 0xC0))
    assert headers_with_charset(undecodable, (("Content-Type", "text/html"),)) == (("Content-Type", "text/html"),)


# -- every input path gives the same text -------------------------------------------------------------------

FETCH = FetchOptions(
    contact="ops@example.org",
    host_delay_seconds=0.0,
    retries=0,
    connect_timeout=1.0,
    read_timeout=2.0,
    total_timeout=5.0,
    allow_networks=("127.0.0.0/8",),
)
CLEAN = CleanOptions(workers=0, min_words=10)
ARTICLE = (
    f"{CP1252_TEXT} Les analystes de la banque jugent la prévision « prudente » et rappellent que l’action a "
    "progressé de 12 % depuis janvier. Le directeur général quittera ses fonctions en mai, après huit années à "
    "la tête du groupe."
)


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as srv:
        yield srv


def fetched_article(server: FaultServer, body: bytes, content_type: str) -> tuple[str, Article]:
    """Serve ``body``, fetch it, and clean it as the fetch stage hands it on (the resolved charset recorded)."""
    server.route("/story", page(body, content_type))
    with FetchClient(FETCH) as client:
        response = client.get(server.url("/story"))
    assert response.body == body
    item = RawItem(
        item_key="fetch:story",
        source_uri=server.url("/story"),
        payload=response.body,
        kind="html",
        fetched_at=datetime(2024, 6, 1, tzinfo=UTC),
        url=server.url("/story"),
        http_headers=headers_with_charset(response.body, response.headers),
    )
    result = clean_item(item, CLEAN)
    assert isinstance(result, Article), result
    return decode_html(response.body, response.headers), result


def local_articles(paths: list[Path]) -> list[Article]:
    options = LoadOptions()
    refs, rejected, _ = discover_local([str(p) for p in paths], options)
    items, rejected_load = load_items(refs, options)
    assert rejected == [] and rejected_load == []
    results = [clean_item(item, CLEAN) for item in items]
    assert all(isinstance(r, Article) for r in results), results
    return [r for r in results if isinstance(r, Article)]


def test_jsonl_html_and_fetched_page_give_the_same_text(tmp_path: Path, server: FaultServer) -> None:
    page_text = html(ARTICLE, '<meta charset="shift_jis">')
    jsonl = tmp_path / "items.jsonl"
    jsonl.write_text(json.dumps({"id": "a1", "html": page_text}) + "\n", encoding="utf-8")
    (from_jsonl,) = local_articles([jsonl])
    # the same UTF-8 bytes, served under a legacy header and a legacy meta
    decoded, from_fetch = fetched_article(server, page_text.encode(), "text/html; charset=iso-8859-1")
    assert decoded == page_text
    assert from_jsonl.text == from_fetch.text
    assert "Le groupe a “confirmé” un bénéfice de 5 € par action" in from_jsonl.text


@pytest.mark.parametrize(
    ("encoding", "head", "content_type"),
    [
        ("cp1252", '<meta charset="windows-1252">', "text/html"),
        ("cp1252", "", "text/html"),
        ("utf-8", '<meta charset="shift_jis">', "text/html; charset=iso-8859-1"),
        ("utf-16", "", "text/html; charset=utf-8"),
    ],
)
def test_local_file_and_fetched_page_give_the_same_text(
    tmp_path: Path, server: FaultServer, encoding: str, head: str, content_type: str
) -> None:
    body = html(ARTICLE, head).encode(encoding)
    local = tmp_path / "story.html"
    local.write_bytes(body)
    (from_file,) = local_articles([local])
    decoded, from_fetch = fetched_article(server, body, content_type)
    assert ARTICLE in decoded
    assert from_file.text == from_fetch.text
    assert "Le groupe a “confirmé” un bénéfice de 5 € par action" in from_file.text


def test_plain_text_file_goes_through_the_same_rule(tmp_path: Path) -> None:
    story = tmp_path / "story.txt"
    story.write_bytes(f"Résultats\n{ARTICLE}".encode("cp1252"))
    options = LoadOptions()
    refs, _, _ = discover_local([str(story)], options)
    (item,), rejected = load_items(refs, options)
    assert rejected == []
    assert item.title == "Résultats"
    assert item.payload.decode("utf-8") == ARTICLE
