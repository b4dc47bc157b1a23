"""Whole texts: split a text into sentences, find each sentence's figures and fill in their objects.

:func:`extract_figures` is the one-call way to run the package on a sentence or an article; the NLP stage runs
the same steps itself so that it can share one parse batch between many articles.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from tasks.figures.assembly import find_figures
from tasks.figures.objects import attach_objects, objects_without_parse, parse_window
from tasks.figures.units import FigureContext, make_context
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
    ``sentence_id`` and ``sentence`` are set from those bounds.
    """
    ctx = context or make_context(text)
    bounds = list(sentences) if sentences is not None else split_sentences(text)
    per_sentence: list[tuple[int, int, int, list[Figure]]] = []
    for sid, (s, e) in enumerate(bounds):
        sent = text[s:e]
        found = find_figures(sent, ctx)
        if found:
            shifted = [
                replace(f, start_char=f.start_char + s, end_char=f.end_char + s, sentence_id=sid, sentence=sent)
                for f in found
            ]
            per_sentence.append((sid, s, e, shifted))
    out: list[Figure] = []
    todo: list[tuple[tuple[int, int], list[Figure]]] = []
    for _sid, s, e, found in per_sentence:
        figs = objects_without_parse(text, found)
        window = parse_window(text, figs, (s, e)) if parse is not None else None
        if window is None:
            out.extend(figs)
        else:
            todo.append((window, figs))
    if parse is not None and todo:
        docs = parse([text[ws:we] for (ws, we), _ in todo])
        for ((ws, _we), figs), doc in zip(todo, docs, strict=True):
            out.extend(attach_objects(figs, doc, offset=ws))
    return sorted(out, key=lambda f: f.start_char)
