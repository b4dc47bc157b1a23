"""Replay: clean and extract again from the kept raw pages, without the network, and replace derived rows.

When the extractor or the model improves, history can be upgraded: each article keeps its ``article_id`` and
``cluster_id`` (so duplicates and joins stay valid), its ``articles``, ``entities`` and ``figures`` rows are
replaced in one commit per batch (with their watch ``mentions``), and the raw pages stay as they are.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import pyarrow.compute as pc
from prefect import task
from prefect.cache_policies import NO_CACHE

from storage.lake import REPLAY_PREFIX, Lake
from tasks.records import (
    STAGE_EXTRACT,
    Analysis,
    Article,
    DedupDecision,
    Entity,
    Figure,
    RawItem,
    Rejection,
    SourceHints,
)
from tasks.rows import articles_table, entities_table, figures_table, mention_site, mentions_table, quarantine_table
from tasks.watch.matching import match_article_safely
from tasks.watch.watches import Watch
from tasks.write import REASON_EXTRACT_ERROR


def iter_raw_items(lake: Lake, since: datetime | None, batch_size: int) -> Iterator[list[tuple[str, RawItem]]]:
    """Yield batches of ``(article_id, RawItem)`` from the ``raw`` dataset, fetched at or after ``since``.

    An article kept twice (a rerun after a crash between commits) is replayed once.
    """
    if not lake.exists("raw"):
        return
    where = pc.field("fetched_at") >= since if since is not None else None
    seen: set[str] = set()
    for record_batch in lake.dataset("raw").to_batches(filter=where, batch_size=batch_size):
        batch = []
        for row in record_batch.to_pylist():
            if row["article_id"] not in seen:
                seen.add(row["article_id"])
                batch.append((row["article_id"], raw_item(row)))
        if batch:
            yield batch


def raw_item(row: Mapping[str, Any]) -> RawItem:
    """Return the :class:`RawItem` a ``raw`` row keeps."""
    headers = tuple((str(k), str(v)) for k, v in json.loads(row["http_headers"] or "[]"))
    hints = SourceHints(**json.loads(row["hints"] or "{}"))
    return RawItem(
        item_key=row["item_key"],
        source_uri=row["source_uri"],
        payload=row["payload"],
        kind="html" if row["kind"] == "html" else "text",
        fetched_at=row["fetched_at"],
        url=row["url"],
        external_id=row["external_id"],
        title=row["title"],
        published_at=row["published_at"],
        published_at_source=row["published_at_source"],
        authors=tuple(row["authors"] or ()),
        source=row["source"],
        language=row["language"],
        http_headers=headers,
        hints=hints,
    )


def keep_identity(articles: Sequence[Article], ids_by_key: Mapping[str, str]) -> list[Article]:
    """Return ``articles`` with the ``article_id`` they had when first ingested (looked up by item key)."""
    return [dataclasses.replace(a, article_id=ids_by_key.get(a.item_key, a.article_id)) for a in articles]


def clusters_of(lake: Lake, article_ids: Sequence[str]) -> dict[str, str]:
    """Return the stored ``cluster_id`` of each article id."""
    if not article_ids or not lake.exists("articles"):
        return {}
    table = lake.read("articles", ["article_id", "cluster_id"], pc.field("article_id").isin(list(article_ids)))
    return {r["article_id"]: r["cluster_id"] or r["article_id"] for r in table.to_pylist()}


def write_replay(
    lake: Lake,
    run_id: str,
    batch: str,
    articles: Sequence[Article],
    analyses: Sequence[tuple[list[Entity], list[Figure]]],
    rejections: Sequence[Rejection],
    max_payload_bytes: int,
    watches: Sequence[Watch] = (),
) -> int:
    """Replace the derived rows of ``articles`` in one commit (rejections go to quarantine); return rows written.

    Articles whose page no longer cleans, or whose text the NLP stage now fails on (an analysis with an
    ``error``), are left as they were: a quarantine row (``extract_error`` for the latter) records why. The
    articles' ``mentions`` are matched again with ``watches`` (the watches of the replay's settings).
    """
    failed = [
        Rejection(
            a.item_key, a.source_uri, STAGE_EXTRACT, REASON_EXTRACT_ERROR, str(r.error), b"", a.external_id, a.url
        )
        for a, r in zip(articles, analyses, strict=True)
        if isinstance(r, Analysis) and r.error is not None
    ]
    if failed:
        kept = [(a, r) for a, r in zip(articles, analyses, strict=True) if not (isinstance(r, Analysis) and r.error)]
        articles, analyses = [a for a, _ in kept], [r for _, r in kept]
        rejections = [*rejections, *failed]
    clusters = clusters_of(lake, [a.article_id for a in articles])
    decisions = {a.article_id: DedupDecision(a.article_id, clusters.get(a.article_id, a.article_id)) for a in articles}
    tables = {
        "entities": entities_table([(a, e) for a, (e, _) in zip(articles, analyses, strict=True)], run_id),
        "figures": figures_table([(a, f) for a, (_, f) in zip(articles, analyses, strict=True)], run_id),
        "mentions": mentions_table(
            [
                (mention_site(a), match_article_safely(a, e, f, watches)[0])
                for a, (e, f) in zip(articles, analyses, strict=True)
            ],
            run_id,
        ),
        "quarantine": quarantine_table(rejections, run_id, max_payload_bytes),
        "articles": articles_table(articles, decisions, run_id),
    }
    ids = {a.article_id for a in articles}
    record = lake.commit_replacement(
        f"{REPLAY_PREFIX}{run_id}-{batch}",
        tables,
        {"articles": ids, "entities": ids, "figures": ids, "mentions": ids},
    )
    return sum(record.rows.values())


write_replay_task = task(name="write-replay", cache_policy=NO_CACHE)(write_replay)
