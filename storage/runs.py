"""The run ledger: one ``runs`` row per run, written when it starts, after every batch and when it ends.

Because the row exists from the first second, a run that dies (``kill -9``, out of memory, power loss) leaves
a row in state ``running``; the next run on the same data directory holds the write lock, so it knows that
run is gone and rewrites its state as ``crashed``. Counts are kept per stage and per quarantine reason, and
``items_in = articles + duplicates + quarantined`` is checked before a run may call itself completed.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pyarrow.compute as pc

from storage.lake import Lake, partition_date
from storage.schemas import SCHEMA_VERSION

STATE_RUNNING = "running"
STATE_COMPLETED = "completed"
STATE_FAILED = "failed"
STATE_CRASHED = "crashed"


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

    def row(self, state: str, error: str | None = None, ended: bool = False) -> dict[str, Any]:
        """Return this run's ``runs`` row in ``state``."""
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
        }

    def save(self, state: str = STATE_RUNNING, error: str | None = None) -> None:
        """Write (replace) this run's row."""
        ended = state != STATE_RUNNING
        self.lake.write_run(self.row(state, error, ended), partition_date(self.started_at, self.started_at))

    def finish(self) -> None:
        """Mark the run completed, or raise :class:`AccountingError` (after saving it as failed)."""
        if not self.balanced():
            message = (
                f"accounting mismatch: items_in={self.items_in} != articles={self.articles} + "
                f"duplicates={self.duplicates} + quarantined={self.quarantined}"
            )
            self.save(STATE_FAILED, message)
            raise AccountingError(message)
        self.save(STATE_COMPLETED)


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
