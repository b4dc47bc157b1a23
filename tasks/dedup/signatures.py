"""Signatures of texts: shingle hashes, the full-text and lead MinHash signatures with their LSH band keys, and a
fuzzy value and a length for every substantial paragraph, computed for a whole batch at once with numpy.

Shingles are ``shingle_size`` consecutive tokens of the normalised text; a token is a word, or a single character
in unspaced scripts (Chinese, Japanese kana, Thai, Lao, Khmer, Myanmar), so Chinese gets character shingles and
mixed texts work. Shingle hashes are computed with a polynomial rolling hash in numpy (no Python loop over words);
the full-text signature is a densified one-permutation MinHash (one hash per shingle, so its cost does not grow
with the number of permutations), the lead signature a classic MinHash.

A paragraph is a line; it is substantial with at least ``paragraph_min_tokens`` tokens. Its value is a hash of
the shingle with the smallest hash among those that lie wholly inside it (of the paragraph itself when it is
shorter than a shingle): a one-permutation MinHash of the paragraph. A paragraph copied with a typo or a
dateline in front keeps its value with the probability of its shingle Jaccard (about 0.8 for one edit in 40
words), while two paragraphs that merely share a stock phrase agree with a small probability (about 1 in 80 for
one shared 5-shingle in 40 words). The first ``lead_paragraphs`` substantial paragraphs also get an exact hash
(the lookup keys, and the evidence of a teaser that copies only a story's first paragraph).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, fields
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from tasks.dedup.options import CHUNK_CHARS, DedupOptions

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
# Marks a shingle that crosses a line break (never a line's smallest shingle).
_NO_SHINGLE = np.uint64(0xFFFFFFFFFFFFFFFF)
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
    """Signatures of a batch of texts: row i belongs to text i; the paragraph arrays are flat, text i owning
    ``para_count[i]`` consecutive entries (in text order)."""

    full: U16  # (n, num_perm) low 16 bits of the densified one-permutation MinHash
    full_bands: U32  # (n, lsh_bands) LSH bucket keys
    full_size: I32  # number of shingles (0: no signature)
    lead: U16  # (n, lead_num_perm)
    lead_bands: U32  # (n, lead_lsh_bands)
    lead_size: I32
    paras: U32  # (n, lead_paragraphs) exact hashes of the first substantial paragraphs (lookup keys), 0 for none
    tokens: I32  # number of tokens of the whole body
    para_count: I32  # (n,) substantial paragraphs kept (at most max_paragraphs)
    para_values: U32  # (sum of para_count,) fuzzy value of each kept paragraph, never 0
    para_tokens: U16  # (sum of para_count,) its length in tokens (capped at 65535)


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
    tokens = np.zeros(n, dtype=np.int32)
    para_count = np.zeros(n, dtype=np.int32)
    empty = Signatures(
        full,
        full_keys,
        full_size,
        lead,
        lead_keys,
        lead_size,
        paras,
        tokens,
        para_count,
        np.zeros(0, dtype=np.uint32),
        np.zeros(0, dtype=np.uint16),
    )
    if n == 0:
        return empty

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
        return empty

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
    p_pow, q_pow = _powers(CHUNK_CHARS)
    with np.errstate(over="ignore"):
        prefix = np.zeros(total + 1, dtype=np.uint64)
        np.cumsum(np.multiply(chars, q_pow[:total], dtype=np.uint64), out=prefix[1:])
        tok_hash = _mix64((prefix[tok_end] - prefix[tok_start]) * p_pow[tok_start])

    # 3. Lines (paragraphs): the tokens between line breaks, and each line's exact hash.
    tok_line = np.searchsorted(np.flatnonzero(chars == _NEWLINE), tok_start)
    group_first = np.flatnonzero(np.concatenate([[True], tok_line[1:] != tok_line[:-1]]))
    group_size = np.diff(np.concatenate([group_first, [len(tok_line)]]))
    rank_in_group = np.arange(len(tok_line)) - np.repeat(group_first, group_size)
    with np.errstate(over="ignore"):
        group_hash = _mix64(
            np.add.reduceat(tok_hash * p_pow[rank_in_group], group_first) + group_size.astype(np.uint64)
        )

    # 4. Shingles: k consecutive tokens of one document; a document with fewer tokens is one shingle.
    with np.errstate(over="ignore"):
        if len(tok_hash) >= k:
            span = len(tok_hash) - k + 1
            sh = tok_hash[:span].copy()
            for t in range(1, k):
                sh = sh * _R + tok_hash[t : t + span]
            sh_mixed = _mix64(sh)
            ok = tok_doc[:span] == tok_doc[k - 1 :]
            # For the paragraph values: shingles crossing a line break never count as a line's minimum.
            in_line = np.where(tok_line[:span] == tok_line[k - 1 :], sh_mixed, _NO_SHINGLE)
            hashes = sh_mixed[ok]
            sh_doc = tok_doc[:span][ok]
        else:
            in_line = np.zeros(0, dtype=np.uint64)
            hashes = np.zeros(0, dtype=np.uint64)
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
            hashes = np.concatenate([hashes, _mix64(extra)])
            sh_doc = np.concatenate([sh_doc, short])
            order = np.argsort(sh_doc, kind="stable")
            hashes, sh_doc = hashes[order], sh_doc[order]

    # 5. Paragraph values: of each substantial line, the in-line shingle with the smallest hash (the line itself
    # when it is shorter than a shingle). The minimum is taken over the high 32 bits and the value kept is the
    # low 32 bits: the smallest of many hashes is a small number, and small numbers of different lines would
    # collide far more often than 32 independent bits do. The first ``max_paragraphs`` substantial lines of each
    # document are kept.
    exact = (group_hash >> np.uint64(32)).astype(np.uint32)
    exact[exact == 0] = 1
    values = (group_hash & _MASK32).astype(np.uint32)
    # Shingles starting in a line are consecutive: one segment minimum per line that starts a shingle.
    with_shingles = group_first < len(in_line)
    if with_shingles.any():
        line_min = np.minimum.reduceat(in_line, group_first[with_shingles])
        has_inside = line_min != _NO_SHINGLE
        at = np.flatnonzero(with_shingles)[has_inside]
        values[at] = (line_min[has_inside] & _MASK32).astype(np.uint32)
    values[values == 0] = 1
    substantial = group_size >= o.paragraph_min_tokens
    g_doc = tok_doc[group_first][substantial]
    g_rank = np.arange(len(g_doc)) - _first_of_groups(g_doc, n)[g_doc]
    kept = g_rank < o.max_paragraphs
    para_values = values[substantial][kept]
    para_tokens = np.minimum(group_size[substantial][kept], 65535).astype(np.uint16)
    para_count[:] = np.bincount(g_doc[kept], minlength=n)
    lead_para = g_rank < o.lead_paragraphs
    paras[g_doc[lead_para], g_rank[lead_para]] = exact[substantial][lead_para]

    counts = np.bincount(sh_doc, minlength=n)
    full_size[:] = counts
    rank = np.arange(len(sh_doc)) - _first_of_groups(sh_doc, n)[sh_doc]
    docs_with = np.flatnonzero(counts > 0)

    # 6. Full text: one-permutation MinHash (top bits pick the bin, low 32 bits are the value), then rotation
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

    # 7. Lead: classic MinHash over the first ``lead_shingles`` shingles.
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
    return Signatures(
        full,
        full_keys,
        full_size,
        lead,
        lead_keys,
        lead_size,
        paras,
        tokens,
        para_count,
        para_values,
        para_tokens,
    )
