"""What the fetcher remembers between runs: per-URL validators (ETag, Last-Modified), when a URL was last
fetched, and for feeds and sitemaps what they listed.

It makes runs incremental and polite: a feed is asked for with ``If-None-Match`` / ``If-Modified-Since``, and
an article URL delivered by an earlier run is not fetched again. It is a small SQLite database (standard
library) in a directory the caller gives.

Crash safety: what a run fetches is recorded as *pending* (durably, one small transaction per URL). Before a
batch is written, its pending rows are *assigned* to the batch's commit stem; once the batch is committed they are
*promoted* into the remembered state. The lake's commit markers are the truth (each lists the fetch keys its batch
settles): :meth:`FetchState.reconcile`, at every start and after every rollback, promotes rows whose batch did
commit, forgets rows whose batch was rolled back (so those pages are fetched again) and re-reads markers it has
never seen (a state lost or replaced). SQLite's WAL journal makes each step atomic. One process writes a state
directory at a time.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from storage.state import open_sqlite

STATE_FILENAME = "fetch_state.sqlite3"
SCHEMA_VERSION = 1
# Pending rows of sessions that never committed (crashed runs) are purged after this long; they are never
# promoted, so keeping them longer only wastes space.
STALE_PENDING_AFTER = timedelta(days=2)
_SELECT_URL = "SELECT url, etag, last_modified, status, fetched_at, memo FROM urls WHERE url = ?"
_SELECT_KNOWN = "SELECT url FROM urls WHERE url IN (SELECT value FROM json_each(?))"
_SELECT_PENDING = (
    "SELECT url, etag, last_modified, status, fetched_at, memo, NULL FROM pending WHERE session = ?"
    " AND (? IS NULL OR url IN (SELECT value FROM json_each(?)))"
)
_PROMOTE = (
    "INSERT OR REPLACE INTO urls (url, etag, last_modified, status, fetched_at, memo, stem)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_SELECT_STEM = "SELECT url, etag, last_modified, status, fetched_at, memo, stem FROM pending WHERE stem = ?"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS urls (
    url TEXT PRIMARY KEY,
    etag TEXT,
    last_modified TEXT,
    status INTEGER NOT NULL,
    fetched_at TEXT NOT NULL,
    memo TEXT
);
CREATE TABLE IF NOT EXISTS pending (
    session TEXT NOT NULL,
    url TEXT NOT NULL,
    etag TEXT,
    last_modified TEXT,
    status INTEGER NOT NULL,
    fetched_at TEXT NOT NULL,
    memo TEXT,
    PRIMARY KEY (session, url)
);
CREATE TABLE IF NOT EXISTS stems (stem TEXT PRIMARY KEY);
INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', '1');
"""


@dataclass(frozen=True, slots=True)
class UrlState:
    """What is remembered about one URL; ``memo`` is text the fetcher keeps (a feed's entries as JSON)."""

    url: str
    etag: str | None
    last_modified: str | None
    status: int
    fetched_at: datetime
    memo: str | None = None


class FetchState:
    """Per-URL fetch state persisted in ``directory``; thread-safe; use as a context manager.

    Reads (:meth:`get`, :meth:`known`) see committed state only. :meth:`record` stages a fetch as pending for
    this session; :meth:`commit` makes staged rows part of the state.
    """

    def __init__(self, directory: str | Path, on_corrupt: Callable[[str], None] | None = None) -> None:
        path = Path(directory)
        if path.exists() and not path.is_dir():
            raise ValueError(f"fetch state directory {path} is a file")
        path.mkdir(parents=True, exist_ok=True)
        self.path = path / STATE_FILENAME
        self.session = uuid.uuid4().hex
        self._lock = threading.Lock()
        self._db = open_sqlite(self.path, _SCHEMA, on_corrupt)
        for table in ("urls", "pending"):  # a state written before rows named their batch: those stay
            columns = {str(r[1]) for r in self._db.execute(f"PRAGMA table_info({table})")}
            if "stem" not in columns:
                self._db.execute(f"ALTER TABLE {table} ADD COLUMN stem TEXT")
        self._db.execute("CREATE INDEX IF NOT EXISTS urls_stem ON urls (stem)")
        version = self._db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if version is None or int(version[0]) != SCHEMA_VERSION:
            raise ValueError(f"{self.path} has schema version {version}, expected {SCHEMA_VERSION}")
        cutoff = (datetime.now(UTC) - STALE_PENDING_AFTER).isoformat()
        with self._lock:
            self._db.execute("DELETE FROM pending WHERE fetched_at < ?", (cutoff,))

    def __enter__(self) -> FetchState:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the database; staged rows that were not committed stay pending (and are never promoted)."""
        with self._lock:
            self._db.close()

    def get(self, url: str) -> UrlState | None:
        """Return the committed state of ``url``, or None when no earlier run delivered it."""
        with self._lock:
            row = self._db.execute(_SELECT_URL, (url,)).fetchone()
        return _to_state(row) if row else None

    def known(self, urls: Iterable[str]) -> set[str]:
        """Return the subset of ``urls`` that have committed state."""
        wanted = json.dumps(list(dict.fromkeys(urls)))
        with self._lock:
            rows = self._db.execute(_SELECT_KNOWN, (wanted,)).fetchall()
        return {str(r[0]) for r in rows}

    def record(
        self,
        url: str,
        *,
        status: int,
        etag: str | None = None,
        last_modified: str | None = None,
        fetched_at: datetime | None = None,
        memo: str | None = None,
    ) -> None:
        """Stage what a fetch of ``url`` returned; it counts once :meth:`commit` is called."""
        when = (fetched_at or datetime.now(UTC)).astimezone(UTC).isoformat()
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO pending (session, url, etag, last_modified, status, fetched_at, memo)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (self.session, url, etag, last_modified, status, when, memo),
            )

    def pending(self) -> list[str]:
        """Return the URLs this session staged and has not committed."""
        with self._lock:
            rows = self._db.execute("SELECT url FROM pending WHERE session = ?", (self.session,)).fetchall()
        return [str(r[0]) for r in rows]

    def commit(self, urls: Iterable[str] | None = None, keep: Collection[str] = ()) -> int:
        """Make this session's staged rows (all, or only ``urls``; never those in ``keep``) remembered state,
        atomically.

        Returns how many rows were committed. Call after the run's output is durably written; ``keep`` holds
        the URLs of items staged but not yet written (later batches already fetched), which must stay pending.
        """
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                wanted = None if urls is None else json.dumps(list(dict.fromkeys(urls)))
                selected = self._db.execute(_SELECT_PENDING, (self.session, wanted, wanted)).fetchall()
                if keep:
                    selected = [r for r in selected if r[0] not in keep]
                self._db.executemany(_PROMOTE, selected)
                self._db.executemany(
                    "DELETE FROM pending WHERE session = ? AND url = ?",
                    [(self.session, r[0]) for r in selected],
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return len(selected)

    def discard_pending(self) -> int:
        """Drop this session's staged rows; returns how many were dropped."""
        with self._lock:
            cursor = self._db.execute("DELETE FROM pending WHERE session = ?", (self.session,))
        return cursor.rowcount

    def assign(self, stem: str, keep: Collection[str] = ()) -> list[str]:
        """Assign this session's unassigned staged rows (never those in ``keep``) to the batch ``stem`` about to be
        written; return their URLs. They become remembered state when :meth:`promote` (or :meth:`reconcile`) sees
        the batch committed."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                rows = self._db.execute(
                    "SELECT url FROM pending WHERE session = ? AND stem IS NULL", (self.session,)
                ).fetchall()
                urls = [(stem, self.session, r[0]) for r in rows if r[0] not in keep]
                self._db.executemany("UPDATE pending SET stem = ? WHERE session = ? AND url = ?", urls)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return [url for _, _, url in urls]

    def promote(self, stems: Iterable[str]) -> int:
        """Make the rows assigned to the committed batches ``stems`` remembered state; return how many."""
        count = 0
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for stem in stems:
                    rows = self._db.execute(_SELECT_STEM, (stem,)).fetchall()
                    self._db.executemany(_PROMOTE, rows)
                    self._db.execute("DELETE FROM pending WHERE stem = ?", (stem,))
                    self._db.execute("INSERT OR IGNORE INTO stems (stem) VALUES (?)", (stem,))
                    count += len(rows)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return count

    def reconcile(self, committed: set[str], fetched_of: Callable[[str], Iterable[str]]) -> dict[str, int]:
        """Bring the state in line with the lake's ``committed`` batch stems; return what changed.

        Rows assigned to committed batches are promoted, rows of batches that never committed or were rolled
        back are forgotten (those pages are fetched again), and the fetch keys of committed batches this state
        has never seen are read from their markers through ``fetched_of(stem)`` and remembered as fetched.
        """
        with self._lock:
            assigned = {str(r[0]) for r in self._db.execute("SELECT DISTINCT stem FROM pending WHERE stem IS NOT NULL")}
            known = {str(r[0]) for r in self._db.execute("SELECT stem FROM stems")}
        promoted = self.promote(sorted(assigned & committed))
        forgotten = 0
        rebuilt = 0
        now = datetime.now(UTC).isoformat()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for stem in sorted((known | assigned) - committed):
                    self._db.execute("DELETE FROM pending WHERE stem = ?", (stem,))
                    forgotten += self._db.execute("DELETE FROM urls WHERE stem = ?", (stem,)).rowcount
                    self._db.execute("DELETE FROM stems WHERE stem = ?", (stem,))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        for stem in sorted(committed - known - assigned):
            rows = [(url, None, None, 200, now, None, stem) for url in fetched_of(stem)]
            with self._lock:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    self._db.executemany(_PROMOTE.replace("OR REPLACE", "OR IGNORE"), rows)
                    self._db.execute("INSERT OR IGNORE INTO stems (stem) VALUES (?)", (stem,))
                    self._db.execute("COMMIT")
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
            rebuilt += len(rows)
        return {"promoted": promoted, "forgotten": forgotten, "rebuilt": rebuilt}

    def count(self) -> int:
        """Return how many URLs have committed state."""
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM urls").fetchone()[0])


def _to_state(row: tuple[object, ...]) -> UrlState:
    url, etag, last_modified, status, fetched_at, memo = row
    return UrlState(
        url=str(url),
        etag=None if etag is None else str(etag),
        last_modified=None if last_modified is None else str(last_modified),
        status=int(str(status)),
        fetched_at=datetime.fromisoformat(str(fetched_at)),
        memo=None if memo is None else str(memo),
    )
