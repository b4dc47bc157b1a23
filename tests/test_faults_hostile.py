"""Hostile inputs and hosts, each checked against mediawatch's promise: nothing is lost (cases 8-13 of the fault
suite; see :mod:`tests.test_faults`): symlinks, caps on the bytes really read, stray bytes, a shared state
directory, a slow host, and smaller faults (bad field types, a NUL byte, corrupt caches and files, broken URL
lists, folders of skipped files).
"""

from __future__ import annotations

import json
import os
import resource
import struct
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest

from storage.schemas import DATASETS
from tests.httpfaults import FaultServer, drip, page
from tests.invariants import (
    assert_matches_clean_run,
    files_containing,
    ingest,
    item_keys,
    news_item,
    news_page,
    news_text,
    quarantine_of,
    read_dataset,
    repairs,
    run_cli,
    run_counts,
    serve_pages,
    write_jsonl,
    write_url_list,
)

pytestmark = pytest.mark.integration


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
def test_a_sources_file_path_escaping_its_folder_is_refused_naming_the_entry(
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
    assert done.returncode == 2, done.stdout[-2000:]  # a configuration error: refused before any work
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
