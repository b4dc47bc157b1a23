"""A self-contained HTML report of what the lake holds: charts as inline SVG, no scripts, no network.

Analysts open it from a shared drive or an e-mail attachment, often offline, so everything (styles, charts)
is inside the one file. All text from the web is HTML-escaped.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from storage.query import connect

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


def gather_report_data(data_dir: str, since: str) -> dict[str, list[dict[str, Any]]]:
    """Return the report's tables (lists of rows) for partitions on or after ``since`` (YYYY-MM-DD)."""
    con = connect(data_dir)
    since_date = datetime.strptime(since, "%Y-%m-%d").date()
    data: dict[str, list[dict[str, Any]]] = {}
    for name, sql in _QUERIES.items():
        rel = con.execute(sql, [since_date])
        columns = [c[0] for c in rel.description]
        data[name] = [dict(zip(columns, row, strict=True)) for row in rel.fetchall()]
    return data


def bar_chart_svg(rows: Sequence[Mapping[str, Any]], label: str, value: str, width: int = 640) -> str:
    """Return a horizontal bar chart of ``rows`` as an inline SVG string (empty note when no rows)."""
    if not rows:
        return '<p class="empty">No data in this period.</p>'
    bar_h, gap, label_w = 18, 6, 230
    top = max(float(r[value] or 0) for r in rows) or 1.0
    height = len(rows) * (bar_h + gap) + gap
    parts = [f'<svg role="img" width="{width}" height="{height}" viewBox="0 0 {width} {height}">']
    for i, row in enumerate(rows):
        y = gap + i * (bar_h + gap)
        n = float(row[value] or 0)
        w = max(1.0, (width - label_w - 60) * n / top)
        text = html.escape(str(row[label])[:38])
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 13}" text-anchor="end">{text}</text>'
            f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h}" rx="2"/>'
            f'<text x="{label_w + w + 4:.1f}" y="{y + 13}">{n:g}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


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
svg text{font-size:12px;fill:#1d2330}svg rect{fill:#3b6fd8}
table{border-collapse:collapse;font-size:.85rem;width:100%}td,th{border-bottom:1px solid #e4e7ee;padding:.3rem .5rem;
text-align:left}th{background:#f3f5f9}.empty{color:#7a8194}.meta{color:#5b6375}
"""


def render_report(data: Mapping[str, Sequence[Mapping[str, Any]]], since: str, generated_at: datetime) -> str:
    """Return the full HTML document of the report."""
    sections = [
        ("Articles per day", bar_chart_svg(data["articles_per_day"], "day", "n"), "chart-articles-per-day"),
        (
            "Articles per source",
            bar_chart_svg(data["articles_per_source"], "source", "n"),
            "chart-articles-per-source",
        ),
        ("Top entities", bar_chart_svg(data["top_entities"], "entity", "n"), "chart-top-entities"),
        ("Figures by kind", bar_chart_svg(data["figures_by_kind"], "kind", "n"), "chart-figures-by-kind"),
        ("Stories with copies", table_html(data["duplicates_per_cluster"]), "table-duplicates"),
        ("Largest money figures", table_html(data["money"]), "table-money"),
        ("Runs", table_html(data["runs"]), "table-runs"),
    ]
    body = "".join(
        f'<section id="{sid}"><h2>{html.escape(title)}</h2>{content}</section>' for title, content, sid in sections
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>mediawatch report since {html.escape(since)}</title><style>{_CSS}</style></head><body>"
        f'<h1>mediawatch report</h1><p class="meta">Partitions from {html.escape(since)}; generated '
        f"{generated_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC.</p>{body}</body></html>"
    )


def build_report(data_dir: str, since: str, now: datetime | None = None) -> str:
    """Return the report HTML for the lake at ``data_dir`` since ``since``."""
    return render_report(gather_report_data(data_dir, since), since, now or datetime.now(UTC))


build_report_task = task(name="report", cache_policy=NO_CACHE)(build_report)
