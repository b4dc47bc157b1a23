"""A self-contained HTML report of what the lake holds: charts as inline SVG, no scripts, no network.

Analysts open it from a shared drive or an e-mail attachment, often offline, so everything (styles, charts)
is inside the one file. All text from the web is HTML-escaped. The charts are drawn by matplotlib
(:mod:`tasks.watch.charts`); each watch gets a section of its own (:func:`render_watch_section`).
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from storage.lake import Lake
from storage.query import connect
from tasks.watch.alerting import DetectOptions
from tasks.watch.charts import TimelinePoint, bars_svg, timeline_svg
from tasks.watch.sections import watch_sections
from tasks.watch.watches import Watch

_QUERIES = {
    "articles_per_day": (
        "select cast(date as varchar) as day, count(*) as n from articles where date >= ? group by all order by day"
    ),
    "articles_per_source": (
        "select source, count(*) as n from articles where date >= ? group by all order by n desc, source limit 20"
    ),
    "top_entities": (
        # One row per entity whatever its spelling ("US", "U.S.", "United States"): grouped by entity_id, named
        # and labelled by the lake-wide majority (the entity_labels view).
        "select l.name || ' (' || l.label || ')' as entity, count(*) as n, "
        "count(distinct e.article_id) as articles from entities e join entity_labels l using (entity_id) "
        "where e.date >= ? group by l.name, l.label, e.entity_id order by n desc, entity limit 20"
    ),
    "figures_by_kind": "select kind, count(*) as n from figures where date >= ? group by all order by n desc",
    "duplicates_per_cluster": (
        "select coalesce(title, story_id) as story, articles, copies, outlets from stories "
        "where copies > 0 and last_date >= ? order by articles desc, outlets desc, story limit 20"
    ),
    "money": (
        "select text, value, unit, object, approximate from figures where kind = 'money' and date >= ? "
        "order by value desc nulls last limit 20"
    ),
    "runs": (
        "select started_at, state, items_in, articles, duplicates, quarantined from runs where date >= ? "
        "order by started_at desc limit 20"
    ),
}


def gather_report_data(
    data_dir: Lake | str, since: str, watches: Sequence[Watch] = (), options: DetectOptions | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Return the report's tables (lists of rows) for partitions on or after ``since`` (YYYY-MM-DD), and one
    section per watch of ``watches`` (timeline with the detector's baseline, top outlets and entities, alerts)."""
    con = connect(data_dir)
    since_date = datetime.strptime(since, "%Y-%m-%d").date()
    data: dict[str, list[dict[str, Any]]] = {}
    for name, sql in _QUERIES.items():
        rel = con.execute(sql, [since_date])
        columns = [c[0] for c in rel.description]
        data[name] = [dict(zip(columns, row, strict=True)) for row in rel.fetchall()]
    data["watches"] = watch_sections(con, watches, options or DetectOptions(), since_date)
    return data


EMPTY_NOTE = '<p class="empty">No data in this period.</p>'
WATCH_EMPTY_NOTE = '<p class="empty">Nothing matched in this period.</p>'
ALERT_COLUMNS = ("kind", "day", "observed", "expected", "score", "detail")


def bar_chart_svg(
    rows: Sequence[Mapping[str, Any]],
    label: str,
    value: str,
    *,
    title: str = "",
    limit: int = 20,
    width: float = 7.0,
) -> str:
    """Return horizontal bars of ``rows`` as inline SVG, or the empty note when there are no rows.

    The report's queries already order and cap their rows (20 at most), so every row they return is drawn.
    """
    if not rows:
        return EMPTY_NOTE
    return bars_svg(rows, title=title, label=label, value=value, limit=limit, width=width)


def articles_timeline_svg(rows: Sequence[Mapping[str, Any]], *, title: str) -> str:
    """Return the articles per day (rows of ``day`` as YYYY-MM-DD and ``n``) as a timeline, or the empty note."""
    if not rows:
        return EMPTY_NOTE
    points = [(_as_date(row["day"]), int(row["n"] or 0), None, False) for row in rows]
    return timeline_svg(points, title=title, unit="day", noun=("article", "articles"))


def render_watch_section(section: Mapping[str, Any]) -> str:
    """Return one watch's section: heading, query, timeline, top outlets and entities side by side, alerts.

    ``section`` holds ``name``, ``query``, ``unit`` (day, week or month), ``points`` as (period start, stories,
    expected or None, flagged), ``top_outlets`` and ``top_entities`` as rows of ``label`` and ``n``, and
    ``alerts`` as rows of :data:`ALERT_COLUMNS`. All text is escaped; parts with no rows get a short note.
    """
    name = str(section.get("name", ""))
    unit = str(section.get("unit") or "day")
    points = [_as_point(p) for p in section.get("points") or []]
    if any(stories for _, stories, _, _ in points):
        timeline = timeline_svg(points, title=f"Stories per {unit} matching {name}", unit=unit)
    else:
        timeline = WATCH_EMPTY_NOTE
    pair = "".join(
        f'<div class="chart">{_watch_bars(section.get(key) or [], f"{heading}: {name}")}</div>'
        for key, heading in (("top_outlets", "Top outlets"), ("top_entities", "Co-occurring entities"))
    )
    alerts = [_alert_row(a) for a in section.get("alerts") or []]
    alerts_html = table_html(alerts) if alerts else '<p class="empty">No alerts in this period.</p>'
    return (
        f'<section class="watch" id="{html.escape(_watch_anchor(name))}">'
        f"<h2>Watch: {html.escape(name)}</h2>"
        f'<p class="query"><code>{html.escape(str(section.get("query", "")))}</code></p>'
        f'{timeline}<div class="pair">{pair}</div><h3>Alerts</h3>{alerts_html}</section>'
    )


def _watch_bars(rows: Sequence[Mapping[str, Any]], title: str) -> str:
    if not rows:
        return WATCH_EMPTY_NOTE
    return bars_svg(rows, title=title, label="label", value="n", limit=10, width=4.6)


def _alert_row(alert: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``alert`` in the table's column order, expected and score rounded for reading."""
    row = {column: alert.get(column) for column in ALERT_COLUMNS}
    for column, digits in (("expected", 1), ("score", 2)):
        if isinstance(row[column], float):
            row[column] = f"{row[column]:,.{digits}f}"
    return row


def _watch_anchor(name: str) -> str:
    """Return the section id for a watch: ``watch-`` and the name in lower case with dashes."""
    return "watch-" + (re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "unnamed")


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _as_point(point: Sequence[Any]) -> TimelinePoint:
    """Return a timeline point from a tuple or a list (as read back from JSON), the day as a date."""
    start, stories, expected, flagged = point
    return _as_date(start), int(stories or 0), None if expected is None else float(expected), bool(flagged)


def table_html(rows: Sequence[Mapping[str, Any]]) -> str:
    """Return ``rows`` as an escaped HTML table."""
    if not rows:
        return '<p class="empty">No data in this period.</p>'
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in rows[0])
    body = "".join("<tr>" + "".join(f"<td>{html.escape(_fmt(v))}</td>" for v in row.values()) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.6g}" if abs(value) < 1e6 else f"{value:,.0f}"
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return str(value)


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:980px;color:#1d2330}
h1{font-size:1.6rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #d8dde6;padding-bottom:.3rem}
h3{font-size:1rem;margin-top:1.2rem}svg{max-width:100%;height:auto}
.pair{display:grid;grid-template-columns:1fr 1fr;gap:1rem}@media (max-width:760px){.pair{grid-template-columns:1fr}}
code{background:#f3f5f9;padding:.15rem .35rem;border-radius:3px;font-size:.9rem;white-space:pre-wrap}
table{border-collapse:collapse;font-size:.85rem;width:100%}td,th{border-bottom:1px solid #e4e7ee;padding:.3rem .5rem;
text-align:left}th{background:#f3f5f9}.empty{color:#7a8194}.meta{color:#5b6375}
"""


def render_report(data: Mapping[str, Sequence[Mapping[str, Any]]], since: str, generated_at: datetime) -> str:
    """Return the full HTML document of the report."""
    period = f"since {since}"
    sections = [
        (
            "Articles per day",
            articles_timeline_svg(data["articles_per_day"], title=f"Articles per day {period}"),
            "chart-articles-per-day",
        ),
        (
            "Articles per source",
            bar_chart_svg(data["articles_per_source"], "source", "n", title=f"Articles per source {period}"),
            "chart-articles-per-source",
        ),
        (
            "Top entities",
            bar_chart_svg(data["top_entities"], "entity", "n", title=f"Top entities by mentions {period}"),
            "chart-top-entities",
        ),
        (
            "Figures by kind",
            bar_chart_svg(data["figures_by_kind"], "kind", "n", title=f"Figures by kind {period}"),
            "chart-figures-by-kind",
        ),
        ("Stories with copies", table_html(data["duplicates_per_cluster"]), "table-duplicates"),
        ("Largest money figures", table_html(data["money"]), "table-money"),
        ("Runs", table_html(data["runs"]), "table-runs"),
    ]
    body = "".join(
        f'<section id="{sid}"><h2>{html.escape(title)}</h2>{content}</section>' for title, content, sid in sections
    )
    body += "".join(render_watch_section(section) for section in data.get("watches", []))
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>mediawatch report since {html.escape(since)}</title><style>{_CSS}</style></head><body>"
        f'<h1>mediawatch report</h1><p class="meta">Partitions from {html.escape(since)}; generated '
        f"{generated_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC.</p>{body}</body></html>"
    )


def build_report(
    data_dir: Lake | str,
    since: str,
    now: datetime | None = None,
    watches: Sequence[Watch] = (),
    options: DetectOptions | None = None,
) -> str:
    """Return the report HTML for the lake at ``data_dir`` since ``since``, with a section per watch."""
    data = gather_report_data(data_dir, since, watches, options)
    return render_report(data, since, now or datetime.now(UTC))


build_report_task = task(name="report", cache_policy=NO_CACHE)(build_report)
