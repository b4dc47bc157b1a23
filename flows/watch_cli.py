"""``mediawatch watch ...``: try a query on the lake, list the watches, backfill one, run the detector.

``watch test`` needs no Prefect server: it parses the query (a bad one is one line naming the line and column,
exit code 2) and matches it over the lake's articles with the code ingest uses, printing what it would match.
``watch backfill`` and ``watch detect`` are flows (run history, artifacts, events), like the deployments.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from flows.checks import ConfigurationError

# Matches ``watch test`` prints (the summary line counts all of them).
TEST_LIMIT = 20


def _watch_settings(args: argparse.Namespace) -> Any:
    from flows.cli import _settings

    return _settings(args)


def cmd_watch_test(args: argparse.Namespace) -> int:
    """Show what a query would match in the lake (articles on or after ``--since``), without saving anything."""
    from flows.cli import _print_relation, _queried_lake
    from tasks.watch.backfill import iter_matches
    from tasks.watch.query import WatchQueryError, parse_query
    from tasks.watch.watches import Watch

    try:
        query = parse_query(args.query)
    except WatchQueryError as exc:
        raise ConfigurationError(f"bad query: {exc}") from None
    if args.since is not None:
        _check_day(args.since, "--since")
    lake = _queried_lake(args)
    watch = Watch(name="test", query_text=args.query, query=query, fingerprint="", description="")
    rows: list[dict[str, Any]] = []
    for site, mentions in iter_matches(lake, [watch], args.since):
        m = mentions[0]
        rows.append(
            {
                "day": site["date"],
                "outlet": site["outlet"] or site["source"],
                "title": site.get("title") or "",
                "terms": ", ".join(m.terms),
                "evidence": m.evidence,
            }
        )
    rows.sort(key=lambda r: (r["day"], r["outlet"] or "", r["title"]), reverse=True)
    import duckdb
    import pandas as pd

    columns = ["day", "outlet", "title", "terms", "evidence"]
    frame = pd.DataFrame(rows[: args.limit], columns=columns)
    _print_relation(duckdb.from_df(frame), args.format)
    if args.format == "table":
        days = len({r["day"] for r in rows})
        outlets = len({r["outlet"] for r in rows})
        shown = f" (first {args.limit} shown)" if len(rows) > args.limit else ""
        print(f"{len(rows)} articles on {days} days from {outlets} outlets match {query}{shown}")
    return 0


def _check_day(value: str, flag: str) -> None:
    from datetime import date

    try:
        date.fromisoformat(value)
    except ValueError:
        raise ConfigurationError(f"{flag} must be a day, YYYY-MM-DD, got {value!r}") from None


def cmd_watch_list(args: argparse.Namespace) -> int:
    """List the watches of the watch file with what the lake holds for each: mentions, stories, last day, alerts."""
    from flows.cli import _connect, _print_relation, _queried_lake
    from flows.watch import run_watches, watches_path

    settings = _watch_settings(args)
    watches = run_watches(settings)
    if not watches:
        print(f"no watches (watch file: {watches_path(settings) or 'none; set MEDIAWATCH_WATCHES_FILE'})")
        return 0
    con = _connect(_queried_lake(args))
    import pandas as pd

    listed = pd.DataFrame([{"watch": w.name, "fingerprint": w.fingerprint, "query": str(w.query)} for w in watches])
    con.register("watch_list", listed)
    rel = con.sql(
        "select l.watch, l.query, coalesce(m.articles, 0) as articles, coalesce(m.stories, 0) as stories, "
        "m.last_day, coalesce(a.alerts, 0) as alerts, coalesce(m.stale, 0) > 0 as needs_backfill "
        "from watch_list l "
        "left join (select watch, count(distinct article_id) as articles, count(distinct story_id) as stories, "
        "  max(date) as last_day, count(*) filter (where watch_fingerprint <> f.fingerprint) as stale "
        "  from mentions join watch_list f using (watch) group by watch) m using (watch) "
        "left join (select watch, count(*) as alerts from alerts group by watch) a using (watch) "
        "order by l.watch"
    )
    _print_relation(rel, args.format)
    return 0


def _run_flow(flow: Callable[..., Any], **kwargs: Any) -> int:
    from flows.local_server import quiet_prefect_defaults

    quiet_prefect_defaults()
    try:
        result = flow(**kwargs)
    except ConfigurationError:
        raise
    except Exception as exc:  # noqa: BLE001 - reported as a message and an exit code
        print(f"mediawatch: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    for key, value in result.items():
        print(f"{key:>16}  {value}")
    return 0


def cmd_watch_backfill(args: argparse.Namespace) -> int:
    """Match one watch over the whole lake and replace its mentions in one commit (a new or changed watch)."""
    from flows.cli import _queried_lake
    from flows.watch import run_watches, watch_backfill

    settings = _watch_settings(args)
    names = {w.name for w in run_watches(settings)}
    if args.name not in names:
        raise ConfigurationError(f"no watch named {args.name!r} (watches: {', '.join(sorted(names)) or 'none'})")
    _queried_lake(args)
    return _run_flow(watch_backfill, name=args.name, data_dir=settings.data_dir)


def cmd_watch_detect(args: argparse.Namespace) -> int:
    """Judge the last days of every watch (the daily detector): new alerts are written and notified."""
    from flows.cli import _queried_lake
    from flows.watch import run_watches, watch_detect

    settings = _watch_settings(args)
    run_watches(settings)
    _queried_lake(args)
    if args.days < 1:
        raise ConfigurationError(f"--days must be at least 1, got {args.days}")
    return _run_flow(watch_detect, data_dir=settings.data_dir, days=args.days, report=not args.no_report)


def add_watch_command(
    command: Callable[..., argparse.ArgumentParser],
    add_data_dir: Callable[[argparse.ArgumentParser], None],
    add_format: Callable[[argparse.ArgumentParser], None],
) -> None:
    """Add ``mediawatch watch test|list|backfill|detect`` through the main parser's helpers."""
    watch = command("watch", help="watchlists: try a query, list, backfill, detect spikes")
    actions = watch.add_subparsers(dest="watch_command", required=True, metavar="ACTION")

    test = actions.add_parser("test", help="show what a query would match", description=cmd_watch_test.__doc__)
    test.add_argument("query", help='for example: \'"rare earths" NEAR/10 export AND entity:"China"\'')
    test.add_argument("--since", help="only articles of partitions on or after this day, YYYY-MM-DD")
    test.add_argument("--limit", type=int, default=TEST_LIMIT, help=f"rows to print (default {TEST_LIMIT})")
    add_data_dir(test)
    add_format(test)
    test.set_defaults(func=cmd_watch_test)

    listing = actions.add_parser("list", help="list the watches and their counts", description=cmd_watch_list.__doc__)
    add_data_dir(listing)
    add_format(listing)
    listing.set_defaults(func=cmd_watch_list)

    backfill = actions.add_parser(
        "backfill", help="match one watch over the lake", description=cmd_watch_backfill.__doc__
    )
    backfill.add_argument("name", help="the watch's name in the watch file")
    add_data_dir(backfill)
    backfill.set_defaults(func=cmd_watch_backfill)

    detect = actions.add_parser(
        "detect", help="run the spike and first detectors", description=cmd_watch_detect.__doc__
    )
    detect.add_argument("--days", type=int, default=2, help="days back from today to judge (default 2)")
    detect.add_argument("--no-report", action="store_true", help="do not write the HTML report")
    add_data_dir(detect)
    detect.set_defaults(func=cmd_watch_detect)
