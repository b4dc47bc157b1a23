"""The run ledger: counts that must add up, crashed runs marked by the next run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from storage.lake import Lake
from storage.runs import AccountingError, RunLedger, mark_crashed_runs


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
