"""What the HTML report shows of each watch: its timeline with baseline and spikes, top outlets, co-occurring
entities and alerts, read from the lake's views (see :mod:`tasks.report` for the drawing).

The timeline's baseline is the detector's own ``expected`` (:mod:`tasks.watch.trends`), so a bar the chart marks
is a day the detector flagged; a long range is summed by week or month (``bucket_series``) instead of growing the
page.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from tasks.watch.alerting import DetectOptions, all_series, lake_volume, score_days
from tasks.watch.trends import DayCount, bucket_series
from tasks.watch.watches import Watch

if TYPE_CHECKING:  # DuckDB is imported by storage.query.connect, which makes every connection passed here
    import duckdb

TOP = 10


def _top(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    return [{"label": str(label), "n": int(n)} for label, n in con.execute(sql, params).fetchall()]


def watch_section(
    con: duckdb.DuckDBPyConnection, watch: Watch, series: Sequence[DayCount], options: DetectOptions, since: date
) -> dict[str, Any]:
    """Return one watch's report section (the contract of :func:`tasks.report.render_watch_section`) from its
    daily ``series``."""
    scores = score_days(series, watch, options)
    unit, buckets = bucket_series([s for s in scores if s.day >= since])
    outlets = _top(
        con,
        "select outlet, count(distinct story_id) as n from watch_members where watch = ? and day >= ? "
        "group by outlet order by n desc, outlet limit ?",
        [watch.name, since, TOP],
    )
    entities = _top(
        con,
        "select l.name || ' (' || l.label || ')', count(distinct m.story_id) as n from mentions m "
        "join entities_files e on e.article_id = m.article_id join entity_labels l on l.entity_id = e.entity_id "
        "where m.watch = ? and m.date >= ? group by e.entity_id, l.name, l.label order by n desc, 1 limit ?",
        [watch.name, since, TOP],
    )
    alerts = con.execute(
        "select kind, day, observed, expected, score, detail from alerts where watch = ? and day >= ? "
        "order by day desc, kind limit 50",
        [watch.name, since],
    ).fetchall()
    return {
        "name": watch.name,
        "query": str(watch.query),
        "unit": unit,
        "points": [(b.start, b.stories, b.expected, b.flagged) for b in buckets],
        "top_outlets": outlets,
        "top_entities": entities,
        "alerts": [
            {"kind": k, "day": d, "observed": o, "expected": e, "score": s, "detail": t} for k, d, o, e, s, t in alerts
        ],
    }


def watch_sections(
    con: duckdb.DuckDBPyConnection, watches: Sequence[Watch], options: DetectOptions, since: date
) -> list[dict[str, Any]]:
    """Return the report sections of ``watches``, in file order (their series read in one query)."""
    series = all_series(con, [w.name for w in watches], lake_volume(con))
    return [watch_section(con, w, series[w.name], options, since) for w in watches]
