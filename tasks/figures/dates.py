"""Dates: calendar dates at the precision written, fiscal years, and dates relative to the publication date.

A date becomes ISO 8601 text at the precision it was written ("2025-11", "2025-11-17", "2024/2025" for a fiscal
year); a month without a year takes the publication year, and "last week", "yesterday" or "three years ago" are
resolved against the publication date (``relative`` is set). Month names that are also words or names ("May",
"March") and years that count things or sit in names ("2000 people", "Budget 2024") are no dates.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from tasks.figures.grammar import _FUNCTION_WORDS, _P_DATE, _P_QUANTITY, _Cand, _Scan
from tasks.figures.kinds import KIND_DATE, _words
from tasks.figures.numbers import parse_number
from tasks.figures.units import FigureContext

_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
_MONTHS["sept"] = 9
_MONTH_FULL = "|".join(n for n in calendar.month_name if n)
_MONTH_ABBR = r"(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\.?"
_MONTH = rf"(?:{_MONTH_FULL}|{_MONTH_ABBR})"
_DAY = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?"
_YEAR = r"(?:1[89]\d\d|20\d\d|2100)"
_WEEKDAYS = {name.lower(): i for i, name in enumerate(calendar.day_name)}

_DATE_PATTERNS = [
    # Nov 17, 2025 / November 17 2025 / Nov. 17
    re.compile(rf"\b(?P<mon>{_MONTH})\s+(?P<day>{_DAY})(?:,?\s+(?P<year>{_YEAR}))?(?![\w:])"),
    # 17 November 2025 / 29 May
    re.compile(rf"\b(?P<day>{_DAY})\s+(?:of\s+)?(?P<mon>{_MONTH})(?:,?\s+(?P<year>{_YEAR}))?(?!\w)"),
    # November 2025 / 2021 July
    re.compile(rf"\b(?P<mon>{_MONTH_FULL}|{_MONTH_ABBR}),?\s+(?P<year>{_YEAR})(?!\w)"),
    re.compile(rf"\b(?P<year>{_YEAR})\s+(?P<mon>{_MONTH_FULL})\b"),
    # 2025-11-17
    re.compile(r"\b(?P<year>(?:19|20)\d\d)-(?P<nmon>0[1-9]|1[0-2])-(?P<day>0[1-9]|[12]\d|3[01])\b"),
    # fiscal year 2024/2025, 2024/25, 2024-25
    re.compile(rf"\b(?P<year>{_YEAR})[/–-](?P<year2>{_YEAR}|\d\d)(?![\d/])"),
    # a month on its own
    re.compile(rf"\b(?P<mon>{_MONTH_FULL})\b"),
    # a year on its own, also "mid-2024"
    re.compile(rf"(?<![\w$£€¥.,/-])(?:(?i:mid|early|late|pre|post)[-‑])?(?P<year>{_YEAR})(?![\w%]|[.,]\d|-\d)"),
]
_NOT_A_MONTH_AFTER = re.compile(
    r"\s+(?:be|have|not|also|well|need|take|make|help|lead|cause|see|get|go|come|become|seem|prove|affect|"
    r"include|result|continue|require|mean|on|against|through)\b"
)
_FUTURE_CUE = re.compile(r"\b(?:will|would|is\s+due|are\s+due|is\s+expected|to\s+be)\b")
_DIGIT_DATE_PATTERNS = [p for p in _DATE_PATTERNS if "mon>" not in p.pattern]
_ISO_SLASH = re.compile(r"\b(?P<m>0?[1-9]|1[0-2])/(?P<d>0?[1-9]|[12]\d|3[01])/(?P<y>(?:19|20)\d\d)\b")

# Month names that are also common words or names ("Theresa May", "the March on Washington").
_AMBIGUOUS_MONTHS = frozenset({"may", "march", "august"})
_DATE_PREPS = _words(
    "in on since by until till from to through throughout during of before after between and early late "
    "mid last next this end beginning start around"
)

_RELATIVE_DATES = re.compile(
    r"\b(?P<expr>(?i:yesterday|today|tomorrow|(?:last|next|this)\s+(?:year|month|week)|"
    r"(?:last|next|this)\s+(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday))|"
    r"Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b"
)
# Words without which a text has no relative date: its patterns are skipped there.
_RELATIVE_WORDS = frozenset({"yesterday", "today", "tomorrow", "last", "next", "this", "on", "ago",
                             *_WEEKDAYS})  # fmt: skip


def _date_cands(text: str, ctx: FigureContext, sc: _Scan) -> Iterable[_Cand]:
    pub = ctx.published_at
    pub_year = pub.year if pub is not None else None
    months = not sc.words.isdisjoint(_MONTHS)
    for pat in _DATE_PATTERNS if months else _DIGIT_DATE_PATTERNS if sc.digit else ():
        for m in pat.finditer(text):
            g = m.groupdict()
            mon_word = g.get("mon")
            if mon_word is not None and not _month_is_date(text, m.start("mon"), m.end("mon"), m):
                continue
            year = g.get("year")
            if g.get("year2"):
                y2 = g["year2"]
                y2 = y2 if len(y2) == 4 else year[:2] + y2 if year else y2
                if year is None:
                    continue
                if int(y2) == int(year) + 1:
                    yield _Cand(m.start(), m.end(), KIND_DATE, _P_DATE + 1, date_value=f"{year}/{y2}")
                elif len(g["year2"]) == 4 and int(y2) > int(year) and "/" not in m.group(0):
                    # a span of years "2019-2024", "1990–2005": two dates, as any range
                    yield _Cand(m.start("year"), m.end("year"), KIND_DATE, _P_DATE + 1, date_value=year)
                    yield _Cand(m.start("year2"), m.end("year2"), KIND_DATE, _P_DATE + 1, date_value=y2)
                continue
            if mon_word is None and g.get("nmon") is None:
                # a bare year: not when it counts something ("2000 people") or sits in a name ("Budget 2024")
                if year is None or _year_is_count(text, m):
                    continue
                start = m.start("year")
                yield _Cand(start, m.end(), KIND_DATE, _P_DATE, date_value=year)
                continue
            month = int(g["nmon"]) if g.get("nmon") else _MONTHS[mon_word.lower().rstrip(".")]  # type: ignore[union-attr]
            day = g.get("day")
            day_n = int(re.sub(r"\D", "", day)) if day else None
            if day_n is not None and day_n > calendar.monthrange(int(year or 2024), month)[1]:
                continue
            if year is not None:
                iso = f"{year}-{month:02d}" + (f"-{day_n:02d}" if day_n else "")
            else:
                yr = str(pub_year) if pub_year is not None else "XXXX"
                iso = f"{yr}-{month:02d}" + (f"-{day_n:02d}" if day_n else "")
            prio = _P_DATE + (2 if day_n and year else 1 if (day_n or year) else 0)
            step = _RELATIVE_MONTH.search(text, max(0, m.start() - 6), m.start()) if year is None else None
            if step is not None:
                # "last June", "next March": relative to the publication date, like "last week"
                iso = _relative_month(pub, month, step.group(1).lower()) + (f"-{day_n:02d}" if day_n else "")
                yield _Cand(m.start(), m.end(), KIND_DATE, prio, date_value=iso, relative=True)
                continue
            yield _Cand(m.start(), m.end(), KIND_DATE, prio, date_value=iso)
    for m in _ISO_SLASH.finditer(text) if sc.digit else ():
        iso = f"{m.group('y')}-{int(m.group('m')):02d}-{int(m.group('d')):02d}"
        yield _Cand(m.start(), m.end(), KIND_DATE, _P_DATE + 3, date_value=iso)
    if pub is not None and not sc.words.isdisjoint(_RELATIVE_WORDS):
        yield from _relative_cands(text, pub, sc)


_RELATIVE_MONTH = re.compile(r"(?i)\b(last|next|this)\s+$")


def _relative_month(pub: datetime | date | None, month: int, step: str) -> str:
    """Return the ISO month "last/next/this <month>" names, seen from ``pub`` (year XXXX without one)."""
    if pub is None:
        return f"XXXX-{month:02d}"
    year = pub.year
    if step == "last" and month >= pub.month:
        year -= 1
    elif step == "next" and month <= pub.month:
        year += 1
    return f"{year}-{month:02d}"


def _month_is_date(text: str, start: int, end: int, m: re.Match[str]) -> bool:
    word = text[start:end]
    if not word[0].isupper():
        return False
    if word.lower() not in _AMBIGUOUS_MONTHS:
        return True
    if m.group(0) != word:  # "May 7", "May 2024": a day or a year makes it a date
        return True
    before = re.search(r"([\w’']+)(\W*)$", text[max(0, start - 80) : start])
    prev = before.group(1) if before else ""
    if (
        prev
        and before
        and not before.group(2).strip()
        and prev[0].isupper()
        and (prev.lower() not in _FUNCTION_WORDS and prev.lower() not in _DATE_PREPS)
    ):
        return False  # "Theresa May", "Women's March"
    # the modal verb or the noun: "May be", "March on"
    return _NOT_A_MONTH_AFTER.match(text, end) is None


# Words before a year that make it a date, not a name ("FY 2024", "CY 2019", "the 2019 report").
_YEAR_PREFIXES = frozenset({"the", "a", "an", "fy", "cy", "fiscal", "calendar", "year"})


def _year_is_count(text: str, m: re.Match[str]) -> bool:
    before = text[max(0, m.start() - 80) : m.start()]
    after = text[m.end() :]
    prev = re.search(r"([\w’'&.-]+)\s*$", before)
    prev_word = prev.group(1) if prev else ""
    if prev_word.lower() in _DATE_PREPS or prev_word.lower() in _YEAR_PREFIXES or re.search(r"[’']s$", prev_word):
        return False  # "in 2024", "FY 2024", "the City’s 2022 policy"
    if (
        prev_word
        and prev_word[0].isupper()
        and prev_word.lower() not in _FUNCTION_WORDS
        and prev_word.rstrip(".").lower() not in _MONTHS
        and (not re.search(r"[.!?]\s*$", before[: prev.start() if prev else 0]) or len(before.strip()) > len(prev_word))
    ):
        return True  # "Budget 2024", "Mission 300"
    nxt = re.match(r"\s+([a-z]+)", after)
    return bool(nxt and nxt.group(1).endswith("s") and nxt.group(1) not in ("was", "is", "has", "as"))


def _relative_cands(text: str, pub: datetime | date, sc: _Scan) -> Iterable[_Cand]:
    today = pub.date() if isinstance(pub, datetime) else pub
    for m in _RELATIVE_DATES.finditer(text):
        try:
            iso = _relative_day(text, m, today)
        except OverflowError:
            continue  # a publication date at the calendar's end (year 9999) has no "tomorrow" or "next week"
        if iso is not None:
            yield _Cand(m.start(), m.end(), KIND_DATE, _P_DATE - 1, date_value=iso, relative=True)
    for m in sc.rx.ago.finditer(text) if "ago" in sc.words else ():
        n = parse_number(m.group("num"))
        if n is None or n != int(n):
            continue
        unit = m.group("unit").lower().rstrip("s")
        try:
            if unit == "year":
                iso = str(today.year - int(n))
            elif unit == "month":
                y, mo = divmod(today.year * 12 + today.month - 1 - int(n), 12)
                iso = f"{y}-{mo + 1:02d}"
            else:
                iso = (today - timedelta(days=int(n) * (7 if unit == "week" else 1))).isoformat()
        except OverflowError:
            continue  # "5000000 days ago" is before the first day of the calendar
        yield _Cand(m.start(), m.end(), KIND_DATE, _P_QUANTITY + 2, date_value=iso, relative=True)


def _relative_day(text: str, m: re.Match[str], today: date) -> str | None:
    """Return the ISO date (or month, year, ISO week) a relative expression ("yesterday", "last week", "next
    Monday") names, seen from ``today``; raise OverflowError when it falls outside the calendar."""
    expr = re.sub(r"\s+", " ", m.group("expr").lower())
    words = expr.split()
    if expr == "today":
        return today.isoformat()
    if expr == "yesterday":
        return (today - timedelta(days=1)).isoformat()
    if expr == "tomorrow":
        return (today + timedelta(days=1)).isoformat()
    if words[-1] in ("year", "month", "week"):
        step = {"last": -1, "next": 1, "this": 0}[words[0]]
        if words[-1] == "year":
            return str(today.year + step)
        if words[-1] == "month":
            y, mo = divmod(today.year * 12 + today.month - 1 + step, 12)
            return f"{y}-{mo + 1:02d}"
        monday = today - timedelta(days=today.weekday()) + timedelta(weeks=step)
        return f"{monday.isocalendar()[0]}-W{monday.isocalendar()[1]:02d}"
    if words[-1] in _WEEKDAYS:
        target = _WEEKDAYS[words[-1]]
        if words[0] == "next":
            delta = (target - today.weekday()) % 7 or 7
        else:
            # news reports mostly look back: the most recent such day (today counts), a week back at most
            delta = -((today.weekday() - target) % 7)
            if words[0] == "last" and delta == 0:
                delta = -7
            if delta < 0 and _FUTURE_CUE.search(text, max(0, m.start() - 60), m.start()):
                delta += 7
        return (today + timedelta(days=delta)).isoformat()
    return None
