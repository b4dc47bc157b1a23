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
