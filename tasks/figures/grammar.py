"""What the candidate rules share: the candidate record, their priorities and the number patterns.

Every rule (money, percent, quantity, date, count ...) yields a :class:`_Cand` span with a priority that decides
which of two overlapping readings wins. The patterns that read an amount are compiled twice, with and without
number words (:class:`_Rx`), because most sentences hold no number word and the word alternation is the costly
part of the scan. Names with a leading underscore are shared between the modules of this package only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tasks.figures.kinds import _words
from tasks.figures.numbers import _DIGITS, _MIXED, _SCALE_ATTACHED, _SCALE_WORD, WORD_NUMBER
from tasks.figures.units import _DOLLAR_ADJECTIVES, _SUFFIX_CURRENCY, _UNIT_ATTACHED_RE, _UNIT_CAPS_RE, _UNIT_RE


@dataclass(slots=True)
class _Cand:
    """A span a rule read as a figure: offsets into the text, kind, the rule's priority and what it read.

    ``currency_source`` says where a money candidate's currency came from (``units.CURRENCY_FROM_*``).
    ``low``/``high`` are set when the span is one end of a range; ``no_modifier`` marks the second end of a range
    written with one currency ("$20,000 to 30,000"), whose words in front are the first end's; ``approximate``
    marks a span that is approximate by its own form ("in their 20s", "100-plus") whatever the words in front.
    """

    start: int
    end: int
    kind: str
    priority: int
    value: float | None = None
    date_value: str | None = None
    unit: str | None = None
    scale: float | None = None
    currency_source: str | None = None
    relative: bool = False
    low: float | None = None
    high: float | None = None
    no_modifier: bool = False
    approximate: bool = False


# Priorities: of two overlapping candidates the more specific kind wins ("$5 million" is money, not a count).
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
        # a count may be scaled by dozens too: "the first 4 dozen", "3 dozen eggs"
        counted = rf"(?:{num}\s+(?i:dozen)(?![\w])|{scaled})"
        plain = rf"(?:{_DIGITS}{word_alt})"
        # Letter codes need a boundary in front and either a space ("USD 5m") or nothing ("RM1.6m", "R95bn").
        self.money_prefix = re.compile(
            r"(?<![\w$])(?P<cur>(?i:us\s?\$|u\.s\.\s?\$|c\$|ca\$|can\$|a\$|au\$|nz\$|s\$|sg\$|hk\$|nt\$|r\$|mx\$"
            r"|n\$|j\$|tt\$|b\$|bds\$|bz\$|ec\$|z\$|fj\$|g\$|l\$|gh₵)|(?:USD|CAD|AUD|NZD|SGD|HKD)\$"
            r"|[$£€¥₹₩₦₱₽₺₫฿₪]|Rs\.?|RM|Rp|R(?=\d)|Ksh|KSh|TSh|USh|(?:USD|EUR|GBP|JPY|CNY|RMB|INR|CHF|CAD"
            r"|AUD|NZD|SGD|HKD|ZAR|MYR|IDR|KRW|NGN|PHP|RUB|KES|TZS|UGX|AED|SAR|EGP|PKR|THB|VND|SEK|NOK|DKK|PLN"
            rf"|BRL|MXN|ILS|GHS)(?=\s?\d))\s?(?P<num>{scaled})"
        )
        self.money_suffix = re.compile(
            rf"(?<![\w$£€.,])(?P<num>{scaled})(?:\s+|[-‑])(?:(?P<adj>(?i:{_DOLLAR_ADJ}))\s+)?(?P<cur>(?i:{_SUFFIX_WORDS}))"
            rf"(?![\w]|[-‑]\w)"
        )
        self.money_subunit = re.compile(
            rf"(?<![\w$£€.,])(?P<num>{plain})(?:\s*(?P<p>p)(?!\w|\.\w)|\s+(?P<sub>(?i:euro\s+)?"
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
        # A unit may be glued to the number ("2,150km", "20TB", "10C"), so the number here does not end at a word
        # boundary; an attached scale letter must not run on into a unit ("5kg" is 5 kg, not 5k g).
        scaled_q = (
            rf"(?:{num}(?:(?:\s+|[-‑])(?i:{_SCALE_WORD})(?!\w)|(?i:{_SCALE_ATTACHED})(?![a-zA-Z]))?"
            rf"(?:\s+(?i:{_SCALE_WORD})(?!\w))?)"
        )
        self.quantity = re.compile(
            rf"(?<![\w.,:])(?:(?P<sign>[-−])|(?P<minus>(?i:minus|negative)\s+))?(?P<num>{scaled_q}(?:(?:\s+|[-‑])and(?:\s+|[-‑])a(?:\s+|[-‑])half)?)(?P<plus>\+(?=[\s-]))?"
            rf"(?:(?P<more>\s+(?i:more|additional|extra|further|consecutive|straight))?(?P<sep>\s*|[-‑])"
            rf"(?P<unit>(?i:{_UNIT_RE}))(?![\w])|(?P<unit2>(?i:{_UNIT_ATTACHED_RE}))(?![\w])|\s(?P<unit3>{_UNIT_CAPS_RE})(?![\w])"
            rf"|\s?(?P<deg>[°º](?:\s?(?:(?i:degrees?\s+)?(?i:celsius|centigrade|fahrenheit)|[CFcf]))?|[℃℉])(?![\w])"
            rf"|\s?(?P<tl>[CF])(?![\w’']|\.\w))"
        )
        self.age_adj = re.compile(
            rf"(?<![\w.,])(?P<num>{num})[-‑](?P<unit>year|month|week|day)s?[-‑]old\b", re.IGNORECASE
        )
        # a count is never the whole part of a longer number ("1" of "1.5x")
        self.count = re.compile(rf"(?<![\w$£€.,/@#-])(?P<num>{counted})(?![\w%°]|[.,]\d)")
        self.ago = re.compile(rf"\b(?P<num>{num})\s+(?P<unit>years?|months?|weeks?|days?)\s+ago\b", re.I)


_RX_DIGITS = _Rx(words=False)
_RX_WORDS = _Rx(words=True)


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


@dataclass(frozen=True, slots=True)
class _Scan:
    """What a quick look at a text found: its lower-case words, digits, number words, and the patterns to use."""

    words: frozenset[str]
    digit: bool
    numword: bool
    rx: _Rx
