"""The ingest flow on web sources: a real HTTP server on 127.0.0.1 serving a feed, pages and a failure."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import SAMPLES
from tests.httpfaults import FaultServer, page, status

pytestmark = pytest.mark.integration


def _feed(origin: str, paths: list[str]) -> bytes:
    items = "".join(
        f"<item><title>Story {i}</title><link>{origin}{p}</link><guid>{origin}{p}</guid>"
        f"<pubDate>Sun, 23 Nov 2025 0{i}:00:00 +0000</pubDate></item>"
        for i, p in enumerate(paths)
    )
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Desk</title>'
        f"<link>{origin}/</link><description>d</description>{items}</channel></rss>"
    ).encode()


@pytest.fixture
def newsroom() -> Iterator[FaultServer]:
    with FaultServer() as server:
        pages = {
            "/markets/port.html": (SAMPLES / "pages" / "port-volumes.html").read_bytes(),
            "/economy/rates.html": (SAMPLES / "pages" / "rate-decision.html").read_bytes(),
        }
        for path, body in pages.items():
            server.route(path, page(body, etag=f'"{abs(hash(path))}"'))
        server.route("/gone.html", status(404))
        server.route("/robots.txt", page(b"User-agent: *\nDisallow: /private/\n", "text/plain"))
        feed = _feed(server.origin, [*pages, "/gone.html", "/private/secret.html"])
        server.route("/feed.xml", page(feed, "application/rss+xml", etag='"feed-v1"'))
        yield server


def test_feed_is_fetched_then_read_incrementally(
    prefect_harness: None, newsroom: FaultServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.ingest import ingest_news

    monkeypatch.setenv("MEDIAWATCH_ALLOW_NETWORKS", "127.0.0.0/8")
    monkeypatch.setenv("MEDIAWATCH_HOST_DELAY_SECONDS", "0.05")
    data_dir = tmp_path / "data"
    first = ingest_news(sources=[newsroom.url("/feed.xml")], data_dir=str(data_dir))
    assert (first["items_in"], first["articles"], first["quarantined"]) == (4, 2, 2)
    quarantine = pd.read_parquet(data_dir / "quarantine")
    assert sorted(quarantine["reason"]) == ["http_404", "robots_disallowed"]
    assert not newsroom.requests("/private/secret.html")
    articles = pd.read_parquet(data_dir / "articles")
    assert set(articles["source"]) == {"127.0.0.1"}  # the site it was fetched from
    assert set(articles["canonical_url"]) == {
        "https://harbour-ledger.example/business/2025/11/20/rotterdam-port-volumes-slip",
        "https://prairie-business.example/economy/bank-of-canada-holds-rate",
    }
    assert set(articles["source_uri"]) == {newsroom.url("/feed.xml")}

    newsroom.clear_log()
    second = ingest_news(sources=[newsroom.url("/feed.xml")], data_dir=str(data_dir))
    feed_requests = newsroom.requests("/feed.xml")
    assert len(feed_requests) == 1 and feed_requests[0].header("If-None-Match") == '"feed-v1"'
    assert newsroom.requests("/markets/port.html") == [] and newsroom.requests("/economy/rates.html") == []
    # Pages delivered before are not fetched again; the failed one is tried again and fails again.
    assert second["items_in"] == second["articles"] + second["duplicates"] + second["quarantined"]
    assert second["articles"] == 0
    assert len(pd.read_parquet(data_dir / "articles")) == 2
    assert os.environ.get("MEDIAWATCH_ALLOW_NETWORKS") == "127.0.0.0/8"


_PORTS = ["Rotterdam", "Hamburg", "Antwerp", "Felixstowe", "Valencia", "Gdansk"]
_GOODS = ["grain", "steel coils", "container traffic", "liquefied gas", "car exports", "coal"]


def _story(i: int) -> bytes:
    """A distinct news page: six of them share no sentence."""
    port, goods = _PORTS[i], _GOODS[i]
    sentences = [
        f"Throughput of {goods} at the port of {port} changed by {3 + i} percent in the third quarter.",
        f"The authority in {port} said {goods} shipments were shaped by weather, labour talks and freight rates.",
        f"Officials expect {goods} volumes to recover once new berths open in {2026 + i}.",
        f"Shipping lines serving {port} have added {10 + i} weekly calls since spring.",
        f"Analysts in {port} warned that {goods} margins remain thin despite the rebound.",
    ]
    paragraphs = "".join(f"<p>{s}</p>" for s in sentences)
    return (
        f"<html><head><title>{port} {goods} report</title></head>"
        f"<body><article><h1>{port} {goods} report</h1>{paragraphs}</article></body></html>"
    ).encode()


def test_pages_of_a_batch_that_failed_to_write_are_fetched_again(
    prefect_harness: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page counts as fetched only once its batch is in the lake: batches read ahead of a failed write
    stay pending in the fetch state, so the next run fetches them instead of skipping them."""
    from prefect import task
    from prefect.cache_policies import NO_CACHE

    import flows.ingest
    from storage.fetch_state import FetchState
    from storage.lake import Lake
    from tasks.sources import state_key
    from tasks.write import write_batch

    paths = [f"/story-{i}.html" for i in range(6)]
    with FaultServer() as server:
        for i, path in enumerate(paths):
            server.route(path, page(_story(i)))
        server.route("/robots.txt", page(b"User-agent: *\nAllow: /\n", "text/plain"))
        server.route("/feed.xml", page(_feed(server.origin, paths), "application/rss+xml"))
        monkeypatch.setenv("MEDIAWATCH_ALLOW_NETWORKS", "127.0.0.0/8")
        monkeypatch.setenv("MEDIAWATCH_HOST_DELAY_SECONDS", "0")
        data_dir = tmp_path / "data"

        def failing_second_write(*args: object, **kwargs: object) -> object:
            if args[2] == "b00001":
                raise RuntimeError("disk gone")
            return write_batch(*args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(
            flows.ingest, "write_batch_task", task(name="write", cache_policy=NO_CACHE)(failing_second_write)
        )
        once = flows.ingest.ingest_news.with_options(retries=0)
        with pytest.raises(RuntimeError, match="disk gone"):
            once(sources=[server.url("/feed.xml")], data_dir=str(data_dir), batch_size=2)
        written = pd.read_parquet(data_dir / "articles")
        assert len(written) == 2  # the first batch only
        with FetchState(Lake(str(data_dir)).local_state_dir("fetch")) as state:
            remembered = {u for u in (server.url(p) for p in paths) if state.get(state_key(u)) is not None}
        assert remembered == set(written["url"])  # later batches had been fetched too, but are not kept

        monkeypatch.undo()
        monkeypatch.setenv("MEDIAWATCH_ALLOW_NETWORKS", "127.0.0.0/8")
        monkeypatch.setenv("MEDIAWATCH_HOST_DELAY_SECONDS", "0")
        server.clear_log()
        again = flows.ingest.ingest_news(sources=[server.url("/feed.xml")], data_dir=str(data_dir), batch_size=2)
        fetched_again = {server.url(p) for p in paths if server.requests(p)}
        assert fetched_again == {server.url(p) for p in paths} - set(written["url"])
        assert again["articles"] == 4
        assert sorted(pd.read_parquet(data_dir / "articles")["url"]) == sorted(server.url(p) for p in paths)
