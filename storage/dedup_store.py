"""Persistence of the dedup index between runs.

The index (``tasks.dedup.DedupIndex``) is a cache of compact signatures and sorted lookup tables; it is written
as one uncompressed ``.npz`` file (numpy arrays only, no pickle) in a directory the caller gives. Writing is
atomic: the file is written next to its final name, flushed to disk, then renamed over it with
``os.replace``, so a crash leaves either the previous index or the new one, never half a file.

Loading is a plain read of the arrays (no signature is recomputed), so a million-article index loads in about
a second. An index that is missing, unreadable or built with other signature options loads as ``None``: the
caller then rebuilds it from the ``articles`` dataset with ``DedupIndex.rebuild``, so a bad file is never
wrong for good.

Entries older than the options' window are evicted on save and on load (see ``DedupIndex.evict``).
"""

from __future__ import annotations

import logging
import os
import tempfile
import zipfile
from datetime import datetime
from pathlib import Path

import numpy as np

from tasks.dedup import DedupIndex, DedupOptions

INDEX_FILENAME = "dedup_index.npz"

log = logging.getLogger(__name__)


def index_path(directory: str) -> Path:
    """Return the path of the index file in ``directory``."""
    return Path(directory) / INDEX_FILENAME


def save_index(index: DedupIndex, directory: str, now: datetime | None = None) -> None:
    """Evict entries older than the window (ending at ``now``, else at the newest fetch) and write ``index``
    atomically to ``directory`` (created if missing)."""
    target = index_path(directory)
    target.parent.mkdir(parents=True, exist_ok=True)
    index.evict(now)
    arrays = index.to_arrays()
    fd, tmp_name = tempfile.mkstemp(prefix=".dedup_index-", suffix=".npz.tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, allow_pickle=False, **arrays)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    _fsync_directory(target.parent)


def load_index(directory: str, options: DedupOptions, now: datetime | None = None) -> DedupIndex | None:
    """Return the index saved in ``directory`` with entries older than the window evicted, or None when there
    is none or it cannot be used (unreadable, or built with other signature options): then rebuild it."""
    path = index_path(directory)
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as stored:
            arrays = {name: stored[name] for name in stored.files}
        index = DedupIndex.from_arrays(arrays, options)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        log.warning("dedup index at %s not usable (%s); it must be rebuilt", path, exc)
        return None
    index.evict(now)
    return index


def _fsync_directory(directory: Path) -> None:
    # Makes the rename itself durable on POSIX; not supported (nor needed) everywhere.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
