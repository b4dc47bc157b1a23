"""Persistence of the dedup index between runs: the saved layout and its file.

The index is a cache of compact signatures and sorted lookup tables. Storage knows it only as a
:class:`SavedIndex`: named numpy arrays in four groups (per-entry columns, flat per-paragraph arrays, key
tables, LSH band tables) plus the cluster aliases and the signature key the arrays were built with. The dedup
stage (``tasks.dedup``) turns its index into this layout and back; this module writes it as one uncompressed
``.npz`` file (numpy arrays only, no pickle) in a directory the caller gives. Writing is atomic: the file is
written next to its final name, flushed to disk, then renamed over it with ``os.replace``, so a crash leaves
either the previous index or the new one, never half a file.

Loading is a plain read of the arrays (no signature is recomputed), so a million-article index loads in about
a second. A file that is missing, unreadable or not in this layout reads as ``None``: the caller then rebuilds
the index from the ``articles`` dataset, so a bad file is never wrong for good.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

INDEX_FILENAME = "dedup_index.npz"
# Array names in the file: one prefix per group; a band table's arrays end with the band number.
_COLUMN = "col_"
_PARAGRAPH = "flat_"
_TABLE_KEYS, _TABLE_ROWS = "tk_", "tr_"
_BAND_KEYS, _BAND_ROWS = "bk_", "br_"
_BAND_NAME = re.compile(r"^bk_(?P<name>[a-z]+)(?P<band>\d+)$")

Array = npt.NDArray[Any]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SavedIndex:
    """The saved layout of a dedup index.

    ``columns``: one row per entry (1-d or 2-d arrays); ``paragraphs``: flat arrays indexed through the
    entries' columns; ``key_tables``: name -> (sorted keys, entry rows); ``band_tables``: name -> one (sorted
    keys, entry rows) pair per band; ``aliases``: (k, 2) uint64 pairs (folded cluster, cluster it was folded
    into); ``signature_key``: the signature options the arrays were built with.
    """

    signature_key: tuple[int, ...]
    columns: dict[str, Array]
    paragraphs: dict[str, Array]
    key_tables: dict[str, tuple[Array, Array]]
    band_tables: dict[str, list[tuple[Array, Array]]]
    aliases: Array

    def to_arrays(self) -> dict[str, Array]:
        """Return the layout as flat named arrays (the names of the file)."""
        arrays: dict[str, Array] = {"signature_key": np.asarray(self.signature_key, dtype=np.int64)}
        arrays.update({_COLUMN + name: arr for name, arr in self.columns.items()})
        arrays.update({_PARAGRAPH + name: arr for name, arr in self.paragraphs.items()})
        for name, (keys, rows) in self.key_tables.items():
            arrays[_TABLE_KEYS + name] = keys
            arrays[_TABLE_ROWS + name] = rows
        for name, bands in self.band_tables.items():
            for band, (keys, rows) in enumerate(bands):
                arrays[f"{_BAND_KEYS}{name}{band}"] = keys
                arrays[f"{_BAND_ROWS}{name}{band}"] = rows
        arrays["alias"] = np.asarray(self.aliases, dtype=np.uint64).reshape(-1, 2)
        return arrays

    @classmethod
    def from_arrays(cls, arrays: dict[str, Array]) -> SavedIndex:
        """Return the layout of flat named arrays (see :meth:`to_arrays`). Raises KeyError for a missing array."""
        bands: dict[str, dict[int, tuple[Array, Array]]] = {}
        for name in arrays:
            match = _BAND_NAME.match(name)
            if match:
                table, band = match["name"], int(match["band"])
                rows = arrays[f"{_BAND_ROWS}{table}{band}"]
                bands.setdefault(table, {})[band] = (arrays[name], rows)
        return cls(
            signature_key=tuple(int(v) for v in np.asarray(arrays["signature_key"]).tolist()),
            columns={n.removeprefix(_COLUMN): a for n, a in arrays.items() if n.startswith(_COLUMN)},
            paragraphs={n.removeprefix(_PARAGRAPH): a for n, a in arrays.items() if n.startswith(_PARAGRAPH)},
            key_tables={
                n.removeprefix(_TABLE_KEYS): (a, arrays[_TABLE_ROWS + n.removeprefix(_TABLE_KEYS)])
                for n, a in arrays.items()
                if n.startswith(_TABLE_KEYS)
            },
            band_tables={table: [found[b] for b in sorted(found)] for table, found in bands.items()},
            aliases=arrays["alias"],
        )


def index_path(directory: str) -> Path:
    """Return the path of the index file in ``directory``."""
    return Path(directory) / INDEX_FILENAME


def write_index(saved: SavedIndex, directory: str) -> None:
    """Write ``saved`` atomically to ``directory`` (created if missing)."""
    target = index_path(directory)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".dedup_index-", suffix=".npz.tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, allow_pickle=False, **saved.to_arrays())
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    _fsync_directory(target.parent)


def read_index(directory: str) -> SavedIndex | None:
    """Return the index saved in ``directory``, or None when there is none or it cannot be read (then the
    caller rebuilds it)."""
    path = index_path(directory)
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as stored:
            arrays = {name: stored[name] for name in stored.files}
        return SavedIndex.from_arrays(arrays)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        log.warning("dedup index at %s not usable (%s); it must be rebuilt", path, exc)
        return None


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
