"""Candidate rules for ranks: "first", "21st", "No. 1", "#2", and a place in a sequence ("day one", "week 9").

Most words that rank are also adverbs, parts of names or idioms ("first published", "the Fifth Amendment", "in the
first place", "third-party"); the rules here say when such a word ranks something. :mod:`tasks.figures.not_figures`
reads :data:`_RANK_NUMBER` too, to keep a label ("Tunnel No. 2") from being counted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from tasks.figures.candidates import _NUMBER_WORDS, _PLURAL_AFTER, _mid_sentence
from tasks.figures.grammar import _FUNCTION_WORDS, _P_ORDINAL, _Cand, _Scan
from tasks.figures.kinds import KIND_ORDINAL
from tasks.figures.numbers import _ORDINALS, parse_number

_ORDINAL = re.compile(
    r"(?<![\w-])(?P<ord>(?i:" + "|".join(sorted(_ORDINALS, key=len, reverse=True)) + r")|\d+(?:st|nd|rd|th))"
    r"(?![\w])"
)
# Ordinal compounds that are idioms, not ranks.
_ORDINAL_IDIOM_AFTER = re.compile(
    r"[-‑](?:party|parties|hand|class|rate|world|person|guess|degree)\b|\s+(?:cousins?|aid|nature)\b",
    re.IGNORECASE,
)
# A capitalised word after a capitalised ordinal: a name ("Fifth Amendment"), unless it counts time or rounds.
_NAME_AFTER = re.compile(
    r"\s+(?!(?:Quarter|Half|Round|Day|Week|Month|Year|Time|Place|Test|Term|Edition|Season|Leg|Game)\b)[A-Z][a-z]"
)
_DETERMINER_BEFORE = re.compile(r"(?i)\b(?:the|a|an|its|his|her|their|our|my|your|this|that)\s+$|[’']s\s+$")
# Words after which a clause-final "first" is a rank ("she finished first.", "he was the first.", "which ranks
# them first").
_RANK_BEFORE = re.compile(
    r"(?i)\b(?:the|finish(?:ed|es)?|came|comes|placed|is|was|are|were)\s*$"
    r"|\b(?:rank(?:s|ed|ing)?|rat(?:es|ed|ing))(?:\s+(?:it|them|him|her|us|me))?\s*$"
    r"|\b(?:his|her|its|their|our|my|your)\s+(?:[a-z]+\s+)?$"
)
_STREET_AFTER = re.compile(
    r"\s+(?:Street|St\.?|Avenue|Ave\.?|Road|Rd\.?|Boulevard|Blvd\.?|Drive|Dr\.?|Lane|Terrace|Place|Parkway)(?!\w)"
)
# A numbered district, court, military unit or street: "the 4th District Court", "the 13th Council district", "the
# 82nd Airborne", "along 110th street" (written with digits, the ordinal is part of a name).
_NUMBERED_NAME_AFTER = re.compile(
    r"\s+(?:District|Circuit|Congressional|Ward|Precinct|Council|Division|Infantry|Battalion|Regiment|Brigade|"
    r"Fleet|Corps|Army|Airborne|Armored|Cavalry|Amendment|[Ss]treet|[Aa]venue)(?!\w)"
)
# A floor in an address, written with digits: "7th Fl.", "12th floor" ("the third floor" in prose stays a rank).
_FLOOR_AFTER = re.compile(r"\s+(?:Fl\.?|Flr\.?|Floor|floor)(?!\w)")
# A rank written "No. 1" or "#2" ("the No. 1 cause", "moves up to #2"); after a name it is a label ("Tunnel No. 2",
# "Mistake #6").
_RANK_NUMBER = re.compile(
    r"(?:\b[Nn]o\.\s?|(?:(?<=world\s)|(?<=ranked\s)|(?<=seeded\s))No\s?|(?<![\w#&])#)(?P<n>\d{1,3})(?![\d,]|\.\d)"
)
# A number after a noun that orders a sequence is a place in it ("day one", "week 9", "Step 2", "episode 4"). After
# another capitalised word, or before one, the noun is part of a title ("Idol Season 19", "Season 4 Finale") and the
# number no rank; after "every" or before a plural ("each day 30 people") the number counts; "round" and "year"
# take digits only in capitals ("Round 2"), "round 20 people" being "around".
# A level of a scale ("level 3 restrictions", "a category 4 storm", "tier 2 areas") is a place in it before a plural
# too: a level counts nothing.
_LEVEL_NOUNS = "level|tier|category|grade"
_SEQUENCE_NOUNS = f"day|round|year|phase|stage|week|game|season|step|episode|leg|lap|{_LEVEL_NOUNS}"
_DAY_ONE = re.compile(
    rf"\b(?P<noun>{_SEQUENCE_NOUNS})\s+(?P<ord>one|two|three|four|five|six|seven|eight|nine|ten|"
    r"(?P<digits>[1-9]\d?)(?![\d,.%:/\w-]|\s?%))\b",
    re.I,
)
_COUNTED_BEFORE = re.compile(r"\b(?:every|each|per|a|an|one|same|that|this|next|last|all|any)\s+$")
_TITLE_WORD_BEFORE = re.compile(
    r"(?<![\w.-])(?!(?:In|On|At|By|For|From|After|Before|Until|Since|During|Of|The|And|Or|To|Then)\s)[A-Z][\w.-]*\s+$"
)
_ORDINAL_DIGITS = re.compile(r"\d(?:st|nd|rd|th)\b")
# A count right after an ordinal ("the first two", "the third 10 years"); "one" there is a pronoun ("the first one"),
# and a number opening a compound ("the second 10-year auction") ranks that.
_COUNT_WORDS = "|".join(sorted(_NUMBER_WORDS - {"one"}, key=len, reverse=True))
_COUNT_AFTER = re.compile(rf"\s+(?:\d[\d,.]*(?![\d,.]*[-‑\w])|(?:{_COUNT_WORDS})\b(?![-‑]))", re.IGNORECASE)
_VAGUE_COUNT_AFTER = re.compile(r"\s+(?:few|several|couple|handful|dozen)\b", re.IGNORECASE)


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
        if (
            low == "first"
            and re.search(r"(?i)\bin\s+the\s*$", before)
            and re.match(r"\s+place\b(?!\s+(?:in|on|at)\b)", after)
        ):
            continue  # "in the first place": the idiom ("in first place", "the first place in the race" rank)
        if not low[0].isdigit() and re.match(r"\s*,", after) and re.search(r"(?:^|[.!?:;\"“‘(]\s*)$", before):
            continue  # "First, ...", "Second, currency fluctuations ...": a sentence's enumerator, no rank
        if _COUNT_AFTER.match(after) or _VAGUE_COUNT_AFTER.match(after):
            continue  # "the first two", "the third 10 years", "the first few": the ordinal picks out a count
        if low == "first" and (
            re.match(r"(?i)\s+(?:off|up)\b", after)
            or (re.match(r"\s*(?:[.;:!?]|$)", after) and not _RANK_BEFORE.search(before))
        ):
            continue  # "First off, ...", "before asking the board first.": the adverb, no rank
        if low == "second" and (
            re.search(r"\d\s*$|\b(?:per|one|each|every)\s*$|\b(?:for|in|just|wait|only)\s+a\s*$", before)
            or (re.search(r"\ba\s*$", before) and not re.match(r"\s+[a-z]", after))
        ):
            continue  # "a second", "30 seconds" are durations; "a second term" is a rank
        if _STREET_AFTER.match(after):
            continue  # "West 42nd Street", "Fifth Avenue": a street name
        if _ORDINAL_IDIOM_AFTER.match(after):
            continue  # "third-party", "second-hand", "first-rate": compounds that rank nothing
        if low == "first" and (
            (re.match(r"\s+[a-z]+ed\b", after) and not _DETERMINER_BEFORE.search(before))
            or (
                re.search(r"(?i)\b(?:he|she|they|we|I|it|who|you|that|which)\s*$", before)
                and not _RANK_BEFORE.search(before)
            )
        ):
            continue  # "was first announced", "when she first met": the adverb, no rank ("rated it first" is one)
        if word[0].isupper() and not word.isupper() and _NAME_AFTER.match(after) and _mid_sentence(text, m.start()):
            continue  # "the Fifth Amendment", "the Third Reich": an ordinal inside a name
        if low[0].isdigit() and (_FLOOR_AFTER.match(after) or _NUMBERED_NAME_AFTER.match(after)):
            continue
        yield _Cand(m.start(), m.end(), KIND_ORDINAL, _P_ORDINAL, value)
    for m in _RANK_NUMBER.finditer(text) if ("No" in text or "no." in text or "#" in text) and sc.digit else ():
        if _is_rank(text, m):
            yield _Cand(m.start(), m.end(), KIND_ORDINAL, _P_ORDINAL + 6, float(m.group("n")))
    for m in _DAY_ONE.finditer(text) if sc.numword or sc.digit else ():
        rank = parse_number(m.group("ord"))
        before = text[max(0, m.start() - 30) : m.start()]
        noun = m.group("noun")
        level = re.fullmatch(_LEVEL_NOUNS, noun, re.I) is not None
        if m.group("digits") and (noun in ("round", "year") or (_PLURAL_AFTER.match(text, m.end()) and not level)):
            continue
        if level and re.match(r"\s+out\s+of\b|\s*/\s*\d", text[m.end() :]):
            continue  # "a Level 3 out of 5 risk": a rating on a scale
        if _COUNTED_BEFORE.search(before) and not level:
            continue  # "each day 30 people": the number counts
        if noun[0].isupper() and (_TITLE_WORD_BEFORE.search(before) or re.match(r"\s+[A-Z][a-z]", text[m.end() :])):
            continue  # "Idol Season 19", "Season 19 Contestant": a title
        if rank is not None:
            yield _Cand(m.start("ord"), m.end("ord"), KIND_ORDINAL, _P_ORDINAL + 5, rank)


def _is_rank(text: str, m: re.Match[str]) -> bool:
    """Return True when a :data:`_RANK_NUMBER` match is a rank, not the label of a named thing ("Tunnel No. 2")."""
    prev = re.search(r"([A-Za-z][\w’'-]*)\s+$", text[max(0, m.start() - 40) : m.start()])
    return prev is None or not prev.group(1)[0].isupper() or prev.group(1).lower() in _FUNCTION_WORDS
