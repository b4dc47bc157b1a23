"""``mediawatch serve``: every deployment with its schedule, served from one process (no work pool needed).

The same deployments as ``deployments/prefect.yaml`` (ingest, backfill, compact, report, watch-detect,
watch-backfill), for a single
machine: the serving process polls the Prefect server and runs each scheduled flow run in a subprocess.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from prefect import serve
from prefect.deployments.runner import RunnerDeployment

from flows.ingest import ingest_news
from flows.maintenance import compact_lake, daily_report
from flows.watch import watch_backfill, watch_detect


def serve_all(
    sources: Sequence[str],
    data_dir: str,
    ingest_cron: str = "*/30 * * * *",
    ingest_interval_seconds: int | None = None,
    limit: int = 2,
) -> None:
    """Serve ingest (cron or interval), backfill (on demand), compact and report (daily) until interrupted."""
    schedule = {"interval": ingest_interval_seconds} if ingest_interval_seconds else {"cron": ingest_cron}
    deployments = [
        ingest_news.to_deployment(
            name="ingest",
            parameters={"sources": list(sources), "data_dir": data_dir},
            tags=["mediawatch", "ingest"],
            concurrency_limit=1,
            **schedule,
        ),
        ingest_news.to_deployment(
            name="backfill", parameters={"sources": list(sources), "data_dir": data_dir}, tags=["mediawatch"]
        ),
        compact_lake.to_deployment(name="compact", cron="15 3 * * *", parameters={"data_dir": data_dir}),
        daily_report.to_deployment(name="report", cron="0 6 * * *", parameters={"data_dir": data_dir, "days": 1}),
        watch_detect.to_deployment(name="watch-detect", cron="30 5 * * *", parameters={"data_dir": data_dir}),
        watch_backfill.to_deployment(name="watch-backfill", parameters={"data_dir": data_dir}),
    ]
    # to_deployment is sync here (called outside an event loop); the union type covers its async twin.
    serve(*(cast(RunnerDeployment, d) for d in deployments), limit=limit)
