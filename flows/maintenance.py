"""Maintenance flows, scheduled daily in deployments/prefect.yaml: compaction and the HTML report."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prefect import get_run_logger
from prefect.artifacts import create_markdown_artifact

from flows.json_flow import json_flow
from flows.report import escape_md
from flows.settings import Settings, open_lake
from flows.watch import detect_options, run_watches
from storage.lake import REPORTS_DIR
from tasks.maintenance import compact_lake_task
from tasks.report import build_report_task


@json_flow(name="compact-lake", retries=1, retry_delay_seconds=60)
def compact_lake(data_dir: str | None = None, min_files: int = 2) -> dict[str, int]:
    """Rewrite each partition's small files into one, atomically; return files replaced per dataset."""
    settings = Settings.build(data_dir=data_dir)
    lake = open_lake(settings)
    log = get_run_logger()
    with lake.write_lock(settings.lock_wait_seconds):
        removed = lake.sweep()  # 1. finish or undo anything a crash left
        if removed:
            log.warning("removed %d leftover files before compacting", len(removed))
        replaced = compact_lake_task(lake, (), min_files)  # 2. compact
    log.info("compacted: %s", replaced)
    return replaced


@json_flow(name="daily-report", retries=1, retry_delay_seconds=60)
def daily_report(data_dir: str | None = None, days: int = 1) -> str:
    """Write the HTML report of the last ``days`` days under ``<data_dir>/_reports/``; return its path."""
    settings = Settings.build(data_dir=data_dir)
    lake = open_lake(settings)
    now = datetime.now(UTC)
    since = (now - timedelta(days=days)).strftime("%Y-%m-%d")
    watches = run_watches(settings)
    document = build_report_task(lake, since, now, watches, detect_options(settings))  # 1. build
    path = lake.path(REPORTS_DIR, f"report-{now:%Y-%m-%d}.html")
    lake.write_bytes(path, document.encode("utf-8"))  # 2. store
    create_markdown_artifact(  # 3. announce
        key="daily-report",
        markdown=f"# Daily report\n\nPartitions since {since}: `{escape_md(path, 300)}`",
        description="Where today's HTML report is",
    )
    return path
