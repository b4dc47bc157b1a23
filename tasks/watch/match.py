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
"""

from __future__ import annotations

import bisect
import operator
import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import pyarrow as pa

from tasks.entities import ENTITY_LABELS, KIND_PLATFORM, alias_table, coarse_label, entity_key, normalize_name
from tasks.outlets import outlet_for
from tasks.records import Article, Entity, Figure
from tasks.watch.query import (
    And,
    Comparison,
    EntityTerm,
    FieldTerm,
    FigureTerm,
    Near,
    Node,
    Not,
    Or,
    Phrase,
    Query,
    Word,
    normalize_text,
    to_text,
)

# Longest evidence kept: a long sentence of a wire story, not a paragraph.
MAX_EVIDENCE_CHARS = 600
EVIDENCE_SENTENCE, EVIDENCE_TITLE, EVIDENCE_FIGURE, EVIDENCE_METADATA = "sentence", "title", "figure", "metadata"

# ---------------------------------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EntityRef:
    """One entity mention of an article, as matching needs it; ``start``/``end`` index the article's text."""

    entity_id: str
    entity_key: str
    canonical: str
    text: str
    label: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class FigureRef:
    """One figure of an article, as matching needs it; ``start``/``end`` index the article's text."""

    kind: str
    value: float | None
    low: float | None
    high: float | None
    unit: str | None
    object: str | None
    sentence: str | None
    text: str
    in_table: bool
    approximate: bool
    currency_source: str | None
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class MatchInput:
    """One article with its entities and figures (each sorted by position): what a watch can look at."""

    article_id: str
    title: str | None
    text: str
    language: str | None
    source: str
    outlet: str | None
    entities: tuple[EntityRef, ...] = ()
    figures: tuple[FigureRef, ...] = ()


def _in_text_order(refs: list[Any]) -> tuple[Any, ...]:
    # By position, then by every field (repr), so that rows read back in any order give the same tuple.
    return tuple(sorted(refs, key=lambda r: (r.start, r.end, repr(r))))


def _float(value: float | None) -> float | None:
    return None if value is None else float(value)


def inputs_from_records(article: Article, entities: Sequence[Entity], figures: Sequence[Figure]) -> MatchInput:
    """Return the :class:`MatchInput` of one article as ingest holds it (records of the clean and NLP stages)."""
    ents = [
        EntityRef(e.entity_id, entity_key(e.label, e.canonical), e.canonical, e.text, e.label, e.start_char, e.end_char)
        for e in entities
    ]
    figs = [
        FigureRef(
            kind=f.kind,
            value=_float(f.value),
            low=_float(f.low),
            high=_float(f.high),
            unit=f.unit,
            object=f.object,
            sentence=f.sentence,
            text=f.text,
            in_table=bool(f.in_table),
            approximate=bool(f.approximate),
            currency_source=f.currency_source,
            start=f.start_char,
            end=f.end_char,
        )
        for f in figures
    ]
    return MatchInput(
        article_id=article.article_id,
        title=article.title,
        text=article.text,
        language=article.language,
        source=article.source,
        outlet=outlet_for(article.canonical_url, article.url)[0],
        entities=_in_text_order(ents),
        figures=_in_text_order(figs),
    )


def _columns(table: pa.Table, names: Sequence[str]) -> dict[str, list[Any]]:
    """The named columns as Python lists; a column missing from the table (a file of an older schema) is nulls."""
    return {n: table.column(n).to_pylist() if n in table.column_names else [None] * table.num_rows for n in names}


def inputs_from_tables(articles: pa.Table, entities: pa.Table, figures: pa.Table) -> list[MatchInput]:
    """Return one :class:`MatchInput` per row of ``articles`` (in its order), with the rows of ``entities`` and
    ``figures`` that belong to it (tables with the lake's schemas, ``storage.schemas``; rows of other articles are
    ignored). Gives what :func:`inputs_from_records` gives for the same articles, so a backfill from the lake
    matches exactly as ingest did."""
    ents: dict[str, list[EntityRef]] = {}
    e = _columns(
        entities, ["article_id", "entity_id", "entity_key", "canonical", "text", "label", "start_char", "end_char"]
    )
    for i, aid in enumerate(e["article_id"]):
        label, canonical = e["label"][i], e["canonical"][i]
        key = e["entity_key"][i] or entity_key(label, canonical)
        ent = EntityRef(e["entity_id"][i], key, canonical, e["text"][i], label, e["start_char"][i], e["end_char"][i])
        ents.setdefault(aid, []).append(ent)
    figs: dict[str, list[FigureRef]] = {}
    names = ["article_id", "kind", "value", "low", "high", "unit", "object", "sentence", "text", "in_table"]
    f = _columns(figures, [*names, "approximate", "currency_source", "start_char", "end_char"])
    for i, aid in enumerate(f["article_id"]):
        ref = FigureRef(
            kind=f["kind"][i],
            value=f["value"][i],
            low=f["low"][i],
            high=f["high"][i],
            unit=f["unit"][i],
            object=f["object"][i],
            sentence=f["sentence"][i],
            text=f["text"][i],
            in_table=bool(f["in_table"][i]),
            approximate=bool(f["approximate"][i]),
            currency_source=f["currency_source"][i],
            start=f["start_char"][i],
            end=f["end_char"][i],
        )
        figs.setdefault(aid, []).append(ref)
    a = _columns(articles, ["article_id", "title", "text", "language", "source", "outlet", "canonical_url", "url"])
    out = []
    for i, aid in enumerate(a["article_id"]):
        outlet = a["outlet"][i] or outlet_for(a["canonical_url"][i], a["url"][i])[0]
        out.append(
            MatchInput(
                article_id=aid,
                title=a["title"][i],
                text=a["text"][i],
                language=a["language"][i],
                source=a["source"][i],
                outlet=outlet,
                entities=_in_text_order(ents.get(aid, [])),
                figures=_in_text_order(figs.get(aid, [])),
            )
        )
    return out


# ---------------------------------------------------------------------------------------------------------------
# Tokens and sentences
# ---------------------------------------------------------------------------------------------------------------

_WORD = re.compile(r"\w+")


@lru_cache(maxsize=65_536)  # the same non-ASCII words come back in every article of a language
def _fold(token: str) -> tuple[str, ...]:
    """A non-ASCII token NFKC-normalised and case-folded; split again when that made non-word characters
    ("½" is "1⁄2"), so that the query side, which folds the same way, agrees."""
    folded = unicodedata.normalize("NFKC", token).casefold()
    return (folded,) if _WORD.fullmatch(folded) else tuple(_WORD.findall(folded))


def word_tokens(text: str) -> list[str]:
    """Return the word tokens of ``text``: runs of Unicode letters, digits and "_", NFKC-normalised and
    case-folded. "U.S." is ``u``, ``s``; "rare-earth" is ``rare``, ``earth``; queries are tokenised the same way."""
    if text.isascii():
        return _WORD.findall(text.lower())
    out: list[str] = []
    for token in _WORD.findall(text):
        if token.isascii():
            out.append(token.lower())
        else:
            out.extend(_fold(token))
    return out


def token_starts(text: str) -> list[int]:
    """Return the character offset in ``text`` of each token :func:`word_tokens` gives (same length)."""
    if text.isascii():
        return [m.start() for m in _WORD.finditer(text)]
    out: list[int] = []
    for m in _WORD.finditer(text):
        token = m.group()
        out.extend([m.start()] * (1 if token.isascii() else len(_fold(token))))
    return out


# A sentence ends at terminal punctuation (and closing quotes or brackets) followed by white space, or at a line
# break (news text puts each paragraph on its own line; a heading has no full stop).
_BOUNDARY = re.compile(r"[.!?…]+[\"'”’»)\]]*\s+|\n\s*")
# Words that end with a full stop without ending a sentence ("Mr. Li", "Acme Inc. said", "Jan. 5"); single letters
# and dotted initials ("U.S.", "J. K.", "e.g.") are caught by _INITIALS. "No." only counts before a number.
_ABBREVIATIONS = frozenset(
    {
        "mr",
        "mrs",
        "ms",
        "messrs",
        "dr",
        "prof",
        "st",
        "jr",
        "sr",
        "gen",
        "col",
        "lt",
        "sgt",
        "capt",
        "cmdr",
        "adm",
        "gov",
        "sen",
        "rep",
        "pres",
        "rev",
        "hon",
        "fr",
        "mt",
        "ft",
        "inc",
        "corp",
        "ltd",
        "co",
        "plc",
        "llc",
        "bros",
        "vs",
        "etc",
        "al",
        "approx",
        "dept",
        "est",
        "fig",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "univ",
        "assn",
        "ave",
        "blvd",
        "rd",
        "vol",
        "eds",
    }
)
_INITIALS = re.compile(r"(?:[^\W\d_]\.)*[^\W\d_]")
_OPENERS = "\"'“‘«([*"


def _abbreviation_before(text: str, dot: int) -> bool:
    start = dot
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    word = text[start:dot].lstrip(_OPENERS)
    if not word:
        return False
    if _INITIALS.fullmatch(word):
        return True
    low = word.casefold()
    if low in ("no", "nos"):
        return text[dot + 1 : dot + 3].strip()[:1].isdigit()
    return low in _ABBREVIATIONS


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Return the ``(start, end)`` character spans of the sentences of ``text``, without surrounding white space.

    A deterministic rule for news text, not a model: a sentence ends at ``.``, ``!``, ``?`` or ``…`` (with any
    closing quotes or brackets) before white space, unless the next word starts in lower case or the full stop
    ends an abbreviation or initials ("Mr.", "Inc.", "U.S.", "J."); and at every line break."""
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _BOUNDARY.finditer(text):
        chunk = m.group()
        if "\n" not in chunk:
            following = text[m.end() : m.end() + 1]
            if following.islower() or (chunk[0] == "." and _abbreviation_before(text, m.start())):
                continue
        _add_span(text, start, m.start() + len(chunk.rstrip()), spans)
        start = m.end()
    _add_span(text, start, len(text), spans)
    return spans


def _add_span(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append((start, end))


def _cap(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_EVIDENCE_CHARS else text[: MAX_EVIDENCE_CHARS - 1].rstrip() + "…"


# ---------------------------------------------------------------------------------------------------------------
# Prepared articles
# ---------------------------------------------------------------------------------------------------------------

_NO_POSITIONS: list[int] = []


class TokenField:
    """Tokens of a title and a body with a token -> positions index. Positions: the title's tokens first, one
    empty slot, then the body's, so that no phrase runs from the title into the body."""

    __slots__ = ("_keys", "_prefixed", "body_start", "index", "title_end", "tokens")

    def __init__(self, title: list[str], body: list[str]) -> None:
        tokens = [*title, "", *body]
        index: dict[str, list[int]] = {}
        get = index.get
        for i, t in enumerate(tokens):
            positions = get(t)
            if positions is None:
                index[t] = [i]
            else:
                positions.append(i)
        del index[""]
        self.tokens = tokens
        self.index = index
        self.title_end = len(title)
        self.body_start = len(title) + 1
        self._keys: list[str] | None = None
        self._prefixed: dict[str, list[int]] = {}

    def prefixed(self, prefix: str) -> list[int]:
        """Return the sorted positions of every token that starts with ``prefix``."""
        found = self._prefixed.get(prefix)
        if found is None:
            if self._keys is None:
                self._keys = sorted(self.index)
            keys, index = self._keys, self.index
            i = bisect.bisect_left(keys, prefix)
            found = []
            while i < len(keys) and keys[i].startswith(prefix):
                found.extend(index[keys[i]])
                i += 1
            found.sort()
            self._prefixed[prefix] = found
        return found


class Prepared(TokenField):
    """One article read once for matching (:func:`prepare`): tokens, index, entity keys and ids, metadata in the
    form queries compare with; sentences and token offsets are worked out on first need (an article that matched)."""

    __slots__ = (
        "_figure_fields",
        "_sentence_starts",
        "_sentences",
        "_starts",
        "doc",
        "entity_ids",
        "entity_keys",
        "language",
        "outlet",
        "source",
    )

    def __init__(self, doc: MatchInput) -> None:
        super().__init__(word_tokens(doc.title or ""), word_tokens(doc.text))
        self.doc = doc
        self.entity_keys = frozenset(e.entity_key for e in doc.entities)
        self.entity_ids = frozenset(e.entity_id for e in doc.entities)
        self.language = (doc.language or "").casefold()
        self.outlet = (doc.outlet or "").casefold()
        self.source = normalize_text(doc.source or "")
        self._starts: list[int] | None = None
        self._sentences: list[tuple[int, int]] | None = None
        self._sentence_starts: list[int] = []
        self._figure_fields: dict[tuple[int, str], TokenField | None] = {}

    def body_offset(self, position: int) -> int:
        """Return the character offset in the text of the body token at ``position``."""
        if self._starts is None:
            self._starts = token_starts(self.doc.text)
        return self._starts[position - self.body_start]

    def sentence_of(self, offset: int) -> int:
        """Return the index of the sentence of the text that holds character ``offset`` (the nearest one before it
        if the offset falls between sentences, the first one before the first). Splits the text on first call."""
        if self._sentences is None:
            self._sentences = split_sentences(self.doc.text)
            self._sentence_starts = [s for s, _ in self._sentences]
        return max(0, bisect.bisect_right(self._sentence_starts, offset) - 1)

    def sentence(self, index: int) -> str:
        """Return sentence ``index`` of the text (see :meth:`sentence_of`; "" for a text without sentences)."""
        if self._sentences is None:
            self.sentence_of(0)
        spans = self._sentences or []
        if index >= len(spans):
            return ""
        start, end = spans[index]
        return self.doc.text[start:end]

    def first_sentence(self) -> str:
        """Return the text's first sentence ("" for an empty text)."""
        return self.sentence(0)

    def figure_field(self, i: int, name: str) -> TokenField | None:
        """Return the tokens of field ``name`` (object or sentence) of figure ``i``, or None when it has none."""
        key = (i, name)
        if key not in self._figure_fields:
            value = getattr(self.doc.figures[i], name)
            self._figure_fields[key] = TokenField([], word_tokens(value)) if value else None
        return self._figure_fields[key]


def prepare(doc: MatchInput) -> Prepared:
    """Return ``doc`` read once for matching: tokenise the title and the text (as two fields), index the tokens,
    collect entity keys and ids. Costs about as much as one pass of a regular expression over the text."""
    return Prepared(doc)


# ---------------------------------------------------------------------------------------------------------------
# Entities
# ---------------------------------------------------------------------------------------------------------------

COARSE_LABELS = tuple(sorted({coarse_label(label) for label in ENTITY_LABELS}))


@lru_cache(maxsize=4096)
def entity_candidate_keys(name: str, label: str | None = None) -> frozenset[str]:
    """Return the ``entity_key`` values an entity term names: ``name`` under each coarse label (or under ``label``
    alone), resolved through the alias table, so "U.S.", "US" and "America" give ``GPE:united states``.

    A query names an entity on purpose, so the alias table is consulted whatever the case ("america" too), where
    the entity stage requires a name as written in news; as there, a PERSON is never a country or organisation of
    the table (a person called Jordan is not Jordan)."""
    table = alias_table()
    entry = table.entries.get(normalize_name(name))
    keys = set()
    for lab in (label,) if label else COARSE_LABELS:
        keys.add(entity_key(lab, name, table))
        if entry is not None and (lab != "PERSON" or entry.kind == KIND_PLATFORM):
            keys.add(entry.key)
    if label:
        keys = {k for k in keys if k.startswith(label + ":")}
    return frozenset(keys)


# ---------------------------------------------------------------------------------------------------------------
# Compiled queries
# ---------------------------------------------------------------------------------------------------------------


class _Matcher:
    """A compiled node: ``test`` says whether it holds; ``collect`` (called only when it holds) adds the terms that
    made it hold. ``cost`` orders the items of AND and OR, cheapest first."""

    __slots__ = ("cost",)
    cost: int

    def test(self, ctx: Any) -> bool:
        raise NotImplementedError

    def collect(self, ctx: Any, out: list[_Leaf]) -> None:
        raise NotImplementedError


class _Leaf(_Matcher):
    """A term: its canonical text is what :class:`Match` reports; ``mark`` (called only for an article that
    matched) tells the evidence where the term occurs."""

    __slots__ = ("term",)
    term: str

    def collect(self, ctx: Any, out: list[_Leaf]) -> None:
        out.append(self)

    def mark(self, prep: Prepared, evidence: _Evidence) -> None:
        return  # a metadata term occurs nowhere in the text


class _Evidence:
    """Where the matched terms of one article occur: the distinct terms each sentence of the text holds (by
    index), whether a term is in the title, the figures that satisfied a figure term (located in a sentence only
    when some other term is in the text too) and the first of them by position."""

    __slots__ = ("figure", "figures", "in_title", "sentences")

    def __init__(self) -> None:
        self.sentences: dict[int, set[str]] = {}
        self.in_title = False
        self.figures: list[tuple[str, int]] = []
        self.figure: FigureRef | None = None

    def add(self, sentence: int, term: str) -> None:
        terms = self.sentences.get(sentence)
        if terms is None:
            self.sentences[sentence] = {term}
        else:
            terms.add(term)

    def best_sentence(self) -> int:
        """Return the index of the sentence that holds the most distinct terms, the earliest of those tied."""
        return min(self.sentences.items(), key=lambda item: (-len(item[1]), item[0]))[0]


class _All(_Matcher):
    __slots__ = ("items",)

    def __init__(self, items: list[_Matcher]) -> None:
        self.items = tuple(sorted(items, key=lambda m: m.cost))
        self.cost = sum(m.cost for m in items)

    def test(self, ctx: Any) -> bool:
        for item in self.items:  # noqa: SIM110 - a plain loop: all() over a generator costs twice as much here
            if not item.test(ctx):
                return False
        return True

    def collect(self, ctx: Any, out: list[_Leaf]) -> None:
        for item in self.items:
            item.collect(ctx, out)


class _Any(_All):
    __slots__ = ()

    def test(self, ctx: Any) -> bool:
        for item in self.items:  # noqa: SIM110 - see _All.test
            if item.test(ctx):
                return True
        return False

    def collect(self, ctx: Any, out: list[_Leaf]) -> None:
        for item in self.items:
            if item.test(ctx):
                item.collect(ctx, out)


class _None(_Matcher):
    __slots__ = ("item",)

    def __init__(self, item: _Matcher) -> None:
        self.item = item
        self.cost = item.cost

    def test(self, ctx: Any) -> bool:
        return not self.item.test(ctx)

    def collect(self, ctx: Any, out: list[_Leaf]) -> None:
        return  # nothing under a NOT is a reason for a match


class _Pattern(_Leaf):
    """A word (maybe a prefix, maybe several tokens) or a phrase, anywhere or in the title only."""

    __slots__ = ("exact", "length", "prefix", "title_only", "tokens")

    def __init__(self, term: str, tokens: list[str], prefix: bool, title_only: bool) -> None:
        self.term = term
        self.tokens = tuple(tokens)
        self.prefix = prefix
        self.title_only = title_only
        self.length = len(tokens)
        self.exact = self.tokens[:-1] if prefix else self.tokens
        self.cost = 2 if self.length == 1 and not prefix else 4

    def occurrences(self, f: TokenField) -> list[int]:
        """Return the sorted start positions of the pattern in ``f`` (title only when so restricted)."""
        toks, index = self.tokens, f.index
        if self.length == 1:
            found = f.prefixed(toks[0]) if self.prefix else index.get(toks[0], _NO_POSITIONS)
        else:
            # anchor on the rarest exact token; any token missing from the article settles it at once
            anchor, anchor_positions = 0, _NO_POSITIONS
            for k, t in enumerate(self.exact):
                positions = index.get(t)
                if not positions:
                    return _NO_POSITIONS
                if k == 0 or len(positions) < len(anchor_positions):
                    anchor, anchor_positions = k, positions
            seq, last = f.tokens, self.length - 1
            found = []
            for q in anchor_positions:
                p = q - anchor
                if p < 0 or p + last >= len(seq):
                    continue
                if all(seq[p + k] == toks[k] for k in range(len(self.exact))) and (
                    not self.prefix or seq[p + last].startswith(toks[last])
                ):
                    found.append(p)
        if self.title_only:
            return [p for p in found if p < f.title_end]
        return found

    def test(self, ctx: Any) -> bool:
        if self.length == 1 and not self.prefix:
            positions = ctx.index.get(self.tokens[0])
            return bool(positions) and (not self.title_only or positions[0] < ctx.title_end)
        return bool(self.occurrences(ctx))

    def mark(self, prep: Prepared, evidence: _Evidence) -> None:
        """Every occurrence counts in the sentence of its first token (a phrase split by a full stop is rare)."""
        found = self.occurrences(prep)
        if not found:
            return
        if found[0] < prep.title_end:
            evidence.in_title = True
        term, offset, sentence_of, add = self.term, prep.body_offset, prep.sentence_of, evidence.add
        for i in range(bisect.bisect_left(found, prep.body_start), len(found)):
            add(sentence_of(offset(found[i])), term)


class _Near(_Leaf):
    __slots__ = ("distance", "left", "right")

    def __init__(self, term: str, left: _Pattern, right: _Pattern, distance: int) -> None:
        self.term = term
        self.left, self.right, self.distance = left, right, distance
        self.cost = 6

    def spans(self, f: TokenField) -> Iterator[tuple[int, int]]:
        """Yield the (first, last) token positions of qualifying pairs, in no particular order: for each occurrence
        of the left operand, the nearest right operand after it and the nearest before it, each when within the
        distance and in the same field. The nearest is enough: a farther one is never in the field the nearest
        is not in (the title's positions all come before the body's)."""
        a = self.left.occurrences(f)
        if not a:
            return
        b = self.right.occurrences(f)
        if not b:
            return
        la, lb, n, te = self.left.length, self.right.length, self.distance, f.title_end
        for p in a:
            j = bisect.bisect_left(b, p + la)  # right after left: at most n tokens from left's last token
            if j < len(b) and b[j] <= p + la - 1 + n and (p < te) == (b[j] < te):
                yield p, b[j] + lb - 1
            j = bisect.bisect_right(b, p - lb) - 1  # right before left: ends before left starts, at most n away
            if j >= 0 and b[j] >= p - n - lb + 1 and (p < te) == (b[j] < te):
                yield b[j], p + la - 1

    def test(self, ctx: Any) -> bool:
        return next(self.spans(ctx), None) is not None

    def mark(self, prep: Prepared, evidence: _Evidence) -> None:
        """A pair counts in the sentence that holds both operands; only when no pair lies within one sentence
        does a pair count in the sentence where it starts."""
        within: list[int] = []
        crossing: list[int] = []
        offset, sentence_of = prep.body_offset, prep.sentence_of
        for first, last in self.spans(prep):
            if first < prep.title_end:
                evidence.in_title = True
                continue
            sentence = sentence_of(offset(first))
            (within if sentence == sentence_of(offset(last)) else crossing).append(sentence)
        for sentence in within or crossing:
            evidence.add(sentence, self.term)


class _EntityKeys(_Leaf):
    __slots__ = ("keys",)

    def __init__(self, term: str, keys: frozenset[str]) -> None:
        self.term, self.keys, self.cost = term, keys, 1

    def test(self, ctx: Any) -> bool:
        return not self.keys.isdisjoint(ctx.entity_keys)

    def mark(self, prep: Prepared, evidence: _Evidence) -> None:
        keys, term = self.keys, self.term
        for e in prep.doc.entities:
            if e.entity_key in keys:
                evidence.add(prep.sentence_of(e.start), term)


class _EntityId(_Leaf):
    __slots__ = ("entity_id",)

    def __init__(self, term: str, entity_id: str) -> None:
        self.term, self.entity_id, self.cost = term, entity_id, 1

    def test(self, ctx: Any) -> bool:
        return self.entity_id in ctx.entity_ids

    def mark(self, prep: Prepared, evidence: _Evidence) -> None:
        entity_id, term = self.entity_id, self.term
        for e in prep.doc.entities:
            if e.entity_id == entity_id:
                evidence.add(prep.sentence_of(e.start), term)


class _Metadata(_Leaf):
    """``source:`` (equal), ``outlet:`` (equal, or a subdomain of it), ``lang:`` (equal, or a regional variant:
    ``lang:pt`` matches ``pt-br``)."""

    __slots__ = ("attribute", "subdomain", "value", "variant")

    def __init__(self, term: str, field: str, value: str) -> None:
        self.term, self.value, self.cost = term, value, 0
        self.attribute = "language" if field == "lang" else field
        self.subdomain = "." + value if field == "outlet" else None
        self.variant = value + "-" if field == "lang" else None

    def test(self, ctx: Any) -> bool:
        have: str = getattr(ctx, self.attribute)
        if have == self.value:
            return True
        if self.subdomain is not None:
            return have.endswith(self.subdomain)
        return self.variant is not None and have.startswith(self.variant)


# -- figure conditions: test(i, figure, prepared)

_COMPARE: Mapping[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


class _Condition:
    __slots__ = ("cost",)
    cost: int

    def test(self, i: int, fig: FigureRef, prep: Prepared) -> bool:
        raise NotImplementedError


class _CondAll(_Condition):
    __slots__ = ("items",)

    def __init__(self, items: list[_Condition]) -> None:
        self.items = tuple(sorted(items, key=lambda c: c.cost))
        self.cost = sum(c.cost for c in items)

    def test(self, i: int, fig: FigureRef, prep: Prepared) -> bool:
        for item in self.items:  # noqa: SIM110 - see _All.test
            if not item.test(i, fig, prep):
                return False
        return True


class _CondAny(_CondAll):
    __slots__ = ()

    def test(self, i: int, fig: FigureRef, prep: Prepared) -> bool:
        for item in self.items:  # noqa: SIM110 - see _All.test
            if item.test(i, fig, prep):
                return True
        return False


class _CondNot(_Condition):
    __slots__ = ("item",)

    def __init__(self, item: _Condition) -> None:
        self.item, self.cost = item, item.cost

    def test(self, i: int, fig: FigureRef, prep: Prepared) -> bool:
        return not self.item.test(i, fig, prep)


class _Compare(_Condition):
    """A field against a value; a missing value (None) satisfies no comparison, ``!=`` included."""

    __slots__ = ("field", "fold", "op", "value")

    def __init__(self, field: str, op: str, value: Any, fold: bool) -> None:
        self.field, self.fold, self.cost = field, fold, 1
        self.op: Callable[[Any, Any], bool]
        if op == "in":
            self.op, self.value = _member, frozenset(value)
        else:
            self.op, self.value = _COMPARE[op], value

    def test(self, i: int, fig: FigureRef, prep: Prepared) -> bool:
        have = getattr(fig, self.field)
        if have is None:
            return False
        if self.fold:
            have = normalize_text(have)
        return self.op(have, self.value)


def _member(have: Any, values: frozenset[Any]) -> bool:
    return have in values


class _TextSearch(_Condition):
    """``object ~ query`` / ``sentence ~ query``: a text query over the tokens of that field of the figure."""

    __slots__ = ("field", "query")

    def __init__(self, field: str, query: _Matcher) -> None:
        self.field, self.query, self.cost = field, query, 5

    def test(self, i: int, fig: FigureRef, prep: Prepared) -> bool:
        tokens = prep.figure_field(i, self.field)
        return tokens is not None and self.query.test(tokens)


class _Figure(_Leaf):
    __slots__ = ("condition",)

    def __init__(self, term: str, condition: _Condition) -> None:
        self.term, self.condition, self.cost = term, condition, 8

    def test(self, ctx: Any) -> bool:
        condition = self.condition
        for i, fig in enumerate(ctx.doc.figures):  # noqa: SIM110 - see _All.test
            if condition.test(i, fig, ctx):
                return True
        return False

    def mark(self, prep: Prepared, evidence: _Evidence) -> None:
        """Records every figure that satisfies the condition; the first by position (the earliest term's on a
        tie) is the match's figure."""
        condition, term = self.condition, self.term
        for i, fig in enumerate(prep.doc.figures):
            if condition.test(i, fig, prep):
                evidence.figures.append((term, fig.start))
                if evidence.figure is None or fig.start < evidence.figure.start:
                    evidence.figure = fig


# -- compiling


def _pattern(term: str, node: Word | Phrase, title_only: bool = False) -> _Pattern:
    if isinstance(node, Word):
        return _Pattern(term, word_tokens(node.text), node.prefix, title_only)
    return _Pattern(term, word_tokens(node.text), False, title_only)


def compile_node(node: Node) -> _Matcher:
    """Return the matcher of a query tree (words, phrases, NEAR, entities, fields, figures under AND/OR/NOT)."""
    if isinstance(node, And):
        return _All([compile_node(i) for i in node.items])
    if isinstance(node, Or):
        return _Any([compile_node(i) for i in node.items])
    if isinstance(node, Not):
        return _None(compile_node(node.item))
    term = to_text(node)
    if isinstance(node, Word | Phrase):
        return _pattern(term, node)
    if isinstance(node, Near):
        return _Near(term, _pattern(term, node.left), _pattern(term, node.right), node.distance)
    if isinstance(node, EntityTerm):
        if node.by_id:
            return _EntityId(term, node.name)
        return _EntityKeys(term, entity_candidate_keys(node.name, node.label))
    if isinstance(node, FieldTerm):
        if isinstance(node.value, Word | Phrase):
            return _pattern(term, node.value, title_only=True)
        return _Metadata(term, node.field, node.value)
    if isinstance(node, FigureTerm):
        return _Figure(term, compile_condition(node.condition))
    raise TypeError(f"a {type(node).__name__} is not a query term")


def compile_condition(node: Node) -> _Condition:
    """Return the matcher of a figure's condition tree (comparisons under AND/OR/NOT)."""
    if isinstance(node, And):
        return _CondAll([compile_condition(i) for i in node.items])
    if isinstance(node, Or):
        return _CondAny([compile_condition(i) for i in node.items])
    if isinstance(node, Not):
        return _CondNot(compile_condition(node.item))
    if not isinstance(node, Comparison):
        raise TypeError(f"a {type(node).__name__} is not a figure condition")
    value = node.value
    if node.op == "~":
        if isinstance(value, tuple | float | str | bool):
            raise TypeError(f"'~' needs a text query, not {value!r}")
        return _TextSearch(node.field, compile_node(value))
    # kind, unit and currency_source are compared case-folded (the query folds its values the same way), the text
    # fields with white space collapsed too; numbers and booleans as they are
    fold = node.field in ("kind", "unit", "currency_source", "object", "sentence")
    return _Compare(node.field, node.op, value, fold)


def _compile_query(query: Query) -> _Matcher:
    return compile_node(query.root)


# ---------------------------------------------------------------------------------------------------------------
# Matching
# ---------------------------------------------------------------------------------------------------------------


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
    matcher = query.memo("matcher", _compile_query)
    if not matcher.test(prepared):
        return None
    leaves: list[_Leaf] = []
    matcher.collect(prepared, leaves)
    return _explain(leaves, prepared)


def _explain(leaves: list[_Leaf], prep: Prepared) -> Match:
    """Pick the evidence of a match: the sentence of the text that shows most of it (see the module docstring).

    Counting distinct terms per sentence over every occurrence, not the first occurrence of any term, is what
    keeps a photo caption that names one term from standing in for the paragraph that names them all."""
    terms = tuple(sorted({leaf.term for leaf in leaves}))
    evidence = _Evidence()
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
