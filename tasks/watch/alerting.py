"""From a lake's mentions to alert rows: the daily series a detector reads, and what is new, changed or known.

The series are read with SQL over the views of :mod:`storage.query` (``watch_daily``, ``lake_daily``,
``watch_entities``), so a syndicated story counts once and story merges are followed. Detection itself is pure
(:mod:`tasks.watch.trends`); this module turns its verdicts into ``alerts`` rows:

* **spike**: one per watch per day, key ``spike|watch|day``. A later run that moves the day's count writes a new
  row under the same key (the ``alerts`` view keeps the latest) and is not notified again.
* **first**: one per watch per entity, ever, key ``first|watch|entity_id``: the day an entity first appears
  prominently in the articles a watch matched, after the watch's warm-up.

The detector always reads a watch's whole series (days x watches is small), so its verdict on a day is the same
whether the lake was filled in one run or day by day; only the days a caller asks about are turned into rows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from tasks.watch.trends import DayCount, DayScore, evaluate_spikes, fill_days, find_firsts
from tasks.watch.watches import Watch

if TYPE_CHECKING:  # DuckDB is imported by storage.query.connect, which makes every connection passed here
    import duckdb

KIND_SPIKE = "spike"
KIND_FIRST = "first"
# Stories named in an alert row: enough to see what the spike is about without a query.
TOP_STORIES = 5
# An entity crosses into a watch when it is prominent in two of the watch's articles within a week: on a stream of
# 60 days of real news, one article was enough to raise about 70 firsts per broad watch (every new name an article
# brings up); two in a week keep the names the watch's coverage keeps returning to.
FIRST_MIN_ARTICLES = 2
FIRST_WITHIN_DAYS = 7


@dataclass(frozen=True, slots=True)
class DetectOptions:
    """How the detectors judge a day (from the settings)."""

    baseline_days: int = 28
    warmup_days: int = 14


def score_days(series: Sequence[DayCount], watch: Watch, options: DetectOptions) -> list[DayScore]:
    """Return the detector's verdict on every day of a watch's series (what alerts and report charts show)."""
    return evaluate_spikes(
        series,
        baseline_days=options.baseline_days,
        warmup_days=options.warmup_days,
        min_stories=watch.min_stories,
    )


def alert_key(kind: str, watch: str, subject: str) -> str:
    """Return the stable key of an alert: a spike's subject is its day, a first's the entity id."""
    return hashlib.sha256(f"{kind}|{watch}|{subject}".encode()).hexdigest()[:24]


def lake_volume(con: duckdb.DuckDBPyConnection) -> dict[date, int]:
    """Return the lake's distinct stories per day (the volume a watch's baseline is scaled by)."""
    rows = con.sql("select day, stories from lake_daily where day is not null").fetchall()
    return {day: int(n) for day, n in rows}


def all_series(
    con: duckdb.DuckDBPyConnection, watches: Sequence[str], volume: Mapping[date, int]
) -> dict[str, list[DayCount]]:
    """Return each watch's daily series over every day of the lake, read in one query."""
    sql = "select watch, day, stories, articles from watch_daily where watch in (select unnest(?))"
    counts: dict[str, dict[date, tuple[int, int]]] = {w: {} for w in watches}
    for watch, day, stories, articles in con.execute(sql, [list(watches)]).fetchall():
        if day is not None:
            counts[watch][day] = (int(stories), int(articles))
    return {w: fill_days(counts[w], volume) for w in watches}


EntityRows = list[tuple[date, str, str, str, int, bool]]


def entity_rows(con: duckdb.DuckDBPyConnection, watches: Sequence[str]) -> dict[str, EntityRows]:
    """Return, per watch, ``(day, entity_id, name, label, mention_count, in_title)`` for each entity of each of the
    watch's articles, read in one query."""
    sql = """
        with matched as (select distinct watch, article_id, date from mentions where watch in (select unnest(?))),
        titles as (
            select article_id, any_value(title) as title from articles_files
            where article_id in (select article_id from matched) group by article_id
        )
        select m.watch, m.date, e.entity_id, l.name, l.label, max(e.mention_count) as mentions,
               bool_or(t.title is not null and position(lower(e.text) in lower(t.title)) > 0) as in_title
        from matched m
        join entities_files e on e.article_id = m.article_id
        join entity_labels l on l.entity_id = e.entity_id
        left join titles t on t.article_id = m.article_id
        group by m.watch, m.date, m.article_id, e.entity_id, l.name, l.label
        order by m.watch, m.date, e.entity_id
    """
    found: dict[str, EntityRows] = {w: [] for w in watches}
    for watch, day, eid, name, label, n, in_title in con.execute(sql, [list(watches)]).fetchall():
        found[watch].append((day, str(eid), str(name), str(label), int(n or 1), bool(in_title)))
    return found


def top_stories(con: duckdb.DuckDBPyConnection, watch: str, day: date) -> list[tuple[str, str]]:
    """Return ``(story_id, title)`` of the watch's biggest stories of ``day`` (most outlets first)."""
    sql = """
        select w.story_id, any_value(a.title) as title, count(distinct w.outlet) as outlets
        from watch_members w left join articles a on a.article_id = w.story_id
        where w.watch = ? and w.day = ?
        group by w.story_id order by outlets desc, w.story_id limit ?
    """
    rows = con.execute(sql, [watch, day, TOP_STORIES]).fetchall()
    return [(str(story), str(title or "")) for story, title, _ in rows]


def coverage_start(volume: Mapping[date, int]) -> date | None:
    """Return the lake's first day with any article."""
    days = [d for d, n in volume.items() if n > 0]
    return min(days) if days else None


def spike_rows(
    con: duckdb.DuckDBPyConnection,
    watch: Watch,
    scores: Sequence[DayScore],
    days: Collection[date] | None,
    now: datetime,
    run_id: str,
) -> list[dict[str, Any]]:
    """Return the alert rows of the flagged days among ``days`` (all flagged days when None)."""
    rows: list[dict[str, Any]] = []
    for s in scores:
        if not s.flagged or (days is not None and s.day not in days):
            continue
        stories = top_stories(con, watch.name, s.day)
        rows.append(
            _row(
                KIND_SPIKE,
                watch,
                s.day,
                now,
                run_id,
                observed=s.observed,
                expected=s.expected,
                score=s.score,
                top_stories=[sid for sid, _ in stories],
                top_titles=[title for _, title in stories],
                detail=f"{s.observed} stories against {s.expected:.1f} expected (score {s.score:.1f})",
            )
        )
    return rows


def first_rows(
    entities: EntityRows,
    watch: Watch,
    start: date | None,
    options: DetectOptions,
    days: Collection[date] | None,
    now: datetime,
    run_id: str,
) -> list[dict[str, Any]]:
    """Return the alert rows of entities that crossed into the watch on one of ``days`` (all when None)."""
    if start is None:
        return []
    rows: list[dict[str, Any]] = []
    found = find_firsts(
        entities,
        coverage_start=start,
        warmup_days=options.warmup_days,
        min_articles=FIRST_MIN_ARTICLES,
        within_days=FIRST_WITHIN_DAYS,
    )
    for first in found:
        if days is not None and first.day not in days:
            continue
        rows.append(
            _row(
                KIND_FIRST,
                watch,
                first.day,
                now,
                run_id,
                observed=first.articles,
                entity=(first.entity_id, first.name, first.label),
                detail=f"{first.name} ({first.label}) appears in this watch for the first time",
            )
        )
    return rows


def _row(
    kind: str,
    watch: Watch,
    day: date,
    now: datetime,
    run_id: str,
    *,
    observed: int,
    expected: float | None = None,
    score: float | None = None,
    entity: tuple[str, str, str] | None = None,
    top_stories: Sequence[str] = (),
    top_titles: Sequence[str] = (),
    detail: str = "",
) -> dict[str, Any]:
    entity_id, name, label = entity if entity is not None else (None, None, None)
    subject = entity_id if kind == KIND_FIRST and entity_id else day.isoformat()
    return {
        "alert_key": alert_key(kind, watch.name, subject),
        "kind": kind,
        "watch": watch.name,
        "watch_fingerprint": watch.fingerprint,
        "day": day,
        "observed": int(observed),
        "expected": None if expected is None else round(float(expected), 4),
        "score": None if score is None else round(float(score), 4),
        "entity_id": entity_id,
        "entity_name": name,
        "entity_label": label,
        "top_stories": list(top_stories),
        "top_titles": list(top_titles),
        "detail": detail,
        "detected_at": now,
        "run_id": run_id,
    }


def detect(
    con: duckdb.DuckDBPyConnection,
    watches: Sequence[Watch],
    options: DetectOptions,
    days: Collection[date] | None,
    now: datetime,
    run_id: str,
) -> list[dict[str, Any]]:
    """Return the spike and first alert rows of ``watches`` on ``days`` (every day when None)."""
    volume = lake_volume(con)
    start = coverage_start(volume)
    names = [w.name for w in watches]
    series, entities = all_series(con, names, volume), entity_rows(con, names)
    rows: list[dict[str, Any]] = []
    for watch in watches:
        scores = score_days(series[watch.name], watch, options)
        rows.extend(spike_rows(con, watch, scores, days, now, run_id))
        rows.extend(first_rows(entities[watch.name], watch, start, options, days, now, run_id))
    return rows


def known_alerts(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, float | None]]:
    """Return the latest ``(observed, score)`` of every alert already in the lake, by key."""
    rows = con.sql("select alert_key, observed, score from alerts").fetchall()
    return {str(k): (int(o), None if s is None else float(s)) for k, o, s in rows}


def split_new(
    rows: Sequence[Mapping[str, Any]], known: Mapping[str, tuple[int, float | None]]
) -> tuple[list[Mapping[str, Any]], list[Mapping[str, Any]]]:
    """Return ``(new, changed)``: alerts never seen (to write and notify) and known alerts whose count or score
    moved (to write, not to notify again). Alerts unchanged are neither: a rerun writes nothing."""
    new: list[Mapping[str, Any]] = []
    changed: list[Mapping[str, Any]] = []
    for row in rows:
        before = known.get(str(row["alert_key"]))
        if before is None:
            new.append(row)
        elif before != (row["observed"], row["score"]):
            changed.append(row)
    return new, changed
