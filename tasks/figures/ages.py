"""Candidate rules for a person's age written as a bare number: "John Smith, 45, said", "aged 9 and 6", "Mary
Banda (64)", "in their 20s", "since she was 16".

An age is a quantity in years with no object (the person is never what is measured). Kept apart from the other
candidate rules because each form needs the name or the pronoun around the number to tell an age from a count.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from tasks.figures.candidates import _DECADE_WORDS
from tasks.figures.grammar import _P_QUANTITY, _Cand, _Scan
from tasks.figures.kinds import KIND_QUANTITY

# "John Smith, 45, said", "Ann Lee, also 31, left".
_NAME_AGE = re.compile(
    r"[A-Z][\w’'-]+,\s+(?:(?:also|now|aged)\s+)?(?P<a>\d{1,3}),\s+(?=[a-z]|[A-Z]\w+\s+(?:said|says))"
)
# An age set off by commas in a list of people, as police logs and court lists write it: a full name before and a
# place after ("Casey Conaway, 30, Edinburg was arrested"), or a noun for a person before ("a male juvenile, 16,").
_LISTED_AGE = re.compile(
    r"\b[A-Z][a-z][\w’'-]*\s+(?:[A-Z]\.\s+)?(?!(?:Street|Road|Avenue|Lane|Drive|Way|Court|Place|Square)\b)"
    r"[A-Z][a-z][\w’'-]*,\s+(?P<a>\d{1,2}),\s+(?=[A-Z][a-z])"
    r"|\b(?:man|woman|boy|girl|juvenile|teenager|teen|male|female|driver|passenger|victim|suspect|resident|mother|"
    r"father|son|daughter),\s+(?P<b>\d{1,2}),\s"
)
# A person's age closing a clause: "said Ann Lee, 52.", "arrested Premier Andrew Fahie, 51." (a name of two words
# or more, or one after "said"; "Ann Lee, 52, said" is the pattern above).
_SAID_NAME_AGE = re.compile(
    r"(?:\b(?:said|says|added|explained|according\s+to)\s+(?:[A-Z][\w’'.-]+\s+){0,3}|[A-Z][\w’'.-]+\s+"
    r"(?:[A-Z][\w’'.-]+\s+){0,2})[A-Z][a-z][\w’'-]*,\s+(?P<a>\d{1,3})(?=\s*(?:[.;!?)]|$))"
)
# A person's age in brackets after a full name or a word for a relative, as papers in Britain and southern Africa
# write it: "Mary Banda (64) lives alone", "Granddad (81), who" (after a surname alone it is as often a tally,
# "Warren (12) leads"; after a word that labels a part it is a label, "See Table (2)").
_LABEL_WORDS = (
    r"Table|Figure|Fig|Section|Chapter|Step|Part|Phase|Note|Vol|Volume|Page|Item|Annex|Appendix|Article|Rule|Clause|"
    r"Level|Grade|Class|Group|Round|Stage|Question|Exhibit"
)
_BRACKETED_AGE = re.compile(
    rf"(?:\b[A-Z][a-z][\w’'-]*\s+(?!(?:{_LABEL_WORDS})\b)[A-Z][a-z][\w’'-]*|\b(?:Granny|Grandma|Grandmother|"
    r"Grandfather|Granddad|Grandpa|Gran|Mum|Mom|Dad|Mother|Father|Aunt|Uncle))\s+\((?P<a>\d{1,3})\)"
    r"(?=\s+[a-z]|\s*[,.;:)]|\s*$)"
)
# An age told by its decade: "in their 20s and 30s", "in her mid-60s" (approximate by nature).
_DECADE_WORD = r"[1-9]0[’']?s|(?i:twenties|thirties|forties|fifties|sixties|seventies|eighties|nineties)"
_DECADE_AGE = re.compile(
    rf"\bin\s+(?:his|her|their|my|our|your)\s+(?:(?:early|mid|late)[-‑\s]?)?(?P<a>{_DECADE_WORD})\b"
    rf"(?:\s*(?:and|or|to|[-–])\s*(?:(?:early|mid|late)[-‑\s]?)?(?P<b>{_DECADE_WORD})\b)?"
)
# Words that may follow an age given as a bare number: "who turns 30 next week", "she was 12 when".
_AGE_FOLLOWERS = (
    r"\s+(?:in|on|at|when|and|but|so|or\s+(?:older|younger|over|under)|last|this|next|today|tomorrow|yesterday|"
    r"before|after|until|if|because|while|though|although|I|he|she|we|they|you)\b"
)
# An age limit: "free for children under 6", "anyone over 18", "kids aged under 12" (a bare number after a word
# for people and "under" or "over", ending the clause or followed by a word that closes it).
_AGE_LIMIT = re.compile(
    r"\b(?:children|child|kids|anyone|everyone|those|people|adults|visitors|guests|youths|teens|persons|ages|aged)"
    r"\s+(?:under|over|below|above|older\s+than|younger\s+than)\s+(?P<a>\d{1,2})"
    r"(?=\s*(?:[.,;:!?)]|$)|\s+(?:and|or|are|is|must|can|may|will|need|pay|get|go|free|who|permitted|allowed|admitted|welcome|years?)\b)"
)
# A person's age after a pronoun and a verb of being or turning ("when I was about 3 or 4", "if you're 50 or older",
# "she turned 30 in May"), or after "turning" ("On Turning 40", "the GIF turns 25 this year", "my turn to 40").
_PRONOUN_AGE = re.compile(
    r"\b(?:(?:he|she|they|I|we|you|who)(?:\s+(?:was|were|is|are|turned|turns|am)|['’](?:re|m|s))|(?i:turning|turns|"
    r"turned|turn\s+to))\s+(?:(?:about|around|nearly|almost|only|just)\s+)?(?P<a>\d{1,3})"
    r"(?:\s+(?:or|to)\s+(?P<b>\d{1,3}))?\b(?!\s*%)"
)


def _age_cands(text: str, sc: _Scan) -> Iterable[_Cand]:
    """Ages written as bare numbers: "aged 9 and 6", "since she was 16", "John Smith, 45, said"."""
    for m in re.finditer(r"\b(?:aged?|ages|(?:at\s+)?the\s+age\s+of)\s+(?:between\s+)?(?P<a>\d{1,3})"
                         r"(?:\s*(?:and|to|or|-|–)\s*(?P<b>\d{1,3}))?\b", text):  # fmt: skip
        for g in ("a", "b"):
            if m.group(g):
                yield _Cand(m.start(g), m.end(g), KIND_QUANTITY, _P_QUANTITY, float(m.group(g)), unit="year")
    for m in _PRONOUN_AGE.finditer(text):
        after = text[m.end() :]
        if not re.match(r"\s*(?:[-%]|per|years?\b|\w)", after) or re.match(_AGE_FOLLOWERS, after):
            for g in ("a", "b"):
                if m.group(g):
                    yield _Cand(m.start(g), m.end(g), KIND_QUANTITY, _P_QUANTITY, float(m.group(g)), unit="year")
    for m in _AGE_LIMIT.finditer(text) if "under" in sc.words or "over" in sc.words or "than" in sc.words else ():
        yield _Cand(m.start("a"), m.end("a"), KIND_QUANTITY, _P_QUANTITY, float(m.group("a")), unit="year")
    bracketed = _BRACKETED_AGE.finditer(text) if "(" in text else ()
    for m in [*_NAME_AGE.finditer(text), *_SAID_NAME_AGE.finditer(text), *_LISTED_AGE.finditer(text), *bracketed]:
        g = "a" if m.group("a") else "b"
        if 0 < int(m.group(g)) < 120:
            yield _Cand(m.start(g), m.end(g), KIND_QUANTITY, _P_QUANTITY, float(m.group(g)), unit="year")
    for m in _DECADE_AGE.finditer(text) if "in" in sc.words else ():
        for g in ("a", "b"):
            if m.group(g):
                word = m.group(g).lower()
                value = float(_DECADE_WORDS.get(word) or word[:2])
                yield _Cand(m.start(g), m.end(g), KIND_QUANTITY, _P_QUANTITY, value, unit="year", approximate=True)
