"""The dedup index: compact signatures of recently seen articles, the tables to find them again, and the
decisions that link a batch of articles to the stories already seen (see :mod:`tasks.dedup` for the rules).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from storage.dedup_store import SavedIndex
from tasks.dedup.keys import BatchKeys, IndexRow, batch_keys, hours, id_to_int, int_to_id
from tasks.dedup.options import DedupOptions
from tasks.dedup.signatures import F64, I64, U64, Signatures, compute_signatures
from tasks.dedup.tables import EMPTY_ITEMS, BandTable, KeyTable, as_2d, batch_pairs
from tasks.dedup.verification import (
    EXACT_BELOW,
    METHOD_ALREADY_INGESTED,
    NO_EXACT,
    NOT_VERIFIED,
    RANK_METHOD,
    Entries,
    verify_pairs,
)
from tasks.records import Article, DedupDecision

# Column name -> (dtype, per-row width or 0 for a 1-d column); the signature width comes from the options.
_COLUMNS: dict[str, tuple[type[np.generic], int]] = {
    "article_id": (np.uint64, 0),
    "cluster": (np.uint64, 0),
    "event_hour": (np.int32, 0),
    "fetched_hour": (np.int32, 0),
    "full_size": (np.int32, 0),
    "tokens": (np.int32, 0),
    "para_start": (np.int64, 0),
    "para_count": (np.int32, 0),
}
# Flat per-paragraph arrays (entry i owns ``para_count[i]`` values from ``para_start[i]``).
_PARAGRAPHS: dict[str, type[np.generic]] = {"para_values": np.uint32, "para_tokens": np.uint16}
# Tags that keep the similarity keys of different tables apart when a batch is matched against itself.
_TAG_PARA = np.uint64(1 << 40)
_TAG_FULL = np.uint64(2 << 40)
_TAG_LEAD = np.uint64(3 << 40)


@dataclass(frozen=True, slots=True)
class _Matches:
    """Verified matches of a batch, grouped by item (item k owns ``[bounds[k]:bounds[k + 1]]``) and sorted within
    an item by method rank, then similarity (descending), then row; ``checked`` holds every (item, row) pair
    that was verified, linked or not, packed as ``item << 32 | row``."""

    rows: I64
    ranks: I64
    similarity: F64
    bounds: I64
    checked: set[int]


@dataclass(slots=True)
class _Link:
    """The best evidence linking an article to one story: method rank, similarity, and the entry it matched."""

    rank: int
    similarity: float
    row: int

    def better_than(self, other: _Link) -> bool:
        return (self.rank, -self.similarity, self.row) < (other.rank, -other.similarity, other.row)


class DedupIndex:
    """The dedup index: compact signatures of recently seen articles and the tables to find them again.

    Not thread-safe; one index per flow run. Build with ``DedupIndex(options)``, :meth:`rebuild` or
    :func:`tasks.dedup.load_index`.
    """

    def __init__(self, options: DedupOptions) -> None:
        self.options = options
        # True once anything changed since the index was built or loaded from its saved form: an unchanged one
        # needs no rewrite (see tasks.dedup.persistence.save_index), which for a large index is most of a quiet
        # run's work.
        self.modified = False
        self._n = 0
        self._cap = 0
        self._cols: dict[str, npt.NDArray[Any]] = {}
        self._alloc(1024)
        self._flat: dict[str, npt.NDArray[Any]] = {name: np.zeros(4096, dtype=t) for name, t in _PARAGRAPHS.items()}
        self._flat_n = 0
        self._ids = KeyTable(np.uint64)
        self._urls = KeyTable(np.uint64)
        self._contents = KeyTable(np.uint64)
        self._titles = KeyTable(np.uint64)
        self._paras = KeyTable(np.uint32)
        self._full_bands = BandTable(options.lsh_bands)
        self._lead_bands = BandTable(options.lead_lsh_bands)
        # Union-find over cluster ids: a folded cluster -> the cluster it was folded into.
        self._alias: dict[int, int] = {}
        # A surviving cluster -> every cluster folded into it (directly or through others).
        self._folded: dict[int, list[int]] = {}
        self._batch_merges: list[tuple[str, str]] = []
        self._unmerged = 0

    # -- storage of entries ------------------------------------------------------------------------------------

    def _specs(self) -> dict[str, tuple[type[np.generic], int]]:
        return {**_COLUMNS, "full_sig": (np.uint16, self.options.num_perm), "opening": (np.uint32, 2)}

    def _alloc(self, capacity: int) -> None:
        # Column by column, so that growing holds one old column at a time next to the new ones.
        for name, (dtype, width) in self._specs().items():
            shape: tuple[int, ...] = (capacity, width) if width else (capacity,)
            arr = np.zeros(shape, dtype=dtype)
            if name in self._cols:
                arr[: self._n] = self._cols[name][: self._n]
            self._cols[name] = arr
        self._cap = capacity

    def _ensure(self, extra: int, extra_paragraphs: int) -> None:
        need = self._n + extra
        if need > self._cap:
            # Grow by a quarter: doubling would reserve up to twice the memory a million entries need.
            self._alloc(max(need, self._cap + self._cap // 4, 1024))
        need_flat = self._flat_n + extra_paragraphs
        capacity = len(self._flat["para_values"])
        if need_flat > capacity:
            size = max(need_flat, capacity + capacity // 4, 4096)
            for name, arr in self._flat.items():
                grown = np.zeros(size, dtype=arr.dtype)
                grown[: self._flat_n] = arr[: self._flat_n]
                self._flat[name] = grown

    def __len__(self) -> int:
        return self._n

    def _tables(self) -> list[KeyTable | BandTable]:
        return [*self._key_tables().values(), self._full_bands, self._lead_bands]

    def _key_tables(self) -> dict[str, KeyTable]:
        return {
            "ids": self._ids,
            "urls": self._urls,
            "contents": self._contents,
            "titles": self._titles,
            "paras": self._paras,
        }

    def _entries(self) -> Entries:
        c = self._cols
        return Entries(
            full_sig=c["full_sig"],
            opening=c["opening"],
            full_size=c["full_size"],
            tokens=c["tokens"],
            para_start=c["para_start"],
            para_count=c["para_count"],
            para_values=self._flat["para_values"],
            para_tokens=self._flat["para_tokens"],
        )

    def _append_batch(self, keys: BatchKeys, sigs: Signatures, items: I64, cluster: U64) -> I64:
        """Append ``items`` of a batch as new entries of ``cluster`` and return their rows."""
        self.modified = True
        m = len(items)
        sig_para_start = np.concatenate([[0], np.cumsum(sigs.para_count)]).astype(np.int64)
        counts = sigs.para_count[items].astype(np.int64)
        self._ensure(m, int(counts.sum()))
        start = self._n
        rows = np.arange(start, start + m, dtype=np.int64)
        c = self._cols
        at = slice(start, start + m)
        c["article_id"][at] = keys.article_id[items]
        c["cluster"][at] = cluster
        c["event_hour"][at] = keys.event_hour[items]
        c["fetched_hour"][at] = keys.fetched_hour[items]
        c["full_size"][at] = sigs.full_size[items]
        c["tokens"][at] = sigs.tokens[items]
        c["full_sig"][at] = sigs.full[items]
        c["opening"][at] = sigs.paras[items][:, :2]
        c["para_count"][at] = counts
        c["para_start"][at] = self._flat_n + np.cumsum(counts) - counts
        total = int(counts.sum())
        offsets = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
        src = np.repeat(sig_para_start[items], counts) + offsets
        self._flat["para_values"][self._flat_n : self._flat_n + total] = sigs.para_values[src]
        self._flat["para_tokens"][self._flat_n : self._flat_n + total] = sigs.para_tokens[src]
        self._flat_n += total
        self._n += m
        rows32 = rows.astype(np.int32)
        self._ids.add_batch(keys.article_id[items], rows32)
        self._urls.add_batch(keys.urls[items], rows32)
        self._contents.add_batch(self._content_keys(keys, sigs)[items], rows32)
        self._titles.add_batch(keys.title[items], rows32)
        self._paras.add_batch(sigs.paras[items], rows32)
        has = sigs.full_size[items] > 0
        self._full_bands.add_batch(sigs.full_bands[items][has], rows32[has])
        self._lead_bands.add_batch(sigs.lead_bands[items][has], rows32[has])
        self._unmerged += m
        return rows

    def _content_keys(self, keys: BatchKeys, sigs: Signatures) -> U64:
        """Return the content keys of a batch, 0 for bodies under ``min_shared_words`` words (too short to
        identify a story: identical one-line pages would all collide)."""
        return np.where(sigs.tokens >= self.options.min_shared_words, keys.content, np.uint64(0))

    def _maybe_merge(self) -> None:
        if self._unmerged >= self.options.merge_every:
            for table in self._tables():
                table.merge()
            self._unmerged = 0

    def _new_items(self, ids: U64) -> tuple[npt.NDArray[np.bool_], I64, I64]:
        """Return which items of a batch are new (neither in the index nor earlier in the batch), and for every
        item its row in the index (-1 if none) and the first item of the batch with its id."""
        n = len(ids)
        found_items, found_rows = self._ids.find_batch(ids, 1)
        stored = np.full(n, -1, dtype=np.int64)
        stored[found_items] = found_rows
        _, first, inverse = np.unique(ids, return_index=True, return_inverse=True)
        first_item = first[inverse.reshape(n)].astype(np.int64)
        # Key 0 is never stored (see KeyTable), so articles with that id are each new, as in the tables.
        new = (stored < 0) & ((first_item == np.arange(n)) | (ids == 0))
        return new, stored, first_item

    # -- clusters ----------------------------------------------------------------------------------------------

    def _find_cluster(self, cluster: int) -> int:
        hops = 0
        while cluster in self._alias and hops < 1000:
            cluster = self._alias[cluster]
            hops += 1
        return cluster

    def cluster_aliases(self) -> dict[str, str]:
        """Return every merge of stories so far: folded cluster id -> the cluster id that survives it now.

        Two clusters merge when an article verifies against the originals of both; the cluster whose original
        was seen first keeps its id. Decisions returned earlier for members of a folded cluster are not
        rewritten: this map (or :meth:`batch_merges`, batch by batch) resolves them.
        """
        return {int_to_id(k): int_to_id(self._find_cluster(k)) for k in self._alias}

    def restore_merges(self, merges: Iterable[tuple[str, str]]) -> None:
        """Apply recorded merges of stories, (folded cluster id, cluster it was folded into) in the order they
        were made, to an index :meth:`rebuild` filled from stored articles. A stored article keeps the cluster id
        it was written with, so without the merges a story folded into another would stand alone again, and
        the next copy of it would be recorded against the wrong story."""
        alias = dict(self._alias)
        for folded, into in merges:
            a, b = id_to_int(folded), id_to_int(into)
            if a != b:
                alias[a] = b
        self.modified = self.modified or alias != self._alias
        self._set_aliases(alias)

    def batch_merges(self) -> list[tuple[str, str]]:
        """Return the merges made by the last :meth:`check_and_add` call, in order, as (folded cluster id,
        surviving cluster id) pairs: what the pipeline records with that batch."""
        return list(self._batch_merges)

    def _rows_of(self, ids: Sequence[int]) -> dict[int, int]:
        """Return the row of each article id present in the index."""
        if not ids:
            return {}
        items, rows = self._ids.find_batch(np.asarray(ids, dtype=np.uint64), 1)
        return {ids[int(i)]: int(r) for i, r in zip(items.tolist(), rows.tolist(), strict=True)}

    def _original_rows(self, root: int) -> list[int]:
        """Return the rows of the originals of story ``root`` (its own, and those of the clusters folded into
        it) that are still in the index, in insertion order."""
        return sorted(self._rows_of([root, *self._folded.get(root, [])]).values())

    def _member_count(self, root: int) -> int:
        """Return how many entries belong to story ``root`` (one pass over the cluster column: only needed when
        none of its originals is left)."""
        clusters = np.asarray([root, *self._folded.get(root, [])], dtype=np.uint64)
        return int(np.count_nonzero(np.isin(self._cols["cluster"][: self._n], clusters)))

    def _fold(self, loser: int, winner: int) -> None:
        self.modified = True
        self._alias[loser] = winner
        self._folded.setdefault(winner, []).extend([loser, *self._folded.pop(loser, [])])
        self._batch_merges.append((int_to_id(loser), int_to_id(winner)))

    # -- matching ----------------------------------------------------------------------------------------------

    def _candidates(self, keys: BatchKeys, sigs: Signatures, items: I64, base: int) -> tuple[I64, I64, I64]:
        """Return candidate (item, row, exact method rank) triples for the new ``items`` of a batch (item k of
        the triples is ``items[k]``), unique per (item, row): entries already in the index (found in the tables;
        call before adding the batch), the originals of the stories those entries belong to, and earlier new
        items of the batch (rows from ``base`` on)."""
        o = self.options
        limit = o.max_bucket
        m = len(items)
        has_sig = sigs.full_size[items] > 0
        full_bands = sigs.full_bands[items]
        lead_bands = sigs.lead_bands[items]
        paras = sigs.paras[items]
        content = self._content_keys(keys, sigs)[items]
        exact = ((keys.urls[items], 0), (content, 1), (keys.title[items], 2))
        parts: list[tuple[I64, I64, int]] = []
        for table, (k, rank) in zip((self._urls, self._contents, self._titles), exact, strict=True):
            it, rw = table.find_batch(k, limit)
            parts.append((it, rw.astype(np.int64), rank))
        for it, rw in (
            self._paras.find_batch(paras, limit),
            self._full_bands.find_batch(full_bands, has_sig, limit),
            self._lead_bands.find_batch(lead_bands, has_sig, limit),
        ):
            parts.append((it, rw.astype(np.int64), NO_EXACT))
        parts.append((*self._originals_of(parts), NO_EXACT))

        # The batch against itself: items sharing a key, the later one matched against the earlier one.
        local = np.arange(m, dtype=np.int64)
        for k, rank in exact:
            k2 = as_2d(k)
            later, earlier = batch_pairs(k2.ravel(), np.repeat(local, k2.shape[1]), limit)
            parts.append((later, earlier + base, rank))
        sig_mask = has_sig[:, None]
        similar = np.concatenate(
            [
                np.where(paras != 0, paras.astype(np.uint64) | _TAG_PARA, np.uint64(0)),
                np.where(sig_mask, self._full_bands.combined(full_bands) | _TAG_FULL, np.uint64(0)),
                np.where(sig_mask, self._lead_bands.combined(lead_bands) | _TAG_LEAD, np.uint64(0)),
            ],
            axis=1,
        )
        later, earlier = batch_pairs(similar.ravel(), np.repeat(local, similar.shape[1]), limit)
        parts.append((later, earlier + base, NO_EXACT))

        cand_items = np.concatenate([p[0] for p in parts])
        cand_rows = np.concatenate([p[1] for p in parts])
        ranks = np.concatenate([np.full(len(p[0]), p[2], dtype=np.int64) for p in parts])
        if len(cand_items) == 0:
            return EMPTY_ITEMS, EMPTY_ITEMS, EMPTY_ITEMS
        # One triple per (item, row), with its most certain exact method.
        packed = (cand_items << 32) | cand_rows
        order = np.lexsort((ranks, packed))
        packed, ranks = packed[order], ranks[order]
        first = np.ones(len(packed), dtype=np.bool_)
        first[1:] = packed[1:] != packed[:-1]
        packed, ranks = packed[first], ranks[first]
        return packed >> 32, packed & 0xFFFFFFFF, ranks

    def _originals_of(self, parts: list[tuple[I64, I64, int]]) -> tuple[I64, I64]:
        """Return (item, row) pairs joining each candidate entry already in the index to the originals of its
        story, when the entry is not one of them: a copy joins a story only by verifying against an original."""
        items = np.concatenate([p[0] for p in parts])
        rows = np.concatenate([p[1] for p in parts])
        if len(rows) == 0:
            return EMPTY_ITEMS, EMPTY_ITEMS
        c = self._cols
        # An entry that is the original of its cluster is an original of the story its cluster is part of.
        not_original = c["article_id"][rows] != c["cluster"][rows]
        if not not_original.any():
            return EMPTY_ITEMS, EMPTY_ITEMS
        items, clusters = items[not_original], c["cluster"][rows[not_original]]
        unique, inverse = np.unique(clusters, return_inverse=True)
        # The original ids of each distinct cluster's story (its root's, and those folded into the root).
        owner: list[int] = []
        ids: list[int] = []
        for u, cluster in enumerate(unique.tolist()):
            root = self._find_cluster(int(cluster))
            for original in (root, *self._folded.get(root, ())):
                owner.append(u)
                ids.append(original)
        found_at, found_rows = self._ids.find_batch(np.asarray(ids, dtype=np.uint64), 1)
        if len(found_at) == 0:
            return EMPTY_ITEMS, EMPTY_ITEMS
        original_owner = np.asarray(owner, dtype=np.int64)[found_at]
        order = np.argsort(original_owner, kind="stable")
        original_owner, original_rows = original_owner[order], found_rows[order].astype(np.int64)
        per_owner = np.bincount(original_owner, minlength=len(unique))
        first = np.concatenate([[0], np.cumsum(per_owner)[:-1]])
        counts = per_owner[inverse.reshape(-1)]
        total = int(counts.sum())
        offsets = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
        picked = original_rows[np.repeat(first[inverse.reshape(-1)], counts) + offsets]
        return np.repeat(items, counts), picked

    def _verify(self, items: I64, rows: I64, ranks: I64, q_rows: I64) -> _Matches:
        """Return the candidates (item, row, exact rank) that are links; the item's own entry is
        ``q_rows[item]``."""
        verdicts = verify_pairs(self._entries(), q_rows[items], rows, ranks, self.options)
        checked = set(((items << 32) | rows).tolist())
        ok = verdicts.rank != NOT_VERIFIED
        items, rows = items[ok], rows[ok]
        method, similarity = verdicts.rank[ok], verdicts.similarity[ok]
        order = np.lexsort((rows, -np.round(similarity, 4), method, items))
        items = items[order]
        bounds = np.searchsorted(items, np.arange(len(q_rows) + 1)).astype(np.int64)
        return _Matches(rows[order], method[order], similarity[order], bounds, checked)

    def _verify_one(self, own: int, row: int) -> _Link | None:
        """Return the link between entries ``own`` and ``row`` (a pair no key proposed), or None."""
        one = np.asarray([own], dtype=np.int64)
        verdicts = verify_pairs(
            self._entries(), one, np.asarray([row], dtype=np.int64), np.asarray([NO_EXACT]), self.options
        )
        if verdicts.rank[0] == NOT_VERIFIED:
            return None
        return _Link(int(verdicts.rank[0]), float(verdicts.similarity[0]), row)

    def _join(self, k: int, own: int, matches: _Matches) -> dict[int, _Link]:
        """Return the stories item ``k`` (entry ``own``) joins, with the best evidence for each.

        A link to an original of a story (its own original, or that of a cluster folded into it) joins that
        story, and so does an exact key (the same article as a member). A link to another member only counts
        through the story's originals: the item must verify against one of them too. When none of a story's
        originals is left in the index (evicted or forgotten), it must verify against more than half of the
        story's entries instead.
        """
        cluster_col = self._cols["cluster"]
        article_col = self._cols["article_id"]
        lo, hi = int(matches.bounds[k]), int(matches.bounds[k + 1])
        joined: dict[int, _Link] = {}
        via_members: dict[int, list[_Link]] = {}
        for row, rank, sim in zip(
            matches.rows[lo:hi].tolist(), matches.ranks[lo:hi].tolist(), matches.similarity[lo:hi].tolist(), strict=True
        ):
            link = _Link(int(rank), float(sim), int(row))
            root = self._find_cluster(int(cluster_col[row]))
            article = int(article_col[row])
            if link.rank < EXACT_BELOW or article == root or article in self._folded.get(root, ()):
                if root not in joined or link.better_than(joined[root]):
                    joined[root] = link
            else:
                via_members.setdefault(root, []).append(link)
        for root, links in via_members.items():
            if root in joined:
                continue
            originals = self._original_rows(root)
            for row in originals:
                if ((k << 32) | row) in matches.checked:
                    continue  # verified with the batch, and not a link
                found = self._verify_one(own, row)
                if found is not None:
                    joined[root] = found
                    break
            if not originals and 2 * len(links) > self._member_count(root):
                joined[root] = links[0]
        return joined

    def check_and_add(self, articles: Sequence[Article]) -> list[DedupDecision]:
        """Return one decision per article (same order) and add every article to the index.

        An article seen before (same article_id) is ``already_ingested``; an article that joins no story is an
        original (``duplicate_of`` None, its own cluster); any other is a copy of the story it joins (first seen
        wins; see :mod:`tasks.dedup`). When it joins several stories they merge into the one whose original was
        seen first (:meth:`batch_merges`). Raises ValueError for an article_id that is not 16 hex digits.

        The work is done for the whole batch at once: candidates come from the tables and from the batch itself
        (each article against the earlier ones), and are verified together; only the copies found are walked
        one by one, in order, to link them to their stories.
        """
        self._batch_merges = []
        if not articles:
            return []
        keys = batch_keys(articles, self.options)
        sigs = compute_signatures([a.text for a in articles], self.options)
        new, stored, first_item = self._new_items(keys.article_id)
        new_items = np.flatnonzero(new).astype(np.int64)
        base = self._n
        cand_items, cand_rows, ranks = self._candidates(keys, sigs, new_items, base)
        q_rows = self._append_batch(keys, sigs, new_items, keys.article_id[new_items])
        matches = self._verify(cand_items, cand_rows, ranks, q_rows)

        row_of = np.full(len(articles), -1, dtype=np.int64)
        row_of[new_items] = q_rows
        local_of = np.full(len(articles), -1, dtype=np.int64)
        local_of[new_items] = np.arange(len(new_items))
        cluster_col = self._cols["cluster"]
        decisions: list[DedupDecision] = []
        for i, article in enumerate(articles):
            k = int(local_of[i])
            if k < 0:
                # The same article again (in the index, or earlier in this batch).
                same = int(stored[i]) if stored[i] >= 0 else int(row_of[first_item[i]])
                decisions.append(
                    DedupDecision(
                        article_id=article.article_id,
                        cluster_id=int_to_id(self._find_cluster(int(cluster_col[same]))),
                        duplicate_of=int_to_id(int(cluster_col[same])),
                        method=METHOD_ALREADY_INGESTED,
                        similarity=1.0,
                    )
                )
                continue
            own = int(row_of[i])
            joined = self._join(k, own, matches) if matches.bounds[k] < matches.bounds[k + 1] else {}
            if not joined:
                decisions.append(DedupDecision(article_id=article.article_id, cluster_id=article.article_id))
                continue
            winner = next(iter(joined))
            if len(joined) > 1:
                # The story seen first (its earliest original, else its earliest entry matched) absorbs the others.
                first_row = {root: min([*self._original_rows(root), link.row]) for root, link in joined.items()}
                winner = min(first_row, key=first_row.__getitem__)
                for root in sorted(first_row, key=first_row.__getitem__):
                    if root != winner:
                        self._fold(root, winner)
            best = min(joined.values(), key=lambda link: (link.rank, -link.similarity, link.row))
            cluster_col[own] = winner
            decisions.append(
                DedupDecision(
                    article_id=article.article_id,
                    cluster_id=int_to_id(winner),
                    duplicate_of=int_to_id(winner),
                    method=RANK_METHOD[best.rank],
                    similarity=round(best.similarity, 4),
                )
            )
        self._maybe_merge()
        return decisions

    # -- window, persistence, rebuild --------------------------------------------------------------------------

    def evict(self, now: datetime | None = None) -> int:
        """Drop entries older than the window and return how many were dropped.

        The window ends at ``now``, else at the newest ``fetched_at`` in the index (so that an index replayed
        later, or loaded after a pause, keeps the entries of its own last days).
        """
        if self._n == 0:
            return 0
        c = self._cols
        ref = hours(now) if now is not None else int(c["fetched_hour"][: self._n].max())
        # By when the lake saw an article, not when it was published: a backfill of old news must still find
        # the copies of what it ingested yesterday.
        keep = c["fetched_hour"][: self._n] >= ref - 24 * self.options.window_days
        return self._keep_only(keep)

    def forget(self, article_ids: Iterable[str]) -> int:
        """Drop the entries of ``article_ids`` and return how many were dropped.

        For articles the dedup stage accepted as originals but the lake never received (quarantined later, at
        extract or write): left in, they would make later copies point at an article that is not there.
        """
        wanted = np.asarray([id_to_int(a) for a in article_ids], dtype=np.uint64)
        if self._n == 0 or wanted.size == 0:
            return 0
        return self._keep_only(~np.isin(self._cols["article_id"][: self._n], wanted))

    def _keep_only(self, keep: npt.NDArray[np.bool_]) -> int:
        """Keep the entries where ``keep`` is true, renumbering the tables; return how many were dropped."""
        c = self._cols
        kept = int(keep.sum())
        if kept == self._n:
            return 0
        self.modified = True
        dropped = self._n - kept
        remap = np.full(self._n, -1, dtype=np.int32)
        remap[keep] = np.arange(kept, dtype=np.int32)
        counts = c["para_count"][: self._n]
        flat_keep = np.repeat(keep, counts)
        for name in list(self._flat):
            self._flat[name] = self._flat[name][: self._flat_n][flat_keep]
        self._flat_n = len(self._flat["para_values"])
        for name in list(c):
            c[name] = c[name][: self._n][keep]
        self._n = self._cap = kept
        kept_counts = c["para_count"].astype(np.int64)
        c["para_start"] = np.cumsum(kept_counts) - kept_counts
        for table in self._tables():
            table.compact(remap)
        self._unmerged = 0
        alive = set(c["cluster"].tolist())
        self._set_aliases({k: v for k, v in self._alias.items() if k in alive})
        return dropped

    def _set_aliases(self, alias: dict[int, int]) -> None:
        self._alias = alias
        self._folded = {}
        for folded in alias:
            self._folded.setdefault(self._find_cluster(folded), []).append(folded)

    def to_saved(self) -> SavedIndex:
        """Return the index in the saved layout (what ``storage.dedup_store`` writes); merges pending inserts
        first."""
        for table in self._tables():
            table.merge()
        self._unmerged = 0
        return SavedIndex(
            signature_key=self.options.signature_key(),
            columns={name: arr[: self._n] for name, arr in self._cols.items()},
            paragraphs={name: arr[: self._flat_n] for name, arr in self._flat.items()},
            key_tables={name: (table.keys, table.rows) for name, table in self._key_tables().items()},
            band_tables={
                name: list(zip(bands.keys, bands.rows, strict=True))
                for name, bands in (("full", self._full_bands), ("lead", self._lead_bands))
            },
            aliases=np.asarray(list(self._alias.items()), dtype=np.uint64).reshape(-1, 2),
        )

    @classmethod
    def from_saved(cls, saved: SavedIndex, options: DedupOptions) -> DedupIndex:
        """Return the index stored by :meth:`to_saved`. Raises ValueError when it was built with other signature
        options or lacks an array (then rebuild it)."""
        if tuple(saved.signature_key) != options.signature_key():
            raise ValueError(
                f"index built with signature options {saved.signature_key}, expected {options.signature_key()}"
            )
        index = cls(options)
        index._cols = {}
        for name, (dtype, width) in index._specs().items():
            if name not in saved.columns:
                raise ValueError(f"saved index lacks column {name}")
            arr = np.asarray(saved.columns[name], dtype=dtype)
            if width and arr.shape[1:] != (width,):
                raise ValueError(f"column {name} has shape {arr.shape}, expected width {width}")
            index._cols[name] = arr
        index._n = index._cap = len(index._cols["article_id"])
        index._flat = {name: np.asarray(saved.paragraphs[name], dtype=t) for name, t in _PARAGRAPHS.items()}
        index._flat_n = len(index._flat["para_values"])
        if int(index._cols["para_count"].sum()) != index._flat_n:
            raise ValueError("saved paragraphs do not match the entries' paragraph counts")
        for name, table in index._key_tables().items():
            keys, rows = saved.key_tables[name]
            setattr(index, "_" + name, KeyTable(table.dtype, keys, rows))
        index._full_bands = _band_table(saved, "full", options.lsh_bands)
        index._lead_bands = _band_table(saved, "lead", options.lead_lsh_bands)
        index._set_aliases({int(a): int(b) for a, b in np.asarray(saved.aliases).tolist()})
        index.modified = False
        return index

    @classmethod
    def rebuild(cls, rows: Iterable[IndexRow], options: DedupOptions, batch_size: int = 2000) -> DedupIndex:
        """Return an index holding ``rows`` (stored articles with their cluster ids), without matching: the
        stored decisions are trusted. Rows older than the window (see :meth:`evict`) are dropped. A row whose
        article_id was already added is skipped."""
        index = cls(options)
        batch: list[IndexRow] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= batch_size:
                index.add_rows(batch)
                batch = []
        if batch:
            index.add_rows(batch)
        index.evict()
        return index

    def add_rows(self, rows: Sequence[IndexRow]) -> None:
        """Add stored articles with their stored cluster ids, without matching (see :meth:`rebuild`): signatures
        and keys for the whole batch at once, then one bulk append. A row whose article_id is already in the
        index (or earlier in ``rows``) is skipped."""
        if not rows:
            return
        keys = batch_keys(rows, self.options)
        sigs = compute_signatures([r.text for r in rows], self.options)
        new, _, _ = self._new_items(keys.article_id)
        new_items = np.flatnonzero(new).astype(np.int64)
        clusters = np.asarray([id_to_int(rows[i].cluster_id) for i in new_items.tolist()], dtype=np.uint64)
        self._append_batch(keys, sigs, new_items, clusters.reshape(len(new_items)))
        self._maybe_merge()


def _band_table(saved: SavedIndex, name: str, bands: int) -> BandTable:
    """Return the saved band table ``name``; raises ValueError when it has another number of bands."""
    stored = saved.band_tables[name]
    if len(stored) != bands:
        raise ValueError(f"band table {name} has {len(stored)} bands, expected {bands}")
    return BandTable(bands, [np.asarray(k, np.uint32) for k, _ in stored], [np.asarray(r, np.int32) for _, r in stored])
