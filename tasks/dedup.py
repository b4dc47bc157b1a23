"""Dedup: recognise copies of news articles (wire copies, tracking-URL variants, lead-only teasers, corrected or
re-headlined versions) within a run and across runs, and link each copy to the story it copies.

Methods, tried for every article against everything already in the index (``method`` values):

``already_ingested``
    the article_id is already in the index: the same article seen again (a rerun, or an updated version at the
    same URL). Reruns are idempotent: the decision points at the stored entry's original.
``canonical_url``
    the canonical URL (the page's ``rel=canonical``/``og:url`` else :func:`tasks.urls.canonicalize_url` of the
    fetched URL) equals one in the index.
``content_hash``
    the normalised body (:func:`tasks.ids.normalize_text`) is byte-identical.
``title_same_outlet_day``
    same normalised title, same outlet, same UTC day, and the bodies agree at least weakly (so a recurring
    column such as "Morning briefing" is not one story).
``minhash``
    near-duplicate body: MinHash LSH over shingles proposes candidates and each one is verified by its estimated
    Jaccard similarity (or containment of the shorter body in the longer one, for trimmed tails).
``containment``
    lead-only or truncated copy: a second, small signature covers only the first ``lead_shingles`` shingles of
    each body (the lead). A teaser's shingles are mostly contained in the original's lead, while its Jaccard with
    the full original is tiny, so full-text LSH cannot see it. The lead signature is indexed separately and a
    candidate counts when the estimated containment of the shorter lead in the other is high. A background
    paragraph reused in a different story sits mid-article, so it does not make two leads alike.

Shingles are ``shingle_size`` consecutive tokens of the normalised text; a token is a word, or a single character
in unspaced scripts (Chinese, Japanese kana, Thai, Lao, Khmer, Myanmar), so Chinese gets character shingles and
mixed texts work. Shingle hashes are computed for a whole batch at once with a polynomial rolling hash in numpy
(no Python loop over words); the full-text signature is a densified one-permutation MinHash (one hash per
shingle, so its cost does not grow with the number of permutations), the lead signature a classic MinHash.

Which one is the original: **first seen wins**. The first article of a story that enters the index (in batch
order, then in order within a batch) is the original; every later match is a copy of that story's cluster. The
cluster id is the original's article_id. Copies are added to the index too, so a later copy can match through
any member. When a new article bridges two clusters (it matches members of both), the cluster seen first keeps
its id and the other is folded into it (union-find); decisions already returned for members of the folded
cluster are not rewritten, :meth:`DedupIndex.cluster_aliases` lists the folds.

Memory: nothing but compact numpy columns are kept per entry (ids and hashes as 64-bit ints, 16-bit MinHash
values, 32-bit LSH keys), about 0.6 KB per article with the default options, so a million articles fit in
well under 1 GB. Lookup tables are sorted numpy arrays searched with ``searchsorted``, in two levels: the bulk,
and a small sorted level of recent inserts that is folded into the bulk every ``merge_every`` articles.

Speed: a batch is processed as a whole. Signatures, keys, lookups, the batch against itself (articles sharing
a key with an earlier article of the batch) and the verification of every candidate pair are numpy operations
over the batch; Python only walks the copies found, in order, to link them to their clusters (first seen wins).

Time window: entries whose time (``published_at`` else ``fetched_at``) is more than ``window_days`` older than
the newest fetch in the index are evicted when the index is saved or loaded (``storage/dedup_store.py``). The
index is a cache: :meth:`DedupIndex.rebuild` recreates it from the ``articles`` dataset.
"""

from __future__ import annotations

import dataclasses
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt
import xxhash
from prefect import task
from prefect.cache_policies import NO_CACHE

from tasks.ids import normalize_text
from tasks.records import STAGE_DEDUP, Article, DedupDecision, Rejection, describe_error
from tasks.urls import canonicalize_url

METHOD_ALREADY_INGESTED = "already_ingested"
# Rejection reason: an article whose dedup keys or signatures could not be computed.
REASON_DEDUP_ERROR = "dedup_error"
METHOD_CANONICAL_URL = "canonical_url"
METHOD_CONTENT_HASH = "content_hash"
METHOD_TITLE = "title_same_outlet_day"
METHOD_MINHASH = "minhash"
METHOD_CONTAINMENT = "containment"

# When one article matches entries by several methods, the most certain method is reported.
_METHOD_RANK = {
    METHOD_CANONICAL_URL: 0,
    METHOD_CONTENT_HASH: 1,
    METHOD_TITLE: 2,
    METHOD_MINHASH: 3,
    METHOD_CONTAINMENT: 4,
}

# Version of the signature scheme: a persisted index built with another version must be rebuilt.
SIGNATURE_VERSION = 1

# A single text is at most this many characters (the size of the table of powers, 16 MB).
_CHUNK_CHARS = 1 << 20
# Texts are signed in chunks of about this many characters (one text may exceed it): the temporary arrays (about
# 40 bytes per character) then stay in the processor's cache, which makes signing twice as fast as with chunks of
# a million characters, and memory stays bounded whatever the batch size.
_TARGET_CHUNK_CHARS = 1 << 18

U64 = npt.NDArray[np.uint64]
U32 = npt.NDArray[np.uint32]
U16 = npt.NDArray[np.uint16]
I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]
F64 = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class DedupOptions:
    """Thresholds and signature sizes of the dedup stage (see the module docstring for the methods)."""

    # Retention of the index, in days of article time. 30 days: wire copies and re-runs of a story appear within
    # days; a month covers late syndication while keeping the index small.
    window_days: int = 30
    # 5 tokens per shingle: the usual choice for news near-duplicates; copies keep most 5-shingles (typo or
    # boilerplate edits break only the 5 around them) while different stories on the same topic share < 1 %.
    shingle_size: int = 5
    # Full-text signature size (one-permutation MinHash bins, power of two). 64 bins estimate a Jaccard of 0.5
    # within +-0.06 (1 sd), enough to separate copies (>= 0.45) from reused-paragraph stories (<= 0.12).
    num_perm: int = 64
    # LSH banding of the full-text signature: 16 bands of 4 rows find pairs with Jaccard 0.7 with p > 0.99 and
    # 0.6 with p = 0.9; lower-similarity copies (trimmed, combined edits) share their lead and are found by the
    # lead index instead. 4 rows keep buckets of unrelated articles that share boilerplate small.
    lsh_rows: int = 4
    # Size of the lead region, in shingles (about the first two short paragraphs). Long enough that a header line
    # or a dateline added in front moves few of its shingles, short enough that a 2-3 paragraph teaser covers it.
    lead_shingles: int = 80
    # Lead signature size (classic MinHash; the lead is small, so k hash functions per shingle is cheap).
    lead_num_perm: int = 32
    # Lead LSH: 16 bands of 2 rows find leads with Jaccard 0.35 (a short teaser against a full lead) with
    # p = 0.88 and 0.5 with p = 0.99.
    lead_lsh_rows: int = 2
    # Verified full-text Jaccard for ``minhash``. Copies measured on syndication variants sit at >= 0.45;
    # different stories sharing a background paragraph at <= 0.12: 0.35 sits in the gap with 3+ sd either side.
    minhash_threshold: float = 0.35
    # A trimmed copy is contained in its original: accept a lower Jaccard when the estimated containment of the
    # shorter body in the longer is this high.
    minhash_containment: float = 0.8
    # ... but never below this Jaccard (the containment estimate is too noisy below it).
    minhash_containment_floor: float = 0.2
    # Estimated containment of the shorter lead in the other for ``containment``. Teasers carry boilerplate lines
    # (subscribe, copyright) that can be a third of their text, so 0.55 and not higher.
    lead_containment_threshold: float = 0.55
    # ... and the shared part of the leads must be at least this many shingles (about 3 lines of text), so that
    # two very short items that share a boilerplate sentence do not count.
    lead_min_overlap: int = 20
    # Paragraph anchors: the first this many substantial paragraphs of each body are hashed. A teaser carries at
    # most a line or two of outlet header before the original's first paragraph, so 4 still reach it.
    lead_paragraphs: int = 4
    # A paragraph (line) with fewer tokens is not substantial: headers such as "Most read" or "Share this
    # article" are skipped when counting paragraphs.
    paragraph_min_tokens: int = 4
    # A paragraph match counts as a lead copy when the longer body's first two paragraphs appear in a row in the
    # shorter one, or its first paragraph alone when it has this many tokens (a full sentence or two).
    paragraph_single_min_tokens: int = 15
    # ... and the matched paragraphs must be this share of the shorter body's tokens, so that a long story that
    # quotes another's opening as background is not a copy of it.
    paragraph_min_coverage: float = 0.3
    # A title match also needs this much body agreement (best of full Jaccard and lead containment): same-titled
    # recurring columns ("Letters", "Morning briefing") differ in body, copies do not.
    title_min_body_similarity: float = 0.1
    # Titles shorter than this (in normalised characters) are too generic for the title method.
    title_min_chars: int = 16
    # Bodies shorter than this (normalised characters) are not hashed for ``content_hash`` (empty or one-line
    # pages would all collide).
    content_min_chars: int = 80
    # At most this many entries are read from one LSH bucket: larger buckets are boilerplate (a shared footer),
    # and the most recent entries are the relevant ones.
    max_bucket: int = 64
    # Bodies are cut at this many characters before shingling; two texts equal over their first 200k characters
    # are the same story for dedup purposes and it bounds the work per article.
    max_chars: int = 200_000
    # The small level of recent inserts is folded into the bulk of the tables after this many articles. Each batch
    # re-sorts the small level (about 40 keys per article) and each fold copies the bulk once (~0.3 s at 1M
    # entries): 10,000 keeps both costs near their minimum sum (about 10 us per article each at 1M).
    merge_every: int = 10_000

    def __post_init__(self) -> None:
        if self.num_perm & (self.num_perm - 1) or not 8 <= self.num_perm <= 1024:
            raise ValueError(f"num_perm must be a power of two in [8, 1024], got {self.num_perm}")
        if self.num_perm % self.lsh_rows or self.lead_num_perm % self.lead_lsh_rows:
            raise ValueError("lsh_rows must divide num_perm and lead_lsh_rows must divide lead_num_perm")
        if self.shingle_size < 1 or self.lead_shingles < 1 or self.window_days < 1:
            raise ValueError("shingle_size, lead_shingles and window_days must be positive")
        if not 1000 <= self.max_chars < _CHUNK_CHARS:
            raise ValueError(f"max_chars must be in [1000, {_CHUNK_CHARS})")

    @property
    def lsh_bands(self) -> int:
        """Number of full-text LSH bands."""
        return self.num_perm // self.lsh_rows

    @property
    def lead_lsh_bands(self) -> int:
        """Number of lead LSH bands."""
        return self.lead_num_perm // self.lead_lsh_rows

    def signature_key(self) -> tuple[int, ...]:
        """Return what a persisted index must share with these options to be reusable."""
        return (
            SIGNATURE_VERSION,
            self.shingle_size,
            self.num_perm,
            self.lsh_rows,
            self.lead_shingles,
            self.lead_num_perm,
            self.lead_lsh_rows,
            self.max_chars,
            self.lead_paragraphs,
            self.paragraph_min_tokens,
        )


@dataclass(frozen=True, slots=True)
class IndexRow:
    """One stored article as the ``articles`` dataset holds it: enough to rebuild the index."""

    article_id: str
    cluster_id: str
    canonical_url: str | None
    content_hash: str
    title: str | None
    source: str
    published_at: datetime | None
    fetched_at: datetime
    text: str
    url: str | None = None


# ---------------------------------------------------------------------------------------------------------------
# Signatures


# Unspaced scripts (each character is a token): Thai, Lao, Myanmar, Khmer, Japanese kana, CJK ideographs.
_UNSPACED_RANGES = (
    (0x0E00, 0x0EFF),
    (0x1000, 0x109F),
    (0x1780, 0x17FF),
    (0x3040, 0x30FF),
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xF900, 0xFAFF),
    (0x20000, 0x2FFFF),
)
_MASK32 = np.uint64(0xFFFFFFFF)
# Base of the polynomial rolling hash (the 64-bit FNV prime: odd, so invertible modulo 2**64) and its inverse.
_P = 0x100000001B3
_P_INV = pow(_P, -1, 1 << 64)
# Multiplier combining the token hashes of a shingle (odd 64-bit constant from splitmix64).
_R = np.uint64(0x9E3779B97F4A7C15)
_EMPTY = np.uint64(1 << 32)
_NEWLINE = 10


def _mix64(z: U64) -> U64:
    """Return splitmix64's finaliser of ``z``: spreads a polynomial hash over all 64 bits."""
    z = z ^ (z >> np.uint64(30))
    z = z * np.uint64(0xBF58476D1CE4E5B9)
    z = z ^ (z >> np.uint64(27))
    z = z * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@lru_cache(maxsize=1)
def _char_classes() -> npt.NDArray[np.uint8]:
    """Return the class of every code point: 0 separates tokens, 1 is a word character (letter, digit or mark),
    2 a word character of an unspaced script (a token on its own).

    Built once per process (a fraction of a second); everything else is then numpy indexing.
    """
    # Planes above 2 hold no letters of living scripts (tags, private use): those code points separate tokens.
    word = np.zeros(0x110000, dtype=np.bool_)
    word[:0x30000] = np.fromiter(
        (chr(c).isalnum() or unicodedata.category(chr(c))[0] == "M" for c in range(0x30000)),
        dtype=np.bool_,
        count=0x30000,
    )
    classes = word.astype(np.uint8)
    for lo, hi in _UNSPACED_RANGES:
        classes[lo : hi + 1] *= 2
    return classes


@lru_cache(maxsize=1)
def _powers(size: int) -> tuple[U64, U64]:
    """Return ``P**i`` and ``P**-i`` modulo 2**64 for i < size."""
    with np.errstate(over="ignore"):
        p = np.cumprod(np.full(size, _P, dtype=np.uint64))
        q = np.cumprod(np.full(size, _P_INV, dtype=np.uint64))
    one = np.ones(1, dtype=np.uint64)
    return np.concatenate([one, p[:-1]]), np.concatenate([one, q[:-1]])


@lru_cache(maxsize=8)
def _perm_params(count: int, seed: int) -> tuple[U32, U32]:
    """Return fixed odd multipliers and xor masks of ``count`` 32-bit permutations ``(h ^ b) * a``: applied to
    already well-mixed hashes they act as independent random permutations, at 4 bytes per value."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 1 << 31, size=count, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = rng.integers(0, 1 << 32, size=count, dtype=np.uint64).astype(np.uint32)
    return a, b


def prepare_text(text: str, max_chars: int) -> str:
    """Return ``text`` as it is tokenised: cut at ``max_chars``, NFKC-normalised and case-folded.

    Tokens are then runs of letters, digits and marks, or single characters of unspaced scripts; everything
    else (punctuation, spaces) only separates tokens, so quotes, dashes and spacing do not change a shingle.
    Line breaks separate paragraphs.
    """
    return unicodedata.normalize("NFKC", text[:max_chars]).casefold()


@dataclass(frozen=True, slots=True)
class Signatures:
    """Signatures of a batch of texts: row i belongs to text i."""

    full: U16  # (n, num_perm) low 16 bits of the densified one-permutation MinHash
    full_bands: U32  # (n, lsh_bands) LSH bucket keys
    full_size: I32  # number of shingles (0: no signature)
    lead: U16  # (n, lead_num_perm)
    lead_bands: U32  # (n, lead_lsh_bands)
    lead_size: I32
    paras: U32  # (n, lead_paragraphs) hashes of the first substantial paragraphs, 0 for none
    para_tokens: I32  # (n, lead_paragraphs) their token counts
    tokens: I32  # number of tokens of the whole body


def _band_keys(values: U64, rows: int) -> U32:
    """Return one 32-bit key per band of ``rows`` consecutive values (band index mixed in)."""
    n, k = values.shape
    bands = k // rows
    v = values.reshape(n, bands, rows)
    acc = np.broadcast_to(np.arange(bands, dtype=np.uint64) * _R, (n, bands)).copy()
    with np.errstate(over="ignore"):
        for r in range(rows):
            acc = _mix64(acc ^ v[:, :, r])
    return (acc >> np.uint64(32)).astype(np.uint32)


def _first_of_groups(group: I64, count: int) -> I64:
    """Return, for sorted group labels in ``[0, count)``, the index where each label starts."""
    return np.searchsorted(group, np.arange(count), side="left").astype(np.int64)


def compute_signatures(texts: Sequence[str], options: DedupOptions) -> Signatures:
    """Return the full-text, lead and paragraph signatures of ``texts`` (vectorised over chunks of texts)."""
    docs = [prepare_text(t, options.max_chars) for t in texts]
    chunks: list[Signatures] = []
    start = 0
    while start < len(docs) or not chunks:
        end, size = start, 0
        while end < len(docs) and (end == start or size + len(docs[end]) < _TARGET_CHUNK_CHARS):
            size += len(docs[end]) + 1
            end += 1
        chunks.append(_sign_prepared(docs[start:end], options))
        start = end
    if len(chunks) == 1:
        return chunks[0]
    return Signatures(*(np.concatenate([getattr(c, f.name) for c in chunks]) for f in fields(Signatures)))


def _sign_prepared(docs: Sequence[str], options: DedupOptions) -> Signatures:
    """Return the signatures of prepared texts (see :func:`prepare_text`) in one vectorised pass."""
    o = options
    k = o.shingle_size
    n = len(docs)
    full = np.zeros((n, o.num_perm), dtype=np.uint16)
    full_keys = np.zeros((n, o.lsh_bands), dtype=np.uint32)
    lead = np.zeros((n, o.lead_num_perm), dtype=np.uint16)
    lead_keys = np.zeros((n, o.lead_lsh_bands), dtype=np.uint32)
    full_size = np.zeros(n, dtype=np.int32)
    lead_size = np.zeros(n, dtype=np.int32)
    paras = np.zeros((n, o.lead_paragraphs), dtype=np.uint32)
    para_tokens = np.zeros((n, o.lead_paragraphs), dtype=np.int32)
    tokens = np.zeros(n, dtype=np.int32)
    result = Signatures(full, full_keys, full_size, lead, lead_keys, lead_size, paras, para_tokens, tokens)
    if n == 0:
        return result

    # 1. One code-point array for the whole batch, documents separated by a line break.
    chars = np.frombuffer("\n".join(docs).encode("utf-32-le"), dtype=np.uint32)
    total = len(chars)
    lengths = np.fromiter((len(d) for d in docs), dtype=np.int64, count=n)
    doc_start = np.concatenate([[0], np.cumsum(lengths + 1)[:-1]])
    # ASCII letters and digits by arithmetic, other characters by the table (a lookup per character is the
    # slowest step of signing, and news text is mostly ASCII).
    word = ((chars | np.uint32(32)) - np.uint32(97) < 26) | (chars - np.uint32(48) < 10)
    high = np.flatnonzero(chars >= 128)
    high_classes = _char_classes()[chars[high]]
    word[high] = high_classes != 0
    if not word.any():
        return result

    # 2. Tokens: starts and ends of runs of word characters; an unspaced character is a token on its own.
    if (high_classes == 2).any():
        unspaced = np.zeros(total, dtype=np.bool_)
        unspaced[high[high_classes == 2]] = True
        prev_word = np.concatenate([[False], word[:-1]])
        prev_unspaced = np.concatenate([[False], unspaced[:-1]])
        next_word = np.concatenate([word[1:], [False]])
        next_unspaced = np.concatenate([unspaced[1:], [False]])
        tok_start = np.flatnonzero(word & (~prev_word | unspaced | prev_unspaced))
        tok_end = np.flatnonzero(word & (~next_word | unspaced | next_unspaced)) + 1
    else:
        # Spaced scripts only (the common case, and half the work): tokens are the runs of word characters.
        edges = np.diff(word.view(np.int8), prepend=np.int8(0), append=np.int8(0))
        tok_start = np.flatnonzero(edges == 1)
        tok_end = np.flatnonzero(edges == -1)
    # Documents are separated by a line break, so each token lies in one: count the tokens before each start.
    ntok = np.diff(np.append(np.searchsorted(tok_start, doc_start), len(tok_start)))
    tok_doc = np.repeat(np.arange(n, dtype=np.int64), ntok)
    tokens[:] = ntok

    # Token hash: polynomial hash of its code points (prefix sums make every substring hash O(1)).
    p_pow, q_pow = _powers(_CHUNK_CHARS)
    with np.errstate(over="ignore"):
        prefix = np.zeros(total + 1, dtype=np.uint64)
        np.cumsum(np.multiply(chars, q_pow[:total], dtype=np.uint64), out=prefix[1:])
        tok_hash = _mix64((prefix[tok_end] - prefix[tok_start]) * p_pow[tok_start])

    # 3. Paragraphs: tokens between line breaks; the first ``lead_paragraphs`` substantial ones per document.
    tok_line = np.searchsorted(np.flatnonzero(chars == _NEWLINE), tok_start)
    group_first = np.flatnonzero(np.concatenate([[True], tok_line[1:] != tok_line[:-1]]))
    group_size = np.diff(np.concatenate([group_first, [len(tok_line)]]))
    rank_in_group = np.arange(len(tok_line)) - np.repeat(group_first, group_size)
    with np.errstate(over="ignore"):
        group_hash = _mix64(
            np.add.reduceat(tok_hash * p_pow[rank_in_group], group_first) + group_size.astype(np.uint64)
        )
    group_hash = (group_hash >> np.uint64(32)).astype(np.uint32)
    group_hash[group_hash == 0] = 1
    substantial = group_size >= o.paragraph_min_tokens
    g_doc = tok_doc[group_first][substantial]
    g_hash = group_hash[substantial]
    g_size = group_size[substantial]
    g_rank = np.arange(len(g_doc)) - _first_of_groups(g_doc, n)[g_doc]
    keep = g_rank < o.lead_paragraphs
    paras[g_doc[keep], g_rank[keep]] = g_hash[keep]
    para_tokens[g_doc[keep], g_rank[keep]] = g_size[keep]

    # 4. Shingles: k consecutive tokens of one document; a document with fewer tokens is one shingle.
    with np.errstate(over="ignore"):
        if len(tok_hash) >= k:
            span = len(tok_hash) - k + 1
            sh = tok_hash[:span].copy()
            for t in range(1, k):
                sh = sh * _R + tok_hash[t : t + span]
            ok = tok_doc[:span] == tok_doc[k - 1 :]
            sh_hash = sh[ok]
            sh_doc = tok_doc[:span][ok]
        else:
            sh_hash = np.zeros(0, dtype=np.uint64)
            sh_doc = np.zeros(0, dtype=np.int64)
        short = np.flatnonzero((ntok > 0) & (ntok < k))
        if len(short):
            firsts = _first_of_groups(tok_doc, n)
            extra = np.zeros(len(short), dtype=np.uint64)
            for j, d in enumerate(short.tolist()):
                acc = tok_hash[firsts[d]].copy()
                for t in range(1, int(ntok[d])):
                    acc = acc * _R + tok_hash[firsts[d] + t]
                extra[j] = acc
            sh_hash = np.concatenate([sh_hash, extra])
            sh_doc = np.concatenate([sh_doc, short])
            order = np.argsort(sh_doc, kind="stable")
            sh_hash, sh_doc = sh_hash[order], sh_doc[order]
        hashes = _mix64(sh_hash)
    counts = np.bincount(sh_doc, minlength=n)
    full_size[:] = counts
    rank = np.arange(len(sh_doc)) - _first_of_groups(sh_doc, n)[sh_doc]
    has = counts > 0
    docs_with = np.flatnonzero(has)

    # 5. Full text: one-permutation MinHash (top bits pick the bin, low 32 bits are the value), then rotation
    # densification: an empty bin borrows the next non-empty bin to its right, offset by the distance.
    kp = o.num_perm
    bits = kp.bit_length() - 1
    sig = np.full(n * kp, _EMPTY, dtype=np.uint64)
    bins = (hashes >> np.uint64(64 - bits)).astype(np.int64)
    np.minimum.at(sig, sh_doc * kp + bins, hashes & _MASK32)
    sig2 = sig.reshape(n, kp)[docs_with]
    col = np.arange(kp)
    pos = np.where(sig2 != _EMPTY, col, 2 * kp)
    pos2 = np.concatenate([pos, np.where(pos < kp, pos + kp, 2 * kp)], axis=1)
    nxt = np.minimum.accumulate(pos2[:, ::-1], axis=1)[:, ::-1][:, :kp]
    src = np.take_along_axis(np.concatenate([sig2, sig2], axis=1), nxt, axis=1)
    with np.errstate(over="ignore"):
        dense = (src + (nxt - col).astype(np.uint64) * np.uint64(0x9E3779B1)) & _MASK32
    full[docs_with] = dense.astype(np.uint16)
    full_keys[docs_with] = _band_keys(dense, o.lsh_rows)

    # 6. Lead: classic MinHash over the first ``lead_shingles`` shingles.
    in_lead = rank < o.lead_shingles
    lead_doc = sh_doc[in_lead]
    a, b = _perm_params(o.lead_num_perm, 1)
    with np.errstate(over="ignore"):
        lead_hashes = (hashes[in_lead] >> np.uint64(32)).astype(np.uint32)
        permuted = (lead_hashes[:, None] ^ b[None, :]) * a[None, :]
    lead_counts = np.bincount(lead_doc, minlength=n)
    starts = _first_of_groups(lead_doc, n)
    lead_min = np.minimum.reduceat(permuted, starts[docs_with], axis=0)
    lead[docs_with] = lead_min.astype(np.uint16)
    lead_keys[docs_with] = _band_keys(lead_min.astype(np.uint64), o.lead_lsh_rows)
    lead_size[:] = lead_counts
    return result


# ---------------------------------------------------------------------------------------------------------------
# Keys


def key64(value: str) -> int:
    """Return the 64-bit lookup key of a string (xxh3: fast, stable across processes and machines)."""
    return int(xxhash.xxh3_64_intdigest(value.encode("utf-8")))


def id_to_int(article_id: str) -> int:
    """Return the 64-bit integer form of a 16-hex-digit article id (see :func:`tasks.ids.make_article_id`)."""
    if len(article_id) != 16:
        raise ValueError(f"article_id must be 16 hex digits (tasks.ids.make_article_id), got {article_id!r}")
    try:
        return int(article_id, 16)
    except ValueError:
        raise ValueError(f"article_id must be 16 hex digits, got {article_id!r}") from None


def int_to_id(value: int) -> str:
    """Return the article id string of its integer form."""
    return f"{value:016x}"


def _hours(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() // 3600)


def url_keys(canonical_url: str | None, url: str | None) -> list[int]:
    """Return the lookup keys of an article's URLs: its canonical URL and its fetched URL, canonicalised."""
    keys: list[int] = []
    for candidate in (canonical_url, url if url != canonical_url else None):
        if candidate:
            canon = canonicalize_url(candidate)
            if canon:
                k = key64("u:" + canon)
                if k not in keys:
                    keys.append(k)
    return keys


def title_key(title: str | None, source: str, event_hour: int, options: DedupOptions) -> int | None:
    """Return the key of (normalised title, outlet, UTC day), or None for a missing or too generic title."""
    if not title:
        return None
    norm = normalize_text(title)
    if len(norm) < options.title_min_chars:
        return None
    return key64(f"t:{norm}\x1f{source.casefold()}\x1f{event_hour // 24}")


def content_key(content_hash: str, text: str, options: DedupOptions) -> int | None:
    """Return the key of the body's content hash, or None for bodies too short to identify an article."""
    if len(text) < options.content_min_chars:
        return None
    return key64("c:" + content_hash)


# ---------------------------------------------------------------------------------------------------------------
# Lookup tables

_EMPTY_ROWS = np.zeros(0, dtype=np.int32)
_EMPTY_ITEMS = np.zeros(0, dtype=np.int64)


def _expand(lo: I64, hi: I64, items: I64, rows: I32) -> tuple[I64, I32]:
    """Return (item, row) pairs for the ranges ``rows[lo:hi]`` of each item."""
    counts = hi - lo
    total = int(counts.sum())
    if total == 0:
        return _EMPTY_ITEMS, _EMPTY_ROWS
    ends = np.cumsum(counts)
    idx = np.arange(total) + np.repeat(lo - (ends - counts), counts)
    return np.repeat(items, counts), rows[idx]


def _as_2d(keys: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """Return keys of shape (items,) or (items, m) as (items, m)."""
    return keys[:, None] if keys.ndim == 1 else keys


def _lookup(keys: npt.NDArray[Any], rows: I32, queries: npt.NDArray[Any], items: I64, limit: int) -> tuple[I64, I32]:
    """Return (item, row) pairs for the rows stored under each query key in the sorted ``keys``, at most
    ``limit`` per key (the most recent: rows of one key are in insertion order)."""
    if len(keys) == 0 or len(queries) == 0:
        return _EMPTY_ITEMS, _EMPTY_ROWS
    lo = np.searchsorted(keys, queries, side="left").astype(np.int64)
    hi = np.searchsorted(keys, queries, side="right").astype(np.int64)
    return _expand(np.maximum(lo, hi - limit), hi, items, rows)


def _merge_sorted(keys: npt.NDArray[Any], rows: I32, new_keys: npt.NDArray[Any], new_rows: I32) -> tuple[Any, I32]:
    """Return the sorted ``keys``/``rows`` with the new pairs inserted after the equal keys already there (so
    rows of one key stay in insertion order); ``new_keys`` need not be sorted."""
    if len(new_keys) == 0:
        return keys, rows
    order = np.argsort(new_keys, kind="stable")
    new_keys, new_rows = new_keys[order], new_rows[order]
    if len(keys) == 0:
        return new_keys, new_rows.astype(np.int32)
    at = np.searchsorted(keys, new_keys, side="right")
    return np.insert(keys, at, new_keys), np.insert(rows, at, new_rows)


class KeyTable:
    """A multimap from integer keys to entry rows, kept as two sorted levels: the bulk of the entries and a small
    level of recent inserts.

    A batch of inserts re-sorts only the small level; :meth:`merge` folds it into the large one (one linear pass),
    so an insert costs time in proportion to the recent level, not to the whole index. Lookups search both levels
    for a whole batch at once (``searchsorted``). Key 0 means "no key" and is never stored.
    """

    def __init__(self, dtype: type[np.unsignedinteger[Any]], keys: Any = None, rows: Any = None) -> None:
        self.dtype = dtype
        self.keys: npt.NDArray[Any] = np.zeros(0, dtype=dtype) if keys is None else np.asarray(keys, dtype)
        self.rows: I32 = _EMPTY_ROWS if rows is None else np.asarray(rows, np.int32)
        if len(self.keys) != len(self.rows):
            raise ValueError("keys and rows must have the same length")
        self.recent_keys: npt.NDArray[Any] = np.zeros(0, dtype=dtype)
        self.recent_rows: I32 = _EMPTY_ROWS

    def add_batch(self, keys: npt.NDArray[Any], rows: I32) -> None:
        """Record that the keys of shape (items, m) occur in entry ``rows[item]`` (zero keys are skipped)."""
        keys = _as_2d(np.asarray(keys, dtype=self.dtype))
        flat = keys.ravel()
        flat_rows = np.repeat(np.asarray(rows, np.int32), keys.shape[1])
        nonzero = flat != 0
        self.recent_keys, self.recent_rows = _merge_sorted(
            self.recent_keys, self.recent_rows, flat[nonzero], flat_rows[nonzero]
        )

    def find_batch(self, keys: npt.NDArray[Any], limit: int) -> tuple[I64, I32]:
        """Return (item, row) pairs for ``keys`` of shape (items, m), at most ``limit`` (the most recent) per key
        and level; zero keys are skipped."""
        keys = _as_2d(np.asarray(keys, dtype=self.dtype))
        items = np.repeat(np.arange(len(keys), dtype=np.int64), keys.shape[1])
        flat = keys.ravel()
        nonzero = flat != 0
        flat, items = flat[nonzero], items[nonzero]
        main = _lookup(self.keys, self.rows, flat, items, limit)
        recent = _lookup(self.recent_keys, self.recent_rows, flat, items, limit)
        return np.concatenate([main[0], recent[0]]), np.concatenate([main[1], recent[1]])

    def merge(self) -> None:
        """Fold the recent level into the large one (stable: rows stay in insertion order per key)."""
        if len(self.recent_keys) == 0:
            return
        if len(self.keys) == 0:
            self.keys, self.rows = self.recent_keys, self.recent_rows
        else:
            at = np.searchsorted(self.keys, self.recent_keys, side="right")
            self.keys = np.insert(self.keys, at, self.recent_keys)
            self.rows = np.insert(self.rows, at, self.recent_rows)
        self.recent_keys = np.zeros(0, dtype=self.dtype)
        self.recent_rows = _EMPTY_ROWS

    def compact(self, remap: I32) -> None:
        """Drop rows mapped to -1 by ``remap`` and renumber the others."""
        self.merge()
        new_rows = remap[self.rows]
        keep = new_rows >= 0
        self.keys = self.keys[keep]
        self.rows = new_rows[keep].astype(np.int32)


class BandTable:
    """The buckets of one LSH signature: one sorted (key, row) array pair per band (32-bit keys, the compact form
    a million entries are kept in), and one small sorted level of recent inserts for all bands, keyed
    ``band << 32 | key``."""

    def __init__(self, bands: int, keys: Sequence[Any] | None = None, rows: Sequence[Any] | None = None) -> None:
        self.bands = bands
        self.keys: list[U32] = [np.zeros(0, np.uint32) for _ in range(bands)] if keys is None else list(keys)
        self.rows: list[I32] = [_EMPTY_ROWS for _ in range(bands)] if rows is None else list(rows)
        if len(self.keys) != bands or len(self.rows) != bands:
            raise ValueError(f"expected {bands} bands")
        self.recent_keys: U64 = np.zeros(0, np.uint64)
        self.recent_rows: I32 = _EMPTY_ROWS

    def combined(self, keys: U32) -> U64:
        """Return bucket keys of shape (items, bands) as keys of the recent level (``band << 32 | key``)."""
        shifted = np.arange(self.bands, dtype=np.uint64) << np.uint64(32)
        return keys.astype(np.uint64) | shifted[None, :]

    def add_batch(self, keys: U32, rows: I32) -> None:
        """Record the bucket keys of shape (items, bands) of entries ``rows``."""
        flat = self.combined(keys).ravel()
        flat_rows = np.repeat(np.asarray(rows, np.int32), self.bands)
        self.recent_keys, self.recent_rows = _merge_sorted(self.recent_keys, self.recent_rows, flat, flat_rows)

    def find_batch(self, keys: U32, mask: npt.NDArray[np.bool_], limit: int) -> tuple[I64, I32]:
        """Return (item, row) pairs for bucket ``keys`` of shape (items, bands) of the items in ``mask``, at most
        ``limit`` (the most recent) per bucket and level."""
        items = np.flatnonzero(mask).astype(np.int64)
        parts_i: list[I64] = []
        parts_r: list[I32] = []
        for band in range(self.bands):
            it, rw = _lookup(self.keys[band], self.rows[band], keys[items, band], items, limit)
            parts_i.append(it)
            parts_r.append(rw)
        flat = self.combined(keys[items]).ravel()
        it, rw = _lookup(self.recent_keys, self.recent_rows, flat, np.repeat(items, self.bands), limit)
        parts_i.append(it)
        parts_r.append(rw)
        return np.concatenate(parts_i), np.concatenate(parts_r)

    def merge(self) -> None:
        """Fold the recent level into the per-band sorted arrays (it is sorted by band, then key)."""
        if len(self.recent_keys) == 0:
            return
        band_of = (self.recent_keys >> np.uint64(32)).astype(np.int64)
        bounds = np.searchsorted(band_of, np.arange(self.bands + 1))
        low = (self.recent_keys & _MASK32).astype(np.uint32)
        for band in range(self.bands):
            lo, hi = int(bounds[band]), int(bounds[band + 1])
            if lo == hi:
                continue
            if len(self.keys[band]) == 0:
                self.keys[band], self.rows[band] = low[lo:hi], self.recent_rows[lo:hi]
                continue
            at = np.searchsorted(self.keys[band], low[lo:hi], side="right")
            self.keys[band] = np.insert(self.keys[band], at, low[lo:hi])
            self.rows[band] = np.insert(self.rows[band], at, self.recent_rows[lo:hi])
        self.recent_keys = np.zeros(0, np.uint64)
        self.recent_rows = _EMPTY_ROWS

    def compact(self, remap: I32) -> None:
        """Drop rows mapped to -1 by ``remap`` and renumber the others."""
        self.merge()
        for band in range(self.bands):
            new_rows = remap[self.rows[band]]
            keep = new_rows >= 0
            self.keys[band] = self.keys[band][keep]
            self.rows[band] = new_rows[keep].astype(np.int32)


def _batch_pairs(keys: npt.NDArray[Any], items: I64, limit: int) -> tuple[I64, I64]:
    """Return (later, earlier) item pairs of a batch that share a key: ``keys[j]`` belongs to ``items[j]`` (0 is
    no key); each occurrence pairs with at most ``limit`` earlier items holding the same key."""
    nonzero = keys != 0
    keys, items = keys[nonzero], items[nonzero]
    if len(keys) < 2:
        return _EMPTY_ITEMS, _EMPTY_ITEMS
    order = np.lexsort((items, keys))
    k, it = keys[order], items[order]
    pos = np.arange(len(k))
    first = np.ones(len(k), dtype=np.bool_)
    first[1:] = k[1:] != k[:-1]
    start = np.maximum.accumulate(np.where(first, pos, 0))
    lo = np.maximum(start, pos - limit)
    counts = pos - lo
    total = int(counts.sum())
    if total == 0:
        return _EMPTY_ITEMS, _EMPTY_ITEMS
    ends = np.cumsum(counts)
    earlier = it[np.arange(total) + np.repeat(lo - (ends - counts), counts)]
    later = np.repeat(it, counts)
    keep = earlier != later
    return later[keep], earlier[keep]


# ---------------------------------------------------------------------------------------------------------------
# The index

# Column name -> (dtype, per-row width or 0 for a 1-d column); signature widths come from the options.
_COLUMNS: dict[str, tuple[type[np.generic], int]] = {
    "article_id": (np.uint64, 0),
    "original_of": (np.uint64, 0),
    "cluster": (np.uint64, 0),
    "event_hour": (np.int32, 0),
    "fetched_hour": (np.int32, 0),
    "full_size": (np.int32, 0),
    "lead_size": (np.int32, 0),
    "tokens": (np.int32, 0),
}

# Rank of a candidate found by a similarity key only (LSH bucket, paragraph): below every exact-key method.
_NO_EXACT = 9
_RANK_METHOD = {rank: method for method, rank in _METHOD_RANK.items()}
# Tags that keep the similarity keys of different tables apart when a batch is matched against itself.
_TAG_PARA = np.uint64(1 << 40)
_TAG_FULL = np.uint64(2 << 40)
_TAG_LEAD = np.uint64(3 << 40)


@dataclass(frozen=True, slots=True)
class _Keys:
    """The lookup keys of a batch of articles besides their signatures, one row per article (0: no key)."""

    article_id: U64
    urls: U64  # (n, 2): canonical URL, fetched URL canonicalised
    content: U64
    title: U64
    event_hour: I32
    fetched_hour: I32


def _batch_keys(records: Sequence[Article] | Sequence[IndexRow], options: DedupOptions) -> _Keys:
    """Return the keys of ``records``. Raises ValueError for an article_id that is not 16 hex digits."""
    ids: list[int] = []
    urls: list[list[int]] = []
    contents: list[int] = []
    titles: list[int] = []
    events: list[int] = []
    fetched: list[int] = []
    for r in records:
        event = _hours(r.published_at or r.fetched_at)
        ids.append(id_to_int(r.article_id))
        u = url_keys(r.canonical_url, r.url)
        urls.append([*u, 0, 0][:2])
        contents.append(content_key(r.content_hash, r.text, options) or 0)
        titles.append(title_key(r.title, r.source, event, options) or 0)
        events.append(event)
        fetched.append(_hours(r.fetched_at))
    n = len(ids)
    return _Keys(
        article_id=np.asarray(ids, dtype=np.uint64).reshape(n),
        urls=np.asarray(urls, dtype=np.uint64).reshape(n, 2),
        content=np.asarray(contents, dtype=np.uint64).reshape(n),
        title=np.asarray(titles, dtype=np.uint64).reshape(n),
        event_hour=np.asarray(events, dtype=np.int32).reshape(n),
        fetched_hour=np.asarray(fetched, dtype=np.int32).reshape(n),
    )


def _paragraph_coverage(
    q_paras: list[int], q_sizes: list[int], r_paras: list[int], q_tokens: int, r_tokens: int, options: DedupOptions
) -> float:
    """Return the share of the shorter body made of the longer body's opening paragraphs, or 0.0 when the longer
    body's first paragraph (and, unless it is long, its second) do not open a run in the shorter. ``q_*`` describe
    the incoming article (its paragraph sizes are the ones counted), ``r_*`` the indexed one."""
    q_paras = [h for h in q_paras if h]
    r_paras = [h for h in r_paras if h]
    longer, shorter = (q_paras, r_paras) if q_tokens >= r_tokens else (r_paras, q_paras)
    if not longer or not shorter or longer[0] not in shorter:
        return 0.0
    start = shorter.index(longer[0])
    run = 1
    while run < len(longer) and start + run < len(shorter) and longer[run] == shorter[start + run]:
        run += 1
    sizes = dict(zip(q_paras, q_sizes, strict=False))
    if run < 2 and sizes.get(longer[0], 0) < options.paragraph_single_min_tokens:
        return 0.0
    matched = sum(sizes.get(h, 0) for h in longer[:run])
    return float(min(matched / max(min(q_tokens, r_tokens), 1), 1.0))


@dataclass(frozen=True, slots=True)
class _Matches:
    """Verified matches of a batch, grouped by item (item k owns ``[bounds[k]:bounds[k + 1]]``) and sorted within
    an item by method rank, then similarity (descending), then row."""

    rows: I64
    ranks: I64
    similarity: F64
    bounds: I64


class DedupIndex:
    """The dedup index: compact signatures of recently seen articles and the tables to find them again.

    Not thread-safe; one index per flow run. Build with ``DedupIndex(options)``, :meth:`rebuild` or
    ``storage.dedup_store.load_index``.
    """

    def __init__(self, options: DedupOptions) -> None:
        self.options = options
        self._n = 0
        self._cap = 0
        self._cols: dict[str, npt.NDArray[Any]] = {}
        self._alloc(1024)
        self._ids = KeyTable(np.uint64)
        self._urls = KeyTable(np.uint64)
        self._contents = KeyTable(np.uint64)
        self._titles = KeyTable(np.uint64)
        self._paras = KeyTable(np.uint32)
        self._full_bands = BandTable(options.lsh_bands)
        self._lead_bands = BandTable(options.lead_lsh_bands)
        self._alias: dict[int, int] = {}
        self._unmerged = 0

    # -- storage of entries ------------------------------------------------------------------------------------

    def _specs(self) -> dict[str, tuple[type[np.generic], int]]:
        o = self.options
        return {
            **_COLUMNS,
            "full_sig": (np.uint16, o.num_perm),
            "lead_sig": (np.uint16, o.lead_num_perm),
            "paras": (np.uint32, o.lead_paragraphs),
        }

    def _alloc(self, capacity: int) -> None:
        # Column by column, so that growing holds one old column at a time next to the new ones.
        for name, (dtype, width) in self._specs().items():
            shape: tuple[int, ...] = (capacity, width) if width else (capacity,)
            arr = np.zeros(shape, dtype=dtype)
            if name in self._cols:
                arr[: self._n] = self._cols[name][: self._n]
            self._cols[name] = arr
        self._cap = capacity

    def _ensure(self, extra: int) -> None:
        need = self._n + extra
        if need > self._cap:
            # Grow by a quarter: doubling would reserve up to twice the memory a million entries need.
            self._alloc(max(need, self._cap + self._cap // 4, 1024))

    def __len__(self) -> int:
        return self._n

    def _tables(self) -> list[KeyTable | BandTable]:
        return [
            self._ids,
            self._urls,
            self._contents,
            self._titles,
            self._paras,
            self._full_bands,
            self._lead_bands,
        ]

    def _find_cluster(self, cluster: int) -> int:
        hops = 0
        while cluster in self._alias and hops < 1000:
            cluster = self._alias[cluster]
            hops += 1
        return cluster

    def cluster_aliases(self) -> dict[str, str]:
        """Return the clusters folded into an earlier one (folded cluster id -> surviving cluster id)."""
        return {int_to_id(k): int_to_id(self._find_cluster(k)) for k in self._alias}

    def _append_batch(self, keys: _Keys, sigs: Signatures, items: I64, cluster: U64) -> I64:
        """Append ``items`` of a batch as new entries of ``cluster`` (also their original) and return their rows."""
        m = len(items)
        self._ensure(m)
        start = self._n
        rows = np.arange(start, start + m, dtype=np.int64)
        c = self._cols
        at = slice(start, start + m)
        c["article_id"][at] = keys.article_id[items]
        c["original_of"][at] = cluster
        c["cluster"][at] = cluster
        c["event_hour"][at] = keys.event_hour[items]
        c["fetched_hour"][at] = keys.fetched_hour[items]
        c["full_size"][at] = sigs.full_size[items]
        c["lead_size"][at] = sigs.lead_size[items]
        c["tokens"][at] = sigs.tokens[items]
        c["full_sig"][at] = sigs.full[items]
        c["lead_sig"][at] = sigs.lead[items]
        c["paras"][at] = sigs.paras[items]
        self._n += m
        rows32 = rows.astype(np.int32)
        self._ids.add_batch(keys.article_id[items], rows32)
        self._urls.add_batch(keys.urls[items], rows32)
        self._contents.add_batch(keys.content[items], rows32)
        self._titles.add_batch(keys.title[items], rows32)
        self._paras.add_batch(sigs.paras[items], rows32)
        has = sigs.full_size[items] > 0
        self._full_bands.add_batch(sigs.full_bands[items][has], rows32[has])
        self._lead_bands.add_batch(sigs.lead_bands[items][has], rows32[has])
        self._unmerged += m
        return rows

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

    # -- matching ----------------------------------------------------------------------------------------------

    def _candidates(self, keys: _Keys, sigs: Signatures, items: I64, base: int) -> tuple[I64, I64, I64]:
        """Return candidate (item, row, exact method rank) triples for the new ``items`` of a batch (item k of
        the triples is ``items[k]``), unique per (item, row): entries already in the index (found in the tables;
        call before adding the batch) and earlier new items of the batch (rows from ``base`` on)."""
        o = self.options
        limit = o.max_bucket
        m = len(items)
        has_sig = sigs.full_size[items] > 0
        full_bands = sigs.full_bands[items]
        lead_bands = sigs.lead_bands[items]
        paras = sigs.paras[items]
        exact = ((keys.urls[items], 0), (keys.content[items], 1), (keys.title[items], 2))
        parts: list[tuple[I64, I64, int]] = []
        for table, (k, rank) in zip((self._urls, self._contents, self._titles), exact, strict=True):
            it, rw = table.find_batch(k, limit)
            parts.append((it, rw.astype(np.int64), rank))
        for it, rw in (
            self._paras.find_batch(paras, limit),
            self._full_bands.find_batch(full_bands, has_sig, limit),
            self._lead_bands.find_batch(lead_bands, has_sig, limit),
        ):
            parts.append((it, rw.astype(np.int64), _NO_EXACT))

        # The batch against itself: items sharing a key, the later one matched against the earlier one.
        local = np.arange(m, dtype=np.int64)
        for k, rank in exact:
            k2 = _as_2d(k)
            later, earlier = _batch_pairs(k2.ravel(), np.repeat(local, k2.shape[1]), limit)
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
        later, earlier = _batch_pairs(similar.ravel(), np.repeat(local, similar.shape[1]), limit)
        parts.append((later, earlier + base, _NO_EXACT))

        cand_items = np.concatenate([p[0] for p in parts])
        cand_rows = np.concatenate([p[1] for p in parts])
        ranks = np.concatenate([np.full(len(p[0]), p[2], dtype=np.int64) for p in parts])
        if len(cand_items) == 0:
            return _EMPTY_ITEMS, _EMPTY_ITEMS, _EMPTY_ITEMS
        # One triple per (item, row), with its most certain exact method.
        packed = (cand_items << 32) | cand_rows
        order = np.lexsort((ranks, packed))
        packed, ranks = packed[order], ranks[order]
        first = np.ones(len(packed), dtype=np.bool_)
        first[1:] = packed[1:] != packed[:-1]
        packed, ranks = packed[first], ranks[first]
        return packed >> 32, packed & 0xFFFFFFFF, ranks

    def _verify(self, items: I64, rows: I64, ranks: I64, q_rows: I64, sigs: Signatures, q_items: I64) -> _Matches:
        """Return the candidates (item, row, exact rank) that are matches; the item's own entry is
        ``q_rows[item]`` and its batch position ``q_items[item]`` (for its paragraph sizes)."""
        o = self.options
        c = self._cols
        q = q_rows[items]
        # Full text: Jaccard estimate, and the containment of the shorter body in the longer derived from it.
        jf = np.count_nonzero(c["full_sig"][rows] == c["full_sig"][q], axis=1) / o.num_perm
        nq = c["full_size"][q].astype(np.float64)
        nc = c["full_size"][rows].astype(np.float64)
        valid = (nc > 0) & (nq > 0)
        jf = np.where(valid, jf, 0.0)
        cf = np.minimum(jf * (nq + nc) / (1.0 + jf) / np.maximum(np.minimum(nq, nc), 1.0), 1.0)
        # Lead: containment of the shorter lead in the other.
        jl = np.count_nonzero(c["lead_sig"][rows] == c["lead_sig"][q], axis=1) / o.lead_num_perm
        lq = c["lead_size"][q].astype(np.float64)
        lc = c["lead_size"][rows].astype(np.float64)
        inter_l = np.where(valid, jl * (lq + lc) / (1.0 + jl), 0.0)
        cl = np.minimum(inter_l / np.maximum(np.minimum(lq, lc), 1.0), 1.0)

        body = np.maximum(jf, cl)
        exact = ranks < _METHOD_RANK[METHOD_TITLE]
        title = (ranks == _METHOD_RANK[METHOD_TITLE]) & (body >= o.title_min_body_similarity)
        minhash = (jf >= o.minhash_threshold) | ((cf >= o.minhash_containment) & (jf >= o.minhash_containment_floor))
        lead = (cl >= o.lead_containment_threshold) & (inter_l >= o.lead_min_overlap)
        conditions = [exact, title, minhash, lead]
        method = np.select(
            conditions,
            [ranks, np.int64(_METHOD_RANK[METHOD_TITLE]), np.int64(_METHOD_RANK[METHOD_MINHASH]), 4],
            default=-1,
        )
        similarity = np.select(conditions, [np.ones_like(jf), body, jf, cl], default=0.0)

        # Paragraph anchors, for what is left: only pairs where the longer body's first paragraph is among the
        # shorter body's paragraphs can match, and those are few.
        rest = np.flatnonzero(method < 0)
        if len(rest):
            qp, rp = c["paras"][q[rest]], c["paras"][rows[rest]]
            qt, rt = c["tokens"][q[rest]], c["tokens"][rows[rest]]
            q_longer = (qt >= rt)[:, None]
            longer, shorter = np.where(q_longer, qp, rp), np.where(q_longer, rp, qp)
            anchored = (longer[:, 0] != 0) & (shorter == longer[:, :1]).any(axis=1)
            for j in rest[anchored].tolist():
                coverage = _paragraph_coverage(
                    c["paras"][q[j]].tolist(),
                    sigs.para_tokens[q_items[items[j]]].tolist(),
                    c["paras"][rows[j]].tolist(),
                    int(c["tokens"][q[j]]),
                    int(c["tokens"][rows[j]]),
                    o,
                )
                if coverage >= o.paragraph_min_coverage:
                    method[j] = _METHOD_RANK[METHOD_CONTAINMENT]
                    similarity[j] = coverage

        ok = method >= 0
        items, rows, method, similarity = items[ok], rows[ok], method[ok], similarity[ok]
        order = np.lexsort((rows, -np.round(similarity, 4), method, items))
        items = items[order]
        bounds = np.searchsorted(items, np.arange(len(q_rows) + 1)).astype(np.int64)
        return _Matches(rows[order], method[order], similarity[order], bounds)

    def check_and_add(self, articles: Sequence[Article]) -> list[DedupDecision]:
        """Return one decision per article (same order) and add every article to the index.

        An article seen before (same article_id) is ``already_ingested``; an article matching nothing is an
        original (``duplicate_of`` None, its own cluster); any other is a copy linked to the cluster it matches
        (first seen wins, see the module docstring). Raises ValueError for an article_id that is not 16 hex
        digits.

        The work is done for the whole batch at once: candidates come from the tables and from the batch itself
        (each article against the earlier ones), and are verified together; only the copies found are walked
        one by one, in order, to link them to their clusters.
        """
        if not articles:
            return []
        keys = _batch_keys(articles, self.options)
        sigs = compute_signatures([a.text for a in articles], self.options)
        new, stored, first_item = self._new_items(keys.article_id)
        new_items = np.flatnonzero(new).astype(np.int64)
        base = self._n
        cand_items, cand_rows, ranks = self._candidates(keys, sigs, new_items, base)
        q_rows = self._append_batch(keys, sigs, new_items, keys.article_id[new_items])
        matches = self._verify(cand_items, cand_rows, ranks, q_rows, sigs, new_items)

        row_of = np.full(len(articles), -1, dtype=np.int64)
        row_of[new_items] = q_rows
        local_of = np.full(len(articles), -1, dtype=np.int64)
        local_of[new_items] = np.arange(len(new_items))
        cluster_col = self._cols["cluster"]
        original_col = self._cols["original_of"]
        bounds = matches.bounds.tolist()
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
                        duplicate_of=int_to_id(int(original_col[same])),
                        method=METHOD_ALREADY_INGESTED,
                        similarity=1.0,
                    )
                )
                continue
            lo, hi = bounds[k], bounds[k + 1]
            if lo == hi:
                decisions.append(DedupDecision(article_id=article.article_id, cluster_id=article.article_id))
                continue
            # A copy: report the most certain match; the cluster seen first among all matches absorbs the rest.
            first_row_of: dict[int, int] = {}
            for row in matches.rows[lo:hi].tolist():
                cluster = self._find_cluster(int(cluster_col[row]))
                first_row_of[cluster] = min(row, first_row_of.get(cluster, row))
            winner = min(first_row_of, key=first_row_of.__getitem__)
            for cluster in first_row_of:
                if cluster != winner:
                    self._alias[cluster] = winner
            own = int(row_of[i])
            cluster_col[own] = winner
            original_col[own] = winner
            decisions.append(
                DedupDecision(
                    article_id=article.article_id,
                    cluster_id=int_to_id(winner),
                    duplicate_of=int_to_id(winner),
                    method=_RANK_METHOD[int(matches.ranks[lo])],
                    similarity=round(float(matches.similarity[lo]), 4),
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
        ref = _hours(now) if now is not None else int(c["fetched_hour"][: self._n].max())
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
        dropped = self._n - kept
        remap = np.full(self._n, -1, dtype=np.int32)
        remap[keep] = np.arange(kept, dtype=np.int32)
        for name in list(c):
            c[name] = c[name][: self._n][keep]
        self._n = self._cap = kept
        for table in self._tables():
            table.compact(remap)
        self._unmerged = 0
        alive = set(c["cluster"].tolist())
        self._alias = {k: v for k, v in self._alias.items() if k in alive}
        return dropped

    def to_arrays(self) -> dict[str, npt.NDArray[Any]]:
        """Return the index as named numpy arrays (what ``storage.dedup_store`` writes); merges pending
        inserts first."""
        for table in self._tables():
            table.merge()
        self._unmerged = 0
        arrays: dict[str, npt.NDArray[Any]] = {
            "signature_key": np.asarray(self.options.signature_key(), dtype=np.int64),
        }
        for name, arr in self._cols.items():
            arrays["col_" + name] = arr[: self._n]
        for name, table in self._key_tables().items():
            arrays[f"tk_{name}"] = table.keys
            arrays[f"tr_{name}"] = table.rows
        for name, bands in (("full", self._full_bands), ("lead", self._lead_bands)):
            for b in range(bands.bands):
                arrays[f"bk_{name}{b}"] = bands.keys[b]
                arrays[f"br_{name}{b}"] = bands.rows[b]
        arrays["alias"] = np.asarray(list(self._alias.items()), dtype=np.uint64).reshape(-1, 2)
        return arrays

    def _key_tables(self) -> dict[str, KeyTable]:
        return {
            "ids": self._ids,
            "urls": self._urls,
            "contents": self._contents,
            "titles": self._titles,
            "paras": self._paras,
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, npt.NDArray[Any]], options: DedupOptions) -> DedupIndex:
        """Return the index stored by :meth:`to_arrays`. Raises ValueError when it was built with other signature
        options or lacks an array (then rebuild it)."""
        stored = tuple(int(v) for v in np.asarray(arrays["signature_key"]).tolist())
        if stored != options.signature_key():
            raise ValueError(f"index built with signature options {stored}, expected {options.signature_key()}")
        index = cls(options)
        index._cols = {}
        for name, (dtype, width) in index._specs().items():
            arr = np.asarray(arrays["col_" + name], dtype=dtype)
            if width and arr.shape[1:] != (width,):
                raise ValueError(f"column {name} has shape {arr.shape}, expected width {width}")
            index._cols[name] = arr
        index._n = index._cap = len(index._cols["article_id"])
        for name, table in index._key_tables().items():
            setattr(index, "_" + name, KeyTable(table.dtype, arrays[f"tk_{name}"], arrays[f"tr_{name}"]))
        index._full_bands = BandTable(
            options.lsh_bands,
            [np.asarray(arrays[f"bk_full{b}"], np.uint32) for b in range(options.lsh_bands)],
            [np.asarray(arrays[f"br_full{b}"], np.int32) for b in range(options.lsh_bands)],
        )
        index._lead_bands = BandTable(
            options.lead_lsh_bands,
            [np.asarray(arrays[f"bk_lead{b}"], np.uint32) for b in range(options.lead_lsh_bands)],
            [np.asarray(arrays[f"br_lead{b}"], np.int32) for b in range(options.lead_lsh_bands)],
        )
        index._alias = {int(a): int(b) for a, b in np.asarray(arrays["alias"]).tolist()}
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
        keys = _batch_keys(rows, self.options)
        sigs = compute_signatures([r.text for r in rows], self.options)
        new, _, _ = self._new_items(keys.article_id)
        new_items = np.flatnonzero(new).astype(np.int64)
        clusters = np.asarray([id_to_int(rows[i].cluster_id) for i in new_items.tolist()], dtype=np.uint64)
        self._append_batch(keys, sigs, new_items, clusters.reshape(len(new_items)))
        self._maybe_merge()


# ---------------------------------------------------------------------------------------------------------------
# Prefect wrapper


def relabel_known_copies(decisions: Sequence[DedupDecision], known_copies: set[str]) -> list[DedupDecision]:
    """Return ``decisions`` with copies already recorded in ``duplicates`` relabelled ``already_ingested``.

    The index keeps originals; when it is rebuilt from ``articles`` after a crash, a copy committed by the
    crashed run would otherwise be found again and recorded twice. Adds this batch's new copies to
    ``known_copies``.
    """
    out: list[DedupDecision] = []
    for decision in decisions:
        if decision.duplicate_of is not None and decision.method != METHOD_ALREADY_INGESTED:
            if decision.article_id in known_copies:
                decision = dataclasses.replace(decision, method=METHOD_ALREADY_INGESTED)
            else:
                known_copies.add(decision.article_id)
        out.append(decision)
    return out


def relabel_same_run(
    articles: Sequence[Article], decisions: Sequence[DedupDecision], seen_this_run: set[str]
) -> list[DedupDecision]:
    """Return ``decisions`` with ``already_ingested`` copies of an article first seen in this run relabelled.

    The same ``article_id`` twice in one run is not a rerun but two items with one canonical URL (or, without a
    URL, one text): ``canonical_url`` or ``content_hash``. Updates ``seen_this_run`` with this batch's originals.
    """
    out: list[DedupDecision] = []
    for article, decision in zip(articles, decisions, strict=True):
        if decision.method == METHOD_ALREADY_INGESTED and article.article_id in seen_this_run:
            method = METHOD_CANONICAL_URL if article.canonical_url else METHOD_CONTENT_HASH
            decision = dataclasses.replace(decision, method=method, similarity=1.0)
        elif decision.duplicate_of is None:
            seen_this_run.add(article.article_id)
        out.append(decision)
    return out


def check_articles(index: DedupIndex, articles: Sequence[Article]) -> list[DedupDecision]:
    """Return the dedup decisions of ``articles`` (see :meth:`DedupIndex.check_and_add`); adds them to
    ``index``."""
    return index.check_and_add(articles)


def check_articles_isolated(
    index: DedupIndex, articles: Sequence[Article]
) -> tuple[list[Article], list[DedupDecision], list[Rejection]]:
    """Return ``(articles, decisions, rejections)``: the decisions of the articles dedup could read, and a
    rejection (stage ``dedup``, reason ``dedup_error``) for each article whose keys or signatures raise, so one
    article never fails its batch. Keys and signatures are computed before the index changes; an error after
    that (a fault of the index, not of an article) is raised."""
    size = len(index)
    try:
        return list(articles), index.check_and_add(articles), []
    except Exception:
        if len(index) != size:
            raise
    kept: list[Article] = []
    rejections: list[Rejection] = []
    for article in articles:
        try:
            _batch_keys([article], index.options)
            compute_signatures([article.text], index.options)
        except Exception as exc:  # noqa: BLE001 - this article's fault: quarantined, the batch goes on
            detail = describe_error(exc)
            payload = article.text.encode("utf-8", "replace")
            rejection = Rejection(
                article.item_key, article.source_uri, STAGE_DEDUP, REASON_DEDUP_ERROR, detail, payload
            )
            rejections.append(replace(rejection, external_id=article.external_id, url=article.url))
            continue
        kept.append(article)
    return kept, index.check_and_add(kept), rejections


# No caching: the index is mutable state, and hashing it as an input would read every array.
check_articles_task = task(name="dedup", task_run_name="dedup", cache_policy=NO_CACHE)(check_articles_isolated)
