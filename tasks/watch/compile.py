"""Watch queries compiled into matchers: a tree of terms turned once into objects that test a prepared article in
microseconds (items of AND and OR cheapest first: metadata and entity set tests before phrase scans, figure
conditions last) and, for an article that matched, mark where each term occurs for the evidence.
"""

from __future__ import annotations

import bisect
import operator
from collections.abc import Callable, Iterator, Mapping
from functools import lru_cache
from typing import Any

from tasks.entities import ENTITY_LABELS, KIND_PLATFORM, alias_table, coarse_label, entity_key, normalize_name
from tasks.watch.article import FigureRef, Prepared, TokenField
from tasks.watch.text import word_tokens
from tasks.watch.tree import (
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

_NO_POSITIONS: list[int] = []


class _Matcher:
    """A compiled node: ``test`` says whether it holds; ``collect`` (called only when it holds) adds the terms that
    made it hold. ``cost`` orders the items of AND and OR, cheapest first."""

    __slots__ = ("cost",)
    cost: int

    def test(self, ctx: Any) -> bool:
        raise NotImplementedError

    def collect(self, ctx: Any, out: list[Leaf]) -> None:
        raise NotImplementedError


class Leaf(_Matcher):
    """A term: its canonical text is what :class:`Match` reports; ``mark`` (called only for an article that
    matched) tells the evidence where the term occurs."""

    __slots__ = ("term",)
    term: str

    def collect(self, ctx: Any, out: list[Leaf]) -> None:
        out.append(self)

    def mark(self, prep: Prepared, evidence: Evidence) -> None:
        return  # a metadata term occurs nowhere in the text


class Evidence:
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

    def collect(self, ctx: Any, out: list[Leaf]) -> None:
        for item in self.items:
            item.collect(ctx, out)


class _Any(_All):
    __slots__ = ()

    def test(self, ctx: Any) -> bool:
        for item in self.items:  # noqa: SIM110 - see _All.test
            if item.test(ctx):
                return True
        return False

    def collect(self, ctx: Any, out: list[Leaf]) -> None:
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

    def collect(self, ctx: Any, out: list[Leaf]) -> None:
        return  # nothing under a NOT is a reason for a match


class _Pattern(Leaf):
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

    def mark(self, prep: Prepared, evidence: Evidence) -> None:
        """Every occurrence counts in the sentence of its first token (a phrase split by a full stop is rare)."""
        found = self.occurrences(prep)
        if not found:
            return
        if found[0] < prep.title_end:
            evidence.in_title = True
        term, offset, sentence_of, add = self.term, prep.body_offset, prep.sentence_of, evidence.add
        for i in range(bisect.bisect_left(found, prep.body_start), len(found)):
            add(sentence_of(offset(found[i])), term)


class _Near(Leaf):
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

    def mark(self, prep: Prepared, evidence: Evidence) -> None:
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


class _EntityKeys(Leaf):
    __slots__ = ("keys",)

    def __init__(self, term: str, keys: frozenset[str]) -> None:
        self.term, self.keys, self.cost = term, keys, 1

    def test(self, ctx: Any) -> bool:
        return not self.keys.isdisjoint(ctx.entity_keys)

    def mark(self, prep: Prepared, evidence: Evidence) -> None:
        keys, term = self.keys, self.term
        for e in prep.doc.entities:
            if e.entity_key in keys:
                evidence.add(prep.sentence_of(e.start), term)


class _EntityId(Leaf):
    __slots__ = ("entity_id",)

    def __init__(self, term: str, entity_id: str) -> None:
        self.term, self.entity_id, self.cost = term, entity_id, 1

    def test(self, ctx: Any) -> bool:
        return self.entity_id in ctx.entity_ids

    def mark(self, prep: Prepared, evidence: Evidence) -> None:
        entity_id, term = self.entity_id, self.term
        for e in prep.doc.entities:
            if e.entity_id == entity_id:
                evidence.add(prep.sentence_of(e.start), term)


class _Metadata(Leaf):
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


class _Figure(Leaf):
    __slots__ = ("condition",)

    def __init__(self, term: str, condition: _Condition) -> None:
        self.term, self.condition, self.cost = term, condition, 8

    def test(self, ctx: Any) -> bool:
        condition = self.condition
        for i, fig in enumerate(ctx.doc.figures):  # noqa: SIM110 - see _All.test
            if condition.test(i, fig, ctx):
                return True
        return False

    def mark(self, prep: Prepared, evidence: Evidence) -> None:
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


def compile_query(query: Query) -> _Matcher:
    """Return the matcher of ``query``'s tree (kept in the query's memo by :func:`tasks.watch.match.match`)."""
    return compile_node(query.root)
