"""The ingest flow: news items in, partitioned Parquet datasets out.

The recipe, batch by batch (bounded memory, a handful of task runs per batch rather than one per article):

1. discover and load the items (local files, JSONL lines, feeds, sitemaps, pages, WARC records)
2. clean: main text and metadata
3. dedup: originals go on, copies are recorded against their original
4. extract: entities and figures from the originals
5. write: one atomic commit per batch into the lake, then the run's counts
6. report: counts and samples as Prefect artifacts
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from prefect import flow, get_run_logger
from prefect.runtime import flow_run

from flows import progress
from flows.options import RunOptions, build_run_options, model_version
from flows.report import publish_run_artifacts
from flows.settings import Settings
from storage.lake import Lake
from storage.runs import STATE_FAILED, RunLedger, mark_crashed_runs
from tasks.clean import clean_items_task
from tasks.dedup import DedupIndex, check_articles_task
from tasks.index import open_index, persist_index
from tasks.inputs import SourceBatch, plan_sources_task, read_batch_task
from tasks.nlp import analyze_articles_task
from tasks.records import Rejection
from tasks.write import write_batch_task

FLOW_NAME = "ingest-news"


def _run_name() -> str:
    params = flow_run.parameters or {}
    sources = params.get("sources") or []
    label = ", ".join(str(s).rstrip("/").rsplit("/", 1)[-1] for s in sources[:2]) or "nothing"
    if len(sources) > 2:
        label += f" +{len(sources) - 2}"
    return f"ingest {label} {datetime.now(UTC):%Y-%m-%d %H:%M}"


def _process_batch(
    number: int, batch: SourceBatch, opts: RunOptions, lake: Lake, index: DedupIndex, ledger: RunLedger
) -> None:
    """Run steps 1-5 on one batch and add its counts to the ledger."""
    bar = progress.current()
    with ledger.timer("load"):
        items, rejected = read_batch_task(batch, opts.sources)  # 1. load
    ledger.items_in += len(items) + len(rejected)
    bar.advance("load", len(items) + len(rejected))
    with ledger.timer("clean"):
        articles, rejected_clean = clean_items_task(items, opts.clean)  # 2. clean
    bar.advance("clean", len(items))
    with ledger.timer("dedup"):
        decisions = check_articles_task(index, articles)  # 3. dedup
    bar.advance("dedup", len(articles))
    originals = [a for a, d in zip(articles, decisions, strict=True) if d.duplicate_of is None]
    with ledger.timer("extract"):
        analyses = analyze_articles_task(originals, opts.nlp)  # 4. extract
    bar.advance("extract", len(articles))
    with ledger.timer("write"):
        counts = write_batch_task(  # 5. write
            lake,
            ledger.run_id,
            f"b{number:05d}",
            articles,
            decisions,
            analyses,
            [*rejected, *rejected_clean],
            opts.max_payload_bytes,
        )
    bar.advance("write", len(items) + len(rejected))
    ledger.articles += counts.articles
    ledger.duplicates += counts.duplicates
    ledger.entities += counts.entities
    ledger.figures += counts.figures
    for (stage, reason), n in counts.quarantined.items():
        ledger.add_quarantined(stage, reason, n)
    ledger.duplicate_methods.update(counts.duplicate_methods)
    ledger.stages.update({"loaded": len(items), "cleaned": len(articles), "extracted": len(originals)})
    ledger.save()


@flow(name=FLOW_NAME, flow_run_name=_run_name, retries=1, retry_delay_seconds=30, log_prints=True)
def ingest_news(
    sources: list[str],
    data_dir: str | None = None,
    batch_size: int | None = None,
    refetch: bool | None = None,
) -> dict[str, Any]:
    """Ingest news items from ``sources`` (files, directories, URLs, WARC files, a sources TOML) into the lake.

    Returns the run's counts. Settings come from ``MEDIAWATCH_*``; the arguments override them.
    """
    overrides = {"data_dir": data_dir, "batch_size": batch_size, "refetch": refetch}
    settings = Settings(**{k: v for k, v in overrides.items() if v is not None})
    opts = build_run_options(settings)
    log = get_run_logger()
    lake = Lake(settings.data_dir)
    with lake.write_lock(settings.lock_wait_seconds):
        ledger = RunLedger(
            lake,
            run_id=str(flow_run.id),
            flow=FLOW_NAME,
            parameters={"sources": sources, **settings.model_dump(exclude={"user_agent", "contact"})},
            code_version=opts.code_version,
            model_name=settings.model,
            model_version=model_version(settings.model),
        )
        for crashed in mark_crashed_runs(lake, ledger.run_id):
            log.warning("run %s had crashed; marked as crashed", crashed)
        removed = lake.sweep() + lake.rollback_run(ledger.run_id)  # a flow retry starts over
        if removed:
            log.warning("removed %d files of uncommitted batches from an earlier crash", len(removed))
        ledger.save()
        try:
            index = open_index(lake, opts.dedup)  # the dedup index, reconciled with the lake
            plan = plan_sources_task(sources, opts.sources)  # 1. discover
            _quarantine_discovery(plan.rejections, lake, ledger, opts)
            bar = progress.current()
            bar.start(plan.total_items)
            for number, batch in enumerate(plan.batches(settings.batch_size)):
                _process_batch(number, batch, opts, lake, index, ledger)
            persist_index(index, lake)
            ledger.notes["skipped_files"] = plan.skipped
            ledger.finish()
        except BaseException as exc:
            ledger.save(STATE_FAILED, f"{type(exc).__name__}: {exc}")
            raise
    summary = ledger.row("completed")
    publish_run_artifacts(summary, lake, ledger.run_id)  # 6. report
    return summary


def _quarantine_discovery(rejections: Sequence[Rejection], lake: Lake, ledger: RunLedger, opts: RunOptions) -> None:
    """Write what could not even be listed (missing paths, dead feeds) to quarantine, as batch ``discover``."""
    if not rejections:
        return
    counts = write_batch_task(lake, ledger.run_id, "discover", [], [], [], list(rejections), opts.max_payload_bytes)
    ledger.items_in += len(rejections)
    for (stage, reason), n in counts.quarantined.items():
        ledger.add_quarantined(stage, reason, n)
