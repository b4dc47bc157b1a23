"""The run ledger: counts that must add up, crashed runs marked by the next run, the final state's meaning, and the
``source_health`` rows a run commits once."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from storage.lake import Lake
from storage.runs import (
    STATE_FAILED,
    AccountingError,
    RunLedger,
    mark_crashed_runs,
    recent_source_health,
    write_source_health,
)


def test_ledger_round_trip_and_accounting(data_dir: Path) -> None:
    lake = Lake(str(data_dir))
    ledger = RunLedger(lake, run_id="r1", flow="ingest-news", parameters={"sources": ["x"]})
    ledger.items_in, ledger.articles, ledger.duplicates = 5, 3, 1
    ledger.add_quarantined("load", "invalid_json")
    ledger.save()
    assert lake.read("runs").to_pylist()[0]["state"] == "running"
    ledger.finish()
    row = lake.read("runs").to_pylist()[0]
    assert lake.read("runs").num_rows == 1
    assert (row["state"], row["items_in"], row["quarantined"]) == ("completed", 5, 1)
    assert json.loads(row["counts"])["quarantine_reasons"] == {"load:invalid_json": 1}
    assert json.loads(row["parameters"]) == {"sources": ["x"]}
    assert row["ended_at"] is not None


def test_unbalanced_run_fails_and_is_recorded(data_dir: Path) -> None:
    lake = Lake(str(data_dir))
    ledger = RunLedger(lake, run_id="r2", flow="ingest-news", parameters={})
    ledger.items_in, ledger.articles = 3, 2
    with pytest.raises(AccountingError, match="items_in=3"):
        ledger.finish()
    row = lake.read("runs").to_pylist()[0]
    assert row["state"] == "failed"
    assert "accounting mismatch" in row["error"]


def test_running_rows_of_dead_runs_are_marked_crashed(data_dir: Path) -> None:
    lake = Lake(str(data_dir))
    RunLedger(lake, run_id="dead", flow="ingest-news", parameters={}).save()
    RunLedger(lake, run_id="live", flow="ingest-news", parameters={}).save()
    assert mark_crashed_runs(lake, current_run_id="live") == ["dead"]
    states = {r["run_id"]: r["state"] for r in lake.read("runs").to_pylist()}
    assert states == {"dead": "crashed", "live": "running"}


def test_final_state_detail_and_run_name_are_recorded(data_dir: Path) -> None:
    lake = Lake(str(data_dir))
    ledger = RunLedger(lake, run_id="r3", flow="ingest-news", parameters={}, run_name="ingest feeds 10:00")
    ledger.items_in = 4
    ledger.add_quarantined("fetch", "http_5xx", 4)
    ledger.finish(STATE_FAILED, "every source failed: the source (http://x/feed): http_5xx 4")
    row = lake.read("runs").to_pylist()[0]
    assert (row["state"], row["run_name"]) == ("failed", "ingest feeds 10:00")
    assert row["state_detail"] == "every source failed: the source (http://x/feed): http_5xx 4"
    assert row["error"] is None and row["ended_at"] is not None


def _health_row(source: str, started_at: datetime, words: float) -> dict[str, object]:
    return {
        "source": source,
        "kind": "feed",
        "name": None,
        "started_at": started_at,
        "status": "ok",
        "findings": [],
        "requests": 3,
        "fetched": 3,
        "not_modified": 0,
        "http_4xx": 0,
        "http_5xx": 0,
        "failed": 0,
        "failed_by_reason": "{}",
        "listed": 2,
        "items_in": 2,
        "pages_cleaned": 2,
        "articles": 2,
        "teasers": 0,
        "duplicates": 0,
        "quarantined": 0,
        "mean_words": words,
        "date_share": 1.0,
        "author_share": 0.5,
        "language_mismatches": 0,
    }


def test_source_health_is_committed_once_per_run_and_rolled_back_with_it(data_dir: Path) -> None:
    lake = Lake(str(data_dir))
    start = datetime(2025, 11, 23, 8, 0, tzinfo=UTC)
    rows = [_health_row("https://a.example/feed", start, 400.0), _health_row("https://b.example/feed", start, 300.0)]
    assert write_source_health(lake, "r1", rows, "2025-11-23") == 2
    assert write_source_health(lake, "r1", rows, "2025-11-23") == 2  # a second commit of the run replaces the first
    table = lake.read("source_health")
    assert sorted(table.column("source").to_pylist()) == ["https://a.example/feed", "https://b.example/feed"]
    assert set(table.column("run_id").to_pylist()) == {"r1"}
    assert set(table.column("date").to_pylist()) == {"2025-11-23"}
    lake.rollback_run("r1")  # what a flow retry does first
    assert lake.read("source_health").num_rows == 0


def test_recent_source_health_is_each_sources_own_newest_rows(data_dir: Path) -> None:
    lake = Lake(str(data_dir))
    start = datetime(2025, 11, 20, 8, 0, tzinfo=UTC)
    for day in range(4):
        when = start + timedelta(days=day)
        rows = [
            _health_row("https://a.example/feed", when, 100.0 + day),
            _health_row("https://b.example/feed", when, 1),
        ]
        write_source_health(lake, f"r{day}", rows, when.strftime("%Y-%m-%d"))
    history = recent_source_health(lake, ["https://a.example/feed"], "r3", 2, "2025-11-01")
    assert list(history) == ["https://a.example/feed"]
    assert [(r["run_id"], r["mean_words"]) for r in history["https://a.example/feed"]] == [("r2", 102.0), ("r1", 101.0)]
    recent = recent_source_health(lake, ["https://a.example/feed"], "r3", 5, "2025-11-22")
    assert [r["run_id"] for r in recent["https://a.example/feed"]] == ["r2"]  # older partitions are not read
