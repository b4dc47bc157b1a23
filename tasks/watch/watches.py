"""The watch file: the saved queries of a deployment, one ``[[watch]]`` table each, in TOML.

::

    [[watch]]
    name = "eu_steel_safeguards"          # unique; a-z, 0-9, "_" and "-" (it names rows, alerts and files)
    description = "EU safeguard duties on steel imports"
    min_stories = 3                       # optional: fewer stories in a day never make a spike
    query = '''
        entity:"European Union" AND steel
        AND (safeguard* OR "anti-dumping")
    '''

An error in the file is a :class:`WatchFileError` that names the file, the watch and the line and column *in the
file*: a query error is moved from its place in the query to its place in the file (multi-line strings and
escapes included), so an editor can jump to the offending token. TOML syntax errors keep ``tomllib``'s message.
"""

from __future__ import annotations

import bisect
import difflib
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tasks.watch.query import Query, WatchQueryError, parse_query

WATCH_KEYS = ("name", "query", "description", "min_stories")
_NAME = re.compile(r"[a-z0-9_-]+")
_HEADER = re.compile(r"^[ \t]*\[\[[ \t]*watch[ \t]*\]\]", re.MULTILINE)
_TOML_WHERE = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")


@dataclass(frozen=True, slots=True)
class Watch:
    """A saved query: ``name``, the query as written (``query_text``) and parsed (``query``), its ``fingerprint``
    (16 hex digits of the SHA-256 of the canonical query text: left empty, it is computed; given, it must agree),
    an optional ``description`` and ``min_stories`` (fewest stories a day needs to count as a spike)."""

    name: str
    query_text: str
    query: Query
    fingerprint: str = ""
    description: str | None = None
    min_stories: int | None = None

    def __post_init__(self) -> None:
        expected = self.query.fingerprint
        if not self.fingerprint:
            object.__setattr__(self, "fingerprint", expected)
        elif self.fingerprint != expected:
            raise ValueError(f"watch {self.name!r}: fingerprint {self.fingerprint} is not its query's ({expected})")


class WatchFileError(ValueError):
    """A watch file that cannot be used: ``str()`` is "FILE, watch 'NAME', line L, column C: what is wrong" (the
    watch and the place left out when unknown). ``path``, ``watch``, ``line``, ``column`` (1-based, in the file)
    and ``message`` are also attributes."""

    def __init__(self, path: str, watch: str | None, line: int | None, column: int | None, message: str) -> None:
        parts = [path]
        if watch is not None:
            parts.append(f"watch {watch!r}")
        if line is not None:
            parts.append(f"line {line}, column {column}")
        super().__init__(", ".join(parts) + ": " + message)
        self.path, self.watch, self.line, self.column, self.message = path, watch, line, column, message


def load_watches(path: str | Path) -> list[Watch]:
    """Return the watches of the TOML file at ``path``, in file order; raises :class:`WatchFileError` when the file
    cannot be read, is not valid TOML, or a watch is malformed (see :func:`parse_watches`)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise WatchFileError(str(path), None, None, None, f"cannot read the watch file: {exc}") from None
    return parse_watches(text, str(path))


def parse_watches(text: str, path: str = "<watches>") -> list[Watch]:
    """Return the watches of the TOML ``text`` (``path`` names it in errors).

    Raises :class:`WatchFileError` on a TOML syntax error, a top-level key other than ``watch``, a watch key other
    than name, query, description and min_stories, a missing or malformed name (a-z, 0-9, "_" and "-"), a name used
    twice, a missing or empty query, a query that does not parse, a description that is not a string, or a
    min_stories that is not a whole number of at least 1."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        where = _TOML_WHERE.search(message)
        line, column = (int(where.group(1)), int(where.group(2))) if where else (None, None)
        raise WatchFileError(path, None, line, column, f"TOML syntax: {_TOML_WHERE.sub('', message)}") from None
    locator = _Locator(text)
    for key in data:
        if key != "watch":
            line, column = locator.where(locator.key(key, 0, len(text)) or 0)
            raise WatchFileError(path, None, line, column, f"unknown key {key!r}: the file holds [[watch]] tables")
    tables = data.get("watch", [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        line, column = locator.where(locator.key("watch", 0, len(text)) or 0)
        raise WatchFileError(path, None, line, column, "'watch' must be tables written [[watch]]")
    headers = [m.start() for m in _HEADER.finditer(text)]
    watches: list[Watch] = []
    seen: dict[str, int] = {}
    for number, table in enumerate(tables):
        if len(headers) == len(tables):
            start = headers[number]
            end = headers[number + 1] if number + 1 < len(headers) else len(text)
        else:  # written some other way (inline tables): search the whole file
            start, end = 0, len(text)
        watch = _read_watch(table, number, path, locator, start, end, seen)
        seen[watch.name] = start
        watches.append(watch)
    return watches


def _read_watch(
    table: Mapping[str, Any], number: int, path: str, locator: _Locator, start: int, end: int, seen: Mapping[str, int]
) -> Watch:
    name = table.get("name")
    label = name if isinstance(name, str) and name else f"#{number + 1}"

    def fail(key: str | None, message: str, offset: int | None = None) -> WatchFileError:
        if offset is None:
            offset = (locator.value(key, start, end) if key else None) or start
        line, column = locator.where(offset)
        return WatchFileError(path, label, line, column, message)

    for key in table:
        if key not in WATCH_KEYS:
            close = difflib.get_close_matches(key, WATCH_KEYS, n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            offset = locator.key(key, start, end)
            raise fail(None, f"unknown key {key!r}{hint}; a watch has {', '.join(WATCH_KEYS)}", offset)
    if not isinstance(name, str) or not name:
        raise fail("name" if "name" in table else None, "a watch needs a name (a string)")
    if not _NAME.fullmatch(name):
        raise fail("name", f"name {name!r} may hold only a-z, 0-9, '_' and '-'")
    if name in seen:
        line, _ = locator.where(seen[name])
        raise fail("name", f"name {name!r} is already used by the watch at line {line}")
    query_text = table.get("query")
    if not isinstance(query_text, str) or not query_text.strip():
        raise fail("query" if "query" in table else None, "a watch needs a query (a non-empty string)")
    description = table.get("description")
    if description is not None and not isinstance(description, str):
        raise fail("description", "description must be a string")
    min_stories = table.get("min_stories")
    if min_stories is not None and (
        isinstance(min_stories, bool) or not isinstance(min_stories, int) or min_stories < 1
    ):
        raise fail("min_stories", f"min_stories must be a whole number of at least 1, not {min_stories!r}")
    try:
        query = parse_query(query_text)
    except WatchQueryError as exc:
        raise fail("query", exc.message, locator.in_string("query", start, end, query_text, exc.offset)) from None
    return Watch(name, query_text, query, description=description, min_stories=min_stories)


class _Locator:
    """Finds where keys and string values sit in the file's text, to turn a place in a value into a line and
    column of the file."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def where(self, offset: int) -> tuple[int, int]:
        """Return the 1-based line and column of ``offset``."""
        line = bisect.bisect_right(self.starts, offset)
        return line, offset - self.starts[line - 1] + 1

    def _assignment(self, key: str, start: int, end: int) -> re.Match[str] | None:
        quoted = re.escape(key)
        pattern = re.compile(rf"^[ \t]*(?:{quoted}|\"{quoted}\"|'{quoted}')[ \t]*=[ \t]*", re.MULTILINE)
        return pattern.search(self.text, start, end)

    def key(self, key: str, start: int, end: int) -> int | None:
        """Return the offset of ``key = ...`` between ``start`` and ``end`` (the key's first character), or None."""
        m = self._assignment(key, start, end)
        return m.start() + len(m.group()) - len(m.group().lstrip()) if m else None

    def value(self, key: str, start: int, end: int) -> int | None:
        """Return the offset of the value of ``key = ...`` between ``start`` and ``end``, or None."""
        m = self._assignment(key, start, end)
        return m.end() if m else None

    def in_string(self, key: str, start: int, end: int, value: str, index: int) -> int | None:
        """Return the offset in the file of character ``index`` of the string ``value`` assigned to ``key``, or of
        the string's start when the literal cannot be followed (then None if even that is not found)."""
        at = self.value(key, start, end)
        if at is None:
            return None
        text = self.text
        for delimiter in ('"""', "'''", '"', "'"):
            if text.startswith(delimiter, at):
                break
        else:
            return at
        begin = at + len(delimiter)
        multiline = len(delimiter) == 3
        if multiline and text.startswith("\n", begin):
            begin += 1  # TOML trims a newline right after the opening delimiter
        elif multiline and text.startswith("\r\n", begin):
            begin += 2
        if delimiter[0] == "'":
            places = list(range(begin, begin + len(value)))
            decoded = text[begin : begin + len(value)]
        else:
            decoded, places = _decode_basic(text, begin, multiline)
        if decoded != value:
            return at
        if index < len(places):
            return places[index]
        return places[-1] + 1 if places else begin


_ESCAPES = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", '"': '"', "\\": "\\", "e": "\x1b"}


def _decode_basic(text: str, begin: int, multiline: bool) -> tuple[str, list[int]]:
    """Decode a TOML basic string starting at ``begin``; return its value and, for each character, its offset in
    ``text`` (an escape maps to its backslash). Stops at the closing quote(s); the caller compares the value with
    what ``tomllib`` read and gives up on the positions if they differ."""
    out: list[str] = []
    places: list[int] = []
    i, n = begin, len(text)
    while i < n:
        c = text[i]
        if multiline and text.startswith('"""', i) and not text.startswith('""""', i):
            break
        if not multiline and c == '"':
            break
        if c == "\\" and i + 1 < n:
            nxt = text[i + 1]
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
                places.append(i)
                i += 2
                continue
            if nxt in "uU":
                digits = 4 if nxt == "u" else 8
                try:
                    out.append(chr(int(text[i + 2 : i + 2 + digits], 16)))
                except ValueError:
                    break
                places.append(i)
                i += 2 + digits
                continue
            if multiline and nxt in " \t\r\n":
                # a line-ending backslash: the line break and the white space after it are dropped
                j = i + 1
                while j < n and text[j] in " \t\r\n":
                    j += 1
                i = j
                continue
            break
        out.append(c)
        places.append(i)
        i += 1
    return "".join(out), places
