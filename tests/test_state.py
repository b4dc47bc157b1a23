"""The caches beside the lake (item ledger, fetch state) follow the lake's commit markers, whatever happened."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage.fetch_state import FetchState
from storage.item_ledger import ItemLedger
from storage.lake import Lake, Settles
from storage.state import StateBindingError, bind_state_dir
from tasks.rows import quarantine_table
from tests.test_lake import NOW, _rejections


def _commit(lake: Lake, run: str, batch: str, items: dict[str, str], fetched: list[str]) -> str:
    table = quarantine_table(_rejections(1), run, 100, NOW)
    lake.commit_batch(run, batch, {"quarantine": table}, Settles(items=items, fetched=fetched))
    return f"{run}-{batch}"


def test_ledger_forgets_items_of_a_rolled_back_batch(tmp_path: Path) -> None:
    lake = Lake(str(tmp_path / "data"))
    with ItemLedger(tmp_path / "items") as ledger:
        stem = _commit(lake, "run-a", "b0", {"a#L1": "v1", "a#L2": "v1"}, [])
        ledger.stage(stem, {"a#L1": "v1", "a#L2": "v1"})
        ledger.promote([stem])
        assert ledger.processed({"a#L1": "v1", "a#L2": "v1"}) == {"a#L1", "a#L2"}
        lake.rollback_run("run-a")  # a flow retry starts over
        changed = ledger.reconcile(lake.batch_stems(), lambda s: lake.marker_settles(s).items)
        assert changed["forgotten"] == 2
        assert ledger.processed({"a#L1": "v1", "a#L2": "v1"}) == set()


def test_ledger_promotes_items_of_a_batch_committed_just_before_a_crash(tmp_path: Path) -> None:
    lake = Lake(str(tmp_path / "data"))
    with ItemLedger(tmp_path / "items") as ledger:
        ledger.stage("run-a-b0", {"a#L1": "v1"})
        ledger.stage("run-a-b1", {"a#L2": "v1"})
        _commit(lake, "run-a", "b0", {"a#L1": "v1"}, [])  # b0 committed, the process died before promoting it
        ledger.reconcile(lake.batch_stems(), lambda s: lake.marker_settles(s).items)
        assert ledger.processed({"a#L1": "v1", "a#L2": "v1"}) == {"a#L1"}  # b1 never committed: read again


def test_a_lost_or_corrupt_ledger_is_rebuilt_from_the_markers(tmp_path: Path) -> None:
    lake = Lake(str(tmp_path / "data"))
    _commit(lake, "run-a", "b0", {"a#L1": "v1", "a#L2": "v1"}, ["https://x.example/1"])
    (tmp_path / "items").mkdir()
    (tmp_path / "items" / "items.sqlite3").write_bytes(b"not a database at all" * 100)
    warnings: list[str] = []
    with ItemLedger(tmp_path / "items", on_corrupt=warnings.append) as ledger:
        assert ledger.reconcile(lake.batch_stems(), lambda s: lake.marker_settles(s).items)["rebuilt"] == 2
        assert ledger.processed({"a#L1": "v1", "a#L2": "v2"}) == {"a#L1"}
    assert len(warnings) == 1 and "items.sqlite3" in warnings[0]
    assert list((tmp_path / "items").glob("items.sqlite3.corrupt-*"))
    with FetchState(tmp_path / "fetch") as state:
        state.reconcile(lake.batch_stems(), lambda s: lake.marker_settles(s).fetched)
        assert state.known(["https://x.example/1", "https://x.example/2"]) == {"https://x.example/1"}


def test_fetched_pages_of_a_rolled_back_batch_are_fetched_again(tmp_path: Path) -> None:
    lake = Lake(str(tmp_path / "data"))
    with FetchState(tmp_path / "fetch") as state:
        state.record("https://x.example/1", status=200)
        state.record("https://x.example/2", status=200)
        fetched = state.assign("run-a-b0", keep={"https://x.example/2"})  # page 2 belongs to a later batch
        assert fetched == ["https://x.example/1"]
        _commit(lake, "run-a", "b0", {}, fetched)
        state.promote(["run-a-b0"])
        assert state.known(["https://x.example/1", "https://x.example/2"]) == {"https://x.example/1"}
        lake.rollback_run("run-a")
        state.reconcile(lake.batch_stems(), lambda s: lake.marker_settles(s).fetched)
        assert state.known(["https://x.example/1"]) == set()


def test_a_state_directory_serves_one_lake(tmp_path: Path) -> None:
    first, second = Lake(str(tmp_path / "one")), Lake(str(tmp_path / "two"))
    bind_state_dir(tmp_path / "state", first.lake_id(), first.uri)
    bind_state_dir(tmp_path / "state", first.lake_id(), first.uri)  # the same lake again: fine
    assert first.lake_id() == Lake(str(tmp_path / "one")).lake_id()
    with pytest.raises(StateBindingError, match=r"state directory .*state belongs to the lake at .*one"):
        bind_state_dir(tmp_path / "state", second.lake_id(), second.uri)
