"""Which input items earlier runs have already turned into rows, and from which version of their file.

A rerun over unchanged input (a directory re-scanned by a schedule, a WARC archive read again after a crash)
skips those items before reading them, instead of cleaning them again only for dedup to call them
``already_ingested``; that is what makes reruns cheap and CC-NEWS-sized backfills resumable.

The ledger is a cache of the lake's commit markers, which are the only truth: each batch's marker lists the items
it settles (``item_key -> version``). Items are *staged* under their batch's commit stem before the batch is
written and *promoted* once it is committed; :meth:`ItemLedger.reconcile`, called at every start and after every
rollback, promotes staged items whose batch did commit (a crash between commit and promotion), drops items whose
batch is no longer committed (a retry rolled it back), and re-reads the markers of committed batches it has never
seen (a ledger lost or replaced). So a crash or a retry makes the next run redo exactly the uncommitted items.

A version is what identifies the content of an item's container: ``<size>:<mtime_ns>`` of its file. A file that
changes (a fixed JSONL line) has a new version, so all its items are read again.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from storage.state import open_sqlite

LEDGER_FILENAME = "items.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS items (key TEXT PRIMARY KEY, version TEXT NOT NULL, stem TEXT);
CREATE TABLE IF NOT EXISTS staged (key TEXT NOT NULL, version TEXT NOT NULL, stem TEXT NOT NULL,
                                   PRIMARY KEY (stem, key));
CREATE TABLE IF NOT EXISTS stems (stem TEXT PRIMARY KEY);
"""
# SQLite's limit on host parameters in one statement is 32766 in recent builds; stay well under it.
_CHUNK = 5000


class ItemLedger:
    """A small SQLite table of ``item_key -> version`` under ``directory``. Use as a context manager."""

    def __init__(self, directory: str | Path, on_corrupt: Callable[[str], None] | None = None) -> None:
        path = Path(directory)
        path.mkdir(parents=True, exist_ok=True)
        self.path = path / LEDGER_FILENAME
        self._db = open_sqlite(self.path, _SCHEMA, on_corrupt)
        columns = {str(r[1]) for r in self._db.execute("PRAGMA table_info(items)")}
        if "stem" not in columns:  # a ledger written before items named their batch: those stay remembered
            self._db.execute("ALTER TABLE items ADD COLUMN stem TEXT")
        self._db.execute("CREATE INDEX IF NOT EXISTS items_stem ON items (stem)")
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

    def stage(self, stem: str, versions: Mapping[str, str]) -> int:
        """Stage ``versions`` (key -> version) under the batch ``stem`` before it is written; return how many."""
        rows = [(key, version, stem) for key, version in versions.items()]
        self._transaction(
            lambda db: db.executemany("INSERT OR REPLACE INTO staged (key, version, stem) VALUES (?, ?, ?)", rows)
        )
        return len(rows)

    def promote(self, stems: Iterable[str]) -> int:
        """Make the items staged under the committed batches ``stems`` processed; return how many."""
        wanted = list(stems)
        count = 0

        def run(db: sqlite3.Connection) -> None:
            nonlocal count
            for stem in wanted:
                rows = db.execute("SELECT key, version, stem FROM staged WHERE stem = ?", (stem,)).fetchall()
                db.executemany("INSERT OR REPLACE INTO items (key, version, stem) VALUES (?, ?, ?)", rows)
                db.execute("DELETE FROM staged WHERE stem = ?", (stem,))
                db.execute("INSERT OR IGNORE INTO stems (stem) VALUES (?)", (stem,))
                count += len(rows)

        self._transaction(run)
        return count

    def record(self, pairs: Iterable[tuple[str, str]], stem: str | None = None) -> int:
        """Remember ``(key, version)`` pairs as processed, settled by the committed batch ``stem``; return how
        many."""
        rows = [(key, version, stem) for key, version in pairs]

        def run(db: sqlite3.Connection) -> None:
            db.executemany("INSERT OR REPLACE INTO items (key, version, stem) VALUES (?, ?, ?)", rows)
            if stem:
                db.execute("INSERT OR IGNORE INTO stems (stem) VALUES (?)", (stem,))

        self._transaction(run)
        return len(rows)

    def reconcile(self, committed: set[str], settles: Callable[[str], Mapping[str, str]]) -> dict[str, int]:
        """Bring the ledger in line with the lake's ``committed`` batch stems; return what changed.

        Staged items of committed batches are promoted and those of batches that never committed dropped;
        items of batches no longer committed (a retry rolled them back) are forgotten, so they are read again;
        committed batches the ledger has never seen are read from their markers through ``settles(stem)``.
        """
        with self._lock:
            staged = {str(r[0]) for r in self._db.execute("SELECT DISTINCT stem FROM staged")}
            known = {str(r[0]) for r in self._db.execute("SELECT stem FROM stems")}
        promoted = self.promote(sorted(staged & committed))
        gone = sorted((known | staged) - committed)
        forgotten = 0

        def drop(db: sqlite3.Connection) -> None:
            nonlocal forgotten
            for stem in gone:
                db.execute("DELETE FROM staged WHERE stem = ?", (stem,))
                forgotten += db.execute("DELETE FROM items WHERE stem = ?", (stem,)).rowcount
                db.execute("DELETE FROM stems WHERE stem = ?", (stem,))

        self._transaction(drop)
        rebuilt = 0
        for stem in sorted(committed - known - staged):
            rebuilt += self.record(settles(stem).items(), stem)
        return {"promoted": promoted, "forgotten": forgotten, "rebuilt": rebuilt}

    def _transaction(self, work: Callable[[sqlite3.Connection], object]) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                work(self._db)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def count(self) -> int:
        """Return how many items are remembered."""
        with self._lock:
            (n,) = self._db.execute("SELECT count(*) FROM items").fetchone()
        return int(n)
