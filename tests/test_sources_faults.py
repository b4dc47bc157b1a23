"""Inputs that lose nothing: cut or bogus WARC files, URL lists with bad lines, sitemap caps that are counted,
sources files that cannot reach outside their folder, and time budgets that leave slow hosts for the next run.

Fetching runs against real servers on 127.0.0.1 (tests/httpfaults.py); budgets are small and the assertions
are on counts, never on durations.
"""

from __future__ import annotations

import io
import os
import random
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from storage.fetch_state import FetchState
from tasks.fetch import BudgetExhaustedError, FetchBudget, FetchClient
from tasks.records import STAGE_FETCH, RawItem, Rejection
from tasks.sources import (
    FetchTarget,
    SourceSpec,
    discover_targets,
    fetch_targets,
    iter_warc,
    parse_source,
    state_key,
)
from tests.httpfaults import FaultServer, Responder, drip, page, status
from tests.test_sources import OPTIONS  # fast timeouts, loopback allowed


@pytest.fixture
def state(tmp_path: Path) -> Iterator[FetchState]:
    with FetchState(tmp_path / "state") as st:
        yield st


def article(title: str) -> bytes:
    return f"<html><head><title>{title}</title></head><body><p>{title} body.</p></body></html>".encode()


# -- WARC: read to the end or rejected ------------------------------------------------------------------------


def write_warc(path: Path, pages: int, *, gzip: bool = True) -> list[int]:
    """Write a WARC of ``pages`` HTML responses (one gzip member per record, as CC-NEWS does); return the
    offset where each response record starts. Bodies are random text so a cut lands inside a body."""
    rng = random.Random(7)
    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=gzip)
    writer.write_record(writer.create_warcinfo_record(path.name, {"software": "test"}))
    offsets = []
    for number in range(pages):
        offsets.append(buffer.tell())
        words = " ".join("".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=8)) for _ in range(3000))
        body = f"<html><body><h1>Story {number}</h1><p>{words}</p></body></html>".encode()
        headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
        writer.write_record(
            writer.create_warc_record(
                f"https://news.example.org/{number}", "response", payload=io.BytesIO(body), http_headers=headers
            )
        )
    path.write_bytes(buffer.getvalue())
    return offsets


def read_warc(path: Path) -> tuple[list[RawItem], list[Rejection]]:
    records = list(iter_warc(parse_source(path)[0], OPTIONS))
    return [r for r in records if isinstance(r, RawItem)], [r for r in records if isinstance(r, Rejection)]


@pytest.mark.parametrize("gzip", [True, False], ids=["warc.gz", "warc"])
def test_warc_cut_inside_its_last_record_rejects_that_record(tmp_path: Path, gzip: bool) -> None:
    path = tmp_path / ("cut.warc.gz" if gzip else "cut.warc")
    offsets = write_warc(path, 3, gzip=gzip)
    data = path.read_bytes()
    path.write_bytes(data[: offsets[-1] + (len(data) - offsets[-1]) // 2])
    items, rejected = read_warc(path)
    assert [i.url for i in items] == ["https://news.example.org/0", "https://news.example.org/1"]
    assert all(i.payload.endswith(b"</html>") for i in items)
    assert [(r.reason, r.stage, r.url) for r in rejected] == [
        ("truncated_input", STAGE_FETCH, "https://news.example.org/2")
    ]


def test_warc_gz_cut_inside_the_gzip_trailer_is_truncated(tmp_path: Path) -> None:
    # Every record body is whole, but the last gzip member lost its CRC and length: the copy was cut.
    path = tmp_path / "cut.warc.gz"
    write_warc(path, 2)
    path.write_bytes(path.read_bytes()[:-3])
    items, rejected = read_warc(path)
    assert [i.url for i in items] == ["https://news.example.org/0"]
    assert [r.reason for r in rejected] == ["truncated_input"]


def test_warc_gz_cut_inside_the_last_record_headers_is_truncated(tmp_path: Path) -> None:
    path = tmp_path / "cut.warc.gz"
    offsets = write_warc(path, 3)
    path.write_bytes(path.read_bytes()[: offsets[-1] + 40])
    items, rejected = read_warc(path)
    assert len(items) == 2
    assert [r.reason for r in rejected] == ["truncated_input"]


def test_multi_member_warc_gz_is_read_to_the_end(tmp_path: Path) -> None:
    path = tmp_path / "CC-NEWS-20240601.warc.gz"
    write_warc(path, 25)
    items, rejected = read_warc(path)
    assert (len(items), rejected) == (25, [])
    assert items[-1].url == "https://news.example.org/24"


@pytest.mark.parametrize("text", [b"hello, this is a note\nnot an archive\n", b"\n\n\n"], ids=["text", "blank"])
def test_text_file_named_warc_is_one_not_a_warc_rejection(tmp_path: Path, text: bytes) -> None:
    path = tmp_path / "x.warc"
    path.write_bytes(text)
    items, rejected = read_warc(path)
    assert items == []
    assert [(r.reason, r.payload) for r in rejected] == [("not_a_warc", b"")]


def test_empty_warc_is_an_empty_payload_rejection(tmp_path: Path) -> None:
    path = tmp_path / "empty.warc"
    path.write_bytes(b"")
    assert [(type(r).__name__, getattr(r, "reason", None)) for r in iter_warc(parse_source(path)[0], OPTIONS)] == [
        ("Rejection", "empty_payload")
    ]


# -- URL lists ------------------------------------------------------------------------------------------------


def test_url_list_bad_line_is_its_own_rejection_and_the_rest_go_on(tmp_path: Path, state: FetchState) -> None:
    urls = tmp_path / "morning.urls"
    urls.write_text("# picks\nhttps://a.example/news/1\nexample.com/a\n\nhttps://b.example/news/2 tagged\n")
    specs = parse_source(urls)
    with FetchClient(OPTIONS) as client:
        targets, rejected, items = discover_targets(specs, client, state, OPTIONS)
    assert [t.url for t in targets] == ["https://a.example/news/1", "https://b.example/news/2"]
    assert items == []
    (bad,) = rejected
    assert (bad.reason, bad.stage, bad.payload) == ("bad_url", STAGE_FETCH, b"example.com/a")
    assert bad.item_key == f"urls:{urls.resolve()}#L3"


def test_file_that_is_no_url_list_copies_none_of_its_lines(tmp_path: Path, state: FetchState) -> None:
    secrets = tmp_path / "notes.txt"
    secrets.write_text("root:$6$saltsalt$hashhashhash:19000:0:99999:7:::\nalice:$6$pepper$morehash:19000::::::\n")
    (tmp_path / "sources.toml").write_text('[[source]]\npath = "notes.txt"\n')
    specs = parse_source(tmp_path / "sources.toml")
    with FetchClient(OPTIONS) as client:
        targets, rejected, items = discover_targets(specs, client, state, OPTIONS)
    assert (targets, items) == ([], [])
    (only,) = rejected
    assert (only.reason, only.payload) == ("not_a_url_list", b"")
    assert "hash" not in f"{only.detail} {only.url} {only.item_key}"


# -- sources file paths ---------------------------------------------------------------------------------------


def sources_file(folder: Path, path: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    toml = folder / "sources.toml"
    toml.write_text(f'[[source]]\nurl = "https://a.example/feed.xml"\n\n[[source]]\npath = "{path}"\n')
    return toml


def test_sources_file_path_may_not_climb_out_of_its_folder(tmp_path: Path) -> None:
    (tmp_path / "shadow").write_text("root:$6$salt$hash:19000:0:99999:7:::\n")
    toml = sources_file(tmp_path / "team" / "config", "../../shadow")
    with pytest.raises(ValueError, match=r"source #2: path '\.\./\.\./shadow' leads outside"):
        parse_source(toml)
    # The operator may allow it; the file is then read, as what it is (no URL list).
    specs = parse_source(toml, follow_symlinks=True)
    assert [s.rejection.reason for s in specs if s.rejection] == ["not_a_url_list"]


def test_sources_file_link_out_of_its_folder_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.txt"
    outside.write_text("https://c.example/news/3\n")
    folder = tmp_path / "config"
    toml = sources_file(folder, "more.urls")
    (folder / "more.urls").symlink_to(outside)
    with pytest.raises(ValueError, match=r"source #2: path 'more\.urls' leads outside"):
        parse_source(toml)
    assert [s.uri for s in parse_source(toml, follow_symlinks=True)][1:] == ["https://c.example/news/3"]


def test_sources_file_paths_inside_the_folder_and_absolute_ones_are_read(tmp_path: Path) -> None:
    folder = tmp_path / "config"
    (folder / "lists").mkdir(parents=True)
    (folder / "lists" / "a.urls").write_text("https://a.example/news/1\n")
    elsewhere = tmp_path / "shared" / "b.urls"
    elsewhere.parent.mkdir()
    elsewhere.write_text("https://b.example/news/2\n")
    toml = folder / "sources.toml"
    toml.write_text(f'[[source]]\npath = "lists/../lists/a.urls"\n\n[[source]]\npath = "{elsewhere}"\n')
    assert [s.uri for s in parse_source(toml)] == ["https://a.example/news/1", "https://b.example/news/2"]


@pytest.mark.parametrize("special", ["fifo", "/dev/null"])
def test_sources_file_path_that_is_no_regular_file_is_refused(tmp_path: Path, special: str) -> None:
    if special == "fifo":
        target = tmp_path / "pipe"
        os.mkfifo(target)  # reading it would wait forever for a writer
        special = str(target)
    toml = sources_file(tmp_path / "config", special)
    with pytest.raises(ValueError, match=r"source #2: .*not a regular file or directory"):
        parse_source(toml)


def test_sources_file_that_names_itself_is_refused(tmp_path: Path) -> None:
    toml = sources_file(tmp_path, "sources.toml")
    with pytest.raises(ValueError, match="names itself"):
        parse_source(toml)


# -- sitemaps: what the caps leave out is counted -------------------------------------------------------------


SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"


def sitemap_index(children: list[str]) -> bytes:
    entries = "".join(
        f"<sitemap><loc>{c}</loc><lastmod>2024-06-{i + 1:02d}</lastmod></sitemap>" for i, c in enumerate(children)
    )
    return f'<sitemapindex xmlns="{SITEMAP_NS}">{entries}</sitemapindex>'.encode()


def urlset(urls: list[str]) -> bytes:
    entries = "".join(f"<url><loc>{u}</loc></url>" for u in urls)
    return f'<urlset xmlns="{SITEMAP_NS}">{entries}</urlset>'.encode()


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as srv:
        yield srv


def serve_index(server: FaultServer, days: int, per_day: int) -> None:
    children = [server.url(f"/sitemap-{d}.xml") for d in range(days)]
    server.route("/sitemap.xml", page(sitemap_index(children), "application/xml"))
    for d in range(days):
        urls = [server.url(f"/{d}/story-{n}") for n in range(per_day)]
        server.route(f"/sitemap-{d}.xml", page(urlset(urls), "application/xml"))


def test_sitemaps_past_the_cap_are_counted(server: FaultServer, state: FetchState) -> None:
    serve_index(server, days=5, per_day=2)
    options = replace(OPTIONS, max_sitemaps_per_source=2)
    with FetchClient(options) as client:
        targets, rejected, _ = discover_targets(parse_source(server.url("/sitemap.xml")), client, state, options)
        stats = client.stats.snapshot()
    assert (len(targets), rejected) == (4, [])
    assert (stats["sitemaps_over_cap"], stats["urls_over_cap"]) == (3, 0)


def test_sitemaps_left_unread_by_the_url_cap_are_counted(server: FaultServer, state: FetchState) -> None:
    serve_index(server, days=4, per_day=3)
    options = replace(OPTIONS, max_urls_per_source=4)
    with FetchClient(options) as client:
        targets, _, _ = discover_targets(parse_source(server.url("/sitemap.xml")), client, state, options)
        stats = client.stats.snapshot()
    # Two child sitemaps read (3 URLs, then 1 of 3), two never read.
    assert len(targets) == 4
    assert (stats["urls_over_cap"], stats["sitemaps_over_cap"]) == (2, 2)


# -- time budgets ---------------------------------------------------------------------------------------------


def slow_page() -> Responder:
    # Headers at once, then 16 bytes every 0.3 s: each read is quick, the whole page takes ~9 s.
    return drip(article("slow") + b" " * 400, 0.3)


def test_fetch_budget_counts_overlapping_requests_once() -> None:
    now = [0.0]
    budget = FetchBudget(host_seconds=10.0, run_seconds=5.0, clock=lambda: now[0])
    with budget.running():
        with budget.running(), budget.charge("a.example"):
            now[0] += 2.0
        now[0] += 1.0
    assert budget.remaining("a.example") == 2.0  # the run used 3 s in all, host a 2 s
    now[0] += 100.0  # time outside any request (cleaning, writing) does not count
    assert budget.remaining("b.example") == 2.0
    budget.use_up("b.example")  # the run's 2 s bind before b's 10 s: the run is spent
    assert (budget.spent_by("a.example"), budget.remaining("c.example")) == ("run", 0.0)


def test_slow_host_is_left_for_the_next_run_once_its_budget_is_spent(tmp_path: Path) -> None:
    with FaultServer() as slow, FaultServer() as fast:
        for n in range(4):
            slow.route(f"/s{n}", slow_page())
        for n in range(3):
            fast.route(f"/f{n}", page(article(f"fast {n}")))
        targets = [FetchTarget(slow.url(f"/s{n}"), "list") for n in range(4)]
        targets += [FetchTarget(fast.url(f"/f{n}"), "list") for n in range(3)]
        options = replace(OPTIONS, host_budget_seconds=1.0)
        with FetchState(tmp_path / "s") as state, FetchClient(options) as client:
            items, rejected = fetch_targets(targets, client, state, options)
            stats = client.stats.snapshot()
            assert client.stats.budget_hosts() == [f"127.0.0.1:{slow.port}"]
            state.commit()
        assert sorted(i.url or "" for i in items) == [fast.url(f"/f{n}") for n in range(3)]
        assert rejected == []
        assert (stats["deferred_budget"], stats["hosts_over_budget"], stats["run_over_budget"]) == (4, 1, 0)
        assert len(slow.requests("/s0")) == 1 and slow.requests("/s1") == []  # no request once it was spent

        # The next run: nothing was remembered for the slow pages, so they are fetched now.
        for n in range(4):
            slow.route(f"/s{n}", page(article(f"slow {n}")))
        with FetchState(tmp_path / "s") as state, FetchClient(OPTIONS) as client:
            assert state.known(state_key(t.url) for t in targets) == {state_key(fast.url(f"/f{n}")) for n in range(3)}
            items, rejected = fetch_targets(targets, client, state, OPTIONS)
            assert client.stats.skipped_known == 3
        assert (sorted(i.url or "" for i in items), rejected) == ([slow.url(f"/s{n}") for n in range(4)], [])


def test_run_budget_stops_new_requests_everywhere(tmp_path: Path) -> None:
    with FaultServer() as one, FaultServer() as two, FaultServer() as later:
        for server in (one, two):
            for n in range(3):
                server.route(f"/p{n}", slow_page())
        later.route("/p", page(article("later")))
        targets = [FetchTarget(s.url(f"/p{n}"), "list") for s in (one, two) for n in range(3)]
        options = replace(OPTIONS, run_budget_seconds=1.0, max_workers=2)
        with FetchState(tmp_path / "s") as state, FetchClient(options) as client:
            items, rejected = fetch_targets(targets, client, state, options)
            assert (items, rejected) == ([], [])
            items, rejected = fetch_targets([FetchTarget(later.url("/p"), "list")], client, state, options)
            assert (items, rejected) == ([], [])
            stats = client.stats.snapshot()
        assert (stats["deferred_budget"], stats["run_over_budget"], stats["hosts_over_budget"]) == (7, 1, 0)
        assert later.requests() == []


def test_feed_not_read_for_lack_of_time_is_read_by_the_next_run(server: FaultServer, tmp_path: Path) -> None:
    server.route("/feed.xml", drip(b'<?xml version="1.0"?><rss version="2.0"><channel>' + b" " * 600, 0.3))
    sources = parse_source(server.url("/feed.xml"))
    options = replace(OPTIONS, host_budget_seconds=1.0)
    with FetchState(tmp_path / "s") as state, FetchClient(options) as client:
        targets, rejected, items = discover_targets(sources, client, state, options)
        assert (targets, rejected, items) == ([], [], [])
        assert client.stats.deferred_budget == 1
        state.commit()
    feed = (
        f'<?xml version="1.0"?><rss version="2.0"><channel><item><link>{server.url("/a")}</link></item></channel></rss>'
    )
    server.route("/feed.xml", page(feed.encode(), "application/rss+xml"))
    with FetchState(tmp_path / "s") as state, FetchClient(OPTIONS) as client:
        targets, rejected, _ = discover_targets(sources, client, state, OPTIONS)
    assert ([t.url for t in targets], rejected) == ([server.url("/a")], [])


def test_retry_that_does_not_fit_the_budget_is_deferred_not_rejected(server: FaultServer, state: FetchState) -> None:
    server.route("/busy", status(503, {"Retry-After": "30"}))
    options = replace(OPTIONS, host_budget_seconds=2.0, max_retry_after_seconds=60.0)
    with FetchClient(options) as client:
        items, rejected = fetch_targets([FetchTarget(server.url("/busy"), "list")], client, state, options)
        stats = client.stats.snapshot()
    # Waiting 30 s to retry does not fit in 2 s: left for the next run, and the host is not spent.
    assert (items, rejected) == ([], [])
    assert (stats["deferred_budget"], stats["hosts_over_budget"], stats["requests"]) == (1, 0, 2)
    assert len(server.requests("/busy")) == 1


def test_client_raises_budget_exhausted_once_the_host_is_spent(server: FaultServer) -> None:
    server.route("/slow", drip(article("slow") + b" " * 400, 0.3))
    server.route("/next", page(article("next")))
    with FetchClient(replace(OPTIONS, host_budget_seconds=1.0)) as client:
        with pytest.raises(BudgetExhaustedError) as first:
            client.get(server.url("/slow"))
        with pytest.raises(BudgetExhaustedError) as second:
            client.get(server.url("/next"))
    assert (first.value.scope, second.value.scope) == ("host", "host")
    assert server.requests("/next") == []


def test_budget_settings_reach_the_fetch_options() -> None:
    from flows.options import fetch_options
    from flows.settings import Settings

    options = fetch_options(Settings(fetch_host_budget_seconds=12.5, fetch_run_budget_seconds=90.0))
    assert (options.host_budget_seconds, options.run_budget_seconds) == (12.5, 90.0)


def test_spec_with_a_rejection_fetches_nothing(state: FetchState) -> None:
    problem = Rejection("urls:/x#L1", "/x", STAGE_FETCH, "bad_url", "line 1", b"x")
    with FetchClient(OPTIONS) as client:
        assert discover_targets([SourceSpec("/x", "page", rejection=problem)], client, state, OPTIONS) == (
            [],
            [problem],
            [],
        )
        assert client.stats.requests == 0
