"""Which input items earlier runs have already turned into rows, and from which version of their file.

A rerun over unchanged input (a directory re-scanned by a schedule, a WARC archive read again after a crash)
skips those items before reading them, instead of cleaning them again only for dedup to call them
``already_ingested``; that is what makes reruns cheap and CC-NEWS-sized backfills resumable. An item is
recorded only after the batch that holds it is committed to the lake, so a crash makes the next run redo
exactly the uncommitted items. The ledger is a cache: losing it costs time (items are processed again and
recognised by dedup), never rows.

A version is what identifies the content of an item's container: ``<size>:<mtime_ns>`` of its file. A file that
changes (a fixed JSONL line) has a new version, so all its items are read again.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path

LEDGER_FILENAME = "items.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS items (key TEXT PRIMARY KEY, version TEXT NOT NULL);
"""
# SQLite's limit on host parameters in one statement is 32766 in recent builds; stay well under it.
_CHUNK = 5000


class ItemLedger:
    """A small SQLite table of ``item_key -> version`` under ``directory``. Use as a context manager."""

    def __init__(self, directory: str | Path) -> None:
        path = Path(directory)
        path.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path / LEDGER_FILENAME, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()

    def __enter__(self) -> ItemLedger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    def processed(self, versions: dict[str, str]) -> set[str]:
        """Return the keys of ``versions`` (key -> current version) already processed at that same version."""
        keys = list(versions)
        done: set[str] = set()
        with self._lock:
            for start in range(0, len(keys), _CHUNK):
                chunk = keys[start : start + _CHUNK]
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(f"SELECT key, version FROM items WHERE key IN ({marks})", chunk)  # noqa: S608
                done.update(key for key, version in rows if versions[key] == version)
        return done

    def record(self, pairs: Iterable[tuple[str, str]]) -> int:
        """Remember ``(key, version)`` pairs as processed, atomically; return how many."""
        rows = list(pairs)
        if not rows:
            return 0
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany("INSERT OR REPLACE INTO items (key, version) VALUES (?, ?)", rows)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return len(rows)

    def count(self) -> int:
        """Return how many items are remembered."""
        with self._lock:
            (n,) = self._db.execute("SELECT count(*) FROM items").fetchone()
        return int(n)
