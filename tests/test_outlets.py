"""Outlets: registrable domains from the bundled suffix list, archive captures resolved, the new ``articles`` columns
in old and new files, and a run of the command line that fills them."""

from __future__ import annotations

import json
import os
import socket
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import tldextract
from hypothesis import given
from hypothesis import strategies as st

import storage.schemas
import tasks.rows
from storage.lake import Lake
from storage.query import connect
from storage.schemas import ARTICLES, SCHEMA_VERSION, SCHEMA_VERSION_KEY
from tasks.maintenance import compact_lake
from tasks.outlets import captured_url, load_extractor, outlet_for, outlet_of
from tasks.records import Article
from tasks.rows import articles_table
from tests.invariants import news_page, news_text, run_cli, write_jsonl

NOW = datetime(2025, 11, 23, 8, 0, tzinfo=UTC)
NEW_COLUMNS = ("outlet", "outlet_name", "captured_url")

# -- outlet_of ----------------------------------------------------------------------------------------------

OUTLETS = [
    # subdomains and www
    ("https://news.bbc.co.uk/business/1", "bbc.co.uk"),
    ("https://www.bbc.co.uk/news", "bbc.co.uk"),
    ("https://bbc.co.uk/news", "bbc.co.uk"),
    ("https://www.lemonde.fr/politique/article/x.html", "lemonde.fr"),
    ("https://edition.cnn.com/2025/01/01/x", "cnn.com"),
    ("https://a.b.c.d.example.org/", "example.org"),
    # multi-part public suffixes
    ("https://www.smh.com.au/business/x", "smh.com.au"),
    ("https://www.abc.net.au/news/x", "abc.net.au"),
    ("https://www.ons.gov.uk/economy", "ons.gov.uk"),
    ("https://www.gov.uk/government/news/x", "gov.uk"),  # www in front of a suffix: the suffix owner's site
    ("https://gov.uk/", "gov.uk"),  # a host that is a public suffix is its own outlet
    ("https://www.com/", "www.com"),  # but www. in front of a top-level domain is a registrant's name
    ("https://www.blogspot.com/", "blogspot.com"),
    ("https://www.asahi.co.jp/x", "asahi.co.jp"),
    ("https://g1.globo.com.br/x", "globo.com.br"),
    # private suffixes count: each blog on a platform is an outlet
    ("https://foo.blogspot.com/2025/01/post.html", "foo.blogspot.com"),
    ("https://www.foo.blogspot.com/", "foo.blogspot.com"),
    ("https://bar.blogspot.com/", "bar.blogspot.com"),
    ("https://blogspot.com/", "blogspot.com"),
    ("https://someone.github.io/notes/", "someone.github.io"),
    ("https://docs.someone.github.io/", "someone.github.io"),
    ("https://paper.netlify.app/a", "paper.netlify.app"),
    # IP addresses, localhost, single labels, hosts under no known suffix
    ("http://127.0.0.1:8000/a", "127.0.0.1"),
    ("http://203.0.113.7/news", "203.0.113.7"),
    ("http://[::1]:8080/a", "::1"),
    ("http://[2001:DB8::1]/a", "2001:db8::1"),
    ("http://localhost/a", "localhost"),
    ("http://localhost:8080/a", "localhost"),
    ("http://newsroom/a", "newsroom"),
    ("http://intranet.corp/a", "intranet.corp"),
    ("http://www.intranet.corp/a", "intranet.corp"),
    # internationalised hosts: Unicode, whichever way they were written
    ("https://xn--mnchen-3ya.de/a", "münchen.de"),
    ("https://www.münchen.de/a", "münchen.de"),
    ("https://WWW.MÜNCHEN.DE/a", "münchen.de"),
    ("https://XN--MNCHEN-3YA.DE/a", "münchen.de"),
    ("https://xn--strae-oqa.de/", "straße.de"),
    ("https://straße.de/", "straße.de"),
    ("https://новости.пример.рф/a", "пример.рф"),
    ("https://xn--e1afmkfd.xn--p1ai/a", "пример.рф"),
    ("https://www．lemonde．fr/a", "lemonde.fr"),  # full-width dots
    ("https://xn--zz.com/", "xn--zz.com"),  # punycode that does not decode is kept as written
    # ports, case, user info, trailing dot, scheme-relative, other schemes
    ("https://www.example.co.uk:8443/a", "example.co.uk"),
    ("HTTPS://WWW.BBC.CO.UK/NEWS", "bbc.co.uk"),
    ("https://user:secret@news.example.co.uk/a", "example.co.uk"),
    ("https://www.bbc.co.uk./news", "bbc.co.uk"),
    ("//news.bbc.co.uk/a", "bbc.co.uk"),
    ("ftp://ftp.example.com/file", "example.com"),
    ("  https://www.bbc.co.uk/news  ", "bbc.co.uk"),
    # no scheme
    ("www.lemonde.fr/politique", "lemonde.fr"),
    ("news.bbc.co.uk", "bbc.co.uk"),
    ("example.com:8080/a?b=1", "example.com"),
    ("localhost:8080/a", "localhost"),
    # garbage
    ("", None),
    ("   ", None),
    ("not a url", None),
    ("foo", None),
    ("mailto:desk@example.com", None),
    ("javascript:void(0)", None),
    ("data:text/html,<p>x</p>", None),
    ("http://", None),
    ("http:///path", None),
    ("https://exa mple.com/", None),
    ("http://[::1/a", None),
    ("http://.../", None),
    ("http://-/", None),
    ("file:///tmp/page.html", None),
    ("/relative/path", None),
    ("?q=1", None),
]


@pytest.mark.parametrize(("url", "outlet"), OUTLETS)
def test_outlet_of(url: str, outlet: str | None) -> None:
    assert outlet_of(url) == outlet


def test_outlet_of_nothing_is_none() -> None:
    assert outlet_of(None) is None


# -- captured_url -------------------------------------------------------------------------------------------

CAPTURES = [
    # Wayback Machine: flags, http and https inside, query and fragment kept, short timestamps, both hosts
    (
        "https://web.archive.org/web/20190101000000/https://www.example.com/a",
        "https://www.example.com/a",
    ),
    (
        "https://web.archive.org/web/20190101000000id_/http://www.example.co.uk/story?id=7",
        "http://www.example.co.uk/story?id=7",
    ),
    ("http://web.archive.org/web/20190101000000im_/https://cdn.example.com/p.jpg", "https://cdn.example.com/p.jpg"),
    ("https://web.archive.org/web/2019js_/https://www.example.com/app.js", "https://www.example.com/app.js"),
    (
        "https://web.archive.org/web/20190101000000/https://www.example.com/a?x=1&y=2#part",
        "https://www.example.com/a?x=1&y=2#part",
    ),
    ("https://wayback.archive.org/web/20190101/http://www.example.com/a", "http://www.example.com/a"),
    ("https://WEB.ARCHIVE.ORG/web/20190101000000/https://www.example.com/a", "https://www.example.com/a"),
    ("https://web.archive.org/20190101000000/https://www.example.com/a", "https://www.example.com/a"),
    # what URL normalisation makes of a capture: the inner "//" collapsed
    ("https://web.archive.org/web/20190101000000/https:/www.example.com/a", "https://www.example.com/a"),
    # a capture written with a bare host: the archive reads it as http
    ("https://web.archive.org/web/2019/www.example.com/a", "http://www.example.com/a"),
    # the whole inner URL percent-encoded: decoded once
    (
        "https://web.archive.org/web/20190101000000/https%3A%2F%2Fwww.example.com%2Fa%3Fq%3D1",
        "https://www.example.com/a?q=1",
    ),
    # an encoded character inside an otherwise plain inner URL stays encoded
    ("https://web.archive.org/web/2019/https://www.example.com/a%20b", "https://www.example.com/a%20b"),
    # archive.today and its mirrors: long forms only
    ("https://archive.ph/20190101000000/https://www.example.com/a", "https://www.example.com/a"),
    ("https://archive.today/2019.01.01-000000/http://www.example.com/a", "http://www.example.com/a"),
    ("http://archive.is/20190101000000/https://www.example.com/a", "https://www.example.com/a"),
    ("https://archive.li/20190101000000/https://www.example.com/a", "https://www.example.com/a"),
    ("https://archive.md/20190101000000/https://www.example.com/a", "https://www.example.com/a"),
    ("https://archive.vn/20190101000000/https://www.example.com/a", "https://www.example.com/a"),
    ("https://archive.ph/newest/https://www.example.com/a", "https://www.example.com/a"),
    ("https://archive.ph/20190101000000/https%3A%2F%2Fwww.example.com%2Fa", "https://www.example.com/a"),
    # a capture of a capture: the innermost page
    (
        "https://web.archive.org/web/2019/https://archive.ph/20190101000000/https://www.example.com/a",
        "https://www.example.com/a",
    ),
    # no captured URL
    ("https://archive.ph/AbCd1", None),
    ("https://archive.ph/AbCd1/image", None),
    ("https://archive.ph/https://www.example.com/a", None),  # a listing of captures
    ("https://web.archive.org/web/*/www.example.com/*", None),
    ("https://web.archive.org/web/2019*/www.example.com", None),
    ("https://web.archive.org/web/2019/", None),
    ("https://web.archive.org/web/2019/newsroom", None),
    ("https://web.archive.org/web/2019/javascript:alert(1)", None),
    ("https://web.archive.org/", None),
    ("https://www.example.com/web/20190101000000/https://www.other.com/a", None),
    ("https://notweb.archive.org.example.com/web/2019/https://www.example.com/a", None),
    ("https://www.example.com/a", None),
    ("", None),
    ("not a url", None),
]


@pytest.mark.parametrize(("url", "captured"), CAPTURES)
def test_captured_url(url: str, captured: str | None) -> None:
    assert captured_url(url) == captured


def test_outlet_for_prefers_the_captured_page_then_the_canonical_url() -> None:
    wayback = "https://web.archive.org/web/20190101000000id_/http://news.example.co.uk/story"
    # the item's URL is a capture: the outlet is the archived page's, whatever the canonical URL says
    assert outlet_for("https://web.archive.org/web/20190101000000/http:/news.example.co.uk/story", wayback) == (
        "example.co.uk",
        "http://news.example.co.uk/story",
    )
    # only the canonical URL is a capture (a short-id URL whose page names its long form)
    assert outlet_for("https://archive.ph/20190101000000/https://www.example.com/a", "https://archive.ph/AbCd1") == (
        "example.com",
        "https://www.example.com/a",
    )
    # no capture: the canonical URL's outlet, else the URL's
    assert outlet_for("https://www.bbc.co.uk/news/1", "https://m.bbc.com/x") == ("bbc.co.uk", None)
    assert outlet_for(None, "https://foo.blogspot.com/p") == ("foo.blogspot.com", None)
    assert outlet_for("not a url", "https://foo.blogspot.com/p") == ("foo.blogspot.com", None)
    # an archive short id names no page: the archive is the outlet
    assert outlet_for(None, "https://archive.ph/AbCd1") == ("archive.ph", None)
    assert outlet_for(None, "https://web.archive.org/web/*/example.com") == ("archive.org", None)
    assert outlet_for(None, None) == (None, None)


URLISH = st.builds(
    "{}{}{}{}".format,
    st.sampled_from(["", "http://", "https://", "//", "HTTP://", "ftp://", "mailto:", "https:/"]),
    st.text(alphabet=st.sampled_from("abcxyz.-_:@[]%0127"), max_size=30) | st.text(max_size=30),
    st.sampled_from(["", ".com", ".co.uk", ".blogspot.com", ".xn--p1ai", ".рф", "."]),
    st.sampled_from(["", "/", "/a?b=1", ":8080/x", "#f", "/web/2019/https://x.co.uk/a"]),
)


@given(url=URLISH | st.text(max_size=60))
def test_outlet_functions_never_raise_and_return_names(url: str) -> None:
    outlet = outlet_of(url)
    assert outlet is None or (outlet and outlet == outlet.strip() and "/" not in outlet and " " not in outlet)
    for archive in ("https://web.archive.org/web/2019/", "https://archive.ph/20190101000000/"):
        inner = captured_url(archive + url)
        assert inner is None or inner.lower().startswith(("http://", "https://"))
    assert outlet_for(url, url)[0] == (outlet_of(captured_url(url)) if captured_url(url) else outlet)


# -- no network, no disk --------------------------------------------------------------------------------------

_WATCHING: list[tuple[str, str]] = []
_WATCH = [False]
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


def _audit(event: str, args: tuple[Any, ...]) -> None:
    """Record, while watching, every network call and every file opened for writing or directory created."""
    if not _WATCH[0]:
        return
    if event.startswith("socket.") and event != "socket.__new__":
        _WATCHING.append((event, repr(args)[:200]))
    elif event == "open":
        _path, mode, flags = args
        writing = any(c in str(mode or "") for c in "wax+") or bool(int(flags or 0) & _WRITE_FLAGS)
        if writing:
            _WATCHING.append((event, repr(args)[:200]))
    elif event in {"os.mkdir", "os.rename", "os.remove", "os.symlink", "shutil.copyfile"}:
        _WATCHING.append((event, repr(args)[:200]))


sys.addaudithook(_audit)


def _no_network(*args: object, **kwargs: object) -> None:
    _WATCHING.append(("blocked network call", repr(args)[:200]))
    raise OSError("network unreachable")


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """No network (every attempt recorded), tldextract's default cache places in an empty folder; yield that
    folder while every network call and disk write is recorded in ``_WATCHING``."""
    home = tmp_path / "home"
    home.mkdir()
    for name in ("HOME", "XDG_CACHE_HOME", "TLDEXTRACT_CACHE"):
        monkeypatch.setenv(name, str(home / name.lower()))
    monkeypatch.setenv("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "https://publicsuffix.invalid/list.dat")
    monkeypatch.setattr(socket.socket, "connect", _no_network)
    monkeypatch.setattr(socket, "getaddrinfo", _no_network)
    monkeypatch.setattr(socket, "create_connection", _no_network)
    # Codecs and modules load on first use; load them now, so that an import writing its bytecode cache is not
    # taken for the suffix list's doing.
    outlet_of("https://xn--mnchen-3ya.de/")
    load_extractor.cache_clear()
    _WATCHING.clear()
    _WATCH[0] = True
    try:
        yield home
    finally:
        _WATCH[0] = False
        load_extractor.cache_clear()


def test_the_suffix_list_is_the_bundled_one_read_without_network_or_disk_writes(offline: Path) -> None:
    extractor = load_extractor()
    outlets = [outlet_of(url) for url, _ in OUTLETS]
    tlds = extractor.tlds
    seen = list(_WATCHING)
    assert seen == []
    assert outlets == [outlet for _, outlet in OUTLETS]
    assert list(offline.iterdir()) == []
    # the bundled snapshot, private section included: thousands of suffixes, none fetched
    assert extractor.suffix_list_urls == ()
    assert {"co.uk", "com.au", "gov.uk", "blogspot.com", "github.io", "рф"} <= set(tlds)
    assert len(tlds) > 5000


def test_the_watch_sees_what_a_fetching_caching_extractor_does(offline: Path) -> None:
    # The same watch on tldextract's defaults (fetch the list, cache it on disk): both are seen, so the test above
    # would fail if load_extractor fetched or cached.
    cache = offline / "cache"
    fetching = tldextract.TLDExtract(cache_dir=str(cache))
    assert fetching("https://news.bbc.co.uk/a").top_domain_under_public_suffix == "bbc.co.uk"  # snapshot fallback
    events = {event for event, _ in _WATCHING}
    assert "blocked network call" in events
    assert "open" in events or "os.mkdir" in events
    assert any(cache.rglob("*.json"))


# -- the articles rows ----------------------------------------------------------------------------------------


def _article(i: int, url: str | None, canonical_url: str | None = None, site_name: str | None = None) -> Article:
    return Article(
        article_id=f"a{i}",
        item_key=f"k{i}",
        source_uri=f"/in/{i}.html",
        source="local",
        text=f"text {i}",
        content_hash=f"h{i}",
        fetched_at=NOW,
        url=url,
        canonical_url=canonical_url,
        site_name=site_name,
        published_at=NOW,
    )


def test_articles_rows_carry_outlet_name_and_captured_url() -> None:
    articles = [
        _article(0, "https://www.bbc.co.uk/news/1", "https://bbc.co.uk/news/1", site_name="BBC News"),
        _article(1, "https://web.archive.org/web/20190101000000id_/https://www.lemonde.fr/a", None, site_name=" "),
        _article(2, None),
    ]
    rows = articles_table(articles, {}, "run-1").to_pylist()
    assert [(r["outlet"], r["outlet_name"], r["captured_url"]) for r in rows] == [
        ("bbc.co.uk", "BBC News", None),
        ("lemonde.fr", "lemonde.fr", "https://www.lemonde.fr/a"),
        (None, None, None),
    ]
    # source, url and article_id keep their meaning
    assert [(r["source"], r["url"], r["article_id"]) for r in rows][1] == ("local", articles[1].url, "a1")


# -- files written before the columns existed -----------------------------------------------------------------

OLD_ARTICLES = pa.schema([f for f in ARTICLES if f.name not in NEW_COLUMNS])


def _write_old_batch(lake: Lake, monkeypatch: pytest.MonkeyPatch, articles: list[Article]) -> None:
    """Commit ``articles`` with the lake's writer as it was under schema version 1 (no outlet columns)."""
    with monkeypatch.context() as patch:
        patch.setitem(storage.schemas.SCHEMAS, "articles", OLD_ARTICLES)
        patch.setattr(storage.schemas, "SCHEMA_VERSION", 1)
        patch.setattr(tasks.rows, "SCHEMA_VERSION", 1)
        lake.commit_batch("old-run", "b00000", {"articles": articles_table(articles, {}, "old-run")})


def test_a_lake_with_files_from_before_the_outlet_columns_still_reads(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake = Lake(str(data_dir))
    _write_old_batch(lake, monkeypatch, [_article(0, "https://www.bbc.co.uk/news/1")])
    (old_file,) = lake.files("articles")
    old_schema = pq.read_schema(old_file)
    assert old_schema.metadata[SCHEMA_VERSION_KEY] == b"1"
    assert not set(NEW_COLUMNS) & set(old_schema.names)

    # Only old files: every reader still offers the columns, null.
    assert lake.read("articles", columns=["article_id", *NEW_COLUMNS]).to_pylist() == [
        {"article_id": "a0", "outlet": None, "outlet_name": None, "captured_url": None}
    ]
    assert connect(str(data_dir)).sql("select article_id, outlet, captured_url from articles").fetchall() == [
        ("a0", None, None)
    ]

    # An old file and a new one.
    new = [_article(1, "https://web.archive.org/web/2019/https://www.lemonde.fr/a", site_name="Le Monde")]
    lake.commit_batch("new-run", "b00000", {"articles": articles_table(new, {}, "new-run")})
    expected = [
        ("a0", None, None, None, 1),
        ("a1", "lemonde.fr", "Le Monde", "https://www.lemonde.fr/a", SCHEMA_VERSION),
    ]
    rows = lake.read("articles").to_pylist()
    assert sorted((r["article_id"], *(r[c] for c in NEW_COLUMNS), r["schema_version"]) for r in rows) == expected
    con = connect(str(data_dir))
    got = con.sql(
        "select article_id, outlet, outlet_name, captured_url, schema_version from articles order by article_id"
    ).fetchall()
    assert got == expected
    # the view's types are the declared ones, whichever file a column came from
    types = dict(con.sql("select column_name, column_type from (describe articles)").fetchall())
    assert types["outlet"] == "VARCHAR" and types["date"] == "DATE" and types["published_at"].startswith("TIMESTAMP")
    assert con.sql("select count(*) from articles where date = date '2025-11-23'").fetchall() == [(2,)]
    # a plain DuckDB reader with union_by_name, as the README shows
    files = f"'{data_dir}/articles/**/*.parquet'"
    sql = f"select article_id, outlet from read_parquet({files}, union_by_name = true) order by article_id"
    plain = duckdb.connect().sql(sql).fetchall()
    assert plain == [("a0", None), ("a1", "lemonde.fr")]

    # Compaction merges the two into one file of the current schema, the old row null in the new columns.
    with lake.write_lock():
        assert compact_lake(lake, ["articles"]) == {"articles": 2}
    (compacted,) = lake.files("articles")
    assert set(NEW_COLUMNS) <= set(pq.read_schema(compacted).names)
    rows = lake.read("articles").to_pylist()
    assert sorted((r["article_id"], *(r[c] for c in NEW_COLUMNS), r["schema_version"]) for r in rows) == expected


# -- the command line --------------------------------------------------------------------------------------------


@pytest.mark.integration
def test_a_run_writes_the_outlet_of_pages_and_of_archive_captures(cli_env: dict[str, str], tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    head = (
        '<link rel="canonical" href="https://news.bbc.co.uk/business/trade-1">'
        '<meta property="og:site_name" content="BBC News">'
    )
    (folder / "page.html").write_bytes(news_page("outlet-page", head=head))
    wayback = "https://web.archive.org/web/20190101000000id_/http://www.example.co.uk/story?id=7"
    write_jsonl(
        folder / "captures.jsonl",
        [{"id": "cap-1", "url": wayback, "title": "An archived story", "text": news_text("outlet-capture")}],
    )
    data_dir = tmp_path / "data"
    done = run_cli(["run", str(folder), "--data-dir", str(data_dir), "--no-progress"], cli_env)
    assert done.returncode == 0, done.stderr[-3000:]
    articles = {row["item_key"]: row for row in Lake(str(data_dir)).read("articles").to_pylist()}
    assert len(articles) == 2
    page = articles[str(folder / "page.html")]
    assert (page["source"], page["outlet"], page["outlet_name"], page["captured_url"]) == (
        "news.bbc.co.uk",
        "bbc.co.uk",
        "BBC News",
        None,
    )
    (capture,) = [row for key, row in articles.items() if key.startswith(str(folder / "captures.jsonl"))]
    assert capture["url"] == wayback
    assert capture["source"] == "web.archive.org"
    assert (capture["outlet"], capture["outlet_name"], capture["captured_url"]) == (
        "example.co.uk",
        "example.co.uk",
        "http://www.example.co.uk/story?id=7",
    )
    # and through the query command's views
    query = run_cli(
        [
            "query",
            "select outlet, count(*) as n from articles group by outlet order by outlet",
            "--data-dir",
            str(data_dir),
            "--format",
            "json",
        ],
        cli_env,
    )
    assert query.returncode == 0, query.stderr[-3000:]
    assert json.loads(query.stdout) == [{"outlet": "bbc.co.uk", "n": 1}, {"outlet": "example.co.uk", "n": 1}]
