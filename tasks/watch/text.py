"""How watch matching cuts text: word tokens (queries are tokenised the same way, so that a word of a query and of
an article compare equal) and sentences (the evidence of a match is one sentence).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_WORD = re.compile(r"\w+")


@lru_cache(maxsize=65_536)  # the same non-ASCII words come back in every article of a language
def _fold(token: str) -> tuple[str, ...]:
    """A non-ASCII token NFKC-normalised and case-folded; split again when that made non-word characters
    ("½" is "1⁄2"), so that the query side, which folds the same way, agrees."""
    folded = unicodedata.normalize("NFKC", token).casefold()
    return (folded,) if _WORD.fullmatch(folded) else tuple(_WORD.findall(folded))


def word_tokens(text: str) -> list[str]:
    """Return the word tokens of ``text``: runs of Unicode letters, digits and "_", NFKC-normalised and
    case-folded. "U.S." is ``u``, ``s``; "rare-earth" is ``rare``, ``earth``; queries are tokenised the same way."""
    if text.isascii():
        return _WORD.findall(text.lower())
    out: list[str] = []
    for token in _WORD.findall(text):
        if token.isascii():
            out.append(token.lower())
        else:
            out.extend(_fold(token))
    return out


def token_starts(text: str) -> list[int]:
    """Return the character offset in ``text`` of each token :func:`word_tokens` gives (same length)."""
    if text.isascii():
        return [m.start() for m in _WORD.finditer(text)]
    out: list[int] = []
    for m in _WORD.finditer(text):
        token = m.group()
        out.extend([m.start()] * (1 if token.isascii() else len(_fold(token))))
    return out


# A sentence ends at terminal punctuation (and closing quotes or brackets) followed by white space, or at a line
# break (news text puts each paragraph on its own line; a heading has no full stop).
_BOUNDARY = re.compile(r"[.!?…]+[\"'”’»)\]]*\s+|\n\s*")
# Words that end with a full stop without ending a sentence ("Mr. Li", "Acme Inc. said", "Jan. 5"); single letters
# and dotted initials ("U.S.", "J. K.", "e.g.") are caught by _INITIALS. "No." only counts before a number.
_ABBREVIATIONS = frozenset(
    {
        "mr",
        "mrs",
        "ms",
        "messrs",
        "dr",
        "prof",
        "st",
        "jr",
        "sr",
        "gen",
        "col",
        "lt",
        "sgt",
        "capt",
        "cmdr",
        "adm",
        "gov",
        "sen",
        "rep",
        "pres",
        "rev",
        "hon",
        "fr",
        "mt",
        "ft",
        "inc",
        "corp",
        "ltd",
        "co",
        "plc",
        "llc",
        "bros",
        "vs",
        "etc",
        "al",
        "approx",
        "dept",
        "est",
        "fig",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "univ",
        "assn",
        "ave",
        "blvd",
        "rd",
        "vol",
        "eds",
    }
)
_INITIALS = re.compile(r"(?:[^\W\d_]\.)*[^\W\d_]")
_OPENERS = "\"'“‘«([*"


def _abbreviation_before(text: str, dot: int) -> bool:
    start = dot
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    word = text[start:dot].lstrip(_OPENERS)
    if not word:
        return False
    if _INITIALS.fullmatch(word):
        return True
    low = word.casefold()
    if low in ("no", "nos"):
        return text[dot + 1 : dot + 3].strip()[:1].isdigit()
    return low in _ABBREVIATIONS


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Return the ``(start, end)`` character spans of the sentences of ``text``, without surrounding white space.

    A deterministic rule for news text, not a model: a sentence ends at ``.``, ``!``, ``?`` or ``…`` (with any
    closing quotes or brackets) before white space, unless the next word starts in lower case or the full stop
    ends an abbreviation or initials ("Mr.", "Inc.", "U.S.", "J."); and at every line break."""
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _BOUNDARY.finditer(text):
        chunk = m.group()
        if "\n" not in chunk:
            following = text[m.end() : m.end() + 1]
            if following.islower() or (chunk[0] == "." and _abbreviation_before(text, m.start())):
                continue
        _add_span(text, start, m.start() + len(chunk.rstrip()), spans)
        start = m.end()
    _add_span(text, start, len(text), spans)
    return spans


def _add_span(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append((start, end))
