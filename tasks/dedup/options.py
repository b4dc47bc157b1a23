"""Thresholds and signature sizes of the dedup stage, in one frozen object built once per run."""

from __future__ import annotations

from dataclasses import dataclass

# Version of the signature scheme: a persisted index built with another version must be rebuilt. 2: every
# substantial paragraph is kept (a fuzzy value and its length), not only the first four exact hashes.
SIGNATURE_VERSION = 2

# A single text is at most this many characters (the size of the table of powers, 16 MB).
CHUNK_CHARS = 1 << 20


@dataclass(frozen=True, slots=True)
class DedupOptions:
    """Thresholds and signature sizes of the dedup stage (see :mod:`tasks.dedup` for the methods and rules).

    The verification thresholds were set on the tuning part of the development set (``bench/dedup_eval.py``
    reports the check part next to it).
    """

    # Retention of the index, in days of article time. 30 days: wire copies and re-runs of a story appear within
    # days; a month covers late syndication while keeping the index small.
    window_days: int = 30
    # 5 tokens per shingle: the usual choice for news near-duplicates; copies keep most 5-shingles (typo or
    # boilerplate edits break only the 5 around them) while different stories on the same topic share < 1 %.
    shingle_size: int = 5
    # Full-text signature size (one-permutation MinHash bins, power of two). 64 bins estimate a Jaccard of 0.7
    # within +-0.06 (1 sd).
    num_perm: int = 64
    # LSH banding of the full-text signature: 16 bands of 4 rows find pairs with Jaccard 0.7 with p > 0.99 and
    # 0.6 with p = 0.9; lower-similarity copies (trimmed, combined edits) share their lead and opening
    # paragraphs and are found through those instead. 4 rows keep buckets of articles sharing boilerplate small.
    lsh_rows: int = 4
    # Size of the lead region, in shingles (about the first two short paragraphs). Long enough that a header line
    # or a dateline added in front moves few of its shingles, short enough that a 2-3 paragraph teaser covers it.
    lead_shingles: int = 80
    # Lead signature size (classic MinHash; the lead is small, so k hash functions per shingle is cheap). Used to
    # find candidates only (its LSH buckets); the verdict is made on paragraphs and the full text.
    lead_num_perm: int = 32
    # Lead LSH: 16 bands of 2 rows find leads with Jaccard 0.35 (a short teaser against a full lead) with
    # p = 0.88 and 0.5 with p = 0.99.
    lead_lsh_rows: int = 2
    # The exact hashes of the first this many substantial paragraphs of each body are lookup keys (candidates);
    # the first two are also kept for the teaser of a first paragraph. A teaser carries at most a line or two of
    # outlet header before the original's first paragraph, so 4 still reach it.
    lead_paragraphs: int = 4
    # A paragraph (line) with fewer tokens is not substantial: headers such as "Most read" or "Share this
    # article" are skipped when paragraphs are compared and counted.
    paragraph_min_tokens: int = 4
    # At most this many substantial paragraphs are kept per article (a fuzzy value and a length each, 6 bytes);
    # a copy is compared over the shorter text's paragraphs, and 64 paragraphs are a long feature.
    max_paragraphs: int = 64
    # Verification, rule "near duplicate": an estimated full-text Jaccard this high links on its own: both
    # texts are then mostly the same words (at 0.7 at least 82 % of the shorter text is shared, and 70 % of the
    # union). On the tuning part, copies with edits, notes, bylines or boilerplate lines sit at 0.83-1.0, and
    # the negatives at 0.44 at most (two briefs ending with the same standard paragraph).
    near_duplicate_jaccard: float = 0.7
    # Verification, rule "contained", opening alike: the share (by words) of the shorter text found in the
    # longer one. Teasers of two or three lines can carry as many words of outlet boilerplate (copyright,
    # "continue reading") as of story: on the tuning part they share 0.52 and more; negatives that would open
    # alike under a looser opening (100 tokens) share 0.38 at most. 0.45 sits between.
    contained_min_share: float = 0.45
    # Verification, rule "contained", wholly: this share of the shorter text's words found in the longer one,
    # wherever they are (a copy of the second half of a story). A host story that reuses one paragraph of
    # another shares one paragraph, however short the host; at 0.9 the rest of the shorter text is at most a
    # header or a credit line.
    whole_min_share: float = 0.9
    # Both "contained" rules need this many of the shorter text's paragraphs found in the longer: one shared
    # paragraph is one shared block (unless it is, word for word, the first paragraph of both texts: a teaser
    # of a story's first paragraph). (A paragraph's value is a one-permutation MinHash: two unrelated
    # paragraphs that share a stock phrase agree with the probability of their Jaccard, about 1 in 80; two such
    # coincidences in one pair are out of reach.)
    min_found_paragraphs: int = 2
    # ... and the exception, one paragraph that is word for word the first of both texts, must be more than
    # half of the shorter text: a teaser of a story's first paragraph carries that paragraph and a line or two
    # of boilerplate, while a follow-up story that reuses the lead goes on with its own paragraphs.
    single_paragraph_min_share: float = 0.6
    # A paragraph counts as found when a paragraph of the other text has its value and a length within this
    # share of it (or 4 tokens): copies keep a paragraph's length (a typo, a dateline in front), two unrelated
    # paragraphs that happen to agree on their value seldom have it.
    paragraph_length_slack: float = 0.25
    # Two texts open alike when a paragraph within the first this many tokens of one is found (fuzzily) within
    # the first this many tokens of the other. Outlet headers, bylines and editor's notes put up to ~25 tokens
    # in front of a copy's first paragraph (on the tuning part every teaser opens alike from 15 tokens on); a
    # story's background paragraphs start after its lead (the first negatives open alike at 60 tokens).
    opening_tokens: int = 30
    # Floor: a link by rule (not by an exact key) needs at least this many words of shared text. About two
    # sentences of news prose: what a teaser of a story's lead carries (on the tuning part every teaser shares
    # 37 words or more); one shared sentence (a quote, a standard line) is shorter, and a brief of a sentence
    # or two does not identify a story. Bodies shorter
    # than this are not keyed for ``content_hash`` either: identical one-line pages ("Please enable
    # JavaScript") would all collide.
    min_shared_words: int = 25
    # The containment of the shorter text derived from the full-text Jaccard estimate is used only when the
    # longer text has at most this many times its shingles: at that ratio one bin of the 64 moves it by 0.06.
    jaccard_containment_ratio: float = 3.0
    # A verified link is reported as ``minhash`` when its full-text Jaccard estimate reaches this, else as
    # ``containment`` (a teaser or a truncated copy: little of the longer text is in the shorter).
    minhash_label_jaccard: float = 0.35
    # Rule "title": same normalised title, outlet and UTC day, and this share of the shorter text found in the
    # longer (a recurring column such as "Morning briefing" keeps its title, not its text).
    title_min_share: float = 0.5
    # Titles shorter than this (in normalised characters) are too generic for the title method.
    title_min_chars: int = 16
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
        if not 1000 <= self.max_chars < CHUNK_CHARS:
            raise ValueError(f"max_chars must be in [1000, {CHUNK_CHARS})")
        if not 2 <= self.lead_paragraphs <= self.max_paragraphs:
            raise ValueError("lead_paragraphs must be in [2, max_paragraphs]")

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
            self.max_paragraphs,
        )
