"""Step 5: turn one batch's records into dataset tables and commit them to the lake at once.

A batch is the unit of atomicity: its articles, entities, figures, duplicates and quarantine rows become
visible together (see ``storage.lake``), so a crash never leaves an article without its entities.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from prefect import task
from prefect.cache_policies import NO_CACHE

from storage.lake import Lake
from tasks.records import Article, DedupDecision, Entity, Figure, RawItem, Rejection
from tasks.rows import articles_table, duplicates_table, entities_table, figures_table, quarantine_table, raw_table


@dataclass(slots=True)
class BatchCounts:
    """Rows committed by one batch."""

    articles: int = 0
    duplicates: int = 0
    entities: int = 0
    figures: int = 0
    quarantined: Counter[tuple[str, str]] = field(default_factory=Counter)
    duplicate_methods: Counter[str] = field(default_factory=Counter)


def write_batch(
    lake: Lake,
    run_id: str,
    batch: str,
    articles: Sequence[Article],
    decisions: Sequence[DedupDecision],
    analyses: Sequence[tuple[list[Entity], list[Figure]]],
    rejections: Sequence[Rejection],
    max_payload_bytes: int,
    raw_items: Sequence[RawItem] = (),
) -> BatchCounts:
    """Commit one batch and return its counts.

    ``decisions`` pairs with ``articles``; ``analyses`` pairs with the originals among them, in order.
    ``raw_items`` (the batch's items as read) are kept in ``raw`` for the originals, for replay.
    """
    now = datetime.now(UTC)
    by_id = {d.article_id: d for d in decisions}
    pairs = list(zip(articles, decisions, strict=True))
    originals = [a for a, d in pairs if d.duplicate_of is None]
    copies = [(a, d) for a, d in pairs if d.duplicate_of is not None]
    if len(originals) != len(analyses):
        raise ValueError(f"{len(analyses)} analyses for {len(originals)} original articles")
    tables = {
        "entities": entities_table([(a, ents) for a, (ents, _) in zip(originals, analyses, strict=True)], run_id),
        "figures": figures_table([(a, figs) for a, (_, figs) in zip(originals, analyses, strict=True)], run_id),
        "duplicates": duplicates_table(copies, run_id, now),
        "quarantine": quarantine_table(rejections, run_id, max_payload_bytes, now),
        "raw": raw_table(_raw_pairs(originals, raw_items), run_id),
        # Articles last: a reader that sees an article also sees its entities and figures.
        "articles": articles_table(originals, by_id, run_id),
    }
    lake.commit_batch(run_id, batch, tables)
    return BatchCounts(
        articles=len(originals),
        duplicates=len(copies),
        entities=sum(len(e) for e, _ in analyses),
        figures=sum(len(f) for _, f in analyses),
        quarantined=Counter((r.stage, r.reason) for r in rejections),
        duplicate_methods=Counter(d.method or "unknown" for _, d in copies),
    )


def _raw_pairs(originals: Sequence[Article], raw_items: Sequence[RawItem]) -> list[tuple[Article, RawItem]]:
    by_key = {item.item_key: item for item in raw_items}
    return [(a, by_key[a.item_key]) for a in originals if a.item_key in by_key]


write_batch_task = task(name="write", cache_policy=NO_CACHE)(write_batch)
