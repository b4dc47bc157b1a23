"""From candidates to figures: choose among overlapping readings, join ranges, and qualify each figure.

:func:`find_figures` runs every candidate rule over a text, keeps the non-overlapping candidates (the more
specific kind first), gives both ends of a range ("60-80 per cent", "between 250 and 300") their bounds and the
unit written once, and reads each figure's hedge, bound and role.
"""

from __future__ import annotations

import itertools
import re

from tasks.figures.ages import _age_cands
from tasks.figures.candidates import (
    _DECADE_WORDS,
    _count_cands,
    _fraction_cands,
    _money_cands,
    _percent_cands,
    _poll_point_cands,
    _quantity_cands,
    _scan,
)
from tasks.figures.dates import _MONTH_FULL, _MONTHS, _date_cands
from tasks.figures.grammar import _Cand
from tasks.figures.kinds import BOUND_EXACT, KIND_COUNT, KIND_DATE, KIND_MONEY, KIND_PERCENT, KIND_QUANTITY, UNIT_POINT
from tasks.figures.not_figures import _excluded_spans
from tasks.figures.numbers import _DIGITS, _MIXED, _SCALE_ATTACHED, _WORD_SMALL, _finite, _scale_of, parse_number
from tasks.figures.ordinals import _ordinal_cands
from tasks.figures.qualifiers import _modifier, _role
from tasks.figures.units import _TIME_UNITS, CURRENCY_FROM_DEFAULT, FigureContext
from tasks.records import Figure


def _select(cands: list[_Cand], excluded: list[tuple[int, int]]) -> list[_Cand]:
    """Return the candidates that overlap no excluded span and no candidate taken before them, in text order.

    The more specific kind (higher priority) is taken first, then the longer span, then the earlier one: "$5
    million" is money, not the count "5 million", and a date is not cut into a year and a count.
    """
    ordered = sorted(cands, key=lambda c: (-c.priority * 1000 - (c.end - c.start), c.start))
    taken: list[_Cand] = []
    for c in ordered:
        if any(c.start < e and s < c.end for s, e in excluded):
            continue
        if any(c.start < t.end and t.start < c.end for t in taken):
            continue
        taken.append(c)
    return sorted(taken, key=lambda c: c.start)


_RANGE_SEP = re.compile(r"^\s?(?:[-–—‑]|to)\s?$|^\s+(?:to|and)\s+$")


def _expand_ranges(text: str, taken: list[_Cand], excluded: list[tuple[int, int]]) -> list[_Cand]:
    """Find the bare first/second number of a range whose unit is written once ("60-80 per cent", "€200–250").

    The bare number was taken as a count (or a month without year); the range end replaces it.
    """
    out = list(taken)

    def claim(start: int, end: int, owner: _Cand) -> bool:
        blockers = [o for o in out if o is not owner and o.start < end and start < o.end]
        if any(o.kind not in (KIND_COUNT, KIND_DATE) or o.start < start or o.end > end for o in blockers):
            return False
        for o in blockers:
            out.remove(o)
        return True

    for c in taken:
        if c not in out:
            continue
        # counts joined by a hyphen: "50-60 people", "5,000-6,000 troops" (the second number, right after a hyphen,
        # is no count on its own: "COVID-19", "737-800")
        if c.kind == KIND_COUNT and c.scale is None and c.value is not None:
            tail = _COUNT_RANGE_END.match(text, c.end)
            free = tail is not None and not any(s < tail.end("num") and tail.start("num") < e for s, e in excluded)
            value = parse_number(tail.group("num")) if tail is not None and free else None
            if tail and value is not None and value > c.value and claim(tail.start("num"), tail.end("num"), c):
                out.append(_Cand(tail.start("num"), tail.end("num"), KIND_COUNT, c.priority, value,
                                 low=c.value, high=value, no_modifier=True))  # fmt: skip
                c.low, c.high = c.value, value
            continue
        scaled_count = c.kind == KIND_COUNT and c.scale is not None  # "45-50 million people": scale written once
        if c.kind not in (KIND_MONEY, KIND_PERCENT, KIND_QUANTITY, KIND_DATE) and not scaled_count:
            continue
        span = text[c.start : c.end]
        # unit written after: "60-80 per cent", "7–10%", "0 to 1/4 percent", "January-August 2019"
        lead = re.search(
            rf"(?<![\w.,/-])(?P<num>{_MIXED}|{_DIGITS}|{_WORD_SMALL}|{_MONTH_FULL})(?P<sep>\s?[-–—‑]\s?|\s+(?:to|and|or)\s+)$",
            text[: c.start],
        )
        # a currency written in front ("€4.1 million") belongs to its own number; a number word does not
        # ("one to two billion dollars": "one" is the range's first end)
        prefixed = c.kind == KIND_MONEY and not (span[0].isdigit() or parse_number(span.split()[0]) is not None)
        is_month = lead is not None and lead.group("num").lower() in _MONTHS
        if lead and (is_month != (c.kind == KIND_DATE) or prefixed):
            lead = None  # "2022 to €4.1 million": a currency written in front belongs to its own number
        if lead and not any(lead.start() < e and s < c.start for s, e in excluded):
            sep = lead.group("sep").strip()
            between_ok = sep != "and" or re.search(r"\bbetween\s+$", text[: lead.start()])
            if sep == "or" and c.kind not in (KIND_QUANTITY, KIND_PERCENT):
                between_ok = False  # "10 or 15 minutes", "two or three per cent"; not "$5 or 6"
            if c.kind == KIND_DATE and (sep not in ("-", "–", "—", "‑") or not lead.group("num").isalpha()):
                between_ok = False
            if between_ok and claim(lead.start("num"), lead.end("num"), c):
                rng = _range_first(lead.group("num"), c, lead.start("num"), lead.end("num"))
                if rng is not None:
                    out.append(rng)
        # the dimensions of a thing, the unit written once: "144 x 144 pixel", "1920×1080 pixels", "10 by 12 feet"
        dim = _DIMENSION_LEAD.search(text, max(0, c.start - 30), c.start) if c.kind == KIND_QUANTITY else None
        if dim is not None and text[c.start].isdigit() and claim(dim.start("num"), dim.end("num"), c):
            value = parse_number(dim.group("num"))
            if value is not None:
                out.append(_Cand(dim.start("num"), dim.end("num"), KIND_QUANTITY, c.priority, value, unit=c.unit))
        # currency written before: "€200–250", "US$120–150", "$20,000 to 30,000"
        if c.kind == KIND_MONEY and (span[0] in "$£€¥" or re.match(r"[A-Z]{1,3}\s?\$|RM|R\d", span)):
            tail = re.match(
                rf"(?P<sep>\s?[-–—‑]\s?|\s+to\s+)(?P<num>{_DIGITS}(?:\s?(?:{_SCALE_ATTACHED}))?)(?![\w%])",
                text[c.end :],
            )
            if tail and claim(c.end + tail.start("num"), c.end + tail.end("num"), c):
                value = parse_number(tail.group("num"))
                tail_scale = _scale_of(tail.group("num"))
                if value is not None and tail_scale is None and c.scale:
                    value = _finite(value * c.scale)
                elif value is not None and tail_scale and not c.scale and c.value is not None:
                    # "$1-2 billion": the scale written once belongs to both ends when the bare numbers rise
                    scaled = _finite(c.value * tail_scale)
                    if scaled is not None and c.value < value / tail_scale:
                        c.value, c.scale = scaled, tail_scale
                if value is not None and c.value is not None:
                    out.append(
                        _Cand(c.end + tail.start("num"), c.end + tail.end("num"), c.kind, c.priority, value,
                              unit=c.unit, scale=c.scale, currency_source=c.currency_source, low=c.value,
                              high=value, no_modifier=True)
                    )  # fmt: skip
                    c.low, c.high = c.value, value
    return sorted(out, key=lambda c: c.start)


# The first side of two dimensions before the measured second one: "144 x ", "10 by ".
_DIMENSION_LEAD = re.compile(rf"(?<![\w.,/-])(?P<num>{_DIGITS})(?:\s?[x×]\s?|\s+by\s+)$")
# The second end of a count range written with a hyphen: "50-60", "5,000–6,000" (not "1-2-3" or "50-60%").
_COUNT_RANGE_END = re.compile(r"\s?[-–—‑]\s?(?P<num>\d{1,3}(?:,\d{3})+|\d+)(?![\w%°.,‑–—/-]|[.,]\d)")


def _pair_ranges(text: str, taken: list[_Cand]) -> list[_Cand]:
    """Give both ends of a written range their bounds: "between 250 and 300", "5 to 7 days", "10-12 people"."""
    for a, b in itertools.pairwise(taken):
        if a.kind != b.kind or a.kind == KIND_DATE or a.low is not None or a.value is None or b.value is None:
            continue
        gap = text[a.end : b.start]
        if a.value >= b.value or a.unit != b.unit:
            continue
        if _RANGE_SEP.match(gap) and (
            gap.strip() != "and" or re.search(r"(?i)\bbetween\s+$", text[max(0, a.start - 20) : a.start])
        ):
            scaled = _finite(a.value * b.scale) if a.scale is None and b.scale else None
            if scaled is not None and b.scale and a.value < b.value / b.scale:
                # "between 3 and 4 million people": the scale written once belongs to both ends
                a.value, a.scale = scaled, b.scale
            a.low = b.low = a.value
            a.high = b.high = b.value
    return taken


# A bare number compared with a measured one: "31,200 megawatts, below the 33,900 of May", "with 28,400,".
_COMPARED_BEFORE = re.compile(r"(?i)\b(?:than|from|with|versus|vs\.?|against)\s+(?:the\s+)?$")
_NO_NOUN_AFTER = re.compile(
    r"\s*(?:[,;:.)—–]|$|(?:he|she|it|they|we|i|you|in|on|at|a|an|the|and|but|or|by|to|for|last|this|that|"
    r"earlier|later|before|a\s+year)\b)",
    re.IGNORECASE,
)


def _carry_units(text: str, taken: list[_Cand]) -> list[_Cand]:
    """Give a bare number the unit of the measured figure it is compared with in the same text, when nothing
    after it names what it counts and the two are of the same size ("demand reached 31,200 megawatts, well
    below the 33,900 of last summer"): the writer left the unit out, the number is no count."""
    for i, c in enumerate(taken):
        if c.kind != KIND_COUNT or c.value is None or c.scale is not None or i == 0:
            continue
        if not _COMPARED_BEFORE.search(text, max(0, c.start - 20), c.start) or not _NO_NOUN_AFTER.match(text, c.end):
            continue
        ref = next((t for t in reversed(taken[:i]) if t.kind in (KIND_QUANTITY, KIND_PERCENT)), None)
        if ref is None or ref.value is None or ref.unit in _TIME_UNITS or ref.value <= 0:
            continue
        if 1 / 3 <= c.value / ref.value <= 3:
            c.kind, c.priority, c.unit = ref.kind, ref.priority, ref.unit
    return taken


def _range_first(first: str, c: _Cand, start: int, end: int) -> _Cand | None:
    if c.kind == KIND_DATE:
        if first.lower() not in _MONTHS or c.date_value is None or not re.match(r"\d{4}", c.date_value):
            return None
        return _Cand(start, end, KIND_DATE, c.priority, date_value=f"{c.date_value[:4]}-{_MONTHS[first.lower()]:02d}")
    value = parse_number(first)
    if value is not None and c.scale and _scale_of(first) is None:
        value = _finite(value * c.scale)
    if value is None or c.value is None:
        return None
    if c.kind == KIND_PERCENT and c.unit == UNIT_POINT and c.value is not None and value > 10 * abs(c.value) > 0:
        value /= 100.0  # basis points written once: "50-75 basis points"
    c.low, c.high = value, c.value
    return _Cand(start, end, c.kind, c.priority, value, unit=c.unit, scale=c.scale,
                 currency_source=c.currency_source, low=value, high=c.value)  # fmt: skip


def find_figures(text: str, context: FigureContext | None = None) -> list[Figure]:
    """Return the figures in ``text`` (rules only, no model): kinds, scaled values, units, dates, qualifiers.

    ``object`` and ``object_entity`` are left empty (see :func:`attach_objects`); offsets index into ``text``.
    """
    ctx = context or FigureContext()
    sc = _scan(text)
    if sc is None:
        return []
    cands: list[_Cand] = []
    if sc.digit or sc.numword or not sc.words.isdisjoint(_DECADE_WORDS):
        cands += _money_cands(text, ctx, sc)
        cands += _percent_cands(text, sc)
        cands += _poll_point_cands(text, sc)
        cands += _age_cands(text, sc)
        cands += _count_cands(text, sc)
    cands += _quantity_cands(text, ctx, sc)
    cands += _date_cands(text, ctx, sc)
    cands += _fraction_cands(text, sc)
    cands += _ordinal_cands(text, sc)
    if not cands:
        return []
    excluded = _excluded_spans(text, sc)
    taken = _carry_units(text, _pair_ranges(text, _expand_ranges(text, _select(cands, excluded), excluded)))
    figures: list[Figure] = []
    first_end: tuple[float | None, str | None, bool, str] | None = None
    for c in taken:
        mod, approx, bound = (None, False, BOUND_EXACT) if c.no_modifier else _modifier(text, c)
        if c.low is not None and c.high is not None and mod is not None and mod.lower() == "between":
            approx, bound = False, BOUND_EXACT
        if c.low is not None and c.high is not None and c.value == c.high and mod is None and first_end is not None:
            low, first_mod, first_approx, first_bound = first_end
            if low == c.low and first_approx:
                mod, approx, bound = first_mod, first_approx, first_bound  # "about $275-$350": both ends hedged
        first_end = (c.value, mod, approx, bound) if c.low is not None and c.value == c.low else None
        money = c.kind == KIND_MONEY
        figures.append(
            Figure(
                text=text[c.start : c.end],
                kind=c.kind,
                start_char=c.start,
                end_char=c.end,
                value=None if c.kind == KIND_DATE else c.value,
                date_value=c.date_value if c.kind == KIND_DATE else None,
                low=c.low,
                high=c.high,
                unit=c.unit if c.kind in (KIND_MONEY, KIND_PERCENT, KIND_QUANTITY) else None,
                scale=c.scale,
                currency_ambiguous=money and c.currency_source == CURRENCY_FROM_DEFAULT,
                currency_source=c.currency_source if money else None,
                approximate=approx or c.approximate,
                modifier=mod,
                bound=bound,
                role=_role(text, c),
                relative=c.relative,
            )
        )
    return figures
