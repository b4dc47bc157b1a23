"""One article as watch matching sees it: the :class:`MatchInput` built the same way from ingest's records and from
the lake's rows, and the :class:`Prepared` article, read once (tokens, index, entity keys) for every watch to test.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from tasks.entities import entity_key
from tasks.outlets import outlet_for
from tasks.records import Article, Entity, Figure
from tasks.watch.text import split_sentences, token_starts, word_tokens
from tasks.watch.tree import normalize_text

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
# Prepared articles
# ---------------------------------------------------------------------------------------------------------------


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
