"""The tree a watch query parses into (:func:`tasks.watch.query.parse_query`) and its canonical text.

The two are defined together: AND and OR sort their operands by canonical text as the tree is built, and a
:class:`Query` carries the canonical text of its root, which its fingerprint (the watch's history) hashes. A value
is written bare only when :mod:`tasks.watch.lexer` reads it back as the same token, so that
``parse_query(str(q)) == q``.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeAlias, TypeVar

from tasks.watch.lexer import BARE_TOKEN, FIELD_TOKEN, KEYWORDS, NEAR_TOKEN

_ESCAPED = re.compile(r'[\\"“”]')


def normalize_text(text: str) -> str:
    """Return ``text`` NFKC-normalised, case-folded, with runs of white space as one space: the form words and
    phrases are compared in."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


# ---------------------------------------------------------------------------------------------------------------
# The tree
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Word:
    """A word (NFKC, case-folded, as written otherwise); ``prefix``: it was written with a trailing ``*``."""

    text: str
    prefix: bool = False


@dataclass(frozen=True, slots=True)
class Phrase:
    """Consecutive tokens; ``text`` is the phrase NFKC case-folded with single spaces."""

    text: str


@dataclass(frozen=True, slots=True)
class Near:
    """``left`` and ``right`` at most ``distance`` tokens apart, either order, within one field."""

    left: Word | Phrase
    right: Word | Phrase
    distance: int


@dataclass(frozen=True, slots=True)
class EntityTerm:
    """An entity by name (``by_id`` False: any spelling the alias table knows) or by ``entity_id``;
    ``label`` restricts a name to one coarse label (GPE, ORG, PERSON, NORP ...)."""

    name: str
    label: str | None = None
    by_id: bool = False


@dataclass(frozen=True, slots=True)
class FieldTerm:
    """A metadata test: ``source``, ``outlet`` or ``lang`` equal to a string, or a word or phrase of the title."""

    field: str
    value: str | Word | Phrase


ComparisonValue: TypeAlias = "float | str | bool | tuple[float, ...] | tuple[str, ...] | Node"


@dataclass(frozen=True, slots=True)
class Comparison:
    """One condition on a figure: ``field op value``; ``value`` is a number, a string, a bool, a sorted tuple of
    them for ``in``, or a text query (a tree of words and phrases) for ``~``."""

    field: str
    op: str
    value: ComparisonValue


@dataclass(frozen=True, slots=True)
class FigureTerm:
    """One figure of the article satisfies ``condition`` (a tree of :class:`Comparison` under And/Or/Not)."""

    condition: Node


@dataclass(frozen=True, slots=True)
class And:
    """Every item holds (two or more items, none an And, sorted by canonical text)."""

    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    """At least one item holds (two or more items, none an Or, sorted by canonical text)."""

    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    """The item does not hold."""

    item: Node


Node: TypeAlias = "And | Or | Not | Word | Phrase | Near | EntityTerm | FieldTerm | FigureTerm | Comparison"
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed query: its tree and canonical text (``str(query)``); equal queries have equal trees."""

    root: Node
    text: str = field(init=False, compare=False)
    _memo: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "text", to_text(self.root))

    def __str__(self) -> str:
        return self.text

    def __reduce__(self) -> tuple[type[Query], tuple[Node]]:
        # Pickled (to worker processes) as its tree only; the memo is rebuilt where it is used.
        return (Query, (self.root,))

    @property
    def fingerprint(self) -> str:
        """16 hex digits of the SHA-256 of the canonical text: same query, same watch history."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()[:16]

    def memo(self, key: str, build: Callable[[Query], T]) -> T:
        """Return ``build(self)``, computed once per query object: the matcher compiles a query once, not once per
        article. Not part of the query's value (ignored by ``==``, ``hash`` and pickling)."""
        if key not in self._memo:
            self._memo[key] = build(self)
        value: T = self._memo[key]
        return value


# ---------------------------------------------------------------------------------------------------------------
# Building the tree (canonical as it is built)
# ---------------------------------------------------------------------------------------------------------------


def _join(kind: type[And] | type[Or], items: Iterable[Node]) -> Node:
    flat: dict[str, Node] = {}
    for item in items:
        for sub in item.items if isinstance(item, kind) else (item,):
            flat.setdefault(to_text(sub), sub)
    # Sorted, terms before negations, so that the canonical text reads "a AND b AND NOT c".
    ordered = tuple(flat[key] for key in sorted(flat, key=lambda k: (isinstance(flat[k], Not), k)))
    return ordered[0] if len(ordered) == 1 else kind(ordered)


def make_and(items: Iterable[Node]) -> Node:
    """Return the conjunction of ``items``: nested ANDs flattened, duplicates dropped, sorted; one item alone."""
    return _join(And, items)


def make_or(items: Iterable[Node]) -> Node:
    """Return the disjunction of ``items``: nested ORs flattened, duplicates dropped, sorted; one item alone."""
    return _join(Or, items)


# ---------------------------------------------------------------------------------------------------------------
# Canonical text
# ---------------------------------------------------------------------------------------------------------------


def quote(text: str) -> str:
    """Return ``text`` as a phrase literal: in double quotes, with quote marks (straight and curly) and ``\\``
    escaped by a backslash."""
    return '"' + _ESCAPED.sub(r"\\\g<0>", text) + '"'


def _value_text(value: str) -> str:
    """A string value bare when it reads back as the same bare token, else quoted."""
    bare = (
        BARE_TOKEN.fullmatch(value)
        and value.upper() not in KEYWORDS
        and value.casefold() != "in"
        and not NEAR_TOKEN.fullmatch(value.upper())
        and not FIELD_TOKEN.fullmatch(value)
    )
    return value if bare else quote(value)


def format_number(value: float) -> str:
    """Return a number as the query language writes it back: an integer plainly, else Python's shortest form."""
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def _text_operand(node: Node) -> str:
    text = to_text(node)
    return text if isinstance(node, Word | Phrase) else f"({text})"


def to_text(node: Node) -> str:
    """Return the canonical text of a query tree (what :attr:`Query.text` holds)."""
    if isinstance(node, Word):
        return node.text + ("*" if node.prefix else "")
    if isinstance(node, Phrase):
        return quote(node.text)
    if isinstance(node, Or):
        return " OR ".join(to_text(i) for i in node.items)
    if isinstance(node, And):
        return " AND ".join(f"({to_text(i)})" if isinstance(i, Or) else to_text(i) for i in node.items)
    if isinstance(node, Not):
        inner = to_text(node.item)
        return f"NOT ({inner})" if isinstance(node.item, And | Or) else f"NOT {inner}"
    if isinstance(node, Near):
        return f"{to_text(node.left)} NEAR/{node.distance} {to_text(node.right)}"
    if isinstance(node, EntityTerm):
        if node.by_id:
            return f"entity_id:{node.name}"
        return f"entity.{node.label}:{quote(node.name)}" if node.label else f"entity:{quote(node.name)}"
    if isinstance(node, FieldTerm):
        if isinstance(node.value, Word | Phrase):
            return f"{node.field}:{to_text(node.value)}"
        return f"{node.field}:{_value_text(node.value)}"
    if isinstance(node, FigureTerm):
        return f"figure({to_text(node.condition)})"
    return _comparison_text(node)


def _comparison_text(node: Comparison) -> str:
    value = node.value
    if isinstance(value, tuple):
        shown = "(" + ", ".join(_scalar_text(v) for v in value) + ")"
    elif isinstance(value, float | str | bool):
        shown = _scalar_text(value)
    else:
        shown = _text_operand(value)
    return f"{node.field} {node.op} {shown}"


def _scalar_text(value: float | str | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float | int):
        return format_number(float(value))
    return _value_text(value)
