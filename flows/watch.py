"""Watches in runs: which watches a run uses, the alert step of every ingest run, and the watch flows.

Matching itself happens in the write step (``tasks.write``: an article's ``mentions`` are committed with it).
After the last batch of an ingest run, :func:`alert_step` judges the days the run's mentions fell on (every watch's
whole series is read, see ``tasks.watch.alerting``), commits the new and changed ``alerts`` rows, emits one Prefect
event per *new* alert (``mediawatch.watch.spike``, ``mediawatch.watch.first``; the project's automation turns
them into notifications) and publishes the alerts as a table artifact.

Flows of their own:

* ``watch-detect`` (daily deployment): the same judgement for the last days, and the HTML report with the
  watches' timelines, linked from the run as an artifact;
* ``watch-backfill``: match one watch over the whole lake and replace its ``mentions`` rows in one commit (a new or
  changed watch), then judge its whole history.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from prefect import get_run_logger, task
from prefect.artifacts import create_link_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from flows.alerts import emit_watch_events
from flows.checks import ConfigurationError
from flows.json_flow import json_flow
from flows.settings import Settings, open_lake
from storage.lake import REPLAY_PREFIX, REPORTS_DIR, Lake
from storage.query import connect
from tasks.rows import alerts_table, mentions_table
from tasks.watch.alerting import DetectOptions, detect, known_alerts, split_new
from tasks.watch.backfill import backfill_mentions
from tasks.watch.watches import Watch, WatchFileError, load_watches

DEFAULT_WATCHES = Path("deployments") / "watches.toml"
DETECT_FLOW_NAME = "watch-detect"
BACKFILL_FLOW_NAME = "watch-backfill"
# The daily detector judges this many days back from today: yesterday's late articles move yesterday's count.
DETECT_DAYS = 2
# The watch report covers this many days up to the lake's last day.
REPORT_DAYS = 90


def watches_path(settings: Settings) -> Path | None:
    """Return the watch file of ``settings``: the one named (which must exist), else the default file when it is
    there, else None (a run then matches no watch)."""
    if settings.watches_file:
        path = Path(settings.watches_file).expanduser()
        if not path.is_file():
            raise ConfigurationError(
                f"watch file {path} does not exist: fix MEDIAWATCH_WATCHES_FILE or create the file"
            )
        return path
    return DEFAULT_WATCHES if DEFAULT_WATCHES.is_file() else None


def run_watches(settings: Settings) -> tuple[Watch, ...]:
    """Return the watches a run matches; a broken watch file is a configuration error (one line, exit code 2)."""
    path = watches_path(settings)
    if path is None:
        return ()
    try:
        return tuple(load_watches(path))
    except WatchFileError as exc:
        raise ConfigurationError(str(exc)) from None


def detect_options(settings: Settings) -> DetectOptions:
    """Return the detectors' options from the settings."""
    return DetectOptions(baseline_days=settings.watch_baseline_days, warmup_days=settings.watch_warmup_days)


def judge_and_commit(
    lake: Lake,
    watches: Sequence[Watch],
    options: DetectOptions,
    days: Collection[date] | None,
    run_id: str,
    batch: str = "alerts",
) -> tuple[list[Mapping[str, Any]], list[Mapping[str, Any]]]:
    """Judge ``days`` (all when None) for ``watches``; commit the new and changed alert rows as one batch of
    ``run_id``; return ``(new, changed)``. The caller holds the lake's write lock."""
    if not watches:
        return [], []
    con = connect(lake)
    rows = detect(con, watches, options, days, datetime.now(UTC), run_id)
    new, changed = split_new(rows, known_alerts(con))
    if new or changed:
        lake.commit_batch(run_id, batch, {"alerts": alerts_table([*new, *changed])})
    return new, changed


def run_days(lake: Lake, run_id: str) -> set[date]:
    """Return the days the mentions written by run ``run_id`` fell on."""
    if not lake.exists("mentions"):
        return set()
    table = lake.read("mentions", ["date"], run_id=run_id)
    return {date.fromisoformat(d) for d in set(table.column("date").to_pylist()) if d}


def alerts_artifact_rows(alerts: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Return alert rows as the alerts table artifact shows them (short text, newest day first)."""
    ordered = sorted(alerts, key=lambda a: (a["day"], a["watch"], a["kind"]), reverse=True)
    return [
        {
            "day": a["day"].isoformat(),
            "watch": a["watch"],
            "kind": a["kind"],
            "observed": a["observed"],
            "expected": a["expected"],
            "score": a["score"],
            "what": (a["entity_name"] or "; ".join(list(a["top_titles"])[:2]))[:160],
        }
        for a in ordered
    ]


def publish_alerts(new: Sequence[Mapping[str, Any]], changed: Sequence[Mapping[str, Any]]) -> None:
    """Create the run's alerts table artifact (key ``watch-alerts``) when it raised or updated any alert."""
    if new or changed:
        create_table_artifact(
            key="watch-alerts",
            table=alerts_artifact_rows([*new, *changed]),
            description=f"Watch alerts: {len(new)} new, {len(changed)} updated",
        )


@task(name="watch-alerts", cache_policy=NO_CACHE)
def alert_step(lake: Lake, watches: Sequence[Watch], options: DetectOptions, run_id: str, run_name: str) -> int:
    """Judge the days this run's mentions fell on, commit the alerts, notify the new ones; return how many were
    new. Runs while the ingest run holds the lake."""
    days = run_days(lake, run_id)
    if not days or not watches:
        return 0
    new, changed = judge_and_commit(lake, watches, options, days, run_id)
    emit_watch_events(new, run_name)
    publish_alerts(new, changed)
    if new or changed:
        get_run_logger().info("watch alerts: %d new, %d updated", len(new), len(changed))
    return len(new)


@json_flow(name=DETECT_FLOW_NAME, log_prints=True)
def watch_detect(data_dir: str | None = None, days: int = DETECT_DAYS, report: bool = True) -> dict[str, Any]:
    """Judge the last ``days`` days of every watch (the daily detector), notify new alerts and write the HTML report
    with the watches' timelines under ``_reports/`` (linked as an artifact)."""
    settings = Settings.build(data_dir=data_dir)
    watches = run_watches(settings)
    lake = open_lake(settings)
    today = datetime.now(UTC).date()
    window = {today - timedelta(days=n) for n in range(days)}
    run_id = str(flow_run.id or uuid.uuid4())
    with lake.write_lock(settings.lock_wait_seconds):
        new, changed = judge_and_commit(lake, watches, detect_options(settings), window, run_id)
    emit_watch_events(new, flow_run.name or "")
    publish_alerts(new, changed)
    result: dict[str, Any] = {"watches": len(watches), "new": len(new), "updated": len(changed)}
    if report:
        from tasks.report import build_report

        since = (min(today, _last_day(lake) or today) - timedelta(days=REPORT_DAYS)).isoformat()
        html = build_report(lake, since, watches=watches, options=detect_options(settings))
        path = lake.path(REPORTS_DIR, f"watches-{today.isoformat()}.html")
        lake.write_bytes(path, html.encode("utf-8"))
        result["report"] = path
        create_link_artifact(key="watch-report", link=_file_link(path), description="Watch report (HTML)")
    return result


def _last_day(lake: Lake) -> date | None:
    """Return the lake's last day with an article (a lake of past news is reported over its own last months)."""
    ((last,),) = connect(lake).sql("select max(day) from lake_daily").fetchall()
    return last if isinstance(last, date) else None


def _file_link(path: str) -> str:
    return path if "://" in path else Path(path).resolve().as_uri()


@json_flow(name=BACKFILL_FLOW_NAME, log_prints=True)
def watch_backfill(name: str, data_dir: str | None = None) -> dict[str, Any]:
    """Match watch ``name`` over every article of the lake and replace its ``mentions`` rows in one commit; then
    judge its whole history (new alerts are notified like any other)."""
    settings = Settings.build(data_dir=data_dir)
    watches = {w.name: w for w in run_watches(settings)}
    if name not in watches:
        known = ", ".join(sorted(watches)) or "none"
        raise ConfigurationError(f"no watch named {name!r} in the watch file (watches: {known})")
    watch = watches[name]
    lake = open_lake(settings)
    run_id = str(flow_run.id or uuid.uuid4())
    with lake.write_lock(settings.lock_wait_seconds):
        matched = backfill_mentions(lake, watch)
        table = mentions_table(matched, run_id)
        stem = f"{REPLAY_PREFIX}watch-{uuid.uuid4().hex[:12]}"
        lake.commit_replacement(stem, {"mentions": table}, {"mentions": {name}}, key="watch")
        new, changed = judge_and_commit(lake, [watch], detect_options(settings), None, run_id)
    emit_watch_events(new, flow_run.name or "")
    publish_alerts(new, changed)
    get_run_logger().info(
        "watch %s: %d mentions; alerts %d new, %d updated", name, table.num_rows, len(new), len(changed)
    )
    return {"watch": name, "mentions": table.num_rows, "new_alerts": len(new), "updated_alerts": len(changed)}
