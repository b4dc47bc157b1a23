"""The lake: typed Hive partitions, atomic commits, sweeping of uncommitted batches, the write lock."""

from __future__ import annotations

import multiprocessing
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from storage.lake import Lake, LakeLockedError, partition_date, safe_token
from storage.schemas import SCHEMA_VERSION, SCHEMA_VERSION_KEY, SCHEMAS, columns
from tasks.records import Rejection
from tasks.rows import quarantine_table

NOW = datetime(2025, 11, 23, 8, 0, tzinfo=UTC)


def _rejections(n: int) -> list[Rejection]:
    return [
        Rejection(f"k{i}", f"/in/{i}.html", "load", "empty_payload", "file is empty", b"x" * (i + 1)) for i in range(n)
    ]


def test_safe_token_and_partition_date() -> None:
    assert safe_token("../../etc/passwd") == "etc-passwd"
    assert safe_token("") == "x"
    assert safe_token("a/b\\c d") == "a-b-c-d"
    assert partition_date(None, NOW) == "2025-11-23"
    assert partition_date(datetime(2025, 11, 23, 23, 30, tzinfo=UTC), NOW) == "2025-11-23"


def test_columns_are_derived_from_schemas() -> None:
    assert columns("articles")[0] == "article_id"
    assert set(SCHEMAS) == {
        "articles",
        "entities",
        "figures",
        "duplicates",
        "story_merges",
        "quarantine",
        "runs",
        "raw",
        "source_health",
        "mentions",
        "alerts",
    }
    assert all("schema_version" in s.names for s in SCHEMAS.values())


def test_commit_writes_partitions_readable_everywhere(data_dir: Path) -> None:
    lake = Lake(str(data_dir))
    table = quarantine_table(_rejections(3), "run-1", max_payload_bytes=2, seen_at=NOW)
    record = lake.commit_batch("run-1", "b00000", {"quarantine": table})
    assert len(record.files) == 1
    path = data_dir / "quarantine" / "date=2025-11-23" / "part-run-1-b00000.parquet"
    assert Path(record.files[0]) == path
    meta = pq.read_schema(path).metadata
    assert meta[SCHEMA_VERSION_KEY] == str(SCHEMA_VERSION).encode()
    frame = pd.read_parquet(data_dir / "quarantine")
    assert len(frame) == 3
    assert sorted(frame["payload_bytes"]) == [1, 2, 3]
    assert frame["payload_truncated"].tolist().count(True) == 1
    rows = duckdb.sql(
        f"select count(*), min(date) from read_parquet('{data_dir}/quarantine/**/*.parquet', hive_partitioning=true)"
    ).fetchall()
    assert [(n, str(day)) for n, day in rows] == [(3, "2025-11-23")]
    assert lake.committed_stems() == {"run-1-b00000"}
    assert lake.read("quarantine").num_rows == 3


def _die(*args: object) -> None:
    raise SystemExit("killed before the commit marker")


def test_sweep_removes_uncommitted_batch_files(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lake = Lake(str(data_dir))
    lake.commit_batch("run-1", "b00000", {"quarantine": quarantine_table(_rejections(2), "run-1", 100, NOW)})
    # A crashed writer: files published but no commit marker, plus a staging leftover.
    with monkeypatch.context() as patch:
        patch.setattr(Lake, "_commit", _die)
        with pytest.raises(SystemExit):
            lake.commit_batch("run-2", "b00000", {"quarantine": quarantine_table(_rejections(5), "run-2", 100, NOW)})
    (data_dir / "_staging").mkdir(exist_ok=True)
    (data_dir / "_staging" / "half.parquet").write_bytes(b"PAR1 partial")
    assert pd.read_parquet(data_dir / "quarantine").shape[0] == 7  # a plain reader sees the crash's files
    assert lake.read("quarantine").num_rows == 2  # readers through the lake see committed batches only
    removed = lake.sweep()
    assert len(removed) == 2
    assert lake.read("quarantine").num_rows == 2
    assert not any((data_dir / "_staging").iterdir())


def _hold_lock(root: str, ready: multiprocessing.synchronize.Event, release: multiprocessing.synchronize.Event) -> None:
    with Lake(root).write_lock():
        ready.set()
        release.wait(10)


def test_write_lock_excludes_a_second_writer(data_dir: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    ready, release = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold_lock, args=(str(data_dir), ready, release))
    holder.start()
    try:
        assert ready.wait(30)
        with (
            pytest.raises(LakeLockedError, match="being written by pid"),
            Lake(str(data_dir)).write_lock(0.3),
        ):
            pass
    finally:
        release.set()
        holder.join(10)
    with Lake(str(data_dir)).write_lock():
        pass


def test_unknown_dataset_is_a_clear_error(data_dir: Path) -> None:
    with pytest.raises(KeyError, match="unknown dataset"):
        Lake(str(data_dir)).dataset_path("../etc")


def test_compaction_keeps_every_row_once(data_dir: Path) -> None:
    from tasks.maintenance import compact_lake

    lake = Lake(str(data_dir))
    for batch in range(3):
        table = quarantine_table(_rejections(batch + 1), f"run-{batch}", 100, NOW)
        lake.commit_batch(f"run-{batch}", "b00000", {"quarantine": table})
    before = sorted(lake.read("quarantine")["item_key"].to_pylist())
    assert len(list((data_dir / "quarantine" / "date=2025-11-23").iterdir())) == 3
    assert compact_lake(lake) == {
        d: (3 if d == "quarantine" else 0)
        for d in (
            "articles",
            "entities",
            "figures",
            "duplicates",
            "story_merges",
            "quarantine",
            "raw",
            "source_health",
            "mentions",
            "alerts",
        )
    }
    files = list((data_dir / "quarantine" / "date=2025-11-23").iterdir())
    assert len(files) == 1 and files[0].name.startswith("part-compact-")
    assert sorted(lake.read("quarantine")["item_key"].to_pylist()) == before
    assert sorted(pd.read_parquet(data_dir / "quarantine")["item_key"]) == before
    assert lake.sweep() == []


def test_interrupted_compaction_is_finished_by_sweep(data_dir: Path, tmp_path: Path) -> None:
    import shutil

    lake = Lake(str(data_dir))
    for batch in range(2):
        lake.commit_batch(f"run-{batch}", "b0", {"quarantine": quarantine_table(_rejections(2), f"r{batch}", 9, NOW)})
    directory, files = next(iter(lake.partitions("quarantine").items()))
    saved = tmp_path / "saved"
    saved.mkdir()
    for f in files:
        shutil.copy(f, saved / Path(f).name)
    lake.compact_partition("quarantine", directory, files)
    # Put the old files back: the state of a crash after the compaction's marker, before its deletes.
    for f in files:
        shutil.copy(saved / Path(f).name, f)
    assert len(list(Path(directory).iterdir())) == 3
    assert lake.read("quarantine").num_rows == 4  # readers through the lake see each row once
    assert sorted(Path(p).name for p in lake.sweep()) == sorted(Path(f).name for f in files)
    assert pd.read_parquet(data_dir / "quarantine").shape[0] == 4


def test_rollback_run_removes_only_that_runs_batches(data_dir: Path) -> None:
    lake = Lake(str(data_dir))
    lake.commit_batch("run-a", "b00000", {"quarantine": quarantine_table(_rejections(2), "run-a", 9, NOW)})
    lake.commit_batch("run-b", "b00000", {"quarantine": quarantine_table(_rejections(3), "run-b", 9, NOW)})
    assert len(lake.rollback_run("run-b")) == 1
    assert lake.committed_stems() == {"run-a-b00000"}
    assert set(lake.read("quarantine")["run_id"].to_pylist()) == {"run-a"}


def test_a_non_local_filesystem_works_through_the_same_calls() -> None:
    """An fsspec in-memory filesystem stands in for an object store: no local paths, no rename, no flock."""
    from tasks.maintenance import compact_lake

    lake = Lake("memory://mediawatch-test/lake")
    assert not lake.is_local
    for batch in range(2):
        lake.commit_batch(f"r{batch}", "b0", {"quarantine": quarantine_table(_rejections(2), f"r{batch}", 9, NOW)})
    with lake.write_lock():
        assert lake.sweep() == []
    assert lake.read("quarantine").num_rows == 4
    assert compact_lake(lake)["quarantine"] == 2
    assert lake.read("quarantine").num_rows == 4
    assert len(lake.files("quarantine")) == 1


def test_files_the_lake_did_not_write_are_never_touched_nor_read(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tasks.maintenance import compact_lake

    lake = Lake(str(data_dir))
    foreign_table = pa.table({"x": [1, 2, 3]})
    foreign = [data_dir / "articles" / "year=2024" / "important.parquet"]
    foreign.append(data_dir / "quarantine" / "date=2025-11-23" / "part-foreign.parquet")
    for path in foreign:
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(foreign_table, path)
    before = {path: path.read_bytes() for path in foreign}
    for batch in range(3):
        lake.commit_batch(f"run-{batch}", "b0", {"quarantine": quarantine_table(_rejections(2), f"r{batch}", 9, NOW)})
    with monkeypatch.context() as patch:  # a crashed batch beside them
        patch.setattr(Lake, "_commit", _die)
        with pytest.raises(SystemExit):
            lake.commit_batch("run-9", "b0", {"quarantine": quarantine_table(_rejections(5), "run-9", 9, NOW)})
    assert len(lake.sweep()) == 1
    compact_lake(lake)
    assert lake.sweep() == []
    assert lake.read("quarantine").num_rows == 6  # only the lake's own committed rows
    assert {path: path.read_bytes() for path in foreign} == before


def test_rows_kept_by_a_replacement_stay_visible(data_dir: Path) -> None:
    lake = Lake(str(data_dir))
    table = quarantine_table(_rejections(3), "run-1", 100, NOW)
    lake.commit_batch("run-1", "b00000", {"quarantine": table})
    dropped = table.column("item_key")[0].as_py()
    lake.commit_replacement("replay-r2-b00000", {}, {"quarantine": {dropped}}, key="item_key")
    names = [p.name for p in (data_dir / "quarantine" / "date=2025-11-23").iterdir()]
    assert names == ["part-replay-r2-b00000~0.parquet"]
    assert sorted(lake.read("quarantine")["item_key"].to_pylist()) == sorted(
        k for k in table.column("item_key").to_pylist() if k != dropped
    )
