"""Records to Arrow tables, one function per dataset, columns taken from ``storage.schemas``.

Every table carries a ``date`` column (the Hive partition value, see ``storage.schemas``) that the lake turns
into the folder name. Entity and figure rows take the date of their article, so they sit in the same
partition and a join by ``article_id`` within a day reads one folder of each dataset.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from storage.lake import partition_date
from storage.schemas import PARTITION_COLUMN, PROVENANCE_FIELDS, SCHEMA_VERSION, SCHEMAS
from tasks.entities import entity_key
from tasks.outlets import outlet_for
from tasks.records import Article, DedupDecision, Entity, Figure, RawItem, Rejection, WatchMention


def _table(dataset: str, rows: list[dict[str, Any]]) -> pa.Table:
    schema = SCHEMAS[dataset].append(pa.field(PARTITION_COLUMN, pa.string(), nullable=False))
    for row in rows:
        row["schema_version"] = SCHEMA_VERSION
    return pa.Table.from_pylist(rows, schema=schema)


def article_date(article: Article) -> str:
    """Return the partition day of an article: publication day (UTC), else the fetch day."""
    return partition_date(article.published_at, article.fetched_at)


def articles_table(articles: Sequence[Article], decisions: Mapping[str, DedupDecision], run_id: str) -> pa.Table:
    """Return the ``articles`` rows for the originals of a batch."""
    rows: list[dict[str, Any]] = []
    for a in articles:
        decision = decisions.get(a.article_id)
        outlet, captured = outlet_for(a.canonical_url, a.url)
        row: dict[str, Any] = {
            "article_id": a.article_id,
            "external_id": a.external_id,
            "url": a.url,
            "canonical_url": a.canonical_url,
            "source": a.source,
            "source_uri": a.source_uri,
            "title": a.title,
            "text": a.text,
            "authors": list(a.authors),
            "published_at": a.published_at,
            "published_tz_known": a.published_tz_known,
            "modified_at": a.modified_at,
            "language": a.language,
            "site_name": a.site_name,
            "top_image": a.top_image,
            "section": a.section,
            "keywords": list(a.keywords),
            "description": a.description,
            "word_count": a.word_count,
            "is_teaser": a.is_teaser,
            "teaser_reason": a.teaser_reason,
            "extractor": a.extractor,
            "extractor_version": a.extractor_version,
            "fetched_at": a.fetched_at,
            "content_hash": a.content_hash,
            "cluster_id": decision.cluster_id if decision else a.article_id,
            "item_key": a.item_key,
            "run_id": run_id,
            "outlet": outlet,
            # The page's own name for its site when it gives one, else the outlet: what a chart labels it with.
            "outlet_name": (a.site_name or "").strip() or outlet,
            "captured_url": captured,
            PARTITION_COLUMN: article_date(a),
        }
        for name in PROVENANCE_FIELDS:
            row[f"{name}_source"] = a.provenance.get(name)
        rows.append(row)
    return _table("articles", rows)


def entities_table(results: Sequence[tuple[Article, Sequence[Entity]]], run_id: str) -> pa.Table:
    """Return the ``entities`` rows of a batch: one per mention, with the ``entity_key`` its ``entity_id`` hashes."""
    rows = [
        {
            "article_id": a.article_id,
            "external_id": a.external_id,
            "entity_id": e.entity_id,
            "text": e.text,
            "label": e.label,
            "canonical": e.canonical,
            "start_char": e.start_char,
            "end_char": e.end_char,
            "sentence_id": e.sentence_id,
            "mention_count": e.mention_count,
            "run_id": run_id,
            "entity_key": entity_key(e.label, e.canonical),
            PARTITION_COLUMN: article_date(a),
        }
        for a, entities in results
        for e in entities
    ]
    return _table("entities", rows)


def figures_table(results: Sequence[tuple[Article, Sequence[Figure]]], run_id: str) -> pa.Table:
    """Return the ``figures`` rows of a batch: one per figure mention."""
    rows = [
        {
            "article_id": a.article_id,
            "external_id": a.external_id,
            "text": f.text,
            "kind": f.kind,
            "value": f.value,
            "date_value": f.date_value,
            "low": f.low,
            "high": f.high,
            "unit": f.unit,
            "scale": f.scale,
            "currency_ambiguous": f.currency_ambiguous,
            "approximate": f.approximate,
            "modifier": f.modifier,
            "bound": f.bound,
            "role": f.role,
            "relative": f.relative,
            "object": f.object,
            "object_entity": f.object_entity,
            "start_char": f.start_char,
            "end_char": f.end_char,
            "sentence_id": f.sentence_id,
            "sentence": f.sentence,
            "run_id": run_id,
            "currency_source": f.currency_source,
            "in_table": f.in_table,
            PARTITION_COLUMN: article_date(a),
        }
        for a, figures in results
        for f in figures
    ]
    return _table("figures", rows)


def duplicates_table(copies: Sequence[tuple[Article, DedupDecision]], run_id: str, seen_at: datetime) -> pa.Table:
    """Return the ``duplicates`` rows of a batch: one per copy, pointing at its original."""
    day = partition_date(seen_at, seen_at)
    rows = [
        {
            "article_id": a.article_id,
            "duplicate_of": d.duplicate_of or d.cluster_id,
            "cluster_id": d.cluster_id,
            "method": d.method or "unknown",
            "similarity": d.similarity,
            "external_id": a.external_id,
            "source_uri": a.source_uri,
            "url": a.url,
            "source": a.source,
            "title": a.title,
            "published_at": a.published_at,
            "item_key": a.item_key,
            "run_id": run_id,
            "outlet": outlet_for(a.canonical_url, a.url)[0],
            PARTITION_COLUMN: day,
        }
        for a, d in copies
    ]
    return _table("duplicates", rows)


def story_merges_table(merges: Mapping[str, str], run_id: str, merged_at: datetime) -> pa.Table:
    """Return the ``story_merges`` rows of a batch: each cluster folded into an earlier one by the batch."""
    day = partition_date(merged_at, merged_at)
    rows = [
        {
            "cluster_id": folded,
            "into_cluster_id": into,
            "merged_at": merged_at,
            "run_id": run_id,
            PARTITION_COLUMN: day,
        }
        for folded, into in sorted(merges.items())
    ]
    return _table("story_merges", rows)


# The article columns a ``mentions`` row repeats, so a watch's attention is read without joining ``articles``.
MENTION_SITE_COLUMNS = ("article_id", "external_id", "source", "outlet", "language", "published_at", PARTITION_COLUMN)


def mention_site(article: Article) -> dict[str, Any]:
    """Return the ``articles`` values a mention repeats, as :func:`articles_table` writes them."""
    return {
        "article_id": article.article_id,
        "external_id": article.external_id,
        "source": article.source,
        "outlet": outlet_for(article.canonical_url, article.url)[0],
        "language": article.language,
        "published_at": article.published_at,
        PARTITION_COLUMN: article_date(article),
    }


def mentions_table(matched: Sequence[tuple[Mapping[str, Any], Sequence[WatchMention]]], run_id: str) -> pa.Table:
    """Return the ``mentions`` rows of a batch: one per watch per matched article, in the article's partition.

    Each pair is an article's :func:`mention_site` (at ingest) or its ``articles`` row (a backfill reads the lake):
    the same values either way, so a backfill writes the rows incremental matching wrote.
    """
    rows: list[dict[str, Any]] = []
    for site, mentions in matched:
        for m in mentions:
            row = {name: site[name] for name in MENTION_SITE_COLUMNS}
            row.update(
                {
                    "watch": m.watch,
                    "watch_fingerprint": m.fingerprint,
                    "matched_terms": list(m.terms),
                    "evidence": m.evidence,
                    "evidence_kind": m.evidence_kind,
                    "figure_text": m.figure_text,
                    "figure_kind": m.figure_kind,
                    "figure_value": m.figure_value,
                    "figure_unit": m.figure_unit,
                    "run_id": run_id,
                }
            )
            rows.append(row)
    return _table("mentions", rows)


def alerts_table(alerts: Sequence[Mapping[str, Any]]) -> pa.Table:
    """Return ``alerts`` rows (as :mod:`tasks.watch.alerting` makes them), each in the partition of its day."""
    rows = [{**a, PARTITION_COLUMN: a["day"].isoformat()} for a in alerts]
    return _table("alerts", rows)


def quarantine_table(
    rejections: Sequence[Rejection], run_id: str, max_payload_bytes: int, seen_at: datetime | None = None
) -> pa.Table:
    """Return the ``quarantine`` rows of a batch, payloads cut to ``max_payload_bytes`` (flagged when cut)."""
    now = seen_at or datetime.now(UTC)
    day = partition_date(now, now)
    rows = [
        {
            "source_uri": r.source_uri,
            "external_id": r.external_id,
            "url": r.url,
            "stage": r.stage,
            "reason": r.reason,
            "detail": r.detail[:2000],
            "payload": r.payload[:max_payload_bytes],
            "payload_bytes": len(r.payload),
            "payload_truncated": len(r.payload) > max_payload_bytes,
            "item_key": r.item_key,
            "quarantined_at": now,
            "run_id": run_id,
            PARTITION_COLUMN: day,
        }
        for r in rejections
    ]
    return _table("quarantine", rows)


def raw_table(pairs: Sequence[tuple[Article, RawItem]], run_id: str) -> pa.Table:
    """Return the ``raw`` rows: each original's page as it arrived, keyed by article_id and fetch time."""
    rows = [
        {
            "article_id": a.article_id,
            "item_key": item.item_key,
            "source_uri": item.source_uri,
            "kind": item.kind,
            "fetched_at": item.fetched_at,
            "url": item.url,
            "external_id": item.external_id,
            "title": item.title,
            "published_at": item.published_at,
            "published_at_source": item.published_at_source,
            "authors": list(item.authors),
            "source": item.source,
            "language": item.language,
            "http_headers": json.dumps(list(item.http_headers)),
            "hints": json.dumps(asdict(item.hints)),
            "payload": item.payload,
            "payload_bytes": len(item.payload),
            "run_id": run_id,
            PARTITION_COLUMN: partition_date(item.fetched_at, item.fetched_at),
        }
        for a, item in pairs
    ]
    return _table("raw", rows)
