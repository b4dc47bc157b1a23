"""Whole texts: split a text into sentences and tables, find the figures of each and fill in their objects.

:func:`extract_figures` is the one-call way to run the package on a sentence or an article; the NLP stage runs
:func:`figures_by_sentence` itself so that it can share one parse batch between many articles.

Tables are read as tables. A line that is a table row (cells between pipes, as the extractor writes an HTML
table: ``| Net sales | 16.4 | 15.3 |``) or one of a run of short lines that are mostly numbers or ``label: value``
pairs (a specification list, a league table pasted as text) gives figures cell by cell, marked ``in_table``, with
the row's and the column's labels as their object ("Net sales, 2016") and, when a label names it, the unit the
cells leave out ("Equity ratio (%)", "Revenue (EUR m)"). Prose figures never come from such lines, so one
table-heavy page does not swamp a page's prose figures, and a sentence the sentence model ran across a paragraph
break is cut there.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from tasks.figures.assembly import find_figures
from tasks.figures.kinds import KIND_COUNT, KIND_MONEY, KIND_PERCENT, UNIT_PERCENT
from tasks.figures.next_words import objects_without_parse
from tasks.figures.numbers import _scale_of
from tasks.figures.objects import attach_objects, parse_window
from tasks.figures.units import (
    _PREFIX_CURRENCY,
    CURRENCY_FROM_DEFAULT,
    CURRENCY_FROM_SYMBOL,
    FigureContext,
    make_context,
)
from tasks.records import Figure

if TYPE_CHECKING:
    from spacy.tokens import Doc


_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"”’)]*\s+(?=[\"“‘(]?[A-Z0-9])|\n+")
_ABBREV_END = re.compile(r"(?:\b(?:Mr|Mrs|Ms|Dr|St|Jr|Sr|Prof|Gen|Col|Lt|Sgt|Rep|Sen|Gov|No|vs|Inc|Corp|Co|Ltd|U\.S|"
                         r"U\.K|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.|\b[A-Z]\.)$")  # fmt: skip


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Return ``(start, end)`` of each sentence, by punctuation rules (for use without a sentence model)."""
    bounds: list[tuple[int, int]] = []
    start = 0
    for m in _SENTENCE_END.finditer(text):
        if _ABBREV_END.search(text[start : m.start()]) and "\n" not in m.group(0):
            continue
        if text[start : m.start()].strip():
            bounds.append((start, m.start()))
        start = m.end()
    if text[start:].strip():
        bounds.append((start, len(text.rstrip())))
    return bounds


# ---------------------------------------------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Row:
    """One table line: its span in the text and, per cell, the cell's span and the object its figures take.

    A header row (``header``) gives its cells to the labels of the rows below it and no figures itself.
    """

    start: int
    end: int
    cells: tuple[tuple[int, int, str | None], ...]
    header: bool = False


_LINE = re.compile(r"[^\n]+")
_PIPE_ROW = re.compile(r"^\s*\|.*\|\s*$")
_RULE_ROW = re.compile(r"^[\s|:+=-]*$")  # "|---|:---:|", the line under a header
# A cell that is only a number: "16.4", "(2.3)", "-0.5", "1,204", "12%"; a period label ("4-6/2016") is not.
_PLAIN_NUMBER = re.compile(r"[-+−–]?\(?[-+−]?[\d.,\s]*\d\)?\s?%?")
_YEAR = re.compile(r"(?:19|20)\d\d")
_LIST_MARK = re.compile(r"^\s*(?:[-*•·▪◦]|\d{1,2}[.)])\s+")
_LABEL_VALUE = re.compile(r"^(?P<label>[^\d:|]{2,40}?)\s*:\s+(?P<value>[-+−]?[$£€¥]?\d.*)$")
_TOKEN = re.compile(r"[^\s|]+")
_NUMERIC_TOKEN = re.compile(r"[-+−(]?[$£€¥]?\d[\d.,:/%)-]*[A-Za-z%]{0,3}")
# Lines of a list or pasted table stay short; a sentence of prose runs longer.
_SHORT_LINE = 64
_MIN_RUN = 3


def _cells(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Return the spans of the cells of a pipe row, stripped of spaces (empty cells as zero-width spans)."""
    line = text[start:end]
    first, last = line.index("|"), line.rindex("|")
    out: list[tuple[int, int]] = []
    pos = first + 1
    while pos <= last:
        nxt = line.index("|", pos)
        raw = line[pos:nxt]
        lead = len(raw) - len(raw.lstrip())
        s = start + pos + lead
        out.append((s, s + len(raw.strip())))
        pos = nxt + 1
    return out


def _is_plain_number(cell: str) -> bool:
    """Return True for a cell that is a number and nothing else; a year ("2016") heads a column, it is no datum."""
    return bool(cell) and _PLAIN_NUMBER.fullmatch(cell) is not None and _YEAR.fullmatch(cell) is None


def _label(*parts: str | None) -> str | None:
    words = [re.sub(r"\s+", " ", p).strip(" ,;:–—-") for p in parts if p]
    joined = ", ".join(w for w in words if w and not _is_plain_number(w))
    return joined or None


def _pipe_rows(text: str, block: list[tuple[int, int]]) -> list[_Row]:
    """Return the rows of consecutive pipe lines, with the labels of each cell; a rule line ("|---|") under a row
    starts a new table headed by that row."""
    lines = list(block)
    rules = [i for i, (s, e) in enumerate(lines) if _RULE_ROW.fullmatch(text[s:e])]
    cuts = sorted({0, *(i - 1 for i in rules if i > 1)})
    out: list[_Row] = []
    for a, b in itertools.pairwise([*cuts, len(lines)]):
        table = [(s, e) for s, e in lines[a:b] if not _RULE_ROW.fullmatch(text[s:e])]
        out.extend(_one_table(text, table))
    return out


def _one_table(text: str, lines: list[tuple[int, int]]) -> list[_Row]:
    rows = [(s, e, _cells(text, s, e)) for s, e in lines]
    header: list[str] = []
    # Header rows: the first rows while none of their cells is a plain number ("| Group (MEUR) | 4-6/2016 |",
    # then "| | 3 months |" with an empty first cell); a table whose first row holds numbers has no header.
    n_header = 0
    for _s, _e, cells in rows:
        texts = [text[a:b] for a, b in cells]
        if any(_is_plain_number(t) for t in texts) or (n_header and texts and texts[0]):
            break
        for i, t in enumerate(texts):
            while len(header) <= i:
                header.append("")
            header[i] = f"{header[i]} {t}".strip() if t else header[i]
        n_header += 1
    if n_header == len(rows) and len(rows) > 1:
        n_header = 1  # a table of words throughout: only its first row heads it
        header = [text[a:b] for a, b in rows[0][2]]
    out = [_Row(s, e, tuple((a, b, None) for a, b in cells), header=True) for s, e, cells in rows[:n_header]]
    for s, e, cells in rows[n_header:]:
        texts = [text[a:b] for a, b in cells]
        row_i = next((i for i, t in enumerate(texts) if t and not _is_plain_number(t)), None)
        labelled = []
        for i, (a, b) in enumerate(cells):
            column = header[i] if i < len(header) else None
            row_label = texts[row_i] if row_i is not None and row_i != i else None
            labelled.append((a, b, _label(row_label, column)))
        out.append(_Row(s, e, tuple(labelled)))
    return out


def _is_list_line(line: str) -> bool:
    """Return True for a short line that is mostly numbers or a ``label: value`` pair."""
    body = _LIST_MARK.sub("", line).strip()
    if not body or len(body) > _SHORT_LINE or not any(ch.isdigit() for ch in body):
        return False
    lv = _LABEL_VALUE.match(body)
    if lv:  # "Fill: 650 fill power", not "Update: 3 people were hurt."
        return len(_TOKEN.findall(lv.group("value"))) <= 5 and not re.search(r"[a-z][.!?]$", body)
    tokens = _TOKEN.findall(body)
    numeric = sum(1 for t in tokens if _NUMERIC_TOKEN.fullmatch(t))
    return numeric * 2 >= len(tokens) and numeric >= 2


def _list_row(text: str, start: int, end: int) -> _Row:
    """Return a line of a list as a one-cell row: the label before a colon, else the line's words, is the object."""
    line = text[start:end]
    mark = _LIST_MARK.match(line)
    body_start = start + (mark.end() if mark else len(line) - len(line.lstrip()))
    body = text[body_start:end].rstrip()
    lv = _LABEL_VALUE.match(body)
    if lv:
        vs = body_start + lv.start("value")
        return _Row(start, end, ((vs, body_start + len(body), _label(lv.group("label"))),))
    words = " ".join(t for t in _TOKEN.findall(body) if not _NUMERIC_TOKEN.fullmatch(t) and t[0].isalpha())
    return _Row(start, end, ((body_start, body_start + len(body), _label(words)),))


def find_table_rows(text: str) -> list[_Row]:
    """Return the table lines of ``text`` in order: pipe rows, and runs of at least three short lines that are
    mostly numbers or ``label: value`` pairs (blank lines between them do not end a run)."""
    if "\n" not in text and "|" not in text:
        return []
    lines = [(m.start(), m.end()) for m in _LINE.finditer(text) if text[m.start() : m.end()].strip()]
    out: list[_Row] = []
    block: list[tuple[int, int]] = []
    run: list[tuple[int, int]] = []

    def flush() -> None:
        if block:
            out.extend(_pipe_rows(text, block))
            block.clear()
        pairs = all(_LABEL_VALUE.match(_LIST_MARK.sub("", text[s:e]).strip()) for s, e in run)
        if len(run) >= _MIN_RUN or (len(run) >= 2 and pairs):  # two "label: value" lines are a list already
            out.extend(_list_row(text, s, e) for s, e in run)
        run.clear()

    for s, e in lines:
        line = text[s:e]
        if "|" in line and _PIPE_ROW.match(line) and line.count("|") >= 2:
            if run:
                flush()
            block.append((s, e))
        elif _is_list_line(line):
            if block:
                flush()
            run.append((s, e))
        else:
            flush()
    flush()
    return out


# A unit a label gives the numbers of its row or column: "(%)", "(EUR)", "MEUR", "EUR million", "$m", "(£bn)".
_LABEL_PERCENT = re.compile(r"\(\s*%\s*\)|%\s*$|\bper\s?cent\b|\bpercent(?:age)?\b", re.IGNORECASE)
_LABEL_MONEY = re.compile(
    r"(?<![A-Za-z])(?P<pre>[MKT](?=EUR|USD|GBP))?(?P<cur>EUR|USD|GBP|CHF|JPY|CAD|AUD|SEK|NOK|DKK|[$€£])"
    r"\s?(?P<scale>m|mn|mln|million|millions|bn|billion|billions|k|thousand|thousands|'000|000)?(?![A-Za-z])"
)
_PREFIX_SCALE = {"M": 1e6, "K": 1e3, "T": 1e3}


def _label_unit(label: str | None, ctx: FigureContext) -> tuple[str, str, float | None, str | None] | None:
    """Return ``(kind, unit, scale, currency_source)`` that a row or column label gives its bare numbers, or None."""
    if not label:
        return None
    if _LABEL_PERCENT.search(label):
        return KIND_PERCENT, UNIT_PERCENT, None, None
    m = _LABEL_MONEY.search(label)
    if m is None:
        return None
    cur = m.group("cur")
    code, source = (ctx.dollar, ctx.dollar_source) if cur == "$" else (_PREFIX_CURRENCY.get(cur.lower(), cur), None)
    scale = _PREFIX_SCALE.get(m.group("pre") or "")
    if m.group("scale"):
        word = m.group("scale").lower()
        scale = 1e3 if word in ("'000", "000") else _scale_of(f"1 {word}") or _scale_of(f"1{word}")
    return KIND_MONEY, code, scale, source or CURRENCY_FROM_SYMBOL


def _cell_figures(text: str, row: _Row, ctx: FigureContext, sid: int | None) -> list[Figure]:
    """Return the figures of one table row, cell by cell, marked ``in_table`` with the cells' labels as objects."""
    if row.header:
        return []
    sentence = text[row.start : row.end].strip()
    out: list[Figure] = []
    for a, b, label in row.cells:
        if a >= b:
            continue
        hint = _label_unit(label, ctx)
        for f in find_figures(text[a:b], ctx):
            if hint is not None and f.kind == KIND_COUNT and f.scale is None and f.value is not None:
                kind, unit, scale, source = hint
                f = replace(f, kind=kind, unit=unit, scale=scale, value=f.value * scale if scale else f.value,
                            currency_source=source, currency_ambiguous=source == CURRENCY_FROM_DEFAULT)  # fmt: skip
            out.append(
                replace(f, start_char=f.start_char + a, end_char=f.end_char + a, in_table=True, object=label,
                        sentence_id=sid, sentence=sentence)
            )  # fmt: skip
    return out


# ---------------------------------------------------------------------------------------------------------------
# Whole texts
# ---------------------------------------------------------------------------------------------------------------


# A line, or a part of a line between spaced pipes: a headline's kicker ("BUDGET | Agency gets R4bn") or a
# breadcrumb is no part of the sentence after it (a table row never reaches here).
_PIECE = re.compile(r"(?:[^\n|]|\|(?! ))+|\|")
# A sentence that ends as sentences do, or a next one that starts as sentences do: the sentence model's cut stands.
_ENDS_SENTENCE = re.compile(r"[.!?…:;][\"'”’)\]]*$")
_STARTS_SENTENCE = re.compile(r"[\"'“‘(]?[A-Z]")


def _pieces(text: str, sentences: Sequence[tuple[int, int]]) -> list[tuple[int, int, int]]:
    """Return ``(sentence index, start, end)`` of the lines of each sentence, stripped: a prose figure never
    comes from across a line break or a spaced pipe. A cut the sentence model made inside a line where no sentence
    ends (">>> x = [" | "1, 2]") is undone, so a bracket or an amount is read whole."""
    out: list[tuple[int, int, int]] = []
    for sid, (s, e) in enumerate(sentences):
        for m in _PIECE.finditer(text, s, e):
            raw = m.group(0)
            ps = m.start() + len(raw) - len(raw.lstrip())
            pe = m.end() - (len(raw) - len(raw.rstrip()))
            if ps >= pe:
                continue
            if out and sid != out[-1][0] and "\n" not in text[out[-1][2] : ps]:
                prev_sid, prev_s, prev_e = out[-1]
                if not _ENDS_SENTENCE.search(text, prev_s, prev_e) and not _STARTS_SENTENCE.match(text, ps):
                    out[-1] = (prev_sid, prev_s, pe)
                    continue
            out.append((sid, ps, pe))
    return out


def figures_by_sentence(
    text: str, context: FigureContext, sentences: Sequence[tuple[int, int]]
) -> list[tuple[tuple[int, int] | None, list[Figure]]]:
    """Return the figures of ``text`` in groups: per prose line of a sentence holding figures, the window to parse
    for their objects (None when none needs the parse) and the figures with the parse-free objects filled in; per
    table line, its figures (``in_table``, objects from the labels, no window). Offsets index into ``text``;
    ``sentence_id`` is the index into ``sentences`` and ``sentence`` the line the figure was read from."""
    rows = find_table_rows(text)
    row_starts = [r.start for r in rows]
    starts = [s for s, _ in sentences]
    out: list[tuple[tuple[int, int] | None, list[Figure]]] = []
    for sid, ps, pe in _pieces(text, sentences):
        i = bisect.bisect_right(row_starts, ps) - 1
        if i >= 0 and rows[i].start <= ps < rows[i].end:
            continue  # a table line: read below, cell by cell
        piece = text[ps:pe]
        found = find_figures(piece, context)
        if not found:
            continue
        shifted = [
            replace(f, start_char=f.start_char + ps, end_char=f.end_char + ps, sentence_id=sid, sentence=piece)
            for f in found
        ]
        figs = objects_without_parse(text, shifted)
        out.append((parse_window(text, figs, (ps, pe)), figs))
    for row in rows:
        sid = bisect.bisect_right(starts, row.start) - 1 if starts else -1
        figs = _cell_figures(text, row, context, sid if sid >= 0 else None)
        if figs:
            out.append((None, figs))
    return out


def extract_figures(
    text: str,
    context: FigureContext | None = None,
    *,
    parse: Callable[[Sequence[str]], Iterable[Doc]] | None = None,
    sentences: Sequence[tuple[int, int]] | None = None,
) -> list[Figure]:
    """Return the figures of ``text`` (a sentence or a whole article), offsets into ``text``.

    With ``parse`` (for example ``lambda texts: nlp.pipe(texts)`` over a spaCy pipeline with a parser), only
    the sentences holding a figure that can have an object are parsed and ``object`` is filled in.
    ``sentences`` gives sentence bounds (from a sentence model); otherwise punctuation rules split the text.
    ``sentence_id`` and ``sentence`` are set from those bounds (see :func:`figures_by_sentence`).
    """
    ctx = context or make_context(text)
    bounds = list(sentences) if sentences is not None else split_sentences(text)
    out: list[Figure] = []
    todo: list[tuple[tuple[int, int], list[Figure]]] = []
    for window, figs in figures_by_sentence(text, ctx, bounds):
        if window is None or parse is None:
            out.extend(figs)
        else:
            todo.append((window, figs))
    if parse is not None and todo:
        docs = parse([text[ws:we] for (ws, we), _ in todo])
        for ((ws, _we), figs), doc in zip(todo, docs, strict=True):
            out.extend(attach_objects(figs, doc, offset=ws))
    return sorted(out, key=lambda f: f.start_char)
