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
well under 1 GB. Lookup tables are sorted numpy arrays searched with ``searchsorted`` plus a small dict of recent
inserts merged in when it grows.

Time window: entries whose time (``published_at`` else ``fetched_at``) is more than ``window_days`` older than
the newest fetch in the index are evicted when the index is saved or loaded (``storage/dedup_store.py``). The
index is a cache: :meth:`DedupIndex.rebuild` recreates it from the ``articles`` dataset.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt
import xxhash
from prefect import task
from prefect.cache_policies import NO_CACHE

from tasks.ids import normalize_text
from tasks.records import Article, DedupDecision
from tasks.urls import canonicalize_url

METHOD_ALREADY_INGESTED = "already_ingested"
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

# Texts are signed in chunks of at most this many characters: bounds the temporary arrays (about 40 bytes per
# character) and the table of powers (16 MB), whatever the batch size.
_CHUNK_CHARS = 1 << 20

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
    # Recent inserts are merged into the sorted tables after this many articles: the dict of recent inserts
    # costs about 100 bytes per key (35 keys per article), a merge copies the tables once (~0.1 s at 1M).
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
        while end < len(docs) and (end == start or size + len(docs[end]) < _CHUNK_CHARS):
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
    classes = _char_classes()[chars]
    word = classes != 0
    unspaced = classes == 2
    if not word.any():
        return result

    # 2. Tokens: starts and ends of runs of word characters; an unspaced character is a token on its own.
    prev_word = np.concatenate([[False], word[:-1]])
    prev_unspaced = np.concatenate([[False], unspaced[:-1]])
    next_word = np.concatenate([word[1:], [False]])
    next_unspaced = np.concatenate([unspaced[1:], [False]])
    tok_start = np.flatnonzero(word & (~prev_word | unspaced | prev_unspaced))
    tok_end = np.flatnonzero(word & (~next_word | unspaced | next_unspaced)) + 1
    tok_doc = np.searchsorted(doc_start, tok_start, side="right") - 1
    ntok = np.bincount(tok_doc, minlength=n)
    tokens[:] = ntok

    # Token hash: polynomial hash of its code points (prefix sums make every substring hash O(1)).
    p_pow, q_pow = _powers(_CHUNK_CHARS)
    with np.errstate(over="ignore"):
        prefix = np.zeros(total + 1, dtype=np.uint64)
        np.cumsum(chars.astype(np.uint64) * q_pow[:total], out=prefix[1:])
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


def _pending_add(pending: dict[int, Any], key: int, row: int) -> None:
    # A single row is stored as an int, several as a list: most keys occur once and an int is much smaller.
    old = pending.get(key)
    if old is None:
        pending[key] = row
    elif isinstance(old, int):
        pending[key] = [old, row]
    else:
        old.append(row)


def _pending_rows(value: Any) -> list[int]:
    if value is None:
        return []
    return [value] if isinstance(value, int) else list(value)


def _pending_arrays(pending: dict[int, Any], count: int) -> tuple[list[int], list[int]]:
    keys: list[int] = []
    rows: list[int] = []
    for key, value in pending.items():
        if isinstance(value, int):
            keys.append(key)
            rows.append(value)
        else:
            keys.extend([key] * len(value))
            rows.extend(value)
    return keys, rows


def _merge_sorted(keys: npt.NDArray[Any], rows: I32, new_keys: npt.NDArray[Any], new_rows: I32) -> tuple[Any, I32]:
    order = np.argsort(new_keys, kind="stable")
    new_keys, new_rows = new_keys[order], new_rows[order]
    at = np.searchsorted(keys, new_keys, side="right")
    return np.insert(keys, at, new_keys), np.insert(rows, at, new_rows)


class KeyTable:
    """A multimap from integer keys to entry rows: a sorted numpy part and a dict of recent inserts.

    Lookups of the sorted part are vectorised over a batch (``searchsorted``); recent inserts live in a dict
    until :meth:`merge` folds them into the arrays (one linear pass). Key 0 means "no key" and is never stored.
    """

    def __init__(self, dtype: type[np.unsignedinteger[Any]], keys: Any = None, rows: Any = None) -> None:
        self.dtype = dtype
        self.keys: npt.NDArray[Any] = np.zeros(0, dtype=dtype) if keys is None else np.asarray(keys, dtype)
        self.rows: I32 = _EMPTY_ROWS if rows is None else np.asarray(rows, np.int32)
        if len(self.keys) != len(self.rows):
            raise ValueError("keys and rows must have the same length")
        self.pending: dict[int, Any] = {}

    def add(self, key: int, row: int) -> None:
        """Record that ``key`` occurs in entry ``row``."""
        if key:
            _pending_add(self.pending, key, row)

    def find_batch(self, keys: npt.NDArray[Any], limit: int) -> tuple[I64, I32]:
        """Return (item, row) pairs of the sorted part for ``keys`` of shape (items, m), at most ``limit`` (the
        most recent) per key; zero keys are skipped."""
        keys = np.asarray(keys, dtype=self.dtype).reshape(len(keys), -1)
        items = np.repeat(np.arange(len(keys), dtype=np.int64), keys.shape[1])
        flat = keys.ravel()
        nonzero = flat != 0
        flat, items = flat[nonzero], items[nonzero]
        lo = np.searchsorted(self.keys, flat, side="left").astype(np.int64)
        hi = np.searchsorted(self.keys, flat, side="right").astype(np.int64)
        return _expand(np.maximum(lo, hi - limit), hi, items, self.rows)

    def find_pending(self, key: int) -> list[int]:
        """Return the rows of recent inserts holding ``key``."""
        return _pending_rows(self.pending.get(key)) if self.pending else []

    def merge(self) -> None:
        """Fold the recent inserts into the sorted arrays (stable: rows stay in insertion order per key)."""
        if not self.pending:
            return
        keys, rows = _pending_arrays(self.pending, 0)
        self.keys, self.rows = _merge_sorted(
            self.keys, self.rows, np.asarray(keys, dtype=self.dtype), np.asarray(rows, dtype=np.int32)
        )
        self.pending = {}

    def compact(self, remap: I32) -> None:
        """Drop rows mapped to -1 by ``remap`` and renumber the others."""
        self.merge()
        new_rows = remap[self.rows]
        keep = new_rows >= 0
        self.keys = self.keys[keep]
        self.rows = new_rows[keep].astype(np.int32)


class BandTable:
    """The buckets of one LSH signature: one sorted (key, row) array pair per band, one dict of recent inserts
    for all bands (keyed ``band << 32 | key``)."""

    def __init__(self, bands: int, keys: Sequence[Any] | None = None, rows: Sequence[Any] | None = None) -> None:
        self.bands = bands
        self.keys: list[U32] = [np.zeros(0, np.uint32) for _ in range(bands)] if keys is None else list(keys)
        self.rows: list[I32] = [_EMPTY_ROWS for _ in range(bands)] if rows is None else list(rows)
        if len(self.keys) != bands or len(self.rows) != bands:
            raise ValueError(f"expected {bands} bands")
        self.pending: dict[int, Any] = {}

    def combined(self, keys: U32) -> list[list[int]]:
        """Return the keys of shape (items, bands) as the dict keys of recent inserts (``band << 32 | key``)."""
        shifted = np.arange(self.bands, dtype=np.uint64) << np.uint64(32)
        return (keys.astype(np.uint64) | shifted[None, :]).tolist()  # type: ignore[no-any-return]

    def add(self, combined_keys: list[int], row: int) -> None:
        """Record the bucket keys of entry ``row`` (from :meth:`combined`)."""
        pending = self.pending
        for key in combined_keys:
            old = pending.get(key)
            if old is None:
                pending[key] = row
            elif isinstance(old, int):
                pending[key] = [old, row]
            else:
                old.append(row)

    def find_batch(self, keys: U32, mask: npt.NDArray[np.bool_], limit: int) -> tuple[I64, I32]:
        """Return (item, row) pairs of the sorted part for bucket ``keys`` of shape (items, bands)."""
        items = np.flatnonzero(mask).astype(np.int64)
        parts_i: list[I64] = []
        parts_r: list[I32] = []
        for band in range(self.bands):
            column = keys[items, band]
            lo = np.searchsorted(self.keys[band], column, side="left").astype(np.int64)
            hi = np.searchsorted(self.keys[band], column, side="right").astype(np.int64)
            it, rw = _expand(np.maximum(lo, hi - limit), hi, items, self.rows[band])
            parts_i.append(it)
            parts_r.append(rw)
        return np.concatenate(parts_i), np.concatenate(parts_r)

    def find_pending(self, combined_keys: list[int], limit: int) -> list[int]:
        """Return the rows of recent inserts sharing a bucket with ``combined_keys`` (from :meth:`combined`)."""
        if not self.pending:
            return []
        out: list[int] = []
        get = self.pending.get
        for value in map(get, combined_keys):
            if value is not None:
                out.extend(_pending_rows(value)[-limit:])
        return out

    def merge(self) -> None:
        """Fold the recent inserts into the per-band sorted arrays."""
        if not self.pending:
            return
        keys_list, rows_list = _pending_arrays(self.pending, 0)
        keys = np.asarray(keys_list, dtype=np.uint64)
        rows = np.asarray(rows_list, dtype=np.int32)
        band_of = (keys >> np.uint64(32)).astype(np.int64)
        low = (keys & _MASK32).astype(np.uint32)
        for band in range(self.bands):
            sel = band_of == band
            self.keys[band], self.rows[band] = _merge_sorted(self.keys[band], self.rows[band], low[sel], rows[sel])
        self.pending = {}

    def compact(self, remap: I32) -> None:
        """Drop rows mapped to -1 by ``remap`` and renumber the others."""
        self.merge()
        for band in range(self.bands):
            new_rows = remap[self.rows[band]]
            keep = new_rows >= 0
            self.keys[band] = self.keys[band][keep]
            self.rows[band] = new_rows[keep].astype(np.int32)


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


@dataclass(slots=True)
class _Query:
    """What the index knows about one incoming article besides its signatures."""

    article_id: int
    url_keys: list[int]
    content_key: int
    title_key: int
    event_hour: int
    fetched_hour: int


def _query(
    article_id: str,
    canonical_url: str | None,
    url: str | None,
    content_hash: str,
    text: str,
    title: str | None,
    source: str,
    published_at: datetime | None,
    fetched_at: datetime,
    options: DedupOptions,
) -> _Query:
    event = _hours(published_at or fetched_at)
    return _Query(
        article_id=id_to_int(article_id),
        url_keys=url_keys(canonical_url, url),
        content_key=content_key(content_hash, text, options) or 0,
        title_key=title_key(title, source, event, options) or 0,
        event_hour=event,
        fetched_hour=_hours(fetched_at),
    )


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

    def _append(
        self, q: _Query, sigs: Signatures, i: int, original_of: int, cluster: int, bands: tuple[Any, Any]
    ) -> int:
        self._ensure(1)
        row = self._n
        c = self._cols
        c["article_id"][row] = q.article_id
        c["original_of"][row] = original_of
        c["cluster"][row] = cluster
        c["event_hour"][row] = q.event_hour
        c["fetched_hour"][row] = q.fetched_hour
        c["full_size"][row] = sigs.full_size[i]
        c["lead_size"][row] = sigs.lead_size[i]
        c["tokens"][row] = sigs.tokens[i]
        c["full_sig"][row] = sigs.full[i]
        c["lead_sig"][row] = sigs.lead[i]
        c["paras"][row] = sigs.paras[i]
        self._n += 1
        self._ids.add(q.article_id, row)
        for key in q.url_keys:
            self._urls.add(key, row)
        self._contents.add(q.content_key, row)
        self._titles.add(q.title_key, row)
        for key in sigs.paras[i].tolist():
            self._paras.add(key, row)
        if sigs.full_size[i] > 0:
            self._full_bands.add(bands[0][i], row)
            self._lead_bands.add(bands[1][i], row)
        self._unmerged += 1
        return row

    def _maybe_merge(self) -> None:
        if self._unmerged >= self.options.merge_every:
            for table in self._tables():
                table.merge()
            self._unmerged = 0

    # -- matching ----------------------------------------------------------------------------------------------

    def _paragraph_coverage(self, row: int, sigs: Signatures, i: int) -> float:
        """Return the share of the shorter body made of the longer body's opening paragraphs, or 0.0 when the
        longer body's first paragraph (and, unless it is long, its second) do not open a run in the shorter."""
        o = self.options
        q_paras = [h for h in sigs.paras[i].tolist() if h]
        r_paras = [h for h in self._cols["paras"][row].tolist() if h]
        q_tokens = int(sigs.tokens[i])
        r_tokens = int(self._cols["tokens"][row])
        longer, shorter = (q_paras, r_paras) if q_tokens >= r_tokens else (r_paras, q_paras)
        if not longer or not shorter or longer[0] not in shorter:
            return 0.0
        start = shorter.index(longer[0])
        run = 1
        while run < len(longer) and start + run < len(shorter) and longer[run] == shorter[start + run]:
            run += 1
        sizes = dict(zip(q_paras, sigs.para_tokens[i].tolist(), strict=False))
        if run < 2 and sizes.get(longer[0], 0) < o.paragraph_single_min_tokens:
            return 0.0
        matched = sum(sizes.get(h, 0) for h in longer[:run])
        return float(min(matched / max(min(q_tokens, r_tokens), 1), 1.0))

    def _verify(self, rows: I32, sigs: Signatures, i: int, exact: dict[int, str]) -> list[tuple[int, int, float, str]]:
        """Return the verified matches among candidate ``rows`` as (method rank, row, similarity, method)."""
        o = self.options
        c = self._cols
        # Full text: Jaccard estimate, and the containment of the shorter body in the longer derived from it.
        jf = np.count_nonzero(c["full_sig"][rows] == sigs.full[i], axis=1) / o.num_perm
        nq = float(sigs.full_size[i])
        nc = c["full_size"][rows].astype(np.float64)
        valid = (nc > 0) & (nq > 0)
        jf = np.where(valid, jf, 0.0)
        cf = np.minimum(jf * (nq + nc) / (1.0 + jf) / np.maximum(np.minimum(nq, nc), 1.0), 1.0)
        # Lead: containment of the shorter lead in the other.
        jl = np.count_nonzero(c["lead_sig"][rows] == sigs.lead[i], axis=1) / o.lead_num_perm
        lq = float(sigs.lead_size[i])
        lc = c["lead_size"][rows].astype(np.float64)
        inter_l = np.where(valid, jl * (lq + lc) / (1.0 + jl), 0.0)
        cl = np.minimum(inter_l / np.maximum(np.minimum(lq, lc), 1.0), 1.0)

        out: list[tuple[int, int, float, str]] = []
        for j, row in enumerate(rows.tolist()):
            method = exact.get(row)
            if method == METHOD_TITLE:
                body = max(float(jf[j]), float(cl[j]))
                if body >= o.title_min_body_similarity:
                    out.append((_METHOD_RANK[METHOD_TITLE], row, round(body, 4), METHOD_TITLE))
                    continue
            elif method is not None:
                out.append((_METHOD_RANK[method], row, 1.0, method))
                continue
            if jf[j] >= o.minhash_threshold or (
                cf[j] >= o.minhash_containment and jf[j] >= o.minhash_containment_floor
            ):
                out.append((_METHOD_RANK[METHOD_MINHASH], row, round(float(jf[j]), 4), METHOD_MINHASH))
            elif cl[j] >= o.lead_containment_threshold and inter_l[j] >= o.lead_min_overlap:
                out.append((_METHOD_RANK[METHOD_CONTAINMENT], row, round(float(cl[j]), 4), METHOD_CONTAINMENT))
            else:
                coverage = self._paragraph_coverage(row, sigs, i)
                if coverage >= o.paragraph_min_coverage:
                    out.append((_METHOD_RANK[METHOD_CONTAINMENT], row, round(coverage, 4), METHOD_CONTAINMENT))
        return out

    def _sorted_candidates(self, queries: list[_Query], sigs: Signatures) -> tuple[I32, I64, list[dict[int, str]]]:
        """Return the candidates found in the sorted part of the tables for a whole batch: rows grouped by
        item (item i owns ``rows[bounds[i]:bounds[i + 1]]``) and, per item, the rows found by an exact key."""
        n = len(queries)
        limit = self.options.max_bucket
        has_sig = sigs.full_size > 0
        parts = [
            self._full_bands.find_batch(sigs.full_bands, has_sig, limit),
            self._lead_bands.find_batch(sigs.lead_bands, has_sig, limit),
            self._paras.find_batch(sigs.paras, limit),
        ]
        exact: list[dict[int, str]] = [{} for _ in range(n)]
        width = max([len(q.url_keys) for q in queries] + [1])
        url_keys_2d = np.zeros((n, width), dtype=np.uint64)
        for i, q in enumerate(queries):
            url_keys_2d[i, : len(q.url_keys)] = q.url_keys
        for table, keys, method in (
            (self._urls, url_keys_2d, METHOD_CANONICAL_URL),
            (self._contents, np.asarray([q.content_key for q in queries], np.uint64), METHOD_CONTENT_HASH),
            (self._titles, np.asarray([q.title_key for q in queries], np.uint64), METHOD_TITLE),
        ):
            items, rows = table.find_batch(keys, limit)
            for item, row in zip(items.tolist(), rows.tolist(), strict=True):
                exact[item].setdefault(row, method)
            parts.append((items, rows))
        items = np.concatenate([p[0] for p in parts])
        rows = np.concatenate([p[1] for p in parts]).astype(np.int64)
        packed = np.unique(items * (1 << 32) + rows)
        cand_items = packed >> 32
        cand_rows = (packed & 0xFFFFFFFF).astype(np.int32)
        bounds = np.searchsorted(cand_items, np.arange(n + 1)).astype(np.int64)
        return cand_rows, bounds, exact

    def _pending_candidates(
        self, q: _Query, sigs: Signatures, i: int, exact: dict[int, str], bands: tuple[Any, Any]
    ) -> list[int]:
        """Return candidate rows among recent inserts (not yet merged; this batch included); records the
        rows found by an exact key in ``exact``."""
        limit = self.options.max_bucket
        out: list[int] = []
        for keys, table, method in (
            (q.url_keys, self._urls, METHOD_CANONICAL_URL),
            ((q.content_key,), self._contents, METHOD_CONTENT_HASH),
            ((q.title_key,), self._titles, METHOD_TITLE),
        ):
            for key in keys:
                if key:
                    for row in table.find_pending(key)[-limit:]:
                        exact.setdefault(row, method)
                        out.append(row)
        for key in sigs.paras[i].tolist():
            if key:
                out.extend(self._paras.find_pending(key)[-limit:])
        if sigs.full_size[i] > 0:
            out.extend(self._full_bands.find_pending(bands[0][i], limit))
            out.extend(self._lead_bands.find_pending(bands[1][i], limit))
        return out

    def check_and_add(self, articles: Sequence[Article]) -> list[DedupDecision]:
        """Return one decision per article (same order) and add every article to the index.

        An article seen before (same article_id) is ``already_ingested``; an article matching nothing is an
        original (``duplicate_of`` None, its own cluster); any other is a copy linked to the cluster it matches
        (first seen wins, see the module docstring). Raises ValueError for an article_id that is not 16 hex
        digits.
        """
        if not articles:
            return []
        o = self.options
        queries = [
            _query(
                a.article_id,
                a.canonical_url,
                a.url,
                a.content_hash,
                a.text,
                a.title,
                a.source,
                a.published_at,
                a.fetched_at,
                o,
            )
            for a in articles
        ]
        sigs = compute_signatures([a.text for a in articles], o)
        id_items, id_rows = self._ids.find_batch(np.asarray([q.article_id for q in queries], np.uint64), 1)
        id_row = dict(zip(id_items.tolist(), id_rows.tolist(), strict=True))
        cand_rows, bounds, exact_sorted = self._sorted_candidates(queries, sigs)
        bands = (self._full_bands.combined(sigs.full_bands), self._lead_bands.combined(sigs.lead_bands))
        cols = self._cols

        decisions: list[DedupDecision] = []
        for i, (article, q) in enumerate(zip(articles, queries, strict=True)):
            # 1. The same article again (in the index, or earlier in this batch).
            same = id_row.get(i)
            if same is None:
                pending = self._ids.find_pending(q.article_id)
                same = pending[0] if pending else None
            if same is not None:
                decisions.append(
                    DedupDecision(
                        article_id=article.article_id,
                        cluster_id=int_to_id(self._find_cluster(int(cols["cluster"][same]))),
                        duplicate_of=int_to_id(int(cols["original_of"][same])),
                        method=METHOD_ALREADY_INGESTED,
                        similarity=1.0,
                    )
                )
                continue

            # 2. Candidates from every table, each verified.
            exact = exact_sorted[i]
            pending_rows = self._pending_candidates(q, sigs, i, exact, bands)
            rows = cand_rows[bounds[i] : bounds[i + 1]]
            if pending_rows:
                rows = np.unique(np.concatenate([rows, np.asarray(pending_rows, dtype=np.int32)]))
            matches = self._verify(rows, sigs, i, exact) if len(rows) else []
            if not matches:
                self._append(q, sigs, i, q.article_id, q.article_id, bands)
                decisions.append(DedupDecision(article_id=article.article_id, cluster_id=article.article_id))
                continue

            # 3. A copy: report the most certain match; the cluster seen first among all matches absorbs the rest.
            matches.sort(key=lambda m: (m[0], -m[2], m[1]))
            _, _, similarity, method = matches[0]
            first_row_of: dict[int, int] = {}
            for _, row, _, _ in matches:
                cluster = self._find_cluster(int(cols["cluster"][row]))
                first_row_of[cluster] = min(row, first_row_of.get(cluster, row))
            winner = min(first_row_of, key=first_row_of.__getitem__)
            for cluster in first_row_of:
                if cluster != winner:
                    self._alias[cluster] = winner
            self._append(q, sigs, i, winner, winner, bands)
            cols = self._cols
            decisions.append(
                DedupDecision(
                    article_id=article.article_id,
                    cluster_id=int_to_id(winner),
                    duplicate_of=int_to_id(winner),
                    method=method,
                    similarity=similarity,
                )
            )
            continue
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
        keep = c["event_hour"][: self._n] >= ref - 24 * self.options.window_days
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
        """Add stored articles with their stored cluster ids, without matching (see :meth:`rebuild`)."""
        queries = [
            _query(
                r.article_id,
                r.canonical_url,
                r.url,
                r.content_hash,
                r.text,
                r.title,
                r.source,
                r.published_at,
                r.fetched_at,
                self.options,
            )
            for r in rows
        ]
        sigs = compute_signatures([r.text for r in rows], self.options)
        id_items, _ = self._ids.find_batch(np.asarray([q.article_id for q in queries], np.uint64), 1)
        known = set(id_items.tolist())
        bands = (self._full_bands.combined(sigs.full_bands), self._lead_bands.combined(sigs.lead_bands))
        for i, (r, q) in enumerate(zip(rows, queries, strict=True)):
            if i in known or self._ids.find_pending(q.article_id):
                continue
            cluster = id_to_int(r.cluster_id)
            self._append(q, sigs, i, cluster, cluster, bands)
            self._maybe_merge()
        self._maybe_merge()


# ---------------------------------------------------------------------------------------------------------------
# Prefect wrapper


def check_articles(index: DedupIndex, articles: Sequence[Article]) -> list[DedupDecision]:
    """Return the dedup decisions of ``articles`` (see :meth:`DedupIndex.check_and_add`); adds them to
    ``index``."""
    return index.check_and_add(articles)


# No caching: the index is mutable state, and hashing it as an input would read every array.
check_articles_task = task(name="dedup", task_run_name="dedup", cache_policy=NO_CACHE)(check_articles)
