"""Lookup tables of the index: sorted numpy multimaps from integer keys to entry rows, searched a batch at a time.

Two levels each: the bulk, and a small sorted level of recent inserts folded into the bulk every ``merge_every``
articles, so an insert costs time in proportion to the recent level, not to the whole index.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from tasks.dedup.signatures import I32, I64, U32, U64

_MASK32 = np.uint64(0xFFFFFFFF)
# Lookup tables

EMPTY_ROWS = np.zeros(0, dtype=np.int32)
EMPTY_ITEMS = np.zeros(0, dtype=np.int64)


def _expand(lo: I64, hi: I64, items: I64, rows: I32) -> tuple[I64, I32]:
    """Return (item, row) pairs for the ranges ``rows[lo:hi]`` of each item."""
    counts = hi - lo
    total = int(counts.sum())
    if total == 0:
        return EMPTY_ITEMS, EMPTY_ROWS
    ends = np.cumsum(counts)
    idx = np.arange(total) + np.repeat(lo - (ends - counts), counts)
    return np.repeat(items, counts), rows[idx]


def as_2d(keys: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """Return keys of shape (items,) or (items, m) as (items, m)."""
    return keys[:, None] if keys.ndim == 1 else keys


def _lookup(keys: npt.NDArray[Any], rows: I32, queries: npt.NDArray[Any], items: I64, limit: int) -> tuple[I64, I32]:
    """Return (item, row) pairs for the rows stored under each query key in the sorted ``keys``, at most
    ``limit`` per key (the most recent: rows of one key are in insertion order)."""
    if len(keys) == 0 or len(queries) == 0:
        return EMPTY_ITEMS, EMPTY_ROWS
    lo = np.searchsorted(keys, queries, side="left").astype(np.int64)
    hi = np.searchsorted(keys, queries, side="right").astype(np.int64)
    return _expand(np.maximum(lo, hi - limit), hi, items, rows)


def _merge_sorted(keys: npt.NDArray[Any], rows: I32, new_keys: npt.NDArray[Any], new_rows: I32) -> tuple[Any, I32]:
    """Return the sorted ``keys``/``rows`` with the new pairs inserted after the equal keys already there (so
    rows of one key stay in insertion order); ``new_keys`` need not be sorted."""
    if len(new_keys) == 0:
        return keys, rows
    order = np.argsort(new_keys, kind="stable")
    new_keys, new_rows = new_keys[order], new_rows[order]
    if len(keys) == 0:
        return new_keys, new_rows.astype(np.int32)
    at = np.searchsorted(keys, new_keys, side="right")
    return np.insert(keys, at, new_keys), np.insert(rows, at, new_rows)


class KeyTable:
    """A multimap from integer keys to entry rows, kept as two sorted levels: the bulk of the entries and a small
    level of recent inserts.

    A batch of inserts re-sorts only the small level; :meth:`merge` folds it into the large one (one linear pass),
    so an insert costs time in proportion to the recent level, not to the whole index. Lookups search both levels
    for a whole batch at once (``searchsorted``). Key 0 means "no key" and is never stored.
    """

    def __init__(self, dtype: type[np.unsignedinteger[Any]], keys: Any = None, rows: Any = None) -> None:
        self.dtype = dtype
        self.keys: npt.NDArray[Any] = np.zeros(0, dtype=dtype) if keys is None else np.asarray(keys, dtype)
        self.rows: I32 = EMPTY_ROWS if rows is None else np.asarray(rows, np.int32)
        if len(self.keys) != len(self.rows):
            raise ValueError("keys and rows must have the same length")
        self.recent_keys: npt.NDArray[Any] = np.zeros(0, dtype=dtype)
        self.recent_rows: I32 = EMPTY_ROWS

    def add_batch(self, keys: npt.NDArray[Any], rows: I32) -> None:
        """Record that the keys of shape (items, m) occur in entry ``rows[item]`` (zero keys are skipped)."""
        keys = as_2d(np.asarray(keys, dtype=self.dtype))
        flat = keys.ravel()
        flat_rows = np.repeat(np.asarray(rows, np.int32), keys.shape[1])
        nonzero = flat != 0
        self.recent_keys, self.recent_rows = _merge_sorted(
            self.recent_keys, self.recent_rows, flat[nonzero], flat_rows[nonzero]
        )

    def find_batch(self, keys: npt.NDArray[Any], limit: int) -> tuple[I64, I32]:
        """Return (item, row) pairs for ``keys`` of shape (items, m), at most ``limit`` (the most recent) per key
        and level; zero keys are skipped."""
        keys = as_2d(np.asarray(keys, dtype=self.dtype))
        items = np.repeat(np.arange(len(keys), dtype=np.int64), keys.shape[1])
        flat = keys.ravel()
        nonzero = flat != 0
        flat, items = flat[nonzero], items[nonzero]
        main = _lookup(self.keys, self.rows, flat, items, limit)
        recent = _lookup(self.recent_keys, self.recent_rows, flat, items, limit)
        return np.concatenate([main[0], recent[0]]), np.concatenate([main[1], recent[1]])

    def merge(self) -> None:
        """Fold the recent level into the large one (stable: rows stay in insertion order per key)."""
        if len(self.recent_keys) == 0:
            return
        if len(self.keys) == 0:
            self.keys, self.rows = self.recent_keys, self.recent_rows
        else:
            at = np.searchsorted(self.keys, self.recent_keys, side="right")
            self.keys = np.insert(self.keys, at, self.recent_keys)
            self.rows = np.insert(self.rows, at, self.recent_rows)
        self.recent_keys = np.zeros(0, dtype=self.dtype)
        self.recent_rows = EMPTY_ROWS

    def compact(self, remap: I32) -> None:
        """Drop rows mapped to -1 by ``remap`` and renumber the others."""
        self.merge()
        new_rows = remap[self.rows]
        keep = new_rows >= 0
        self.keys = self.keys[keep]
        self.rows = new_rows[keep].astype(np.int32)


class BandTable:
    """The buckets of one LSH signature: one sorted (key, row) array pair per band (32-bit keys, the compact form
    a million entries are kept in), and one small sorted level of recent inserts for all bands, keyed
    ``band << 32 | key``."""

    def __init__(self, bands: int, keys: Sequence[Any] | None = None, rows: Sequence[Any] | None = None) -> None:
        self.bands = bands
        self.keys: list[U32] = [np.zeros(0, np.uint32) for _ in range(bands)] if keys is None else list(keys)
        self.rows: list[I32] = [EMPTY_ROWS for _ in range(bands)] if rows is None else list(rows)
        if len(self.keys) != bands or len(self.rows) != bands:
            raise ValueError(f"expected {bands} bands")
        self.recent_keys: U64 = np.zeros(0, np.uint64)
        self.recent_rows: I32 = EMPTY_ROWS

    def combined(self, keys: U32) -> U64:
        """Return bucket keys of shape (items, bands) as keys of the recent level (``band << 32 | key``)."""
        shifted = np.arange(self.bands, dtype=np.uint64) << np.uint64(32)
        return keys.astype(np.uint64) | shifted[None, :]

    def add_batch(self, keys: U32, rows: I32) -> None:
        """Record the bucket keys of shape (items, bands) of entries ``rows``."""
        flat = self.combined(keys).ravel()
        flat_rows = np.repeat(np.asarray(rows, np.int32), self.bands)
        self.recent_keys, self.recent_rows = _merge_sorted(self.recent_keys, self.recent_rows, flat, flat_rows)

    def find_batch(self, keys: U32, mask: npt.NDArray[np.bool_], limit: int) -> tuple[I64, I32]:
        """Return (item, row) pairs for bucket ``keys`` of shape (items, bands) of the items in ``mask``, at most
        ``limit`` (the most recent) per bucket and level."""
        items = np.flatnonzero(mask).astype(np.int64)
        parts_i: list[I64] = []
        parts_r: list[I32] = []
        for band in range(self.bands):
            it, rw = _lookup(self.keys[band], self.rows[band], keys[items, band], items, limit)
            parts_i.append(it)
            parts_r.append(rw)
        flat = self.combined(keys[items]).ravel()
        it, rw = _lookup(self.recent_keys, self.recent_rows, flat, np.repeat(items, self.bands), limit)
        parts_i.append(it)
        parts_r.append(rw)
        return np.concatenate(parts_i), np.concatenate(parts_r)

    def merge(self) -> None:
        """Fold the recent level into the per-band sorted arrays (it is sorted by band, then key)."""
        if len(self.recent_keys) == 0:
            return
        band_of = (self.recent_keys >> np.uint64(32)).astype(np.int64)
        bounds = np.searchsorted(band_of, np.arange(self.bands + 1))
        low = (self.recent_keys & _MASK32).astype(np.uint32)
        for band in range(self.bands):
            lo, hi = int(bounds[band]), int(bounds[band + 1])
            if lo == hi:
                continue
            if len(self.keys[band]) == 0:
                self.keys[band], self.rows[band] = low[lo:hi], self.recent_rows[lo:hi]
                continue
            at = np.searchsorted(self.keys[band], low[lo:hi], side="right")
            self.keys[band] = np.insert(self.keys[band], at, low[lo:hi])
            self.rows[band] = np.insert(self.rows[band], at, self.recent_rows[lo:hi])
        self.recent_keys = np.zeros(0, np.uint64)
        self.recent_rows = EMPTY_ROWS

    def compact(self, remap: I32) -> None:
        """Drop rows mapped to -1 by ``remap`` and renumber the others."""
        self.merge()
        for band in range(self.bands):
            new_rows = remap[self.rows[band]]
            keep = new_rows >= 0
            self.keys[band] = self.keys[band][keep]
            self.rows[band] = new_rows[keep].astype(np.int32)


def batch_pairs(keys: npt.NDArray[Any], items: I64, limit: int) -> tuple[I64, I64]:
    """Return (later, earlier) item pairs of a batch that share a key: ``keys[j]`` belongs to ``items[j]`` (0 is
    no key); each occurrence pairs with at most ``limit`` earlier items holding the same key."""
    nonzero = keys != 0
    keys, items = keys[nonzero], items[nonzero]
    if len(keys) < 2:
        return EMPTY_ITEMS, EMPTY_ITEMS
    order = np.lexsort((items, keys))
    k, it = keys[order], items[order]
    pos = np.arange(len(k))
    first = np.ones(len(k), dtype=np.bool_)
    first[1:] = k[1:] != k[:-1]
    start = np.maximum.accumulate(np.where(first, pos, 0))
    lo = np.maximum(start, pos - limit)
    counts = pos - lo
    total = int(counts.sum())
    if total == 0:
        return EMPTY_ITEMS, EMPTY_ITEMS
    ends = np.cumsum(counts)
    earlier = it[np.arange(total) + np.repeat(lo - (ends - counts), counts)]
    later = np.repeat(it, counts)
    keep = earlier != later
    return later[keep], earlier[keep]
