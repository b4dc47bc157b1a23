"""Matching watch queries against articles: tokenise an article once, test every watch against it, say why.

Ingest runs every watch on every new article, so the work is split in two: :func:`prepare` reads one article once
(its title and text as case-folded word tokens with a token -> positions index, its entity keys and ids, its
metadata), and :func:`match` tests one query against that in microseconds (a query is compiled once, on first
use, into matchers ordered cheapest first: metadata and entity set tests before phrase scans, figure conditions
last). Sentences are split only for an article that matched, to pick the evidence.

The input is a :class:`MatchInput`, built the same way from records at ingest (:func:`inputs_from_records`) and
from lake rows for a backfill (:func:`inputs_from_tables`), so that both give the same matches for the same
article: entities and figures are sorted by position, entity keys come from ``tasks.entities`` for records and from
the ``entity_key`` column for rows (computed the same way when a file of an older schema has none), the outlet
from ``tasks.outlets`` for records and from the ``outlet`` column for rows (likewise).

What a match reports (:class:`Match`): the canonical text of each term that made the query true (under a NOT
nothing counts; of an OR only the branches that held), and one piece of evidence, 600 characters at most:

- when a matched word, phrase, NEAR pair or entity is in the text, the sentence of the text that holds the most
  distinct matched terms, counting every occurrence of each (every token position of a word or phrase, every
  pair of a NEAR within one sentence, every mention of an entity, every figure that satisfied a figure term),
  the earliest such sentence on a tie; an analyst reads it to see why the article matched, so it should show as
  much of the match as one sentence can;
- else the title (a term matched only there);
- else the sentence of the first matched figure;
- else (metadata alone matched) the title or first sentence.

The parts: :mod:`tasks.watch.article` (the input and the prepared article), :mod:`tasks.watch.text` (word tokens
and sentences), :mod:`tasks.watch.compile` (queries compiled into matchers); this module matches and explains, and
every name of those that other code uses is importable from here.
"""

from __future__ import annotations

from dataclasses import dataclass

from tasks.watch.article import (
    EntityRef,
    FigureRef,
    MatchInput,
    Prepared,
    TokenField,
    inputs_from_records,
    inputs_from_tables,
    prepare,
)
from tasks.watch.compile import (
    COARSE_LABELS,
    Evidence,
    Leaf,
    compile_condition,
    compile_node,
    compile_query,
    entity_candidate_keys,
)
from tasks.watch.text import split_sentences, token_starts, word_tokens
from tasks.watch.tree import Query

__all__ = [
    "COARSE_LABELS",
    "EVIDENCE_FIGURE",
    "EVIDENCE_METADATA",
    "EVIDENCE_SENTENCE",
    "EVIDENCE_TITLE",
    "MAX_EVIDENCE_CHARS",
    "EntityRef",
    "FigureRef",
    "Match",
    "MatchInput",
    "Prepared",
    "TokenField",
    "compile_condition",
    "compile_node",
    "entity_candidate_keys",
    "inputs_from_records",
    "inputs_from_tables",
    "match",
    "prepare",
    "split_sentences",
    "token_starts",
    "word_tokens",
]

# Longest evidence kept: a long sentence of a wire story, not a paragraph.
MAX_EVIDENCE_CHARS = 600
EVIDENCE_SENTENCE, EVIDENCE_TITLE, EVIDENCE_FIGURE, EVIDENCE_METADATA = "sentence", "title", "figure", "metadata"


def _cap(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_EVIDENCE_CHARS else text[: MAX_EVIDENCE_CHARS - 1].rstrip() + "…"


@dataclass(frozen=True, slots=True)
class Match:
    """Why an article matched a query: the canonical text of each term that made it true (sorted, once each), the
    evidence (a sentence, the title or a figure's sentence, at most 600 characters), what kind of evidence it is
    (``sentence``, ``title``, ``figure`` or ``metadata``) and the first figure that satisfied a figure term."""

    terms: tuple[str, ...]
    evidence: str
    evidence_kind: str
    figure: FigureRef | None = None


def match(query: Query, prepared: Prepared) -> Match | None:
    """Return how ``prepared`` matches ``query``, or None when it does not. The query is compiled on first use and
    kept with it, so a watch costs its compilation once per process."""
    matcher = query.memo("matcher", compile_query)
    if not matcher.test(prepared):
        return None
    leaves: list[Leaf] = []
    matcher.collect(prepared, leaves)
    return _explain(leaves, prepared)


def _explain(leaves: list[Leaf], prep: Prepared) -> Match:
    """Pick the evidence of a match: the sentence of the text that shows most of it (see the module docstring).

    Counting distinct terms per sentence over every occurrence, not the first occurrence of any term, is what
    keeps a photo caption that names one term from standing in for the paragraph that names them all."""
    terms = tuple(sorted({leaf.term for leaf in leaves}))
    evidence = Evidence()
    for leaf in leaves:
        leaf.mark(prep, evidence)
    doc, figure = prep.doc, evidence.figure
    if evidence.sentences:  # a word, phrase, NEAR pair or entity is in the text: figures count beside them
        for term, start in evidence.figures:
            evidence.add(prep.sentence_of(start), term)
        return Match(terms, _cap(prep.sentence(evidence.best_sentence())), EVIDENCE_SENTENCE, figure)
    if evidence.in_title and doc.title:
        return Match(terms, _cap(doc.title), EVIDENCE_TITLE, figure)
    if figure is not None:
        return Match(terms, _cap(figure.sentence or figure.text), EVIDENCE_FIGURE, figure)
    return Match(terms, _cap(doc.title or prep.first_sentence()), EVIDENCE_METADATA, figure)
