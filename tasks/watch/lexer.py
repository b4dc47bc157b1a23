"""Tokens of the watch query language (:mod:`tasks.watch.query`), each with the line and column it starts at, and
the error every step of parsing raises.

Here too are the shapes that say what a bare token is (a keyword, a field, ``NEAR/N``): the parser reads tokens
with them, and the canonical text (:mod:`tasks.watch.tree`) checks with them that a value it writes bare reads back
as the same token.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass


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


# What a bare token is (KEYWORDS, BARE_TOKEN, FIELD_TOKEN, NEAR_TOKEN): the parser and the canonical text agree.
KEYWORDS = frozenset({"AND", "OR", "NOT"})
_QUOTES = '"“”'
# A bare token: anything up to white space, a parenthesis, a comma, a quote or an operator character.
BARE_TOKEN = re.compile(r'[^\s()",=!<>~“”]+')
_OPERATOR_CHARS = re.compile(r"[=!<>~]+")
_SPACE = re.compile(r"\s+")
FIELD_TOKEN = re.compile(r"([A-Za-z][A-Za-z_]*(?:\.[A-Za-z_]*)?):(.*)", re.DOTALL)
NEAR_TOKEN = re.compile(r"NEAR(?:/(.*))?", re.DOTALL)


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


class Lines:
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
    lines = Lines(text)
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
            end = _match_end(BARE_TOKEN, text, pos)
            add("word", pos, end)
            pos = end
    tokens.append(Token("end", "", "", n, n, *lines.where(n)))
    return tokens


def describe(tok: Token) -> str:
    """Return how an error message names ``tok``: quoted, shortened past 40 characters."""
    if tok.kind == "end":
        return "the end of the query"
    shown = tok.text if len(tok.text) <= 40 else tok.text[:37] + "..."
    return f"'{shown}'"
