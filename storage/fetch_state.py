"""What the fetcher remembers between runs: per-URL validators (ETag, Last-Modified), when a URL was last
fetched, and for feeds and sitemaps what they listed.

It makes runs incremental and polite: a feed is asked for with ``If-None-Match`` / ``If-Modified-Since``, and
an article URL delivered by an earlier run is not fetched again. It is a small SQLite database (standard
library) in a directory the caller gives.

Crash safety: what a run fetches is recorded as *pending* (durably, one small transaction per URL) and becomes
part of the remembered state only when the caller calls :meth:`FetchState.commit` after the run's output is
safely written. A run that dies before that leaves the remembered state as it was, so the next run fetches
those URLs again instead of believing it already has them. SQLite's WAL journal makes each commit atomic.
One process writes a state directory at a time.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

STATE_FILENAME = "fetch_state.sqlite3"
SCHEMA_VERSION = 1
# Pending rows of sessions that never committed (crashed runs) are purged after this long; they are never
# promoted, so keeping them longer only wastes space.
STALE_PENDING_AFTER = timedelta(days=2)
_SELECT_URL = "SELECT url, etag, last_modified, status, fetched_at, memo FROM urls WHERE url = ?"
_SELECT_KNOWN = "SELECT url FROM urls WHERE url IN (SELECT value FROM json_each(?))"
_SELECT_PENDING = (
    "SELECT url, etag, last_modified, status, fetched_at, memo FROM pending WHERE session = ?"
    " AND (? IS NULL OR url IN (SELECT value FROM json_each(?)))"
)
_PROMOTE = "INSERT OR REPLACE INTO urls (url, etag, last_modified, status, fetched_at, memo) VALUES (?, ?, ?, ?, ?, ?)"

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

    def __init__(self, directory: str | Path) -> None:
        path = Path(directory)
        if path.exists() and not path.is_dir():
            raise ValueError(f"fetch state directory {path} is a file")
        path.mkdir(parents=True, exist_ok=True)
        self.path = path / STATE_FILENAME
        self.session = uuid.uuid4().hex
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            # NORMAL with WAL: a committed transaction survives a process crash; only an OS crash can lose
            # the last few, which leaves the state older, never inconsistent.
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise ValueError(f"{self.path} is not a usable fetch state database: {exc}") from exc
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
