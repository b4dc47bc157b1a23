"""The dedup index across runs: loaded from its cache, checked against the lake, rebuilt when they disagree.

The index is a cache of the ``articles`` dataset. It is saved with the list of batch commits it has seen; if
the lake holds a commit the cache has not seen (a run crashed after committing but before saving the index)
or the cache is missing or unreadable, the index is rebuilt from the articles of the dedup window. So a crash
can cost a rebuild, never a wrong answer.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import pyarrow.compute as pc

from storage.lake import Lake
from tasks.dedup import DedupIndex, DedupOptions, IndexRow, load_index, save_index

STATE_NAME = "dedup"
_SEEN_FILE = "commits.json"
_REBUILD_COLUMNS = [
    "article_id",
    "cluster_id",
    "canonical_url",
    "content_hash",
    "title",
    "source",
    "published_at",
    "fetched_at",
    "text",
    "url",
]

log = logging.getLogger(__name__)


def _seen_path(lake: Lake) -> str:
    return f"{lake.state_dir(STATE_NAME)}/{_SEEN_FILE}"


def _read_seen(lake: Lake) -> set[str] | None:
    data = lake.read_bytes(_seen_path(lake))
    if data is None:
        return None
    try:
        return {str(stem) for stem in json.loads(data.decode())}
    except (ValueError, TypeError):
        return None


def rebuild_index(lake: Lake, options: DedupOptions, now: datetime | None = None) -> DedupIndex:
    """Return a fresh index of the articles within the dedup window, oldest first (first seen wins), with the
    merges of stories the lake recorded (``story_merges``) applied over the cluster ids the articles carry."""
    if not lake.exists("articles"):
        return DedupIndex(options)
    since = (now or datetime.now(UTC)) - timedelta(days=options.window_days)
    window = pc.field("fetched_at") >= since
    table = lake.read("articles", _REBUILD_COLUMNS, window).sort_by([("fetched_at", "ascending")])
    rows = (
        IndexRow(
            article_id=r["article_id"],
            cluster_id=r["cluster_id"] or r["article_id"],
            canonical_url=r["canonical_url"],
            content_hash=r["content_hash"],
            title=r["title"],
            source=r["source"],
            published_at=r["published_at"],
            fetched_at=r["fetched_at"],
            text=r["text"],
            url=r["url"],
        )
        for batch in table.to_batches(10_000)
        for r in batch.to_pylist()
    )
    index = DedupIndex.rebuild(rows, options)
    if lake.exists("story_merges"):
        merges = lake.read("story_merges", ["cluster_id", "into_cluster_id", "merged_at"]).sort_by("merged_at")
        folded, into = merges.column("cluster_id").to_pylist(), merges.column("into_cluster_id").to_pylist()
        index.restore_merges(zip(folded, into, strict=True))
    return index


def open_index(lake: Lake, options: DedupOptions) -> DedupIndex:
    """Return the dedup index for a run on ``lake``: the cached one if it matches the lake, else a rebuild."""
    seen = _read_seen(lake)
    committed = lake.batch_stems()
    cached = load_index(lake.state_dir(STATE_NAME), options) if seen is not None else None
    if cached is not None and seen == committed:
        return cached
    if committed:
        log.warning("dedup index out of date with the lake (%d commits); rebuilding from articles", len(committed))
    return rebuild_index(lake, options)


def persist_index(index: DedupIndex, lake: Lake) -> None:
    """Save the index (rewritten only when the run changed it, see :func:`save_index`) and the list of commits it
    reflects (call while holding the lake's write lock)."""
    save_index(index, lake.state_dir(STATE_NAME))
    lake.write_bytes(_seen_path(lake), json.dumps(sorted(lake.batch_stems())).encode())


def recorded_copies(lake: Lake) -> set[str]:
    """Return the article ids already recorded as copies in ``duplicates`` (reruns excluded)."""
    if not lake.exists("duplicates"):
        return set()
    table = lake.read("duplicates", ["article_id"], pc.field("method") != "already_ingested")
    return {str(v) for v in table.column("article_id").to_pylist()}
