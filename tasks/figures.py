"""Figures: numbers in English news text turned into typed, scaled, qualified data.

Two passes keep this cheap enough to run on every article:

1. :func:`find_figures` scans the text with rules (no model): it finds money, percent and percentage points,
   quantities with a unit, counts, dates, ordinals and fractions; scales them ("US$6.6 billion" is 6.6e9);
   resolves currencies (ISO 4217) and dates (ISO 8601 at the precision written); and reads the hedge or bound
   word in front ("around", "more than", "up to") and whether the figure is a change or a level.
2. :func:`attach_objects` takes a dependency parse of ONLY the sentences that hold a figure and fills in
   ``object`` (what is measured, as written: "German goods") and ``object_entity``.

:func:`extract_figures` runs both on any text (a sentence or a whole article). The annotation conventions
(what is and is not a mention, spans, units) are those of the project's figures development set: numbers inside
names ("G20", "FTSE 100"), clock times, scores and vote tallies, and multipliers ("three times") are not figures.
"""

from __future__ import annotations

import calendar
import itertools
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from tasks.records import Figure

if TYPE_CHECKING:
    from spacy.tokens import Doc, Span, Token

KIND_MONEY = "money"
KIND_PERCENT = "percent"
KIND_QUANTITY = "quantity"
KIND_COUNT = "count"
KIND_DATE = "date"
KIND_ORDINAL = "ordinal"
KIND_FRACTION = "fraction"

UNIT_PERCENT = "percent"
UNIT_POINT = "percentage_point"

BOUND_EXACT = "exact"
BOUND_LOWER = "lower"
BOUND_UPPER = "upper"
ROLE_LEVEL = "level"
ROLE_CHANGE = "change"

# Kinds whose ``object`` is looked for in the parse; dates never have one.
OBJECT_KINDS = frozenset({KIND_MONEY, KIND_PERCENT, KIND_QUANTITY, KIND_COUNT, KIND_ORDINAL, KIND_FRACTION})
# Kinds that carry a role (level or change).
ROLE_KINDS = frozenset({KIND_MONEY, KIND_PERCENT, KIND_QUANTITY, KIND_COUNT, KIND_FRACTION})


@dataclass(frozen=True, slots=True)
class FigureContext:
    """What the figures pass knows about the document a text comes from.

    ``published_at`` anchors relative dates and gives month-only dates their year; ``currency`` and ``country``
    are the source's hints (ISO 4217 / ISO 3166 alpha-2). ``dollar``/``yen`` are the currencies a bare "$"/"¥"
    stands for in this document and whether that choice is still a guess; build them with :func:`make_context`.
    """

    published_at: datetime | date | None = None
    currency: str | None = None
    country: str | None = None
    dollar: str = "USD"
    dollar_ambiguous: bool = True
    yen: str = "JPY"
    yen_ambiguous: bool = True


# ---------------------------------------------------------------------------------------------------------------
# Currencies
# ---------------------------------------------------------------------------------------------------------------

# Where the dollar sign means a local dollar. Outlets elsewhere that write "$" mean the US dollar.
_DOLLAR_COUNTRIES = {
    "US": "USD", "CA": "CAD", "AU": "AUD", "NZ": "NZD", "SG": "SGD", "HK": "HKD", "TW": "TWD", "JM": "JMD",
    "BS": "BSD", "BB": "BBD", "TT": "TTD", "FJ": "FJD", "LR": "LRD", "NA": "NAD", "ZW": "USD", "EC": "USD",
    "SV": "USD", "PA": "USD", "PR": "USD", "MX": "MXN", "CL": "CLP", "CO": "COP", "AR": "ARS",
}  # fmt: skip
_DOLLAR_CURRENCIES = frozenset(_DOLLAR_COUNTRIES.values())

# Symbols and codes written before the amount. Longest first so "US$" wins over "$".
_PREFIX_CURRENCY = {
    "us$": "USD", "us $": "USD", "u.s.$": "USD", "u.s. $": "USD", "usd": "USD", "c$": "CAD", "ca$": "CAD",
    "can$": "CAD", "cad": "CAD", "a$": "AUD", "au$": "AUD", "aud": "AUD", "nz$": "NZD", "nzd": "NZD",
    "s$": "SGD", "sg$": "SGD", "sgd": "SGD", "hk$": "HKD", "hkd": "HKD", "nt$": "TWD", "r$": "BRL",
    "mx$": "MXN", "£": "GBP", "gbp": "GBP", "€": "EUR", "eur": "EUR", "₹": "INR", "rs": "INR", "rs.": "INR",
    "inr": "INR", "rm": "MYR", "myr": "MYR", "r": "ZAR", "zar": "ZAR", "rp": "IDR", "idr": "IDR", "₩": "KRW",
    "krw": "KRW", "₦": "NGN", "ngn": "NGN", "₱": "PHP", "php": "PHP", "₽": "RUB", "rub": "RUB", "₺": "TRY",
    "chf": "CHF", "sfr": "CHF", "jpy": "JPY", "cny": "CNY", "rmb": "CNY", "ksh": "KES", "kes": "KES",
    "tsh": "TZS", "tzs": "TZS", "ush": "UGX", "ugx": "UGX", "aed": "AED", "sar": "SAR", "egp": "EGP",
    "pkr": "PKR", "thb": "THB", "vnd": "VND", "sek": "SEK", "nok": "NOK", "dkk": "DKK", "pln": "PLN",
    "brl": "BRL", "mxn": "MXN", "₫": "VND", "฿": "THB", "₪": "ILS", "ils": "ILS", "ghs": "GHS", "gh₵": "GHS",
    "n$": "NAD", "j$": "JMD", "tt$": "TTD", "b$": "BSD", "bds$": "BBD", "bz$": "BZD", "ec$": "XCD", "z$": "ZWL",
    "fj$": "FJD", "g$": "GYD", "l$": "LRD",
}  # fmt: skip

# Currency words written after the amount (see _LOCAL_VARIANTS for words several countries use).
_SUFFIX_CURRENCY: dict[str, str] = {
    "euro": "EUR", "euros": "EUR", "yen": "JPY", "yuan": "CNY", "renminbi": "CNY", "rupee": "INR",
    "rupees": "INR", "rupiah": "IDR", "won": "KRW", "ringgit": "MYR", "rand": "ZAR", "naira": "NGN",
    "baht": "THB", "dong": "VND", "zloty": "PLN", "zlotys": "PLN", "lira": "TRY", "liras": "TRY",
    "rouble": "RUB", "roubles": "RUB", "ruble": "RUB", "rubles": "RUB", "franc": "CHF", "francs": "CHF",
    "real": "BRL", "reais": "BRL", "peso": "MXN", "pesos": "MXN", "shilling": "KES", "shillings": "KES",
    "dirham": "AED", "dirhams": "AED", "riyal": "SAR", "riyals": "SAR", "krona": "SEK", "kronor": "SEK",
    "krone": "NOK", "kroner": "NOK", "cedi": "GHS", "cedis": "GHS", "kwacha": "ZMW", "hryvnia": "UAH",
    "hryvnias": "UAH", "taka": "BDT", "shekel": "ILS", "shekels": "ILS", "pound sterling": "GBP",
    "pounds sterling": "GBP", "sterling": "GBP", "bitcoin": "XBT", "bitcoins": "XBT",
}  # fmt: skip
# The same word names different currencies in different countries.
_LOCAL_VARIANTS = {
    "INR": {"PK": "PKR", "LK": "LKR", "NP": "NPR", "MU": "MUR"},
    "MXN": {"PH": "PHP", "AR": "ARS", "CO": "COP", "CL": "CLP", "UY": "UYU", "DO": "DOP", "CU": "CUP"},
    "KES": {"TZ": "TZS", "UG": "UGX", "SO": "SOS"},
    "AED": {"MA": "MAD"},
    "SAR": {"QA": "QAR", "IR": "IRR", "OM": "OMR", "YE": "YER"},
    "NOK": {"DK": "DKK"},
    "CHF": {"CD": "CDF", "RW": "RWF", "XO": "XOF"},
    "TRY": {},
}
# "Canadian dollars", "US dollars", "Hong Kong dollars".
_DOLLAR_ADJECTIVES = {
    "us": "USD", "u.s.": "USD", "american": "USD", "canadian": "CAD", "australian": "AUD", "singapore": "SGD",
    "hong kong": "HKD", "new zealand": "NZD", "taiwan": "TWD", "taiwanese": "TWD", "jamaican": "JMD",
    "namibian": "NAD", "zimbabwean": "ZWL", "fijian": "FJD",
}  # fmt: skip


# The kind of dollar named right after an amount: "$670-billion (U.S.)", "$254-billion Canadian)".
_DOLLAR_AFTER = re.compile(
    r"\s*(?:\(\s*(?P<a>U\.S\.|US|USD|American|Canadian|Cdn\.?|CAD|Australian|AUD)\s*\)"
    r"|(?P<b>U\.S\.|US|American|Canadian|Cdn\.?|Australian)(?=\s*[),;]))"
)
_DOLLAR_NAMED_AFTER = {"u.s": "USD", "us": "USD", "usd": "USD", "american": "USD", "canadian": "CAD", "cdn": "CAD",
                       "cad": "CAD", "australian": "AUD", "aud": "AUD"}  # fmt: skip


def make_context(
    text: str = "",
    *,
    published_at: datetime | date | None = None,
    currency: str | None = None,
    country: str | None = None,
) -> FigureContext:
    """Return the :class:`FigureContext` for a document: decide what a bare "$" and "¥" stand for.

    Order: the source's currency hint when it is a dollar (yen/yuan) currency; the source's country; an explicit
    kind of dollar written in the text ("C$", "Canadian dollars"); else US dollar (or yen), flagged ambiguous
    unless the source's country is known (outlets outside dollar countries writing "$" mean the US dollar).
    """
    cur = (currency or "").upper() or None
    ctry = (country or "").upper() or None
    dollar, dollar_amb = "USD", True
    if cur in _DOLLAR_CURRENCIES:
        dollar, dollar_amb = cur or "USD", False
    elif ctry in _DOLLAR_COUNTRIES:
        dollar, dollar_amb = _DOLLAR_COUNTRIES[ctry or ""], False
    else:
        written = _written_dollar(text)
        if written is not None:
            dollar, dollar_amb = written, False
        elif ctry is not None or cur is not None:
            dollar_amb = False
    yen, yen_amb = "JPY", True
    if cur in ("JPY", "CNY"):
        yen, yen_amb = cur or "JPY", False
    elif ctry in ("JP", "CN"):
        yen, yen_amb = ("JPY" if ctry == "JP" else "CNY"), False
    elif re.search(r"\b(?:yuan|renminbi|RMB)\b", text):
        yen, yen_amb = "CNY", False
    elif re.search(r"\byen\b", text):
        yen, yen_amb = "JPY", False
    return FigureContext(published_at, cur, ctry, dollar, dollar_amb, yen, yen_amb)


_WRITTEN_DOLLAR = re.compile(
    r"\b(?:(C|CA|CAN|A|AU|NZ|S|SG|HK|NT)\$|"
    r"(Canadian|Australian|Singapore|Hong Kong|New Zealand|Taiwan(?:ese)?|Jamaican|Namibian|Fijian)"
    r" dollars?)"
)


def _written_dollar(text: str) -> str | None:
    """Return the one non-US dollar the text names explicitly, if it names exactly one kind."""
    found: set[str] = set()
    for m in _WRITTEN_DOLLAR.finditer(text):
        if m.group(1):
            found.add(_PREFIX_CURRENCY[m.group(1).lower() + "$"])
        else:
            found.add(_DOLLAR_ADJECTIVES[m.group(2).lower()])
    return found.pop() if len(found) == 1 else None


def _local(code: str, ctx: FigureContext) -> str:
    """Return the local variant of a currency word's default code for the source's country."""
    if ctx.currency is not None and code in _LOCAL_VARIANTS and ctx.currency in _LOCAL_VARIANTS[code].values():
        return ctx.currency
    return _LOCAL_VARIANTS.get(code, {}).get(ctx.country or "", code)


# ---------------------------------------------------------------------------------------------------------------
# Numbers
# ---------------------------------------------------------------------------------------------------------------


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_UNITS_W = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
_TENS_W = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
           "ninety": 90}  # fmt: skip
_SCALES = {
    "hundred": 1e2, "thousand": 1e3, "k": 1e3, "million": 1e6, "mn": 1e6, "mln": 1e6, "m": 1e6,
    "billion": 1e9, "bn": 1e9, "b": 1e9, "bln": 1e9, "trillion": 1e12, "tn": 1e12, "trn": 1e12, "tr": 1e12,
    "lakh": 1e5, "lakhs": 1e5, "crore": 1e7, "crores": 1e7, "dozen": 12.0,
}  # fmt: skip
_ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
    "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13, "fourteenth": 14,
    "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18, "nineteenth": 19, "twentieth": 20,
    "thirtieth": 30, "fortieth": 40, "fiftieth": 50, "hundredth": 100, "thousandth": 1000,
}  # fmt: skip
_FRACTION_WORDS_MAP = {
    "half": 2, "halves": 2, "third": 3, "thirds": 3, "quarter": 4, "quarters": 4, "fourth": 4, "fourths": 4,
    "fifth": 5, "fifths": 5, "sixth": 6, "sixths": 6, "eighth": 8, "eighths": 8, "tenth": 10, "tenths": 10,
}  # fmt: skip

_W_UNIT = "|".join(sorted(_UNITS_W, key=len, reverse=True))
_W_TENS = "|".join(_TENS_W)
_W_DIGIT = "one|two|three|four|five|six|seven|eight|nine"
_W_SMALL = rf"(?:(?:{_W_TENS})(?:[-‑ ](?:{_W_DIGIT}))?|{_W_UNIT})"
# "two hundred and fifty", "a hundred", "forty-five", "a dozen".
WORD_NUMBER = (
    rf"(?:(?:{_W_SMALL}|a)\s+hundred(?:\s+(?:and\s+)?{_W_SMALL})?|{_W_SMALL}|a\s+dozen|a\s+thousand|a\s+million"
    rf"|a\s+billion|a\s+trillion|(?:a\s+)?half\s+a(?=\s+(?:million|billion|trillion)))"
)
# The first number of a range written in words: "three or four days".
_WORD_SMALL = (
    r"(?i:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|one|two|three|four|five|six|seven|eight|nine|ten"
    r"|eleven|twelve|fifteen)"
)
_DIGITS = r"(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
# FOMC style mixed fractions "3-1/2", "1‑1/2" and plain "1/4" (not dates such as 11/23/2025).
_MIXED = r"(?:\d{1,3}[-‑]\d{1,2}/\d{1,2}(?![/\d])|(?<![/\d])\d{1,2}/\d{1,2}(?![/\d]))"
# Scale words: spaced ("6.6 billion", "$100-million") or attached ("$77million", "60m", "£3.5bn", "$2B").
_SCALE_WORD = r"(?:thousand|million|billion|trillion|bn|mn|mln|bln|tn|trn|crores?|lakhs?)"
_SCALE_ATTACHED = r"(?:thousand|million|billion|trillion|bn|mn|mln|bln|tn|trn|m|b|k|crores?|lakhs?)"


def parse_number(text: str) -> float | None:
    """Return the value of a written number ("1,200", "3-1/2", "forty-five", "a dozen", "6.6 billion"), or None
    when ``text`` is not one or its value is not a finite float."""
    s = text.strip().lower().replace("‑", "-").replace("−", "-").replace(",", "")
    scale = 1.0
    while True:
        m = re.search(r"(?:[\s-]*|(?<=\d))(thousand|million|billion|trillion|bn|mn|mln|bln|tn|trn|m|b|k|"
                      r"crores?|lakhs?|dozen)$", s)  # fmt: skip
        if m is None or (m.start() == 0 and not s[: m.start()]):
            break
        head = s[: m.start()].strip()
        if not head:
            break
        scale *= _SCALES[m.group(1)]
        s = head
    value = _parse_plain(s)
    if value is None:
        return None
    # A run of 400 nines, "1e999" or "nan" reads as no finite number: it is no figure, and dates are not computed
    # from it ("10000000000 days ago").
    return _finite(value * scale)


def _finite(value: float) -> float | None:
    """Return ``value``, or None when it is infinite or NaN (a 300-digit number scaled by "billion")."""
    return value if math.isfinite(value) else None


def _parse_plain(s: str) -> float | None:
    s = s.strip()
    if not s:
        return None
    m = re.fullmatch(r"(-?\d+)-(\d+)/(\d+)", s)
    if m:
        if not float(m.group(3)):
            return None  # "3-1/0" is no mixed fraction
        whole = float(m.group(1))
        return whole + (1 if whole >= 0 else -1) * float(m.group(2)) / float(m.group(3))
    m = re.fullmatch(r"(\d+)/(\d+)", s)
    if m:
        return float(m.group(1)) / float(m.group(2)) if float(m.group(2)) else None
    try:
        return float(s)
    except ValueError:
        pass
    return _parse_words(s)


def _parse_words(s: str) -> float | None:
    words = [w for w in re.split(r"[\s-]+", s) if w and w != "and"]
    if not words:
        return None
    total, current = 0.0, 0.0
    for w in words:
        if w == "a":
            current = current or 1.0
        elif w in _UNITS_W:
            current += _UNITS_W[w]
        elif w in _TENS_W:
            current += _TENS_W[w]
        elif w == "half":
            current = (current or 1.0) * 0.5
        elif w == "hundred":
            current = (current or 1.0) * 100
        elif w == "dozen":
            current = (current or 1.0) * 12
        elif w in ("thousand", "million", "billion", "trillion"):
            total += (current or 1.0) * _SCALES[w]
            current = 0.0
        else:
            return None
    return total + current


def _scale_of(text: str) -> float | None:
    m = re.search(r"(?i)(thousand|million|billion|trillion|bn|mn|mln|bln|tn|trn|crores?|lakhs?)\b", text)
    if m:
        return _SCALES[m.group(1).lower()]
    m = re.search(r"\d([mbk])(?![a-z])", text, re.IGNORECASE)
    return _SCALES[m.group(1).lower()] if m else None


# ---------------------------------------------------------------------------------------------------------------
# Units of measure
# ---------------------------------------------------------------------------------------------------------------

_UNIT_WORDS: dict[str, str] = {}


def _units(name: str, *words: str) -> None:
    for w in words:
        _UNIT_WORDS[w] = name


_units("second", "second", "seconds", "sec", "secs")
_units("minute", "minute", "minutes", "min", "mins")
_units("hour", "hour", "hours", "hr", "hrs")
_units("day", "day", "days")
_units("night", "night", "nights")
_units("week", "week", "weeks")
_units("month", "month", "months")
_units("year", "year", "years", "yr", "yrs")
_units("decade", "decade", "decades")
_units("century", "century", "centuries")
_units("kilometre", "km", "kms", "kilometre", "kilometres", "kilometer", "kilometers")
_units("metre", "metre", "metres", "meter", "meters")
_units("centimetre", "cm", "centimetre", "centimetres", "centimeter", "centimeters")
_units("millimetre", "mm", "millimetre", "millimetres", "millimeter", "millimeters")
_units("mile", "mile", "miles")
_units("nautical_mile", "nautical mile", "nautical miles")
_units("square_nautical_mile", "square nautical miles", "square nautical mile")
_units("knot", "knot", "knots")
_units("foot", "foot", "feet", "ft")
_units("inch", "inch", "inches", "in")
_units("yard", "yard", "yards")
_units("acre", "acre", "acres")
_units("hectare", "hectare", "hectares", "ha")
_units("square_kilometre", "square kilometres", "square kilometers", "square kilometre", "square kilometer",
       "sq km", "km2", "km²")  # fmt: skip
_units("square_mile", "square miles", "square mile", "sq mi")
_units("square_metre", "square metres", "square meters", "square metre", "square meter", "sq m", "m2", "m²")
_units("square_foot", "square feet", "square foot", "sq ft")
_units("tonne", "tonne", "tonnes", "metric ton", "metric tons", "ton", "tons", "t")
_units("kilogram", "kg", "kgs", "kilogram", "kilograms", "kilo", "kilos")
_units("gram", "gram", "grams", "g")
_units("milligram", "mg", "milligram", "milligrams")
_units("pound", "pound", "pounds", "lb", "lbs")
_units("ounce", "ounce", "ounces", "oz")
_units("barrel_per_day", "barrels per day", "barrels a day", "barrels of oil per day", "bpd", "b/d")
_units("barrel", "barrel", "barrels")
_units("litre", "litre", "litres", "liter", "liters")
_units("millilitre", "ml", "millilitre", "millilitres", "milliliter", "milliliters")
_units("gallon", "gallon", "gallons")
_units("cubic_metre", "cubic metres", "cubic meters", "cubic metre", "cubic meter")
_units("megawatt", "megawatt", "megawatts", "mw")
_units("gigawatt", "gigawatt", "gigawatts", "gw")
_units("kilowatt", "kilowatt", "kilowatts", "kw")
_units("kilowatt_hour", "kilowatt-hours", "kilowatt hours", "kwh")
_units("megawatt_hour", "megawatt-hours", "megawatt hours", "mwh")
_units("gigawatt_hour", "gigawatt-hours", "gigawatt hours", "gwh")
_units("terawatt_hour", "terawatt-hours", "terawatt hours", "twh")
_units("kilometre_per_hour", "km/h", "kmh", "kph", "kilometres per hour", "kilometers per hour")
_units("mile_per_hour", "mph", "miles per hour", "miles an hour")
_units("degree_celsius", "°c", "ºc", "degrees celsius", "degree celsius", "degrees c", "celsius")
_units("degree_fahrenheit", "°f", "ºf", "degrees fahrenheit", "degree fahrenheit", "degrees f", "fahrenheit")
_units("degree", "degrees", "degree", "°")
_units("gigabyte", "gb", "gigabyte", "gigabytes")
_units("megabyte", "mb", "megabyte", "megabytes")
_units("terabyte", "tb", "terabyte", "terabytes")
_units("carat", "carat", "carats")
_units("calorie", "calorie", "calories", "kcal")
_units("bushel", "bushel", "bushels")

# Units that are ambiguous as bare words and need to be attached to the number ("5t", "3g" are not units when
# spaced: "a 5 t" is rare, "3 g" too; "ha" and "t" collide with words).
_ATTACHED_ONLY = frozenset({"t", "g", "ha", "mw", "gw", "kw", "gb", "mb", "tb", "m2", "km2", "sec", "min", "in", "ml"})
_TIME_UNITS = frozenset({"second", "minute", "hour", "day", "night", "week", "month", "year", "decade", "century"})
# Words of a unit may be joined by hyphens when it is used as an adjective ("a 12,500-square-foot structure").
_UNIT_RE = "|".join(
    re.escape(w).replace(r"\ ", r"[\s‑-]+")
    for w in sorted(_UNIT_WORDS, key=len, reverse=True)
    if w not in _ATTACHED_ONLY and w != "°"
)
_UNIT_ATTACHED_RE = "|".join(re.escape(w) for w in sorted(_ATTACHED_ONLY | {"km", "kg", "mm", "cm", "lb"},
                                                        key=len, reverse=True))  # fmt: skip


# ---------------------------------------------------------------------------------------------------------------
# Dates
# ---------------------------------------------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------------------------------------------
# Modifiers (hedges and bounds) written before a figure
# ---------------------------------------------------------------------------------------------------------------

# modifier -> (approximate, bound). Bounds: "more than" leaves the true value above (lower bound).
_MODIFIERS: dict[str, tuple[bool, str]] = {
    "about": (True, BOUND_EXACT), "around": (True, BOUND_EXACT), "roughly": (True, BOUND_EXACT),
    "approximately": (True, BOUND_EXACT), "some": (True, BOUND_EXACT), "circa": (True, BOUND_EXACT),
    "an estimated": (False, BOUND_EXACT), "estimated": (False, BOUND_EXACT), "close to": (True, BOUND_UPPER),
    "almost": (True, BOUND_UPPER), "nearly": (True, BOUND_UPPER), "just under": (True, BOUND_UPPER),
    "just shy of": (True, BOUND_UPPER), "up to": (True, BOUND_UPPER), "below": (True, BOUND_UPPER),
    "under": (True, BOUND_UPPER), "less than": (True, BOUND_UPPER), "fewer than": (True, BOUND_UPPER),
    "no more than": (True, BOUND_UPPER), "not more than": (True, BOUND_UPPER), "at most": (True, BOUND_UPPER),
    "as many as": (True, BOUND_UPPER), "as much as": (True, BOUND_UPPER), "as high as": (True, BOUND_UPPER),
    "just below": (True, BOUND_UPPER), "short of": (True, BOUND_UPPER),
    "more than": (True, BOUND_LOWER), "over": (True, BOUND_LOWER), "above": (True, BOUND_LOWER),
    "at least": (True, BOUND_LOWER), "just over": (True, BOUND_LOWER), "just above": (True, BOUND_LOWER),
    "well over": (True, BOUND_LOWER), "well above": (True, BOUND_LOWER), "upwards of": (True, BOUND_LOWER),
    "in excess of": (True, BOUND_LOWER), "exceeding": (True, BOUND_LOWER), "north of": (True, BOUND_LOWER),
    "no less than": (True, BOUND_LOWER), "not less than": (True, BOUND_LOWER),
    "as few as": (True, BOUND_LOWER), "as little as": (True, BOUND_LOWER), "as low as": (True, BOUND_LOWER),
    "between": (False, BOUND_EXACT), "top": (False, BOUND_EXACT), "just": (False, BOUND_EXACT),
    "only": (False, BOUND_EXACT), "by": (False, BOUND_EXACT), "since": (False, BOUND_EXACT),
    "from": (False, BOUND_EXACT), "within": (False, BOUND_EXACT), "until": (False, BOUND_EXACT),
}  # fmt: skip
_MODIFIER_RE = re.compile(
    r"(?:^|(?<=[\s(—–-]))(?P<mod>"
    + "|".join(re.escape(m) for m in sorted(_MODIFIERS, key=len, reverse=True))
    + r")\s+(?:an?\s+)?(?:(?:additional|further|extra|estimated|total\s+of)\s+)?$",
    re.IGNORECASE,
)
# Dates take bounds as temporal words, never as hedges ("up to 2027" is "until").
_DATE_HEDGES = frozenset({"about", "around", "roughly", "approximately", "circa"})

_CHANGE_VERBS = (
    "rise|rises|rose|risen|rising|fall|falls|fell|fallen|falling|grow|grows|grew|grown|growing|increase|"
    "increased|increases|increasing|decrease|decreased|decreases|decreasing|cut|cuts|cutting|jump|jumped|jumps|"
    "climb|climbed|climbs|gain|gained|gains|slip|slipped|slips|drop|dropped|drops|decline|declined|declines|"
    "lower|lowered|lowers|raise|raised|raises|reduce|reduced|reduces|reducing|boost|boosted|boosts|boosting|"
    "add|added|adds|shed|sheds|plunge|plunged|plunges|soar|soared|soars|surge|surged|surges|tumble|tumbled|"
    "sink|sank|sunk|slump|slumped|rally|rallied|advance|advanced|ease|eased|dip|dipped|widen|widened|narrow|"
    "narrowed|expand|expanded|contract|contracted|shrink|shrank|shrunk|lose|lost|slide|slid|up|down|higher|"
    "lower|more|less|trim|trimmed|hike|hiked|slash|slashed"
)
_CHANGE_NOUNS = (
    "increase|increases|decrease|decreases|rise|rises|drop|drops|fall|falls|gain|gains|decline|declines|jump|"
    "growth|cut|cuts|hike|hikes|reduction|reductions|loss|losses|slump|surge|boost|climb|plunge|contraction|"
    "expansion|improvement|decrease|slide|dip|spike|uptick|downturn|rebound|bounce|increment"
)
_CHANGE_BEFORE = re.compile(
    rf"(?:\b(?:{_CHANGE_VERBS})\s+(?:(?:by|of|an?|nearly|almost|about|around|roughly|some|more\s+than|over|"
    rf"just|only|another|a\s+further)\s+)*$|\b(?:{_CHANGE_NOUNS})\s+of\s+(?:(?:about|around|nearly|almost|"
    rf"roughly|some|more\s+than|over|just)\s+)*$|\bby\s+(?:(?:about|around|nearly|almost|roughly|some|more\s+"
    rf"than|over|just|up\s+to|at\s+least)\s+)*$)",
    re.IGNORECASE,
)
_LEVEL_BEFORE = re.compile(
    r"\bto\s+(?:(?:about|around|nearly|almost|roughly|some|more\s+than|over|just|a\s+record|an?\s+estimated)\s+)*$"
    r"|\b(?:at|of)\s+$"
)
_CHANGE_AFTER = re.compile(
    rf"^[\s-]*(?:[\w-]+\s+){{0,2}}?(?:{_CHANGE_NOUNS}|(?:year-on-year|annual|monthly|quarterly)\s+(?:{_CHANGE_NOUNS})"
    rf"|(?:increase|decrease|rise|drop|gain|decline|cut|hike|reduction)\b)\b",
    re.IGNORECASE,
)


# ---------------------------------------------------------------------------------------------------------------
# Candidates
# ---------------------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Cand:
    start: int
    end: int
    kind: str
    priority: int
    value: float | None = None
    date_value: str | None = None
    unit: str | None = None
    scale: float | None = None
    currency_ambiguous: bool = False
    relative: bool = False
    low: float | None = None
    high: float | None = None
    no_modifier: bool = False


_P_MONEY, _P_PERCENT, _P_QUANTITY, _P_DATE, _P_FRACTION, _P_ORDINAL, _P_COUNT = 7, 6, 5, 4, 3, 2, 1

_SUFFIX_WORDS = "|".join(re.escape(w) for w in sorted([*_SUFFIX_CURRENCY, "dollars", "dollar"], key=len, reverse=True))
_DOLLAR_ADJ = "|".join(re.escape(a) for a in sorted(_DOLLAR_ADJECTIVES, key=len, reverse=True))


class _Rx:
    """The patterns that read a number, compiled for one number grammar: digits only, or digits and words.

    Most sentences have no number word; the digits-only patterns skip the costly word alternation there.
    """

    def __init__(self, words: bool) -> None:
        word_alt = rf"|(?i:{WORD_NUMBER})(?!\w)" if words else ""
        num = rf"(?:{_MIXED}|{_DIGITS}{word_alt})"
        scaled = (
            rf"(?:{num}(?:(?:\s+|[-‑])(?i:{_SCALE_WORD})|(?i:{_SCALE_ATTACHED}))?(?:\s+(?i:{_SCALE_WORD}))?)(?![\w])"
        )
        plain = rf"(?:{_DIGITS}{word_alt})"
        # Letter codes need a boundary in front and either a space ("USD 5m") or nothing ("RM1.6m", "R95bn").
        self.money_prefix = re.compile(
            r"(?<![\w$])(?P<cur>(?i:us\s?\$|u\.s\.\s?\$|c\$|ca\$|can\$|a\$|au\$|nz\$|s\$|sg\$|hk\$|nt\$|r\$|mx\$"
            r"|n\$|j\$|tt\$|b\$|bds\$|bz\$|ec\$|z\$|fj\$|g\$|l\$|gh₵)"
            r"|[$£€¥₹₩₦₱₽₺₫฿₪]|Rs\.?|RM|Rp|R(?=\d)|Ksh|KSh|TSh|USh|(?:USD|EUR|GBP|JPY|CNY|RMB|INR|CHF|CAD"
            r"|AUD|NZD|SGD|HKD|ZAR|MYR|IDR|KRW|NGN|PHP|RUB|KES|TZS|UGX|AED|SAR|EGP|PKR|THB|VND|SEK|NOK|DKK|PLN"
            rf"|BRL|MXN|ILS|GHS)(?=\s?\d))\s?(?P<num>{scaled})"
        )
        self.money_suffix = re.compile(
            rf"(?<![\w$£€.,])(?P<num>{scaled})\s+(?:(?P<adj>(?i:{_DOLLAR_ADJ}))\s+)?(?P<cur>(?i:{_SUFFIX_WORDS}))"
            rf"(?![\w])"
        )
        self.money_subunit = re.compile(
            rf"(?<![\w$£€.,])(?P<num>{plain})(?:\s*(?P<p>p)(?![\w.])|\s+(?P<sub>(?i:euro\s+)?"
            rf"(?:cents?|pence|pennies|penny)))(?![\w])"
        )
        self.money_pounds = re.compile(
            rf"(?<![\w$£€.,])(?P<num>{num}(?:\s+|[-‑])(?i:{_SCALE_WORD})|{num}(?i:m|bn))\s+(?P<cur>(?i:pounds?))(?!\w)"
        )
        self.percent = re.compile(
            rf"(?<![\w.,])(?P<sign>[-−+])?(?P<num>{_MIXED}|{plain})"
            r"(?P<unit>\s?%|\s?(?i:per\s?cent|percent|pct)(?!\w)|\s?pc(?!\w)|"
            r"(?:\s+|[-‑])(?i:percentage[-‑\s]points?|basis[-‑\s]points?|bps|bp|pp|ppts?)(?!\w))"
        )
        # A unit may be glued to the number ("1,340km", "20TB", "10C"), so the number here does not end at a word
        # boundary; an attached scale letter must not run on into a unit ("5kg" is 5 kg, not 5k g).
        scaled_q = (
            rf"(?:{num}(?:(?:\s+|[-‑])(?i:{_SCALE_WORD})(?!\w)|(?i:{_SCALE_ATTACHED})(?![a-zA-Z]))?"
            rf"(?:\s+(?i:{_SCALE_WORD})(?!\w))?)"
        )
        self.quantity = re.compile(
            rf"(?<![\w.,:])(?:(?P<sign>[-−])|(?P<minus>(?i:minus)\s+))?(?P<num>{scaled_q}(?:\s+and\s+a\s+half)?)"
            rf"(?:(?P<more>\s+(?i:more|additional|extra|further|consecutive|straight))?(?P<sep>\s*|[-‑])"
            rf"(?P<unit>(?i:{_UNIT_RE}))(?![\w])|(?P<unit2>(?i:{_UNIT_ATTACHED_RE}))(?![\w])"
            rf"|\s?(?P<deg>[°º]\s?[CFcf]?)(?![\w])|\s?(?P<tl>[CF])(?![\w’']|\.\w))"
        )
        self.age_adj = re.compile(
            rf"(?<![\w.,])(?P<num>{num})[-‑](?P<unit>year|month|week|day)s?[-‑]old\b", re.IGNORECASE
        )
        self.count = re.compile(rf"(?<![\w$£€.,/-])(?P<num>{scaled})(?![\w%°])")
        self.ago = re.compile(rf"\b(?P<num>{num})\s+(?P<unit>years?|months?|weeks?|days?)\s+ago\b", re.I)


_RX_DIGITS = _Rx(words=False)
_RX_WORDS = _Rx(words=True)
_A_QUANTITY = re.compile(
    r"(?<![\w])(?P<a>a|an)\s+(?P<unit>decade|century|year|month|week|day|hour|half[-\s]century)(?![\w-])",
    re.IGNORECASE,
)
# "a year and a half", "the past hour and a half": one and a half of the unit.
_UNIT_AND_A_HALF = re.compile(
    r"(?<![\w-])(?:(?:a|an|one)\s+)?(?P<unit>decade|century|year|month|week|day|hour|minute)\s+and\s+a\s+half(?![\w-])",
    re.IGNORECASE,
)
_FRACTION = re.compile(
    r"(?<![\w-])(?P<frac>(?:(?P<num>a|an|one|two|three|four|five|six|seven|eight|nine)[-‑\s]+)(?P<den>"
    r"half|third|thirds|quarter|quarters|fourth|fourths|fifth|fifths|sixth|sixths|eighth|eighths|tenth|tenths)"
    r"|(?P<half>half)|(?P<x>\d+|one|two|three|four|five|six|seven|eight|nine|ten)(?:\s+|[-‑])(?:in|out[-‑\s]+of)"
    r"(?:\s+|[-‑])(?P<y>\d+|two|three|four|five|six|seven|eight|nine|ten|a\s+hundred|100))(?![\w-])",
    re.IGNORECASE,
)
_ORDINAL = re.compile(
    r"(?<![\w-])(?P<ord>(?i:" + "|".join(sorted(_ORDINALS, key=len, reverse=True)) + r")|\d+(?:st|nd|rd|th))"
    r"(?![\w])"
)
# Words after which a clause-final "first" is a rank ("she finished first.", "he was the first.").
_RANK_BEFORE = re.compile(
    r"(?i)\b(?:the|finish(?:ed|es)?|came|comes|placed|ranked|ranks|rated|is|was|are|were)\s*$"
    r"|\b(?:his|her|its|their|our|my|your)\s+(?:[a-z]+\s+)?$"
)
_STREET_AFTER = re.compile(
    r"\s+(?:Street|St\.?|Avenue|Ave\.?|Road|Rd\.?|Boulevard|Blvd\.?|Drive|Dr\.?|Lane|Terrace|Place|Parkway)(?!\w)"
)
_DAY_ONE = re.compile(r"\b(?:day|round|year|phase|stage|week|game|season)\s+(?P<ord>one|two|three)\b", re.I)
_SCALED_RANGE_END = re.compile(
    rf"(?<=\d)\s?[-–—‑]\s?(?P<num>{_DIGITS}(?:\s+|[-‑])(?i:million|billion|trillion|thousand))(?![\w%])"
)
_STRONG = re.compile(rf"(?<![\w.,])(?P<num>{_DIGITS})[-‑]strong\b")

# Things that look like figures and are not.
_CLOCK = re.compile(
    r"\b(?:\d{1,2}(?:[:.]\d{2})?\s*(?:[-–—‑]|to|until|till)\s*)?\d{1,2}(?:[:.]\d{2})?\s*(?:a\.m\.|p\.m\.|am\b|pm\b)"
    r"|\b\d{1,2}:\d{2}(?:hrs?\b|h\b)?\b|\b(?:noon|midnight)\b",
    re.I,
)
# A street address: "1775 Naramata Rd.", "1225 N. Rampart St.", "10 Downing Street".
_ADDRESS = re.compile(
    r"\b\d{1,5}\s+(?:[NSEW]\.?\s+)?(?:[A-Z][\w’'-]*\s+){1,3}(?:St|Street|Rd|Road|Ave|Avenue|Blvd|Boulevard|Dr|Drive|"
    r"Lane|Ln|Way|Pl|Place|Ct|Court|Hwy|Highway|Pkwy|Parkway|Terrace|Crescent|Square)\b"
)
_SCORE_CONTEXT = re.compile(
    r"\b(?:won|win|wins|lost|lose|loses|beat|beats|defeat|defeated|drew|draw|victory|voted|vote|votes|score|"
    r"scored|led|lead|leads|trail|trailing|ruled|ruling|decision|margin|majority|tally|record|split|ended|ending|"
    r"finished|match|game|season|series|against|thrashed|thrashing|routed|edged|clinched)\b",
    re.IGNORECASE,
)
_SCORE = re.compile(r"(?<![\w.,])(\d{1,3})\s?[-–](\s?)(\d{1,3})(?![\w%.,/]|\s*(?:per|percent|%))")
_MULTIPLIER_AFTER = re.compile(r"^(?:\s+times\b|[-‑]?fold\b|[-‑]to[-‑]\d|\s+to\s+(?:one|1)\b)", re.IGNORECASE)
_URLISH = re.compile(r"\S+(?:\.\w{2,}/|@|://)\S*")
# Words in front of a number that are not part of a name even when capitalised at a sentence start.
_FUNCTION_WORDS = _words(
    "a an the in on at by of to for from since until till through about around over under some nearly "
    "almost only just more less than and or but with after before between among during per roughly "
    "approximately up down as is was were are be been if when while all each every both these those this "
    "that its their his her our your my another including includes include top rose fell grew had has "
    "have said says say paid than with within without into onto across against toward towards via like "
    "unlike near least most no not it he she they we you i there here also still even yet so then now "
    "again last next first second fy q1 q2 q3 q4 h1 h2 and killed"
)
_NAME_NUMBER_TAIL = re.compile(r"([A-Za-z][\w&.’'-]*)\s+$")
_ONE_SKIP_AFTER = re.compile(
    r"^\s*(?:of\b|another\b|by\s+one\b|[-‑](?:on|off|time|way|stop|size)\b|thing\b|way\b|or\s+another\b|"
    r"in\s+(?:ten|a\s+million)\b)",
    re.IGNORECASE,
)
_ONE_SKIP_BEFORE = re.compile(r"\b(?:no|any|every|the|this|that|which|each|some|someone|anyone|no)\s+$", re.I)
_NUMERIC_TOKEN = re.compile(r"\d")
_WORD_RE = re.compile(r"[a-z]+")
_ORDINAL_DIGITS = re.compile(r"\d(?:st|nd|rd|th)\b")

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
# "10C" and "90F" are temperatures only where the text talks about temperature ("Form 10C" is not).
_TEMPERATURE_CUE = re.compile(
    r"(?i)\b(?:temperatures?|degrees?|heat|heatwave|hot|hotter|hottest|warm|warmer|warmest|warming|cold|colder|"
    r"coldest|cool|cooler|chilly|freezing|frost|highs?|lows?|overnight|weather|thermometer|mercury|climate)\b"
)
_A_UNITS = frozenset({"decade", "century", "year", "month", "week", "day", "hour"})
_FRACTION_WORDS = frozenset(_FRACTION_WORDS_MAP)
_RELATIVE_WORDS = frozenset({"yesterday", "today", "tomorrow", "last", "next", "this", "on", "ago",
                             *_WEEKDAYS})  # fmt: skip
_DATE_WORDS = frozenset({*_MONTHS, *_RELATIVE_WORDS})
_GATE_WORDS = frozenset({*_NUMBER_WORDS, *_FRACTION_WORDS, *_ORDINALS, *_DATE_WORDS, *_A_UNITS, "a", "an"} - {
    "on", "this", "last", "next", "a", "an"})  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Scan:
    """What a quick look at a text found: its lower-case words, digits, number words, and the patterns to use."""

    words: frozenset[str]
    digit: bool
    numword: bool
    rx: _Rx


def _scan(text: str) -> _Scan | None:
    words = frozenset(_WORD_RE.findall(text.lower()))
    digit = _NUMERIC_TOKEN.search(text) is not None
    if not digit and words.isdisjoint(_GATE_WORDS):
        return None
    numword = not words.isdisjoint(_NUMBER_WORDS)
    return _Scan(words, digit, numword, _RX_WORDS if numword else _RX_DIGITS)


def has_candidate(text: str) -> bool:
    """Return True when ``text`` may hold a figure (a digit or a number, month or date word): a cheap filter."""
    return _scan(text) is not None


def _money_cands(text: str, ctx: FigureContext, sc: _Scan) -> Iterable[_Cand]:
    prefix = not sc.words.isdisjoint(_PREFIX_WORDS) or any(ch in text for ch in _CURRENCY_SYMBOLS)
    for m in sc.rx.money_prefix.finditer(text) if prefix else ():
        sym = re.sub(r"\s", "", m.group("cur")).lower()
        ambiguous = False
        named = _DOLLAR_AFTER.match(text, m.end()) if sym == "$" else None
        if named is not None:
            code = _DOLLAR_NAMED_AFTER[(named.group("a") or named.group("b")).lower().rstrip(".")]
        elif sym == "$":
            code, ambiguous = ctx.dollar, ctx.dollar_ambiguous
        elif sym == "¥":
            code, ambiguous = ctx.yen, ctx.yen_ambiguous
        else:
            code = _PREFIX_CURRENCY.get(sym) or _PREFIX_CURRENCY.get(sym.rstrip(".")) or "USD"
            code = _local(code, ctx)
        num = m.group("num")
        value = parse_number(num)
        if value is None:
            continue
        yield _Cand(m.start(), m.end(), KIND_MONEY, _P_MONEY, value, unit=code, scale=_scale_of(num),
                    currency_ambiguous=ambiguous)  # fmt: skip
    for m in sc.rx.money_suffix.finditer(text) if not sc.words.isdisjoint(_CURRENCY_WORDS) else ():
        word = m.group("cur").lower()
        ambiguous = False
        if word.startswith("dollar"):
            adj = (m.group("adj") or "").lower()
            if adj:
                code = _DOLLAR_ADJECTIVES[adj]
            else:
                code, ambiguous = ctx.dollar, ctx.dollar_ambiguous
        elif word == "yen":
            code = "JPY"
        else:
            code = _local(_SUFFIX_CURRENCY[word], ctx)
        num = m.group("num")
        value = parse_number(num)
        if value is None or (word == "won" and not re.search(r"\d", num)):
            continue  # "won" after a number word is the verb ("two won")
        yield _Cand(m.start(), m.end(), KIND_MONEY, _P_MONEY, value, unit=code, scale=_scale_of(num),
                    currency_ambiguous=ambiguous)  # fmt: skip
    for m in sc.rx.money_pounds.finditer(text) if "pounds" in sc.words or "pound" in sc.words else ():
        value = parse_number(m.group("num"))
        if value is not None:
            yield _Cand(m.start(), m.end(), KIND_MONEY, _P_MONEY, value, unit="GBP", scale=_scale_of(m.group(0)))
    for m in sc.rx.money_subunit.finditer(text) if not sc.words.isdisjoint(_SUBUNIT_WORDS) else ():
        value = parse_number(m.group("num"))
        if value is None:
            continue
        sub = (m.group("sub") or m.group("p") or "").lower()
        ambiguous = False
        if sub.startswith("euro"):
            code = "EUR"
        elif sub in ("p", "pence", "penny", "pennies"):
            code = "GBP"
        else:
            code, ambiguous = ctx.dollar, ctx.dollar_ambiguous
            if ctx.currency and ctx.currency not in _DOLLAR_CURRENCIES and ctx.currency != "USD":
                code, ambiguous = ctx.currency, False
        yield _Cand(m.start(), m.end(), KIND_MONEY, _P_MONEY, value / 100.0, unit=code, scale=0.01,
                    currency_ambiguous=ambiguous)  # fmt: skip


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
                signed = False  # "1%-3%": the dash joins a range, it is no minus sign
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


def _quantity_cands(text: str, sc: _Scan) -> Iterable[_Cand]:
    units = (
        not sc.words.isdisjoint(_UNIT_FIRST_WORDS) or "°" in text or "º" in text or _GLUED_UNIT.search(text) is not None
    )
    for m in sc.rx.quantity.finditer(text) if units and (sc.digit or sc.numword) else ():
        num = m.group("num")
        half = num.lower().endswith("and a half")
        if half:
            num = num[: num.lower().rindex("and a half")].strip()
        value = parse_number(num)
        if value is None:
            continue
        value += 0.5 if half else 0.0
        if m.group("deg") is not None:
            d = m.group("deg").lower().replace(" ", "").replace("º", "°")
            unit = {"°c": "degree_celsius", "°f": "degree_fahrenheit"}.get(d, "degree")
        elif m.group("tl") is not None:
            if re.search(r"[A-Za-z]", num) or not _TEMPERATURE_CUE.search(text):
                continue
            unit = "degree_celsius" if m.group("tl") == "C" else "degree_fahrenheit"
        else:
            word = (m.group("unit") or m.group("unit2") or "").lower()
            if m.group("unit2") in ("G", "T"):
                continue  # "5G", "3T": a network generation or a name, not grams or tonnes
            if m.group("unit2") is not None and re.search(r"[A-Za-z]", num):
                continue  # "ten-in", "fifty-in": a number word glued to letters
            unit = _UNIT_WORDS.get(re.sub(r"[\s‑-]+", " ", word), "")
            if not unit:
                continue
            if word == "pounds" and re.match(r"\s+(?:sterling)\b", text[m.end() :]):
                continue
            if word == "second" and m.group("sep") is not None and "-" in (m.group("sep") or ""):
                continue
        if m.group("sign"):
            before = text[max(0, m.start() - 80) : m.start()]
            if before and not before[-1].isspace() and before[-1] != "(":
                continue
            value = -value
        elif m.group("minus"):
            value = -value  # "minus 80 degrees Fahrenheit"
        start = m.start()
        # "over a four-day week": a hyphenated duration adjective, "12-month basis"; keep span as written.
        yield _Cand(start, m.end(), KIND_QUANTITY, _P_QUANTITY, value, unit=unit, scale=_scale_of(num))
    for m in _A_QUANTITY.finditer(text) if not sc.words.isdisjoint(_A_UNITS) else ():
        before = text[max(0, m.start() - 80) : m.start()].rstrip().lower()
        after = text[m.end() :].lower()
        unit_word = m.group("unit").lower()
        if re.match(r"\s+(?:ago|(?:earlier|later)(?!\s+than)|before|after|or\s+two|or\s+so)\b", after):
            continue  # "a year ago" is a date; "a decade earlier than Amazon" stays a length of time
        if re.match(r"[-‑]", after):
            continue
        if unit_word not in ("decade", "century") and not re.search(
            r"\b(?:within|over|for|in|after|than|nearly|almost|about|around|under|past|last|least|than|take|"
            r"takes|took|spent|spend|lasted|lasts|last)$",
            before,
        ):
            continue
        if re.search(r"(?:\d|times|once|twice|\$\S*)$", before):
            continue
        unit = "century" if "half" in unit_word else unit_word
        value = 0.5 if "half" in unit_word else 1.0
        yield _Cand(m.start(), m.end(), KIND_QUANTITY, _P_QUANTITY, value, unit=unit)
    for m in _UNIT_AND_A_HALF.finditer(text) if "half" in sc.words else ():
        if not re.match(r"\s+(?:ago|earlier|later)\b", text[m.end() :]):
            yield _Cand(m.start(), m.end(), KIND_QUANTITY, _P_QUANTITY, 1.5, unit=m.group("unit").lower())
    for m in sc.rx.age_adj.finditer(text) if "old" in sc.words else ():
        value = parse_number(m.group("num"))
        if value is not None:
            yield _Cand(m.start(), m.end(), KIND_QUANTITY, _P_QUANTITY + 1, value, unit=m.group("unit").lower())


# "John Smith, 45, said", "Bianca Jones, also 19, died".
_NAME_AGE = re.compile(
    r"[A-Z][\w’'-]+,\s+(?:(?:also|now|aged)\s+)?(?P<a>\d{1,3}),\s+(?=[a-z]|[A-Z]\w+\s+(?:said|says))"
)
# Words that may follow an age given as a bare number: "who turns 18 in three days", "she was 12 when".
_AGE_FOLLOWERS = r"\s+(?:in|on|at|when|and|but|last|this|next|today|tomorrow|yesterday|before|after|until)\b"


def _age_cands(text: str, sc: _Scan) -> Iterable[_Cand]:
    """Ages written as bare numbers: "aged 11 and 7", "since he was 18", "John Smith, 45, said"."""
    for m in re.finditer(r"\baged?\s+(?:between\s+)?(?P<a>\d{1,3})(?:\s*(?:and|to|or|-|–)\s*(?P<b>\d{1,3}))?\b", text):
        for g in ("a", "b"):
            if m.group(g):
                yield _Cand(m.start(g), m.end(g), KIND_QUANTITY, _P_QUANTITY, float(m.group(g)), unit="year")
    for m in re.finditer(r"\b(?:he|she|they|I|we|you|who)\s+(?:was|were|is|turned|turns|am)\s+(?P<a>\d{1,3})\b(?!\s*%)",
                         text):  # fmt: skip
        after = text[m.end() :]
        if not re.match(r"\s*(?:[-%]|per|years?\b|\w)", after) or re.match(_AGE_FOLLOWERS, after):
            yield _Cand(m.start("a"), m.end("a"), KIND_QUANTITY, _P_QUANTITY, float(m.group("a")), unit="year")
    for m in _NAME_AGE.finditer(text):
        if 0 < int(m.group("a")) < 120:
            yield _Cand(m.start("a"), m.end("a"), KIND_QUANTITY, _P_QUANTITY, float(m.group("a")), unit="year")


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
                    # a span of years "2021-2027", "1988–2006": two dates, as any range
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


# Words before a year that make it a date, not a name ("FY 2024", "CY 2015", "the 2015 report").
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
        return True  # "Budget 2024", "Expedition 1000"
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


def _fraction_cands(text: str, sc: _Scan) -> Iterable[_Cand]:
    if sc.words.isdisjoint(_FRACTION_WORDS) and ("in" not in sc.words and "out" not in sc.words):
        return
    for m in _FRACTION.finditer(text):
        before = text[max(0, m.start() - 80) : m.start()]
        after = text[m.end() :]
        if m.group("half"):
            if re.search(r"(?i)(?:first|second|1st|2nd|and\s+a|behalf|one|a)\s*$", before) or re.match(
                r"[-‑]|\s+(?:an?\s+hour|time|year|century|decade|dozen)", after
            ):
                continue
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
        if num > 1 and not den_word.endswith("s") and den_word not in ("half",):
            continue
        yield _Cand(m.start(), m.end(), KIND_FRACTION, _P_FRACTION, num / _FRACTION_WORDS_MAP[den_word])


def _ordinal_cands(text: str, sc: _Scan) -> Iterable[_Cand]:
    ranks = not sc.words.isdisjoint(_ORDINALS) or (sc.digit and _ORDINAL_DIGITS.search(text) is not None)
    for m in _ORDINAL.finditer(text) if ranks else ():
        word = m.group("ord")
        low = word.lower()
        value = float(re.sub(r"\D", "", low)) if low[0].isdigit() else float(_ORDINALS[low])
        before = text[max(0, m.start() - 80) : m.start()]
        after = text[m.end() :]
        if low == "first" and (
            re.search(r"(?i)\bat\s*$", before) or re.match(r"(?i)\s+of\s+all\b|,", after) or re.match(r"ly", after)
        ):
            continue
        if low == "first" and (
            re.match(r"(?i)\s+(?:off|up)\b", after)
            or (re.match(r"\s*(?:[.;:!?]|$)", after) and not _RANK_BEFORE.search(before))
        ):
            continue  # "First off, ...", "without consulting the OBR first.": the adverb, no rank
        if low == "second" and (
            re.search(r"\d\s*$|\b(?:per|one|each|every)\s*$", before)
            or (re.search(r"\ba\s*$", before) and not re.match(r"\s+[a-z]", after))
        ):
            continue  # "a second", "30 seconds" are durations; "a second term" is a rank
        if _STREET_AFTER.match(after):
            continue  # "Southwest 117th Avenue", "Fifth Avenue": a street name
        yield _Cand(m.start(), m.end(), KIND_ORDINAL, _P_ORDINAL, value)
    for m in _DAY_ONE.finditer(text) if sc.numword else ():
        rank = parse_number(m.group("ord"))
        if rank is not None:
            yield _Cand(m.start("ord"), m.end("ord"), KIND_ORDINAL, _P_ORDINAL + 5, rank)


def _count_cands(text: str, sc: _Scan) -> Iterable[_Cand]:
    for m in _SCALED_RANGE_END.finditer(text) if sc.numword else ():
        value = parse_number(m.group("num"))
        if value is not None:  # "45-50 million": the scaled end of a range (the first number is scaled later)
            yield _Cand(m.start("num"), m.end("num"), KIND_COUNT, _P_COUNT, value, scale=_scale_of(m.group("num")))
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
        if low == "one" and (_ONE_SKIP_AFTER.match(after) or _ONE_SKIP_BEFORE.search(before)):
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
        if re.match(r"[a-zA-Z]", num) and num[0].isupper() and before.strip() and not re.search(r"[.!?:\"“]\s*$",
                                                                                               before):  # fmt: skip
            continue  # a capitalised number word mid-sentence is a name ("Formula One", "Apollo Eleven")
        if _in_name(before, num):
            continue
        scale = _scale_of(num) if re.search(r"\d", num) else None
        yield _Cand(m.start(), m.end(), KIND_COUNT, _P_COUNT, value, scale=scale)


def _in_name(before: str, num: str) -> bool:
    """Return True when a bare number directly follows a capitalised name word ("FTSE 100", "ATR 72")."""
    m = _NAME_NUMBER_TAIL.search(before)
    if m is None:
        return False
    word = m.group(1)
    if not word[0].isupper() or word.lower().rstrip(".") in _FUNCTION_WORDS:
        return False
    if re.search(r"[’']s$", word):
        return False  # a possessive owns the number: "Afghanistan’s 30 million people"
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?", num):
        return False  # names carry model or series numbers, not amounts with thousands separators ("Italy 143,600")
    if word.rstrip(".").lower() in _MONTHS:
        return False
    if word.lower() in ("no.", "no", "number", "nos.", "#"):
        return True
    # a capitalised word at the very start of the text or after a sentence end is an ordinary word
    rest = before[: m.start()]
    return not (not rest.strip() or re.search(r"[.!?]\s*[\"“]?\s*$", rest)) or word.isupper()


def _excluded_spans(text: str, sc: _Scan) -> list[tuple[int, int]]:
    if not sc.digit:
        return []
    spans = [(m.start(), m.end()) for m in _CLOCK.finditer(text)] if ":" in text or not sc.words.isdisjoint(
        {"am", "pm", "a", "p", "noon", "midnight"}) else []  # fmt: skip
    spans += [(m.start(), m.end()) for m in _URLISH.finditer(text)] if "/" in text or "@" in text else []
    spans += [(m.start(), m.end()) for m in _ADDRESS.finditer(text)]
    for m in _SCORE.finditer(text):
        a, b = int(m.group(1)), int(m.group(3))
        window = text[max(0, m.start() - 40) : m.end() + 25]
        # a range runs upwards; "5-1", "7-2", "2-2" are scores or records even without a sports word nearby
        if (_SCORE_CONTEXT.search(window) or a >= b) and a < 200 and b < 200:
            spans.append((m.start(), m.end()))
    for m in re.finditer(r"\b\d+[-‑]to[-‑]\d+\b|\b[A-Za-z]+[-‑]\d[\d.]*\b|\b\d+[-‑][A-Za-z]*\d+\w*\b", text):
        if re.match(r"(?i)(?:mid|early|late|pre|post|US|over|under|top|sub|around)[-‑]", m.group(0)):
            continue
        if re.match(r"\d+[-‑]\d+$", m.group(0)):
            continue
        spans.append((m.start(), m.end()))
    return spans


# ---------------------------------------------------------------------------------------------------------------
# Assembly
# ---------------------------------------------------------------------------------------------------------------


def _select(cands: list[_Cand], excluded: list[tuple[int, int]]) -> list[_Cand]:
    """Keep non-overlapping candidates: longer spans first, then the more specific kind."""
    ordered = sorted(cands, key=lambda c: (-(c.end - c.start) - 100 * c.priority, c.start))
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
    """Find the bare first/second number of a range whose unit is written once ("60-80 per cent", "€300–350").

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
        scaled_count = c.kind == KIND_COUNT and c.scale is not None  # "45-50 million people": scale written once
        if c.kind not in (KIND_MONEY, KIND_PERCENT, KIND_QUANTITY, KIND_DATE) and not scaled_count:
            continue
        span = text[c.start : c.end]
        # unit written after: "60-80 per cent", "7–10%", "0 to 1/4 percent", "January-August 2019"
        lead = re.search(
            rf"(?<![\w.,/-])(?P<num>{_MIXED}|{_DIGITS}|{_WORD_SMALL}|{_MONTH_FULL})(?P<sep>\s?[-–—‑]\s?|\s+(?:to|and|or)\s+)$",
            text[: c.start],
        )
        prefixed = c.kind == KIND_MONEY and not span[0].isdigit()
        is_month = lead is not None and lead.group("num").lower() in _MONTHS
        if lead and (is_month != (c.kind == KIND_DATE) or prefixed):
            lead = None  # "2023 to €3.6 million": a currency written in front belongs to its own number
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
        # currency written before: "€300–350", "US$350–410", "$20,000 to 30,000"
        if c.kind == KIND_MONEY and (span[0] in "$£€¥" or re.match(r"[A-Z]{1,3}\s?\$|RM|R\d", span)):
            tail = re.match(
                rf"(?P<sep>\s?[-–—‑]\s?|\s+to\s+)(?P<num>{_DIGITS}(?:\s?(?:{_SCALE_ATTACHED}))?)(?![\w%])",
                text[c.end :],
            )
            if tail and claim(c.end + tail.start("num"), c.end + tail.end("num"), c):
                value = parse_number(tail.group("num"))
                if value is not None and _scale_of(tail.group("num")) is None and c.scale:
                    value = _finite(value * c.scale)
                if value is not None and c.value is not None:
                    out.append(
                        _Cand(c.end + tail.start("num"), c.end + tail.end("num"), c.kind, c.priority, value,
                              unit=c.unit, scale=c.scale, currency_ambiguous=c.currency_ambiguous, low=c.value,
                              high=value, no_modifier=True)
                    )  # fmt: skip
                    c.low, c.high = c.value, value
    return sorted(out, key=lambda c: c.start)


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
            a.low = b.low = a.value
            a.high = b.high = b.value
    return taken


# A bare number compared with a measured one: "44,947 megawatts, lower than the 46,797 he saw", "with 50,116,".
_COMPARED_BEFORE = re.compile(r"(?i)\b(?:than|from|with|versus|vs\.?|against)\s+(?:the\s+)?$")
_NO_NOUN_AFTER = re.compile(
    r"\s*(?:[,;:.)—–]|$|(?:he|she|it|they|we|i|you|in|on|at|a|an|the|and|but|or|by|to|for|last|this|that|"
    r"earlier|later|before|a\s+year)\b)",
    re.IGNORECASE,
)


def _carry_units(text: str, taken: list[_Cand]) -> list[_Cand]:
    """Give a bare number the unit of the measured figure it is compared with in the same text, when nothing
    after it names what it counts and the two are of the same size ("reached 44,947 megawatts, much lower
    than the 46,797 he saw on Friday"): the writer left the unit out, the number is no count."""
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
                 currency_ambiguous=c.currency_ambiguous, low=value, high=c.value)  # fmt: skip


def _modifier(text: str, c: _Cand) -> tuple[str | None, bool, str]:
    before = text[max(0, c.start - 40) : c.start]
    m = _MODIFIER_RE.search(before)
    if m is None:
        return None, False, BOUND_EXACT
    mod = m.group("mod")
    approx, bound = _MODIFIERS[mod.lower()]
    if c.kind == KIND_DATE:
        approx = mod.lower() in _DATE_HEDGES
        bound = BOUND_EXACT
    if mod.lower() == "over" and c.kind == KIND_QUANTITY and c.unit in _TIME_UNITS:
        approx, bound = True, BOUND_LOWER
    if mod.lower() == "between" or mod.lower() == "just":
        approx = False
    if mod.lower() == "over" and text[c.start : c.end].lower().startswith(("a ", "an ")):
        approx, bound = False, BOUND_EXACT  # "over a decade" is "during a decade"
    if mod.lower() in ("some",) and c.kind in (KIND_DATE, KIND_ORDINAL):
        return None, False, BOUND_EXACT
    if mod.lower() == "top" and c.kind not in (KIND_COUNT,):
        return None, False, BOUND_EXACT
    return mod, approx, bound


def _role(text: str, c: _Cand) -> str | None:
    if c.kind not in ROLE_KINDS:
        return None
    before = text[max(0, c.start - 60) : c.start]
    after = text[c.end : c.end + 40]
    if _LEVEL_BEFORE.search(before) and not re.search(
        r"\b(?:increase|rise|drop|fall|gain|decline|cut|hike|reduction|growth)\s+of\s+$", before
    ):
        return ROLE_LEVEL
    if _CHANGE_BEFORE.search(before) or _CHANGE_AFTER.match(after):
        return ROLE_CHANGE
    return ROLE_LEVEL


def find_figures(text: str, context: FigureContext | None = None) -> list[Figure]:
    """Return the figures in ``text`` (rules only, no model): kinds, scaled values, units, dates, qualifiers.

    ``object`` and ``object_entity`` are left empty (see :func:`attach_objects`); offsets index into ``text``.
    """
    ctx = context or FigureContext()
    sc = _scan(text)
    if sc is None:
        return []
    cands: list[_Cand] = []
    if sc.digit or sc.numword:
        cands += _money_cands(text, ctx, sc)
        cands += _percent_cands(text, sc)
        cands += _age_cands(text, sc)
        cands += _count_cands(text, sc)
    cands += _quantity_cands(text, sc)
    cands += _date_cands(text, ctx, sc)
    cands += _fraction_cands(text, sc)
    cands += _ordinal_cands(text, sc)
    if not cands:
        return []
    excluded = _excluded_spans(text, sc)
    taken = _carry_units(text, _pair_ranges(text, _expand_ranges(text, _select(cands, excluded), excluded)))
    figures: list[Figure] = []
    for c in taken:
        mod, approx, bound = (None, False, BOUND_EXACT) if c.no_modifier else _modifier(text, c)
        if c.low is not None and c.high is not None and mod is not None and mod.lower() == "between":
            approx, bound = False, BOUND_EXACT
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
                currency_ambiguous=c.currency_ambiguous,
                approximate=approx,
                modifier=mod,
                bound=bound,
                role=_role(text, c),
                relative=c.relative,
            )
        )
    return figures


# ---------------------------------------------------------------------------------------------------------------
# Objects from the dependency parse
# ---------------------------------------------------------------------------------------------------------------

# Prepositions whose phrase belongs to the measured thing ("holdings of Treasury securities", "price per unit",
# "investment into China from the EU"); others ("in 2024", "between ...") usually do not.
_NP_PREPS = frozenset({"of", "for", "per", "into", "from"})
_NP_LEFT_DEPS = frozenset({"amod", "compound", "nmod", "poss", "nummod", "quantmod", "advmod", "npadvmod", "case"})
_NOUN_TAGS = frozenset({"NN", "NNS", "NNP", "NNPS"})
_MODIFIER_TAGS = frozenset({"JJ", "JJR", "JJS", "NN", "NNS", "NNP", "NNPS", "HYPH", "VBN", "VBG"})
_PRONOUN_TAGS = frozenset({"PRP", "PRP$", "WP", "WDT", "EX", "DT"})
# Words right after a figure that are never what it measures ("12 per cent", "$254-billion Canadian" names the dollar).
_NOT_OBJECTS = frozenset({"cent", "percent", "%", "point", "points", "worth", "which", "that", "who", "total", "one",
                          "canadian", "cdn"})  # fmt: skip
# Nouns that name a change rather than the thing that changed ("an increase of 6%").
_CHANGE_HEADS = _words(
    "increase increases decrease decreases rise rises drop drops fall falls gain gains decline declines jump "
    "growth cut cuts hike hikes reduction reductions loss losses surge boost climb plunge contraction slide dip"
)
# Verbs whose direct object is the amount a subject reaches ("the net worth reached 855 billion euros") or takes
# in ("JPMorgan earned $4.9 billion", "the Orion spacecraft will get $1.194 billion").
# Nouns that measure something else ("an annualized rate of 3.8%", "a pace of $35 billion per month").
_MEASURE_HEADS = _words("rate pace level total sum amount value average figure tally high low record")
_LEVEL_VERBS = _words(
    "reach reached reaches total totalled totaled totals hit hits exceed exceeded exceeds top topped tops "
    "surpass surpassed amount amounted stand stood come came cost costs equal equals represent represents "
    "account accounted earn earned earns receive received receives get gets got"
)


def attach_objects(
    figures: Sequence[Figure],
    doc: Doc,
    *,
    offset: int = 0,
    entity_spans: Sequence[tuple[int, int, str]] = (),
) -> list[Figure]:
    """Return ``figures`` with ``object`` (and ``object_entity``) filled from the parse ``doc``.

    ``doc`` parses ``text[offset : offset + len(doc.text)]`` of the text the figure offsets index into. Only
    figures that :func:`needs_parse` and have no object yet are looked at; the two ends of a range ("1/4 to 1/2
    percent") and an amount restated ("73 per cent of the cost, or RM4.5 million") share an object.
    ``entity_spans`` are ``(start, end, canonical)`` in the same text; the entity inside the object phrase, if
    any, becomes ``object_entity``.
    """
    fig_tokens: set[int] = set()
    spans: list[Span | None] = []
    for f in figures:
        inside = offset <= f.start_char and f.end_char <= offset + len(doc.text)
        sp = doc.char_span(f.start_char - offset, f.end_char - offset, alignment_mode="expand") if inside else None
        spans.append(sp)
        if sp is not None:
            fig_tokens.update(range(sp.start, sp.end))
    found: list[tuple[int, int] | None] = []
    for f, sp in zip(figures, spans, strict=True):
        wanted = sp is not None and needs_parse(f) and f.object is None
        found.append(_object_tokens(sp, doc, fig_tokens) if wanted and sp is not None else None)
    # range ends and restatements share their object
    for i in range(len(figures) - 1):
        a, b = figures[i], figures[i + 1]
        gap = doc.text[a.end_char - offset : b.start_char - offset] if spans[i] and spans[i + 1] else ""
        if needs_parse(a) and needs_parse(b) and _SHARED_GAP.fullmatch(gap):
            found[i], found[i + 1] = found[i] or found[i + 1], found[i + 1] or found[i]
        elif needs_parse(b) and found[i + 1] is None and re.search(r",\s+or\s+$", gap):
            found[i + 1] = found[i]  # "73 per cent of the cost, or RM4.5 million"
    out: list[Figure] = []
    for f, toks in zip(figures, found, strict=True):
        if toks is None:
            out.append(f)
            continue
        start, end = toks
        obj = _clean_object(doc[start:end].text)
        if not obj:
            out.append(f)
            continue
        s_char = doc[start].idx + offset
        e_char = doc[end - 1].idx + len(doc[end - 1]) + offset
        entity = next((c for s, e, c in entity_spans if s < e_char and s_char < e), None)
        out.append(replace(f, object=obj, object_entity=entity))
    return out


_SHARED_GAP = re.compile(
    r"\s?(?:[-–—‑]|to|and)\s?|\s+(?:to|and)\s+|,?\s+or\s+|\s*\(\s*|\s+\(|(?:\s+(?:per|a|an|each)\s+\w+)?"
    r"\s+(?:rather\s+than|instead\s+of|versus|vs\.?)\s+|,\s+(?:up|down)\s+(?:by\s+)?"
)


def _clean_object(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip(" ,;:—–-()[]\"“”'")
    text = re.sub(r"^(?:the|a|an|all|its|their|his|her|our|this|that|these|those|some)\s+", "", text, flags=re.I)
    # a hedge on the figure is no part of what it measures: "an estimated net worth of $186.3 billion"
    text = re.sub(r"^(?:estimated|expected|projected|approximate|reported)\s+(?=\w)", "", text, flags=re.I)
    return text.strip()


def _object_tokens(sp: Span, doc: Doc, figs: set[int]) -> tuple[int, int] | None:
    """Return the token range of what the figure ``sp`` measures, by the first rule that applies; a change noun
    ("a 10% increase in X") or a measure noun ("a pace of $35 billion") found that way points further on."""
    found = _first_object(sp, doc, figs)
    if found is None:
        return None
    head = _range_head(doc, found)
    if head.lower_ in _CHANGE_HEADS:
        return _change_object(head, doc, figs, sp)
    if head.lower_ in _MEASURE_HEADS:
        return _measured_by(head, doc, figs, sp) or found
    return found


def _range_head(doc: Doc, found: tuple[int, int]) -> Token:
    span = doc[found[0] : found[1]]
    return span.root if span.root.tag_ in _NOUN_TAGS else doc[found[1] - 1]


def _measured_by(noun: Token, doc: Doc, figs: set[int], sp: Span) -> tuple[int, int] | None:
    """Return what a measure noun ("rate", "pace", "total") measures: the object of the verb it hangs from."""
    tok = noun
    while tok.dep_ == "pobj" and tok.head.dep_ == "prep":
        tok = tok.head.head
        if tok.tag_.startswith("VB"):
            obj = _verb_object(tok, doc, figs, sp)
            if obj is not None:
                return obj
            for c in tok.children:  # "add to its holdings of X at a pace of ..."
                if c.dep_ == "prep" and c.lower_ == "to" and c.i < noun.i:
                    pobj = _child(c, "pobj")
                    if pobj is not None and pobj.i not in figs:
                        return _np(pobj, doc, figs)
            return None
    return None


def _first_object(sp: Span, doc: Doc, figs: set[int]) -> tuple[int, int] | None:
    nxt = _skip_aside(doc, sp.end, figs)
    # 1. "US$95 billion worth of German goods", "45 per cent of X", "a third — 31% — of X"
    if nxt < len(doc) and doc[nxt].lower_ == "worth":
        nxt += 1
    if nxt < len(doc) and doc[nxt].lower_ == "of":
        pobj = _child(doc[nxt], "pobj")
        if pobj is not None and pobj.tag_ in ("WDT", "WP"):
            verb = pobj.head.head.head
            attr = _child(verb, "attr") or _child(verb, "acomp")
            return _np(attr, doc, figs) if attr is not None else None  # "12 per cent of which were cars"
        if pobj is not None and pobj.i not in figs:
            return _np(pobj, doc, figs)
        return _np_after(doc, nxt, figs)
    # 2. a modifier of the noun phrase that follows: "82 per cent renewables target", "$77million Manhattan mansion";
    # a figure restating the one before it in brackets looks past the bracket: "a 1,340km (832-mile) land border"
    last = sp.end - 1
    if sp.end < len(doc) and doc[sp.end].text == ")" and sp.start > 1 and doc[sp.start - 1].text == "(":
        last = sp.end if doc[sp.start - 2].i in figs else last
    after = _np_after(doc, last, figs)
    if after is not None:
        return after
    head = sp.root
    dep, gov = head.dep_, head.head
    if gov.i == sp.end and gov.lower_ in _NOT_OBJECTS and gov.lower_ in _DOLLAR_NAMED_AFTER:
        head, dep, gov = gov, gov.dep_, gov.head  # "$254-billion Canadian": the word only names the dollar
    if (
        dep in ("nmod", "compound", "amod", "nummod")
        and gov.i >= sp.end
        and gov.tag_ in _NOUN_TAGS
        and gov.i not in figs
        and gov.lower_ not in _NOT_OBJECTS
    ):
        return _np(gov, doc, figs)  # the noun the figure modifies, further on: "1,340km (832-mile) land border"
    # 3a. "higher pay: $18.75 an hour", "households with incomes less than $50,000", "a peak above $68,000"
    before = _before_modifiers(doc, sp.start, figs)
    if before is not None:
        return _np(_climb(before), doc, figs)
    # 3. a figure in brackets or apposition names the thing before it: "Electricity (5.4%)", "emissions 42.6 per cent"
    if sp.start > 0 and doc[sp.start - 1].text == "(" and sp.start > 1 and doc[sp.start - 2].tag_ in _MODIFIER_TAGS:
        return _np(_climb(doc[sp.start - 2]), doc, figs)
    if dep in ("appos", "npadvmod", "nmod") and gov.i < sp.start and gov.tag_ in _NOUN_TAGS and gov.i not in figs:
        return _np(_climb(gov), doc, figs)
    # 4. attached to a verb, directly or through a preposition
    if dep == "pobj" and gov.dep_ in ("prep", "quantmod"):
        target = gov.head
        if target.tag_ == "IN" and target.head.tag_ in _NOUN_TAGS:
            target = target.head  # "a surplus of just under US$6.9 billion"
        if target.tag_ in _NOUN_TAGS and target.i not in figs and target.lower_ not in _CHANGE_HEADS:
            return _np(_climb(target), doc, figs)  # "cold temperatures of around 20 degrees"
        if target.tag_ in ("JJ", "RB", "JJR", "RBR", "IN", "VBN") and target.head.tag_.startswith("VB"):
            target = target.head
        if target.tag_.startswith("VB"):
            return _verb_object(target, doc, figs, sp)
        if target.lower_ in _CHANGE_HEADS:
            return _change_object(target, doc, figs, sp)
        return None
    if dep in ("dobj", "attr", "oprd") and gov.tag_.startswith("VB"):
        if gov.lemma_ in _LEVEL_VERBS or gov.lower_ in _LEVEL_VERBS or dep == "attr":
            subj = _subject(gov, figs)
            return _np(subj, doc, figs) if subj is not None else None
        if head.lower_ in ("cent", "percent", "%", "points", "point"):
            return _verb_object(gov, doc, figs, sp)  # "fall 37 per cent"
        return _money_destination(sp, gov, doc, figs)
    if dep in ("npadvmod", "advmod", "acomp", "ccomp", "xcomp", "dep", "conj") and gov.tag_.startswith("VB"):
        return _verb_object(gov, doc, figs, sp)
    if dep == "npadvmod" and gov.tag_ in ("JJ", "RB", "IN") and gov.head.tag_.startswith("VB") and gov.i not in figs:
        return _verb_object(gov.head, doc, figs, sp)  # "the screen was 60 feet high", "the wall was 201 feet from"
    return None


_BEFORE_SKIP = _words(
    "less more fewer greater than about around nearly almost over under above below just some roughly"
)


def _before_modifiers(doc: Doc, start: int, figs: set[int]) -> Token | None:
    """Return the noun right before a figure, across a colon or comparison words ("incomes less than")."""
    i = start - 1
    skipped = 0
    while i >= 0 and doc[i].lower_ in _BEFORE_SKIP and doc[i].i not in figs:
        i -= 1
        skipped += 1
    if i >= 1 and skipped == 0 and doc[i].text == ":":
        i -= 1
        skipped = 1
    if skipped == 0 or i < 0 or doc[i].i in figs or doc[i].tag_ not in ("NN", "NNS"):
        return None
    return doc[i]


def _skip_aside(doc: Doc, i: int, figs: set[int]) -> int:
    """Return the index after an aside that restates the figure: "a third — 31% — of ..."."""
    if i < len(doc) and doc[i].text in ("—", "–", "-", "(") and i + 1 < len(doc) and doc[i + 1].i in figs:
        j = i + 1
        while j < len(doc) and j in figs:
            j += 1
        if j < len(doc) and doc[j].text in ("—", "–", "-", ")"):
            return j + 1
    return i


def _climb(tok: Token) -> Token:
    """Return the noun a prepositional phrase hangs from: "target for the federal funds rate" from "rate"."""
    for _ in range(3):
        prep = tok.head
        if tok.dep_ == "pobj" and prep.lower_ in ("of", "for") and prep.head.tag_ in _NOUN_TAGS:
            tok = prep.head
        else:
            break
    return tok


def _np_after(doc: Doc, last: int, figs: set[int]) -> tuple[int, int] | None:
    """Return the noun phrase right after token ``last`` that the figure modifies ("support" in "55.7 percent
    support"), or None when the next words are no noun phrase."""
    i = last + 1
    if i < len(doc) and doc[i].text == "," and i + 1 < len(doc) and doc[i + 1].tag_ in ("JJ", "HYPH"):
        i += 1  # "a $100-million, property-wide transformation"
    start = i
    end = None
    while i < len(doc) and i not in figs and doc[i].tag_ in _MODIFIER_TAGS and doc[i].lower_ not in _NOT_OBJECTS:
        if doc[i].tag_ in _NOUN_TAGS:
            end = i
            nxt = doc[i + 1] if i + 1 < len(doc) else None
            if nxt is None or nxt.tag_ not in _MODIFIER_TAGS or nxt.tag_ in ("VBN", "VBG") or nxt.i in figs:
                break
        elif doc[i].tag_ in ("VBN", "VBG") and i == start and doc[i].head.i <= i:
            return None  # a verb: "27 per cent gained"
        i += 1
    if end is None:
        return None
    return (start, end + 1 + _pp_len(doc, end, figs))


def _pp_len(doc: Doc, head_i: int, figs: set[int]) -> int:
    """Return how many tokens of of/for/per phrases follow noun ``head_i`` ("price per unit")."""
    hi = head_i
    while hi + 1 < len(doc) and doc[hi + 1].lower_ in _NP_PREPS and doc[hi + 1].dep_ in ("prep", "mark"):
        prep = doc[hi + 1]
        # the phrase the preposition opens: its subtree, or up to the noun it governs when the parse hung it
        # elsewhere ("the target for the federal funds rate 75 basis points")
        sub = sorted(t.i for t in prep.subtree)
        if len(sub) == 1 or sub[-1] - sub[0] + 1 != len(sub):
            nxt = hi + 2
            while nxt < len(doc) and doc[nxt].tag_ in ("DT", "JJ", "JJS", "NN", "NNS", "NNP", "NNPS", "HYPH"):
                nxt += 1
            sub = list(range(hi + 1, nxt))
        if len(sub) < 2 or any(i in figs for i in sub) or any(doc[i].text in ("(", "—", "–", ",") for i in sub):
            break
        if doc[sub[-1]].tag_ not in _NOUN_TAGS:
            break
        hi = sub[-1]
    return hi - head_i


def _change_object(change: Token, doc: Doc, figs: set[int], sp: Span) -> tuple[int, int] | None:
    """Return what a change noun measures: "a 10% increase in the median price" -> "median price"; else the
    subject of its verb ("the net worth reached ..., an increase of 6%")."""
    for c in change.rights:
        if c.dep_ == "prep" and c.lower_ in ("in", "of"):
            pobj = _child(c, "pobj")
            if pobj is not None and pobj.i not in figs:
                return _np(pobj, doc, figs)
    verb = change.head
    while verb.dep_ in ("appos", "conj", "npadvmod") and verb.head is not verb and not verb.tag_.startswith("VB"):
        verb = verb.head
    if verb.tag_.startswith("VB"):
        subj = _subject(verb, figs)
        return _np(subj, doc, figs) if subj is not None else None
    return None


def _money_destination(sp: Span, verb: Token, doc: Doc, figs: set[int]) -> tuple[int, int] | None:
    """Return what an amount given as a direct object is spent on or held in ("injected US$6.6 billion in fresh
    capital", "allocated $70 million for a Digital Infrastructure Development Initiative")."""
    for tok in (*sp, verb):
        for prep in tok.children:
            if prep.dep_ != "prep" or prep.i < sp.end - 1:
                continue
            pobj = _child(prep, "pobj")
            if pobj is None or pobj.i in figs or pobj.tag_ in _PRONOUN_TAGS:
                continue
            if prep.lower_ in ("in", "on") and pobj.tag_ in ("NN", "NNS"):
                return _np(pobj, doc, figs)
            if prep.lower_ == "for" and tok is verb:
                return _np(pobj, doc, figs)
    if verb.tag_ == "VBG" and verb.dep_ in ("pobj", "pcomp"):
        return (verb.i, verb.i + 1)  # "committed to spending more than $2B"
    return None


def _child(tok: Token, dep: str, lower: str | None = None) -> Token | None:
    for c in tok.children:
        if c.dep_ == dep and (lower is None or c.lower_ == lower):
            return c
    return None


def _subject(verb: Token, figs: set[int]) -> Token | None:
    v = verb
    for _ in range(6):
        for c in v.children:
            if c.dep_ in ("nsubj", "nsubjpass") and c.i not in figs:
                return None if c.tag_ in _PRONOUN_TAGS else c
        if v.dep_ == "relcl" and v.head.tag_ in _NOUN_TAGS:
            return v.head
        if v.dep_ in ("xcomp", "conj", "advcl", "ccomp", "pcomp", "relcl", "acl") and v.head is not v:
            v = v.head
            continue
        break
    return None


def _verb_object(verb: Token, doc: Doc, figs: set[int], exclude: Span) -> tuple[int, int] | None:
    """Return what a figure attached to ``verb`` measures: its direct object, else its subject."""
    for c in verb.children:
        if c.dep_ == "dobj" and c.i not in figs and not (exclude.start <= c.i < exclude.end):
            if c.tag_ in _PRONOUN_TAGS:
                return None
            if c.lower_ in _NOT_OBJECTS or c.like_num:
                continue
            if c.lower_ in _CHANGE_HEADS:
                break
            return _np(c, doc, figs)
    subj = _subject(verb, figs)
    if subj is None:
        return None
    return _np(subj, doc, figs)


def _np(head: Token | None, doc: Doc, figs: set[int]) -> tuple[int, int] | None:
    """Return the token range of the noun phrase around ``head``: left modifiers, of/for/per phrases."""
    if head is None or head.i in figs or head.tag_ in _PRONOUN_TAGS:
        return None
    keep = {head.i}
    for c in head.lefts:
        if c.dep_ in ("det", "predet", "punct", "prep", "cc"):
            continue
        if c.dep_ == "poss" and (c.tag_ in ("PRP$", "WP$") or head.tag_ in ("NNP", "NNPS")):
            continue
        if c.dep_ in _NP_LEFT_DEPS or c.dep_ == "conj":
            keep.update(t.i for t in c.subtree)
    lo = min(keep)
    hi = head.i + _pp_len(doc, head.i, figs)
    # start after the last figure token inside the phrase: "the country's 241 million internet users"
    inner = [i for i in range(lo, head.i) if i in figs]
    if inner:
        lo = max(inner) + 1
    while lo < head.i and (doc[lo].tag_ in ("DT", "PDT", "PRP$", ",", "CC", "POS", "HYPH") or doc[lo].is_punct):
        lo += 1
    while hi > head.i and (doc[hi].is_punct or doc[hi].tag_ in ("CC", "DT")):
        hi -= 1
    return (lo, hi + 1) if lo <= hi else None


# ---------------------------------------------------------------------------------------------------------------
# Whole text
# ---------------------------------------------------------------------------------------------------------------

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


# Kinds whose object the parse finds better than the next-words rule.
_PARSE_KINDS = frozenset({KIND_MONEY, KIND_PERCENT, KIND_FRACTION})


def needs_parse(figure: Figure) -> bool:
    """Return True when ``figure``'s object needs the dependency parse (money, percentages, fractions and
    physical quantities); counts, ordinals and durations use :func:`guess_object` on the words that follow."""
    if figure.kind in _PARSE_KINDS:
        return True
    return figure.kind == KIND_QUANTITY and figure.unit not in _TIME_UNITS


# Words around a number that end the noun phrase of what it counts.
_NP_STOP = _words(
    "a an the and or but nor of in on at to from by with for as than that which who whom whose where when "
    "while is are was were be been being am has have had do does did will would shall should can could "
    "may might must not no so if into onto over under about after before since until during per each "
    "every all some any both either neither this these those it its their his her our your my we they he "
    "she you i there here then also only just even still already aboard ago later earlier more most less "
    "least very too such said says say came come comes went go goes took take takes made make makes got "
    "get gets left fell rose saw gave ran won lost died remain remains live lives work works according "
    "including against between among across through toward towards via like dead alive injured wounded "
    "missing homeless displaced hurt killed plus inside outside last began begin begins lack lacks lacked"
)
_NP_NOUN_ING = _words(
    "building buildings meeting meetings spending funding savings earnings holdings housing training "
    "trading lending pricing rating ratings ceiling ceilings setting settings offering offerings listing "
    "listings opening openings morning mornings evening evenings wedding weddings painting paintings "
    "bombing bombings shooting shootings shipping banking mining"
)
_PERIOD_NOUNS = _words(
    "quarter quarters half year years month months week weeks day days time times round rounds term terms "
    "phase stage season decade century minute hour"
)
_AGED = re.compile(r"(\w+)\s+aged?\s+(?:\d+\s+(?:and|or)\s+)?$")
_OF_TAIL = re.compile(r"\s+of\s+((?:the\s+|a\s+)?(?:\$?[\d.,]+\s+)?[a-z][\w-]*)(?![\w-])")
_WORD_TOKEN = re.compile(r"[\w’'&]+(?:[.\-‑][\w’'&]+)*|[^\w\s]")


_PARTITIVE = re.compile(r"\s+of\s+(?:the|those|these|its|their|his|her|our|all\s+the)\s+", re.IGNORECASE)


def _noun_phrase_at(
    text: str, pos: int, kind: str, others: Sequence[Figure], *, skip_counts: bool = False
) -> tuple[list[str], int | None]:
    """Return the words of the noun phrase that starts at ``pos`` (at most five) and where it ends; other figures
    in front are skipped when they are amounts ("two 120 mm rounds") or, with ``skip_counts``, counts."""
    words: list[str] = []
    last_end: int | None = None
    for m in _WORD_TOKEN.finditer(text, pos, min(len(text), pos + 120)):
        start = m.start()
        other = next((o for o in others if o.start_char <= start < o.end_char), None)
        if other is not None:
            skippable = other.kind in (KIND_MONEY, KIND_QUANTITY) or (skip_counts and other.kind == KIND_COUNT)
            if words or not skippable:
                break
            continue  # "two 120 mm rounds", "two-year $44.6 billion budget"
        w = m.group(0)
        low = w.lower()
        if not w[0].isalnum() or low in _NP_STOP or (low.endswith("ly") and len(low) > 4):
            break
        if re.fullmatch(r"\w+(?:ed|ing)", low) and low not in _NP_NOUN_ING:
            if words and re.search(r"[^s]s$", words[-1].lower()):
                break  # after a plural noun it is the verb: "five publishers reached", "28 questions asked"
            nxt = _WORD_TOKEN.search(text, m.end(), min(len(text), m.end() + 30))
            if nxt is None or nxt.group(0).lower() in _NP_STOP or not nxt.group(0)[0].isalpha():
                break  # a verb ("killed", "aged"), unless it modifies a following noun ("trading partners")
            if words and nxt.group(0)[0].isupper():
                break  # a verb taking a name: "agreement allowing Amazon"
        words.append(w)
        last_end = m.end()
        if kind == KIND_ORDINAL and low in _PERIOD_NOUNS:
            break  # "second quarter", "first half"
        if len(words) == 5:
            break
    return words, last_end


def guess_object(text: str, figure: Figure, others: Sequence[Figure] = ()) -> str | None:
    """Return what a count, ordinal or duration adjective measures from the words after it, without a parse.

    "two Israeli soldiers" -> "Israeli soldiers"; "the first significant employment gain since" ->
    "significant employment gain"; "second-ranking official" -> "official"; "a family of four" -> "family".
    ``figure`` offsets index into ``text``; ``others`` are the text's other figures (skipped over).
    """
    aged = _AGED.search(text, max(0, figure.start_char - 40), figure.start_char)
    if figure.kind == KIND_QUANTITY and aged and aged.group(1).lower() not in _NP_STOP:
        return aged.group(1)  # "two daughters aged 11 and 7"
    if figure.kind == KIND_QUANTITY and figure.unit not in _TIME_UNITS:
        return None
    if figure.kind == KIND_QUANTITY and not re.search(r"[-‑]", figure.text):
        return _noun_of(text, figure)  # a length of time names no noun after it: "a time horizon of 18 months"
    pos = figure.end_char
    if figure.kind == KIND_ORDINAL and re.match(r"one|two|three", figure.text, re.I):
        prev = re.search(r"(\w+)\s+$", text[max(0, figure.start_char - 30) : figure.start_char])
        return prev.group(1) if prev else None  # "day one"
    # the rest of a hyphenated compound: "second-ranking official", "18,000-strong student body"
    rest = re.match(r"[-‑][\w-]+", text[pos:])
    if rest:
        pos += rest.end()
    words, last_end = _noun_phrase_at(text, pos, figure.kind, others)
    part = _PARTITIVE.match(text, pos) if not words and figure.kind == KIND_COUNT else None
    if part is not None:  # "four of the 12 boxes of masks", "three of those boards"
        words, last_end = _noun_phrase_at(text, part.end(), figure.kind, others, skip_counts=True)
    if len(words) == 1 and figure.kind != KIND_ORDINAL and last_end is not None:
        # "6.4 million pairs of $1 bills", "the 26-year-old president of the local"
        of = _OF_TAIL.match(text, last_end)
        nxt = _WORD_TOKEN.search(text, of.end(), min(len(text), of.end() + 30)) if of else None
        runs_on = nxt is not None and nxt.group(0)[0].isalpha() and nxt.group(0).lower() not in _NP_STOP
        if of and of.group(1).split()[-1].lower() not in _NP_STOP and not runs_on:
            words.append("of " + of.group(1))  # not "bricks of a white [powdery substance]"
    if words:
        return " ".join(words)
    return _noun_of(text, figure)


def _noun_of(text: str, figure: Figure) -> str | None:
    """Return the noun a count or a length of time completes through "of": "a family of four" -> "family", "a
    time horizon of 18 to 24 months" -> "time horizon" (a lower-case noun in front is kept for lengths of time)."""
    before = re.search(
        r"(?:(\w+)\s+)?(\w+)\s+of\s+(?:the\s+)?$", text[max(0, figure.start_char - 60) : figure.start_char]
    )
    if before is None or before.group(2).lower() in _NP_STOP or figure.kind not in (KIND_COUNT, KIND_QUANTITY):
        return None
    lead = before.group(1)
    if figure.kind == KIND_QUANTITY and lead and lead.islower() and lead not in _NP_STOP:
        return f"{lead} {before.group(2)}"
    return before.group(2)
    return None


def parse_window(
    text: str, figures: Sequence[Figure], bounds: tuple[int, int] | None = None, left: int = 12, right: int = 16
) -> tuple[int, int] | None:
    """Return the ``(start, end)`` of ``text`` worth parsing for ``figures`` (offsets into ``text``), inside the
    sentence ``bounds``: ``left`` words before and ``right`` words after the figures that need a parse, or None
    when none does. Clipping long sentences to the words around the figures keeps the parse cheap."""
    wanted = [f for f in figures if needs_parse(f)]
    if not wanted:
        return None
    s, e = bounds if bounds is not None else (0, len(text))
    lo_char = min(f.start_char for f in wanted)
    hi_char = max(f.end_char for f in wanted)
    before = list(re.finditer(r"\S+", text[s:lo_char]))
    after = list(re.finditer(r"\S+", text[hi_char:e]))
    start = s + before[-left].start() if len(before) > left else s
    end = hi_char + after[right - 1].end() if len(after) > right else e
    return start, end


def objects_without_parse(text: str, figures: Sequence[Figure]) -> list[Figure]:
    """Return ``figures`` with the objects of counts, ordinals and duration adjectives from :func:`guess_object`
    (figures whose object comes from the parse, and those that already have one, are left as they are)."""
    out = []
    for f in figures:
        if f.object is None and f.kind in (KIND_COUNT, KIND_ORDINAL, KIND_QUANTITY) and not needs_parse(f):
            obj = guess_object(text, f, figures)
            out.append(replace(f, object=obj) if obj else f)
        else:
            out.append(f)
    # "from 100 troops to 1,100", "157,000 cases and Italy 143,600", "a horizon of 18 to 24 months": a later count
    # (or length of time) written without its noun takes the object of the one it is coordinated with
    for i in range(len(out) - 1):
        a, b = out[i], out[i + 1]
        if (
            a.kind == b.kind
            and a.kind in (KIND_COUNT, KIND_QUANTITY)
            and a.unit == b.unit
            and a.object
            and not b.object
        ):
            gap = text[a.end_char : b.start_char]
            rest = gap[gap.find(a.object) + len(a.object) :] if a.object in gap else gap
            if len(gap) < 60 and re.fullmatch(r"\s*,?\s*(?:and|to|or|versus|vs\.?)\s+(?:[A-Z][\w’'.-]*\s+){0,2}", rest):
                out[i + 1] = replace(b, object=a.object)
    # "nine and 12 shots", "10-12 people": the first of two coordinated counts takes the second's object
    for i in range(len(out) - 2, -1, -1):
        a, b = out[i], out[i + 1]
        if (
            a.kind == b.kind == KIND_COUNT
            and b.object
            and re.fullmatch(r"\s+(?:and|or|to)\s+|\s?[-–]\s?", text[a.end_char : b.start_char])
        ):
            out[i] = replace(a, object=b.object)
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
