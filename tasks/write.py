"""Step 5: turn one batch's records into dataset tables and commit them to the lake at once.

A batch is the unit of atomicity: its articles, entities, figures, duplicates and quarantine rows become
visible together (see ``storage.lake``), so a crash never leaves an article without its entities.

One item never costs the batch its write. An original whose analysis failed (``Analysis.error``) is quarantined
instead of written. When a dataset's table cannot be built for the whole batch (pyarrow refuses a value, say a
lone surrogate in a title that no earlier stage caught), the tables are built again item by item: an item whose
rows fail has lone surrogates replaced in all its records (repair ``lone_surrogate``) and is tried once more,
and one that still fails is quarantined. Quarantine rows are made writable before they are built, so a
rejection can always be recorded.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar

import pyarrow as pa
from prefect import task
from prefect.cache_policies import NO_CACHE

from storage.lake import Lake, Settles
from tasks.records import (
    REPAIR_LONE_SURROGATE,
    STAGE_EXTRACT,
    STAGE_WRITE,
    Analysis,
    Article,
    DedupDecision,
    Entity,
    Figure,
    RawItem,
    Rejection,
    WatchMention,
    describe_error,
    fix_surrogates,
    repair_surrogates,
    with_repairs,
)
from tasks.rows import (
    articles_table,
    duplicates_table,
    entities_table,
    figures_table,
    mention_site,
    mentions_table,
    quarantine_table,
    raw_table,
    story_merges_table,
)
from tasks.watch.matching import match_article_safely
from tasks.watch.watches import Watch

# An original the NLP stage could not read (the model raised on its text).
REASON_EXTRACT_ERROR = "extract_error"
# An article, copy or rejection whose rows pyarrow refuses even after the repairs below.
REASON_UNWRITABLE_ROW = "unwritable_row"
# Repair code: matching the watches raised on an article; it is written without mentions (a bug to report, never a
# reason to lose the article).
REPAIR_WATCH_FAILED = "watch_failed"


@dataclass(slots=True)
class BatchCounts:
    """Rows committed by one batch; ``repairs`` counts each repair code once per written article or copy."""

    articles: int = 0
    duplicates: int = 0
    entities: int = 0
    figures: int = 0
    mentions: int = 0
    quarantined: Counter[tuple[str, str]] = field(default_factory=Counter)
    duplicate_methods: Counter[str] = field(default_factory=Counter)
    repairs: Counter[str] = field(default_factory=Counter)
    # Originals quarantined here (extract or write) rather than written: dedup must forget them.
    unwritten: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Original:
    """An original with everything written for it: its row, entity and figure rows, and its raw page."""

    article: Article
    entities: list[Entity]
    figures: list[Figure]
    raw: RawItem | None
    analysis_repairs: tuple[str, ...]
    mentions: tuple[WatchMention, ...] = ()


@dataclass(frozen=True, slots=True)
class _Copy:
    article: Article
    decision: DedupDecision


U = TypeVar("U")
Tables = dict[str, pa.Table]


def write_batch(
    lake: Lake,
    run_id: str,
    batch: str,
    articles: Sequence[Article],
    decisions: Sequence[DedupDecision],
    analyses: Sequence[Analysis],
    rejections: Sequence[Rejection],
    max_payload_bytes: int,
    raw_items: Sequence[RawItem] = (),
    settles: Settles | None = None,
    merges: Mapping[str, str] | None = None,
    watches: Sequence[Watch] = (),
) -> BatchCounts:
    """Commit one batch and return its counts.

    ``decisions`` pairs with ``articles``; ``analyses`` pairs with the originals among them, in order.
    ``raw_items`` (the batch's items as read) are kept in ``raw`` for the originals, for replay. ``settles``
    (what the batch makes count as done) goes into the commit marker. ``merges`` (folded cluster id -> the
    earlier cluster it joined) are the story merges the batch's dedup made, committed with its rows. Each written
    original is matched against ``watches``: its ``mentions`` rows go into the same commit.
    Quarantines, besides ``rejections``: originals whose analysis has an ``error`` (stage ``extract``, reason
    ``extract_error``, payload the raw page when ``raw_items`` has it, else the text), and articles, copies
    and rejections whose rows cannot be built even with lone surrogates replaced (stage ``write``, reason
    ``unwritable_row``).
    """
    now = datetime.now(UTC)
    by_id = {d.article_id: d for d in decisions}
    pairs = list(zip(articles, decisions, strict=True))
    originals = [a for a, d in pairs if d.duplicate_of is None]
    if len(originals) != len(analyses):
        raise ValueError(f"{len(analyses)} analyses for {len(originals)} original articles")
    raw_by_key = {item.item_key: item for item in raw_items}
    quarantined = [writable_rejection(r) for r in rejections]
    unwritten: list[str] = []
    kept: list[_Original] = []
    for article, analysis in zip(originals, analyses, strict=True):
        raw = raw_by_key.get(article.item_key)
        if analysis.error is not None:
            quarantined.append(_quarantined(article, raw, STAGE_EXTRACT, REASON_EXTRACT_ERROR, analysis.error))
            unwritten.append(article.article_id)
        else:
            mentions, unmatched = match_article_safely(article, analysis.entities, analysis.figures, watches)
            repairs = (*analysis.repairs, REPAIR_WATCH_FAILED) if unmatched else analysis.repairs
            kept.append(_Original(article, analysis.entities, analysis.figures, raw, repairs, mentions))

    def original_tables(units: Sequence[_Original]) -> Tables:
        return {
            "entities": entities_table([(o.article, o.entities) for o in units], run_id),
            "figures": figures_table([(o.article, o.figures) for o in units], run_id),
            "raw": raw_table([(o.article, o.raw) for o in units if o.raw is not None], run_id),
            "mentions": mentions_table([(mention_site(o.article), o.mentions) for o in units if o.mentions], run_id),
            "articles": articles_table([o.article for o in units], by_id, run_id),
        }

    def copy_tables(units: Sequence[_Copy]) -> Tables:
        return {"duplicates": duplicates_table([(c.article, c.decision) for c in units], run_id, now)}

    def quarantine_tables(units: Sequence[Rejection]) -> Tables:
        return {"quarantine": quarantine_table(units, run_id, max_payload_bytes, now)}

    counts = BatchCounts()
    parts: defaultdict[str, list[pa.Table]] = defaultdict(list)
    written, failed = _build(kept, original_tables, parts)
    for original, repaired in written:
        counts.articles += 1
        counts.entities += len(original.entities)
        counts.figures += len(original.figures)
        counts.mentions += len(original.mentions)
        extra = (REPAIR_LONE_SURROGATE,) if repaired else ()
        counts.repairs.update(with_repairs(original.article.repairs, *original.analysis_repairs, *extra))
    for original, error in failed:
        article, raw = original.article, original.raw
        quarantined.append(_quarantined(article, raw, STAGE_WRITE, REASON_UNWRITABLE_ROW, error))
        unwritten.append(article.article_id)
    counts.unwritten = unwritten
    copies = [_Copy(a, d) for a, d in pairs if d.duplicate_of is not None]
    written_copies, failed_copies = _build(copies, copy_tables, parts)
    for copy, repaired in written_copies:
        counts.duplicates += 1
        counts.duplicate_methods[copy.decision.method or "unknown"] += 1
        extra = (REPAIR_LONE_SURROGATE,) if repaired else ()
        counts.repairs.update(with_repairs(copy.article.repairs, *extra))
    for copy, error in failed_copies:
        quarantined.append(_quarantined(copy.article, None, STAGE_WRITE, REASON_UNWRITABLE_ROW, error))
    written_rejections, failed_rejections = _build(quarantined, quarantine_tables, parts)
    last_resort = [_unwritable_rejection(r, error) for r, error in failed_rejections]
    parts["quarantine"].extend(quarantine_tables(last_resort).values())
    counts.quarantined = Counter((r.stage, r.reason) for r, _ in written_rejections)
    counts.quarantined.update((r.stage, r.reason) for r in last_resort)
    empty = {**original_tables([]), **copy_tables([]), **quarantine_tables([])}
    tables = {
        name: pa.concat_tables(parts[name]) if parts[name] else empty[name]
        # Articles last: a reader that sees an article also sees its entities and figures.
        for name in ("entities", "figures", "mentions", "duplicates", "quarantine", "raw", "articles")
    }
    tables["story_merges"] = story_merges_table(merges or {}, run_id, now)
    lake.commit_batch(run_id, batch, tables, settles)
    return counts


def _build(
    units: Sequence[U], build: Callable[[Sequence[U]], Tables], parts: defaultdict[str, list[pa.Table]]
) -> tuple[list[tuple[U, bool]], list[tuple[U, str]]]:
    """Add the tables of ``units`` to ``parts``; return the units written (each with whether its lone surrogates
    had to be replaced) and those whose rows could not be built (each with the error).

    All units at once first; if pyarrow refuses that, one unit at a time, then a failing unit once more with its
    lone surrogates replaced.
    """
    try:
        whole: Tables | None = build(units)
    except Exception:  # noqa: BLE001 - some unit holds a bad value: found one by one below
        whole = None
    if whole is not None:
        for name, table in whole.items():
            parts[name].append(table)
        return [(u, False) for u in units], []
    written: list[tuple[U, bool]] = []
    failed: list[tuple[U, str]] = []
    for unit in units:
        repaired = False
        try:
            tables = build([unit])
        except Exception as exc:  # noqa: BLE001 - one unit's bad value must not cost the batch
            fixed, repaired = repair_surrogates(unit)
            if not repaired:
                failed.append((unit, describe_error(exc)))
                continue
            try:
                tables = build([fixed])
            except Exception as again:  # noqa: BLE001 - as above
                failed.append((fixed, describe_error(again)))
                continue
            unit = fixed
        for name, table in tables.items():
            parts[name].append(table)
        written.append((unit, repaired))
    return written, failed


def _quarantined(article: Article, raw: RawItem | None, stage: str, reason: str, detail: str) -> Rejection:
    """Return the quarantine row of an article that cannot be written: its raw page if kept, else its text."""
    payload = raw.payload if raw is not None else article.text.encode("utf-8", "replace")
    rejection = Rejection(
        item_key=article.item_key,
        source_uri=article.source_uri,
        stage=stage,
        reason=reason,
        detail=detail,
        payload=payload,
        external_id=article.external_id,
        url=article.url,
    )
    return writable_rejection(rejection)


def writable_rejection(rejection: Rejection) -> Rejection:
    """Return ``rejection`` with values the quarantine schema accepts: lone surrogates replaced, strings where
    strings are required, a payload of bytes."""
    fixed, _ = repair_surrogates(rejection)
    payload = fixed.payload
    if isinstance(payload, str):
        payload = payload.encode("utf-8", "replace")
    elif not isinstance(payload, bytes):
        payload = bytes(payload or b"")
    return Rejection(
        item_key=_text(fixed.item_key),
        source_uri=_text(fixed.source_uri),
        stage=_text(fixed.stage) or "unknown",
        reason=_text(fixed.reason) or "unknown",
        detail=_text(fixed.detail),
        payload=payload,
        external_id=None if fixed.external_id is None else _text(fixed.external_id),
        url=None if fixed.url is None else _text(fixed.url),
    )


def _text(value: object) -> str:
    return "" if value is None else fix_surrogates(value if isinstance(value, str) else str(value))


def _unwritable_rejection(rejection: Rejection, error: str) -> Rejection:
    """Return the bare quarantine row that stands for a rejection whose own row could not be built."""
    return Rejection(
        item_key=_text(rejection.item_key),
        source_uri=_text(rejection.source_uri),
        stage=STAGE_WRITE,
        reason=REASON_UNWRITABLE_ROW,
        detail=f"{_text(rejection.stage)}/{_text(rejection.reason)}: {error}",
        payload=b"",
    )


write_batch_task = task(name="write", cache_policy=NO_CACHE)(write_batch)
