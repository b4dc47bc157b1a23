"""Hostile inputs and failures, each checked against mediawatch's promise: nothing is lost.

Every item that enters a run ends as an article, a recorded copy (``duplicates``) or a quarantined record
(``quarantine``, with a snake_case reason and the raw payload); one item never fails a batch; a retry or a
rerun after any failure leaves exactly the rows of a clean run (:func:`tests.invariants.assert_matches_clean_run`).

Runs use the real flow in this process under the session's Prefect harness, or the real ``mediawatch``
command in a child process where the case is about exit codes, messages, hangs or memory. Web sources are
real HTTP servers on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import errno
import gzip
import io
import json
import os
import resource
import shutil
import struct
import subprocess
import sys
import textwrap
import uuid
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from storage.lake import Lake
from storage.schemas import DATASETS
from tests.httpfaults import FaultServer, drip, page
from tests.invariants import (
    assert_matches_clean_run,
    assert_readers_agree,
    files_containing,
    ingest,
    lake_rows,
    news_item,
    news_page,
    news_text,
    read_dataset,
    run_cli,
    run_counts,
    write_jsonl,
)

pytestmark = pytest.mark.integration

ENOSPC = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
ROBOTS = page(b"User-agent: *\nAllow: /\n", "text/plain")


# -- shared set-up ----------------------------------------------------------------------------------------


@pytest.fixture
def web(monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultServer]:
    """A news site on 127.0.0.1 that fetching may reach, with no delay between requests."""
    monkeypatch.setenv("MEDIAWATCH_ALLOW_NETWORKS", "127.0.0.0/8")
    monkeypatch.setenv("MEDIAWATCH_HOST_DELAY_SECONDS", "0")
    with FaultServer() as server:
        server.route("/robots.txt", ROBOTS)
        yield server


@pytest.fixture
def cli_env(prefect_server: dict[str, str]) -> dict[str, str]:
    """The environment of a ``mediawatch`` child process: the session's Prefect server, no MEDIAWATCH_ knobs."""
    return {k: v for k, v in prefect_server.items() if not k.startswith("MEDIAWATCH_")}


def serve_pages(server: FaultServer, pages: dict[str, bytes]) -> list[str]:
    """Route each path to its page; return the pages' URLs in order."""
    for path, body in pages.items():
        server.route(path, page(body))
    return [server.url(p) for p in pages]


def write_url_list(path: Path, urls: list[str]) -> Path:
    """Write a URL list (one line each, the way `mediawatch run pages.urls` reads it); return ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(urls) + "\n")
    return path


@contextlib.contextmanager
def commits_failing(monkeypatch: pytest.MonkeyPatch, calls: range) -> Iterator[list[str]]:
    """Make ``Lake.commit_batch`` raise ENOSPC on the calls numbered in ``calls`` (1-based) inside the block;
    yield the batches it was asked to commit. The real method is back after the block."""
    real = Lake.commit_batch
    seen: list[str] = []

    def commit_batch(self: Lake, *args: Any, **kwargs: Any) -> Any:
        seen.append(str(args[1] if len(args) > 1 else kwargs.get("batch")))
        if len(seen) in calls:
            raise ENOSPC
        return real(self, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(Lake, "commit_batch", commit_batch)
        yield seen


def quarantine_of(data_dir: Path, source: Path | str) -> pd.DataFrame:
    """Return the quarantine rows of items that came from ``source`` (a file, or a URL)."""
    frame = read_dataset(data_dir, "quarantine")
    if not len(frame):
        return frame
    source = str(source)
    keys = frame["item_key"].fillna("")
    return frame[(frame["source_uri"] == source) | (frame["url"] == source) | keys.str.contains(source, regex=False)]


def item_keys(data_dir: Path, *datasets: str) -> list[str]:
    """Return the item keys of the rows of ``datasets`` (with repeats)."""
    keys: list[str] = []
    for dataset in datasets:
        frame = read_dataset(data_dir, dataset)
        if len(frame):
            keys.extend(frame["item_key"])
    return keys


def query_json(data_dir: Path, sql: str, capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    """Return the rows of ``mediawatch query SQL --format json`` (run in this process)."""
    from flows.cli import main

    capsys.readouterr()
    assert main(["query", sql, "--data-dir", str(data_dir), "--format", "json"]) == 0
    rows: list[dict[str, Any]] = json.loads(capsys.readouterr().out)
    return rows


def repairs(counts: dict[str, Any]) -> dict[str, int]:
    """Return the repairs a run's counts report (``{"lone_surrogate": 1}``), none when it reports none."""
    value = counts.get("repairs") or {}
    assert isinstance(value, dict), counts
    return value


# -- 1. a failed run's retry loses nothing ----------------------------------------------------------------


def test_retry_after_failed_commits_keeps_what_the_first_attempt_committed(
    prefect_harness: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batch 1 commits, every later commit fails (the flow's retry too); the rerun writes the rest."""
    a = write_jsonl(tmp_path / "in" / "a.jsonl", [news_item(i, "a") for i in range(10)])
    data_dir = tmp_path / "data"
    with commits_failing(monkeypatch, range(2, 1000)) as seen:
        state = ingest([a], data_dir, batch_size=5, return_state=True)
    assert state.is_failed() and len(seen) >= 2
    rerun = ingest([a], data_dir, batch_size=5)
    assert rerun["state"] == "completed"
    assert len(read_dataset(data_dir, "articles")) == 10
    assert_matches_clean_run(data_dir, [a], tmp_path, batch_size=5)


def test_a_flow_retry_after_one_failed_commit_gives_a_clean_runs_rows(
    prefect_harness: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the second commit fails: the flow's own retry completes the run with everything in it."""
    a = write_jsonl(tmp_path / "in" / "a.jsonl", [news_item(i, "a") for i in range(10)])
    data_dir = tmp_path / "data"
    with commits_failing(monkeypatch, range(2, 3)):
        summary = ingest([a], data_dir, batch_size=5)
    assert summary["state"] == "completed"
    assert sorted(read_dataset(data_dir, "articles")["external_id"]) == sorted(f"a{i}" for i in range(10))
    assert_matches_clean_run(data_dir, [a], tmp_path, batch_size=5)


def test_retry_after_failed_commits_refetches_pages_the_first_attempt_did_not_keep(
    prefect_harness: None, web: FaultServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    urls = serve_pages(web, {f"/news/{i}.html": news_page(f"web-{i}") for i in range(10)})
    listing = write_url_list(tmp_path / "in" / "pages.urls", urls)
    data_dir = tmp_path / "data"
    with commits_failing(monkeypatch, range(2, 1000)):
        state = ingest([listing], data_dir, batch_size=5, return_state=True)
    assert state.is_failed()
    rerun = ingest([listing], data_dir, batch_size=5)
    assert rerun["state"] == "completed"
    assert sorted(read_dataset(data_dir, "articles")["url"]) == sorted(urls)
    assert_matches_clean_run(data_dir, [listing], tmp_path, batch_size=5)


def _page_with_noise(i: int) -> str:
    # 160 KB of random hex digits per page, about 80 KB once compressed: 60 pages of raw payload overflow a
    # 3 MB disk after a few batches, while the article texts stay short (the NLP stage stays quick).
    noise = os.urandom(80_000).hex()
    return news_page(f"disk-{i}", head=f"<script>var blob = '{noise}';</script>").decode()


@pytest.mark.slow
def test_a_run_that_filled_the_disk_is_completed_by_a_rerun_once_space_is_freed(
    prefect_harness: None, tmp_path: Path
) -> None:
    from storage.query import connect

    items = [news_item(i, "disk", html=_page_with_noise(i)) for i in range(60)]
    corpus = write_jsonl(tmp_path / "in" / "disk.jsonl", items)
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(data_dir)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"mounting a tmpfs is not permitted here: {mounted.stderr.decode().strip()}")
    try:
        # The pages' raw copies alone need about 5 MB: the disk fills during the run (and its flow retry).
        state = ingest([corpus], data_dir, batch_size=10, return_state=True)
        written = [r[0] for r in connect(str(data_dir)).sql("select external_id from articles").fetchall()]
        assert len(set(written)) == len(written)
        assert state.is_failed() or len(written) == 60, "the run completed without all of its items"
        subprocess.run(["mount", "-o", "remount,size=64m", str(data_dir)], check=True)
        rerun = ingest([corpus], data_dir, batch_size=10)
        assert rerun["state"] == "completed"
        articles = read_dataset(data_dir, "articles")
        assert sorted(articles["external_id"]) == sorted(f"disk{i}" for i in range(60))  # each exactly once
        assert_matches_clean_run(data_dir, [corpus], tmp_path, batch_size=10)
    finally:
        subprocess.run(["umount", "-l", str(data_dir)], check=False)


def test_a_lone_surrogate_in_a_title_does_not_cost_the_rest_of_the_run(prefect_harness: None, tmp_path: Path) -> None:
    a = write_jsonl(tmp_path / "in" / "a.jsonl", [news_item(i, "a") for i in range(10)])
    # json.dumps writes the lone surrogate as the escape \ud800, as a producer with broken UTF-16 would.
    b = write_jsonl(tmp_path / "in" / "b.jsonl", [news_item(0, "b", title="bad \ud800 title")])
    assert "\\ud800" in b.read_text()
    data_dir = tmp_path / "data"
    first = ingest([a, b], data_dir, batch_size=5)
    assert first["state"] == "completed"
    assert repairs(json.loads(first["counts"])) == {"lone_surrogate": 1}
    articles = read_dataset(data_dir, "articles")
    assert len(articles) == 11
    assert articles.set_index("external_id").loc["b0", "title"] == "bad \ufffd title"
    before = lake_rows(data_dir)
    again = ingest([a], data_dir, batch_size=5)
    assert again["state"] == "completed"
    assert lake_rows(data_dir) == before  # nothing changed
    assert_matches_clean_run(data_dir, [a, b], tmp_path, batch_size=5)


# -- 2. replays stay visible -------------------------------------------------------------------------------


def test_replay_that_leaves_a_page_as_it_was_keeps_query_and_folder_in_agreement(
    prefect_harness: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """One page no longer cleans during the replay (as when its clean times out): it stays as it was, in a
    rewritten file beside the replaced ones, and every reader must still see each article once."""
    import tasks.clean
    from flows.replay import replay_raw
    from tasks.records import STAGE_CLEAN, Rejection

    corpus = write_jsonl(tmp_path / "in" / "a.jsonl", [news_item(i, "r") for i in range(4)])
    data_dir = tmp_path / "data"
    assert ingest([corpus], data_dir)["state"] == "completed"
    stuck = f"{corpus}#L2"
    real = tasks.clean.clean_item

    def clean_item(item: Any, options: Any) -> Any:
        if item.item_key == stuck:
            return Rejection(item.item_key, item.source_uri, STAGE_CLEAN, "extract_timeout", "too slow", item.payload)
        return real(item, options)

    monkeypatch.setenv("MEDIAWATCH_CLEAN_WORKERS", "0")  # clean in this process, where the stand-in applies
    monkeypatch.setattr(tasks.clean, "clean_item", clean_item)
    replay_raw(data_dir=str(data_dir))
    folder = read_dataset(data_dir, "articles")
    assert sorted(folder["external_id"]) == ["r0", "r1", "r2", "r3"]
    (row,) = query_json(data_dir, "select count(*) as n, count(distinct article_id) as ids from articles", capsys)
    assert row == {"n": len(folder), "ids": 4}
    assert_readers_agree(data_dir, ["articles", "entities", "figures"])


def test_replay_in_batches_smaller_than_a_file_keeps_each_article_once(
    prefect_harness: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from flows.replay import replay_raw

    corpus = write_jsonl(tmp_path / "in" / "a.jsonl", [news_item(i, "s") for i in range(4)])
    data_dir = tmp_path / "data"
    assert ingest([corpus], data_dir)["state"] == "completed"  # one batch: one articles file
    replay_raw(data_dir=str(data_dir), batch_size=2)  # the second replay batch meets the first's rewrite
    folder = read_dataset(data_dir, "articles")
    assert sorted(folder["external_id"]) == ["s0", "s1", "s2", "s3"]
    (row,) = query_json(data_dir, "select count(*) as n from articles", capsys)
    assert row["n"] == 4
    assert_readers_agree(data_dir, ["articles", "entities", "figures"])


def test_articles_without_raw_pages_survive_compaction_and_replay(
    prefect_harness: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from flows.maintenance import compact_lake
    from flows.replay import replay_raw

    data_dir = tmp_path / "data"
    monkeypatch.setenv("MEDIAWATCH_KEEP_RAW", "false")
    kept = write_jsonl(tmp_path / "in" / "noraw.jsonl", [news_item(i, "noraw") for i in range(2)])
    assert ingest([kept], data_dir)["state"] == "completed"
    monkeypatch.delenv("MEDIAWATCH_KEEP_RAW")
    other = write_jsonl(tmp_path / "in" / "raw.jsonl", [news_item(i, "raw") for i in range(2)])
    assert ingest([other], data_dir)["state"] == "completed"
    compact_lake.with_options(retry_delay_seconds=0)(data_dir=str(data_dir))

    def visible() -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
        articles = query_json(data_dir, "select external_id from articles order by 1", capsys)
        entities = query_json(data_dir, "select external_id, count(*) n from entities group by all order by 1", capsys)
        figures = query_json(data_dir, "select external_id, count(*) n from figures group by all order by 1", capsys)
        return articles, entities, figures

    before = visible()
    assert [r["external_id"] for r in before[0]] == ["noraw0", "noraw1", "raw0", "raw1"]
    assert (
        {r["external_id"] for r in before[1]}
        == {r["external_id"] for r in before[2]}
        == {
            "noraw0",
            "noraw1",
            "raw0",
            "raw1",
        }
    )
    summary = replay_raw(data_dir=str(data_dir))
    assert summary["items_in"] == 2  # only the pages that were kept
    assert visible() == before


# -- 3. other Parquet files in the data directory -----------------------------------------------------------


def test_parquet_files_that_are_not_ours_survive_every_operation_and_stay_unseen(
    prefect_harness: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from flows.maintenance import compact_lake
    from flows.replay import replay_raw

    data_dir = tmp_path / "data"
    foreign = {
        data_dir / "articles" / "year=2024" / "important.parquet": "someone's own table",
        data_dir / "articles" / "date=2024-01-01" / "part-foreign.parquet": "named like ours, not ours",
    }
    for path, note in foreign.items():
        path.parent.mkdir(parents=True)
        table = pa.table({"article_id": [f"foreign-{path.stem}"], "title": [note], "text": [note], "source": ["x"]})
        pq.write_table(table, path)
    original = {path: path.read_bytes() for path in foreign}

    def untouched(step: str) -> None:
        for path, data in original.items():
            assert path.exists(), f"{path.relative_to(data_dir)} was deleted by {step}"
            assert path.read_bytes() == data, f"{path.relative_to(data_dir)} was changed by {step}"

    day = "2024-01-01T09:00:00Z"
    first = write_jsonl(tmp_path / "in" / "one.jsonl", [news_item(i, "one", published_at=day) for i in range(2)])
    assert ingest([first], data_dir)["state"] == "completed"
    untouched("a run")

    # What a run killed between writing a batch's files and its commit marker leaves: a data file that no
    # marker names, and a file still in staging. The next start sweeps both away.
    ours = next((data_dir / "articles").rglob("part-*.parquet"))
    shutil.copy(ours, ours.with_name(f"part-{uuid.uuid4()}-b00000.parquet"))
    (data_dir / "_staging").mkdir(exist_ok=True)
    shutil.copy(ours, data_dir / "_staging" / f"{uuid.uuid4().hex}.parquet")
    second = write_jsonl(tmp_path / "in" / "two.jsonl", [news_item(i, "two", published_at=day) for i in range(2)])
    assert ingest([second], data_dir)["state"] == "completed"
    untouched("a crash-recovery sweep")

    compact_lake.with_options(retry_delay_seconds=0)(data_dir=str(data_dir))
    untouched("compaction")
    replay_raw(data_dir=str(data_dir))
    untouched("replay")

    rows = query_json(data_dir, "select article_id, external_id from articles", capsys)
    assert sorted(r["external_id"] for r in rows) == ["one0", "one1", "two0", "two1"]
    assert not [r for r in rows if str(r["article_id"]).startswith("foreign")]


# -- 4. compressed input read to the end or rejected -----------------------------------------------------


def _lines(prefix: str, n: int) -> bytes:
    return b"".join(json.dumps(news_item(i, prefix)).encode() + b"\n" for i in range(n))


def test_a_gzip_of_two_members_gives_the_lines_of_both(prefect_harness: None, tmp_path: Path) -> None:
    path = tmp_path / "in" / "two-members.jsonl.gz"
    path.parent.mkdir()
    # `cat a.gz b.gz > all.gz` is a valid gzip file (RFC 1952 members); gunzip reads both.
    path.write_bytes(gzip.compress(_lines("first", 3)) + gzip.compress(_lines("second", 3)))
    data_dir = tmp_path / "data"
    summary = ingest([path.parent], data_dir)
    assert summary["state"] == "completed"
    expected = sorted([f"first{i}" for i in range(3)] + [f"second{i}" for i in range(3)])
    assert sorted(read_dataset(data_dir, "articles")["external_id"]) == expected
    assert not len(read_dataset(data_dir, "quarantine"))


def _assert_truncated_input(data_dir: Path, path: Path) -> None:
    rows = quarantine_of(data_dir, path)
    assert [(r.stage, r.reason) for r in rows.itertuples()] == [("load", "truncated_input")]
    derived = [k for k in item_keys(data_dir, "articles", "duplicates") if k.startswith(str(path))]
    assert derived == [], "items were taken from a truncated file"


def test_a_truncated_gzipped_page_is_one_truncated_input_rejection(prefect_harness: None, tmp_path: Path) -> None:
    path = tmp_path / "in" / "page.html.gz"
    path.parent.mkdir()
    whole = gzip.compress(news_page("cut-page"))
    path.write_bytes(whole[: len(whole) * 6 // 10])
    data_dir = tmp_path / "data"
    assert ingest([path.parent], data_dir)["state"] == "completed"
    _assert_truncated_input(data_dir, path)


def test_a_truncated_gzipped_jsonl_is_one_truncated_input_rejection(prefect_harness: None, tmp_path: Path) -> None:
    path = tmp_path / "in" / "items.jsonl.gz"
    path.parent.mkdir()
    whole = gzip.compress(_lines("cut", 5))
    path.write_bytes(whole[: len(whole) * 6 // 10])
    data_dir = tmp_path / "data"
    assert ingest([path.parent], data_dir)["state"] == "completed"
    _assert_truncated_input(data_dir, path)


def _write_warc(path: Path, pages: list[bytes]) -> list[int]:
    """Write a gzipped WARC of one ``response`` record per page; return each record's start offset."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    offsets = []
    with path.open("wb") as out:
        writer = WARCWriter(out, gzip=True)
        for i, body in enumerate(pages):
            offsets.append(out.tell())
            headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
            record = writer.create_warc_record(
                f"https://warc.example/story/{i}", "response", payload=io.BytesIO(body), http_headers=headers
            )
            writer.write_record(record)
    return offsets


def test_a_warc_cut_inside_its_last_record_keeps_the_records_before_it(prefect_harness: None, tmp_path: Path) -> None:
    path = tmp_path / "in" / "archive.warc.gz"
    path.parent.mkdir()
    offsets = _write_warc(path, [news_page(f"warc-{i}") for i in range(3)])
    data = path.read_bytes()
    path.write_bytes(data[: offsets[2] + (len(data) - offsets[2]) // 2])
    data_dir = tmp_path / "data"
    assert ingest([path], data_dir)["state"] == "completed"
    articles = read_dataset(data_dir, "articles")
    assert sorted(articles["url"]) == ["https://warc.example/story/0", "https://warc.example/story/1"]
    rows = quarantine_of(data_dir, path)
    assert list(rows["reason"]) == ["truncated_input"]


def test_a_text_file_named_warc_is_one_not_a_warc_rejection(prefect_harness: None, tmp_path: Path) -> None:
    path = tmp_path / "in" / "x.warc"
    path.parent.mkdir()
    path.write_text("This is a note about archives, not an archive.\n" * 5)
    data_dir = tmp_path / "data"
    summary = ingest([path], data_dir)
    assert summary["state"] == "completed"
    rows = quarantine_of(data_dir, path)
    assert list(rows["reason"]) == ["not_a_warc"]
    assert summary["items_in"] == 1 and summary["quarantined"] == 1


# -- 5. texts too long to analyse --------------------------------------------------------------------------


def _long_text(chars: int, seed: str) -> str:
    """Return ``chars`` characters of distinct paragraphs (extractors drop repeated ones)."""
    paragraphs: list[str] = []
    size = 0
    while size < chars:
        paragraphs.append(news_text(f"{seed}-{len(paragraphs)}", words=300))
        size += len(paragraphs[-1]) + 2
    return "\n\n".join(paragraphs)[:chars]


def test_a_jsonl_text_over_a_million_characters_is_quarantined_text_too_long(
    prefect_harness: None, tmp_path: Path
) -> None:
    items = [news_item(i, "ok") for i in range(3)] + [news_item(0, "huge", text=_long_text(1_000_500, "huge"))]
    corpus = write_jsonl(tmp_path / "in" / "a.jsonl", items)
    data_dir = tmp_path / "data"
    first = ingest([corpus], data_dir)
    assert first["state"] == "completed"
    assert sorted(read_dataset(data_dir, "articles")["external_id"]) == ["ok0", "ok1", "ok2"]
    rows = read_dataset(data_dir, "quarantine")
    assert [(r.external_id, r.stage, r.reason) for r in rows.itertuples()] == [("huge0", "clean", "text_too_long")]
    assert ingest([corpus], data_dir)["state"] == "completed"  # the next scheduled run


def test_a_page_over_a_megabyte_of_text_is_quarantined_text_too_long(
    prefect_harness: None, web: FaultServer, tmp_path: Path
) -> None:
    body = "".join(f"<p>{p}</p>" for p in _long_text(1_050_000, "big-page").split("\n\n"))
    big = f"<html><head><title>Everything</title></head><body><article>{body}</article></body></html>".encode()
    assert len(big) >= 1_050_000
    urls = serve_pages(web, {"/a.html": news_page("p-a"), "/big.html": big, "/b.html": news_page("p-b")})
    listing = write_url_list(tmp_path / "in" / "pages.urls", urls)
    data_dir = tmp_path / "data"
    first = ingest([listing], data_dir)
    assert first["state"] == "completed"
    assert sorted(read_dataset(data_dir, "articles")["url"]) == sorted([urls[0], urls[2]])
    rows = read_dataset(data_dir, "quarantine")
    assert [(r.url, r.stage, r.reason) for r in rows.itertuples()] == [(urls[1], "clean", "text_too_long")]
    assert ingest([listing], data_dir)["state"] == "completed"  # the next scheduled run


# -- 6. lone surrogates are repaired, not fatal -------------------------------------------------------------


def test_lone_surrogates_in_jsonl_fields_are_repaired(prefect_harness: None, tmp_path: Path) -> None:
    items = [
        news_item(0, "sur", title="bad \ud800 title"),
        news_item(1, "sur", authors=["Ann \udc00 Lee"]),
        news_item(2, "sur", text=news_text("sur-2") + " Broken \ud83d tail."),
    ]
    corpus = write_jsonl(tmp_path / "in" / "a.jsonl", items)
    data_dir = tmp_path / "data"
    summary = ingest([corpus], data_dir)
    assert summary["state"] == "completed"
    assert repairs(json.loads(summary["counts"])) == {"lone_surrogate": 3}
    articles = read_dataset(data_dir, "articles").set_index("external_id")
    assert articles.loc["sur0", "title"] == "bad \ufffd title"
    assert list(articles.loc["sur1", "authors"]) == ["Ann \ufffd Lee"]
    assert "Broken \ufffd tail." in articles.loc["sur2", "text"]


def test_a_lone_surrogate_in_a_json_ld_headline_is_repaired(
    prefect_harness: None, web: FaultServer, tmp_path: Path
) -> None:
    paragraphs = "".join(f"<p>{p}</p>" for p in news_text("jsonld").split("\n\n"))
    html = (
        '<html><head><meta charset="utf-8"><script type="application/ld+json">'
        '{"@context": "https://schema.org", "@type": "NewsArticle", "headline": "bad \\ud800 title"}'
        f"</script></head><body><article>{paragraphs}</article></body></html>"
    ).encode()
    urls = serve_pages(web, {"/jsonld.html": html})
    data_dir = tmp_path / "data"
    summary = ingest(urls, data_dir)
    assert summary["state"] == "completed"
    assert repairs(json.loads(summary["counts"])) == {"lone_surrogate": 1}
    (title,) = read_dataset(data_dir, "articles")["title"]
    assert title == "bad \ufffd title"


# -- 7. the report on thin lakes ----------------------------------------------------------------------------


def _report(data_dir: Path, tmp_path: Path) -> str:
    from flows.cli import main

    output = tmp_path / "report.html"
    assert main(["report", "--since", "2020-01-01", "--data-dir", str(data_dir), "--output", str(output)]) == 0
    return output.read_text()


def test_report_on_an_empty_lake(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    assert "<html" in _report(data_dir, tmp_path).lower()


def test_report_on_a_lake_without_figures_or_duplicates(
    prefect_harness: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEDIAWATCH_WITH_FIGURES", "false")
    corpus = write_jsonl(tmp_path / "in" / "a.jsonl", [news_item(i, "rep") for i in range(2)])
    data_dir = tmp_path / "data"
    assert ingest([corpus], data_dir)["state"] == "completed"
    assert len(read_dataset(data_dir, "articles")) == 2
    assert not len(read_dataset(data_dir, "figures")) and not len(read_dataset(data_dir, "duplicates"))
    assert "desk.example" in _report(data_dir, tmp_path)


# -- 8. symlinks --------------------------------------------------------------------------------------------


MARKER = "zq-secret-7f3a9c1e"


def _secret(tmp_path: Path) -> Path:
    """A file outside every input folder, readable as an article, holding a unique marker string."""
    secret = tmp_path / "private" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text(f"Private memo\n{MARKER} {news_text('secret')}\n")
    return secret


def test_a_symlink_out_of_the_input_folder_is_refused(prefect_harness: None, tmp_path: Path) -> None:
    secret = _secret(tmp_path)
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.txt").write_text(f"Good news\n{news_text('good')}\n")
    (folder / "x.txt").symlink_to(secret)
    data_dir = tmp_path / "data"
    summary = ingest([folder], data_dir)
    assert summary["state"] == "completed"
    rows = quarantine_of(data_dir, folder / "x.txt")
    assert [(r.reason, r.payload or b"") for r in rows.itertuples()] == [("symlink_outside", b"")]
    assert list(read_dataset(data_dir, "articles")["item_key"]) == [str(folder / "good.txt")]
    assert files_containing(data_dir, MARKER.encode()) == []


def test_follow_symlinks_reads_a_link_out_of_the_folder(cli_env: dict[str, str], tmp_path: Path) -> None:
    secret = _secret(tmp_path)
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "x.txt").symlink_to(secret)
    data_dir = tmp_path / "data"
    done = run_cli(["run", str(folder), "--data-dir", str(data_dir), "--no-progress", "--follow-symlinks"], cli_env)
    assert done.returncode == 0, done.stderr[-3000:]
    (text,) = read_dataset(data_dir, "articles")["text"]
    assert MARKER in text


def test_a_symlink_to_a_file_in_the_same_folder_is_read(prefect_harness: None, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text(f"Plain news\n{news_text('sibling')}\n")
    (folder / "b.txt").symlink_to(folder / "a.txt")
    data_dir = tmp_path / "data"
    summary = ingest([folder], data_dir)
    assert summary["state"] == "completed" and summary["items_in"] == 2
    assert not len(read_dataset(data_dir, "quarantine"))
    assert sorted(item_keys(data_dir, "articles", "duplicates")) == [str(folder / "a.txt"), str(folder / "b.txt")]


@pytest.mark.slow
def test_a_sources_file_path_escaping_its_folder_fails_the_run_naming_the_entry(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    secret = _secret(tmp_path)
    config = tmp_path / "config" / "deep"
    config.mkdir(parents=True)
    relative = os.path.relpath(secret, config)
    assert relative.startswith("../")
    sources = config / "sources.toml"
    sources.write_text(f'[[source]]\npath = "{relative}"\n')
    data_dir = tmp_path / "data"
    done = run_cli(["run", str(sources), "--data-dir", str(data_dir), "--no-progress"], cli_env)
    assert done.returncode == 1, done.stdout[-2000:]
    naming = [
        line
        for line in done.stderr.splitlines()
        if line.startswith("mediawatch:") and "sources.toml" in line and ("#1" in line or relative in line)
    ]
    assert len(naming) == 1, done.stderr[-3000:]
    if data_dir.exists():
        assert files_containing(data_dir, MARKER.encode()) == []


# -- 9. caps on real bytes ----------------------------------------------------------------------------------


# The loading path of a run (plan, then read batch by batch) in a fresh process that reports its own peak
# memory. The peak is read from /proc (VmHWM, this process's own high-water mark): getrusage's ru_maxrss would
# also count the parent's peak, which Linux carries over into a child started by fork and exec.
_LOAD_IN_A_CHILD = textwrap.dedent(
    """
    import json, sys
    from storage.fetch_state import FetchState
    from storage.item_ledger import ItemLedger
    from tasks.fetch import FetchClient
    from tasks.inputs import SourceOptions, plan_sources, read_batch

    options = SourceOptions()
    reasons, items = [], 0
    with FetchState(sys.argv[2]) as state, FetchClient(options.fetch) as client, ItemLedger(sys.argv[2]) as ledger:
        plan = plan_sources([sys.argv[1]], options, client, state, ledger)
        reasons += [r.reason for r in plan.rejections]
        for batch in plan.batches(200, options, ledger):
            got, rejected = read_batch(batch, options, client, state)
            items += len(got)
            reasons += [r.reason for r in rejected]
    with open("/proc/self/status") as status:
        peak_kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    peak_mb = peak_kb / 1024
    print(json.dumps({"reasons": reasons, "items": items, "peak_mb": peak_mb}))
    """
)


def write_gzip_bomb(path: Path, head: bytes, chunk: bytes, repeat: int, tail: bytes) -> None:
    """Write a gzip file that inflates to ``head + chunk * repeat + tail`` without compressing it all.

    ``chunk`` is deflated once and its block written ``repeat`` times: each copy ends with a full flush, so no
    copy refers back to another and the stream stays valid (RFC 1951); the trailer holds the CRC and size.
    """

    def segment(data: bytes, final: bool = False) -> bytes:
        deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
        return deflate.compress(data) + deflate.flush(zlib.Z_FINISH if final else zlib.Z_FULL_FLUSH)

    crc = zlib.crc32(head)
    for _ in range(repeat):
        crc = zlib.crc32(chunk, crc)
    crc = zlib.crc32(tail, crc)
    size = len(head) + len(chunk) * repeat + len(tail)
    block = segment(chunk)
    with path.open("wb") as out:
        out.write(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff")  # gzip header: deflate, no name, no mtime
        out.write(segment(head))
        for _ in range(repeat):
            out.write(block)
        out.write(segment(tail, final=True))
        out.write(struct.pack("<II", crc & 0xFFFFFFFF, size & 0xFFFFFFFF))


def test_a_gzip_bomb_is_rejected_too_large_without_being_inflated(tmp_path: Path) -> None:
    bomb = tmp_path / "in" / "bomb.jsonl.gz"
    bomb.parent.mkdir()
    write_gzip_bomb(bomb, b'{"id": "bomb", "text": "', b"a" * 1_000_000, 900, b'"}\n')  # 900 MB once inflated
    assert bomb.stat().st_size < 2_000_000
    state = tmp_path / "state"
    done = subprocess.run(
        [sys.executable, "-c", _LOAD_IN_A_CHILD, str(bomb), str(state)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=Path(__file__).resolve().parent.parent,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert (result["reasons"], result["items"]) == (["too_large"], 0)
    assert result["peak_mb"] < 500, f"reading the bomb peaked at {result['peak_mb']:.0f} MB"


def _limit_memory() -> None:
    # A reader that does not stop at /dev/zero would eat the machine's memory before any timeout fires.
    resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))  # a whole run needs well under this


def test_a_symlink_to_dev_zero_on_the_command_line_is_refused(cli_env: dict[str, str], tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    zero = folder / "zero.html"
    zero.symlink_to("/dev/zero")
    good = folder / "good.txt"
    good.write_text(f"Good news\n{news_text('zero-good')}\n")
    data_dir = tmp_path / "data"
    args = ["run", str(zero), str(good), "--data-dir", str(data_dir), "--no-progress"]
    done = run_cli(args, cli_env, timeout=300, preexec_fn=_limit_memory)
    assert done.returncode == 0, done.stderr[-3000:]
    assert list(quarantine_of(data_dir, zero)["reason"]) == ["not_regular_file"]
    assert list(read_dataset(data_dir, "articles")["item_key"]) == [str(good)]


def test_a_fifo_in_an_input_folder_is_refused(cli_env: dict[str, str], tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    fifo = folder / "pipe.html"
    os.mkfifo(fifo)
    (folder / "good.txt").write_text(f"Good news\n{news_text('fifo-good')}\n")
    data_dir = tmp_path / "data"
    done = run_cli(["run", str(folder), "--data-dir", str(data_dir), "--no-progress"], cli_env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert list(quarantine_of(data_dir, fifo)["reason"]) == ["not_regular_file"]
    assert list(read_dataset(data_dir, "articles")["item_key"]) == [str(folder / "good.txt")]


# -- 10. a stray byte in a UTF-8 page --------------------------------------------------------------------


def test_one_stray_byte_does_not_turn_a_utf8_page_into_mojibake(
    prefect_harness: None, web: FaultServer, tmp_path: Path
) -> None:
    lead = "Société Générale said on Tuesday that its quarterly profit rose 12 per cent, beating forecasts. "
    text = lead + news_text("stray")
    body = news_page("stray", title="Société Générale results").replace(
        b"<article>", b"<article><p>" + text.encode() + b"</p><p>Price \xa3 note.</p>"
    )
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")  # exactly one byte that is not UTF-8
    web.route("/stray.html", page(body, "text/html; charset=utf-8"))
    data_dir = tmp_path / "data"
    assert ingest([web.url("/stray.html")], data_dir)["state"] == "completed"
    (article_text,) = read_dataset(data_dir, "articles")["text"]
    assert "Société Générale" in article_text


# -- 11. one state directory, two lakes ----------------------------------------------------------------------


@pytest.mark.slow
def test_a_state_directory_of_another_lake_is_refused(cli_env: dict[str, str], tmp_path: Path) -> None:
    state = tmp_path / "state"
    env = {**cli_env, "MEDIAWATCH_STATE_DIR": str(state)}
    first_lake, second_lake = tmp_path / "lake-a", tmp_path / "lake-b"
    one = write_jsonl(tmp_path / "in" / "one.jsonl", [news_item(i, "one") for i in range(2)])
    two = write_jsonl(tmp_path / "in" / "two.jsonl", [news_item(i, "two") for i in range(2)])
    first = run_cli(["run", str(one), "--data-dir", str(first_lake), "--no-progress"], env)
    assert first.returncode == 0, first.stderr[-3000:]
    second = run_cli(["run", str(two), "--data-dir", str(second_lake), "--no-progress"], env)
    assert second.returncode == 1, second.stdout[-2000:]
    naming = [line for line in second.stderr.splitlines() if str(state) in line and str(first_lake.resolve()) in line]
    assert len(naming) >= 1, second.stderr[-3000:]
    written = [p for d in DATASETS for p in (second_lake / d).rglob("*") if p.is_file()]
    assert written == []


# -- 12. a slow host does not hold the run ------------------------------------------------------------------


def _deferred(counts: dict[str, Any]) -> int:
    """Return how many URLs the run's counts say were left for the next run: the largest count (a number, or
    the length of a list) under a key containing ``deferred``, at any depth (a run may also name the hosts)."""
    found = [0]
    for key, value in counts.items():
        if isinstance(value, dict):
            found.append(_deferred(value))
            if "deferred" in key:
                found.append(sum(_size(v) for v in value.values()))
        elif "deferred" in key:
            found.append(_size(value))
    return max(found)


def _size(value: Any) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, list):
        return len(value)
    return 0


@pytest.mark.slow
def test_a_slow_host_is_deferred_to_the_next_run(
    prefect_harness: None, web: FaultServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEDIAWATCH_FETCH_HOST_BUDGET_SECONDS", "3")
    # Bounds for the code without a host budget: each slow page then ends as a 10 s timeout, never retried.
    monkeypatch.setenv("MEDIAWATCH_TOTAL_TIMEOUT", "10")
    monkeypatch.setenv("MEDIAWATCH_RETRIES", "0")
    pages = {f"/slow/{i}.html": news_page(f"slow-{i}") for i in range(3)}
    for path, body in pages.items():
        web.route(path, drip(body, interval=2.0, step=1))  # a byte every 2 s
    urls = [web.url(p) for p in pages]
    listing = write_url_list(tmp_path / "in" / "slow.urls", urls)
    data_dir = tmp_path / "data"
    first = ingest([listing], data_dir)
    assert first["state"] == "completed"
    deferred = _deferred(json.loads(first["counts"]))
    assert deferred >= 1, first["counts"]
    quarantined = {u for u in read_dataset(data_dir, "quarantine").get("url", []) if u in urls}
    assert len(quarantined) + deferred == len(urls), first["counts"]  # a deferred URL is not quarantined
    assert not len(read_dataset(data_dir, "articles"))

    for path, body in pages.items():
        web.route(path, page(body))  # the host is fast again
    web.clear_log()
    second = ingest([listing], data_dir)
    assert second["state"] == "completed"
    assert {r.path for r in web.requests() if r.path in pages} == set(pages)  # none was marked fetched
    assert sorted(read_dataset(data_dir, "articles")["url"]) == sorted(urls)
    assert_matches_clean_run(
        data_dir, [listing], tmp_path, datasets=["articles", "entities", "figures", "duplicates", "raw"]
    )
    from storage.query import unresolved_quarantine

    assert unresolved_quarantine(str(data_dir)) == []


# -- 13. smaller faults -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "column", "repair"),
    [
        ({"title": ["Copper", "deal"]}, "title", "bad_field_type"),
        ({"published_at": "the day after the vote"}, "published_at", "unparseable_date"),
        ({"published_at": "2025-03-14T08:00:00+25:00"}, "published_at", "bad_utc_offset"),
    ],
)
def test_a_bad_jsonl_field_becomes_null_and_is_counted_as_a_repair(
    prefect_harness: None, tmp_path: Path, fields: dict[str, Any], column: str, repair: str
) -> None:
    corpus = write_jsonl(tmp_path / "in" / "a.jsonl", [news_item(0, "fix", **fields), news_item(1, "fix")])
    data_dir = tmp_path / "data"
    summary = ingest([corpus], data_dir)
    assert summary["state"] == "completed"
    articles = read_dataset(data_dir, "articles").set_index("external_id")
    assert sorted(articles.index) == ["fix0", "fix1"]
    assert pd.isna(articles.loc["fix0", column])
    assert repairs(json.loads(summary["counts"])) == {repair: 1}


def test_a_nul_byte_in_a_normal_page_does_not_reject_it(prefect_harness: None, tmp_path: Path) -> None:
    path = tmp_path / "in" / "page.html"
    path.parent.mkdir()
    body = news_page("nul")
    path.write_bytes(body.replace(b"</h1>", b"</h1>\x00", 1))
    data_dir = tmp_path / "data"
    assert ingest([path], data_dir)["state"] == "completed"
    assert list(read_dataset(data_dir, "articles")["item_key"]) == [str(path)]


@pytest.mark.slow
def test_a_corrupt_item_ledger_is_rebuilt_with_a_warning(
    prefect_harness: None, cli_env: dict[str, str], tmp_path: Path
) -> None:
    corpus = write_jsonl(tmp_path / "in" / "a.jsonl", [news_item(i, "led") for i in range(4)])
    data_dir = tmp_path / "data"
    assert ingest([corpus], data_dir)["state"] == "completed"
    ledger = data_dir / "_state" / "items" / "items.sqlite3"
    assert ledger.is_file()
    ledger.write_bytes(b"this is not a database " * 200)
    done = run_cli(["run", str(corpus), "--data-dir", str(data_dir), "--no-progress"], cli_env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "items.sqlite3" in done.stdout + done.stderr
    assert_matches_clean_run(data_dir, [corpus], tmp_path)


def test_a_corrupt_parquet_file_is_named_not_fatal(
    prefect_harness: None, cli_env: dict[str, str], tmp_path: Path
) -> None:
    corpus = write_jsonl(tmp_path / "in" / "a.jsonl", [news_item(i, "pq") for i in range(4)])
    data_dir = tmp_path / "data"
    assert ingest([corpus], data_dir, batch_size=2)["state"] == "completed"
    files = sorted((data_dir / "articles").rglob("*.parquet"))
    assert len(files) == 2
    broken = files[0]
    lost = pq.read_metadata(broken).num_rows
    broken.write_bytes(b"garbage, not parquet " * 50)
    commands = {
        "query": ["query", "select count(*) as n from articles", "--format", "json"],
        "runs": ["runs"],
        "report": ["report", "--since", "2020-01-01", "--output", str(tmp_path / "report.html")],
        "compact": ["compact"],
    }
    for name, args in commands.items():
        done = run_cli([*args, "--data-dir", str(data_dir)], cli_env)
        assert done.returncode == 0, f"{name}: {done.stderr[-3000:]}"
        assert broken.name in done.stderr, f"{name} does not name the file: {done.stderr[-3000:]}"
        assert "Traceback" not in done.stderr, f"{name}: {done.stderr[-3000:]}"
        if name == "query":
            assert json.loads(done.stdout) == [{"n": 4 - lost}]


def test_a_url_list_line_without_a_scheme_is_quarantined_bad_url(
    prefect_harness: None, web: FaultServer, tmp_path: Path
) -> None:
    urls = serve_pages(web, {"/one.html": news_page("u-1"), "/two.html": news_page("u-2")})
    listing = write_url_list(tmp_path / "in" / "list.urls", [urls[0], "desk.example/no-scheme", urls[1]])
    data_dir = tmp_path / "data"
    summary = ingest([listing], data_dir)
    assert summary["state"] == "completed"
    assert sorted(read_dataset(data_dir, "articles")["url"]) == sorted(urls)
    rows = read_dataset(data_dir, "quarantine")
    assert list(rows["reason"]) == ["bad_url"]
    assert "desk.example/no-scheme" in f"{rows.iloc[0]['url']} {rows.iloc[0]['item_key']}"


def _numbers_under_skipped(value: Any, inside: bool = False) -> list[int]:
    """Return the integers in ``counts`` found under keys that mention ``skipped``."""
    if isinstance(value, dict):
        return [n for k, v in value.items() for n in _numbers_under_skipped(v, inside or "skipped" in str(k))]
    if isinstance(value, list):
        return [n for v in value for n in _numbers_under_skipped(v, inside)]
    return [value] if inside and isinstance(value, int) and not isinstance(value, bool) else []


def test_fifty_thousand_skipped_files_keep_the_counts_small(prefect_harness: None, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    (folder / "exports").mkdir(parents=True)
    for i in range(50_000):
        (folder / "exports" / f"sheet-{i:05d}.csv").touch()
    (folder / "news.txt").write_text(f"Plain news\n{news_text('skip')}\n")
    data_dir = tmp_path / "data"
    summary = ingest([folder], data_dir)
    assert summary["state"] == "completed" and summary["articles"] == 1
    counts = run_counts(data_dir)
    assert len(json.dumps(counts)) < 10_000, f"counts JSON is {len(json.dumps(counts))} characters"
    assert 50_000 in _numbers_under_skipped(counts), {k: v for k, v in counts.items() if "skip" in k}
