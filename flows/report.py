"""Step 7: what a run did, as Prefect artifacts a team reads in the UI.

Artifacts: a markdown summary (with the outcome and what went wrong with which source), a table of counts by
stage and quarantine reason, the ``source_health`` table (one row per source), charts (articles per source,
figures by kind), the top entities and notable figures of the run. Everything that came from the web is
escaped before it is put into markdown, so a hostile headline cannot inject links or HTML into the UI.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow.compute as pc
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from storage.lake import Lake
from storage.schemas import columns
from tasks.health import STATUS_DRIFT, STATUS_FAILING, Outcome

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~])")


def escape_md(value: object, limit: int = 120) -> str:
    """Return ``value`` as inert markdown text: special characters escaped, newlines flattened, cut at ``limit``."""
    text = " ".join(str(value).split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return _MD_SPECIAL.sub(r"\\\1", text)


def summary_markdown(
    summary: Mapping[str, Any],
    name: str = "",
    outcome: Outcome | None = None,
    health: Sequence[Mapping[str, Any]] = (),
) -> str:
    """Return the run summary as markdown: the outcome, the counts and the sources that failed or drifted."""
    counts = json.loads(summary.get("counts") or "{}")
    lines = [
        f"# Ingest run {escape_md(name or summary['run_id'])}",
        "",
        f"**Run id:** {escape_md(summary['run_id'])}  ",
        f"**State:** {escape_md(summary['state'])}  ",
        *([f"**Outcome:** {escape_md(outcome.kind)}: {escape_md(outcome.message, 400)}  "] if outcome else []),
        f"**Model:** {escape_md(summary.get('model_name'))} {escape_md(summary.get('model_version'))}  ",
        "",
        "| items in | articles | duplicates | quarantined | entities | figures |",
        "|---:|---:|---:|---:|---:|---:|",
        f"| {summary['items_in']} | {summary['articles']} | {summary['duplicates']} | {summary['quarantined']} "
        f"| {summary['entities']} | {summary['figures']} |",
        "",
        "items in = articles + duplicates + quarantined: "
        + (
            "**holds**"
            if summary["items_in"] == summary["articles"] + summary["duplicates"] + summary["quarantined"]
            else "**does not hold**"
        ),
    ]
    reasons = counts.get("quarantine_reasons") or {}
    if reasons:
        lines += ["", "## Quarantined by reason", "", "| stage:reason | items |", "|---|---:|"]
        lines += [f"| {escape_md(k)} | {v} |" for k, v in reasons.items()]
    flagged = [row for row in health if row["status"] in (STATUS_FAILING, STATUS_DRIFT)]
    if health:
        lines += ["", "## Source health", ""]
        if not flagged:
            lines.append(f"All {len(health)} sources healthy (no failure, no drift from their recent runs).")
        for row in flagged:
            what = "; ".join(row.get("findings") or []) or ", ".join(
                f"{reason} {n}" for reason, n in json.loads(row.get("failed_by_reason") or "{}").items()
            )
            lines.append(f"- **{escape_md(row['status'])}** {escape_md(row['source'], 200)}: {escape_md(what, 300)}")
    return "\n".join(lines)


# The columns of the artifact table, in schema order: the name is shown in the ``source`` cell (it falls back to the
# key), and the kind, run id, start, 4xx/5xx split and schema version are left to the dataset itself.
HEALTH_COLUMNS = tuple(
    name
    for name in columns("source_health")
    if name not in {"run_id", "kind", "name", "started_at", "http_4xx", "http_5xx", "schema_version"}
)


def health_table(health: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Return the ``source_health`` rows as artifact table rows (web-derived text escaped, findings joined)."""
    table = []
    for row in health:
        cells = {name: row.get(name) for name in HEALTH_COLUMNS}
        cells["source"] = escape_md(row.get("name") or row["source"], 80)
        cells["findings"] = escape_md("; ".join(row.get("findings") or []), 300)
        table.append(cells)
    return table


def counts_rows(summary: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Return the counts by stage and by quarantine reason as table rows."""
    counts = json.loads(summary.get("counts") or "{}")
    rows: list[dict[str, Any]] = [
        {"group": "total", "name": name, "count": summary[name]}
        for name in ("items_in", "articles", "duplicates", "quarantined", "entities", "figures")
    ]
    rows += [{"group": "stage", "name": k, "count": v} for k, v in (counts.get("stages") or {}).items()]
    rows += [
        {"group": "quarantine", "name": k, "count": v} for k, v in (counts.get("quarantine_reasons") or {}).items()
    ]
    rows += [{"group": "duplicate", "name": k, "count": v} for k, v in (counts.get("duplicate_methods") or {}).items()]
    return rows


def top_entities(lake: Lake, run_id: str, limit: int = 15) -> list[dict[str, Any]]:
    """Return the run's most mentioned entities (canonical, label, mentions, articles)."""
    if not lake.exists("entities"):
        return []
    table = lake.read("entities", ["article_id", "canonical", "label"], pc.field("run_id") == run_id, run_id=run_id)
    if table.num_rows == 0:
        return []
    grouped = table.group_by(["canonical", "label"]).aggregate(
        [("article_id", "count"), ("article_id", "count_distinct")]
    )
    rows = grouped.sort_by([("article_id_count", "descending")]).slice(0, limit).to_pylist()
    return [
        {
            "entity": escape_md(r["canonical"], 60),
            "label": r["label"],
            "mentions": r["article_id_count"],
            "articles": r["article_id_count_distinct"],
        }
        for r in rows
    ]


def notable_figures(lake: Lake, run_id: str, limit: int = 15) -> list[dict[str, Any]]:
    """Return the run's largest money figures and its percentages, with what they measure."""
    if not lake.exists("figures"):
        return []
    table = lake.read(
        "figures",
        ["text", "kind", "value", "unit", "approximate", "object"],
        (pc.field("run_id") == run_id) & pc.field("kind").isin(["money", "percent"]),
        run_id=run_id,
    )
    rows = table.sort_by([("kind", "ascending"), ("value", "descending")]).to_pylist()[:limit]
    return [
        {
            "figure": escape_md(r["text"], 40),
            "kind": r["kind"],
            "value": r["value"],
            "unit": r["unit"],
            "approximate": r["approximate"],
            "object": escape_md(r["object"] or "", 60),
        }
        for r in rows
    ]


def bar_chart_markdown(rows: list[tuple[str, int]], width: int = 30) -> str:
    """Return a bar chart as a markdown table of block characters (renders in any markdown viewer)."""
    if not rows:
        return "_nothing to chart_"
    top = max(n for _, n in rows) or 1
    lines = ["| | | |", "|---|---|---:|"]
    lines += [f"| {escape_md(label, 40)} | {'█' * max(1, round(width * n / top))} | {n} |" for label, n in rows]
    return "\n".join(lines)


def run_charts(lake: Lake, run_id: str) -> str:
    """Return the run's charts as markdown: articles per source and figures by kind."""
    parts = ["# What this run brought in", "", "## Articles per source", ""]
    per_source: list[tuple[str, int]] = []
    if lake.exists("articles"):
        table = lake.read("articles", ["source"], pc.field("run_id") == run_id, run_id=run_id)
        counts = table.group_by("source").aggregate([("source", "count")]).to_pylist()
        per_source = sorted(((r["source"], r["source_count"]) for r in counts), key=lambda x: (-x[1], x[0]))[:20]
    parts += [bar_chart_markdown(per_source), "", "## Figures by kind", ""]
    by_kind: list[tuple[str, int]] = []
    if lake.exists("figures"):
        table = lake.read("figures", ["kind"], pc.field("run_id") == run_id, run_id=run_id)
        counts = table.group_by("kind").aggregate([("kind", "count")]).to_pylist()
        by_kind = sorted(((r["kind"], r["kind_count"]) for r in counts), key=lambda x: (-x[1], x[0]))
    parts.append(bar_chart_markdown(by_kind))
    return "\n".join(parts)


def publish_run_artifacts(
    summary: Mapping[str, Any],
    lake: Lake,
    run_id: str,
    name: str = "",
    health: Sequence[Mapping[str, Any]] = (),
    outcome: Outcome | None = None,
) -> None:
    """Create the run's artifacts in Prefect (needs a flow run context)."""
    create_markdown_artifact(
        key="ingest-summary", markdown=summary_markdown(summary, name, outcome, health), description="Run summary"
    )
    create_table_artifact(key="ingest-counts", table=counts_rows(summary), description="Counts by stage and reason")
    if health:
        create_table_artifact(
            key="source-health", table=health_table(health), description="source_health: one row per source"
        )
    create_markdown_artifact(key="ingest-charts", markdown=run_charts(lake, run_id), description="Articles and figures")
    entities = top_entities(lake, run_id)
    if entities:
        create_table_artifact(key="top-entities", table=entities, description="Most mentioned entities")
    figures = notable_figures(lake, run_id)
    if figures:
        create_table_artifact(key="notable-figures", table=figures, description="Money and percentages")
