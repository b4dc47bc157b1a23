"""Dates: calendar dates at the precision written, fiscal years, and dates relative to the publication date.

A date becomes ISO 8601 text at the precision it was written ("2025-11", "2025-11-17", "2024/2025" for a fiscal
year); a month without a year takes the publication year. Month names that are also words or names ("May",
"March") and years that count things or sit in names ("2000 people", "Budget 2024") are no dates.

Relative dates ("yesterday", "on Thursday", "last month", "next year", "three years ago", "in five days") are
resolved against the day of publication on the outlet's clock (:func:`publication_day`) and flagged
``relative``. A weekday names the past or the coming such day by the tense of its clause ("the report on
Thursday will show" looks ahead, "the report published Thursday" back), read from the words around it because
the rules see a sentence's text, not its parse (:func:`_clause_tense`). "today" is the day only when something
happens on it; in a present-tense statement it means "nowadays" and is no date. A week is not a day: "last
week" and "this weekend" give no date, and "two weeks ago" gives an ISO week ("2024-W17").
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tasks.figures.grammar import _FUNCTION_WORDS, _P_DATE, _P_QUANTITY, _Cand, _Scan
from tasks.figures.kinds import KIND_DATE, _words
from tasks.figures.numbers import _DIGITS, WORD_NUMBER, parse_number
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
    re.compile(rf"\b(?P<mon>{_MONTH})\s+(?P<day>{_DAY})(?:(?:,?\s+|\s+of\s+)(?P<year>{_YEAR}))?(?!\w|:\d)"),
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
    # an older year after a word that places something in time: "in 1761", "since 1650" (a number of that size
    # alone, or after "by" and "from", is as often a count: "1650 sheep", "rose by 1500")
    re.compile(
        "(?:"
        + "|".join(rf"(?<=\b{w}\s)" for w in ("[Ii]n", "[Ss]ince", "[Uu]ntil", "[Cc]irca", "[Dd]uring", "c\\."))
        + r")(?P<year>1[5-7]\d\d)(?![\w%]|[.,]\d|-\d|\s+[a-z]+s\b)"
    ),
]
_PERSON_AFTER = re.compile(r",\s+(?:who|whose)\b|\s+(?:said|says|told|asked|added|about|insisted|argued)\b")
_NOT_A_MONTH_AFTER = re.compile(
    r"\s+(?:be|have|not|also|well|need|take|make|help|lead|cause|see|get|go|come|become|seem|prove|affect|"
    r"include|result|continue|require|mean|on|against|through)\b"
)
_DIGIT_DATE_PATTERNS = [p for p in _DATE_PATTERNS if "mon>" not in p.pattern]
_ISO_SLASH = re.compile(r"\b(?P<m>0?[1-9]|1[0-2])/(?P<d>0?[1-9]|[12]\d|3[01])/(?P<y>(?:19|20)\d\d)\b")
# A day written with slashes and no year after "on" or a weekday: "our panel on 11/9", "Tuesday (11/13)" (month
# first in a US outlet, day first elsewhere). Without them two numbers with a slash are a fraction, a score or a
# name as often.
_ON_SLASH = re.compile(
    r"(?:\bon\s|\b(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day,?\s\(?)(?P<a>[0-3]?\d)/(?P<b>[0-3]?\d)(?![\d/]|\.\d)"
)
# A day, month and year run together as some blogs date their posts: "11Oct12", "3Dec2011".
_COMPACT_DATE = re.compile(
    r"(?<![\w-])(?P<d>[12]\d|3[01]|0?[1-9])(?P<mon>Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
    r"(?P<y>\d\d|(?:19|20)\d\d)(?![\w-])"
)
# A day of the month told by its ordinal alone after a word of time: "on the 3rd", "(Thru the 18th!)" (a rank
# names what it ranks: "on the 3rd floor", "until the 18th century").
_DAY_ORDINAL = re.compile(
    r"(?<![\w-])(?P<d>[12]?\d|3[01])(?:st|nd|rd|th)(?=\s*(?:[.,;:!?)]|$|(?:at|to|through|until|when)\b))"
)
_DAY_ORDINAL_BEFORE = re.compile(r"(?i)\b(?:on|until|thru|till|through|since|from|by|before|after)\s+the\s+$")
# A fiscal year written glued: "in FY25", "FY'24", "FY2025".
_FY_GLUED = re.compile(r"\bFY['’]?(?P<y>\d{2}|(?:19|20)\d\d)(?![\w-])")
# A decade in words, capitalised after "the": "the Thirties", "the early Sixties" (in lower case after a possessive
# it is an age: "in her thirties").
_DECADE_NAME = re.compile(
    r"(?<=\bthe\s)(?:(?:early|mid|late)[-‑\s])?(?P<d>Twenties|Thirties|Forties|Fifties|Sixties|Seventies|Eighties|Nineties)\b"
)
_DECADE_DIGIT = {"twenties": 2, "thirties": 3, "forties": 4, "fifties": 5, "sixties": 6, "seventies": 7, "eighties": 8,
                 "nineties": 9}  # fmt: skip

# Month names that are also common words or names ("Theresa May", "the March on Washington").
_AMBIGUOUS_MONTHS = frozenset({"may", "march", "august"})
_DATE_PREPS = _words(
    "in on since by until till from to through throughout during of before after between and early late "
    "mid last next this end beginning start around"
)

# ------------------------------------------------------------------------------------------ relative dates

_WEEKDAY_NAMES = "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
_RELATIVE_DATES = re.compile(
    r"\b(?:(?P<day>(?i:yesterday|today|tonight|tomorrow|last\s+night|this\s+(?:morning|afternoon|evening)))"
    r"|(?P<step>(?i:last|next|this))\s+(?P<unit>(?i:year|month|weekend|week))"
    rf"|(?:(?P<wstep>(?i:last|next|this|coming))\s+)?(?P<weekday>{_WEEKDAY_NAMES})"
    r"(?:\s+(?P<wkstep>(?i:last|next|this))\s+(?i:week))?)\b"
)
# A count of days, months or years back or ahead: "three years ago", "a month ago", "ten years from now".
_COUNT = rf"(?:{_DIGITS}|(?i:{WORD_NUMBER})|(?i:an?|one))"
# Words that may stand between a count and its unit in a span back in time: "five short months ago".
AGO_ADJECTIVES = "short|long|full|whole|brief"
_AGO = re.compile(
    rf"(?<![\w.,])(?P<num>{_COUNT})\s+(?:(?i:{AGO_ADJECTIVES})\s+)?(?P<unit>(?i:years?|months?|weeks?|days?))"
    r"\s+(?P<dir>(?i:ago|from\s+now))\b"
)
# "in three days": a date only where the clause speaks of the future ("will reopen in three days"); elsewhere it is
# the length of something ("sold out in three days").
_IN_DAYS = re.compile(rf"\b(?i:in)\s+(?P<num>{_COUNT})\s+(?P<unit>(?i:days?))(?:\s*[’']\s*time|\s+time)?\b")
# Words without which a text has no relative date: its patterns are skipped there.
_RELATIVE_WORDS = frozenset({"yesterday", "today", "tonight", "tomorrow", "night", "morning", "afternoon",
                             "evening", "last", "next", "this", "on", "ago", "now", "days", *_WEEKDAYS})  # fmt: skip

# A weekday, "today" or "tomorrow" written with the calendar date it names ("Saturday, June 21", "Monday, 6
# January 2020", "today (Dec. 27)"): the calendar date is the mention, the day name adds nothing.
_ABSOLUTE_AFTER = re.compile(
    rf",?\s*\(?\s*(?:{_MONTH}\s+{_DAY}(?!\w)|{_DAY}\s+(?:of\s+)?{_MONTH}(?!\w)|(?:19|20)\d\d-\d\d-\d\d)"
)
# A day of the week that is no one day: a span of opening days ("Tuesday-Saturday", "Monday to Friday"), a
# recurring day ("every Sunday", "the 2nd Thursday of each month"), an indefinite or story-internal one ("a
# Sunday in late fall", "the Thursday night he left"), or a named day ("Good Friday", "Super Tuesday").
_WEEKDAY_SPAN = re.compile(rf"\s*(?:[-–‑]|\b(?:to|through|thru)\b)\s*(?:{_WEEKDAY_NAMES})\b")
_WEEKDAY_SPAN_BEFORE = re.compile(rf"\b(?:{_WEEKDAY_NAMES})\s*(?:[-–‑]|\b(?:to|through|thru)\s)\s*$")
_NOT_ONE_WEEKDAY_BEFORE = re.compile(
    r"(?:\b(?i:every|each|any|one|some|another|that|first|second|third|fourth|fifth|final|every\s+other)"
    r"|\b\d+(?:st|nd|rd|th)|\b(?:Good|Black|Cyber|Super|Ash|Easter|Palm|Holy|Maundy|Giving|Bloody|Shrove|Whit|First))"
    r"\s+$"
)
# After "a" or "the" a weekday is no one day ("a Sunday in late fall", "the Thursday night he left") unless it
# stands in front of a noun: "a Monday analysis", "the Tuesday vote" name that one day.
_ARTICLE_BEFORE = re.compile(r"\b(?i:a|an|the)\s+$")
_ATTRIBUTIVE = re.compile(
    r"\s+(?!(?:morning|afternoon|evening|night|in|of|on|at|and|or|to|for|when|that|which|he|she|it|they|we|i)\b)"
    r"[a-z]{3,}\b"
)
_RECURRING_AFTER = re.compile(r"\s+of\s+(?:each|every|the)\s+month\b", re.IGNORECASE)
# "today" means "nowadays" as often as the day itself ("online buyers are more sophisticated today"). It is the
# day when something happened or will happen on it, or in these forms: "today's session", "earlier today",
# "as of today", "Today (19)".
_TODAY_IS_THE_DAY = re.compile(r"[’']s\b|\s*\(\s*\d")
_TODAY_AFTER_WORDS = re.compile(r"(?i)\b(?:earlier|later|as\s+of|until|from|since|by)\s+$")
# "the last year", "the next month", "this past year": a span back or ahead from now, not the calendar year.
_SPAN_NOT_CALENDAR = re.compile(r"(?i)\b(?:the|past|coming)\s+$")
# "of yesterday", "the leaders of tomorrow": the past or the future in general.
_GENERIC_OF = re.compile(r"(?i)\bof\s+$")

# The zone most of a country's outlets write in (the capital's, or the most populous zone's where a country has
# several: New York's for the United States, Sydney's for Australia). A UTC time from an outlet is read on that
# clock: a story filed at 03:30 UTC on a Wednesday is a Tuesday evening story in New York, and its "yesterday"
# is Monday.
_COUNTRY_ZONES = {
    "US": "America/New_York", "CA": "America/Toronto", "MX": "America/Mexico_City", "BR": "America/Sao_Paulo",
    "AR": "America/Argentina/Buenos_Aires", "CL": "America/Santiago", "CO": "America/Bogota", "PE": "America/Lima",
    "VE": "America/Caracas", "JM": "America/Jamaica", "TT": "America/Port_of_Spain", "BB": "America/Barbados",
    "BS": "America/Nassau", "KY": "America/Cayman", "BZ": "America/Belize", "CR": "America/Costa_Rica",
    "DO": "America/Santo_Domingo", "GY": "America/Guyana", "GD": "America/Grenada", "LC": "America/St_Lucia",
    "KN": "America/St_Kitts", "VG": "America/Tortola", "PR": "America/Puerto_Rico", "HT": "America/Port-au-Prince",
    "GB": "Europe/London", "IE": "Europe/Dublin", "PT": "Europe/Lisbon", "ES": "Europe/Madrid", "FR": "Europe/Paris",
    "BE": "Europe/Brussels", "NL": "Europe/Amsterdam", "DE": "Europe/Berlin", "AT": "Europe/Vienna",
    "CH": "Europe/Zurich", "IT": "Europe/Rome", "SE": "Europe/Stockholm", "NO": "Europe/Oslo",
    "DK": "Europe/Copenhagen", "FI": "Europe/Helsinki", "PL": "Europe/Warsaw", "UA": "Europe/Kiev",
    "RU": "Europe/Moscow", "TR": "Europe/Istanbul", "GR": "Europe/Athens", "ZA": "Africa/Johannesburg",
    "NG": "Africa/Lagos", "KE": "Africa/Nairobi", "TZ": "Africa/Dar_es_Salaam", "UG": "Africa/Kampala",
    "GH": "Africa/Accra", "NA": "Africa/Windhoek", "LS": "Africa/Maseru", "ZW": "Africa/Harare", "EG": "Africa/Cairo",
    "IL": "Asia/Jerusalem", "AE": "Asia/Dubai", "SA": "Asia/Riyadh", "QA": "Asia/Qatar", "PK": "Asia/Karachi",
    "IN": "Asia/Kolkata", "BD": "Asia/Dhaka", "LK": "Asia/Colombo", "NP": "Asia/Kathmandu", "MY": "Asia/Kuala_Lumpur",
    "SG": "Asia/Singapore", "ID": "Asia/Jakarta", "PH": "Asia/Manila", "TH": "Asia/Bangkok", "VN": "Asia/Ho_Chi_Minh",
    "CN": "Asia/Shanghai", "HK": "Asia/Hong_Kong", "TW": "Asia/Taipei", "KR": "Asia/Seoul", "JP": "Asia/Tokyo",
    "AU": "Australia/Sydney", "NZ": "Pacific/Auckland", "FJ": "Pacific/Fiji",
}  # fmt: skip

# --- the tense of a clause, read from its words (the figures pass has the sentence's text, not its parse)

_PAST, _PRESENT, _FUTURE = -1, 0, 1
_CLAUSE_TOKEN = re.compile(r"[A-Za-z]+(?:['’][A-Za-z]+)*|[;:()\[\]\"“”—–,]|[.!?](?=\s|$)")
# Words that open a new clause: what the verb of another clause says is no cue ("voted on Tuesday for a law that
# will take effect").
_CLAUSE_OPENERS = _words(
    "that which who whom whose when where while whereas because although though but after before if unless whether"
)
_AUX_PAST = _words("was were had did didn't wasn't weren't hadn't")
_AUX_PERFECT = _words("has have hasn't haven't")  # with a participle after: "have been arrested after ... Monday"
_AUX_FUTURE = _words("will won't shall would wouldn't")
# Modals of ability, duty or chance: a weekday after them lies ahead ("may arrive Friday"), but "today" after
# them is still "nowadays" ("a child can talk about more topics than any computer today").
_MODALS = _words("can can't cannot could couldn't must should shouldn't might may")
_BE_PRESENT = _words("is are am isn't aren't")
_ADVERBS = _words("not also just now still already reportedly only then never again soon likely")
# Degree words make the next word an adjective: "are more sophisticated", "is very demanding".
_DEGREE = _words("more most very so too less least quite rather fairly increasingly")
# After "is"/"are": a plan or a schedule ("is set to", "are due", "is expected", "is meeting").
_PLANNED = _words("set due expected scheduled slated poised about going likely planned supposed to")
_FUTURE_WORDS = _words("next upcoming ahead coming scheduled slated expected planned soon")
_PAST_WORDS = _words("ago earlier previously already recently since formerly")
# A scheduled event in the present tense refers ahead: "the series resumes Friday", "the list drops Thursday".
_SCHEDULE_VERBS = _words(
    "begins starts opens closes ends kicks launches resumes returns reopens meets convenes arrives departs airs "
    "premieres debuts drops hosts faces plays goes heads lands expires continues concludes wraps travels visits "
    "begin start open close end kick launch resume reopen meet convene arrive depart air premiere debut"
)
_IRREGULAR_PAST = _words(
    "said told went came met made took gave held won lost saw began fell rose left found thought brought bought sent "
    "spent struck ran wrote spoke broke chose drove flew grew knew led paid sold stood sat shot threw wore became "
    "fought caught taught sought built felt kept meant got ate drank sang shook woke hung rode rang sank swam tore "
    "stole froze forgot hid bit slid fled laid drew withdrew understood arose overtook undertook mistook swore dealt "
    "heard lent bent slept swept wept crept upheld withheld foresaw oversaw stuck sprang spun dug clung flung swung "
    "shone awoke"
)
# Words in -ed that are no past tense: "a hundred", "indeed", "the sacred".
_NOT_PAST_ED = _words("hundred indeed sacred naked wicked beloved crooked ragged rugged wretched kindred")
_DETERMINERS = _words("the a an its their his her our my your this these those")


def _date_cands(text: str, ctx: FigureContext, sc: _Scan) -> Iterable[_Cand]:
    pub = ctx.published_at
    pub_day = publication_day(pub, ctx.country) if pub is not None else None
    pub_year = pub_day.year if pub_day is not None else None
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
                if pub_day is not None and month > pub_day.month and _clause_tense(text, m.start(), m.end()) == _PAST:
                    yr = str(pub_day.year - 1)  # "prices fell in December", written in January: the last December
                iso = f"{yr}-{month:02d}" + (f"-{day_n:02d}" if day_n else "")
            prio = _P_DATE + (2 if day_n and year else 1 if (day_n or year) else 0)
            of_year = _OF_RELATIVE_YEAR.match(text, m.end()) if year is None and day_n is None else None
            if of_year is not None and pub_year is not None:
                # "May of this year", "March of last year": the month of the year the phrase names
                shift = {"last": -1, "next": 1, "this": 0}[of_year.group(1).lower()]
                yield _Cand(m.start(), of_year.end(), KIND_DATE, prio + 3,
                            date_value=f"{pub_year + shift}-{month:02d}", relative=True)  # fmt: skip
                continue
            second_day = _DAY_RANGE_END.match(text, m.end()) if day_n is not None and year is None else None
            if second_day is not None and day_n is not None and day_n < int(second_day.group(1)) <= 31:
                # "June 6-10", "Nov. 3-5, 2019": the range's end is a date of the same month (and year)
                range_year = re.match(rf",?\s+({_YEAR})(?!\w)", text[second_day.end() :])
                if range_year is not None:
                    iso = f"{range_year.group(1)}{iso[4:]}"
                end_iso = iso[:-2] + f"{int(second_day.group(1)):02d}"
                end = second_day.end() + (range_year.end() if range_year is not None else 0)
                yield _Cand(second_day.start(1), end, KIND_DATE, prio + (1 if range_year else 0), date_value=end_iso)
            step = _RELATIVE_MONTH.search(text, max(0, m.start() - 11), m.start()) if year is None else None
            if step is not None:
                # "last June", "next March": relative to the publication date, like "last week"
                iso = _relative_month(pub_day, month, step.group(1).lower()) + (f"-{day_n:02d}" if day_n else "")
                yield _Cand(m.start(), m.end(), KIND_DATE, prio, date_value=iso, relative=True)
                continue
            yield _Cand(m.start(), m.end(), KIND_DATE, prio, date_value=iso)
    for m in _DECADE.finditer(text) if sc.digit else ():
        digits = m.group("full") or f"19{m.group('short')}"
        # "the 1900s" is a century in news writing; "the 2000s" and "the 1970s" are decades
        iso = f"{digits[:2]}XX" if digits[2] == "0" and digits[0] == "1" else f"{digits}X"
        yield _Cand(m.start(), m.end(), KIND_DATE, _P_DATE, date_value=iso)
    for m in _CENTURY.finditer(text) if sc.digit and "century" in sc.words else ():
        yield _Cand(m.start(), m.end(), KIND_DATE, _P_DATE + 3, date_value=f"{int(m.group('n')) - 1:02d}XX")
    for m in _ISO_DATE.finditer(text) if sc.digit else ():
        iso = f"{m.group('y')}-{m.group('m')}-{m.group('d')}"
        yield _Cand(m.start(), m.end(), KIND_DATE, _P_DATE + 3, date_value=iso)
    for m in _DECADE_NAME.finditer(text) if not sc.words.isdisjoint(_DECADE_DIGIT) else ():
        yield _Cand(
            m.start("d"), m.end("d"), KIND_DATE, _P_DATE, date_value=f"19{_DECADE_DIGIT[m.group('d').lower()]}X"
        )
    for m in _FY_GLUED.finditer(text) if sc.digit and "fy" in sc.words else ():
        year = m.group("y")  # "FY25", "FY2025": the fiscal year by the year it ends in
        yield _Cand(m.start(), m.end(), KIND_DATE, _P_DATE, date_value=year if len(year) == 4 else f"20{year}")
    for m in _ON_SLASH.finditer(text) if sc.digit and "/" in text else ():
        a, b = int(m.group("a")), int(m.group("b"))
        month, day = (a, b) if ctx.country in (None, "US") else (b, a)
        if 1 <= month <= 12 and 1 <= day <= 31:
            yield _Cand(m.start("a"), m.end(), KIND_DATE, _P_DATE, date_value=f"XXXX-{month:02d}-{day:02d}")
    for m in _COMPACT_DATE.finditer(text) if sc.digit else ():
        yy = m.group("y")
        year = yy if len(yy) == 4 else f"{'20' if int(yy) < 50 else '19'}{yy}"  # "11Oct12" 2012, "3Dec99" 1999
        month = _MONTHS[m.group("mon").lower()]
        yield _Cand(
            m.start(), m.end(), KIND_DATE, _P_DATE + 3, date_value=f"{year}-{month:02d}-{int(m.group('d')):02d}"
        )
    for m in _DAY_ORDINAL.finditer(text) if sc.digit and "the" in sc.words else ():
        if not _DAY_ORDINAL_BEFORE.search(text, max(0, m.start() - 16), m.start()):
            continue
        yield _Cand(m.start(), m.end(), KIND_DATE, _P_DATE, date_value=f"XXXX-XX-{int(m.group('d')):02d}")
    for m in _ISO_SLASH.finditer(text) if sc.digit else ():
        iso = f"{m.group('y')}-{int(m.group('m')):02d}-{int(m.group('d')):02d}"
        yield _Cand(m.start(), m.end(), KIND_DATE, _P_DATE + 3, date_value=iso)
    if pub is not None and not sc.words.isdisjoint(_RELATIVE_WORDS):
        yield from _relative_cands(text, pub, ctx.country)


_RELATIVE_MONTH = re.compile(r"(?i)\b(last|next|this)(?:\s+past)?\s+$")
_OF_RELATIVE_YEAR = re.compile(r"\s+of\s+(this|last|next)\s+year\b", re.IGNORECASE)
# The end of a range of days written once with its month: "June 6-10", "Nov. 3–5".
_DAY_RANGE_END = re.compile(
    r"(?:\s?[-–]\s?|\s+(?:to|through|until|till)\s+)([0-3]?\d)(?![\d%:]|[.,]\d|\s*(?:%|per|am|pm|a\.m|p\.m))"
)
# A decade: "the 1970s", "the ’60s" (of the 1900s), "the 1900s", "the mid-1700s"; its value keeps the digits
# written ("197X").
_DECADE = re.compile(
    r"(?:(?<=\bmid[-‑])|(?<=\bearly[-‑])|(?<=\blate[-‑])|(?<![\w$£€.,‑-]))"
    r"(?:(?P<full>1[0-9]\d|20\d)0|[’'‘](?P<short>[0-9])0)[’'′]?s\b"
)
# A century by its ordinal: "18th-century literature", "in 16th century Europe" is the 1700s, the 1500s.
_CENTURY = re.compile(r"(?<![\w-])(?P<n>[1-9]|1\d|2[01])(?:st|nd|rd|th)[-‑\s]century\b", re.IGNORECASE)
# A date written the ISO way: "2012-10-16" (a byline, a dateline, a table of events).
_ISO_DATE = re.compile(
    r"(?<![\w/.-])(?P<y>(?:19|20)\d\d)-(?P<m>0[1-9]|1[0-2])-(?P<d>0[1-9]|[12]\d|3[01])(?![\w/-]|\.\d)"
)


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
    if _PERSON_AFTER.match(text, end) and prev.lower() not in _DATE_PREPS:
        return False  # "May, who said", "talked with May about": a person
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
    if _EVENT_AFTER_YEAR.match(after):
        return False  # "Mayor Opens 2019 Harbour Festival": the year of an event is its date
    if (
        prev_word
        and prev_word[0].isupper()
        and prev_word.lower() not in _FUNCTION_WORDS
        and prev_word.rstrip(".").lower() not in _MONTHS
        and (not re.search(r"[.!?]\s*$", before[: prev.start() if prev else 0]) or len(before.strip()) > len(prev_word))
    ):
        return True  # "Budget 2024", "Mission 300"
    nxt = re.match(r"\s+([a-z]+)", after)
    return bool(
        nxt
        and (nxt.group(1).endswith("s") or nxt.group(1) in _PLURALS_WITHOUT_S)
        and nxt.group(1) not in ("was", "is", "has", "as")
    )


# A year before the name of an event, however capitalised the words in front: "2019 Harbour Festival", "2010
# Census", "2014 World Cup".
_EVENT_AFTER_YEAR = re.compile(
    r"(?:\s+[A-Z][\w’'&/.-]*){0,4}\s+(?:Conference|Summit|Olympics|Olympic\s+Games|Games|Census|Elections?|Festival|"
    r"Awards|Cup|Championships?|Expo|Convention|Congress|Forum|Fair|Marathon|Tour|Grand\s+Prix)\b"
)
# Plural nouns that do not end in "s": "2000 people" counts people.
_PLURALS_WITHOUT_S = _words("people children men women staff police personnel cattle feet teeth mice geese")


def _relative_cands(text: str, pub: datetime | date, country: str | None) -> Iterable[_Cand]:
    """Yield the relative dates of ``text`` resolved against the publication day in the outlet's own clock."""
    today = publication_day(pub, country)
    for m in _RELATIVE_DATES.finditer(text):
        try:
            iso = _relative_day(text, m, today)
        except OverflowError:
            continue  # a publication date at the calendar's end (year 9999) has no "tomorrow" or "next year"
        if iso is not None:
            yield _Cand(m.start(), m.end(), KIND_DATE, _P_DATE - 1, date_value=iso, relative=True)
    counted = [(m, -1 if m.group("dir").lower() == "ago" else 1) for m in _AGO.finditer(text)]
    if "in" in text:
        counted += [(m, 1) for m in _IN_DAYS.finditer(text) if _clause_tense(text, m.start(), m.end()) == _FUTURE]
    for m, sign in counted:
        iso = _counted_back_or_ahead(m.group("num"), m.group("unit").lower().rstrip("s"), sign, today)
        if iso is not None:
            # above a length of time: "three years ago" is a date, not the quantity "three years"
            yield _Cand(m.start(), m.end(), KIND_DATE, _P_QUANTITY + 2, date_value=iso, relative=True)


def publication_day(pub: datetime | date, country: str | None = None) -> date:
    """Return the calendar day of publication as the outlet's readers saw it, which anchors "yesterday" and
    "on Monday".

    A time with a non-zero UTC offset is the page's own clock and is kept; a time without a zone is kept as
    written. A time in UTC is moved to the zone of the outlet's ``country`` (:data:`_COUNTRY_ZONES`) when one is
    known, except exactly midnight: a page that states only its date is stored as midnight UTC, and moving that
    to New York would make it the day before.
    """
    if not isinstance(pub, datetime):
        return pub
    offset = pub.utcoffset()
    if offset is None or offset or country is None or pub.time() == time(0):
        return pub.date()
    zone = _zone(country.upper())
    if zone is None:
        return pub.date()
    try:
        return pub.astimezone(zone).date()
    except OverflowError:
        return pub.date()  # the first or the last day of the calendar has no day before or after it


@lru_cache(maxsize=64)
def _zone(country: str) -> ZoneInfo | None:
    """Return the time zone of ``country``'s outlets, or None when unknown or when this machine has no zone data."""
    name = _COUNTRY_ZONES.get(country)
    if name is None:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _counted_back_or_ahead(num: str, unit: str, sign: int, today: date) -> str | None:
    """Return the day, ISO week, month or year ``num`` ``unit``\\s before (``sign`` -1) or after (+1) ``today``,
    at the precision of the unit; None when the count is no whole number or the result leaves the calendar."""
    n = 1.0 if num.lower() in ("a", "an") else parse_number(num)
    if n is None or n != int(n) or n > 10_000:
        return None
    k = sign * int(n)
    if unit == "year":
        return str(today.year + k) if 1 <= today.year + k <= 9999 else None
    if unit == "month":
        y, mo = divmod(today.year * 12 + today.month - 1 + k, 12)
        return f"{y}-{mo + 1:02d}" if 1 <= y <= 9999 else None
    try:
        day = today + timedelta(days=k * (7 if unit == "week" else 1))
    except OverflowError:
        return None
    if unit == "week":
        # a week is no day: "three weeks ago" names an ISO week, "2024-W45"
        iso_year, iso_week, _ = day.isocalendar()
        return f"{iso_year}-W{iso_week:02d}"
    return day.isoformat()


def _relative_day(text: str, m: re.Match[str], today: date) -> str | None:
    """Return the ISO date, month or year a relative expression ("yesterday", "last month", "on Thursday") names,
    seen from ``today``, or None when it names no one day, month or year; raise OverflowError when it falls outside
    the calendar.

    "last/this/next week" and "weekend" give None: a week is not a day, and the value would be a span the
    writer chose not to pin down (the annotation guidelines leave them out for that reason).
    """
    before = text[max(0, m.start() - 40) : m.start()]
    after = text[m.end() : m.end() + 40]
    if m.group("day") is not None:
        return _day_word(text, m, today, before, after)
    if m.group("unit") is not None:
        unit = m.group("unit").lower()
        if unit in ("week", "weekend") or _SPAN_NOT_CALENDAR.search(before):
            return None
        step = {"last": -1, "next": 1, "this": 0}[m.group("step").lower()]
        if unit == "year":
            return str(today.year + step)
        y, mo = divmod(today.year * 12 + today.month - 1 + step, 12)
        return f"{y}-{mo + 1:02d}"
    return _weekday(text, m, today, before, after)


def _day_word(text: str, m: re.Match[str], today: date, before: str, after: str) -> str | None:
    """Resolve "yesterday", "today", "tonight", "tomorrow", "last night", "this morning"."""
    word = re.sub(r"\s+", " ", m.group("day").lower())
    if _ABSOLUTE_AFTER.match(after) or (_GENERIC_OF.search(before) and not before.lower().endswith("as of ")):
        return None
    if word == "today" and not (
        _TODAY_IS_THE_DAY.match(after)
        or _TODAY_AFTER_WORDS.search(before)
        or _clause_tense(text, m.start(), m.end()) in (_PAST, _FUTURE)
    ):
        return None  # "nowadays": a present-tense statement about the way things are
    shift = -1 if word in ("yesterday", "last night") else 1 if word == "tomorrow" else 0
    return (today + timedelta(days=shift)).isoformat()


def _weekday(text: str, m: re.Match[str], today: date, before: str, after: str) -> str | None:
    """Resolve a weekday name: "last/next/this/coming Thursday", "Friday last week", or a bare "(on) Thursday"
    by the tense of its clause: the coming one for a future or a present, else the past one (today counts)."""
    target = _WEEKDAYS[m.group("weekday").lower()]
    tail = text[m.end("weekday") : m.end("weekday") + 40]
    if m.group("wstep") is None and (
        _NOT_ONE_WEEKDAY_BEFORE.search(before)
        or (_ARTICLE_BEFORE.search(before) and not _ATTRIBUTIVE.match(tail))
        or _WEEKDAY_SPAN.match(tail)
        or _WEEKDAY_SPAN_BEFORE.search(before)
        or _RECURRING_AFTER.match(tail)
    ):
        return None
    if _ABSOLUTE_AFTER.match(tail):
        return None
    back = (today.weekday() - target) % 7  # days since the latest such day, 0 when it is today
    ahead = (target - today.weekday()) % 7  # days to the next such day, 0 when it is today
    wkstep = m.group("wkstep")
    if wkstep is not None:
        monday = today - timedelta(days=today.weekday()) + timedelta(weeks={"last": -1, "next": 1, "this": 0}[
            wkstep.lower()])  # fmt: skip
        return (monday + timedelta(days=target)).isoformat()
    step = (m.group("wstep") or "").lower()
    if step == "last":
        delta = -(back or 7)
    elif step in ("next", "coming"):
        delta = ahead or 7
    else:
        tense = _clause_tense(text, m.start("weekday"), m.end("weekday"))
        if step == "this":
            delta = -back if tense == _PAST else ahead
        else:
            # news reports mostly look back: without a future or present verb, the latest such day
            delta = ahead if tense in (_PRESENT, _FUTURE) else -back
    return (today + timedelta(days=delta)).isoformat()


def _clause_tense(text: str, start: int, end: int) -> int | None:
    """Return the tense (_PAST, _PRESENT or _FUTURE) of the verb nearest to ``text[start:end]`` in its clause, or
    None when the clause shows none.

    The clause runs to the nearest semicolon, colon, bracket, dash, quotation mark or clause-opening word ("that",
    "which", "after" ...) on each side; a comma costs three words of distance, so "Smith, who resigned on
    Monday, will speak" reads "resigned" for Monday. Past: "was/were/had/did", "has/have" with a participle,
    verbs in -ed and common irregular pasts, "ago", "earlier". Future: "will/would/could"-type modals, "is
    set/due/expected/scheduled to", the present progressive ("is meeting"), "next", "ahead (of)", schedule
    verbs in the present ("opens"). Present: "is/are" alone.
    """
    tokens = [(t.group(0), t.start()) for t in _CLAUSE_TOKEN.finditer(text)]
    first = next((i for i, (_, s) in enumerate(tokens) if s >= start), len(tokens))
    last = next((i for i in range(len(tokens) - 1, -1, -1) if tokens[i][1] < end), first - 1)
    best: tuple[float, int] | None = None  # (distance, tense)
    for direction, rng in ((-1, range(first - 1, -1, -1)), (1, range(last + 1, len(tokens)))):
        cost = 0.0
        for i in rng:
            tok = tokens[i][0]
            if tok == ",":
                cost += 3
                continue
            if not tok[0].isalpha() or (direction == 1 and tok.lower() in _CLAUSE_OPENERS):
                break
            if direction == 1 and tok.lower() == "ahead" and _next_word(tokens, i) == "of":
                break  # "met on Saturday ahead of the vote": what follows is another event's time
            cost += 1
            if (best is not None and cost >= best[0]) or cost > 12:
                break
            tense = _token_tense(tokens, i)
            if tense is not None:
                best = (cost, tense)
                break
            if direction == -1 and tok.lower() in _CLAUSE_OPENERS:
                break
    return best[1] if best is not None else None


def _token_tense(tokens: list[tuple[str, int]], i: int) -> int | None:
    """Return the tense the word ``tokens[i]`` marks (as an auxiliary, a verb form or a time adverb), or None."""
    raw = tokens[i][0]
    if raw[0].isupper() and i > 0:
        return None  # a name ("West End", "United", "Ahmed"), not a verb
    tok = raw.lower().replace("’", "'")
    prev = _previous_word(tokens, i)
    nxt = _next_word(tokens, i)
    if tok in _AUX_PAST:
        return _PAST
    if tok in _AUX_PERFECT:
        return _PAST if nxt is not None and (nxt == "been" or _is_past_form(nxt, None)) else None
    if tok in _AUX_FUTURE or tok.endswith("'ll"):
        return _FUTURE
    if tok in _MODALS:
        return _PRESENT
    if tok in _BE_PRESENT or tok.endswith(("'re", "'m")):
        if i + 1 < len(tokens) and tokens[i + 1][0].lower() in _DEGREE:
            return _PRESENT
        if nxt is not None and (nxt in _PLANNED or (nxt.endswith("ing") and len(nxt) > 4)):
            return _FUTURE
        return _PRESENT
    if tok in ("going", "plans", "plan", "set") and nxt in ("to", "for"):
        return _FUTURE
    if tok in _FUTURE_WORDS or tok in _SCHEDULE_VERBS:
        return _FUTURE
    if tok in _PAST_WORDS:
        return _PAST
    if prev in _BE_PRESENT or prev in ("be", "being") or prev in _AUX_FUTURE or prev in _MODALS:
        return None  # a passive or a bare verb after a modal: the auxiliary gives the tense
    if _is_past_form(tok, prev):
        return _PAST
    return None


def _is_past_form(word: str, prev: str | None) -> bool:
    """Return True when ``word`` is a past tense or participle: an irregular one, or a verb in -ed that no
    determiner turns into an adjective ("the proposed plan")."""
    if word in _IRREGULAR_PAST:
        return True
    if len(word) < 5 or not word.endswith("ed") or word in _NOT_PAST_ED or prev in _DETERMINERS:
        return False
    return not word.endswith("eed") or word in ("agreed", "freed", "decreed", "guaranteed", "refereed")


def _previous_word(tokens: list[tuple[str, int]], i: int) -> str | None:
    j = i - 1
    while j >= 0 and (tokens[j][0].lower() in _ADVERBS or tokens[j][0].lower() in _DEGREE):
        j -= 1
    return tokens[j][0].lower().replace("’", "'") if j >= 0 and tokens[j][0][0].isalpha() else None


def _next_word(tokens: list[tuple[str, int]], i: int) -> str | None:
    j = i + 1
    while j < len(tokens) and tokens[j][0].lower() in _ADVERBS:
        j += 1
    return tokens[j][0].lower().replace("’", "'") if j < len(tokens) and tokens[j][0][0].isalpha() else None
