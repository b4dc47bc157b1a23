"""Currencies and units of measure: what a symbol, a code or a unit word after a number stands for.

A bare "$" or "¥" means different currencies in different outlets, so :func:`make_context` decides once per
document what they stand for, and names where the decision came from (``currency_source`` of a figure): the
outlet's country (the source's hints, else the outlet's domain or site name: :func:`outlet_country`), the kind of
dollar the text itself names ("C$", "Canadian dollars"), the places the text is about, else the US dollar (or
yen) by default, the one case flagged ambiguous. The candidate rules read that decision from the
:class:`FigureContext`. Units of measure map every written form ("km", "kilometres", "kilometers") to one
canonical name; a bare "degrees" of temperature takes the scale the text writes elsewhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from tasks.figures.kinds import _words


@dataclass(frozen=True, slots=True)
class FigureContext:
    """What the figures pass knows about the document a text comes from.

    ``published_at`` anchors relative dates and gives month-only dates their year; ``currency`` and ``country``
    are the outlet's (ISO 4217 / ISO 3166 alpha-2: the source's hints, else what the outlet's domain or name
    says). ``dollar``/``yen`` are the currencies a bare "$"/"¥" stands for in this document, whether that choice
    is still a guess and where it came from; build them with :func:`make_context`.
    """

    published_at: datetime | date | None = None
    currency: str | None = None
    country: str | None = None
    dollar: str = "USD"
    dollar_ambiguous: bool = True
    yen: str = "JPY"
    yen_ambiguous: bool = True
    # Where the choice of ``dollar``/``yen`` came from: one of the CURRENCY_FROM_* words below.
    dollar_source: str = "default"
    yen_source: str = "default"
    # The temperature scale the text writes ("degree_celsius"), given to a bare "degrees" of temperature.
    temperature: str | None = None


# ---------------------------------------------------------------------------------------------------------------
# Currencies
# ---------------------------------------------------------------------------------------------------------------

# Where a money figure's currency came from (the ``currency_source`` column). Only ``default`` is a guess.
CURRENCY_FROM_SYMBOL = "symbol"  # written with the amount: "€", "US$", "C$", "EUR", "euros", "Canadian dollars"
CURRENCY_FROM_OUTLET = "outlet_country"  # a bare "$" in an outlet of a known country (hints, domain, site name)
CURRENCY_FROM_TEXT = "text"  # a bare "$" in a text that names one kind of dollar elsewhere ("C$2 billion ... $5")
CURRENCY_FROM_PLACES = "text_places"  # a bare "$" in a text about places of one dollar country ("Ohio", "Dayton")
CURRENCY_FROM_DEFAULT = "default"  # nothing said which: the US dollar (yen), flagged ``currency_ambiguous``

# Where the dollar sign means a local dollar. Outlets elsewhere that write "$" mean the US dollar.
_DOLLAR_COUNTRIES = {
    "US": "USD", "CA": "CAD", "AU": "AUD", "NZ": "NZD", "SG": "SGD", "HK": "HKD", "TW": "TWD", "JM": "JMD",
    "BS": "BSD", "BB": "BBD", "TT": "TTD", "FJ": "FJD", "LR": "LRD", "NA": "NAD", "ZW": "USD", "EC": "USD",
    "SV": "USD", "PA": "USD", "PR": "USD", "MX": "MXN", "CL": "CLP", "CO": "COP", "AR": "ARS",
    "KY": "KYD", "BZ": "BZD", "GY": "GYD", "BM": "BMD", "AG": "XCD", "DM": "XCD", "GD": "XCD", "KN": "XCD",
    "LC": "XCD", "VC": "XCD", "AI": "XCD", "MS": "XCD",
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
    "fj$": "FJD", "g$": "GYD", "l$": "LRD", "usd$": "USD", "cad$": "CAD", "aud$": "AUD", "nzd$": "NZD",
    "sgd$": "SGD", "hkd$": "HKD",
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
    outlet: str | None = None,
    site_name: str | None = None,
) -> FigureContext:
    """Return the :class:`FigureContext` for a document: decide what a bare "$" and "¥" stand for.

    ``country`` and ``currency`` are the source's hints; without a country, the outlet's domain (``outlet``, a
    registrable domain such as ``cbc.ca``) or ``site_name`` may give one (:func:`outlet_country`). For "$", in
    order: the currency hint when it is a dollar; the country when it is a dollar country; the one kind of
    dollar the text names ("C$", "Canadian dollars", "US$"); the US dollar when the country is known (outlets
    outside dollar countries writing "$" mean it); the one dollar country whose places the text names (a story
    about "Ohio" and "Columbus"); else the US dollar, flagged ambiguous. "¥" likewise between yen and yuan.
    """
    cur = (currency or "").upper() or None
    ctry = (country or "").upper() or outlet_country(outlet, site_name)
    dollar, dollar_from = "USD", CURRENCY_FROM_DEFAULT
    if cur in _DOLLAR_CURRENCIES:
        dollar, dollar_from = cur or "USD", CURRENCY_FROM_OUTLET
    elif ctry in _DOLLAR_COUNTRIES:
        dollar, dollar_from = _DOLLAR_COUNTRIES[ctry or ""], CURRENCY_FROM_OUTLET
    elif (written := _written_dollar(text)) is not None:
        dollar, dollar_from = written, CURRENCY_FROM_TEXT
    elif ctry is not None or cur is not None:
        dollar_from = CURRENCY_FROM_OUTLET
    elif (local := _dollar_of_places(text)) is not None:
        dollar, dollar_from = local, CURRENCY_FROM_PLACES
    yen, yen_from = "JPY", CURRENCY_FROM_DEFAULT
    if cur in ("JPY", "CNY"):
        yen, yen_from = cur or "JPY", CURRENCY_FROM_OUTLET
    elif ctry in ("JP", "CN"):
        yen, yen_from = ("JPY" if ctry == "JP" else "CNY"), CURRENCY_FROM_OUTLET
    elif re.search(r"\b(?:yuan|renminbi|RMB)\b", text):
        yen, yen_from = "CNY", CURRENCY_FROM_TEXT
    elif re.search(r"\byen\b", text):
        yen, yen_from = "JPY", CURRENCY_FROM_TEXT
    return FigureContext(
        published_at, cur, ctry, dollar, dollar_from == CURRENCY_FROM_DEFAULT, yen, yen_from == CURRENCY_FROM_DEFAULT,
        dollar_from, yen_from, _temperature_scale(text, ctry),
    )  # fmt: skip


_WRITTEN_DOLLAR = re.compile(
    r"\b(?:(C|CA|CAN|A|AU|NZ|S|SG|HK|NT)\$|"
    r"(Canadian|Australian|Singapore|Hong Kong|New Zealand|Taiwan(?:ese)?|Jamaican|Namibian|Fijian)"
    r" dollars?)"
)
_WRITTEN_US_DOLLAR = re.compile(r"(?<![\w$])(?:US ?\$|U\.S\. ?\$|USD ?\d|(?:US|U\.S\.|American) dollars?\b)")


def _written_dollar(text: str) -> str | None:
    """Return the one kind of dollar the text names explicitly: a non-US one if it names exactly one kind, else
    the US dollar if that is the only one it names ("US$"), else None."""
    found: set[str] = set()
    for m in _WRITTEN_DOLLAR.finditer(text):
        if m.group(1):
            found.add(_PREFIX_CURRENCY[m.group(1).lower() + "$"])
        else:
            found.add(_DOLLAR_ADJECTIVES[m.group(2).lower()])
    if found:
        return found.pop() if len(found) == 1 else None
    return "USD" if "$" in text and _WRITTEN_US_DOLLAR.search(text) else None


# ---------------------------------------------------------------------------------------------------------------
# The outlet's country, and the places a text is about
# ---------------------------------------------------------------------------------------------------------------

# Country-code domains sold to anyone as brand names ("bit.ly", "github.io", "t.co"): they name no country.
_VANITY_TLDS = _words("io co tv me ai fm ly gg to cc ws la am nu sh ac vc so tk ms gl im is dj ag bz sc")
_TLD_COUNTRY = {"uk": "GB", "eu": ""}
# Country names in an outlet's name: "Times of India", "Mexico News Daily", "The Portugal News".
_COUNTRY_NAMES = {
    "america": "US", "american": "US", "usa": "US", "canada": "CA", "canadian": "CA", "australia": "AU",
    "australian": "AU", "new zealand": "NZ", "singapore": "SG", "hong kong": "HK", "taiwan": "TW", "taipei": "TW",
    "jamaica": "JM", "jamaican": "JM", "trinidad": "TT", "barbados": "BB", "bahamas": "BS", "namibia": "NA",
    "namibian": "NA", "fiji": "FJ", "mexico": "MX", "india": "IN", "indian": "IN", "pakistan": "PK",
    "britain": "GB", "british": "GB", "ireland": "IE", "irish": "IE", "nigeria": "NG", "kenya": "KE",
    "south africa": "ZA", "malaysia": "MY", "philippines": "PH", "portugal": "PT", "japan": "JP", "china": "CN",
}  # fmt: skip
# Places of the dollar countries whose names are rarely anything else: states, provinces, large cities. Left out on
# purpose: names shared with other countries or with people ("Georgia", "Victoria", "London" (Ontario), "Perth",
# "Halifax", "Wellington", "Hamilton", "Austin", "Jackson", "Madison", "Phoenix").
_PLACES = {
    "US": "Alabama|Alaska|Arizona|Arkansas|California|Colorado|Connecticut|Delaware|Florida|Hawaii|Idaho|Illinois|"
    "Indiana|Iowa|Kansas|Kentucky|Louisiana|Maine|Maryland|Massachusetts|Michigan|Minnesota|Mississippi|Missouri|"
    "Montana|Nebraska|Nevada|New Hampshire|New Jersey|New Mexico|New York|North Carolina|North Dakota|Ohio|"
    "Oklahoma|Oregon|Pennsylvania|Rhode Island|South Carolina|South Dakota|Tennessee|Texas|Utah|Vermont|Virginia|"
    "Washington|West Virginia|Wisconsin|Wyoming|Los Angeles|Chicago|Houston|Philadelphia|San Antonio|San Diego|"
    "Dallas|San Francisco|Seattle|Denver|Boston|Detroit|Atlanta|Miami|Baltimore|Pittsburgh|Cleveland|Cincinnati|"
    "Indianapolis|Minneapolis|St\\. Louis|New Orleans|Las Vegas|Sacramento|Nashville|Memphis|Milwaukee|Tampa|"
    "Orlando|Charlotte|Brooklyn|Manhattan|Bronx|Oakland|Honolulu|Anchorage|Albuquerque|Tucson|Louisville",
    "CA": "Ontario|Quebec|British Columbia|Alberta|Manitoba|Saskatchewan|Nova Scotia|New Brunswick|Newfoundland|"
    "Prince Edward Island|Yukon|Nunavut|Northwest Territories|Toronto|Montreal|Montréal|Vancouver|Ottawa|Calgary|"
    "Edmonton|Winnipeg|Mississauga|Brampton|Saskatoon|Kelowna",
    "AU": "New South Wales|Queensland|Western Australia|South Australia|Tasmania|Northern Territory|Sydney|"
    "Melbourne|Brisbane|Adelaide|Canberra|Gold Coast|Hobart",
    "NZ": "Auckland|Christchurch|Dunedin",
}  # fmt: skip
_PLACE_RE = re.compile(r"(?<![\w-])(?:" + "|".join(f"(?P<{c}>{p})" for c, p in _PLACES.items()) + r")(?![\w-])")
_ALL_NAMES = sorted(
    (*_COUNTRY_NAMES, *(w.lower() for p in _PLACES.values() for w in p.split("|"))), key=len, reverse=True
)
_NAME_RE = re.compile(r"(?i)(?<![\w-])(?P<name>" + "|".join(_ALL_NAMES) + r")(?![\w-])")
_PLACE_COUNTRY = {w.lower().replace("\\", ""): c for c, p in _PLACES.items() for w in p.split("|")}
# National outlets of the dollar countries on generic domains whose names give no place: where a reader of "$"
# in them knows which dollar without being told.
_OUTLETS = {
    "nationalpost.com": "CA", "financialpost.com": "CA", "theglobeandmail.com": "CA", "thestar.com": "CA",
    "theprovince.com": "CA", "leaderpost.com": "CA", "thestarphoenix.com": "CA", "lfpress.com": "CA",
    "windsorstar.com": "CA", "nationalobserver.com": "CA", "apnews.com": "US", "wsj.com": "US", "npr.org": "US",
    "cnn.com": "US", "foxnews.com": "US", "foxbusiness.com": "US", "cnbc.com": "US", "nbcnews.com": "US",
    "cbsnews.com": "US", "politico.com": "US", "axios.com": "US", "thehill.com": "US",
    "nypost.com": "US", "latimes.com": "US", "usnews.com": "US", "businessinsider.com": "US",
}  # fmt: skip
# Compact forms of the place names, for domains that write them as one word ("bostonherald.com", "canada.com").
_JOINED_NAMES = sorted(
    ((re.sub(r"\W", "", w), c) for w, c in (*_COUNTRY_NAMES.items(), *_PLACE_COUNTRY.items()) if len(w) >= 5),
    key=lambda pair: -len(pair[0]),
)


def outlet_country(outlet: str | None, site_name: str | None = None) -> str | None:
    """Return the ISO 3166 country of an outlet from its domain or name, or None when they do not say.

    A country-code domain says it ("cbc.ca" is CA, "bbc.co.uk" GB), except the codes sold as brand names
    (".io", ".co", ".tv"); a generic domain says it when it is one of the national outlets listed here or its
    name starts with a country or a place of a dollar country ("canada.com", "bostonherald.com"); the site name
    when it holds one ("Ottawa Citizen", "The Times of
    India", "Voice of America").
    """
    if outlet:
        if outlet.lower() in _OUTLETS:
            return _OUTLETS[outlet.lower()]
        labels = outlet.lower().rstrip(".").split(".")
        tld = labels[-1]
        if len(labels) > 1 and len(tld) == 2 and tld.isalpha() and tld not in _VANITY_TLDS:
            return _TLD_COUNTRY.get(tld, tld.upper()) or None
        first = re.sub(r"^the", "", labels[0].replace("-", ""))
        for joined, code in _JOINED_NAMES:
            if first.startswith(joined):
                return code
    if site_name:
        m = _NAME_RE.search(site_name)
        if m is not None:
            name = m.group("name").lower()
            return _COUNTRY_NAMES.get(name) or _PLACE_COUNTRY.get(name)
    return None


def _dollar_of_places(text: str) -> str | None:
    """Return the dollar of the one dollar country whose places the text names: at least twice, and at least
    twice as often as those of the other dollar countries ("Columbus, Ohio" in a story of a US outlet)."""
    counts: dict[str, int] = {}
    for m in _PLACE_RE.finditer(text):
        code = m.lastgroup or ""
        counts[code] = counts.get(code, 0) + 1
    if not counts:
        return None
    best = max(counts, key=lambda c: counts[c])
    if counts[best] >= 2 and counts[best] >= 2 * (sum(counts.values()) - counts[best]):
        return _DOLLAR_COUNTRIES[best]
    return None


# A temperature written with its scale: "-7 °C", "20 degrees Fahrenheit", "30C".
_CELSIUS = re.compile(r"\d\s?°\s?C\b|\d\s?℃|(?i:degrees?\s+(?:celsius|centigrade))|(?i:°\s?celsius)")
_FAHRENHEIT = re.compile(r"\d\s?°\s?F\b|\d\s?℉|(?i:degrees?\s+fahrenheit)|(?i:°\s?fahrenheit)")


# Where weather is told in Fahrenheit; every other country's outlets write Celsius.
_FAHRENHEIT_COUNTRIES = frozenset({"US", "PR", "BS", "KY", "BZ", "LR", "PW", "FM", "MH"})


def _temperature_scale(text: str, country: str | None = None) -> str | None:
    """Return the temperature scale the text writes when it writes one and only one; else Celsius for an outlet
    of a country that tells temperatures in Celsius (a US outlet's bare "degrees" may be either); else None."""
    if "°" not in text and "egree" not in text and "℃" not in text and "℉" not in text:
        return None
    celsius, fahrenheit = _CELSIUS.search(text) is not None, _FAHRENHEIT.search(text) is not None
    if celsius != fahrenheit:
        return "degree_celsius" if celsius else "degree_fahrenheit"
    if not celsius and country is not None and country not in _FAHRENHEIT_COUNTRIES:
        return "degree_celsius"
    return None


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
_units("micrometre", "µm", "μm", "micrometre", "micrometres", "micrometer", "micrometers", "micron", "microns")
_units("nanometre", "nm", "nanometre", "nanometres", "nanometer", "nanometers")
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
_units("gram", "gram", "grams", "g", "gm", "gms")
_units("milligram", "mg", "milligram", "milligrams")
_units("pound", "pound", "pounds", "lb", "lbs")
_units("ounce", "ounce", "ounces", "oz")
_units("barrel_per_day", "barrels per day", "barrels a day", "barrels of oil per day", "bpd", "b/d")
_units("barrel", "barrel", "barrels")
_units("litre", "litre", "litres", "liter", "liters")
_units("millilitre", "ml", "millilitre", "millilitres", "milliliter", "milliliters")
_units("gallon", "gallon", "gallons")
_units("pint", "pint", "pints")
_units("quart", "quart", "quarts")
_units("cup", "cup", "cups")  # kitchen measures: "3/4 cup self-raising flour"
_units("tablespoon", "tablespoon", "tablespoons", "tbsp", "tbs")
_units("teaspoon", "teaspoon", "teaspoons", "tsp")
_units("cubic_metre", "cubic metres", "cubic meters", "cubic metre", "cubic meter")
_units("megawatt", "megawatt", "megawatts", "mw")
_units("gigawatt", "gigawatt", "gigawatts", "gw")
_units("kilowatt", "kilowatt", "kilowatts", "kw")
_units("kilowatt_hour", "kilowatt-hours", "kilowatt hours", "kwh")
_units("megawatt_hour", "megawatt-hours", "megawatt hours", "mwh")
_units("gigawatt_hour", "gigawatt-hours", "gigawatt hours", "gwh")
_units("terawatt_hour", "terawatt-hours", "terawatt hours", "twh")
_units("kilometre_per_hour", "km/h", "km / h", "kmh", "kph", "kilometres per hour", "kilometers per hour")
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
_units("part_per_million", "ppm", "parts per million")
_units("part_per_billion", "ppb", "parts per billion")
_units("metre_per_second", "m/s", "metres per second", "meters per second")
_units("hertz", "hz", "hertz")
_units("kilohertz", "khz", "kilohertz")
_units("megahertz", "mhz", "megahertz")
_units("gigahertz", "ghz", "gigahertz")
_units("kilobit_per_second", "kbps", "kilobits per second")
_units("megabit_per_second", "mbps", "megabits per second")
_units("gigabit_per_second", "gbps", "gigabits per second")
_units("terabit_per_second", "tbps", "terabits per second")
_units("kilobyte", "kb", "kilobyte", "kilobytes")
_units("pixel", "pixel", "pixels", "px")
_units("megapixel", "megapixel", "megapixels", "mp")
_units("milliampere_hour", "mah")
_units("decibel", "db", "decibel", "decibels")
_units("pound_per_square_inch", "psi")
_units("mile_per_gallon", "mpg", "miles per gallon")
_units("light_year", "light-years", "light years", "light-year", "light year")
_units("cubic_foot", "cubic feet", "cubic foot")
_units("terawatt", "terawatt", "terawatts", "tw")
_units("watt", "watt", "watts", "w")
_units("kilovolt", "kv", "kilovolt", "kilovolts")
_units("horsepower", "hp", "bhp", "horsepower")
_units("credit_hour", "credit hours", "credit hour")
_units("grade_point", "gpa")

# Units that are ambiguous as bare words and need to be attached to the number ("5t", "3g" are not units when
# spaced: "a 5 t" is rare, "3 g" too; "ha" and "t" collide with words).
_ATTACHED_ONLY = frozenset({"t", "g", "gm", "gms", "ha", "mw", "gw", "kw", "gb", "mb", "tb", "m2", "km2", "in", "ml",
                            "tw", "kv", "hp", "db", "hz", "kb", "nm", "mp", "w"})  # fmt: skip
# Of those, the ones a number may be spaced from when written as symbols in their own case ("8 GB", "50 MW",
# "60 Hz", and the kitchen's "500 g rice", "250 ml milk"): so written they are no word ("gb", "mb" spaced may be
# anything).
_UNIT_CAPS_RE = "GB|MB|TB|KB|MW|GW|kW|KW|kV|HP|dB|Hz|gms|gm|g|ml|mL"
_TIME_UNITS = frozenset({"second", "minute", "hour", "day", "night", "week", "month", "year", "decade", "century"})
# Words of a unit may be joined by hyphens when it is used as an adjective ("a 12,500-square-foot structure").
_UNIT_RE = "|".join(
    re.escape(w).replace(r"\ ", r"[\s‑-]+")
    for w in sorted(_UNIT_WORDS, key=len, reverse=True)
    if w not in _ATTACHED_ONLY and w != "°"
)
_UNIT_ATTACHED_RE = "|".join(re.escape(w) for w in sorted(_ATTACHED_ONLY | {"km", "kg", "mm", "cm", "lb"},
                                                        key=len, reverse=True))  # fmt: skip
