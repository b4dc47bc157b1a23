"""The watch query language: text an analyst writes, parsed into a tree that :mod:`tasks.watch.match` evaluates.

A query says what an article must hold to count for a watch::

    entity:"China" AND ("export controls" OR "rare earths" NEAR/10 export*)
        AND NOT outlet:example.com
    figure(kind = money AND unit in (EUR, USD) AND value >= 1bn AND object ~ tariff*)

- **words** match whole tokens, whatever their case (``tariff``); a trailing ``*`` makes a prefix (``tariff*``).
  A word that is several tokens in the text ("U.S.", "covid-19") matches them in a row.
- **phrases** in double quotes match consecutive tokens (``"rare earths"``) within the title or within the text,
  never across the two.
- ``AND``, ``OR``, ``NOT`` (upper case), parentheses; two terms side by side are joined by AND; NOT binds
  tighter than AND, AND tighter than OR. Lower-case "and"/"or"/"not" are refused rather than searched for: they
  are nearly always a keyword typed in the wrong case, and a query that silently looks for the word "or" in every
  article watches nothing.
- ``A NEAR/N B``: words or phrases A and B at most N tokens apart, in either order, in the same field (adjacent
  tokens are 1 apart).
- fields: ``entity:"United States"`` (any spelling the alias table knows, any label), ``entity.ORG:"Siemens"`` (one
  coarse label), ``entity_id:<16 hex digits>``, ``source:NAME``, ``outlet:reuters.com``, ``lang:en`` (or
  ``language:``), ``title:WORD`` / ``title:"PHRASE"``.
- ``figure(...)``: one figure of the article satisfies every condition; conditions compare a field (kind, unit,
  value, low, high, object, sentence, in_table, approximate, currency_source) with ``= != < <= > >= in (...)`` or
  search a text field with ``~`` (a word, a phrase or a parenthesised text query); they combine with AND, OR, NOT
  and parentheses. Numbers may be written ``1e9``, ``1000000``, ``1_000_000``, ``2.5bn``, ``300m``, ``40k``.

A query needs a positive term in every OR branch: NOT alone matches nearly every article, which is a mistake and
would flood the watch. Errors are :class:`WatchQueryError` with the line and column (1-based) of the token at
fault; queries may span lines (TOML multi-line strings).

The tree has a canonical text (:attr:`Query.text`, also ``str(query)``): keywords upper case, words and phrases
case-folded (NFKC), ``language:`` written ``lang:``, the operands of AND and OR and the items of ``in`` lists sorted
and deduplicated, numbers written plainly. Re-indenting, re-casing or reordering a query keeps its canonical text,
and with it the watch's fingerprint and history; ``parse_query(str(q)) == q`` always holds.
"""

from __future__ import annotations

import bisect
import difflib
import hashlib
import math
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeAlias, TypeVar

from tasks.entities import ENTITY_LABELS, coarse_label
from tasks.outlets import outlet_of


class WatchQueryError(ValueError):
    """A query that does not parse: ``str()`` is "line L, column C: what is wrong (and what was expected)".

    ``line`` and ``column`` are 1-based and point at the offending token; ``offset`` is its 0-based character
    offset in the query text (the watch file maps it to a place in the file); ``message`` is the text alone.
    """

    def __init__(self, message: str, line: int, column: int, offset: int) -> None:
        super().__init__(f"line {line}, column {column}: {message}")
        self.message = message
        self.line = line
        self.column = column
        self.offset = offset


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
# Vocabulary
# ---------------------------------------------------------------------------------------------------------------

FIELDS = ("entity", "entity_id", "source", "outlet", "lang", "language", "title")
FIGURE_KINDS = ("money", "percent", "quantity", "count", "date", "ordinal", "fraction")
CURRENCY_SOURCES = ("symbol", "outlet_country", "text", "text_places", "default")
NUMERIC_FIELDS = ("value", "low", "high")
STRING_FIELDS = ("kind", "unit", "currency_source")
BOOL_FIELDS = ("in_table", "approximate")
TEXT_FIELDS = ("object", "sentence")
FIGURE_FIELDS = (
    "kind",
    "unit",
    "value",
    "low",
    "high",
    "object",
    "sentence",
    "in_table",
    "approximate",
    "currency_source",
)
OPERATORS = ("=", "!=", "<", "<=", ">", ">=", "in", "~")
_FIELD_OPERATORS: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(NUMERIC_FIELDS, ("=", "!=", "<", "<=", ">", ">=", "in")),
    **dict.fromkeys(STRING_FIELDS, ("=", "!=", "in")),
    **dict.fromkeys(BOOL_FIELDS, ("=", "!=")),
    **dict.fromkeys(TEXT_FIELDS, ("~", "=", "!=", "in")),
}
# How far NEAR may reach: further than a long article's paragraph is no longer "near".
MAX_NEAR = 1000
# What a number's suffix multiplies it by: the way news writes amounts ("2.5bn", "300m", "40k").
_SCALES = {"k": 1e3, "m": 1e6, "mn": 1e6, "bn": 1e9, "b": 1e9, "tn": 1e12, "t": 1e12, "%": 1.0}
_KEYWORDS = frozenset({"AND", "OR", "NOT"})

_QUOTES = '"“”'
_ESCAPED = re.compile(r'[\\"“”]')
# A bare token: anything up to white space, a parenthesis, a comma, a quote or an operator character.
_BARE = re.compile(r'[^\s()",=!<>~“”]+')
_OPERATOR_CHARS = re.compile(r"[=!<>~]+")
_SPACE = re.compile(r"\s+")
_FIELD = re.compile(r"([A-Za-z][A-Za-z_]*(?:\.[A-Za-z_]*)?):(.*)", re.DOTALL)
_NEAR = re.compile(r"NEAR(?:/(.*))?", re.DOTALL)
_NEAR_ANY_CASE = re.compile(r"near/\d+", re.IGNORECASE)
_NUMBER = re.compile(r"([+-]?(?:\d+(?:_\d+)*(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?)(k|m|mn|bn|b|tn|t|%)?", re.IGNORECASE)
_WORD_CHAR = re.compile(r"\w")
_ENTITY_ID = re.compile(r"[0-9a-f]{16}")
_LANGUAGE = re.compile(r"[a-z]{2,3}(?:-[a-z0-9]+)*")


def normalize_text(text: str) -> str:
    """Return ``text`` NFKC-normalised, case-folded, with runs of white space as one space: the form words and
    phrases are compared in."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


# ---------------------------------------------------------------------------------------------------------------
# Tokens
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Token:
    """A token of the query: ``kind`` is ``word``, ``phrase``, ``op``, ``(``, ``)``, ``,`` or ``end``; ``value`` is
    the phrase's content (escapes undone) or the text as written; ``offset``/``end`` index the query text."""

    kind: str
    text: str
    value: str
    offset: int
    end: int
    line: int
    column: int


class _Lines:
    """Offsets to 1-based line and column."""

    def __init__(self, text: str) -> None:
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def where(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self.starts, offset)
        return line, offset - self.starts[line - 1] + 1

    def error(self, offset: int, message: str) -> WatchQueryError:
        line, column = self.where(offset)
        return WatchQueryError(message, line, column, offset)


def _match_end(pattern: re.Pattern[str], text: str, pos: int) -> int:
    """End of ``pattern``'s match at ``pos`` (the caller checked the first character, so it matches)."""
    m = pattern.match(text, pos)
    return m.end() if m else pos + 1


def tokenize(text: str) -> list[Token]:
    """Return the tokens of a query, ending with an ``end`` token; raises :class:`WatchQueryError` on a phrase
    whose quote is never closed (at the opening quote)."""
    lines = _Lines(text)
    tokens: list[Token] = []

    def add(kind: str, start: int, end: int, value: str | None = None) -> None:
        raw = text[start:end]
        tokens.append(Token(kind, raw, raw if value is None else value, start, end, *lines.where(start)))

    pos, n = 0, len(text)
    while pos < n:
        c = text[pos]
        if c.isspace():
            pos = _match_end(_SPACE, text, pos)
        elif c in "(),":
            add(c, pos, pos + 1)
            pos += 1
        elif c in _QUOTES:
            start, pos, chars = pos, pos + 1, []
            while True:
                if pos >= n:
                    raise lines.error(start, "this quote is never closed: a phrase needs a closing '\"'")
                ch = text[pos]
                if ch == "\\" and pos + 1 < n and text[pos + 1] in _QUOTES + "\\":
                    chars.append(text[pos + 1])
                    pos += 2
                elif ch in _QUOTES:
                    pos += 1
                    break
                else:
                    chars.append(ch)
                    pos += 1
            add("phrase", start, pos, "".join(chars))
        elif c in "=!<>~":
            end = _match_end(_OPERATOR_CHARS, text, pos)
            add("op", pos, end)
            pos = end
        else:
            end = _match_end(_BARE, text, pos)
            add("word", pos, end)
            pos = end
    tokens.append(Token("end", "", "", n, n, *lines.where(n)))
    return tokens


def _describe(tok: Token) -> str:
    if tok.kind == "end":
        return "the end of the query"
    shown = tok.text if len(tok.text) <= 40 else tok.text[:37] + "..."
    return f"'{shown}'"


def _suggest(word: str, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


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
        _BARE.fullmatch(value)
        and value.upper() not in _KEYWORDS
        and value.casefold() != "in"
        and not _NEAR.fullmatch(value.upper())
        and not _FIELD.fullmatch(value)
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


# ---------------------------------------------------------------------------------------------------------------
# The parser
# ---------------------------------------------------------------------------------------------------------------


def parse_query(text: str) -> Query:
    """Return the parsed query; raises :class:`WatchQueryError` (line and column of the token at fault) on an empty
    query, unbalanced parentheses or quotes, a dangling AND/OR/NOT, an unknown field, figure field or operator, a
    bad number, a NEAR without ``/N`` or with an operand that is not a word or phrase, an ``in`` without a list, or
    a query (or OR branch) with no positive term."""
    return Query(_Parser(text).parse())


def parse_number(raw: str) -> float | None:
    """Return the number ``raw`` writes (``1e9``, ``1_000_000``, ``2.5bn``, ``300m``, ``40k``, ``12%``), or None."""
    m = _NUMBER.fullmatch(raw)
    if m is None:
        return None
    value = float(m.group(1).replace("_", "")) * _SCALES[(m.group(2) or "%").lower()]
    return value if math.isfinite(value) else None


class _Parser:
    """Recursive descent over the tokens; see :func:`parse_query`. Grammar (``text_only``: after ``~``, only
    words and phrases)::

        query   := or END
        or      := and (OR and)*
        and     := unary ((AND)? unary)*
        unary   := NOT unary | near
        near    := primary (NEAR/N primary)?
        primary := '(' or ')' | PHRASE | WORD | FIELD:value | figure '(' cond ')'
        cond    := cand (OR cand)* ;  cand := cnot ((AND)? cnot)* ;  cnot := NOT cnot | '(' cond ')' | cmp
        cmp     := FIGFIELD OP value | FIGFIELD in '(' value (',' value)* ')' | FIGFIELD ~ unary
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = _Lines(text)
        self.tokens = tokenize(text)
        self.i = 0
        # Where each NOT was written, to point at the one that leaves a query without a positive term.
        self.origins: dict[int, tuple[Node, Token]] = {}

    # -- helpers

    def peek(self) -> Token:
        return self.tokens[self.i]

    def advance(self) -> Token:
        tok = self.tokens[self.i]
        if tok.kind != "end":
            self.i += 1
        return tok

    def error(self, tok: Token, message: str) -> WatchQueryError:
        return WatchQueryError(message, tok.line, tok.column, tok.offset)

    @staticmethod
    def keyword(tok: Token) -> str | None:
        """AND, OR, NOT or NEAR when ``tok`` is that keyword (upper case only), else None."""
        if tok.kind != "word":
            return None
        if tok.text in _KEYWORDS:
            return tok.text
        return "NEAR" if _NEAR.fullmatch(tok.text) else None

    def starts_term(self, tok: Token) -> bool:
        return tok.kind in ("phrase", "(") or (tok.kind == "word" and self.keyword(tok) in (None, "NOT"))

    # -- query

    def parse(self) -> Node:
        if self.peek().kind == "end":
            raise self.lines.error(0, "the query is empty")
        node = self.parse_or(text_only=False)
        tok = self.peek()
        if tok.kind == ")":
            raise self.error(tok, "unmatched ')': no '(' opens it")
        if tok.kind != "end":
            self.parse_primary(text_only=False)  # raises the message that fits the token ("'>=' belongs in ...")
            raise self.error(tok, f"unexpected {_describe(tok)}")
        self.check_positive(node, self.tokens[0])
        return node

    def parse_or(self, text_only: bool) -> Node:
        items = [self.parse_and(text_only)]
        while self.keyword(self.peek()) == "OR":
            op = self.advance()
            if not self.starts_term(self.peek()):
                raise self.error(op, f"'OR' needs a term after it, found {_describe(self.peek())}")
            items.append(self.parse_and(text_only))
        return make_or(items)

    def parse_and(self, text_only: bool) -> Node:
        items = [self.parse_unary(text_only)]
        while True:
            tok = self.peek()
            if self.keyword(tok) == "AND":
                self.advance()
                if not self.starts_term(self.peek()):
                    raise self.error(tok, f"'AND' needs a term after it, found {_describe(self.peek())}")
            elif not self.starts_term(tok):
                break
            items.append(self.parse_unary(text_only))
        return make_and(items)

    def parse_unary(self, text_only: bool) -> Node:
        tok = self.peek()
        if self.keyword(tok) == "NOT":
            self.advance()
            if not self.starts_term(self.peek()):
                raise self.error(tok, f"'NOT' needs a term after it, found {_describe(self.peek())}")
            node: Node = Not(self.parse_unary(text_only))
            self.origins[id(node)] = (node, tok)
            return node
        return self.parse_near(text_only)

    def parse_near(self, text_only: bool) -> Node:
        first = self.peek()
        left = self.parse_primary(text_only)
        op = self.peek()
        if self.keyword(op) != "NEAR":
            return left
        self.advance()
        distance = self.near_distance(op)
        if not isinstance(left, Word | Phrase):
            raise self.error(first, f"NEAR joins words or phrases, and {_describe(first)} starts neither")
        second = self.peek()
        if not self.starts_term(second) or self.keyword(second) == "NOT":
            raise self.error(op, f"'{op.text}' needs a word or phrase after it, found {_describe(second)}")
        right = self.parse_primary(text_only)
        if not isinstance(right, Word | Phrase):
            raise self.error(second, f"NEAR joins words or phrases, and {_describe(second)} starts neither")
        if self.keyword(self.peek()) == "NEAR":
            raise self.error(self.peek(), "one NEAR at a time: join two NEAR conditions with AND")
        return Near(left, right, distance)

    def near_distance(self, op: Token) -> int:
        m = _NEAR.fullmatch(op.text)
        raw = m.group(1) if m else None
        if raw is None:
            raise self.error(op, "NEAR needs a distance in tokens: write NEAR/10 (no spaces)")
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_NEAR:
            raise self.error(op, f"NEAR/{raw}: the distance must be a whole number from 1 to {MAX_NEAR}")
        return int(raw)

    def parse_primary(self, text_only: bool) -> Node:
        tok = self.peek()
        if tok.kind == "(":
            return self.parse_group(text_only)
        if tok.kind == "phrase":
            self.advance()
            return self.make_phrase(tok, tok.value)
        if tok.kind == ")":
            raise self.error(tok, "unmatched ')': no '(' opens it")
        if tok.kind == "op":
            raise self.error(tok, f"unexpected '{tok.text}': comparisons belong inside figure(...)")
        if tok.kind == ",":
            raise self.error(tok, "unexpected ',': commas separate the items of an 'in (...)' list")
        if tok.kind == "end":
            raise self.error(tok, "the query ends where a term was expected")
        keyword = self.keyword(tok)
        if keyword in ("AND", "OR"):
            raise self.error(tok, f"'{keyword}' needs a term before it")
        if keyword == "NEAR":
            raise self.error(tok, f"'{tok.text}' needs a word or phrase before it")
        low = tok.text.casefold()
        nxt = self.tokens[self.i + 1]
        if low == "figure" and nxt.kind == "(" and nxt.offset == tok.end:
            if text_only:
                raise self.error(tok, "only words and phrases can follow '~', not figure(...)")
            return self.parse_figure()
        m = _FIELD.fullmatch(tok.text)
        if m is not None:
            return self.parse_field(tok, m.group(1), m.group(2), text_only)
        self.advance()
        word = self.make_word(tok.offset, tok.text)
        if (word.text in ("and", "or", "not") and not word.prefix) or _NEAR_ANY_CASE.fullmatch(word.text):
            raise self.error(
                tok,
                f"operators are written in capitals: write {word.text.upper()} "
                f'(or put "{word.text}" in quotes to search for it)',
            )
        if _FIELD.fullmatch(to_text(word)):
            raise self.error(tok, f"{_describe(tok)} reads as a field: put it in quotes to search for it")
        return word

    def parse_group(self, text_only: bool) -> Node:
        opening = self.advance()
        if self.peek().kind == ")":
            raise self.error(opening, "empty parentheses: '()' holds no term")
        if self.peek().kind == "end":
            raise self.error(opening, "this '(' is never closed: add ')'")
        inner = self.parse_or(text_only)
        self.close(opening)
        return inner

    def close(self, opening: Token, what: str = "'('") -> None:
        tok = self.peek()
        if tok.kind == ")":
            self.advance()
            return
        if tok.kind == "end":
            raise self.error(opening, f"this {what} is never closed: add ')'")
        raise self.error(
            tok,
            f"expected ')' to close the {what} at line {opening.line}, column {opening.column}, found {_describe(tok)}",
        )

    # -- words and phrases

    def make_word(self, offset: int, raw: str) -> Word:
        prefix = raw.endswith("*")
        body = raw[:-1] if prefix else raw
        if "*" in body:
            raise self.lines.error(offset, f"'{raw}': only a trailing '*' is allowed (tariff* for a prefix)")
        if not _WORD_CHAR.search(body):
            raise self.lines.error(offset, f"'{raw}' has no letter or digit to search for")
        return Word(normalize_text(body), prefix)

    def make_phrase(self, tok: Token, value: str) -> Phrase:
        text = normalize_text(value)
        if not text:
            raise self.error(tok, "empty phrase: '\"\"' holds nothing to search for")
        if not _WORD_CHAR.search(text):
            raise self.error(tok, f"the phrase {_describe(tok)} has no letter or digit to search for")
        return Phrase(text)

    # -- fields

    def parse_field(self, tok: Token, name: str, rest: str, text_only: bool) -> Node:
        base, dot, label = name.partition(".")
        base = base.lower()
        if base not in FIELDS or (dot and base != "entity"):
            options = [f"{f}:" for f in FIELDS] + [f"entity.{lab}:" for lab in sorted(ENTITY_LABELS)]
            raise self.error(
                tok,
                f"unknown field '{name}:'{_suggest(name + ':', options)}; fields are entity:, entity.LABEL:, "
                "entity_id:, source:, outlet:, lang:, title: (put text with a colon in quotes)",
            )
        if text_only:
            raise self.error(tok, f"only words and phrases can follow '~', not the field '{name}:'")
        self.advance()
        value_offset = tok.offset + len(name) + 1
        if rest:
            value, quoted = rest, False
        else:
            nxt = self.peek()
            if nxt.kind == "phrase" and nxt.offset == tok.end:
                self.advance()
                value, quoted, value_offset = nxt.value, True, nxt.offset
            elif nxt.kind == "(" and nxt.offset == tok.end:
                raise self.error(nxt, f"'{name}:' takes one word or one phrase in quotes, not a group")
            else:
                raise self.error(tok, f"expected a value right after '{name}:' (a word or a phrase in quotes)")
        if base in ("entity", "entity_id") and not quoted and value.endswith("*"):
            raise self.lines.error(value_offset, f"'{name}:' takes a whole name: entities have no prefix search")
        if base == "entity":
            return self.entity_term(tok, label.upper() if dot else None, value, value_offset)
        if base == "entity_id":
            ident = value.strip().lower()
            if not _ENTITY_ID.fullmatch(ident):
                raise self.lines.error(value_offset, f"'{value}' is no entity_id: an entity_id is 16 hex digits")
            return EntityTerm(ident, None, by_id=True)
        if base == "title":
            if quoted:
                return FieldTerm("title", self.make_phrase(self.tokens[self.i - 1], value))
            return FieldTerm("title", self.make_word(value_offset, value))
        text = normalize_text(value)
        if not text:
            raise self.lines.error(value_offset, f"'{name}:' needs a value")
        if base == "outlet":
            return FieldTerm("outlet", outlet_of(text) or text)
        if base in ("lang", "language"):
            if not _LANGUAGE.fullmatch(text):
                raise self.lines.error(value_offset, f"'{value}' is no language code: write lang:en, lang:de ...")
            return FieldTerm("lang", text)
        return FieldTerm("source", text)

    def entity_term(self, tok: Token, label: str | None, value: str, value_offset: int) -> EntityTerm:
        if label is not None and label not in ENTITY_LABELS:
            raise self.error(
                tok,
                f"unknown entity label '{label}'{_suggest(label, ENTITY_LABELS)}; labels are "
                + ", ".join(sorted(ENTITY_LABELS)),
            )
        name = " ".join(unicodedata.normalize("NFKC", value).split())
        if not _WORD_CHAR.search(name):
            raise self.lines.error(value_offset, "an entity name needs a letter or digit")
        return EntityTerm(name, coarse_label(label) if label else None)

    # -- figures

    def parse_figure(self) -> Node:
        self.advance()  # "figure"
        opening = self.advance()  # "("
        if self.peek().kind == ")":
            raise self.error(opening, "figure() needs a condition, e.g. figure(kind = money AND value >= 1bn)")
        if self.peek().kind == "end":
            raise self.error(opening, "this 'figure(' is never closed: add ')'")
        condition = self.parse_cond_or()
        self.close(opening, "'figure('")
        return FigureTerm(condition)

    def starts_condition(self, tok: Token) -> bool:
        return tok.kind == "(" or (tok.kind == "word" and self.keyword(tok) in (None, "NOT"))

    def parse_cond_or(self) -> Node:
        items = [self.parse_cond_and()]
        while self.keyword(self.peek()) == "OR":
            op = self.advance()
            if not self.starts_condition(self.peek()):
                raise self.error(op, f"'OR' needs a condition after it, found {_describe(self.peek())}")
            items.append(self.parse_cond_and())
        return make_or(items)

    def parse_cond_and(self) -> Node:
        items = [self.parse_cond_not()]
        while True:
            tok = self.peek()
            if self.keyword(tok) == "AND":
                self.advance()
                if not self.starts_condition(self.peek()):
                    raise self.error(tok, f"'AND' needs a condition after it, found {_describe(self.peek())}")
            elif not self.starts_condition(tok):
                break
            items.append(self.parse_cond_not())
        return make_and(items)

    def parse_cond_not(self) -> Node:
        tok = self.peek()
        if self.keyword(tok) == "NOT":
            self.advance()
            if not self.starts_condition(self.peek()):
                raise self.error(tok, f"'NOT' needs a condition after it, found {_describe(self.peek())}")
            return Not(self.parse_cond_not())
        if tok.kind == "(":
            opening = self.advance()
            if self.peek().kind == ")":
                raise self.error(opening, "empty parentheses: '()' holds no condition")
            inner = self.parse_cond_or()
            self.close(opening)
            return inner
        if tok.kind == "word" and self.keyword(tok) is None:
            return self.parse_comparison()
        keyword = self.keyword(tok)
        if keyword in ("AND", "OR"):
            raise self.error(tok, f"'{keyword}' needs a condition before it")
        raise self.error(
            tok,
            f"expected a figure condition such as 'value >= 1bn', found {_describe(tok)}; "
            f"fields are {', '.join(FIGURE_FIELDS)}",
        )

    def parse_comparison(self) -> Comparison:
        ftok = self.advance()
        name = ftok.text.casefold()
        if name not in FIGURE_FIELDS:
            raise self.error(
                ftok,
                f"unknown figure field '{ftok.text}'{_suggest(name, FIGURE_FIELDS)}; "
                f"fields are {', '.join(FIGURE_FIELDS)}",
            )
        otok = self.peek()
        if otok.kind == "op":
            op = otok.text
            if op not in OPERATORS:
                fixes = {"==": "=", "=>": ">=", "=<": "<=", "<>": "!=", "=~": "~", "~=": "~"}
                hint = f" (did you mean '{fixes[op]}'?)" if op in fixes else ""
                raise self.error(otok, f"unknown operator '{op}'{hint}; operators are {' '.join(OPERATORS)}")
        elif otok.kind == "word" and otok.text.casefold() == "in":
            op = "in"
        else:
            raise self.error(
                otok,
                f"expected an operator after '{ftok.text}' ({' '.join(_FIELD_OPERATORS[name])}), "
                f"found {_describe(otok)}",
            )
        if op not in _FIELD_OPERATORS[name]:
            raise self.error(otok, f"'{op}' does not apply to '{name}'; use {' '.join(_FIELD_OPERATORS[name])}")
        self.advance()
        if op == "~":
            tok = self.peek()
            if not self.starts_term(tok):
                raise self.error(otok, f"'~' needs a word, a phrase or a (text query) after it, found {_describe(tok)}")
            return Comparison(name, "~", self.parse_unary(text_only=True))
        if op == "in":
            return Comparison(name, "in", self.parse_list(name, otok))
        vtok = self.peek()
        if vtok.kind not in ("word", "phrase") or self.keyword(vtok) is not None:
            raise self.error(otok, f"expected a value after '{op}', found {_describe(vtok)}")
        self.advance()
        value = self.scalar(name, vtok)
        if isinstance(value, float) and self.peek().kind == ",":
            raise self.error(self.peek(), "numbers are written without commas: 1000000, 1_000_000 or 1m")
        return Comparison(name, op, value)

    def parse_list(self, name: str, otok: Token) -> tuple[float, ...] | tuple[str, ...]:
        opening = self.peek()
        if opening.kind != "(":
            raise self.error(
                otok, f"'in' needs a list in parentheses, e.g. {name} in (a, b), found {_describe(opening)}"
            )
        self.advance()
        items: list[Any] = []
        while True:
            tok = self.peek()
            if tok.kind == ")" and not items:
                raise self.error(opening, "empty list: 'in ()' needs at least one value")
            if tok.kind == "end":
                raise self.error(opening, "this '(' is never closed: add ')'")
            if tok.kind not in ("word", "phrase"):
                raise self.error(tok, f"expected a value in the list, found {_describe(tok)}")
            self.advance()
            items.append(self.scalar(name, tok))
            sep = self.peek()
            if sep.kind == ")":
                self.advance()
                break
            if sep.kind != ",":
                raise self.error(sep, f"expected ',' or ')' in the list, found {_describe(sep)}")
            self.advance()
        return tuple(sorted(set(items)))

    def scalar(self, name: str, tok: Token) -> float | str | bool:
        raw = tok.value
        if name in NUMERIC_FIELDS:
            number = parse_number(raw.strip())
            if number is None:
                raise self.error(tok, f"'{raw}' is not a number (write 1e9, 1000000, 1_000_000, 2.5bn, 300m or 40k)")
            return number
        if name in BOOL_FIELDS:
            low = raw.strip().casefold()
            if low not in ("true", "false"):
                raise self.error(tok, f"'{name}' is true or false, not {_describe(tok)}")
            return low == "true"
        text = normalize_text(raw)
        if not text:
            raise self.error(tok, "empty value")
        if name == "kind" and text not in FIGURE_KINDS:
            raise self.error(
                tok, f"unknown figure kind '{raw}'{_suggest(text, FIGURE_KINDS)}; kinds are {', '.join(FIGURE_KINDS)}"
            )
        if name == "currency_source" and text not in CURRENCY_SOURCES:
            raise self.error(
                tok,
                f"unknown currency source '{raw}'{_suggest(text, CURRENCY_SOURCES)}; "
                f"they are {', '.join(CURRENCY_SOURCES)}",
            )
        return text

    # -- positive terms

    def check_positive(self, node: Node, first: Token) -> None:
        """Raise when the query, or one branch of an OR, has no positive term (only NOT): it would match nearly
        every article. Points at the NOT that is left alone."""
        culprit = _negative_part(node)
        if culprit is None:
            return
        at = _first_not(culprit)
        origin = self.origins.get(id(at))
        tok = origin[1] if origin is not None and origin[0] is at else first
        where = "the query has no positive term" if culprit is node else "this OR branch has no positive term"
        raise self.error(
            tok,
            f"{where}: '{to_text(culprit)}' alone matches nearly every article; add a word, phrase, entity, "
            "field or figure to look for (e.g. tariff AND NOT ...)",
        )


def is_positive(node: Node) -> bool:
    """Return whether ``node`` needs something to be present: a term does, NOT does not, AND when one of its items
    does, OR when all of its items do."""
    if isinstance(node, Not):
        return False
    if isinstance(node, And):
        return any(is_positive(i) for i in node.items)
    if isinstance(node, Or):
        return all(is_positive(i) for i in node.items)
    return True


def _negative_part(node: Node) -> Node | None:
    """The NOT (or group of them) that keeps ``node`` from being positive, or None when it is positive."""
    if is_positive(node):
        return None
    if isinstance(node, Or):
        bad = next(i for i in node.items if not is_positive(i))
        return _negative_part(bad) if isinstance(bad, Or) else bad
    return node


def _first_not(node: Node) -> Node:
    """The first NOT inside a part that is not positive (where an error about it points)."""
    while isinstance(node, And | Or):
        node = next(i for i in node.items if not is_positive(i))
    return node
