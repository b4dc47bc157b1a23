"""Verification: is a candidate pair of articles the same story, or two stories that share a block of text?

A candidate (an entry sharing a key or an LSH bucket with the article) becomes a link only on evidence about the
whole of the *shorter* text, never on one shared block:

``exact``
    same canonical URL, or the same normalised body (``content_hash``, for bodies of at least
    ``min_shared_words`` words): the same article, linked as is.
near duplicate
    the estimated full-text Jaccard reaches ``near_duplicate_jaccard``: both texts are mostly the same words.
contained
    at least ``min_found_paragraphs`` of the shorter text's paragraphs are found in the longer one (one shared
    paragraph is one shared block, however short the rest of the text), and either the shorter text is wholly in the
    longer one (``whole_min_share`` of its words: say, a copy of a story's second half), or the two texts *open
    alike* (a paragraph in the first ``opening_tokens`` tokens of one is found in the first ``opening_tokens``
    tokens of the other) and at least ``contained_min_share`` of the shorter text is found in the longer one. The
    second is what a lead-only teaser, a truncated copy or a copy with a header, a byline or a note looks like: the
    shorter text is the longer one's beginning, plus some boilerplate. One paragraph is enough when it is word for
    word the first paragraph of both and at least ``single_paragraph_min_share`` of the shorter text (a teaser of a
    story's first paragraph alone). A background paragraph that another story reuses sits after its own story's
    lead, so it never makes two openings alike, wherever the other story puts it (start, middle or end); nor does a
    standard paragraph appended to different stories, nor a shared quote.
title
    same normalised title, outlet and UTC day (the candidate came through the title key), and at least
    ``title_min_share`` of the shorter text found in the longer one.

Every rule but ``exact`` also needs ``min_shared_words`` words of shared text (the floor for very short items).

The share of the shorter text found in the longer is measured twice and the larger is kept: over paragraphs
(the words of the shorter text's substantial paragraphs whose fuzzy value, see :mod:`tasks.dedup.signatures`,
occurs in the longer text on a paragraph of about the same length), and over shingles (the containment implied
by the full-text Jaccard estimate and the two shingle counts, used only when the longer text is at most
``jaccard_containment_ratio`` times the shorter, where that estimate is sharp). Everything is computed for all
candidate pairs of a batch at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tasks.dedup.options import DedupOptions
from tasks.dedup.signatures import F64, I32, I64, U16, U32, Signatures, compute_signatures

METHOD_ALREADY_INGESTED = "already_ingested"
METHOD_CANONICAL_URL = "canonical_url"
METHOD_CONTENT_HASH = "content_hash"
METHOD_TITLE = "title_same_outlet_day"
METHOD_MINHASH = "minhash"
METHOD_CONTAINMENT = "containment"

# When one article matches an entry by several methods, the most certain method is reported.
METHOD_RANK = {
    METHOD_CANONICAL_URL: 0,
    METHOD_CONTENT_HASH: 1,
    METHOD_TITLE: 2,
    METHOD_MINHASH: 3,
    METHOD_CONTAINMENT: 4,
}
RANK_METHOD = {rank: method for method, rank in METHOD_RANK.items()}
# Rank of a candidate found by a similarity key only (LSH bucket, paragraph): below every exact-key method.
NO_EXACT = 9
# Ranks below this are exact keys: the same article, linked without looking at the text.
EXACT_BELOW = METHOD_RANK[METHOD_TITLE]
NOT_VERIFIED = -1


@dataclass(frozen=True, slots=True)
class Entries:
    """The index columns verification reads (row i is entry i; paragraphs are flat, entry i owning
    ``para_count[i]`` values from ``para_start[i]``)."""

    full_sig: npt.NDArray[np.uint16]
    opening: U32  # (n, 2) exact hashes of the first two substantial paragraphs, 0 for none
    full_size: I32
    tokens: I32
    para_start: I64
    para_count: I32
    para_values: U32
    para_tokens: U16


@dataclass(frozen=True, slots=True)
class Verdicts:
    """Per candidate pair: the method rank of the link (``NOT_VERIFIED`` for none) and its similarity."""

    rank: I64
    similarity: F64


def _expand(starts: I64, counts: I64) -> tuple[I64, I64]:
    """Return (flat index, owner) for the ranges ``[starts[p], starts[p] + counts[p])`` of every owner p."""
    total = int(counts.sum())
    if total == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    owner = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    ends = np.cumsum(counts)
    flat = np.arange(total, dtype=np.int64) - np.repeat(ends - counts, counts) + np.repeat(starts, counts)
    return flat, owner


def _opening(tokens: I64, owner: I64, count: int, limit: int) -> npt.NDArray[np.bool_]:
    """Return which paragraphs (flat, grouped by owner in text order) start within their text's first ``limit``
    tokens."""
    before = np.cumsum(tokens) - tokens
    first = np.searchsorted(owner, np.arange(count), side="left")
    safe_first = np.minimum(first, max(len(before) - 1, 0))
    start_of_owner = before[safe_first] if len(before) else np.zeros(count, dtype=np.int64)
    return (before - start_of_owner[owner]) <= limit


def _found(
    keys_owner: I64, keys: U32, key_tokens: I64, query_owner: I64, queries: U32, query_tokens: I64, slack: float
) -> npt.NDArray[np.bool_]:
    """Return, for every query paragraph (owner, value, length), whether a key paragraph of the same owner has
    the same value and a length within ``slack`` of it (a relative difference, or 4 tokens for short ones)."""
    if len(queries) == 0 or len(keys) == 0:
        return np.zeros(len(queries), dtype=np.bool_)
    packed = (keys_owner.astype(np.uint64) << np.uint64(32)) | keys.astype(np.uint64)
    order = np.argsort(packed, kind="stable")
    packed, lengths = packed[order], key_tokens[order]
    q = (query_owner.astype(np.uint64) << np.uint64(32)) | queries.astype(np.uint64)
    at = np.minimum(np.searchsorted(packed, q), len(packed) - 1)
    allowed = np.maximum(4.0, slack * np.maximum(lengths[at], query_tokens))
    found: npt.NDArray[np.bool_] = (packed[at] == q) & (np.abs(lengths[at] - query_tokens) <= allowed)
    return found


def paragraph_evidence(
    entries: Entries, shorter: I64, longer: I64, options: DedupOptions
) -> tuple[F64, F64, I64, npt.NDArray[np.bool_]]:
    """Return, per pair, the words of the shorter text's substantial paragraphs found in the longer text, the
    words of those paragraphs in all, how many of them are found, and whether the two texts open alike (see
    the module docstring)."""
    m = len(shorter)
    e = entries
    slack = options.paragraph_length_slack
    s_flat, s_owner = _expand(e.para_start[shorter], e.para_count[shorter].astype(np.int64))
    l_flat, l_owner = _expand(e.para_start[longer], e.para_count[longer].astype(np.int64))
    s_values, l_values = e.para_values[s_flat], e.para_values[l_flat]
    s_tokens = e.para_tokens[s_flat].astype(np.int64)
    l_tokens = e.para_tokens[l_flat].astype(np.int64)
    found = _found(l_owner, l_values, l_tokens, s_owner, s_values, s_tokens, slack)
    shared = np.bincount(s_owner, weights=s_tokens * found, minlength=m)
    total = np.bincount(s_owner, weights=s_tokens, minlength=m)
    s_open = _opening(s_tokens, s_owner, m, options.opening_tokens)
    l_open = _opening(l_tokens, l_owner, m, options.opening_tokens)
    opens = _found(
        l_owner[l_open],
        l_values[l_open],
        l_tokens[l_open],
        s_owner[s_open],
        s_values[s_open],
        s_tokens[s_open],
        slack,
    )
    aligned = np.bincount(s_owner[s_open], weights=opens, minlength=m) > 0
    found_count = np.bincount(s_owner, weights=found, minlength=m).astype(np.int64)
    return shared.astype(np.float64), total.astype(np.float64), found_count, aligned


def _same_lead(entries: Entries, shorter: I64, longer: I64) -> npt.NDArray[np.bool_]:
    """Return, per pair, whether the first substantial paragraph of one text is, word for word, the first or the
    second of the other (a teaser that copies only a story's first paragraph, under an outlet's header line)."""
    s_open, l_open = entries.opening[shorter], entries.opening[longer]
    same = (s_open[:, :1] == l_open) | (l_open[:, :1] == s_open)
    found: npt.NDArray[np.bool_] = (same & (s_open[:, :1] != 0) & (l_open[:, :1] != 0)).any(axis=1)
    return found


def verify_pairs(entries: Entries, a: I64, b: I64, ranks: I64, options: DedupOptions) -> Verdicts:
    """Return the verdicts of the candidate pairs (entry ``a[p]``, entry ``b[p]``) found with exact-key rank
    ``ranks[p]`` (``NO_EXACT`` for a similarity key): which rule links them, if any, and how similar they are
    (1.0 for an exact key, the Jaccard estimate for ``minhash``, the share of the shorter text found in the
    longer for ``containment`` and ``title``)."""
    o = options
    e = entries
    m = len(a)
    rank = np.full(m, NOT_VERIFIED, dtype=np.int64)
    similarity = np.zeros(m, dtype=np.float64)
    if m == 0:
        return Verdicts(rank, similarity)
    exact = ranks < EXACT_BELOW
    rank[exact] = ranks[exact]
    similarity[exact] = 1.0
    rest = np.flatnonzero(~exact)
    if len(rest) == 0:
        return Verdicts(rank, similarity)
    ra, rb = a[rest], b[rest]
    a_shorter = e.tokens[ra] <= e.tokens[rb]
    shorter = np.where(a_shorter, ra, rb)
    longer = np.where(a_shorter, rb, ra)
    ns = e.full_size[shorter].astype(np.float64)
    nl = e.full_size[longer].astype(np.float64)
    valid = (ns > 0) & (nl > 0)
    jaccard = np.count_nonzero(e.full_sig[ra] == e.full_sig[rb], axis=1) / o.num_perm
    jaccard = np.where(valid, jaccard, 0.0)
    by_shingles = np.minimum(jaccard * (ns + nl) / (1.0 + jaccard) / np.maximum(ns, 1.0), 1.0)
    by_shingles = np.where(nl <= o.jaccard_containment_ratio * ns, by_shingles, 0.0)
    shared_words, para_words, found, aligned = paragraph_evidence(e, shorter, longer, o)
    by_paragraphs = shared_words / np.maximum(para_words, 1.0)
    share = np.maximum(by_paragraphs, by_shingles)
    shorter_words = e.tokens[shorter].astype(np.float64)
    shared = np.maximum(shared_words, by_shingles * shorter_words)
    enough = shared >= o.min_shared_words

    near = valid & (jaccard >= o.near_duplicate_jaccard) & (shorter_words >= o.min_shared_words)
    two = found >= o.min_found_paragraphs
    one_lead = _same_lead(e, shorter, longer) & (share >= o.single_paragraph_min_share)
    contained = aligned & (two | one_lead) & (share >= o.contained_min_share) & enough
    contained |= (share >= o.whole_min_share) & two & enough
    title = (ranks[rest] == METHOD_RANK[METHOD_TITLE]) & (share >= o.title_min_share) & enough
    labelled = np.where(
        jaccard >= o.minhash_label_jaccard, METHOD_RANK[METHOD_MINHASH], METHOD_RANK[METHOD_CONTAINMENT]
    )
    sub_rank = np.select(
        [title, near | contained], [np.int64(METHOD_RANK[METHOD_TITLE]), labelled], default=NOT_VERIFIED
    )
    sub_similarity = np.select(
        [title, sub_rank == METHOD_RANK[METHOD_MINHASH], sub_rank == METHOD_RANK[METHOD_CONTAINMENT]],
        [share, jaccard, share],
        default=0.0,
    )
    rank[rest] = sub_rank
    similarity[rest] = np.minimum(sub_similarity, 1.0)
    return Verdicts(rank, similarity)


def entries_of(sigs: Signatures) -> Entries:
    """Return the signatures of a batch as verification entries (text i is entry i), to compare texts without
    an index."""
    counts = sigs.para_count.astype(np.int64)
    return Entries(
        full_sig=sigs.full,
        opening=np.ascontiguousarray(sigs.paras[:, :2]),
        full_size=sigs.full_size,
        tokens=sigs.tokens,
        para_start=np.cumsum(counts) - counts,
        para_count=sigs.para_count,
        para_values=sigs.para_values,
        para_tokens=sigs.para_tokens,
    )


def compare_texts(first: Sequence[str], second: Sequence[str], options: DedupOptions) -> Verdicts:
    """Return the verdicts of the text pairs ``(first[i], second[i])`` as similarity candidates (no exact key):
    what verification says of them wherever the candidates came from."""
    if len(first) != len(second):
        raise ValueError("first and second must have the same length")
    entries = entries_of(compute_signatures([*first, *second], options))
    n = len(first)
    a = np.arange(n, dtype=np.int64)
    return verify_pairs(entries, a, a + n, np.full(n, NO_EXACT, dtype=np.int64), options)
