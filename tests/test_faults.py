"""Failures of runs and of the lake, each checked against mediawatch's promise: nothing is lost.

Every item that enters a run ends as an article, a recorded copy (``duplicates``) or a quarantined record
(``quarantine``, with a snake_case reason and the raw payload); one item never fails a batch; a retry or a
rerun after any failure leaves exactly the rows of a clean run (:func:`tests.invariants.assert_matches_clean_run`).
Cases 1-7: failed runs and their retries, replays, foreign files, compressed input, long texts, lone surrogates,
reports on thin lakes; :mod:`tests.test_faults_hostile` holds the rest.

Runs use the real flow in this process under the session's Prefect harness, or the real ``mediawatch``
command in a child process where the case is about exit codes, messages, hangs or memory. Web sources are
real HTTP servers on 127.0.0.1.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.httpfaults import FaultServer
from tests.invariants import (
    assert_matches_clean_run,
    assert_readers_agree,
    commits_failing,
    ingest,
    item_keys,
    lake_rows,
    news_item,
    news_page,
    news_text,
    quarantine_of,
    query_json,
    read_dataset,
    repairs,
    serve_pages,
    write_jsonl,
    write_url_list,
)

pytestmark = pytest.mark.integration


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
    _assert_failed_with_nothing_read(ingest([path.parent], data_dir, return_state=True))
    _assert_truncated_input(data_dir, path)


def _assert_failed_with_nothing_read(state: Any) -> dict[str, Any]:
    """The run's only source could not be read at all: the run is Failed (its rows still written); return its
    summary."""
    assert state.is_failed()
    summary: dict[str, Any] = state.result(raise_on_failure=False).summary
    return summary


def test_a_truncated_gzipped_jsonl_is_one_truncated_input_rejection(prefect_harness: None, tmp_path: Path) -> None:
    path = tmp_path / "in" / "items.jsonl.gz"
    path.parent.mkdir()
    whole = gzip.compress(_lines("cut", 5))
    path.write_bytes(whole[: len(whole) * 6 // 10])
    data_dir = tmp_path / "data"
    _assert_failed_with_nothing_read(ingest([path.parent], data_dir, return_state=True))
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
    summary = _assert_failed_with_nothing_read(ingest([path], data_dir, return_state=True))
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
