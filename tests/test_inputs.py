"""Routing of sources and the item ledger that lets unchanged input be skipped on a rerun."""

from __future__ import annotations

import json
import os
from pathlib import Path

from storage.fetch_state import FetchState
from storage.item_ledger import ItemLedger
from tasks.fetch import FetchClient, FetchOptions
from tasks.inputs import SourceOptions, plan_sources, route_source


def test_route_source(tmp_path: Path) -> None:
    urls = tmp_path / "urls.txt"
    urls.write_text("# feeds\nhttps://a.example/feed.xml\nhttps://b.example/page.html\n")
    story = tmp_path / "story.txt"
    story.write_text("A headline\nAnd the body of the story.\n")
    (tmp_path / "s.toml").write_text('[[source]]\nurl = "https://a.example/rss"\n')
    assert route_source("https://a.example/feed.xml") == "web"
    assert route_source(str(urls)) == "web"
    assert route_source(str(story)) == "local"
    assert route_source(str(tmp_path / "s.toml")) == "web"
    assert route_source(str(tmp_path / "x.warc.gz")) == "warc"
    assert route_source(str(tmp_path)) == "local"


def test_ledger_skips_items_of_unchanged_files_only(tmp_path: Path) -> None:
    corpus = tmp_path / "in"
    corpus.mkdir()
    jsonl = corpus / "items.jsonl"
    jsonl.write_text("\n".join(json.dumps({"id": i, "text": f"story {i}"}) for i in range(3)) + "\n")
    (corpus / "page.html").write_text("<p>hello</p>")
    options = SourceOptions()
    with (
        FetchState(tmp_path / "f") as state,
        FetchClient(FetchOptions()) as client,
        ItemLedger(tmp_path / "l") as ledger,
    ):
        first = plan_sources([str(corpus)], options, client, state, ledger)
        assert (first.total_items, first.unchanged) == (4, 0)
        for batch in first.batches(10, options, ledger):
            ledger.record(batch.versions.items())  # what the flow does once a batch is committed
        again = plan_sources([str(corpus)], options, client, state, ledger)
        assert (again.total_items, again.unchanged) == (0, 4)
        forced = plan_sources([str(corpus)], SourceOptions(reprocess=True), client, state, ledger)
        assert forced.total_items == 4
        jsonl.write_text(jsonl.read_text() + json.dumps({"id": 9, "text": "new"}) + "\n")
        os.utime(jsonl, ns=(1, 1))  # a different version even within one clock tick
        changed = plan_sources([str(corpus)], options, client, state, ledger)
        assert (changed.total_items, changed.unchanged) == (4, 1)  # the file's 4 lines again; the page skipped
