"""Dedup: recognise copies of news articles (wire copies, tracking-URL variants, lead-only teasers, truncated,
corrected or re-headlined versions) within a run and across runs, and link each copy to the story it copies,
without ever linking two different stories because they share a block of text.

Modules: :mod:`~tasks.dedup.options` (thresholds), :mod:`~tasks.dedup.signatures` (shingles, MinHash and
paragraph values of a batch of texts), :mod:`~tasks.dedup.keys` (exact keys), :mod:`~tasks.dedup.tables`
(sorted lookup tables), :mod:`~tasks.dedup.verification` (is a candidate pair the same story?),
:mod:`~tasks.dedup.index` (the index and the decisions), :mod:`~tasks.dedup.persistence` (save and load),
:mod:`~tasks.dedup.decisions` (the stage over a batch, and its Prefect task).

Finding candidates. For every article, entries of the index that may be the same story are looked up by exact
keys (canonical URL, content hash, same title + outlet + UTC day) and by similarity keys: full-text MinHash LSH
buckets, lead MinHash LSH buckets (a teaser's lead is the original's lead although their full texts share
little), and the fuzzy values of the first ``lead_paragraphs`` substantial paragraphs.

Verifying them (:mod:`tasks.dedup.verification`). A candidate is a link only on evidence about the whole of the
shorter text, never on one shared block (``method`` values):

``already_ingested``
    the article_id is already in the index: the same article seen again (a rerun, or an updated version at the
    same URL). Reruns are idempotent: the decision points at the stored entry's original.
``canonical_url``
    the canonical URL (the page's ``rel=canonical``/``og:url`` else :func:`tasks.urls.canonicalize_url` of the
    fetched URL) equals one in the index.
``content_hash``
    the normalised body (:func:`tasks.ids.normalize_text`) is byte-identical and at least ``min_shared_words``
    words long.
``title_same_outlet_day``
    same normalised title, same outlet, same UTC day, and at least half of the shorter text is found in the
    longer (a recurring column such as "Morning briefing" keeps its title, not its text).
``minhash`` / ``containment``
    the estimated full-text Jaccard is high enough that both texts are mostly the same words (near duplicate),
    or the two texts open alike (a paragraph at the start of one is found at the start of the other) and a
    large enough share of the shorter text is found in the longer (a lead-only teaser, a truncated copy, a copy
    with an outlet header, a byline or an editor's note). The link is reported as ``minhash`` when the texts'
    Jaccard is substantial, else as ``containment``. A story that reuses another's background paragraph, a
    quote, or the same standard "about the company" paragraph does not open like it, so it is never linked,
    wherever it puts the shared block.

Every rule but the exact keys also needs ``min_shared_words`` words of shared text: a brief of a sentence or
two does not identify a story.

Which one is the original: **first seen wins**. The first article of a story that enters the index (in batch
order, then in order within a batch) is the original, and the cluster id is its article_id. Copies are added to
the index too, but a copy joins a story only by verifying against the story's original, not against any member:
one wrong or weak link can then never pull further articles (nor a whole cluster) into a story. An exact key
(same URL, same body) to a member counts, since it is that member again. When none of a story's originals is in
the index any more (evicted by the window, or forgotten), an article must verify against more than half of the
story's remaining entries. When an article verifies against the originals of two stories, they are one: the
story whose original was seen first keeps its id and the other is folded into it. Decisions already returned for
members of the folded story are not rewritten; :meth:`DedupIndex.cluster_aliases` lists every fold and
:meth:`DedupIndex.batch_merges` the folds of the last batch.

Memory: nothing but compact numpy columns are kept per entry (ids and hashes as 64-bit ints, 16-bit MinHash
values, 32-bit LSH keys, a 32-bit value and a 16-bit length per substantial paragraph), about 0.6 KB per article
with the default options, so a million articles fit in under 1 GB. Lookup tables are sorted numpy arrays
searched with ``searchsorted``, in two levels: the bulk, and a small sorted level of recent inserts that is
folded into the bulk every ``merge_every`` articles.

Speed: a batch is processed as a whole. Signatures, keys, lookups, the batch against itself (articles sharing
a key with an earlier article of the batch) and the verification of every candidate pair are numpy operations
over the batch; Python only walks the copies found, in order, to link them to their stories.

Time window: entries whose fetch time is more than ``window_days`` older than the newest fetch in the index are
evicted when the index is saved or loaded (:mod:`tasks.dedup.persistence`). The index is a cache:
:meth:`DedupIndex.rebuild` recreates it from the ``articles`` dataset.
"""

from tasks.dedup.decisions import (
    REASON_DEDUP_ERROR,
    check_articles,
    check_articles_isolated,
    check_articles_task,
    relabel_known_copies,
    relabel_same_run,
)
from tasks.dedup.index import DedupIndex
from tasks.dedup.keys import IndexRow, id_to_int, int_to_id, key64
from tasks.dedup.options import SIGNATURE_VERSION, DedupOptions
from tasks.dedup.persistence import index_path, load_index, save_index
from tasks.dedup.signatures import Signatures, compute_signatures, prepare_text
from tasks.dedup.tables import BandTable, KeyTable
from tasks.dedup.verification import (
    METHOD_ALREADY_INGESTED,
    METHOD_CANONICAL_URL,
    METHOD_CONTAINMENT,
    METHOD_CONTENT_HASH,
    METHOD_MINHASH,
    METHOD_TITLE,
    Verdicts,
    compare_texts,
)

__all__ = [
    "METHOD_ALREADY_INGESTED",
    "METHOD_CANONICAL_URL",
    "METHOD_CONTAINMENT",
    "METHOD_CONTENT_HASH",
    "METHOD_MINHASH",
    "METHOD_TITLE",
    "REASON_DEDUP_ERROR",
    "SIGNATURE_VERSION",
    "BandTable",
    "DedupIndex",
    "DedupOptions",
    "IndexRow",
    "KeyTable",
    "Signatures",
    "Verdicts",
    "check_articles",
    "check_articles_isolated",
    "check_articles_task",
    "compare_texts",
    "compute_signatures",
    "id_to_int",
    "index_path",
    "int_to_id",
    "key64",
    "load_index",
    "prepare_text",
    "relabel_known_copies",
    "relabel_same_run",
    "save_index",
]
