"""The Parquet lake: where files go, how they are published, and how a batch is committed.

Layout under the data directory (a local path, ``s3://bucket/prefix`` on any S3-compatible store, or another
filesystem URI pyarrow or fsspec understands)::

    articles/date=2025-11-23/part-<run>-<batch>-<n>.parquet      Hive partitions, one explicit schema each
    entities/... figures/... duplicates/... quarantine/...
    runs/date=2025-11-23/run-<run>.parquet                          one file per run, replaced as it progresses
    _commits/<run>-<batch>.json                                     a batch is visible to mediawatch once this exists
    _intents/<run>-<batch>.json                                     files a write is about to publish (crash recovery)
    _lake.json                                                      the lake's id (state kept elsewhere is bound to it)
    _lock                                                           the write lock (local: flock; S3: a lease object)
    _staging/                                                       files being written (never read; local disks only)
    _reports/                                                       HTML reports of the daily report flow
    _state/                                                         caches (dedup index, fetch state), rebuildable

Publication is atomic per file: a file is written under ``_staging/`` and then renamed into its partition (a
rename on local disks; object stores publish a single object write at once, so there files are written in
place). Before a write publishes anything it records an *intent* naming every file it is about to publish; its
commit marker, written after all of its files, names them again, with what the batch settles (the input items and
fetched URLs it holds), and is the single point of visibility. On start, :meth:`Lake.sweep` deletes the files of
intents that never committed (a crashed run), so a rerun of the same input writes them again exactly once. The
lake only ever deletes files an intent or a marker names: other files in the data directory are never touched,
and readers through this class never see them. Only this module knows paths; names derived from input never
reach a path without :func:`safe_token`.

One writer at a time. On a local disk the write lock is an ``flock`` on ``_lock``. An S3 store has no rename and
no lock, only conditional writes, so there the lock is a *lease* on the object ``_lock``, and every commit marker
is fenced by it and created with ``If-None-Match: *`` (:mod:`storage.lease` explains how): a writer that lost its
lease raises :class:`LakeLeaseLostError` at its next commit and nothing of that write becomes visible. Other
remote filesystems (``gs://``, fsspec) have no conditional writes here: one writer at a time is then up to the
deployment (a concurrency limit of 1).

Caches (the dedup index, and for a remote lake the fetch state and item ledger) are local files. A local lake
keeps them under ``_state/``; a remote lake under the local ``cache_dir`` it is given, else (the dedup index
only, which is always rebuildable) a directory per lake URI in the system's temporary directory.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import tempfile
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq

# Re-exported (``X as X``): callers import the lake's errors, options and lease lengths from here.
from storage.lease import LEASE_SECONDS as LEASE_SECONDS
from storage.lease import TAKEOVER_PAUSE_SECONDS as TAKEOVER_PAUSE_SECONDS
from storage.lease import S3Lease, _Lease, local_lock
from storage.objectstore import LakeError as LakeError
from storage.objectstore import LakeLeaseLostError as LakeLeaseLostError
from storage.objectstore import LakeLockedError as LakeLockedError
from storage.objectstore import S3Options as S3Options
from storage.objectstore import _filesystem_from_uri, _ObjectStore, _s3_filesystem
from storage.objectstore import s3_options_from_env as s3_options_from_env
from storage.schemas import DATASETS, PARTITION_COLUMN, SCHEMAS, schema_with_metadata

COMMITS_DIR = "_commits"
INTENTS_DIR = "_intents"
LAKE_ID_FILE = "_lake.json"
STAGING_DIR = "_staging"
STATE_DIR = "_state"
LOCK_FILE = "_lock"
COMPACT_PREFIX = "compact-"
REPLAY_PREFIX = "replay-"
# Commits that replace earlier files (their markers list them under "replaces").
_REPLACING = (COMPACT_PREFIX, REPLAY_PREFIX)
REPORTS_DIR = "_reports"

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
# Zstandard level 3: about the size of gzip at several times the speed; every engine that reads Parquet reads it.
_COMPRESSION = "zstd"
# Large row groups read fast; articles carry long texts, so cap rows rather than let a group grow unbounded.
_ROW_GROUP_ROWS = 50_000

log = logging.getLogger(__name__)


def safe_token(value: str, max_len: int = 64) -> str:
    """Return ``value`` reduced to ``[A-Za-z0-9_-]``, never empty, at most ``max_len`` characters.

    Used for every path component derived from input (run ids, batch names), so ``../`` or a slash in a
    source name can never leave the data directory.
    """
    token = _UNSAFE.sub("-", value).strip("-")[:max_len]
    return token or "x"


def file_stem(base_name: str) -> str:
    """Return the commit stem a data file belongs to: ``part-<stem>[~<n>].parquet`` gives ``<stem>``."""
    return base_name.removeprefix("part-").removesuffix(".parquet").split("~", 1)[0]


def partition_date(value: datetime | None, fallback: datetime) -> str:
    """Return the ``date=`` partition value: the UTC day of ``value``, else of ``fallback``."""
    moment = value if value is not None else fallback
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d")


def _has_parquet_magic(path: str, size: int) -> bool:
    """Return True when the file at ``path`` starts and ends with Parquet's magic bytes ``PAR1``."""
    if size < 12:
        return False
    try:
        with open(path, "rb") as handle:
            head = handle.read(4)
            handle.seek(size - 4)
            tail = handle.read(4)
    except OSError:
        return False
    return head == tail == b"PAR1"


@dataclass(frozen=True, slots=True)
class CommitRecord:
    """What a committed batch wrote: the marker's content."""

    run_id: str
    batch: str
    files: tuple[str, ...]
    rows: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class Settles:
    """What a batch's commit makes count as done: input items (``item_key -> version`` of its file) and the
    fetch-state keys of the pages it holds. Recorded in the commit marker, so the item ledger and the fetch state
    (caches outside the lake) can be reconciled with the lake, and rebuilt from it when lost."""

    items: Mapping[str, str] = field(default_factory=dict)
    fetched: Sequence[str] = ()


def batch_stem(run_id: str, batch: str) -> str:
    """Return the commit stem of one batch of one run: ``<run>-<batch>``, path-safe."""
    return f"{safe_token(run_id)}-{safe_token(batch)}"


class Lake:
    """A data directory holding mediawatch's datasets.

    Construct it with a path or URI; nothing is created until something is written. For ``s3://bucket/prefix``
    the keyword options say how to reach the store (each left ``None`` comes from the standard AWS variables,
    see :func:`s3_options_from_env`); ``cache_dir`` is the local directory for the caches of a remote lake, and
    ``lease_seconds`` the length of an S3 write lease. Local lakes ignore them.
    """

    def __init__(
        self,
        root: str,
        *,
        s3_endpoint: str | None = None,
        s3_region: str | None = None,
        s3_access_key: str | None = None,
        s3_secret_key: str | None = None,
        s3_session_token: str | None = None,
        cache_dir: str | None = None,
        lease_seconds: float = LEASE_SECONDS,
    ) -> None:
        if not root:
            raise LakeError("the data directory must not be empty")
        if lease_seconds <= 0:
            raise LakeError(f"the write lease must last some time, not {lease_seconds} s")
        self._store: _ObjectStore | None = None
        if root.startswith("s3://"):
            options = S3Options(s3_endpoint, s3_region, s3_access_key, s3_secret_key, s3_session_token)
            options = options.merged(s3_options_from_env(os.environ))
            bucket, _, prefix = root.removeprefix("s3://").partition("/")
            if not bucket:
                raise LakeError(f"no bucket in data directory {root!r}")
            fs: pafs.FileSystem = _s3_filesystem(options)
            path = f"{bucket}/{prefix.strip('/')}".rstrip("/")
            self._store = _ObjectStore(bucket, options)
        elif "://" in root:
            fs, path = _filesystem_from_uri(root)
        else:
            fs, path = pafs.LocalFileSystem(), str(Path(root).expanduser().resolve())
        self.uri = root
        self.fs = fs
        self.root = path.rstrip("/")
        self.is_local = isinstance(fs, pafs.LocalFileSystem)
        self.lease_seconds = lease_seconds
        self._cache_dir = Path(cache_dir).expanduser().resolve() if cache_dir else None
        self._checked: dict[tuple[str, int | None, int | None], bool] = {}
        self._lease: _Lease | None = None  # the holder's renewal state (never pickled)
        self._lease_token: str | None = None  # the lease this lake writes under (copies sent to workers keep it)

    def __getstate__(self) -> dict[str, object]:
        state = dict(self.__dict__)
        state["_lease"] = None  # a copy (a Dask worker's) writes under the token but never renews the lease
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    # -- paths -------------------------------------------------------------------------------------------------

    def path(self, *parts: str) -> str:
        """Return the filesystem path of ``parts`` under the root."""
        return "/".join([self.root, *parts])

    def dataset_path(self, dataset: str) -> str:
        """Return the directory of ``dataset``; raise ``KeyError`` for an unknown dataset."""
        if dataset not in SCHEMAS:
            raise KeyError(f"unknown dataset {dataset!r}; known: {', '.join(DATASETS)}")
        return self.path(dataset)

    def state_dir(self, name: str) -> str:
        """Return (and create) the local directory of a rebuildable cache such as the dedup index.

        ``_state/<name>`` in a local lake. A remote lake's caches are local files too (numpy, SQLite), so they go
        under its ``cache_dir``, else under a directory for its URI in the system's temporary directory;
        :meth:`read_bytes` and :meth:`write_bytes` accept paths there.
        """
        if self.is_local:
            directory = self.path(STATE_DIR, safe_token(name))
            self.fs.create_dir(directory, recursive=True)
            return directory
        local = self._cache_root() / safe_token(name)
        local.mkdir(parents=True, exist_ok=True)
        return str(local)

    def local_state_dir(self, name: str) -> Path:
        """Return the state directory as a local path; raise ``LakeError`` for a remote data directory without a
        ``cache_dir``.

        State stores that use local databases (sqlite) need this; on object stores they live under
        ``MEDIAWATCH_STATE_DIR`` instead, which the caller passes explicitly (or as ``cache_dir``).
        """
        if not self.is_local and self._cache_dir is None:
            raise LakeError("local state needs a local data directory; set a local state directory")
        return Path(self.state_dir(name))

    def _cache_root(self) -> Path:
        """Return the local directory of a remote lake's caches: ``cache_dir``, else one per URI under the system's
        temporary directory (the dedup index is rebuilt from the lake whenever its cache does not match)."""
        if self._cache_dir is not None:
            return self._cache_dir
        digest = hashlib.sha256(self.uri.encode()).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / "mediawatch-cache" / f"{safe_token(self.uri, 48)}-{digest}"

    def _is_cache_path(self, path: str) -> bool:
        """Return True for a path in a remote lake's local cache directory (see :meth:`state_dir`)."""
        return not self.is_local and path.startswith(f"{self._cache_root()}{os.sep}")

    def _readable(self, info: pafs.FileInfo) -> bool:
        """Return False (and warn once, naming it) for a committed file that is not Parquet any more (overwritten
        or cut by something else): readers skip it rather than fail every query, report and compaction.

        Checks the magic bytes at both ends on local disks (two small reads, remembered per file version);
        object stores write whole objects, so there the check is left to the reader.
        """
        if not self.is_local:
            return True
        key = (info.path, info.size, info.mtime_ns)
        verdict = self._checked.get(key)
        if verdict is None:
            verdict = _has_parquet_magic(info.path, info.size or 0)
            self._checked[key] = verdict
            if not verdict:
                log.warning("skipping %s: committed by mediawatch but no longer a Parquet file", info.path)
        return verdict

    # -- identity ----------------------------------------------------------------------------------------------

    def lake_id(self) -> str:
        """Return the lake's id, creating it on first use (call while holding :meth:`write_lock`).

        State kept outside the data directory (``MEDIAWATCH_STATE_DIR``) records this id, so a state directory met
        with another lake is refused instead of making that lake skip items it never saw.
        """
        path = self.path(LAKE_ID_FILE)
        data = self.read_bytes(path)
        if data is not None:
            try:
                value = json.loads(data.decode()).get("lake_id")
            except (ValueError, UnicodeDecodeError, AttributeError):
                value = None
            if isinstance(value, str) and value:
                return value
            raise LakeError(f"{path} is not a valid lake id file; restore it or move it aside")
        value = uuid.uuid4().hex
        created = datetime.now(UTC).isoformat(timespec="seconds")
        self._make_dir(self.root)
        self.write_bytes(path, json.dumps({"lake_id": value, "uri": self.uri, "created_at": created}).encode())
        return value

    # -- locking -----------------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def write_lock(self, wait_seconds: float = 0.0) -> Iterator[None]:
        """Hold the data directory's exclusive write lock for the duration of the block.

        Two runs on one data directory would otherwise interleave batches and double-count. On a local disk the
        lock is an ``flock`` on ``_lock``: the kernel releases it when the process dies, so a crash never leaves it
        stale. On S3 it is a lease object (see the module docstring), renewed by a thread while the block runs.
        Waits up to ``wait_seconds``, then raises :class:`LakeLockedError` naming the holder.
        """
        if self._store is not None:
            with self._s3_lease(wait_seconds):
                yield
            return
        if not self.is_local:
            # No conditional writes on this filesystem: a remote lake other than S3 is written by one scheduled
            # deployment with a concurrency limit of 1 (see deployments/prefect.yaml).
            yield
            return
        Path(self.root).mkdir(parents=True, exist_ok=True)
        with local_lock(Path(self.path(LOCK_FILE)), self.uri, wait_seconds):
            yield

    @contextlib.contextmanager
    def _s3_lease(self, wait_seconds: float) -> Iterator[None]:
        """Hold the S3 write lease for the block: acquire it, renew it from a thread, release it at the end."""
        if self._lease_token is not None:
            raise LakeError(f"the write lock of {self.uri} is already held by this lake object")
        requests = self._lease_requests()
        # The pause as this module holds it, read at each acquisition: setting storage.lake's constant shortens it.
        lease = requests.acquire(wait_seconds, TAKEOVER_PAUSE_SECONDS)
        self._lease, self._lease_token = lease, lease.token
        stop = threading.Event()
        renewer = threading.Thread(
            target=requests.keep, args=(lease, stop, self._renew_lease), name="lake-lease", daemon=True
        )
        renewer.start()
        try:
            yield
        finally:
            stop.set()
            renewer.join()
            self._lease, self._lease_token = None, None
            requests.release(lease)

    def _lease_requests(self) -> S3Lease:
        """Return the lease requests of this S3 lake (its store, its ``_lock`` key, its lease length)."""
        assert self._store is not None
        return S3Lease(self._store, self._key(self.path(LOCK_FILE)), self.uri, self.lease_seconds)

    def _key(self, path: str) -> str:
        """Return the object key of ``path`` (``bucket/key``) in this S3 lake's bucket."""
        return path.split("/", 1)[1] if "/" in path else ""

    def _renew_lease(self, lease: _Lease) -> None:
        """Extend the held ``lease`` once (the renewal thread's step, :meth:`S3Lease.renew`)."""
        self._lease_requests().renew(lease)

    def check_lease(self) -> None:
        """Raise unless this lake may commit now: on S3, the lease it writes under is still the one in ``_lock``
        with at least half its length left (the fence before every commit marker, :meth:`S3Lease.check`);
        elsewhere a no-op.

        Raises :class:`LakeLeaseLostError` for a lost or expiring lease, :class:`LakeError` for a write attempted
        without the lock.
        """
        if self._store is not None:
            self._lease_requests().check(self._lease_token, self._lease)

    # -- writing -----------------------------------------------------------------------------------------------

    def _make_dir(self, directory: str) -> None:
        """Create ``directory`` and its parents; nothing on S3, whose keys need no directories (pyarrow would
        write an empty marker object per level)."""
        if self._store is None:
            self.fs.create_dir(directory, recursive=True)

    def _publish(self, table: pa.Table, final_path: str) -> None:
        """Write ``table`` so that ``final_path`` appears complete or not at all."""
        self._make_dir(final_path.rsplit("/", 1)[0])
        if not self.is_local:
            pq.write_table(
                table, final_path, filesystem=self.fs, compression=_COMPRESSION, row_group_size=_ROW_GROUP_ROWS
            )
            return
        staging = self.path(STAGING_DIR)
        self.fs.create_dir(staging, recursive=True)
        tmp = f"{staging}/{uuid.uuid4().hex}.parquet"
        pq.write_table(table, tmp, filesystem=self.fs, compression=_COMPRESSION, row_group_size=_ROW_GROUP_ROWS)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        self.fs.move(tmp, final_path)

    def plan_partitioned(self, dataset: str, table: pa.Table, file_stem: str) -> list[tuple[str, pa.Table]]:
        """Return ``(path, rows)`` for each Hive partition ``table`` (which has a ``date`` column) falls into.

        ``file_stem`` must be unique per writer and batch (for example ``<run>-<batch>``); rewriting the same
        stem replaces the same files, which is what makes a retried batch idempotent.
        """
        if table.num_rows == 0:
            return []
        schema = schema_with_metadata(dataset)
        planned: list[tuple[str, pa.Table]] = []
        dates = table.column(PARTITION_COLUMN)
        for date in sorted(pc.unique(dates).to_pylist()):
            if not isinstance(date, str) or not _DATE_RE.match(date):
                raise LakeError(f"invalid partition date {date!r} for {dataset}")
            part = table.filter(pc.equal(dates, date)).drop_columns([PARTITION_COLUMN])
            part = part.select(schema.names).cast(schema)
            final = f"{self.dataset_path(dataset)}/{PARTITION_COLUMN}={date}/part-{safe_token(file_stem)}.parquet"
            planned.append((final, part))
        return planned

    def commit_batch(
        self, run_id: str, batch: str, tables: Mapping[str, pa.Table], settles: Settles | None = None
    ) -> CommitRecord:
        """Publish one batch's tables for several datasets, then its commit marker (with what it ``settles``).

        Returns the commit record. If the process dies before the marker is written, :meth:`sweep` removes the
        batch's files on the next start (its intent names them), so nothing half-written survives.
        """
        stem = batch_stem(run_id, batch)
        planned = [
            (path, part)
            for dataset, table in tables.items()
            for path, part in self.plan_partitioned(dataset, table, stem)
        ]
        rows = {dataset: table.num_rows for dataset, table in tables.items()}
        files = [path for path, _ in planned]
        self._write_intent(stem, files)
        for path, part in planned:
            self._publish(part, path)
        marker: dict[str, object] = {"run_id": run_id, "batch": batch, "files": [self._relative(f) for f in files]}
        marker["rows"] = rows
        if settles is not None:
            marker["items"] = dict(settles.items)
            marker["fetched"] = list(settles.fetched)
        self._commit(stem, marker)
        return CommitRecord(run_id=run_id, batch=batch, files=tuple(files), rows=rows)

    def _write_intent(self, stem: str, files: Sequence[str]) -> None:
        """Record the files a write is about to publish, before it publishes any (see :meth:`sweep`)."""
        intent = {"files": [self._relative(f) for f in files]}
        self.write_bytes(self.path(INTENTS_DIR, f"{stem}.json"), json.dumps(intent).encode())

    def _commit(self, stem: str, marker: Mapping[str, object]) -> None:
        """Write the commit marker of ``stem`` (the point of visibility), then drop its intent.

        On S3 the marker is fenced (:meth:`check_lease`) and created with ``If-None-Match: *``: it names the
        lease it was written under, and a stem already committed by another writer raises :class:`LakeError`.
        """
        path = self.path(COMMITS_DIR, f"{stem}.json")
        if self._store is None:
            self.write_bytes(path, json.dumps(marker).encode())
        else:
            self.check_lease()
            data = json.dumps({**marker, "lease": self._lease_token}).encode()
            if self._store.put(self._key(path), data, if_none_match=True) is None:
                found = self._store.get(self._key(path))
                if found is None or found[0] != data:  # equal: our own write, retried after its answer was lost
                    raise LakeError(f"{stem} was committed by another writer of {self.uri}; this write was not")
        with contextlib.suppress(FileNotFoundError):
            self.fs.delete_file(self.path(INTENTS_DIR, f"{stem}.json"))

    def write_bytes(self, final_path: str, data: bytes) -> None:
        """Write a small file atomically (staging + rename on local disks, one object write on object stores, a
        rename beside it in a remote lake's local cache directory)."""
        if self._is_cache_path(final_path):
            target = Path(final_path)
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
            with open(tmp, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
            return
        self._make_dir(final_path.rsplit("/", 1)[0])
        if not self.is_local:
            with self.fs.open_output_stream(final_path) as out:
                out.write(data)
            return
        staging = self.path(STAGING_DIR)
        self.fs.create_dir(staging, recursive=True)
        tmp_path = f"{staging}/{uuid.uuid4().hex}.tmp"
        with open(tmp_path, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        self.fs.move(tmp_path, final_path)

    def read_bytes(self, path: str) -> bytes | None:
        """Return the content of a small file (in the lake, or in a remote lake's cache directory), or None when it
        does not exist."""
        if self._is_cache_path(path):
            try:
                return Path(path).read_bytes()
            except FileNotFoundError:
                return None
        try:
            with self.fs.open_input_stream(path) as handle:
                data: bytes = handle.read()
                return data
        except FileNotFoundError:
            return None

    def _relative(self, path: str) -> str:
        return path[len(self.root) + 1 :] if path.startswith(self.root + "/") else path

    def write_run(self, row: Mapping[str, object], date: str) -> str:
        """Write (or replace) the ``runs`` row of one run; return the file path.

        One file per run, replaced atomically as the run moves from running to its final state, so the run
        history is readable while a run is in progress.
        """
        if not _DATE_RE.match(date):
            raise LakeError(f"invalid partition date {date!r} for runs")
        schema = schema_with_metadata("runs")
        table = pa.Table.from_pylist([dict(row)], schema=schema)
        final = f"{self.dataset_path('runs')}/{PARTITION_COLUMN}={date}/run-{safe_token(str(row['run_id']))}.parquet"
        self._publish(table, final)
        return final

    # -- recovery ----------------------------------------------------------------------------------------------

    def committed_stems(self) -> set[str]:
        """Return the stems (``<run>-<batch>`` or ``compact-<id>``) of every committed write."""
        selector = pafs.FileSelector(self.path(COMMITS_DIR), allow_not_found=True)
        return {info.base_name[: -len(".json")] for info in self.fs.get_file_info(selector) if info.is_file}

    def read_marker(self, stem: str) -> dict[str, object] | None:
        """Return the content of ``stem``'s commit marker, or None when it is missing or unreadable."""
        data = self.read_bytes(self.path(COMMITS_DIR, f"{stem}.json"))
        if data is None:
            return None
        try:
            marker = json.loads(data.decode())
        except (ValueError, UnicodeDecodeError):
            return None
        return marker if isinstance(marker, dict) else None

    def marker_settles(self, stem: str) -> Settles:
        """Return what the committed batch ``stem`` settles (empty for batches written before markers said it)."""
        marker = self.read_marker(stem) or {}
        items = marker.get("items")
        fetched = marker.get("fetched")
        return Settles(
            items={str(k): str(v) for k, v in items.items()} if isinstance(items, dict) else {},
            fetched=[str(k) for k in fetched] if isinstance(fetched, list) else [],
        )

    def _marker_files(self, marker: Mapping[str, object], key: str) -> list[str]:
        names = marker.get(key)
        return [self.path(str(rel)) for rel in names] if isinstance(names, list) else []

    def rollback_run(self, run_id: str) -> list[str]:
        """Delete every batch ``run_id`` committed (its files as its markers name them, then the markers); return
        the files removed.

        A flow retry reuses its run id and starts over: without this, its first attempt's batches would be
        seen as already ingested by its second. The caller reconciles the caches (item ledger, fetch state,
        dedup index) with the lake afterwards, so what was rolled back is read again.
        """
        self.check_lease()
        prefix = f"{safe_token(run_id)}-"
        removed: list[str] = []
        for stem in sorted(s for s in self.batch_stems() if s.startswith(prefix)):
            for path in self._marker_files(self.read_marker(stem) or {}, "files"):
                if self._delete_if_exists(path):
                    removed.append(path)
            self.fs.delete_file(self.path(COMMITS_DIR, f"{stem}.json"))
        return removed

    def _delete_if_exists(self, path: str) -> bool:
        try:
            self.fs.delete_file(path)
        except FileNotFoundError:
            return False
        return True

    def batch_stems(self) -> set[str]:
        """Return the stems of committed ingest batches (compactions excluded)."""
        return {s for s in self.committed_stems() if not s.startswith(_REPLACING)}

    def replaced_files(self) -> set[str]:
        """Return the files that committed compactions and replays replaced (absolute paths), deleted or not."""
        replaced: set[str] = set()
        for stem in self.committed_stems():
            if stem.startswith(_REPLACING):
                replaced.update(self._marker_files(self.read_marker(stem) or {}, "replaces"))
        return replaced

    def sweep(self) -> list[str]:
        """Finish or undo what a crash left; return the files removed.

        Deletes staging leftovers, the files named by intents that never committed (a crashed batch, compaction
        or replay), and the files committed compactions and replays replaced but had not deleted yet. It never
        deletes a file that no intent or marker of this lake names. Call it while holding :meth:`write_lock`,
        so no live writer's files are mistaken for a crash's (on S3 it checks that it still holds it).
        """
        self.check_lease()
        removed: list[str] = []
        staging = self.fs.get_file_info(self.path(STAGING_DIR))
        if staging.type == pafs.FileType.Directory:
            for info in self.fs.get_file_info(pafs.FileSelector(self.path(STAGING_DIR), recursive=True)):
                if info.is_file:
                    self.fs.delete_file(info.path)
                    removed.append(info.path)
        committed = self.committed_stems()
        selector = pafs.FileSelector(self.path(INTENTS_DIR), allow_not_found=True)
        for info in self.fs.get_file_info(selector):
            if not (info.is_file and info.base_name.endswith(".json")):
                continue
            stem = info.base_name[: -len(".json")]
            if stem not in committed:
                data = self.read_bytes(info.path)
                try:
                    intent = json.loads(data.decode()) if data else {}
                except (ValueError, UnicodeDecodeError):
                    intent = {}
                for path in self._marker_files(intent if isinstance(intent, dict) else {}, "files"):
                    if self._delete_if_exists(path):
                        removed.append(path)
            self.fs.delete_file(info.path)
        for path in sorted(self.replaced_files()):
            if self._delete_if_exists(path):
                removed.append(path)
        return removed

    def _parquet_files(self, dataset: str, include_replaced: bool = False) -> list[pafs.FileInfo]:
        """Return the dataset's Parquet files as readers should see them.

        Only files of committed writes count (``part-<stem>[~<n>].parquet`` with a committed stem), minus those a
        committed compaction or replay replaced, so readers going through this class see a consistent snapshot
        even while a batch or a compaction is being published, and never a file mediawatch did not write.
        ``include_replaced`` also returns the replaced files still on disk.
        """
        selector = pafs.FileSelector(self.dataset_path(dataset), recursive=True, allow_not_found=True)
        files = [i for i in self.fs.get_file_info(selector) if i.is_file and i.base_name.endswith(".parquet")]
        if dataset == "runs":
            return [i for i in files if i.base_name.startswith("run-") and self._readable(i)]
        committed = self.committed_stems()
        files = [i for i in files if i.base_name.startswith("part-") and file_stem(i.base_name) in committed]
        files = [i for i in files if self._readable(i)]
        if include_replaced:
            return files
        replaced = self.replaced_files()
        return [i for i in files if i.path not in replaced]

    def files(self, dataset: str) -> list[str]:
        """Return the paths of the dataset's visible files (see :meth:`_parquet_files`)."""
        return sorted(i.path for i in self._parquet_files(dataset))

    def partitions(self, dataset: str) -> dict[str, list[str]]:
        """Return the dataset's visible files grouped by partition directory."""
        groups: dict[str, list[str]] = {}
        for info in self._parquet_files(dataset):
            groups.setdefault(info.path.rsplit("/", 1)[0], []).append(info.path)
        return groups

    def compact_partition(self, dataset: str, directory: str, files: list[str]) -> str:
        """Rewrite ``files`` of one partition as one file, atomically for readers that use this class.

        Order: publish the new file, commit a marker naming it and the files it replaces, then delete those.
        A crash before the marker leaves an uncommitted file that :meth:`sweep` removes; a crash after it leaves
        replaced files that readers here already ignore and :meth:`sweep` deletes. Plain directory readers
        (pandas, DuckDB globbing) can see both for the milliseconds between publish and delete.
        """
        schema = schema_with_metadata(dataset)
        table = ds.dataset(files, schema=SCHEMAS[dataset], format="parquet", filesystem=self.fs).to_table()
        stem = f"{COMPACT_PREFIX}{uuid.uuid4().hex[:16]}"
        final = f"{directory}/part-{stem}.parquet"
        self._write_intent(stem, [final])
        self._publish(table.cast(schema), final)
        marker = {
            "files": [self._relative(final)],
            "replaces": [self._relative(f) for f in files],
            "rows": {dataset: table.num_rows},
        }
        self._commit(stem, marker)
        for path in files:
            self._delete_if_exists(path)
        return final

    def commit_replacement(
        self, stem: str, tables: Mapping[str, pa.Table], drop_ids: Mapping[str, set[str]], key: str = "article_id"
    ) -> CommitRecord:
        """Replace rows in one commit: drop the rows whose ``key`` is in ``drop_ids[dataset]``, add ``tables``.

        Files holding dropped rows are rewritten without them (``part-<stem>~<n>.parquet`` beside them), the new
        rows are written as ``part-<stem>.parquet``, and one marker names the new files and the files they
        replace; only then are those deleted. Readers through this class switch from the old rows to the new at
        the marker; a crash before it leaves nothing visible, after it :meth:`sweep` finishes the deletes.
        ``stem`` must start with ``replay-``.
        """
        if not stem.startswith(REPLAY_PREFIX):
            raise LakeError(f"replacement stems start with {REPLAY_PREFIX!r}, not {stem!r}")
        stem = safe_token(stem)
        planned: list[tuple[str, pa.Table]] = []
        replaces: list[str] = []
        rows: dict[str, int] = {}
        for dataset, ids in drop_ids.items():
            if not ids:
                continue
            wanted = pa.array(sorted(ids), pa.string())
            for n, info in enumerate(self._parquet_files(dataset)):
                keys = pq.read_table(info.path, columns=[key], filesystem=self.fs).column(key)
                if not pc.any(pc.is_in(keys, value_set=wanted)).as_py():
                    continue
                table = ds.dataset(info.path, schema=SCHEMAS[dataset], format="parquet", filesystem=self.fs).to_table()
                kept = table.filter(pc.invert(pc.is_in(table.column(key), value_set=wanted)))
                replaces.append(info.path)
                if kept.num_rows:
                    final = f"{info.path.rsplit('/', 1)[0]}/part-{stem}~{n}.parquet"
                    planned.append((final, kept.cast(schema_with_metadata(dataset))))
        for dataset, table in tables.items():
            planned.extend(self.plan_partitioned(dataset, table, stem))
            rows[dataset] = table.num_rows
        files = [path for path, _ in planned]
        self._write_intent(stem, files)
        for path, part in planned:
            self._publish(part, path)
        marker = {
            "files": [self._relative(f) for f in files],
            "replaces": [self._relative(f) for f in replaces],
            "rows": rows,
        }
        self._commit(stem, marker)
        for path in replaces:
            self._delete_if_exists(path)
        return CommitRecord(run_id=stem, batch="", files=tuple(files), rows=rows)

    # -- reading -----------------------------------------------------------------------------------------------

    def exists(self, dataset: str) -> bool:
        """Return True when ``dataset`` has at least one file."""
        return bool(self._parquet_files(dataset))

    def dataset(self, dataset: str, run_id: str | None = None) -> ds.Dataset:
        """Return a pyarrow dataset over ``dataset`` with its declared schema plus the ``date`` partition.

        With ``run_id``, only the files that run's batches wrote (not yet compacted): what a run reports on at
        its end, read without scanning the whole lake, whose size grows with every run.
        """
        schema = SCHEMAS[dataset].append(pa.field(PARTITION_COLUMN, pa.string()))
        files = [i.path for i in self._parquet_files(dataset)]
        if run_id is not None:
            prefix = f"part-{safe_token(run_id)}-"
            files = [f for f in files if f.rsplit("/", 1)[-1].startswith(prefix)]
        return ds.dataset(
            files,
            schema=schema,
            format="parquet",
            filesystem=self.fs,
            partitioning=ds.partitioning(pa.schema([(PARTITION_COLUMN, pa.string())]), flavor="hive"),
            partition_base_dir=self.dataset_path(dataset),
        )

    def read(
        self,
        dataset: str,
        columns: list[str] | None = None,
        filter: pc.Expression | None = None,
        run_id: str | None = None,
    ) -> pa.Table:
        """Return ``dataset`` as one table (empty with the right schema when nothing was written yet); with
        ``run_id``, only that run's batch files (see :meth:`dataset`)."""
        return self.dataset(dataset, run_id).to_table(columns=columns, filter=filter)
