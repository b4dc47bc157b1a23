"""State kept beside the lake: SQLite caches of what its commit markers say (item ledger, fetch state), and the
binding of a state directory to one lake.

They live outside the Parquet datasets because they are looked up per item; they are never the truth, so a
damaged one is moved aside and rebuilt rather than failing every scheduled run. A state directory records the id
of the lake it serves: met with another lake (the same ``MEDIAWATCH_STATE_DIR`` for two data directories) it is
refused, since the second lake would otherwise skip every item the first one holds.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path


class CacheDatabaseError(RuntimeError):
    """A cache database cannot be created at all (a read-only or full disk)."""


def open_sqlite(path: Path, schema: str, on_corrupt: Callable[[str], None] | None = None) -> sqlite3.Connection:
    """Return a WAL-mode connection to the cache database at ``path`` with ``schema`` applied.

    A file that is not a usable SQLite database (overwritten, truncated) is moved aside as
    ``<name>.corrupt-<time>`` and a new one is created: these databases are caches the lake's markers rebuild,
    so a damaged one costs a rebuild, never a failed run. ``on_corrupt`` is told (with a one-line message).
    """
    try:
        return _connect(path, schema)
    except sqlite3.DatabaseError as exc:
        aside = path.with_name(f"{path.name}.corrupt-{datetime.now(UTC):%Y%m%dT%H%M%S}")
        for suffix in ("", "-wal", "-shm"):
            extra = Path(f"{path}{suffix}")
            if extra.exists():
                extra.rename(Path(f"{aside}{suffix}"))
        if on_corrupt is not None:
            on_corrupt(f"{path} is not a usable database ({exc}); moved it to {aside.name} and rebuilt it")
        try:
            return _connect(path, schema)
        except sqlite3.DatabaseError as again:
            raise CacheDatabaseError(f"cannot create {path}: {again}") from again


def _connect(path: Path, schema: str) -> sqlite3.Connection:
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        # NORMAL with WAL: a committed transaction survives a process crash; only an OS crash can lose the
        # last few, which leaves the cache older, and reconciliation with the lake's markers repairs that.
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(schema)
    except sqlite3.DatabaseError:
        db.close()
        raise
    return db


BINDING_FILENAME = "lake.json"


class StateBindingError(RuntimeError):
    """A state directory belongs to another lake."""


def bind_state_dir(directory: str | Path, lake_id: str, lake_uri: str) -> None:
    """Record that ``directory`` holds the state of the lake ``lake_id``, or raise :class:`StateBindingError` when
    it already holds another lake's."""
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    binding = path / BINDING_FILENAME
    if binding.exists():
        try:
            recorded = json.loads(binding.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError, OSError):
            recorded = {}
        other = recorded.get("lake_id") if isinstance(recorded, dict) else None
        if other == lake_id:
            return
        if other:
            where = recorded.get("uri") or "another data directory"
            raise StateBindingError(
                f"state directory {path} belongs to the lake at {where} (id {other}), not to {lake_uri} "
                f"(id {lake_id}): give this data directory its own MEDIAWATCH_STATE_DIR"
            )
    tmp = binding.with_suffix(".tmp")
    tmp.write_text(json.dumps({"lake_id": lake_id, "uri": lake_uri}), encoding="utf-8")
    tmp.replace(binding)
