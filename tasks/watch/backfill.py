"""A watch matched over the whole lake (``mediawatch watch backfill``), partition by partition.

The inputs are rebuilt from the lake's rows (:func:`tasks.watch.match.inputs_from_tables`) and matched by the code
that matches at ingest, so the rows a backfill writes are the rows incremental matching wrote for the same
articles (``run_id`` apart). Memory stays bounded: one day's articles, entities and figures at a time.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from storage.lake import Lake
from storage.schemas import PARTITION_COLUMN
from tasks.records import WatchMention
from tasks.rows import MENTION_SITE_COLUMNS
from tasks.watch.match import inputs_from_tables
from tasks.watch.matching import match_input
from tasks.watch.watches import Watch


def _by_article(table: pa.Table) -> pa.Table:
    return table.sort_by([("article_id", "ascending"), ("start_char", "ascending")]) if table.num_rows else table


def partition_days(lake: Lake, since: str | None = None) -> list[str]:
    """Return the partition days of ``articles`` (on or after ``since``, YYYY-MM-DD, when given), oldest first."""
    if not lake.exists("articles"):
        return []
    days = lake.read("articles", [PARTITION_COLUMN]).column(PARTITION_COLUMN)
    return sorted(d for d in pc.unique(days).to_pylist() if d and (since is None or d >= since))


def day_tables(lake: Lake, day: str) -> tuple[pa.Table, pa.Table, pa.Table]:
    """Return one day's ``articles``, ``entities`` and ``figures`` rows."""
    on_day = pc.field(PARTITION_COLUMN) == day
    articles = lake.read("articles", filter=on_day)
    return articles, _by_article(lake.read("entities", filter=on_day)), _by_article(lake.read("figures", filter=on_day))


def iter_matches(
    lake: Lake, watches: Sequence[Watch], since: str | None = None
) -> Iterator[tuple[Mapping[str, Any], tuple[WatchMention, ...]]]:
    """Yield ``(article row, mentions)`` for every article of the lake (in partitions on or after ``since``) that
    a watch of ``watches`` matches; the row holds the columns a mention repeats and the title."""
    for day in partition_days(lake, since):
        articles, entities, figures = day_tables(lake, day)
        sites = {r["article_id"]: r for r in articles.select([*MENTION_SITE_COLUMNS, "title"]).to_pylist()}
        seen: set[str] = set()
        for doc in inputs_from_tables(articles, entities, figures):
            if doc.article_id in seen:
                continue  # an article listed twice is matched once
            seen.add(doc.article_id)
            mentions = match_input(doc, watches)
            if mentions:
                yield sites[doc.article_id], mentions


def backfill_mentions(lake: Lake, watch: Watch) -> list[tuple[Mapping[str, Any], tuple[WatchMention, ...]]]:
    """Return the mentions ``watch`` has over the whole lake, with the article rows they repeat."""
    return list(iter_matches(lake, [watch]))
