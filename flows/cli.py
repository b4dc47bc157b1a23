"""The ``mediawatch`` command: ad-hoc runs and a look at what the lake holds.

Prefect is imported only by the commands that need it, so ``mediawatch --help`` answers at once. With no
``PREFECT_API_URL`` set, a run uses Prefect's local SQLite-backed mode; telemetry is off unless the user
turns it on (the process sets ``DO_NOT_TRACK`` and server analytics off when they are unset).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

COUNT_COLUMNS = ("items_in", "articles", "duplicates", "quarantined", "entities", "figures")


def _quiet_prefect_defaults() -> None:
    """Turn Prefect's outbound analytics off unless the user chose otherwise."""
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT", "false")
    # The first run on a fresh machine migrates the local database; on a busy 2-core machine that can take
    # longer than Prefect's default 20 s wait for the temporary server.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")


def _data_dir(args: argparse.Namespace) -> str:
    if args.data_dir:
        return str(args.data_dir)
    from flows.settings import Settings

    return Settings().data_dir


def cmd_run(args: argparse.Namespace) -> int:
    """Run the ingest flow on the given sources and print its counts."""
    _quiet_prefect_defaults()
    if args.wait_lock is not None:
        os.environ["MEDIAWATCH_LOCK_WAIT_SECONDS"] = str(args.wait_lock)
    from flows import progress
    from flows.ingest import build_task_runner, ingest_news

    try:
        flow = ingest_news
        if args.task_runner != "threads":
            flow = ingest_news.with_options(
                task_runner=build_task_runner(args.task_runner, args.dask_address or "", args.dask_workers)
            )
        with progress.reporting(interactive=None if not args.no_progress else False):
            state = flow(
                sources=list(args.sources),
                data_dir=args.data_dir,
                batch_size=args.batch_size,
                refetch=True if args.refetch else None,
                reprocess=True if args.reprocess else None,
                follow_symlinks=True if args.follow_symlinks else None,
                return_state=True,
            )
        summary = _summary_or_message(state)
    except Exception as exc:  # noqa: BLE001 - the CLI's job is to turn any failure into a message + exit code
        print(f"mediawatch: run failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    if summary is None:
        return 1
    print(_format_counts(summary))
    data_dir = _data_dir(args)
    hint = 'mediawatch query "select source, title from articles limit 10"'
    print(
        f"\nLook at it: {hint} --data-dir {data_dir}\n"
        f"       or: python -c \"import pandas as pd; print(pd.read_parquet('{data_dir}/articles'))\""
    )
    return 0


def _summary_or_message(state: Any) -> dict[str, Any] | None:
    """Return a completed run's summary; print why and return None for a run that did not complete."""
    if state.is_completed():
        summary: dict[str, Any] = state.result()
        return summary
    if state.is_cancelled():
        print(f"mediawatch: run not started: {state.message}", file=sys.stderr)
        return None
    state.result()  # raises the run's exception, reported by the caller
    return None


def _format_counts(summary: dict[str, Any]) -> str:
    counts = json.loads(summary.get("counts") or "{}")
    lines = [f"run {summary['run_id']}: {summary['state']}"]
    lines += [f"  {name:<12} {summary[name]:>8}" for name in COUNT_COLUMNS]
    for reason, n in (counts.get("quarantine_reasons") or {}).items():
        lines.append(f"    quarantined {reason}: {n}")
    for method, n in (counts.get("duplicate_methods") or {}).items():
        lines.append(f"    duplicate by {method}: {n}")
    return "\n".join(lines)


def _connect(data_dir: str) -> Any:
    from storage.query import connect

    return connect(data_dir)


def _print_relation(rel: Any, fmt: str) -> None:
    frame = rel.df()
    if fmt == "csv":
        frame.to_csv(sys.stdout, index=False)
    elif fmt == "json":
        print(frame.to_json(orient="records", date_format="iso", force_ascii=False))
    else:
        import pandas as pd

        with pd.option_context(
            "display.max_rows",
            200,
            "display.max_columns",
            50,
            "display.width",
            200,
            "display.max_colwidth",
            60,
        ):
            print(frame.to_string(index=False))


def cmd_query(args: argparse.Namespace) -> int:
    """Run SQL over the datasets (views: articles, entities, figures, duplicates, quarantine, runs)."""
    con = _connect(_data_dir(args))
    _print_relation(con.sql(args.sql), args.format)
    return 0


def cmd_runs(args: argparse.Namespace) -> int:
    """List recent runs with their counts."""
    con = _connect(_data_dir(args))
    cols = ", ".join(COUNT_COLUMNS)
    sql = (
        f"select run_id, state, started_at, ended_at, {cols} from runs "  # noqa: S608 - fixed names, an int
        f"order by started_at desc limit {int(args.limit)}"
    )
    _print_relation(con.sql(sql), args.format)
    return 0


def cmd_quarantine(args: argparse.Namespace) -> int:
    """List unresolved quarantined items by stage and reason (every item with --items); retry them with
    ``mediawatch quarantine retry --reason R``."""
    if args.action == "retry":
        return _retry_quarantine(args)
    from storage.query import UNRESOLVED_QUARANTINE

    con = _connect(_data_dir(args))
    if args.items:
        sql = (
            "select quarantined_at, stage, reason, source_uri, external_id, detail, payload_bytes "  # noqa: S608 - a fixed query
            f"from ({UNRESOLVED_QUARANTINE}) order by quarantined_at desc"
        )
    else:
        sql = (
            "select stage, reason, count(*) as items, max(quarantined_at) as last_seen "  # noqa: S608 - a fixed query
            f"from ({UNRESOLVED_QUARANTINE}) group by all order by items desc, reason"
        )
    _print_relation(con.sql(sql), args.format)
    return 0


def _retry_quarantine(args: argparse.Namespace) -> int:
    if not args.reason:
        print("mediawatch: quarantine retry needs --reason (see `mediawatch quarantine`)", file=sys.stderr)
        return 2
    _quiet_prefect_defaults()
    from flows.ingest import retry_quarantine

    try:
        summary = _summary_or_message(
            retry_quarantine(reason=args.reason, stage=args.stage, data_dir=args.data_dir, return_state=True)
        )
    except Exception as exc:  # noqa: BLE001 - reported as a message and an exit code
        print(f"mediawatch: retry failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    if summary is None:
        return 1
    print(_format_counts(summary))
    return 0


def cmd_compact(args: argparse.Namespace) -> int:
    """Rewrite each partition's small files into one (safe while others read)."""
    _quiet_prefect_defaults()
    from flows.maintenance import compact_lake

    try:
        replaced = compact_lake(data_dir=args.data_dir, min_files=args.min_files)
    except Exception as exc:  # noqa: BLE001 - reported as a message and an exit code
        print(f"mediawatch: compaction failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    for dataset, n in replaced.items():
        print(f"  {dataset:<12} {n:>6} files replaced")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """Write a self-contained HTML report (charts, no network needed to open it)."""
    from tasks.report import build_report

    document = build_report(_data_dir(args), args.since)
    with open(args.output, "w", encoding="utf-8") as handle:
        handle.write(document)
    print(f"report written to {args.output}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve all deployments with their schedules from this process until interrupted (Ctrl-C)."""
    _quiet_prefect_defaults()
    from flows.serve import serve_all

    serve_all(
        sources=args.sources,
        data_dir=_data_dir(args),
        ingest_cron=args.ingest_cron,
        ingest_interval_seconds=args.ingest_interval,
    )
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    """Clean and extract again from the kept raw pages (no network) and replace the derived rows."""
    _quiet_prefect_defaults()
    from flows.replay import replay_raw

    try:
        summary = replay_raw(since=args.since, data_dir=args.data_dir)
    except Exception as exc:  # noqa: BLE001 - reported as a message and an exit code
        print(f"mediawatch: replay failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(_format_counts(summary))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``mediawatch`` command."""
    parser = argparse.ArgumentParser(
        prog="mediawatch",
        description="Media-monitoring ETL: ingest news into partitioned Parquet (articles, entities, figures, "
        "duplicates, quarantine, runs) with Prefect.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add_data_dir(p: argparse.ArgumentParser) -> None:
        p.add_argument("--data-dir", help="data directory or URI (default: $MEDIAWATCH_DATA_DIR or ./data)")

    def add_format(p: argparse.ArgumentParser) -> None:
        p.add_argument("--format", choices=("table", "csv", "json"), default="table", help="output format")

    run = sub.add_parser(
        "run",
        help="ingest sources now (an ad-hoc flow run) and print the counts",
        description="Ingest files, directories (HTML, .txt, JSONL; .gz too) into the data directory. "
        "Exits non-zero when the run fails; quarantined items are data, not failure.",
    )
    run.add_argument("sources", nargs="+", metavar="SOURCE", help="file, directory, URL, .warc or sources .toml")
    add_data_dir(run)
    run.add_argument("--batch-size", type=int, help="items per batch (default 200)")
    run.add_argument("--refetch", action="store_true", help="fetch URLs again even if fetched before")
    run.add_argument(
        "--follow-symlinks",
        action="store_true",
        help="read links in input folders (and sources files) that point outside them",
    )
    run.add_argument(
        "--reprocess", action="store_true", help="read files and WARC records again even if processed unchanged"
    )
    run.add_argument("--wait-lock", type=float, help="seconds to wait if another run holds the data directory")
    run.add_argument("--no-progress", action="store_true", help="plain log lines instead of progress bars")
    run.add_argument(
        "--task-runner", choices=("threads", "dask"), default="threads", help="where tasks run (default threads)"
    )
    run.add_argument("--dask-address", help="join this Dask scheduler (tcp://host:8786) instead of a local cluster")
    run.add_argument("--dask-workers", type=int, default=2, help="processes of the local Dask cluster (default 2)")
    run.set_defaults(func=cmd_run)

    query = sub.add_parser("query", help="run SQL (DuckDB) over the datasets", description=cmd_query.__doc__)
    query.add_argument("sql", help='for example: "select label, count(*) from entities group by label"')
    add_data_dir(query)
    add_format(query)
    query.set_defaults(func=cmd_query)

    runs = sub.add_parser("runs", help="list recent runs with their counts", description=cmd_runs.__doc__)
    add_data_dir(runs)
    add_format(runs)
    runs.add_argument("--limit", type=int, default=20, help="how many runs (default 20)")
    runs.set_defaults(func=cmd_runs)

    quarantine = sub.add_parser(
        "quarantine", help="list quarantined items by stage and reason", description=cmd_quarantine.__doc__
    )
    quarantine.add_argument(
        "action", nargs="?", choices=("list", "retry"), default="list", help="list (default) or retry"
    )
    add_data_dir(quarantine)
    add_format(quarantine)
    quarantine.add_argument("--items", action="store_true", help="one line per item instead of counts")
    quarantine.add_argument("--reason", help="retry: the reason code to retry (e.g. http_5xx, extract_timeout)")
    quarantine.add_argument("--stage", help="retry: only items quarantined at this stage")
    quarantine.set_defaults(func=cmd_quarantine)

    compact = sub.add_parser("compact", help="compact small Parquet files", description=cmd_compact.__doc__)
    add_data_dir(compact)
    compact.add_argument("--min-files", type=int, default=2, help="compact partitions with at least this many files")
    compact.set_defaults(func=cmd_compact)

    replay = sub.add_parser(
        "replay", help="re-clean and re-extract from kept raw pages", description=cmd_replay.__doc__
    )
    add_data_dir(replay)
    replay.add_argument("--since", help="only pages fetched on or after this day, YYYY-MM-DD")
    replay.set_defaults(func=cmd_replay)

    report = sub.add_parser("report", help="write an HTML report with charts", description=cmd_report.__doc__)
    add_data_dir(report)
    report.add_argument("--since", required=True, help="first partition day, YYYY-MM-DD")
    report.add_argument("--output", default="mediawatch-report.html", help="file to write (default %(default)s)")
    report.set_defaults(func=cmd_report)

    serve = sub.add_parser(
        "serve", help="serve the scheduled deployments from one process", description=cmd_serve.__doc__
    )
    serve.add_argument(
        "sources",
        nargs="*",
        default=["deployments/sources.toml"],
        metavar="SOURCE",
        help="what the ingest deployment reads (default: deployments/sources.toml)",
    )
    add_data_dir(serve)
    serve.add_argument("--ingest-cron", default="*/30 * * * *", help="ingest schedule (default: every 30 minutes)")
    serve.add_argument("--ingest-interval", type=int, help="ingest every N seconds instead of the cron schedule")
    serve.set_defaults(func=cmd_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``mediawatch`` console script; returns the exit code."""
    args = build_parser().parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
