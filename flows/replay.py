"""The replay flow: upgrade history from the kept raw pages when the extractor or the model improves.

1. read kept raw pages (``raw``, optionally fetched since a day), batch by batch
2. clean again
3. extract again (entities, figures)
4. replace each article's derived rows (its watch mentions too) in one commit, keeping its article_id and cluster_id
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from prefect.runtime import flow_run

from flows.ingest import as_is, default_task_runner, open_run
from flows.json_flow import json_flow
from flows.report import publish_run_artifacts
from flows.settings import Settings
from flows.watch import run_watches
from tasks.clean import clean_items_task
from tasks.nlp import analyze_articles_task
from tasks.replay import iter_raw_items, keep_identity, write_replay_task

FLOW_NAME = "replay-raw"


@json_flow(name=FLOW_NAME, log_prints=True, task_runner=default_task_runner())
def replay_raw(since: str | None = None, data_dir: str | None = None, batch_size: int | None = None) -> dict[str, Any]:
    """Clean and extract again every kept page fetched on or after ``since`` (YYYY-MM-DD; all when None)."""
    settings = Settings.build(data_dir=data_dir, batch_size=batch_size)
    start = datetime.strptime(since, "%Y-%m-%d").replace(tzinfo=UTC) if since else None
    watches = run_watches(settings)
    with open_run(settings, [f"raw since {since or 'the start'}"], FLOW_NAME) as run:
        ledger = run.ledger
        for number, batch in enumerate(iter_raw_items(run.lake, start, settings.batch_size)):  # 1. read raw
            ids_by_key = {item.item_key: article_id for article_id, item in batch}
            items = [item for _, item in batch]
            ledger.items_in += len(items)
            with ledger.timer("clean"):
                articles, rejected = clean_items_task(as_is(items), run.opts.clean)  # 2. clean
            articles = keep_identity(articles, ids_by_key)
            with ledger.timer("extract"):
                analyses = analyze_articles_task(as_is(articles), run.opts.nlp)  # 3. extract
            with ledger.timer("write"):
                write_replay_task(  # 4. replace
                    run.lake,
                    ledger.run_id,
                    f"b{number:05d}",
                    as_is(articles),
                    as_is(analyses),
                    as_is(rejected),
                    run.opts.max_payload_bytes,
                    watches,
                )
            ledger.add_batch(len(articles), 0, sum(len(e) for e, _ in analyses), sum(len(f) for _, f in analyses))
            for r in rejected:
                ledger.add_quarantined(r.stage, r.reason)
            ledger.save()
        ledger.finish()
    publish_run_artifacts(ledger.row("completed"), run.lake, ledger.run_id, flow_run.name)
    return ledger.row("completed")
