"""Lake upkeep: compaction of small files.

Every ingest batch writes one file per partition it touches, so a lake fed every 30 minutes collects many small
files; readers slow down with the file count. Compaction rewrites each partition's files into one.
"""

from __future__ import annotations

from collections.abc import Sequence

from prefect import task
from prefect.cache_policies import NO_CACHE

from storage.lake import Lake
from storage.schemas import DATASETS


def compact_lake(lake: Lake, datasets: Sequence[str] = (), min_files: int = 2) -> dict[str, int]:
    """Compact every partition of ``datasets`` (all but ``runs`` by default) holding at least ``min_files``.

    Returns the number of files replaced per dataset. Call while holding the lake's write lock.
    """
    chosen = [d for d in (datasets or DATASETS) if d != "runs"]
    replaced: dict[str, int] = {}
    for dataset in chosen:
        count = 0
        for directory, files in sorted(lake.partitions(dataset).items()):
            if len(files) >= min_files:
                lake.compact_partition(dataset, directory, sorted(files))
                count += len(files)
        replaced[dataset] = count
    return replaced


compact_lake_task = task(name="compact", cache_policy=NO_CACHE)(compact_lake)
