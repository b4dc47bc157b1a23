"""Numbers as news writes them: digits with separators, mixed fractions, number words and scale words.

:func:`parse_number` turns a written number into its value ("4.2 billion" is 4.2e9, "forty-five" is 45); the
pattern fragments here (``WORD_NUMBER``, digits, scale words) are what the candidate rules build their
patterns from, so a number is read the same way wherever it appears.
"""

from __future__ import annotations

import math
import re

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
    rf"(?:{_W_SMALL}[-‑\s]point(?:[-‑\s](?:{_W_DIGIT}|zero|oh))+(?![-‑]?\w)"  # "six-point-six", "two point five"
    rf"|(?:{_W_SMALL}|a)\s+hundred(?:\s+(?:and\s+)?{_W_SMALL})?|{_W_SMALL}|a\s+dozen|a\s+thousand|a\s+million"
    rf"|a\s+billion|a\s+trillion|half[-‑\s]a[-‑\s]dozen|(?:a\s+)?half\s+a(?=\s+(?:million|billion|trillion)))"
)
# The first number of a range written in words: "three or four days".
_WORD_SMALL = (
    r"(?i:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|one|two|three|four|five|six|seven|eight|nine|ten"
    r"|eleven|twelve|fifteen)"
)
_DIGITS = r"(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
# FOMC style mixed fractions "3-1/2", "1‑1/2" and plain "1/4" (not dates such as 11/23/2025).
_MIXED = r"(?:\d{1,3}(?:[-‑]|\s)\d{1,2}/\d{1,2}(?![/\d])|(?<![/\d])\d{1,2}/\d{1,2}(?![/\d])|\d{0,3}[½¼¾⅓⅔⅛](?![\d]))"
# Vulgar fraction characters: "2½ days", "¾ of".
_VULGAR = {"½": 0.5, "¼": 0.25, "¾": 0.75, "⅓": 1 / 3, "⅔": 2 / 3, "⅛": 0.125}
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
    if s and s[-1] in _VULGAR and re.fullmatch(r"\d{0,3}.", s):
        return (float(s[:-1]) if len(s) > 1 else 0.0) + _VULGAR[s[-1]]
    m = re.fullmatch(r"(-?\d+)(?:-|\s)(\d+)/(\d+)", s)
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
    if "point" in words:  # a decimal spoken in words: "six point six", "two point zero five"
        i = words.index("point")
        whole = _parse_words(" ".join(words[:i]))
        digits = [0 if w in ("zero", "oh") else _UNITS_W.get(w, 10) for w in words[i + 1 :]]
        if whole is None or not digits or max(digits) > 9:
            return None
        return whole + float("0." + "".join(str(d) for d in digits))
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
