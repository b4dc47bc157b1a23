"""Per-source health: which source an item belongs to, what each request did, the figures per source, drift against
a source's own recent runs, and the run's outcome; then the real flow flagging a site that lost its article body."""

from __future__ import annotations

import json
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from storage.lake import Lake
from tasks.fetch import FetchClient, FetchError, FetchOptions
from tasks.health import (
    DRIFT_MIN_RUNS,
    FetchRecord,
    HealthTally,
    RecordingFetcher,
    decide_outcome,
    drift_findings,
    map_sources,
)
from tasks.records import Article, DedupDecision, RawItem, Rejection, SourceHints
from tasks.sources import FetchTarget
from tests.httpfaults import FaultServer, page, status
from tests.invariants import ingest, news_page, news_text

NOW = datetime(2025, 11, 23, 8, 0, tzinfo=UTC)


# -- sources ------------------------------------------------------------------------------------------------


def test_a_source_is_a_sources_file_entry_a_url_or_a_path_given(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    urls = tmp_path / "conf" / "wires.urls"
    urls.parent.mkdir()
    urls.write_text("https://wire.example/a\nhttps://wire.example/b\n")
    sources = tmp_path / "conf" / "sources.toml"
    sources.write_text(
        '[[source]]\nname = "Desk"\nurl = "https://desk.example/feed.xml"\n\n[[source]]\npath = "wires.urls"\n'
    )
    mapping = map_sources([str(folder), str(sources), "https://news.example/sitemap.xml"])
    assert {key: (s.kind, s.name) for key, s in mapping.sources.items()} == {
        str(folder): ("local", None),
        "https://desk.example/feed.xml": ("feed", "Desk"),
        str(urls): ("path", None),
        "https://news.example/sitemap.xml": ("sitemap", None),
    }
    assert mapping.key_of(str(folder / "sub" / "a.html")) == str(folder)  # files under a folder given
    assert mapping.key_of(str(folder)) == str(folder)
    assert mapping.key_of("https://wire.example/b") == str(urls)  # a line of a URL list named by an entry
    mapping.add_targets(
        [FetchTarget(url="https://desk.example/2025/story", source_uri="https://desk.example/feed.xml")]
    )
    assert mapping.key_of("https://desk.example/2025/story") == "https://desk.example/feed.xml"  # listed by the feed
    assert mapping.key_of("https://news.example/sitemap-2025-11.xml") == "https://news.example/sitemap.xml"  # a child
    assert mapping.key_of("https://elsewhere.example/x") == "https://elsewhere.example/x"  # unknown: its own source
    assert mapping.sources["https://elsewhere.example/x"].kind == "other"


# -- requests -----------------------------------------------------------------------------------------------


def test_every_request_is_recorded_with_how_it_ended(web: FaultServer) -> None:
    web.route("/feed.xml", page(b"<rss/>", "application/rss+xml", etag='"v1"'))
    web.route("/down.html", status(503))
    web.route("/gone.html", status(404))
    options = FetchOptions(allow_networks=("127.0.0.0/8",), host_delay_seconds=0, retries=0)
    pages: list[int] = []
    with FetchClient(options) as client:
        recording = RecordingFetcher(client)
        recording.on_page = lambda: pages.append(1)
        assert recording.get(web.url("/feed.xml"), accept="xml").status == 200
        assert recording.get(web.url("/feed.xml"), accept="xml", etag='"v1"').not_modified
        for path in ("/down.html", "/gone.html"):
            with pytest.raises(FetchError):
                recording.get(web.url(path))
        recording.set_host_delay(web.url("/"), 0.0)
    records = recording.drain()
    assert [(r.url.removeprefix(web.origin), r.outcome, r.status) for r in records] == [
        ("/feed.xml", "fetched", 200),
        ("/feed.xml", "not_modified", 304),
        ("/down.html", "http_5xx", 503),
        ("/gone.html", "http_404", 404),
    ]
    assert recording.drain() == [] and len(pages) == 4
    assert recording.stats is client.stats and client.stats.requests >= 4

    tally = HealthTally(map_sources([web.url("/feed.xml")]))
    tally.add_listed(
        [FetchTarget(url=web.url(p), source_uri=web.url("/feed.xml")) for p in ("/down.html", "/gone.html")]
    )
    tally.add_fetches(records)
    (row,) = tally.rows(NOW, {})
    assert {k: row[k] for k in ("requests", "fetched", "not_modified", "http_4xx", "http_5xx", "listed")} == {
        "requests": 4,
        "fetched": 1,
        "not_modified": 1,
        "http_4xx": 1,
        "http_5xx": 1,
        "listed": 2,
    }
    assert row["status"] == "ok"  # the feed answered: not every request failed


# -- figures ------------------------------------------------------------------------------------------------


def _article(i: int, source_uri: str, words: int, **fields: Any) -> Article:
    return Article(
        article_id=f"a{i}",
        item_key=f"{source_uri}/{i}.html",
        source_uri=source_uri,
        source="desk.example",
        text="word " * words,
        content_hash=f"h{i}",
        fetched_at=NOW,
        word_count=words,
        **fields,
    )


def test_figures_per_source_from_items_rejections_and_articles(tmp_path: Path) -> None:
    good, bad = tmp_path / "good", tmp_path / "bad"
    good.mkdir()
    bad.mkdir()
    tally = HealthTally(map_sources([str(good), str(bad)]))
    items = [
        RawItem(item_key=f"{good}/{i}.html", source_uri=f"{good}/{i}.html", payload=b"<p>", kind="html", fetched_at=NOW)
        for i in range(3)
    ]
    load_failure = Rejection(f"{bad}/x.jsonl#L1", f"{bad}/x.jsonl", "load", "invalid_json", "line 1", b"{")
    too_short = Rejection(f"{good}/2.html", f"{good}/2.html", "clean", "too_short", "3 words", b"<p>")
    tally.add_read(items, [load_failure])
    english = SourceHints(language="en")
    articles = [
        _article(0, f"{good}/0.html", 300, published_at=NOW, authors=("A. Writer",), language="en", hints=english),
        _article(1, f"{good}/1.html", 100, language="de", hints=english, is_teaser=True),
    ]
    decisions = [DedupDecision("a0", "a0"), DedupDecision("a1", "a0", duplicate_of="a0", method="minhash")]
    tally.add_cleaned(articles, decisions)
    tally.add_quarantined([load_failure, too_short])
    rows = {Path(r["source"]).name: r for r in tally.rows(NOW, {})}
    assert {k: rows["good"][k] for k in ("items_in", "pages_cleaned", "articles", "duplicates", "teasers")} == {
        "items_in": 3,
        "pages_cleaned": 2,
        "articles": 1,
        "duplicates": 1,
        "teasers": 1,
    }
    assert (rows["good"]["mean_words"], rows["good"]["date_share"], rows["good"]["author_share"]) == (200.0, 0.5, 0.5)
    assert (rows["good"]["language_mismatches"], rows["good"]["quarantined"], rows["good"]["status"]) == (1, 1, "ok")
    assert rows["bad"]["status"] == "failing"  # it was read and nothing of it could be
    assert (rows["bad"]["failed"], json.loads(rows["bad"]["failed_by_reason"])) == (1, {"invalid_json": 1})
    tally.forget_originals(["a0"])  # quarantined at write after all
    assert {Path(r["source"]).name: r["articles"] for r in tally.rows(NOW, {})}["good"] == 0


def test_a_feed_that_answers_with_something_else_is_failing() -> None:
    feed = "https://desk.example/feed.xml"
    tally = HealthTally(map_sources([feed, "https://quiet.example/feed.xml"]))
    tally.add_fetches([FetchRecord(feed, "fetched", 200)])
    tally.add_read([], [Rejection(f"fetch:{feed}", feed, "fetch", "feed_parse_error", "not XML", b"<html>")])
    rows = {r["source"]: r for r in tally.rows(NOW, {})}
    assert rows[feed]["status"] == "failing"
    assert rows["https://quiet.example/feed.xml"]["status"] == "idle"  # nothing tried (all known, or deferred)


# -- drift --------------------------------------------------------------------------------------------------


def _row(**figures: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "source": "https://desk.example/feed.xml",
        "kind": "feed",
        "name": None,
        "status": "ok",
        "requests": 11,
        "fetched": 11,
        "not_modified": 0,
        "http_4xx": 0,
        "http_5xx": 0,
        "failed": 0,
        "failed_by_reason": "{}",
        "listed": 10,
        "items_in": 10,
        "pages_cleaned": 10,
        "articles": 10,
        "teasers": 0,
        "duplicates": 0,
        "quarantined": 0,
        "mean_words": 640.0,
        "date_share": 1.0,
        "author_share": 0.8,
        "language_mismatches": 0,
        "findings": [],
    }
    row.update(figures)
    return row


HISTORY = [_row(mean_words=600.0), _row(mean_words=700.0), _row(mean_words=650.0, date_share=0.9)]


def test_a_normal_run_flags_nothing() -> None:
    assert drift_findings(_row(mean_words=480.0, date_share=0.8), HISTORY) == []
    assert drift_findings(_row(items_in=0, pages_cleaned=0, mean_words=None, listed=10), HISTORY) == []  # nothing new


@pytest.mark.parametrize(
    ("figures", "finding"),
    [
        ({"mean_words": 120.0}, "words per article 120, was 650"),
        (
            {"pages_cleaned": 0, "mean_words": None, "date_share": None, "quarantined": 10},
            "words per article 0, was 650",
        ),
        ({"date_share": 0.1}, "pages with a date 10%, was 100%"),
        ({"listed": 0, "items_in": 0, "pages_cleaned": 0, "mean_words": None}, "listed no items, listed 10 before"),
        ({"http_4xx": 3, "http_5xx": 3, "fetched": 5}, "4xx/5xx answers 55% of requests, was 0%"),
    ],
)
def test_drift_against_the_sources_own_recent_runs(figures: dict[str, Any], finding: str) -> None:
    assert finding in drift_findings(_row(**figures), HISTORY)


def test_no_drift_is_judged_without_enough_history() -> None:
    assert drift_findings(_row(mean_words=10.0), HISTORY[: DRIFT_MIN_RUNS - 1]) == []
    assert drift_findings(_row(mean_words=10.0, items_in=1, pages_cleaned=1), HISTORY) == []  # one odd page


# -- outcome ------------------------------------------------------------------------------------------------


COUNTS = {"items_in": 10, "articles": 8, "duplicates": 1, "quarantined": 1}


def test_the_outcome_of_a_run() -> None:
    feed, wire = _row(), _row(source="https://wire.example/feed.xml", name="Wire")
    down = {"status": "failing", "failed_by_reason": '{"http_5xx": 4}'}
    failed = decide_outcome([{**feed, **down}], COUNTS, 0, 0.5)
    assert (failed.kind, failed.message) == (
        "failed",
        "every source failed: the source (https://desk.example/feed.xml): http_5xx 4",
    )
    degraded = decide_outcome([feed, {**wire, **down}], COUNTS, 0, 0.5)
    assert (degraded.kind, degraded.failing) == ("degraded", ("https://wire.example/feed.xml",))
    assert degraded.message == "degraded: 1 of 2 sources failed (Wire): http_5xx 4"
    quarantined = decide_outcome([feed], {**COUNTS, "articles": 3, "quarantined": 6}, 0, 0.5)
    assert quarantined.message == "degraded: 6 of 10 items quarantined (60%, over the 50% threshold)"
    assert decide_outcome([feed], {**COUNTS, "articles": 3, "quarantined": 6}, 0, 0.75).kind == "completed"
    idle = {**feed, "status": "idle"}
    assert decide_outcome([idle], dict.fromkeys(COUNTS, 0), 200, 0.5).message == (
        "nothing new: 200 items skipped as unchanged"
    )
    assert decide_outcome([idle], dict.fromkeys(COUNTS, 0), 0, 0.5).message == "no items found"
    assert decide_outcome([feed, idle], COUNTS, 3, 0.5).message == (
        "10 items in: 8 articles, 1 duplicates, 1 quarantined; 3 unchanged items skipped"
    )


# -- the flow -----------------------------------------------------------------------------------------------


def _pages(folder: Path, seeds: list[str], body: bool = True) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for seed in seeds:
        if body:
            html = news_page(seed)
        else:  # after a redesign the extractor finds the standfirst only: two sentences, no article body
            lead = news_text(seed, words=0).replace("\n\n", " ")
            html = (
                f"<html><head><title>Report {seed}</title></head><body><article><p>{lead}</p></article></body></html>"
            )
            html = html.encode()
        (folder / f"{seed}.html").write_bytes(html)


def _events(prefix: str, run_id: str) -> list[dict[str, Any]]:
    """Return the events named ``prefix...`` of run ``run_id`` once the session's Prefect server has persisted
    some (it writes them in batches, every few seconds)."""
    from prefect.client.orchestration import get_client

    related = {"id": [f"prefect.flow-run.{run_id}"]}
    query = {"filter": {"event": {"prefix": [prefix]}, "related": related}, "limit": 50}
    deadline = time.monotonic() + 30
    while True:
        with get_client(sync_client=True) as client:
            found: list[dict[str, Any]] = client.request("POST", "/events/filter", json=query).json()["events"]
        events = [e for e in found if e["payload"].get("run_id") == run_id]  # also named in the payload
        if events or time.monotonic() > deadline:
            return events
        time.sleep(1)


@pytest.mark.integration
def test_a_site_that_loses_its_article_body_is_flagged_drift(
    prefect_harness: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    from flows.report import escape_md

    monkeypatch.setenv("MEDIAWATCH_N_PROCESS", "1")  # small runs: no worker processes to start
    monkeypatch.setenv("MEDIAWATCH_CLEAN_WORKERS", "0")
    site, steady, data_dir = tmp_path / "site", tmp_path / "steady", tmp_path / "data"
    for run in range(3):
        _pages(site, [f"site-{run}-{i}" for i in range(2)], body=run < 2)
        _pages(steady, [f"steady-{run}-{i}" for i in range(2)])
        summary = ingest([site, steady], data_dir)
        assert summary["items_in"] == 4 and summary["outcome"] == "completed", summary
    health = Lake(str(data_dir)).read("source_health").to_pylist()
    last = {r["source"]: r for r in health if r["run_id"] == summary["run_id"]}
    assert len(health) == 6 and set(last) == {str(site), str(steady)}
    assert last[str(site)]["status"] == "drift"
    before = statistics.median(r["mean_words"] for r in health if r["source"] == str(site) and r is not last[str(site)])
    (finding,) = last[str(site)]["findings"]
    assert finding == f"words per article {last[str(site)]['mean_words'] or 0:.0f}, was {before:.0f}"
    assert (last[str(steady)]["status"], last[str(steady)]["findings"]) == ("ok", [])  # a normal run flags nothing
    assert all(r["status"] == "ok" and not r["findings"] for r in health if r["run_id"] != summary["run_id"])

    with get_client(sync_client=True) as client:
        flow_run_id = ArtifactFilterFlowRunId(any_=[summary["run_id"]])
        artifacts = {a.key: a for a in client.read_artifacts(artifact_filter=ArtifactFilter(flow_run_id=flow_run_id))}
    markdown = str(artifacts["ingest-summary"].data)
    assert f"**drift** {escape_md(str(site), 200)}: {escape_md(finding, 300)}" in markdown
    assert str(steady) not in markdown.replace("\\", "")  # only what needs attention is named
    table = artifacts["source-health"].data
    table_rows = json.loads(table) if isinstance(table, str) else table
    assert sorted(r["status"] for r in table_rows) == ["drift", "ok"]

    (event,) = _events("mediawatch.", summary["run_id"])  # one event: the drift; the steady source says nothing
    assert (event["event"], event["resource"]["prefect.resource.id"]) == (
        "mediawatch.source.drift",
        f"mediawatch.source.{site}",
    )
    assert event["payload"]["findings"] == [finding] and event["payload"]["items_in"] == 2
