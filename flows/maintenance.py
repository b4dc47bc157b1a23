"""Maintenance flows: compaction of the lake's small files (scheduled daily in deployments/prefect.yaml)."""

from __future__ import annotations

from prefect import flow, get_run_logger

from flows.settings import Settings
from storage.lake import Lake
from tasks.maintenance import compact_lake_task


@flow(name="compact-lake", retries=1, retry_delay_seconds=60)
def compact_lake(data_dir: str | None = None, min_files: int = 2) -> dict[str, int]:
    """Rewrite each partition's small files into one, atomically; return files replaced per dataset."""
    settings = Settings(**({"data_dir": data_dir} if data_dir else {}))
    lake = Lake(settings.data_dir)
    log = get_run_logger()
    with lake.write_lock(settings.lock_wait_seconds):
        removed = lake.sweep()  # 1. finish or undo anything a crash left
        if removed:
            log.warning("removed %d leftover files before compacting", len(removed))
        replaced = compact_lake_task(lake, (), min_files)  # 2. compact
    log.info("compacted: %s", replaced)
    return replaced
