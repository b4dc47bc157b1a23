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

The tokens are :mod:`tasks.watch.lexer`'s, the tree and its canonical text :mod:`tasks.watch.tree`'s; this module
parses, and every name of the three that other code uses is importable from here.
"""

from __future__ import annotations

import difflib
import math
import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from tasks.entities import ENTITY_LABELS, coarse_label
from tasks.outlets import outlet_of
from tasks.watch.lexer import FIELD_TOKEN, KEYWORDS, NEAR_TOKEN, Lines, Token, WatchQueryError, describe, tokenize
from tasks.watch.tree import (
    And,
    Comparison,
    ComparisonValue,
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
    format_number,
    make_and,
    make_or,
    normalize_text,
    quote,
    to_text,
)

__all__ = [
    "BOOL_FIELDS",
    "CURRENCY_SOURCES",
    "FIELDS",
    "FIGURE_FIELDS",
    "FIGURE_KINDS",
    "MAX_NEAR",
    "NUMERIC_FIELDS",
    "OPERATORS",
    "STRING_FIELDS",
    "TEXT_FIELDS",
    "And",
    "Comparison",
    "ComparisonValue",
    "EntityTerm",
    "FieldTerm",
    "FigureTerm",
    "Near",
    "Node",
    "Not",
    "Or",
    "Phrase",
    "Query",
    "Token",
    "WatchQueryError",
    "Word",
    "format_number",
    "is_positive",
    "make_and",
    "make_or",
    "normalize_text",
    "parse_number",
    "parse_query",
    "quote",
    "to_text",
    "tokenize",
]

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
_NEAR_ANY_CASE = re.compile(r"near/\d+", re.IGNORECASE)
_NUMBER = re.compile(r"([+-]?(?:\d+(?:_\d+)*(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?)(k|m|mn|bn|b|tn|t|%)?", re.IGNORECASE)
_WORD_CHAR = re.compile(r"\w")
_ENTITY_ID = re.compile(r"[0-9a-f]{16}")
_LANGUAGE = re.compile(r"[a-z]{2,3}(?:-[a-z0-9]+)*")


def _suggest(word: str, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


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
        self.lines = Lines(text)
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
        if tok.text in KEYWORDS:
            return tok.text
        return "NEAR" if NEAR_TOKEN.fullmatch(tok.text) else None

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
            raise self.error(tok, f"unexpected {describe(tok)}")
        self.check_positive(node, self.tokens[0])
        return node

    def parse_or(self, text_only: bool) -> Node:
        items = [self.parse_and(text_only)]
        while self.keyword(self.peek()) == "OR":
            op = self.advance()
            if not self.starts_term(self.peek()):
                raise self.error(op, f"'OR' needs a term after it, found {describe(self.peek())}")
            items.append(self.parse_and(text_only))
        return make_or(items)

    def parse_and(self, text_only: bool) -> Node:
        items = [self.parse_unary(text_only)]
        while True:
            tok = self.peek()
            if self.keyword(tok) == "AND":
                self.advance()
                if not self.starts_term(self.peek()):
                    raise self.error(tok, f"'AND' needs a term after it, found {describe(self.peek())}")
            elif not self.starts_term(tok):
                break
            items.append(self.parse_unary(text_only))
        return make_and(items)

    def parse_unary(self, text_only: bool) -> Node:
        tok = self.peek()
        if self.keyword(tok) == "NOT":
            self.advance()
            if not self.starts_term(self.peek()):
                raise self.error(tok, f"'NOT' needs a term after it, found {describe(self.peek())}")
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
            raise self.error(first, f"NEAR joins words or phrases, and {describe(first)} starts neither")
        second = self.peek()
        if not self.starts_term(second) or self.keyword(second) == "NOT":
            raise self.error(op, f"'{op.text}' needs a word or phrase after it, found {describe(second)}")
        right = self.parse_primary(text_only)
        if not isinstance(right, Word | Phrase):
            raise self.error(second, f"NEAR joins words or phrases, and {describe(second)} starts neither")
        if self.keyword(self.peek()) == "NEAR":
            raise self.error(self.peek(), "one NEAR at a time: join two NEAR conditions with AND")
        return Near(left, right, distance)

    def near_distance(self, op: Token) -> int:
        m = NEAR_TOKEN.fullmatch(op.text)
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
        m = FIELD_TOKEN.fullmatch(tok.text)
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
        if FIELD_TOKEN.fullmatch(to_text(word)):
            raise self.error(tok, f"{describe(tok)} reads as a field: put it in quotes to search for it")
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
            f"expected ')' to close the {what} at line {opening.line}, column {opening.column}, found {describe(tok)}",
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
            raise self.error(tok, f"the phrase {describe(tok)} has no letter or digit to search for")
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
                raise self.error(op, f"'OR' needs a condition after it, found {describe(self.peek())}")
            items.append(self.parse_cond_and())
        return make_or(items)

    def parse_cond_and(self) -> Node:
        items = [self.parse_cond_not()]
        while True:
            tok = self.peek()
            if self.keyword(tok) == "AND":
                self.advance()
                if not self.starts_condition(self.peek()):
                    raise self.error(tok, f"'AND' needs a condition after it, found {describe(self.peek())}")
            elif not self.starts_condition(tok):
                break
            items.append(self.parse_cond_not())
        return make_and(items)

    def parse_cond_not(self) -> Node:
        tok = self.peek()
        if self.keyword(tok) == "NOT":
            self.advance()
            if not self.starts_condition(self.peek()):
                raise self.error(tok, f"'NOT' needs a condition after it, found {describe(self.peek())}")
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
            f"expected a figure condition such as 'value >= 1bn', found {describe(tok)}; "
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
                f"found {describe(otok)}",
            )
        if op not in _FIELD_OPERATORS[name]:
            raise self.error(otok, f"'{op}' does not apply to '{name}'; use {' '.join(_FIELD_OPERATORS[name])}")
        self.advance()
        if op == "~":
            tok = self.peek()
            if not self.starts_term(tok):
                raise self.error(otok, f"'~' needs a word, a phrase or a (text query) after it, found {describe(tok)}")
            return Comparison(name, "~", self.parse_unary(text_only=True))
        if op == "in":
            return Comparison(name, "in", self.parse_list(name, otok))
        vtok = self.peek()
        if vtok.kind not in ("word", "phrase") or self.keyword(vtok) is not None:
            raise self.error(otok, f"expected a value after '{op}', found {describe(vtok)}")
        self.advance()
        value = self.scalar(name, vtok)
        if isinstance(value, float) and self.peek().kind == ",":
            raise self.error(self.peek(), "numbers are written without commas: 1000000, 1_000_000 or 1m")
        return Comparison(name, op, value)

    def parse_list(self, name: str, otok: Token) -> tuple[float, ...] | tuple[str, ...]:
        opening = self.peek()
        if opening.kind != "(":
            raise self.error(
                otok, f"'in' needs a list in parentheses, e.g. {name} in (a, b), found {describe(opening)}"
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
                raise self.error(tok, f"expected a value in the list, found {describe(tok)}")
            self.advance()
            items.append(self.scalar(name, tok))
            sep = self.peek()
            if sep.kind == ")":
                self.advance()
                break
            if sep.kind != ",":
                raise self.error(sep, f"expected ',' or ')' in the list, found {describe(sep)}")
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
                raise self.error(tok, f"'{name}' is true or false, not {describe(tok)}")
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
