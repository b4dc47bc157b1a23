"""Sources end to end against a real server on 127.0.0.1: feeds, sitemaps, WARC files and TOML specs into
fetch targets and raw items, incremental runs with conditional GET, and the fetch state that makes them so."""

from __future__ import annotations

import gzip
import io
import itertools
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from storage.fetch_state import FetchState
from tasks.fetch import FetchClient, FetchOptions, decode_html, header_value
from tasks.records import SourceHints
from tasks.sources import (
    FetchTarget,
    SourceParseError,
    SourceSpec,
    classify_url,
    discover_targets,
    fetch_targets,
    iter_warc,
    parse_feed,
    parse_sitemap,
    parse_source,
    sniff_kind,
    state_key,
)
from tests.httpfaults import FaultServer, page, slow_headers, status

OPTIONS = FetchOptions(
    contact="ops@example.org",
    host_delay_seconds=0.02,
    backoff_base_seconds=0.02,
    retries=1,
    connect_timeout=1.0,
    read_timeout=1.0,
    total_timeout=3.0,
    allow_networks=("127.0.0.0/8",),
)


def article(title: str) -> bytes:
    return f"<html><head><title>{title}</title></head><body><p>{title} body.</p></body></html>".encode()


def rss(items: list[tuple[str | None, str]]) -> bytes:
    parts = []
    for link, title in items:
        link_xml = f"<link>{link}</link>" if link else ""
        parts.append(
            f"<item><title>{title}</title>{link_xml}<guid isPermaLink='false'>id-{title}</guid>"
            "<pubDate>Tue, 05 Mar 2024 10:30:00 +0100</pubDate>"
            "<dc:creator>Jane Roe</dc:creator></item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        "<channel><title>Example</title><language>en-GB</language>" + "".join(parts) + "</channel></rss>"
    ).encode()


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rss version="2.0"><channel><title>&lol9;</title><item><title>&lol9;</title><link>http://x/</link></item>
</channel></rss>"""


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as srv:
        yield srv


@pytest.fixture
def state(tmp_path: Path) -> Iterator[FetchState]:
    with FetchState(tmp_path / "state") as st:
        yield st


def run(
    sources: list[SourceSpec], state: FetchState, options: FetchOptions = OPTIONS
) -> tuple[list, list, list, dict[str, int]]:
    with FetchClient(options) as client:
        targets, rejected, items = discover_targets(sources, client, state, options)
        fetched, failed = fetch_targets(targets, client, state, options)
        return targets, [*rejected, *failed], [*items, *fetched], client.stats.snapshot()


def serve_feed(server: FaultServer) -> None:
    server.route(
        "/feed.xml",
        page(
            rss([(server.url("/a1"), "One"), ("/a2", "Two"), (server.url("/a3"), "Three"), (None, "Nolink")]),
            "application/rss+xml",
            etag='"feed-v1"',
        ),
    )
    for name in ("a1", "a2", "a3"):
        server.route(f"/{name}", page(article(name), etag=f'"{name}"'))


# -- feeds ---------------------------------------------------------------------------------------------------


def test_feed_entries_become_items_carrying_feed_hints(server: FaultServer, state: FetchState) -> None:
    serve_feed(server)
    hints = SourceHints(name="Example", country="GB", currency="GBP")
    sources = parse_source(server.url("/feed.xml"), hints=hints)
    assert sources[0].kind == "feed"
    targets, rejected, items, stats = run(sources, state)
    assert [t.url for t in targets] == [server.url(p) for p in ("/a1", "/a2", "/a3")]
    by_url = {item.url: item for item in items}
    one = by_url[server.url("/a1")]
    assert one.title == "One"
    assert one.published_at == "2024-03-05T09:30:00+00:00"
    assert one.published_at_source == "feed"
    assert one.authors == ("Jane Roe",)
    assert one.external_id == "id-One"
    assert one.language == "en-gb"
    assert one.source == "Example"
    assert one.hints == hints
    assert one.item_key == "fetch:" + state_key(server.url("/a1"))
    assert one.kind == "html" and one.payload == article("a1")
    assert header_value(one.http_headers, "content-type") == "text/html; charset=utf-8"
    assert [(r.reason, r.stage) for r in rejected] == [("no_url", "fetch")]
    assert stats["requests"] == 5  # robots.txt, feed, three articles


def test_second_run_is_conditional_and_fetches_nothing_new(server: FaultServer, tmp_path: Path) -> None:
    serve_feed(server)
    sources = parse_source(server.url("/feed.xml"))
    with FetchState(tmp_path / "s") as state:
        _, _, items, _ = run(sources, state)
        assert len(items) == 3
        assert state.commit() == 4  # the feed and three articles
    server.clear_log()
    with FetchState(tmp_path / "s") as state:
        targets, rejected, items, stats = run(sources, state)
    assert items == []
    assert len(targets) == 3  # an unchanged feed still lists what it listed
    assert [r.reason for r in rejected] == ["no_url"]
    (feed_request,) = server.requests("/feed.xml")
    assert feed_request.header("If-None-Match") == '"feed-v1"'
    assert stats["not_modified"] == 1
    assert stats["skipped_known"] == 3
    assert [r.path for r in server.requests() if r.path.startswith("/a")] == []


def test_refetch_asks_conditionally_and_a_304_yields_nothing(server: FaultServer, tmp_path: Path) -> None:
    serve_feed(server)
    sources = parse_source(server.url("/feed.xml"))
    with FetchState(tmp_path / "s") as state:
        run(sources, state)
        state.commit()
    server.clear_log()
    with FetchState(tmp_path / "s") as state:
        _, _, items, stats = run(sources, state, replace(OPTIONS, refetch=True))
    assert items == []
    assert stats["not_modified"] == 4
    (request,) = server.requests("/a1")
    assert request.header("If-None-Match") == '"a1"'


def test_uncommitted_run_is_not_remembered(server: FaultServer, tmp_path: Path) -> None:
    serve_feed(server)
    sources = parse_source(server.url("/feed.xml"))
    with FetchState(tmp_path / "s") as state:
        run(sources, state)  # a run that dies before its output is written never commits
    server.clear_log()
    with FetchState(tmp_path / "s") as state:
        _, _, items, _ = run(sources, state)
    assert len(items) == 3
    assert server.requests("/feed.xml")[0].header("If-None-Match") is None


def test_malformed_feed_is_rejected_with_its_payload(server: FaultServer, state: FetchState) -> None:
    server.route("/feed.xml", page(b"\x00\x01 garbage <<< not xml", "application/rss+xml"))
    _, rejected, items, _ = run(parse_source(server.url("/feed.xml")), state)
    assert items == []
    assert [r.reason for r in rejected] == ["feed_parse_error"]
    assert rejected[0].payload.startswith(b"\x00\x01 garbage")


def test_slightly_broken_feed_is_still_read() -> None:
    body = rss([("http://example.org/a", "Tom & Jerry")])
    entries = parse_feed(body.replace(b"Tom & Jerry", b"Tom & Jerry <b>live"), "http://example.org/feed")
    assert [e.url for e in entries] == ["http://example.org/a"]


def test_billion_laughs_feed_is_rejected(server: FaultServer, state: FetchState) -> None:
    with pytest.raises(SourceParseError) as caught:
        parse_feed(BILLION_LAUGHS, "http://example.org/feed")
    assert caught.value.reason == "feed_parse_error"
    server.route("/feed.xml", page(BILLION_LAUGHS, "application/rss+xml"))
    _, rejected, items, _ = run(parse_source(server.url("/feed.xml")), state)
    assert items == [] and [r.reason for r in rejected] == ["feed_parse_error"]
    assert "entit" in rejected[0].detail


def test_external_entity_feed_is_rejected() -> None:
    xxe = (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><rss><channel>&x;</channel></rss>'
    )
    with pytest.raises(SourceParseError):
        parse_feed(xxe, "http://example.org/feed")


def test_atom_feed_relative_links_resolve() -> None:
    atom = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title><id>urn:t</id><updated>2024-01-02T03:04:05Z</updated>
<entry><title>A</title><id>urn:a</id><link rel="alternate" href="/news/a"/><updated>2024-01-02T03:04:05Z</updated>
<author><name>Ann</name></author><author><name>Bob</name></author></entry></feed>"""
    (entry,) = parse_feed(atom, "https://example.org/feeds/all.atom")
    assert entry.url == "https://example.org/news/a"
    assert entry.authors == ("Ann", "Bob")
    assert entry.published_at == "2024-01-02T03:04:05+00:00"


# -- sitemaps ------------------------------------------------------------------------------------------------

NEWS_SITEMAP = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
 <url><loc>%(origin)s/n1</loc><news:news><news:publication><news:name>Ex</news:name>
   <news:language>de</news:language></news:publication>
   <news:publication_date>2024-05-01T08:00:00+02:00</news:publication_date><news:title>Erste</news:title>
 </news:news></url>
 <url><loc>%(origin)s/n2</loc><lastmod>2024-05-02</lastmod></url>
</urlset>"""


def test_sitemap_index_with_gzipped_child_and_news_fields(server: FaultServer, state: FetchState) -> None:
    origin = server.origin.encode()
    index = (
        b'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        b"<sitemap><loc>/news-sitemap.xml</loc><lastmod>2024-05-02</lastmod></sitemap>"
        b"<sitemap><loc>/old-sitemap.xml.gz</loc><lastmod>2020-01-01</lastmod></sitemap></sitemapindex>"
    )
    old = (
        b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>'
        + origin
        + b"/old</loc></url></urlset>"
    )
    server.route("/sitemap_index.xml", page(index, "application/xml"))
    server.route("/news-sitemap.xml", page(NEWS_SITEMAP % {b"origin": origin}, "text/xml"))
    server.route("/old-sitemap.xml.gz", page(gzip.compress(old), "application/x-gzip"))
    for path in ("/n1", "/n2", "/old"):
        server.route(path, page(article(path)))
    sources = parse_source(server.url("/sitemap_index.xml"))
    assert sources[0].kind == "sitemap"
    targets, rejected, items, _ = run(sources, state)
    assert rejected == []
    assert [t.url for t in targets] == [server.url(p) for p in ("/n2", "/n1", "/old")]
    n1 = next(i for i in items if i.url == server.url("/n1"))
    assert (n1.title, n1.published_at, n1.published_at_source, n1.language) == (
        "Erste",
        "2024-05-01T08:00:00+02:00",
        "sitemap",
        "de",
    )


def test_sitemap_caps_keep_the_newest(server: FaultServer, state: FetchState) -> None:
    urls = "".join(
        f"<url><loc>{server.url(f'/p{i}')}</loc><lastmod>2024-01-{i + 1:02d}</lastmod></url>" for i in range(10)
    )
    body = f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'.encode()
    server.route("/sitemap.xml", page(body, "application/xml"))
    with FetchClient(OPTIONS) as client:
        targets, _, _ = discover_targets(
            [SourceSpec(server.url("/sitemap.xml"), "sitemap", max_items=3)], client, state, OPTIONS
        )
        assert client.stats.urls_over_cap == 7
    assert [t.url for t in targets] == [server.url(f"/p{i}") for i in (9, 8, 7)]


def test_bad_sitemaps_are_rejected() -> None:
    for body in (BILLION_LAUGHS, b"<urlset><url><loc>http://x/</loc>", b"<rss><channel/></rss>"):
        with pytest.raises(SourceParseError) as caught:
            parse_sitemap(body, "http://example.org/sitemap.xml")
        assert caught.value.reason == "sitemap_parse_error"
    doc = parse_sitemap(b"https://example.org/a\nhttps://example.org/b\n", "http://example.org/sitemap.txt")
    assert [e.url for e in doc.entries] == ["https://example.org/a", "https://example.org/b"]


def test_auto_source_is_decided_by_content(server: FaultServer, state: FetchState) -> None:
    server.route("/latest", page(rss([(server.url("/x"), "X")]), "text/xml"))
    server.route("/x", page(article("x")))
    server.route("/story", page(article("story")))
    sources = [*parse_source(server.url("/latest")), *parse_source(server.url("/story"))]
    assert [s.kind for s in sources] == ["auto", "auto"]
    targets, rejected, items, _ = run(sources, state)
    assert rejected == []
    assert sorted(i.url or "" for i in items) == [server.url("/story"), server.url("/x")]
    assert [t.url for t in targets] == [server.url("/x")]


# -- fetching pages ------------------------------------------------------------------------------------------


def test_failed_pages_become_rejections_with_reasons(server: FaultServer, state: FetchState) -> None:
    server.route("/robots.txt", page(b"User-agent: *\nDisallow: /no/\n", "text/plain"))
    server.route("/gone", status(410))
    server.route("/err", status(500))
    server.route("/ok", page(article("ok")))
    targets = [FetchTarget(server.url(p), "list.txt", external_id=p) for p in ("/gone", "/err", "/no/x", "/ok")] + [
        FetchTarget("ftp://example.org/x", "list.txt")
    ]
    with FetchClient(OPTIONS) as client:
        items, rejected = fetch_targets(targets, client, state, OPTIONS)
        assert client.stats.retries == 1
    assert [i.url for i in items] == [server.url("/ok")]
    reasons = {r.url: (r.reason, r.stage, r.external_id) for r in rejected}
    assert reasons == {
        server.url("/gone"): ("http_410", "fetch", "/gone"),
        server.url("/err"): ("http_5xx", "fetch", "/err"),
        server.url("/no/x"): ("robots_disallowed", "fetch", "/no/x"),
        "ftp://example.org/x": ("bad_scheme", "fetch", None),
    }
    assert server.requests("/no/x") == []


def test_hosts_are_fetched_in_parallel_but_each_host_serially(state: FetchState) -> None:
    with FaultServer() as one, FaultServer() as two:
        for srv in (one, two):
            for i in range(3):
                srv.route(f"/p{i}", slow_headers(0.2, page(article(str(i)))))
        targets = [FetchTarget(srv.url(f"/p{i}"), "test") for srv in (one, two) for i in range(3)]
        with FetchClient(OPTIONS) as client:
            items, rejected = fetch_targets(targets, client, state, OPTIONS)
        assert len(items) == 6 and rejected == []
        for srv in (one, two):
            times = [r.at for r in srv.requests() if r.path.startswith("/p")]
            assert all(b - a >= 0.2 for a, b in itertools.pairwise(times))
        # The second host's first page was asked for before the first host's last one: they overlapped.
        assert two.requests("/p0")[0].at < one.requests("/p2")[0].at


def test_charset_is_named_in_the_item_headers(server: FaultServer, state: FetchState) -> None:
    text = "Preis: 5 € für „Kaffee“"
    body = f'<html><head><meta charset="windows-1252"></head><body>{text}</body></html>'.encode("cp1252")
    server.route("/w", page(body, "text/html"))
    items, _ = fetch_targets([FetchTarget(server.url("/w"), "t")], FetchClient(OPTIONS), state, OPTIONS)
    (item,) = items
    assert header_value(item.http_headers, "content-type") == "text/html; charset=cp1252"
    assert header_value(item.http_headers, "x-charset-source") == "meta"
    assert text in decode_html(item.payload, item.http_headers)


# -- WARC ----------------------------------------------------------------------------------------------------


def write_warc(path: Path, *, corrupt_tail: bool = False) -> None:
    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=True)
    writer.write_record(writer.create_warcinfo_record("test.warc.gz", {"software": "test"}))

    def response(url: str, code: str, content_type: str, body: bytes, extra: list | None = None) -> None:
        headers = StatusAndHeaders(code, [("Content-Type", content_type), *(extra or [])], protocol="HTTP/1.1")
        record = writer.create_warc_record(
            url,
            "response",
            payload=io.BytesIO(body),
            http_headers=headers,
            warc_headers_dict={"WARC-Date": "2024-06-01T12:00:00Z"},
        )
        writer.write_record(record)

    response("https://news.example.org/a", "200 OK", "text/html; charset=utf-8", article("Alpha"))
    request = writer.create_warc_record("https://news.example.org/a", "request", payload=io.BytesIO(b"GET /a"))
    writer.write_record(request)
    response(
        "https://news.example.org/b",
        "200 OK",
        "text/html",
        gzip.compress('<meta charset="gb2312"><p>中文新闻</p>'.encode("gb2312")),
        [("Content-Encoding", "gzip")],
    )
    response("https://news.example.org/logo.png", "200 OK", "image/png", b"\x89PNG....")
    response("https://news.example.org/missing", "404 Not Found", "text/html", b"<html>nope</html>")
    data = buffer.getvalue()
    if corrupt_tail:
        data += b"\x1f\x8b\x08\x00garbage-that-is-not-a-warc-record" * 3
    path.write_bytes(data)


def test_warc_records_become_raw_items(tmp_path: Path, state: FetchState) -> None:
    warc = tmp_path / "CC-NEWS-20240601.warc.gz"
    write_warc(warc)
    sources = parse_source(warc, hints=SourceHints(name="CC"))
    assert [s.kind for s in sources] == ["warc"]
    with FetchClient(OPTIONS) as client:
        targets, rejected, items = discover_targets(sources, client, state, OPTIONS)
        assert client.stats.requests == 0
    assert targets == []
    assert [i.url for i in items] == ["https://news.example.org/a", "https://news.example.org/b"]
    alpha, beta = items
    assert alpha.payload == article("Alpha")
    assert alpha.fetched_at == datetime(2024, 6, 1, 12, tzinfo=UTC)
    assert alpha.item_key.startswith("warc:CC-NEWS-20240601.warc.gz#")
    assert alpha.external_id and alpha.external_id.startswith("<urn:uuid:")
    assert alpha.source == "CC"
    assert decode_html(beta.payload, beta.http_headers) == '<meta charset="gb2312"><p>中文新闻</p>'
    assert {(r.url, r.reason) for r in rejected} == {
        ("https://news.example.org/logo.png", "bad_content_type"),
        ("https://news.example.org/missing", "http_404"),
    }


def test_warc_item_keys_are_stable_and_corruption_is_reported(tmp_path: Path) -> None:
    warc = tmp_path / "x.warc.gz"
    write_warc(warc, corrupt_tail=True)
    spec = parse_source(warc)[0]
    first = list(iter_warc(spec, OPTIONS))
    second = list(iter_warc(spec, OPTIONS))
    assert [r.item_key for r in first] == [r.item_key for r in second]
    reasons = [getattr(r, "reason", None) for r in first]
    assert reasons.count(None) == 2  # both HTML pages read before the damage
    assert reasons[-1] == "warc_error"


# -- source specs --------------------------------------------------------------------------------------------


def test_sources_toml_is_parsed(tmp_path: Path) -> None:
    (tmp_path / "urls.txt").write_text(
        "# morning list\nhttps://a.example/news/1\n\nhttps://b.example/rss\nhttps://c.example/sitemap.xml\n"
    )
    write_warc(tmp_path / "dump.warc.gz")
    (tmp_path / "sources.toml").write_text(
        """
[defaults]
language = "en"
country = "US"
currency = "usd"

[[source]]
url = "https://www.example.com/world"
kind = "feed"
name = "Example World"
max_items = 50

[[source]]
url = "https://www.example.de/news-sitemap.xml"
language = "de"
country = "DE"
currency = "EUR"

[[source]]
path = "urls.txt"

[[source]]
path = "dump.warc.gz"
name = "CC-NEWS"
"""
    )
    specs = parse_source(tmp_path / "sources.toml")
    assert [(s.uri.rsplit("/", 1)[-1], s.kind) for s in specs] == [
        ("world", "feed"),
        ("news-sitemap.xml", "sitemap"),
        ("1", "page"),
        ("rss", "feed"),
        ("sitemap.xml", "sitemap"),
        ("dump.warc.gz", "warc"),
    ]
    assert specs[0].hints == SourceHints(name="Example World", language="en", country="US", currency="USD")
    assert specs[0].max_items == 50
    assert specs[1].hints == SourceHints(language="de", country="DE", currency="EUR")
    assert specs[2].hints == SourceHints(language="en", country="US", currency="USD")
    assert specs[5].hints.name == "CC-NEWS"


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[[source]]\nurl = "https://x.example/"\nfrequency = 3\n', "unknown keys"),
        ('[[source]]\nurl = "https://x.example/"\nkind = "podcast"\n', "kind"),
        ('[[source]]\nurl = "https://x.example/"\npath = "a.txt"\n', "exactly one"),
        ('[[source]]\nurl = "x.example"\n', "absolute URL"),
        ("[defaults]\nlanguage = 'en'\n", r"no \[\[source\]\]"),
        ("[[source]\n", "not valid TOML"),
    ],
)
def test_bad_sources_toml_names_the_problem(tmp_path: Path, toml: str, message: str) -> None:
    path = tmp_path / "sources.toml"
    path.write_text(toml)
    with pytest.raises(ValueError, match=message):
        parse_source(path)


def test_parse_source_rejects_what_does_not_exist(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="neither"):
        parse_source(tmp_path / "missing.txt")


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("https://example.org/sitemap_index.xml", "sitemap"),
        ("https://example.org/sitemaps/news.xml.gz", "sitemap"),
        ("https://example.org/feed/", "feed"),
        ("https://example.org/rss/world.xml", "feed"),
        ("https://example.org/index.atom", "feed"),
        ("https://example.org/2024/05/01/story.html", "auto"),
    ],
)
def test_classify_url(url: str, kind: str) -> None:
    assert classify_url(url) == kind


def test_sniff_kind() -> None:
    assert sniff_kind(b'<?xml version="1.0"?>\n<!-- c --><rss version="2.0">') == "feed"
    assert sniff_kind(b"<feed xmlns='http://www.w3.org/2005/Atom'>") == "feed"
    assert sniff_kind(b"<rdf:RDF xmlns:rdf='x'>") == "feed"
    assert sniff_kind(b"<urlset>") == "sitemap"
    assert sniff_kind(b"<!DOCTYPE html><html>") == "page"
    assert sniff_kind(b"%PDF") is None


# -- fetch state ---------------------------------------------------------------------------------------------


def test_fetch_state_commits_atomically_and_persists(tmp_path: Path) -> None:
    with FetchState(tmp_path) as state:
        state.record("https://a/1", status=200, etag='"e1"', last_modified="Mon, 01 Jan 2024 00:00:00 GMT")
        state.record("https://a/2", status=200)
        assert state.get("https://a/1") is None  # pending until committed
        assert state.commit(["https://a/1"]) == 1
        assert state.pending() == ["https://a/2"]
        assert state.discard_pending() == 1
    with FetchState(tmp_path) as state:
        remembered = state.get("https://a/1")
        assert remembered is not None
        assert (remembered.etag, remembered.last_modified, remembered.status) == (
            '"e1"',
            "Mon, 01 Jan 2024 00:00:00 GMT",
            200,
        )
        assert state.known(["https://a/1", "https://a/2", "https://a/3"]) == {"https://a/1"}
        assert state.count() == 1


def test_fetch_state_refuses_a_file_as_directory(tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("x")
    with pytest.raises(ValueError, match="is a file"):
        FetchState(target)


# -- Prefect wrappers ----------------------------------------------------------------------------------------


@pytest.mark.integration
def test_prefect_tasks_wrap_discovery_and_fetching(prefect_harness: None, server: FaultServer, tmp_path: Path) -> None:
    from prefect import flow

    from tasks.sources import discover_targets_task, fetch_targets_task

    serve_feed(server)

    @flow(name="fetch-wrapper-check")
    def fetch_feed(url: str, state_dir: str) -> tuple[int, int, int]:
        with FetchState(state_dir) as state, FetchClient(OPTIONS) as client:
            targets, rejected, _items = discover_targets_task(parse_source(url), client, state, OPTIONS)
            fetched, failed = fetch_targets_task(targets, client, state, OPTIONS)
            return len(targets), len(fetched), len(rejected) + len(failed)

    assert fetch_feed(server.url("/feed.xml"), str(tmp_path / "s")) == (3, 3, 1)


def test_auto_page_delivered_before_is_skipped(server: FaultServer, tmp_path: Path) -> None:
    server.route("/story", page(article("story"), etag='"s1"'))
    sources = parse_source(server.url("/story"))
    with FetchState(tmp_path / "s") as state:
        assert len(run(sources, state)[2]) == 1
        state.commit()
    with FetchState(tmp_path / "s") as state:
        _, _, items, stats = run(sources, state)
        assert (items, stats["skipped_known"]) == ([], 1)
        _, _, items, stats = run(sources, state, replace(OPTIONS, refetch=True))
        assert (items, stats["not_modified"]) == ([], 1)
    assert [r.header("If-None-Match") for r in server.requests("/story")] == [None, '"s1"']


def test_sitemap_url_serving_a_feed_is_read_as_a_feed(server: FaultServer, state: FetchState) -> None:
    server.route("/sitemap.xml", page(rss([(server.url("/x"), "X")]), "application/xml"))
    with FetchClient(OPTIONS) as client:
        targets, rejected, _ = discover_targets(parse_source(server.url("/sitemap.xml")), client, state, OPTIONS)
    assert ([t.url for t in targets], rejected) == ([server.url("/x")], [])


def test_retry_condition_retries_only_transient_failures() -> None:
    from tasks.fetch import FetchError
    from tasks.sources import retry_on_transient

    class Failed:
        def __init__(self, exc: BaseException) -> None:
            self.exc = exc

        def result(self) -> None:
            raise self.exc

    assert retry_on_transient(None, None, Failed(FetchError("timeout", "slow", transient=True)))
    assert retry_on_transient(None, None, Failed(ConnectionResetError()))
    assert not retry_on_transient(None, None, Failed(ValueError("bug")))


def test_sources_toml_rate_sets_the_host_delay(tmp_path: Path) -> None:
    from tasks import sources

    toml = tmp_path / "sources.toml"
    toml.write_text('[[source]]\nurl = "https://slow.example/feed.xml"\nkind = "feed"\nrate = 0.25\n')
    (spec,) = sources.load_sources_toml(toml)
    assert spec.rate == 0.25
    client = FetchClient(FetchOptions(host_delay_seconds=1.0))
    client.set_host_delay(spec.uri, 1 / spec.rate)
    assert client._host_delay("https://slow.example/a.html") == 4.0
    assert client._host_delay("https://other.example/a.html") == 1.0
    toml.write_text('[[source]]\nurl = "https://slow.example/feed.xml"\nrate = -1\n')
    with pytest.raises(ValueError, match="rate must be a positive number"):
        sources.load_sources_toml(toml)
