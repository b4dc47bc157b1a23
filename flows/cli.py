"""The ``mediawatch`` command: ad-hoc runs and a look at what the lake holds.

Prefect is imported only by the commands that need it, so ``mediawatch --help`` answers at once. With no
``PREFECT_API_URL`` set, a command reports to the local server ``mediawatch server start`` (or ``run
--keep-server``) left running, if it is alive, else to a temporary SQLite-backed server of its own; every check
of what the command was given comes first, so a typo never starts a server. Telemetry is off unless the user
turns it on (the process sets ``DO_NOT_TRACK`` and server analytics off when they are unset).

Exit codes: 0 done (a degraded run too, unless ``--fail-on-degraded``); 1 the run failed (an input path that does
not exist, every source failed, an error during the run); 2 a usage or configuration error, reported in one
line before anything starts (``--debug`` adds the traceback).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import sys
import traceback
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any

from flows.checks import EXIT_FAILED, ConfigurationError, RunRefused, one_line
from flows.local_server import (
    find_local_server,
    prefect_home,
    quiet_prefect_defaults,
    read_server_record,
    reporting_to,
    start_local_server,
    stop_local_server,
    use_local_server,
)
from flows.watch_cli import add_watch_command

COUNT_COLUMNS = ("items_in", "articles", "duplicates", "quarantined", "entities", "figures")
# What `mediawatch report` covers when no --since is given.
REPORT_DAYS = 30


def version() -> str:
    """Return the installed mediawatch version."""
    try:
        return metadata.version("mediawatch")
    except metadata.PackageNotFoundError:
        return "unknown"


def _settings(args: argparse.Namespace) -> Any:
    """Return the settings with the data directory of ``--data-dir`` (a bad setting is a configuration error)."""
    from flows.checks import build_settings

    return build_settings(data_dir=getattr(args, "data_dir", None) or None)


def _data_dir(args: argparse.Namespace) -> str:
    data_dir: str = _settings(args).data_dir
    return data_dir


def _lake(args: argparse.Namespace) -> Any:
    """Return the lake of ``--data-dir`` (or ``MEDIAWATCH_DATA_DIR``), with the object-store settings applied."""
    from flows.checks import check_data_dir

    return check_data_dir(_settings(args))


def _queried_lake(args: argparse.Namespace) -> Any:
    """Return the lake of a query, refusing one that holds no mediawatch data: a mistyped ``--data-dir`` would
    answer every query with nothing. (A report or a quarantine listing of an empty lake is an empty answer.)"""
    from flows.checks import require_lake

    return require_lake(_settings(args))


@contextlib.contextmanager
def _imports_without_gc(freeze: bool = False) -> Iterator[None]:
    """Pause the cyclic garbage collector while a command imports its modules (Prefect, pyarrow, the stages); with
    ``freeze`` (the console command, see :func:`_before_exit`), freeze what they allocated.

    Importing them allocates a few hundred thousand long-lived objects (modules, classes, functions, schemas), and
    the collector walks them again and again as they pile up: about a quarter of a second of an ad-hoc run's
    start-up, for no garbage found. Frozen (``gc.freeze``), they are left out of every later collection too, which
    would otherwise walk them all each time the run's own allocations trigger a full one (parsing the watch
    file's suffix list took 0.13 s that way, 0.03 s frozen). The collector runs as before on everything else.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if freeze:
            gc.freeze()
        if enabled:
            gc.enable()


def _preflight_run(args: argparse.Namespace) -> None:
    """Check settings, options, sources and paths before any flow starts (a typo must not start a server)."""
    from flows.checks import build_settings, check_data_dir, check_sources

    if args.wait_lock is not None and args.wait_lock < 0:
        raise ConfigurationError(f"--wait-lock must be 0 or more seconds, got {args.wait_lock}")
    settings = build_settings(
        data_dir=args.data_dir,
        batch_size=args.batch_size,
        refetch=True if args.refetch else None,
        reprocess=True if args.reprocess else None,
        follow_symlinks=True if args.follow_symlinks else None,
    )
    check_sources(list(args.sources), settings.follow_symlinks)
    check_data_dir(settings)


def cmd_run(args: argparse.Namespace) -> int:
    """Run the ingest flow on the given sources and print its counts and outcome."""
    with _imports_without_gc(args.console):  # the checks import the input stage, and with it Prefect
        _preflight_run(args)
    quiet_prefect_defaults()
    server = use_local_server(keep=args.keep_server)
    if args.wait_lock is not None:
        os.environ["MEDIAWATCH_LOCK_WAIT_SECONDS"] = str(args.wait_lock)
    with _imports_without_gc(args.console):
        from flows import progress
        from flows.ingest import build_task_runner, ingest_news

    try:
        flow = ingest_news
        if args.task_runner != "threads":
            flow = ingest_news.with_options(
                task_runner=build_task_runner(args.task_runner, args.dask_address or "", args.dask_workers)
            )
        with (
            reporting_to(server),
            progress.reporting(interactive=None if not args.no_progress else False),
        ):
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
        if args.debug:
            traceback.print_exc()
        print(f"mediawatch: run failed: {type(exc).__name__}: {one_line(exc)}", file=sys.stderr)
        return EXIT_FAILED
    if summary is None:
        return EXIT_FAILED
    print(_format_counts(summary))
    outcome = summary.get("outcome", "completed")
    if outcome == "failed":
        print(f"mediawatch: run failed: {state.message}", file=sys.stderr)
        return EXIT_FAILED
    print(f"completed, {state.message}" if outcome == "degraded" else f"completed: {state.message}")
    if summary["articles"]:
        data_dir = _data_dir(args)
        hint = 'mediawatch query "select source, title from articles limit 10"'
        print(
            f"\nLook at it: {hint} --data-dir {data_dir}\n"
            f"       or: python -c \"import pandas as pd; print(pd.read_parquet('{data_dir}/articles'))\""
        )
    return EXIT_FAILED if outcome == "degraded" and args.fail_on_degraded else 0


def _summary_or_message(state: Any) -> dict[str, Any] | None:
    """Return the summary of a run that ran to its end (completed, degraded, or failed for its sources); print
    why and return None for a run that did not start or was refused; raise the exception of one that broke."""
    if state.is_completed():
        summary: dict[str, Any] = state.result()
        return summary
    if state.is_cancelled():
        print(f"mediawatch: run not started: {state.message}", file=sys.stderr)
        return None
    from flows.outcome import RunFailed

    data = state.result(raise_on_failure=False)
    if isinstance(data, RunFailed):  # every source failed: the run ran to its end, its counts are data
        return data.summary
    if isinstance(data, BaseException):
        raise data
    print(f"mediawatch: run failed: {state.message}", file=sys.stderr)
    return None


def _format_counts(summary: dict[str, Any]) -> str:
    counts = json.loads(summary.get("counts") or "{}")
    name = summary.get("run_name")
    lines = [
        f"run {name} ({summary['run_id']}): {summary['state']}"
        if name
        else f"run {summary['run_id']}: {summary['state']}"
    ]
    lines += [f"  {name:<12} {summary[name]:>8}" for name in COUNT_COLUMNS]
    for reason, n in (counts.get("quarantine_reasons") or {}).items():
        lines.append(f"    quarantined {reason}: {n}")
    for method, n in (counts.get("duplicate_methods") or {}).items():
        lines.append(f"    duplicate by {method}: {n}")
    if "unchanged" in counts:  # what was not read again, and why
        fetch = counts.get("fetch") or {}
        lines.append("  skipped:")
        lines.append(
            f"    {counts['unchanged']:>8} unchanged files and records (processed before; --reprocess reads them)"
        )
        if fetch.get("requests") or fetch.get("skipped_known"):
            lines.append(f"    {fetch.get('skipped_known', 0):>8} pages fetched before (--refetch asks again)")
            lines.append(f"    {fetch.get('not_modified', 0):>8} not modified since the last fetch (HTTP 304)")
            if fetch.get("deferred_budget"):
                lines.append(f"    {fetch['deferred_budget']:>8} left for the next run (fetch time budget spent)")
        lines.append(f"    {counts.get('skipped', 0):>8} files that are not news (e.g. README.md)")
    return "\n".join(lines)


def _connect(lake: Any) -> Any:
    from storage.query import connect

    return connect(lake)


def _sql(con: Any, sql: str) -> Any:
    """Return ``con.sql(sql)``; a query DuckDB cannot parse or bind is a usage error, reported in one line."""
    import duckdb

    try:
        return con.sql(sql)
    except (duckdb.ParserException, duckdb.BinderException, duckdb.CatalogException) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigurationError(
            f"query failed: {first} (views: articles, entities, figures, duplicates, quarantine, runs, "
            "source_health, raw, stories)"
        ) from exc


def _print_relation(rel: Any, fmt: str) -> None:
    frame = rel.df()
    if fmt == "table" and frame.empty:
        print(f"(no rows; columns: {', '.join(map(str, frame.columns))})")
        return
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
    """Run SQL over the datasets (views: articles, entities, figures, duplicates, quarantine, runs,
    source_health)."""
    con = _connect(_queried_lake(args))
    _print_relation(_sql(con, args.sql), args.format)
    return 0


def cmd_runs(args: argparse.Namespace) -> int:
    """List recent runs: name, flow, state and what it means, duration, counts."""
    if args.limit < 1:
        raise ConfigurationError(f"--limit must be at least 1, got {args.limit}")
    con = _connect(_queried_lake(args))
    cols = ", ".join(COUNT_COLUMNS)
    sql = (
        "select coalesce(run_name, run_id) as name, flow, state, state_detail, started_at, "  # noqa: S608 - fixed names, an int
        "round(date_diff('millisecond', started_at, coalesce(ended_at, now())) / 1000.0, 1) as seconds, "
        f"{cols}, run_id from runs order by started_at desc limit {int(args.limit)}"
    )
    _print_relation(_sql(con, sql), args.format)
    return 0


def cmd_quarantine(args: argparse.Namespace) -> int:
    """List unresolved quarantined items by stage and reason (every item with --items); retry them with
    ``mediawatch quarantine retry --reason R``."""
    if args.action == "retry":
        return _retry_quarantine(args)
    from storage.query import UNRESOLVED_QUARANTINE

    con = _connect(_lake(args))
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
        raise ConfigurationError("quarantine retry needs --reason (see `mediawatch quarantine` for the reasons)")
    quiet_prefect_defaults()
    server = use_local_server()
    from flows.ingest import retry_quarantine

    try:
        with reporting_to(server):
            state = retry_quarantine(reason=args.reason, stage=args.stage, data_dir=args.data_dir, return_state=True)
        summary = _summary_or_message(state)
    except Exception as exc:  # noqa: BLE001 - reported as a message and an exit code
        print(f"mediawatch: retry failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    if summary is None:
        return 1
    print(_format_counts(summary))
    return 0


def cmd_compact(args: argparse.Namespace) -> int:
    """Rewrite each partition's small files into one (safe while others read)."""
    quiet_prefect_defaults()
    server = use_local_server()
    from flows.maintenance import compact_lake

    try:
        with reporting_to(server):
            replaced = compact_lake(data_dir=args.data_dir, min_files=args.min_files)
    except Exception as exc:  # noqa: BLE001 - reported as a message and an exit code
        print(f"mediawatch: compaction failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    for dataset, n in replaced.items():
        print(f"  {dataset:<12} {n:>6} files replaced")
    return 0


def _since(value: str | None) -> str:
    """Return ``value`` as a YYYY-MM-DD day (default: :data:`REPORT_DAYS` days ago); a bad date is a usage error."""
    if value is None:
        return (datetime.now(UTC) - timedelta(days=REPORT_DAYS)).strftime("%Y-%m-%d")
    try:
        return datetime.strptime(value, "%Y-%m-%d").strftime("%Y-%m-%d")
    except ValueError as exc:
        raise ConfigurationError(f"--since {value!r} is not a day: write it YYYY-MM-DD, e.g. 2025-11-01") from exc


def cmd_report(args: argparse.Namespace) -> int:
    """Write a self-contained HTML report (charts, no network needed to open it) of the last 30 days, or since
    ``--since``."""
    from flows.watch import detect_options, run_watches
    from tasks.report import build_report

    since = _since(args.since)
    settings = _settings(args)
    document = build_report(_lake(args), since, watches=run_watches(settings), options=detect_options(settings))
    with open(args.output, "w", encoding="utf-8") as handle:
        handle.write(document)
    print(f"report written to {args.output} (partitions since {since})")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve all deployments with their schedules from this process until interrupted (Ctrl-C); with a webhook
    (``--alert-webhook`` or ``MEDIAWATCH_ALERT_WEBHOOK_URL``) create the alert automation first."""
    from flows.checks import check_data_dir, check_sources

    settings = _settings(args)
    check_sources(list(args.sources), settings.follow_symlinks)
    check_data_dir(settings)
    if args.ingest_interval is not None and args.ingest_interval < 1:
        raise ConfigurationError(f"--ingest-interval must be at least 1 second, got {args.ingest_interval}")
    quiet_prefect_defaults()
    with reporting_to(use_local_server()):
        webhook = args.alert_webhook or settings.alert_webhook_url
        if webhook:
            _set_up_alerts(webhook)
        else:
            print("alerts: none (set MEDIAWATCH_ALERT_WEBHOOK_URL or pass --alert-webhook URL to be notified)")
        from flows.serve import serve_all

        serve_all(
            sources=args.sources,
            data_dir=settings.data_dir,
            ingest_cron=args.ingest_cron,
            ingest_interval_seconds=args.ingest_interval,
        )
    return 0


def _set_up_alerts(webhook: str, path: str | None = None) -> None:

    from flows.alerts import AUTOMATIONS_FILE, apply_automations, load_automations

    file = Path(path) if path else AUTOMATIONS_FILE
    try:
        load_automations(file)
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"automations file {file}: {exc}") from exc
    for name in apply_automations(webhook, file):
        print(f"alerts: automation {name!r} notifies {webhook}")


def cmd_alerts(args: argparse.Namespace) -> int:
    """Create (or replace) the alert automation of ``deployments/automations.yaml`` on the Prefect server named by
    ``PREFECT_API_URL``, notifying a webhook through a Custom Webhook block."""
    webhook = args.webhook_url or _settings(args).alert_webhook_url
    if not webhook:
        raise ConfigurationError("alerts need a webhook: pass --webhook-url URL or set MEDIAWATCH_ALERT_WEBHOOK_URL")
    if not os.environ.get("PREFECT_API_URL"):
        raise ConfigurationError(
            "alerts live on a lasting Prefect server: set PREFECT_API_URL (a temporary server forgets them at exit)"
        )
    quiet_prefect_defaults()
    _set_up_alerts(webhook, args.file)
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    """Clean and extract again from the kept raw pages (no network) and replace the derived rows."""
    quiet_prefect_defaults()
    server = use_local_server()
    from flows.replay import replay_raw

    try:
        with reporting_to(server):
            summary = replay_raw(since=args.since, data_dir=args.data_dir)
    except Exception as exc:  # noqa: BLE001 - reported as a message and an exit code
        print(f"mediawatch: replay failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(_format_counts(summary))
    return 0


def cmd_server(args: argparse.Namespace) -> int:
    """Keep a Prefect server running in the background for later commands (``start``), show it (``status``) or
    stop it (``stop``). While it runs, every command with no ``PREFECT_API_URL`` reports to it instead of starting
    a temporary server, and its UI shows their runs. It serves the database in ``PREFECT_HOME``."""
    home = prefect_home()
    if args.action == "start":
        if os.environ.get("PREFECT_API_URL"):
            raise ConfigurationError(
                f"PREFECT_API_URL is set ({os.environ['PREFECT_API_URL']}): commands report there; "
                "unset it to use a local server"
            )
        server, started = start_local_server(home)
        what = "started" if started else "already running:"
        print(f"{what} the local Prefect server at {server.ui_url} (pid {server.pid}, PREFECT_HOME {home})")
        print("commands without PREFECT_API_URL now report to it; `mediawatch server stop` stops it")
        return 0
    if args.action == "stop":
        stopped = stop_local_server(home)
        print(
            f"stopped the local Prefect server at {stopped.ui_url} (pid {stopped.pid})"
            if stopped
            else "no local Prefect server was running"
        )
        return 0
    found = find_local_server(home)
    if found is not None:
        print(f"local Prefect server: {found.ui_url} (pid {found.pid}, PREFECT_HOME {home})")
    elif (recorded := read_server_record(home)) is not None:
        print(f"the local Prefect server recorded at {recorded.ui_url} (pid {recorded.pid}) does not answer")
    else:
        print("no local Prefect server running: each command starts a temporary one (`mediawatch server start`)")
    if os.environ.get("PREFECT_API_URL"):
        print(f"PREFECT_API_URL is set: commands report to {os.environ['PREFECT_API_URL']}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``mediawatch`` command."""
    parser = argparse.ArgumentParser(
        prog="mediawatch",
        description="Media-monitoring ETL: ingest news into partitioned Parquet (articles, entities, figures, "
        "duplicates, quarantine, runs, source_health) with Prefect.",
        epilog="Exit codes: 0 done (a degraded run too), 1 the run failed, 2 a usage or configuration error.",
    )
    parser.add_argument("--version", action="version", version=f"mediawatch {version()}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks with error messages")
    # Also accepted after the command (`mediawatch run x --debug`); SUPPRESS keeps the top-level value otherwise.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, **kwargs: Any) -> argparse.ArgumentParser:
        return sub.add_parser(name, parents=[common], **kwargs)

    def add_data_dir(p: argparse.ArgumentParser) -> None:
        p.add_argument("--data-dir", help="data directory or URI (default: $MEDIAWATCH_DATA_DIR or ./data)")

    def add_format(p: argparse.ArgumentParser) -> None:
        p.add_argument("--format", choices=("table", "csv", "json"), default="table", help="output format")

    run = command(
        "run",
        help="ingest sources now (an ad-hoc flow run) and print the counts",
        description="Ingest files, directories (HTML, .txt, JSONL; .gz too), URLs, feeds, sitemaps, WARC files "
        "or a sources .toml into the data directory. Exits 1 when the run fails (an input path that does not "
        "exist, every source failed), 2 for a usage or configuration error; a degraded run (some sources failed, "
        "or too much quarantined) exits 0 unless --fail-on-degraded. Quarantined items are data, not failure.",
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
        "--fail-on-degraded",
        action="store_true",
        help="exit 1 when the run is degraded (some sources failed, or too much was quarantined)",
    )
    run.add_argument(
        "--task-runner", choices=("threads", "dask"), default="threads", help="where tasks run (default threads)"
    )
    run.add_argument("--dask-address", help="join this Dask scheduler (tcp://host:8786) instead of a local cluster")
    run.add_argument("--dask-workers", type=int, default=2, help="processes of the local Dask cluster (default 2)")
    run.add_argument(
        "--keep-server",
        action="store_true",
        help="with no PREFECT_API_URL: start a local Prefect server that stays for later runs (see `server`)",
    )
    run.set_defaults(func=cmd_run)

    query = command("query", help="run SQL (DuckDB) over the datasets", description=cmd_query.__doc__)
    query.add_argument("sql", help='for example: "select label, count(*) from entities group by label"')
    add_data_dir(query)
    add_format(query)
    query.set_defaults(func=cmd_query)

    runs = command("runs", help="list recent runs with their counts", description=cmd_runs.__doc__)
    add_data_dir(runs)
    add_format(runs)
    runs.add_argument("--limit", type=int, default=20, help="how many runs (default 20)")
    runs.set_defaults(func=cmd_runs)

    quarantine = command(
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

    compact = command("compact", help="compact small Parquet files", description=cmd_compact.__doc__)
    add_data_dir(compact)
    compact.add_argument("--min-files", type=int, default=2, help="compact partitions with at least this many files")
    compact.set_defaults(func=cmd_compact)

    replay = command("replay", help="re-clean and re-extract from kept raw pages", description=cmd_replay.__doc__)
    add_data_dir(replay)
    replay.add_argument("--since", help="only pages fetched on or after this day, YYYY-MM-DD")
    replay.set_defaults(func=cmd_replay)

    report = command("report", help="write an HTML report with charts", description=cmd_report.__doc__)
    add_data_dir(report)
    report.add_argument("--since", help=f"first partition day, YYYY-MM-DD (default: {REPORT_DAYS} days ago)")
    report.add_argument("--output", default="mediawatch-report.html", help="file to write (default %(default)s)")
    report.set_defaults(func=cmd_report)

    serve = command("serve", help="serve the scheduled deployments from one process", description=cmd_serve.__doc__)
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
    serve.add_argument("--alert-webhook", help="create the alert automation, notifying this webhook URL")
    serve.set_defaults(func=cmd_serve)

    add_watch_command(command, add_data_dir, add_format)

    alerts = command("alerts", help="create the alert automation on the Prefect server", description=cmd_alerts.__doc__)
    add_data_dir(alerts)
    alerts.add_argument("--webhook-url", help="webhook to notify (default: $MEDIAWATCH_ALERT_WEBHOOK_URL)")
    alerts.add_argument("--file", help="automations file (default: deployments/automations.yaml)")
    alerts.set_defaults(func=cmd_alerts)

    server = command(
        "server", help="keep a local Prefect server running for later commands", description=cmd_server.__doc__
    )
    server.add_argument(
        "action", nargs="?", choices=("start", "status", "stop"), default="status", help="status (default)"
    )
    server.set_defaults(func=cmd_server)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``mediawatch`` console script; returns the exit code.

    A refused command (a usage or configuration error, an input path that is not there) is one line on standard
    error, without a traceback unless ``--debug``.
    """
    args = build_parser().parse_args(argv)
    args.console = argv is None  # the process ends with the command (see _imports_without_gc and _before_exit)
    # Before any command imports Prefect (the checks of a run do): Prefect reads its settings once, at import.
    quiet_prefect_defaults()
    try:
        code: int = args.func(args)
    except RunRefused as exc:
        if args.debug:
            traceback.print_exc()
        what = "run failed: " if exc.exit_code == EXIT_FAILED and args.command == "run" else ""
        print(f"mediawatch: {what}{exc}", file=sys.stderr)
        code = exc.exit_code
    if argv is None:
        _before_exit()
    return code


def _before_exit() -> None:
    """The console command is about to exit: spare the interpreter's last garbage collection over every object the
    imports made (Prefect, pydantic models, pyarrow), about 0.4 s of an ad-hoc run that has done its work.

    ``gc.freeze`` moves the objects alive now out of the collector's reach: they are still freed as their last
    reference goes, exit handlers (Prefect's log and event flushing) run as before, and what only a reference
    cycle still holds is left for the operating system to reclaim with the process. Only the console command
    (``main()`` with no arguments) does this, never a caller that goes on living, such as the tests.
    """
    gc.freeze()


if __name__ == "__main__":
    raise SystemExit(main())
