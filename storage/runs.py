"""The run ledger: one ``runs`` row per run, written when it starts, after every batch and when it ends.

Because the row exists from the first second, a run that dies (``kill -9``, out of memory, power loss) leaves
a row in state ``running``; the next run on the same data directory holds the write lock, so it knows that
run is gone and rewrites its state as ``crashed``. Counts are kept per stage and per quarantine reason, and
``items_in = articles + duplicates + quarantined`` is checked before a run may call itself completed.

Each ingest run also leaves one ``source_health`` row per source (:func:`write_source_health`), committed like a
batch under the stem ``<run>-health``: a crash before its marker leaves nothing visible, and a flow retry rolls
it back with the run's batches and writes it again, so a source is never counted twice for one run.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from storage.lake import Lake, partition_date
from storage.schemas import PARTITION_COLUMN, SCHEMA_VERSION, SCHEMAS

STATE_RUNNING = "running"
STATE_COMPLETED = "completed"
STATE_FAILED = "failed"
STATE_CRASHED = "crashed"
# The batch name of a run's source_health commit (its stem is ``<run>-health``).
HEALTH_BATCH = "health"


class AccountingError(RuntimeError):
    """The run's counts do not add up: an item entered and left no trace."""


@dataclass(slots=True)
class RunLedger:
    """Counts of one run and the means to persist them as its ``runs`` row."""

    lake: Lake
    run_id: str
    flow: str
    parameters: Mapping[str, Any]
    code_version: str = ""
    model_name: str = ""
    model_version: str = ""
    run_name: str = ""
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    items_in: int = 0
    articles: int = 0
    duplicates: int = 0
    quarantined: int = 0
    entities: int = 0
    figures: int = 0
    stages: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)
    duplicate_methods: Counter[str] = field(default_factory=Counter)
    repairs: Counter[str] = field(default_factory=Counter)  # values repaired or left out, items kept
    stage_seconds: dict[str, float] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)

    @contextlib.contextmanager
    def timer(self, stage: str) -> Iterator[None]:
        """Add the wall time of the block to ``stage``'s seconds (reported in ``counts``)."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.stage_seconds[stage] = self.stage_seconds.get(stage, 0.0) + time.perf_counter() - start

    def add_batch(self, articles: int, duplicates: int, entities: int, figures: int) -> None:
        """Add one committed batch's row counts."""
        self.articles += articles
        self.duplicates += duplicates
        self.entities += entities
        self.figures += figures

    def add_quarantined(self, stage: str, reason: str, n: int = 1) -> None:
        """Count ``n`` items quarantined at ``stage`` for ``reason`` (they also count as items in)."""
        self.quarantined += n
        self.reasons[f"{stage}:{reason}"] += n

    def balanced(self) -> bool:
        """Return True when every item that entered is an article, a duplicate or quarantined."""
        return self.items_in == self.articles + self.duplicates + self.quarantined

    def counts_json(self) -> str:
        """Return the detailed counts (per stage, per quarantine reason, per dedup method) as JSON."""
        return json.dumps(
            {
                "stages": dict(self.stages),
                "quarantine_reasons": dict(sorted(self.reasons.items())),
                "duplicate_methods": dict(sorted(self.duplicate_methods.items())),
                "repairs": dict(sorted(self.repairs.items())),
                "stage_seconds": {k: round(v, 3) for k, v in self.stage_seconds.items()},
                "wall_seconds": round((datetime.now(UTC) - self.started_at).total_seconds(), 3),
                **self.notes,
            },
            sort_keys=True,
        )

    def row(
        self, state: str, error: str | None = None, ended: bool = False, detail: str | None = None
    ) -> dict[str, Any]:
        """Return this run's ``runs`` row in ``state``; ``detail`` says what the state means, in one line."""
        return {
            "run_id": self.run_id,
            "flow": self.flow,
            "started_at": self.started_at,
            "ended_at": datetime.now(UTC) if ended else None,
            "state": state,
            "parameters": json.dumps(self.parameters, sort_keys=True, default=str),
            "items_in": self.items_in,
            "articles": self.articles,
            "duplicates": self.duplicates,
            "quarantined": self.quarantined,
            "entities": self.entities,
            "figures": self.figures,
            "counts": self.counts_json(),
            "error": error,
            "code_version": self.code_version,
            "model_name": self.model_name,
            "model_version": self.model_version,
            "schema_version": SCHEMA_VERSION,
            "state_detail": detail,
            "run_name": self.run_name or None,
        }

    @property
    def day(self) -> str:
        """The ``date=`` partition of this run's rows: the day it started."""
        return partition_date(self.started_at, self.started_at)

    def save(self, state: str = STATE_RUNNING, error: str | None = None, detail: str | None = None) -> None:
        """Write (replace) this run's row."""
        ended = state != STATE_RUNNING
        self.lake.write_run(self.row(state, error, ended, detail), self.day)

    def check_balance(self) -> None:
        """Raise :class:`AccountingError` (after saving the run as failed) unless the counts add up."""
        if not self.balanced():
            message = (
                f"accounting mismatch: items_in={self.items_in} != articles={self.articles} + "
                f"duplicates={self.duplicates} + quarantined={self.quarantined}"
            )
            self.save(STATE_FAILED, message)
            raise AccountingError(message)

    def finish(self, state: str = STATE_COMPLETED, detail: str | None = None) -> None:
        """Save the run's final row in ``state`` (completed, or failed when its outcome is a failure) with
        ``detail``; raise :class:`AccountingError` instead when the counts do not add up."""
        self.check_balance()
        self.save(state, detail=detail)


def mark_crashed_runs(lake: Lake, current_run_id: str) -> list[str]:
    """Rewrite runs left in state ``running`` as ``crashed``; return their ids.

    Call with the lake's write lock held: a live run would hold the lock, so any other ``running`` row
    belongs to a dead process.
    """
    if not lake.exists("runs"):
        return []
    table = lake.read("runs", filter=pc.field("state") == STATE_RUNNING)
    crashed: list[str] = []
    for row in table.to_pylist():
        if row["run_id"] == current_run_id:
            continue
        row.pop("date", None)
        row["state"] = STATE_CRASHED
        row["error"] = "process ended without finishing the run (marked by the next run)"
        lake.write_run(row, partition_date(row["started_at"], row["started_at"]))
        crashed.append(row["run_id"])
    return crashed


def write_source_health(lake: Lake, run_id: str, rows: Sequence[Mapping[str, Any]], day: str) -> int:
    """Commit the run's ``source_health`` rows (one per source) under the stem ``<run>-health``; return how many.

    Committing again for the same run replaces the same files, and a flow retry's rollback removes them with the
    run's batches: whatever happens, one row per source per run.
    """
    if not rows:
        return 0
    schema = SCHEMAS["source_health"].append(pa.field(PARTITION_COLUMN, pa.string()))
    table = pa.Table.from_pylist(
        [{**row, "run_id": run_id, "schema_version": SCHEMA_VERSION, PARTITION_COLUMN: day} for row in rows],
        schema=schema,
    )
    lake.commit_batch(run_id, HEALTH_BATCH, {"source_health": table})
    return len(rows)


def recent_source_health(
    lake: Lake, sources: Sequence[str], exclude_run: str, per_source: int, since_day: str
) -> dict[str, list[dict[str, Any]]]:
    """Return the ``source_health`` rows of ``sources`` from earlier runs (not ``exclude_run``) started on or
    after ``since_day`` (older partitions are not read), newest first, at most ``per_source`` each: the baseline
    a run's figures are compared with."""
    if not sources or not lake.exists("source_health"):
        return {}
    table = lake.read(
        "source_health",
        filter=(pc.field(PARTITION_COLUMN) >= since_day)
        & pc.field("source").isin(list(sources))
        & (pc.field("run_id") != exclude_run),
    )
    history: dict[str, list[dict[str, Any]]] = {}
    for row in sorted(table.to_pylist(), key=lambda r: r["started_at"], reverse=True):
        kept = history.setdefault(row["source"], [])
        if len(kept) < per_source:
            kept.append(row)
    return history
