"""Candidate rules: where a text mentions money, a percentage, a quantity, a count or a fraction (ranks are in
:mod:`tasks.figures.ordinals`, ages in :mod:`tasks.figures.ages`).

Each family of patterns runs only when a quick scan of the text (:func:`_scan`) finds a word or symbol the
family needs, which keeps the rules cheap on the many sentences without numbers. Each rule yields candidate
spans with their values; :mod:`tasks.figures.not_figures` lists what looks like a figure and is not (clock times,
scores, addresses, URLs, codes such as "COVID-19"), and :mod:`tasks.figures.assembly` picks among them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from tasks.figures.dates import _MONTHS, _PLURALS_WITHOUT_S, _RELATIVE_WORDS, AGO_ADJECTIVES
from tasks.figures.grammar import (
    _FUNCTION_WORDS,
    _P_COUNT,
    _P_FRACTION,
    _P_MONEY,
    _P_PERCENT,
    _P_QUANTITY,
    _RX_DIGITS,
    _RX_WORDS,
    _Cand,
    _Scan,
)
from tasks.figures.kinds import (
    KIND_COUNT,
    KIND_FRACTION,
    KIND_MONEY,
    KIND_PERCENT,
    KIND_QUANTITY,
    UNIT_PERCENT,
    UNIT_POINT,
    _words,
)
from tasks.figures.numbers import _DIGITS, _FRACTION_WORDS_MAP, _ORDINALS, _TENS_W, _UNITS_W, _scale_of, parse_number
from tasks.figures.units import (
    _DOLLAR_ADJECTIVES,
    _DOLLAR_AFTER,
    _DOLLAR_CURRENCIES,
    _DOLLAR_NAMED_AFTER,
    _PREFIX_CURRENCY,
    _SUFFIX_CURRENCY,
    _TIME_UNITS,
    _UNIT_WORDS,
    CURRENCY_FROM_OUTLET,
    CURRENCY_FROM_SYMBOL,
    FigureContext,
    _local,
)

_A_QUANTITY = re.compile(
    r"(?<![\w])(?P<a>a|an)\s+(?P<unit>decade|century|year|month|week|day|hour|half[-\s]century)(?![\w-])",
    re.IGNORECASE,
)
# "a week-long festival", "a yearlong inquiry": one of the unit, as an adjective.
_UNIT_LONG = re.compile(r"(?<![\w-])(?P<unit>decade|century|year|month|week|day|hour)[-‑]?long(?![\w-])", re.IGNORECASE)
_LONG_WORDS = frozenset(f"{unit}long" for unit in ("decade", "century", "year", "month", "week", "day", "hour"))
# A half written after the number, spaced or hyphenated: "two and a half hours", "a 3-and-a-half mile loop".
_AND_A_HALF = re.compile(r"(?:\s+|[-‑])and(?:\s+|[-‑])a(?:\s+|[-‑])half$", re.I)
# "a year and a half", "the past hour and a half": one and a half of the unit.
# Half of a unit of time or length as one word: "the half-hour trip", "a half mile away" (not "half an hour", a
# fraction of "an hour"; not "half-year", which names a reporting period, the first or second half of a year).
_HALF_UNIT = re.compile(r"(?<![\w-])half[-\s](?P<unit>hour|day|mile|minute|week)(?![\w-])", re.I)
_UNIT_AND_A_HALF = re.compile(
    r"(?<![\w-])(?:(?:a|an|one)\s+)?(?P<unit>decade|century|year|month|week|day|hour|minute)\s+and\s+a\s+half(?![\w-])",
    re.IGNORECASE,
)
_FRACTION = re.compile(
    r"(?<![\w-])(?P<frac>(?:(?P<num>a|an|one|two|three|four|five|six|seven|eight|nine)[-‑\s]+)(?P<den>"
    r"half|third|thirds|quarter|quarters|fourth|fourths|fifth|fifths|sixth|sixths|eighth|eighths|tenth|tenths)"
    r"|(?P<half>half)|(?P<x>\d+|one|two|three|four|five|six|seven|eight|nine|ten)(?:\s+|[-‑])(?:in|out[-‑\s]+of)"
    r"(?:\s+every)?(?:\s+|[-‑])(?P<y>\d+|two|three|four|five|six|seven|eight|nine|ten|a\s+hundred|100))(?![\w-])",
    re.IGNORECASE,
)
# A noun after "a third" makes it a rank, not a share: "a third child" (but "a third of", "a third more").
_RANKED_NOUN_AFTER = re.compile(
    r"\s+(?!(?:of|more|less|fewer|higher|lower|larger|smaller|bigger|to|in|on|at|for|and|or|by|from|with|as|"
    r"than|that|this|since|over|under|last|next|each|every|per|after|before|while|when|between|among|earlier|"
    r"later|compared|since|year-on-year|overall|instead|again|already|now|then)\b)[a-z]{3,}"
)
# "a third" as the subject of a verb after "another" or "a second": the next item of a list, no share.
_VERB_AFTER = re.compile(r"\s+(?:is|was|will|would|has|had|could|can|may|might|said|says|wants|went)\b")
_ENUMERATION_BEFORE = re.compile(r"(?i)\b(?:another|a\s+second|the\s+other)\b")
_SCALED_RANGE_END = re.compile(
    rf"(?<=\d)\s?[-–—‑]\s?(?P<num>{_DIGITS}(?:\s+|[-‑])(?i:million|billion|trillion|thousand))(?![\w%])"
)
# A parent described by a count of children: "father-of-three", "mother of two" (a compound the count rules skip).
PARENT_OF = r"(?i:\b(?:father|mother|mum|mom|dad|parent|grandfather|grandmother|grandparent)s?[-‑\s]of[-‑\s])"
_PARENT_OF = re.compile(
    rf"{PARENT_OF}(?P<num>\d{{1,2}}|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)(?![\w-])"
)
# Dimensions in inches written with a double quote: '25" x 22"', '12″ × 8″'.
_INCH_DIMENSIONS = re.compile(r'(?<![\w.])(?P<a>\d{1,3}(?:\.\d+)?)["″]\s*[x×]\s*(?P<b>\d{1,3}(?:\.\d+)?)["″]')
# An inch mark after a number: the double prime ("1/4″ slices"), or a closing curly quote that closes no quote
# ("circles about 1-2” in diameter").
_INCH_MARK = re.compile(r"(?<![\w.,/])(?P<num>\d+(?:\.\d+)?|\d+/\d+)(?P<mark>[″”])")
# Inches written "in" in brackets after another measure: "a 24cm (9 in) tin" (a preposition never closes them).
_INCHES_IN_BRACKETS = re.compile(r"(?<=\()(?P<num>\d{1,3}(?:\.\d+)?)\s?in(?=\))")
# A foot mark, the prime, after a number: "a spread of 15′ to 40′".
_FOOT_MARK = re.compile(r"(?<![\w.,/’'‘])(?P<num>\d+(?:\.\d+)?)′(?![′\d]|s\b)")
# A height in feet and inches run together, as sports and police reports write it: "the 7-foot-3 center", "6′2″",
# "a 5-foot-10-inch suspect" (two figures, as "5 feet 11 inches" is written out: feet, then inches).
_FEET_INCHES = re.compile(
    r"(?<![\w.,/’'‘°])(?P<ft>[1-9](?:′|[-‑](?:foot|feet|ft)))[-‑]?(?P<inch>\d{1,2}(?:″|\"|[-‑](?:inch|inches|in)\b)?)"
    r"(?![\w°′]|[.,]\d)"
)
# A number with "m" glued to it and no currency is metres, not millions, where a race, a size or a distance is
# meant: before an event, "to go" or a word of distance ("the 400m hurdles", "with 300m to go", "200m away", "50m
# deep"), or before a singular noun that is no deal of money ("the 30m vessel"); "3m people", "a 3m deal" stay
# millions.
_BARE_METRES = re.compile(r"(?<![\w$£€¥.,])(?P<num>\d{1,3}(?:\.\d+)?)m(?![\w’'])")
_METRES_AFTER = re.compile(
    r"\s+(?:to\s+go\b|(?:hurdles|freestyle|backstroke|breaststroke|butterfly|medley|relay|steeplechase|sprint|dash|"
    r"race|final|mark|run|swim|dive|platform|springboard|away|high|long|deep|wide|tall|above|below|beneath|"
    r"offshore|inland|upstream|downstream|underground|underwater|uphill|downhill)\b|from\s+the\s+(?:\w+\s+)?"
    r"(?:\w+\s+)?(?:station|stop|stand|beach|centre|center|airport|shore|coast|border|road|river|sea|summit|entrance|top|"
    r"bottom|edge|finish|start|line|hotel|house|site|church|square|park|port|harbour|harbor|village|town|city)\b)"
    r"|\s+(?P<noun>[a-z]+)\b"
)
_MONEY_NOUNS = _words(
    "deal budget fine contract fund loan bid investment package programme program grant bill debt loss profit "
    "salary transfer fee settlement scheme project plan payout bonus stake valuation sale takeover offer round "
    "revenue turnover price award prize windfall shortfall deficit surplus cut"
)
_COUNTED_NOUNS = _MONEY_NOUNS | _FUNCTION_WORDS | _words("people children men women staff personnel cattle")
# A time with "s" glued to a number with decimals: "in 49.28s" (a whole number with "s" is a decade or a plural).
_DECIMAL_SECONDS = re.compile(r"(?<![\w.,])(?P<num>\d{1,3}\.\d{1,3})s(?![\w’'])")
# City blocks as a distance: "two blocks from the station", "three blocks away" (not "two blocks of flats").
_BLOCKS_AWAY = re.compile(
    r"(?i)(?<![\w-])(?P<num>\d{1,2}|a|one|two|three|four|five|six|seven|eight|nine|ten|a\s+few|several)\s+"
    r"(?P<unit>blocks?)(?=\s+(?:from|away|south|north|east|west|down|up|over|past)\b)"
)
# Video resolutions written like pence ("1080p"), and the words that make such a number a price after all.
_VIDEO_LINES = frozenset({"144", "240", "360", "480", "540", "576", "720", "1080", "1440", "2160", "4320"})
_PRICE_TALK = re.compile(r"(?i)\b(?:shares?|stock|price[sd]?|pence|costs?|paid|pay|sold|buy|£)|£")
_STRONG = re.compile(rf"(?<![\w.,])(?P<num>{_DIGITS})[-‑]strong\b")

# A multiplier, alone or as a range: "three times", "tenfold", "2-to-1", "8 to 10 times", "two or three times".
_MULTIPLIER_AFTER = re.compile(
    r"^(?:\s+times\b|[-‑]?fold\b|[-‑]to[-‑]\d|\s+to\s+(?:one|1)\b"
    r"|(?:\s?[-–‑]\s?|\s+(?:to|or|and)\s+)[\w.,‑-]+(?:\s+times\b|[-‑]?fold\b))",
    re.IGNORECASE,
)
# A letter code ("R", "RM") glued to a name by a hyphen is part of a model name, not a currency: "YZF-R6".
_IN_CODE_BEFORE = re.compile(r"[A-Za-z0-9][-‑]$")


# "a five star hotel", "a 4-star review": a rating, not a number of stars.
_RATING_AFTER = re.compile(r"[-‑\s]star\s+[a-z]", re.IGNORECASE)
_AGO_AFTER = re.compile(
    rf"\s+(?:(?:{AGO_ADJECTIVES})\s+)?(?:years?|months?|weeks?|days?|hours?|minutes?)\s+ago\b", re.IGNORECASE
)
# "the previous one.", "a new one that": the pronoun after a determiner and an adjective.
_ONE_PRONOUN_AROUND = re.compile(
    r"\b(?:the|a|an|this|that|every|each|any|which|his|her|their|its|our|my|your)\s+(?:[a-z][\w-]*\s+){1,3}$"
    r"|\b(?:be|been|being|is|was|are|were|become|became|becomes|bought|got|made|picked|chose|chosen|found|took|"
    r"(?:buy|get|make|pick|choose|want|need|take|find|own|use)(?:s|es|ed|d|ing)?)\s+$"
)
# After the pronoun "one": the end of a clause, a word that opens another, or a verb ("a difficult one trudged").
_ONE_PRONOUN_END = re.compile(
    r"\s*(?:[.,;:!?)”\"]|$|\s+(?:of|that|who|which|where|whose|is|was|in|on|at|for|with|[a-z]+ed)\b)"
)
# A plural noun after a number: "2000 people", "1500 jobs" (a year-like number that counts).
_PLURAL_AFTER = re.compile(
    r"\s+(?!(?:was|is|has|as|this|its|his|thus|plus|always|perhaps|sometimes|ours|yours)\b)"
    rf"(?:[a-z]+s|{'|'.join(sorted(_PLURALS_WITHOUT_S))})\b"
)
_ONE_THE_OTHER = re.compile(r"^[^.;!?]{0,80}\b(?:the\s+other|the\s+next|another)\b", re.IGNORECASE)
_ONE_IDIOM_BEFORE = re.compile(r"(?i)\bby\s+$|\bat\s+$")
_SOMEDAY_BEFORE = re.compile(r"(?i)(?:\b(?:could|might|may|will|would|should|can|must|to|and|hope|hopes)\s+|^\s*)$")
# "100-plus", "40+": at least that many, approximate.
_PLUS_AFTER = re.compile(r"[-‑]?plus\b|\+(?![\d\w])", re.IGNORECASE)
# The numbers before this one in a list: "Sections 21, 24, and " (the first one decides whether they are names).
_NAME_NUMBER_LIST = re.compile(
    r"(?P<first>\b\d{1,4}(?:\.\d{1,2})?)(?P<rest>(?:,\s*\d{1,4}(?:\.\d{1,2})?)*,?\s*(?:,|and|or|&)\s*)$"
)
# The first end of a span of names: "from Python 2 to " (not "lifted the S&P 500 to ", which reaches a level).
_NAME_NUMBER_FROM = re.compile(r"\bfrom\s+(?:[\w&.’'-]+\s+){1,3}?(?P<first>\d{1,4}(?:\.\d{1,2})?)\s+to\s+$")
_NAME_NUMBER_TAIL = re.compile(r"([A-Za-z][\w&.’'-]*)\s+[“\"]?$")  # "Boeing 747", 'the number "2"'
# Words that open a sentence before a count without naming anything, beyond the function words (checked first):
# hedges and bounds ("Exactly 12", "Roughly 300", "Estimated 40"); any other capitalised word there names a thing
# with a number ("Route 66").
_SENTENCE_OPENERS = _words(
    "additional already barely circa estimated exactly fewer fully further maybe perhaps possibly precisely total "
    "upwards well north south east west"
)
_ONE_SKIP_AFTER = re.compile(
    r"^\s*(?:of\b|another\b|by\s+one\b|last\b|and\s+only\b|[’']s\b|hell(?:uva)?\b|heck\b|[-‑](?:on|off|time|way|stop|size|sided)\b|thing\b|way\b|or\s+another\b|"
    r"in\s+(?:ten|a\s+million)\b)",
    re.IGNORECASE,
)
_ONE_SKIP_BEFORE = re.compile(r"\b(?:no|any|every|the|this|that|which|each|some|someone|anyone|same|wherein)\s+$",
                              re.I)  # fmt: skip
# "how one goes about it", "if one looks": after a word that opens a clause, "one" before a verb in "-s" is the
# pronoun of anyone (a plural noun never follows "one"; nouns in "-ss", "-us", "-is" and "news" are singular).
_ONE_GENERIC_BEFORE = re.compile(r"(?i)\b(?:how|if|when|whenever|unless|whether|where|what|why|until|once)\s+$")
_ONE_GENERIC_AFTER = re.compile(r"\s+(?!(?:news|means|series|species|gas|lens|bus|yes|plus|works|its|his|this|thus)\b)"
                                r"[a-z]+(?<![sui])s\b")  # fmt: skip
# "one can", "the one he gave": the pronoun, no count.
_ONE_PRONOUN_AFTER = re.compile(
    r"\s+(?:can|could|would|should|must|might|may|will|cannot|can't|he|she|they|we|I|you|who|that|wishes|hopes|thinks|"
    r"feels|wonders|imagines|supposes|assumes|learns|knows)\b"
)
_NUMERIC_TOKEN = re.compile(r"\d")
_WORD_RE = re.compile(r"[a-z]+")

# Decades of a life in words: "in her twenties".
_DECADE_WORDS = {"twenties": 20, "thirties": 30, "forties": 40, "fifties": 50, "sixties": 60, "seventies": 70,
                 "eighties": 80, "nineties": 90}  # fmt: skip
# Words of a sentence about polls, in which a bare "point" is a percentage point.
_POLL_WORDS = _words("poll polls polling polled pollster pollsters survey surveys")
_POLL_POINTS = re.compile(r"(?<![\w.,])(?P<num>\d{1,2}(?:\.\d{1,2})?)(?:\s+|[-‑])points?\b")
# Word sets that gate the pattern families: a sentence without any of a family's words skips its patterns.
_NUMBER_WORDS = frozenset([*_UNITS_W, *_TENS_W, "hundred", "dozen", "thousand", "million", "billion", "trillion"])
_CURRENCY_SYMBOLS = "$£€¥₹₩₦₱₽₺₫฿₪₵"
_PREFIX_WORDS = frozenset({k for k in _PREFIX_CURRENCY if k.isalpha()} | {"rs", "us"})
_CURRENCY_WORDS = frozenset({w.split()[0] for w in _SUFFIX_CURRENCY} | {"dollar", "dollars"})
_SUBUNIT_WORDS = frozenset({"cent", "cents", "pence", "penny", "pennies", "p"})
_PERCENT_WORDS = frozenset({"per", "percent", "cent", "pct", "pc", "percentage", "basis", "bps", "bp", "pp", "ppt",
                            "ppts"})  # fmt: skip
_UNIT_FIRST_WORDS = frozenset(re.split(r"[\s/]", w)[0] for w in _UNIT_WORDS if w[0].isalpha()) - {"in"}
# Units that only count when glued to the number: "6in", "10C", "90F" (the words alone gate nothing).
_GLUED_UNIT = re.compile(r"\d(?:in|[CF])(?![\w’'])")
# A degree sign with its scale, as written after the number: "°C", "° Celsius", "℃", "° degrees Fahrenheit".
_DEGREE_SIGNS = {"°c": "degree_celsius", "°f": "degree_fahrenheit", "°celsius": "degree_celsius",
                 "°centigrade": "degree_celsius", "°fahrenheit": "degree_fahrenheit", "℃": "degree_celsius",
                 "℉": "degree_fahrenheit"}  # fmt: skip
# "10C" and "90F" are temperatures only where the text talks about temperature ("Form 10C" is not).
_TEMPERATURE_CUE = re.compile(
    r"(?i)\b(?:temperatures?|degrees?|heat|heatwave|hot|hotter|hottest|warm|warmer|warmest|warming|cold|colder|"
    r"coldest|cool|cooler|chilly|freezing|frost|highs?|lows?|overnight|weather|thermometer|mercury|climate)\b"
)
_A_UNITS = frozenset({"decade", "century", "year", "month", "week", "day", "hour"})
_FRACTION_WORDS = frozenset(_FRACTION_WORDS_MAP)
_DATE_WORDS = frozenset({*_MONTHS, *_RELATIVE_WORDS})
_GATE_WORDS = frozenset({*_NUMBER_WORDS, *_FRACTION_WORDS, *_ORDINALS, *_DATE_WORDS, *_A_UNITS, *_DECADE_WORDS,
                         *_LONG_WORDS, "a", "an"} - {
    "on", "this", "last", "next", "a", "an"})  # fmt: skip


def _scan(text: str) -> _Scan | None:
    """Return what a quick look at ``text`` finds, or None when it holds no digit and no word any rule starts from
    (no rule can match there, so the text costs one pass of a short pattern)."""
    words = frozenset(_WORD_RE.findall(text.lower()))
    digit = _NUMERIC_TOKEN.search(text) is not None
    if not digit and words.isdisjoint(_GATE_WORDS):
        return None
    numword = not words.isdisjoint(_NUMBER_WORDS)
    return _Scan(words, digit, numword, _RX_WORDS if numword else _RX_DIGITS)


def _money_cands(text: str, ctx: FigureContext, sc: _Scan) -> Iterable[_Cand]:
    prefix = not sc.words.isdisjoint(_PREFIX_WORDS) or any(ch in text for ch in _CURRENCY_SYMBOLS)
    for m in sc.rx.money_prefix.finditer(text) if prefix else ():
        sym = re.sub(r"\s", "", m.group("cur")).lower()
        if sym[0].isalpha() and _IN_CODE_BEFORE.search(text, max(0, m.start() - 12), m.start()):
            continue  # "YZF-R6", "GT-R35": a letter code glued to a name, no rand or ringgit
        source = CURRENCY_FROM_SYMBOL
        named = _DOLLAR_AFTER.match(text, m.end()) if sym == "$" else None
        if named is not None:
            code = _DOLLAR_NAMED_AFTER[(named.group("a") or named.group("b")).lower().rstrip(".")]
        elif sym == "$":
            code, source = ctx.dollar, ctx.dollar_source
        elif sym == "¥":
            code, source = ctx.yen, ctx.yen_source
        else:
            code = _PREFIX_CURRENCY.get(sym) or _PREFIX_CURRENCY.get(sym.rstrip(".")) or "USD"
            code = _local(code, ctx)
        num = m.group("num")
        value = parse_number(num)
        if value is None:
            continue
        yield _Cand(m.start(), m.end(), KIND_MONEY, _P_MONEY, value, unit=code, scale=_scale_of(num),
                    currency_source=source)  # fmt: skip
    for m in sc.rx.money_suffix.finditer(text) if not sc.words.isdisjoint(_CURRENCY_WORDS) else ():
        word = m.group("cur").lower()
        source = CURRENCY_FROM_SYMBOL
        if word.startswith("dollar"):
            adj = (m.group("adj") or "").lower()
            if adj:
                code = _DOLLAR_ADJECTIVES[adj]
            else:
                code, source = ctx.dollar, ctx.dollar_source
        elif word == "yen":
            code = "JPY"
        else:
            code = _local(_SUFFIX_CURRENCY[word], ctx)
        num = m.group("num")
        value = parse_number(num)
        if value is None or (word == "won" and not re.search(r"\d", num)):
            continue  # "won" after a number word is the verb ("two won")
        yield _Cand(m.start(), m.end(), KIND_MONEY, _P_MONEY, value, unit=code, scale=_scale_of(num),
                    currency_source=source)  # fmt: skip
    for m in sc.rx.money_pounds.finditer(text) if "pounds" in sc.words or "pound" in sc.words else ():
        value = parse_number(m.group("num"))
        if value is not None:
            yield _Cand(m.start(), m.end(), KIND_MONEY, _P_MONEY, value, unit="GBP", scale=_scale_of(m.group(0)),
                        currency_source=CURRENCY_FROM_SYMBOL)  # fmt: skip
    for m in sc.rx.money_subunit.finditer(text) if not sc.words.isdisjoint(_SUBUNIT_WORDS) else ():
        value = parse_number(m.group("num"))
        if value is None:
            continue
        sub = (m.group("sub") or m.group("p") or "").lower()
        if sub == "p" and m.group("num") in _VIDEO_LINES and not _PRICE_TALK.search(text):
            continue  # "streams in 480p": a video resolution, no pence
        source = CURRENCY_FROM_SYMBOL
        if sub.startswith("euro"):
            code = "EUR"
        elif sub in ("p", "pence", "penny", "pennies"):
            code = "GBP"
        else:
            code, source = ctx.dollar, ctx.dollar_source
            if ctx.currency and ctx.currency not in _DOLLAR_CURRENCIES and ctx.currency != "USD":
                code, source = ctx.currency, CURRENCY_FROM_OUTLET
        yield _Cand(m.start(), m.end(), KIND_MONEY, _P_MONEY, value / 100.0, unit=code, scale=0.01,
                    currency_source=source)  # fmt: skip


def _percent_cands(text: str, sc: _Scan) -> Iterable[_Cand]:
    if "%" not in text and sc.words.isdisjoint(_PERCENT_WORDS):
        return
    for m in sc.rx.percent.finditer(text):
        value = parse_number(m.group("num"))
        if value is None:
            continue
        signed = m.group("sign") in ("-", "−")
        if signed:
            before = text[max(0, m.start() - 80) : m.start()]
            if re.search(r"(?i)(?:%|per\s?cent|percent)\s?$", before) and m.group("sign") == "-":
                signed = False  # "2%-4%": the dash joins a range, it is no minus sign
            elif before and not before[-1].isspace() and before[-1] not in "(":
                continue
            else:
                value = -value
        unit_word = m.group("unit").lower()
        unit = UNIT_PERCENT
        if "basis" in unit_word or unit_word.strip(" -‑") in ("bps", "bp"):
            value, unit = value / 100.0, UNIT_POINT
        elif "point" in unit_word or unit_word.strip(" -‑") in ("pp", "ppt", "ppts"):
            unit = UNIT_POINT
        start = m.start() if signed else m.start("num")
        yield _Cand(start, m.end(), KIND_PERCENT, _P_PERCENT, value, unit=unit)


def _poll_point_cands(text: str, sc: _Scan) -> Iterable[_Cand]:
    """Yield the margins of a poll written in bare points ("leads by 5 points", "within 2 points"): in a sentence
    about polls a point is a percentage point (a game's or an index's points stay counts and quantities)."""
    if sc.words.isdisjoint(_POLL_WORDS) or not sc.words & {"point", "points"}:
        return
    for m in _POLL_POINTS.finditer(text):
        value = parse_number(m.group("num"))
        if value is not None:
            yield _Cand(m.start(), m.end(), KIND_PERCENT, _P_PERCENT, value, unit=UNIT_POINT)


def _quantity_cands(text: str, ctx: FigureContext, sc: _Scan) -> Iterable[_Cand]:
    for m in _INCH_DIMENSIONS.finditer(text) if '"' in text or "″" in text else ():
        for g in ("a", "b"):  # '25" x 22"': inches, the sign a double quote
            yield _Cand(m.start(g), m.end(g) + 1, KIND_QUANTITY, _P_QUANTITY + 1, float(m.group(g)), unit="inch")
    for m in _INCH_MARK.finditer(text) if "″" in text or "”" in text else ():
        if m.group("mark") == "”" and text.count("“", 0, m.start()) > text.count("”", 0, m.start()):
            continue  # the quote a “ opened closes here: "the “Top 10”" is no length
        value = parse_number(m.group("num"))
        if value is not None:
            yield _Cand(m.start(), m.end(), KIND_QUANTITY, _P_QUANTITY + 1, value, unit="inch")
    for m in _INCHES_IN_BRACKETS.finditer(text) if "in)" in text else ():
        yield _Cand(m.start(), m.end(), KIND_QUANTITY, _P_QUANTITY + 1, float(m.group("num")), unit="inch")
    for m in _FEET_INCHES.finditer(text) if "′" in text or not sc.words.isdisjoint(("foot", "feet", "ft")) else ():
        feet, inches = float(m.group("ft")[0]), float(re.sub(r"\D.*", "", m.group("inch")))
        if inches < 12:  # "6-foot-2": feet, then inches, as "6 feet 2 inches" is two figures
            yield _Cand(m.start("ft"), m.end("ft"), KIND_QUANTITY, _P_QUANTITY + 1, feet, unit="foot")
            yield _Cand(m.start("inch"), m.end("inch"), KIND_QUANTITY, _P_QUANTITY + 1, inches, unit="inch")
    for m in _FOOT_MARK.finditer(text) if "′" in text else ():
        yield _Cand(m.start(), m.end(), KIND_QUANTITY, _P_QUANTITY + 1, float(m.group("num")), unit="foot")
    for m in _BARE_METRES.finditer(text) if sc.digit else ():
        nxt = _METRES_AFTER.match(text, m.end())
        noun = nxt.group("noun") if nxt else None
        if nxt is None or (noun is not None and (noun.endswith("s") or noun in _COUNTED_NOUNS)):
            continue  # "3m people", "a 3m deal", "3m in funding": millions
        if re.search(r"\b[A-Z]{3}\s*$", text[max(0, m.start() - 5) : m.start()]):
            continue  # "USD 3m": money
        yield _Cand(m.start(), m.end(), KIND_QUANTITY, _P_QUANTITY, float(m.group("num")), unit="metre")
    for m in _DECIMAL_SECONDS.finditer(text) if sc.digit else ():
        yield _Cand(m.start(), m.end(), KIND_QUANTITY, _P_QUANTITY, float(m.group("num")), unit="second")
    for m in _BLOCKS_AWAY.finditer(text) if "blocks" in sc.words or "block" in sc.words else ():
        value = parse_number(m.group("num"))
        if value is not None:  # "two blocks from the station": a distance in city blocks
            yield _Cand(m.start("num"), m.end("unit"), KIND_QUANTITY, _P_QUANTITY, value, unit="block")
    units = (
        not sc.words.isdisjoint(_UNIT_FIRST_WORDS)
        or "°" in text
        or "º" in text
        or "℃" in text
        or "℉" in text
        or _GLUED_UNIT.search(text) is not None
    )
    for m in sc.rx.quantity.finditer(text) if units and (sc.digit or sc.numword) else ():
        num = m.group("num")
        half_at = _AND_A_HALF.search(num)
        half = half_at is not None
        if half_at is not None:
            num = num[: half_at.start()]
        value = parse_number(num)
        if value is None:
            continue
        value += 0.5 if half else 0.0
        if m.group("deg") is not None:
            d = re.sub(r"\s|degrees?", "", m.group("deg").lower()).replace("º", "°")
            unit = _DEGREE_SIGNS.get(d, "degree")
            if unit == "degree" and ctx.temperature and _TEMPERATURE_CUE.search(text):
                unit = ctx.temperature  # "lows of 5°" in a text that writes its temperatures in Celsius
        elif m.group("tl") is not None:
            if re.search(r"[A-Za-z]", num) or not _TEMPERATURE_CUE.search(text):
                continue
            unit = "degree_celsius" if m.group("tl") == "C" else "degree_fahrenheit"
        else:
            word = (m.group("unit") or m.group("unit2") or m.group("unit3") or "").lower()
            if m.group("unit2") in ("G", "T"):
                continue  # "5G", "3T": a network generation or a name, not grams or tonnes
            if m.group("unit2") is not None and re.search(r"[A-Za-z]", num):
                continue  # "ten-in", "fifty-in": a number word glued to letters
            unit = _UNIT_WORDS.get(re.sub(r"[\s‑-]+", " ", word), "")
            if not unit:
                continue
            written = m.group("unit") or ""
            spaced = text[m.end("num") : m.start("unit")].isspace()
            named = spaced and written[:1].isupper() and written[1:2].islower() and not unit.startswith("degree")
            if named and _mid_sentence(text, m.start("unit")):
                continue  # "the 2014 Cup", "24 Hours of Le Mans": a unit word capitalised in running text is a name
            if word == "pounds" and re.match(r"\s+(?:sterling)\b", text[m.end() :]):
                continue
            if word == "second" and "-" in (m.group("sep") or "") and re.search(r"[A-Za-z]", num):
                continue  # "twenty-second" is a rank; "30-second" a length of time
            if unit == "day" and num.lower() == "one" and _SOMEDAY_BEFORE.search(text, 0, m.start()):
                continue  # "could one day be used": someday, no length of time
            if unit in _TIME_UNITS and re.match(r"\s+ago\b", text[m.end() :], re.I):
                continue  # "three decades ago" points back in time (a date where it can be one), no length
            if unit == "tonne" and word.startswith("ton") and ctx.country == "US":
                unit = "ton"  # a US outlet's "tons" are short tons (907 kg); "metric tons" stay tonnes
            if unit == "degree" and ctx.temperature and "-" not in m.group(0) and _TEMPERATURE_CUE.search(text):
                unit = ctx.temperature  # "highs of 14 degrees" where the text writes "degrees Celsius" elsewhere
        if m.group("sign"):
            before = text[max(0, m.start() - 80) : m.start()]
            if before and not before[-1].isspace() and before[-1] not in "(/":
                continue  # "20°F/-7°C": the second reading after a slash keeps its sign
            value = -value
        elif m.group("minus"):
            value = -value  # "minus 40 degrees Celsius"
        start = m.start()
        # "over a four-day week": a hyphenated duration adjective, "12-month basis"; keep span as written.
        yield _Cand(start, m.end(), KIND_QUANTITY, _P_QUANTITY, value, unit=unit, scale=_scale_of(num),
                    approximate=m.group("plus") is not None)  # fmt: skip
    for m in _A_QUANTITY.finditer(text) if not sc.words.isdisjoint(_A_UNITS) else ():
        before = text[max(0, m.start() - 80) : m.start()].rstrip().lower()
        after = text[m.end() :].lower()
        unit_word = m.group("unit").lower()
        if re.match(r"\s+(?:ago|(?:earlier|later)(?!\s+than)|before|after|or\s+two|or\s+so)\b", after):
            continue  # "a year ago" is a date; "a year earlier than planned" stays a length of time
        if re.match(r"[-‑]", after):
            continue
        if unit_word not in ("decade", "century") and not re.search(
            r"\b(?:within|over|for|in|after|than|nearly|almost|about|around|under|past|last|least|than|take|up\s+to|"
            r"takes|took|spent|spend|lasted|lasts|last)$",
            before,
        ):
            continue
        if re.search(r"(?:\d|times|once|twice|\$\S*)$", before):
            continue
        unit = "century" if "half" in unit_word else unit_word
        value = 0.5 if "half" in unit_word else 1.0
        yield _Cand(m.start(), m.end(), KIND_QUANTITY, _P_QUANTITY, value, unit=unit)
    for m in _UNIT_LONG.finditer(text) if not sc.words.isdisjoint(_LONG_WORDS) or "long" in sc.words else ():
        yield _Cand(m.start(), m.end(), KIND_QUANTITY, _P_QUANTITY, 1.0, unit=m.group("unit").lower())
    for m in _HALF_UNIT.finditer(text) if "half" in sc.words else ():
        if m.group(0)[0].isupper() and _mid_sentence(text, m.start()):
            continue  # "the Half Day Sale": a name
        yield _Cand(m.start(), m.end(), KIND_QUANTITY, _P_QUANTITY, 0.5, unit=m.group("unit").lower())
    for m in _UNIT_AND_A_HALF.finditer(text) if "half" in sc.words else ():
        if not re.match(r"\s+(?:ago|earlier|later)\b", text[m.end() :]):
            yield _Cand(m.start(), m.end(), KIND_QUANTITY, _P_QUANTITY, 1.5, unit=m.group("unit").lower())
    for m in sc.rx.age_adj.finditer(text) if "old" in sc.words else ():
        value = parse_number(m.group("num"))
        if value is not None:
            yield _Cand(m.start(), m.end(), KIND_QUANTITY, _P_QUANTITY + 1, value, unit=m.group("unit").lower())


# What follows "in half" when it means "halved" rather than "in half the time": an end, an adverb, a preposition.
_NO_NOUN_AFTER_HALF = re.compile(
    r"\s*(?:[.,;:!?)]|$|[a-z]+(?:ly|wise)\b|(?:by|on|at|for|with|after|since|last|this|over|to|and|or|but|when|as|again|"
    r"because|so|from|before|during|while|if)\b)"
)


def _fraction_cands(text: str, sc: _Scan) -> Iterable[_Cand]:
    if sc.words.isdisjoint(_FRACTION_WORDS) and ("in" not in sc.words and "out" not in sc.words):
        return
    for m in _FRACTION.finditer(text):
        before = text[max(0, m.start() - 80) : m.start()]
        after = text[m.end() :]
        if m.group("half"):
            if re.search(r"(?i)\b(?:first|second|1st|2nd|and\s+a|behalf|one|a)\s*$", before) or re.match(
                r"[-‑]|\s+(?:an?\s+hour|time|year|century|decade|dozen|a\s+dozen)", after
            ):
                continue
            if re.search(r"(?i)\b(?:in|into)\s*$", before) and _NO_NOUN_AFTER_HALF.match(after):
                continue  # "cut the mushrooms in half", "was cut in half last year": halved, a multiplicative
            yield _Cand(m.start(), m.end(), KIND_FRACTION, _P_FRACTION, 0.5)
            continue
        if m.group("x"):
            x, y = parse_number(m.group("x")), parse_number(m.group("y"))
            if x is None or not y or x >= y:
                continue
            yield _Cand(m.start(), m.end(), KIND_FRACTION, _P_FRACTION, x / y)
            continue
        num_word = (m.group("num") or "").lower()
        den_word = m.group("den").lower()
        num = 1.0 if num_word in ("a", "an", "one") else parse_number(num_word)
        if num is None:
            continue
        if den_word.startswith(("quarter", "fourth")) and (
            re.match(r"\s+(?:of\s+(?:the\s+)?(?:year|\d)|results|earnings|profit|sales|revenue)", after)
            or (num_word in ("a", "an") and re.search(r"(?i)\b(?:in|during|for|per)\s*$", before))
        ):
            continue
        if den_word in ("second", "fourth") or (num_word in ("a", "an") and den_word.endswith("s")):
            continue
        if den_word == "half" and re.search(r"(?i)\band\s+$", before):
            continue  # "a year and a half later": the half of an amount, never a share on its own
        if num_word in ("a", "an") and not den_word.startswith(("half", "quarter")) and _RANKED_NOUN_AFTER.match(after):
            continue  # "a third child", "a fifth term": a rank (the ordinal rule reads it)
        if num_word in ("a", "an") and _VERB_AFTER.match(after) and _ENUMERATION_BEFORE.search(text, 0, m.start()):
            continue  # "one is ..., another ..., and a third is ...": the third of a list, a rank
        if num > 1 and not den_word.endswith("s") and den_word not in ("half",):
            continue
        yield _Cand(m.start(), m.end(), KIND_FRACTION, _P_FRACTION, num / _FRACTION_WORDS_MAP[den_word])


def _mid_sentence(text: str, start: int) -> bool:
    """Return True when ``start`` is inside a sentence of ordinary case (not its first word, not a headline)."""
    before = text[:start].rstrip()
    if not before or before[-1] in ".!?:\"“‘'(" or text.isupper():
        return False
    words = re.findall(r"[A-Za-z][\w’'-]*", text)
    capitalised = sum(1 for w in words if w[0].isupper() or w.lower() in _FUNCTION_WORDS)
    return capitalised < 0.8 * len(words) or len(words) < 4


def _count_cands(text: str, sc: _Scan) -> Iterable[_Cand]:
    for m in _SCALED_RANGE_END.finditer(text) if sc.numword else ():
        value = parse_number(m.group("num"))
        if value is not None:  # "20-25 million": the scaled end of a range (the first number is scaled later)
            yield _Cand(m.start("num"), m.end("num"), KIND_COUNT, _P_COUNT, value, scale=_scale_of(m.group("num")))
    for m in _PARENT_OF.finditer(text) if "of" in sc.words else ():
        value = parse_number(m.group("num"))
        if value is not None:  # "father-of-three": a count of children
            yield _Cand(m.start("num"), m.end("num"), KIND_COUNT, _P_COUNT + 1, value, scale=None)
    for m in _STRONG.finditer(text) if "strong" in sc.words else ():
        value = parse_number(m.group("num"))
        if value is not None:
            yield _Cand(m.start("num"), m.end("num"), KIND_COUNT, _P_COUNT + 1, value, scale=None)
    for m in sc.rx.count.finditer(text):
        num = m.group("num")
        value = parse_number(num)
        if value is None:
            continue
        before = text[max(0, m.start() - 80) : m.start()]
        after = text[m.end() :]
        low = num.lower()
        if low == "one" and (
            _ONE_SKIP_AFTER.match(after)
            or _ONE_SKIP_BEFORE.search(before)
            or _ONE_PRONOUN_AFTER.match(after)
            or (_ONE_GENERIC_BEFORE.search(before) and _ONE_GENERIC_AFTER.match(after))
            or (before.endswith(("to ", "To ")) and after.startswith(" side"))  # "set to one side": put aside
            or (_ONE_PRONOUN_AROUND.search(before) and _ONE_PRONOUN_END.match(after))
        ):
            continue
        if _MULTIPLIER_AFTER.match(after):
            continue
        if "/" in num and not re.search(r"[-‑]", num):
            # "9/11", "24/7": a bare slash pair without a unit is a name or a date, not a count; "1/3 of" a share
            if value < 1 and re.match(r"\s+of\b", after):
                yield _Cand(m.start(), m.end(), KIND_FRACTION, _P_FRACTION, value)
            continue
        if low == "zero" and (
            re.search(r"(?i)\b(?:net|ground)\s+$", before)
            or re.match(r"[-‑\s]+(?:sum|tolerance|hour|covid)", after, re.I)
        ):
            continue
        if re.match(r"[a-zA-Z]", num) and num[0].isupper() and before.strip() and not re.search(r"[.!?:\"“•*–—(-]\s*$",
                                                                                               before):  # fmt: skip
            continue  # a capitalised number word mid-sentence is a name ("Formula One", "Apollo Eleven")
        if re.match(r"\d", num) and _in_name(before, num) and not re.match(r"[ \t]+[-+]?\d", after):
            continue  # "Boeing 747", "Route 66"; not a row label before its numbers ("Arsenal 38 26 6 6")
        if re.fullmatch(r"(?:1[89]|20)\d\d", num) and not _PLURAL_AFTER.match(after):
            continue  # a year that is no date here ("Budget 2024") is no count either
        if low == "one" and (
            _ONE_THE_OTHER.match(after)
            or _ONE_IDIOM_BEFORE.search(before)
            or (re.match(r"\s+day\b", after) and _SOMEDAY_BEFORE.search(before))
        ):
            continue  # "one ... the other", "by one measure": no count
        if _RATING_AFTER.match(after) or _AGO_AFTER.match(after):
            continue  # a rating; "3 weeks ago" is a date (with a publication date to count from), no count
        scale = _scale_of(num) if re.search(r"\d", num) else None
        yield _Cand(m.start(), m.end(), KIND_COUNT, _P_COUNT, value, scale=scale,
                    approximate=_PLUS_AFTER.match(after) is not None)  # fmt: skip


def _in_name(before: str, num: str) -> bool:
    """Return True when a bare number directly follows a capitalised name word ("FTSE 100", "Boeing 747") or
    continues a list of such numbers ("Sections 21, 24 and 26")."""
    listed = _NAME_NUMBER_LIST.search(before) or _NAME_NUMBER_FROM.search(before)
    if listed is not None and _in_name(before[: listed.start("first")], listed.group("first")):
        return True
    m = _NAME_NUMBER_TAIL.search(before)
    if m is None:
        return False
    word = m.group(1)
    if word[0].islower() and any(ch.isupper() for ch in word[1:]):
        return True  # a brand written in camel case: "iPhone 15", "eBay 2"
    if word.lower() in ("no.", "nos.", "#", "number") or word == "No":
        return True  # "No. 2", "Number 10"
    if not word[0].isupper() or word.lower().rstrip(".") in _FUNCTION_WORDS:
        return False
    if re.search(r"[’']s$", word):
        return False  # a possessive owns the number: "Kenya’s 50 million people"
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?", num):
        return False  # names carry model or series numbers, not amounts with thousands separators ("Spain 98,400")
    if word.rstrip(".").lower() in _MONTHS:
        return False
    # a capitalised word at the very start of a sentence is a name when no hedge or bound starts with it ("Formula
    # 1 returns", "Section 230 shields"; not "Some 40 pupils", "Roughly 300", "Exactly 12")
    rest = before[: m.start()]
    starts = not rest.strip() or re.search(r"[.!?]\s*[\"“]?\s*$", rest) is not None
    return not starts or word.isupper() or word.lower() not in _SENTENCE_OPENERS
