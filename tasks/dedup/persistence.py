"""Saving and loading the dedup index between runs: the window is applied, then storage writes or reads the
saved layout (``storage.dedup_store``)."""

from __future__ import annotations

import logging
from datetime import datetime

from storage.dedup_store import index_path, read_index, write_index
from tasks.dedup.index import DedupIndex
from tasks.dedup.options import DedupOptions

log = logging.getLogger(__name__)

__all__ = ["index_path", "load_index", "save_index"]


def save_index(index: DedupIndex, directory: str, now: datetime | None = None) -> None:
    """Evict entries older than the window (ending at ``now``, else at the newest fetch) and write ``index``
    atomically to ``directory`` (created if missing).

    Written only when the index changed since it was built or loaded (articles added, merges, evictions) or none
    is saved yet: a run that added nothing leaves the file as it is, whatever its size.
    """
    index.evict(now)
    if index.modified or not index_path(directory).exists():
        write_index(index.to_saved(), directory)
        index.modified = False


def load_index(directory: str, options: DedupOptions, now: datetime | None = None) -> DedupIndex | None:
    """Return the index saved in ``directory`` with entries older than the window evicted, or None when there
    is none or it cannot be used (unreadable, or built with other signature options): then rebuild it."""
    saved = read_index(directory)
    if saved is None:
        return None
    try:
        index = DedupIndex.from_saved(saved, options)
    except (ValueError, KeyError) as exc:
        log.warning("dedup index in %s not usable (%s); it must be rebuilt", directory, exc)
        return None
    index.evict(now)
    return index
