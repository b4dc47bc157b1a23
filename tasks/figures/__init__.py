"""Figures: numbers in English news text turned into typed, scaled, qualified data.

Two passes keep this cheap enough to run on every article:

1. :func:`find_figures` scans the text with rules (no model): it finds money, percent and percentage points,
   quantities with a unit, counts, dates, ordinals and fractions; scales them ("US$4.2 billion" is 4.2e9);
   resolves currencies (ISO 4217) and dates (ISO 8601 at the precision written); and reads the hedge or bound
   word in front ("around", "more than", "up to") and whether the figure is a change or a level.
2. :func:`attach_objects` takes a dependency parse of ONLY the sentences that hold a figure and fills in
   ``object`` (what is measured, as written: "Brazilian coffee") and ``object_entity``.

:func:`extract_figures` runs both on any text (a sentence or a whole article); :func:`figures_by_sentence` is the
same first pass over an article the NLP stage parses itself. Table rows and lists of short numeric lines are read
cell by cell (``in_table``, the labels as ``object``), prose lines as prose. The annotation conventions (what is
and is not a mention, spans, units) are those of the project's figures development set: numbers inside names
("G20", "FTSE 100", "YZF-R6"), clock times, phone numbers, citation markers, scores and vote tallies, and
multipliers ("three times", "8 to 10 times") are not figures. Each money figure says where its currency came
from (``currency_source``); only a currency left to the default is ``currency_ambiguous``.

The package reads a figure in steps, one module each:

* :mod:`~tasks.figures.kinds`: the kind, bound and role strings every module compares against;
* :mod:`~tasks.figures.numbers`: written numbers and their values (:func:`parse_number`);
* :mod:`~tasks.figures.units`: currencies, the document's :class:`FigureContext` (:func:`make_context`), units;
* :mod:`~tasks.figures.grammar`: the candidate record and the number patterns the rules share;
* :mod:`~tasks.figures.candidates`, :mod:`~tasks.figures.ordinals`, :mod:`~tasks.figures.ages` and
  :mod:`~tasks.figures.dates`: the rules that find candidate mentions;
* :mod:`~tasks.figures.not_figures`: what looks like a figure and is not (clock times, scores, phones, codes);
* :mod:`~tasks.figures.qualifiers`: hedges, bounds and the change-or-level role;
* :mod:`~tasks.figures.assembly`: :func:`find_figures`, from overlapping candidates to figures;
* :mod:`~tasks.figures.objects`: what money, percentages, fractions and quantities measure, from the parse;
* :mod:`~tasks.figures.next_words`: what counts, ordinals and lengths of time measure, from the next words;
* :mod:`~tasks.figures.extract`: tables and lists, and :func:`extract_figures` over a whole text, line by line.

Only the names below are the package's interface; names with a leading underscore are shared between its
modules and may change without notice.
"""

from tasks.figures.assembly import find_figures
from tasks.figures.extract import extract_figures, figures_by_sentence, split_sentences
from tasks.figures.kinds import (
    BOUND_EXACT,
    BOUND_LOWER,
    BOUND_UPPER,
    KIND_COUNT,
    KIND_DATE,
    KIND_FRACTION,
    KIND_MONEY,
    KIND_ORDINAL,
    KIND_PERCENT,
    KIND_QUANTITY,
    ROLE_CHANGE,
    ROLE_KINDS,
    ROLE_LEVEL,
    UNIT_PERCENT,
    UNIT_POINT,
)
from tasks.figures.next_words import guess_object, objects_without_parse
from tasks.figures.numbers import WORD_NUMBER, parse_number
from tasks.figures.objects import attach_objects, needs_parse, parse_window
from tasks.figures.units import FigureContext, make_context, outlet_country

__all__ = [
    "BOUND_EXACT",
    "BOUND_LOWER",
    "BOUND_UPPER",
    "KIND_COUNT",
    "KIND_DATE",
    "KIND_FRACTION",
    "KIND_MONEY",
    "KIND_ORDINAL",
    "KIND_PERCENT",
    "KIND_QUANTITY",
    "ROLE_CHANGE",
    "ROLE_KINDS",
    "ROLE_LEVEL",
    "UNIT_PERCENT",
    "UNIT_POINT",
    "WORD_NUMBER",
    "FigureContext",
    "attach_objects",
    "extract_figures",
    "figures_by_sentence",
    "find_figures",
    "guess_object",
    "make_context",
    "needs_parse",
    "objects_without_parse",
    "outlet_country",
    "parse_number",
    "parse_window",
    "split_sentences",
]
