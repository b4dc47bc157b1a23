"""Currencies and units of measure: what a symbol, a code or a unit word after a number stands for.

A bare "$" or "¥" means different currencies in different outlets, so :func:`make_context` decides once per
document what they stand for (from the source's hints, else from what the text itself names) and the candidate
rules read that decision from the :class:`FigureContext`. Units of measure map every written form ("km",
"kilometres", "kilometers") to one canonical name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime


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


# The kind of dollar named right after an amount: "$120-billion (U.S.)", "$45-billion Canadian)".
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
