"""Names in lines of results, standings and entry lists: text that is a table written as lines, not prose.

News wires and sports pages print results as lines ("Hamburg 1 Schalke 3"), standings as a name and a row of
numbers ("Real Betis 12 7 3 2 20 10 24") and entry lists as people with their country in brackets ("Marcelo Rios
( Chile ) beat ..."). The small model, trained on prose, reads a club named after its city as a person or a place,
runs two names and a score into one mention, and misses most names in brackets. These rules read such lines by
their shape:

* in a **results line** or a **standings row**, each name is a team: a country is a GPE, a name opening with a
  given name a PERSON (a golfer's or runner's row), anything else an ORG (a club);
* in a **scorecard** (goal minutes in brackets, a batsman's or a bowler's line) each name is a PERSON;
* a **country in brackets** after a name is a GPE, and the name before it, when it opens with a given name and
  the model found nothing there, a PERSON;
* in a sentence that reports a match (a score such as "2-1" and a verb such as "beat" or "drew"), a **city** is
  the club named after it ("Leeds beat Chelsea 3-0"): an ORG; a country stays a GPE (its national side);
* a **country name** the model missed in ordinary prose ("Chile", "New Zealand") is a GPE, unless it is part of a
  longer name ("Bank of Chile", "Jordan Henderson").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources

from tasks.entities import ALIASES, KIND_COUNTRY, Mention, canonical_form, sentence_of

# A name in a table line: capitalised words, with the small words of club and place names between them ("Real
# Betis", "St. Etienne", "Bayer Leverkusen", "Rayo Vallecano de Madrid").
_NAME = r"[A-Z][\w.'’&-]*(?:[ \t]+(?:(?:de|del|la|di|da|van|von|of|and|&)[ \t]+)?[A-Z][\w.'’&-]*)*"
_SCORE = r"\d{1,3}"
# "Hamburg 1 Schalke 3", "Leeds 0, Chelsea 0 (halftime 0-0)", "Japan 2 China 1 ( 1-0 )".
_RESULT = re.compile(
    rf"(?m)^[ \t]*(?P<a>{_NAME})[ \t]+{_SCORE}[ \t]*,?[ \t]+(?P<b>{_NAME})[ \t]+{_SCORE}"
    r"[ \t.]*(?:\([^()\n]*\)[ \t.]*)?$"
)
# "Real Betis 12 7 3 2 20 10 24", "3. Greg Norman 66 70 68 204": a name and three numbers or more, nothing else.
_STANDING = re.compile(
    rf"(?m)^[ \t]*(?:\d{{1,3}}\.?[ \t]+)?(?P<a>{_NAME})(?:[ \t]+[-+]?\d{{1,4}}(?:\.\d+)?){{3,}}[ \t]*$"
)
# A surname in a scorecard: "Shearer ( 23rd , 75th pen )" (goal minutes), a batsman's line "Hussain c Parore b
# Cairns 45", "Thorpe not out 12", "Atherton lbw b Wasim 8", a bowler's figures "Cairns 10-2-34-1".
_PLAYER = r"[A-Z][\w'’-]+(?:[ \t]+[A-Z][\w'’-]+){0,2}"
_MINUTE = r"\d{1,3}(?:st|nd|rd|th)(?:[ \t]*(?:pen|penalty|og)\.?)?"
_SCORER = re.compile(rf"(?P<a>{_PLAYER})[ \t]*\([ \t]*{_MINUTE}(?:[ \t]*,[ \t]*{_MINUTE})*[ \t]*\)")
_SCORERS_LINE = re.compile(r"(?im)^[ \t]*(?:goal)?scorers?\b[^\n]*")
_BATSMAN = re.compile(
    rf"(?m)^[ \t]*(?P<a>{_PLAYER})[ \t]+(?:(?:(?:c|st)[ \t]+(?P<b>{_PLAYER})[ \t]+)?(?:lbw[ \t]+)?b[ \t]+"
    rf"(?P<c>{_PLAYER})|run[ \t]+out|not[ \t]+out|retired[ \t]+hurt)[ \t]+\d{{1,3}}[ \t]*$"
)
_BOWLER = re.compile(rf"(?<![\w-])(?P<a>{_PLAYER})[ \t]+\d{{1,2}}(?:\.\d)?-\d{{1,2}}-\d{{1,3}}-\d{{1,2}}(?![\d-])")
# A name in brackets: "( Chile )", "(New Zealand)".
_BRACKETED = re.compile(rf"\([ \t]*(?P<a>{_NAME})[ \t]*\)")
# A name of two or three capitalised words right before a bracket ("Goran Ivanisevic ( Croatia )").
_NAME_BEFORE = re.compile(r"(?P<a>[A-Z][\w'’-]+(?:[ \t]+[A-Z][\w'’-]+){1,2})[ \t]*$")
# Words that may stand capitalised right before a country in prose without making it part of a longer name.
_OPENERS = frozenset((
    "in", "at", "from", "to", "for", "and", "of", "on", "with", "by", "as", "but", "the", "after", "before", "while",
    "when", "where", "since", "like", "beat", "v", "vs", "against", "across", "into", "over", "under", "both", "or",
    "neither", "nor", "if", "unlike", "including", "than", "between", "then", "only",
))  # fmt: skip


# Country names that are also people's given names, more often than the given-name list admits.
_ALSO_GIVEN = frozenset(("Jordan", "Chad", "Georgia", "India", "America", "Israel"))


@lru_cache(maxsize=1)
def country_names() -> frozenset[str]:
    """Return the country names and aliases of the bundled alias table as written ("Chile", "New Zealand",
    "U.S."), without the short undotted acronyms ("US", "UK"), which are too often something else."""
    text = resources.files("tasks").joinpath("data", ALIASES).read_text(encoding="utf-8")
    names: set[str] = set()
    for line in text.splitlines():
        cells = line.split("\t")
        if line.startswith("#") or len(cells) != 4 or cells[2].strip() != KIND_COUNTRY:
            continue
        for name in [cells[0], *cells[3].split("|")]:
            name = name.strip()
            if len(name) >= 4 or "." in name:
                names.add(name)
    return frozenset(names)


@lru_cache(maxsize=1)
def _countries_in_capitals() -> frozenset[str]:
    return frozenset(name.upper() for name in country_names())


@lru_cache(maxsize=1)
def _country_pattern() -> re.Pattern[str]:
    alternatives = sorted(country_names(), key=len, reverse=True)
    return re.compile(r"(?<![\w.'’-])(?=[A-Z])(?:" + "|".join(re.escape(n) for n in alternatives) + r")(?![\w'’-])")


def _team_label(name: str, given: frozenset[str]) -> str:
    if name in country_names():
        return "GPE"
    words = name.split()
    return "PERSON" if len(words) > 1 and words[0].upper() in given else "ORG"


def _replace(mentions: list[Mention], found: list[Mention], new: Mention) -> None:
    """Put ``new`` in place of every mention it overlaps."""
    for pool in (mentions, found):
        pool[:] = [m for m in pool if m.end <= new.start or new.end <= m.start]
    found.append(new)


def _free(mentions: Sequence[Mention], found: Sequence[Mention], start: int, end: int) -> bool:
    return not any(m.start < end and start < m.end for m in (*mentions, *found))


def names_in_result_lines(
    text: str, mentions: list[Mention], given: frozenset[str], sentence_starts: Sequence[int] = ()
) -> list[Mention]:
    """Return the names of results lines, standings rows and entry lists the model missed or misread; a mention
    they overlap is taken out of ``mentions`` (in place). ``given`` are the given names in capitals."""
    found: list[Mention] = []
    for pattern in (_RESULT, _STANDING):
        for line in pattern.finditer(text):
            for group in ("a", "b"):
                if group not in pattern.groupindex:
                    continue
                s, e = line.span(group)
                name = text[s:e]
                sid = sentence_of(s, sentence_starts)
                _replace(mentions, found, Mention(name, _team_label(name, given), s, e, sid, canonical_form(name)))
    scorers = [m for line in _SCORERS_LINE.finditer(text) for m in _SCORER.finditer(text, line.start(), line.end())]
    for line in [*scorers, *_BATSMAN.finditer(text), *_BOWLER.finditer(text)]:
        for group in ("a", "b", "c"):
            if group in line.re.groupindex and line.group(group):
                s, e = line.span(group)
                sid = sentence_of(s, sentence_starts)
                _replace(mentions, found, Mention(text[s:e], "PERSON", s, e, sid, canonical_form(text[s:e])))
    countries = country_names()
    for bracket in _BRACKETED.finditer(text):
        s, e = bracket.span("a")
        name = text[s:e]
        if name not in countries:
            continue
        if _free(mentions, found, s, e):
            found.append(Mention(name, "GPE", s, e, sentence_of(s, sentence_starts), name))
        before = _NAME_BEFORE.search(text, max(0, bracket.start() - 60), bracket.start())
        if before and before.group("a").split()[0].upper() in given and _free(mentions, found, *before.span("a")):
            s, e = before.span("a")
            found.append(Mention(text[s:e], "PERSON", s, e, sentence_of(s, sentence_starts), canonical_form(text[s:e])))
    return found


def missed_countries(
    text: str, mentions: Sequence[Mention], given: frozenset[str], sentence_starts: Sequence[int] = ()
) -> list[Mention]:
    """Return the country names the model left untagged in prose ("Chile", "New Zealand"). Not a country that is
    part of a longer name: one with a capitalised word right after it ("Chile Telecom") or before it ("Bank of
    Chile", "Jordan Henderson"; a capitalised opener such as "In" does not count), nor one that is also a given
    name ("Jordan", "Chad") outside brackets."""
    found: list[Mention] = []
    taken = [(m.start, m.end) for m in mentions]
    for hit in _country_pattern().finditer(text):
        s, e = hit.span()
        name = hit.group(0)
        if any(a < e and s < b for a, b in taken):
            continue
        after = re.match(r"[ \t]+([A-Z][\w'’-]*)", text[e : e + 40])
        before = re.search(r"([A-Za-z][\w'’-]*)[ \t]+(?:(?:of|de|del|la)[ \t]+)?$", text[max(0, s - 40) : s])
        bracketed = text[max(0, s - 2) : s].strip() == "(" and text[e : e + 2].strip() == ")"
        if after and not bracketed:
            continue
        if before and before.group(1)[0].isupper() and before.group(1).lower() not in _OPENERS and not bracketed:
            continue
        if (name.upper() in given or name in _ALSO_GIVEN) and not bracketed:
            continue
        found.append(Mention(name, "GPE", s, e, sentence_of(s, sentence_starts), name))
    return found


# A match score ("2-1", "0 - 0"; not a date's "08-30" nor a time) and the verbs of a match report.
_MATCH_SCORE = re.compile(r"(?<![\d.:/-])\d{1,2}\s?-\s?\d{1,2}(?![\d.:/%-])")
_MATCH_VERB = re.compile(
    r"\b(?:beat|beats|beaten|drew|draw|draws|drawn|lost|lose|loses|defeated|defeat|defeats|edged|thrashed|routed|"
    r"held|hammered|won|win|wins|against|v|vs|versus|ended)\b"
)
# A place after these is where something happened ("beat Muster 6-4 in Rotterdam"), not a side.
_VENUE_BEFORE = re.compile(r"\b(?:in|at|from|near|of|to|on)\s+$", re.I)


def clubs_in_match_reports(text: str, mentions: Sequence[Mention], places: frozenset[str]) -> None:
    """Relabel ORG a city (a GPE, LOC or PERSON mention that is a known place, ``places`` in capitals, and no
    country) in a sentence that reports a match: the club named after the city ("Leeds beat Chelsea 3-0"). Not a
    place after a preposition: the venue ("in Rotterdam")."""
    countries = _countries_in_capitals()
    for m in mentions:
        name = m.canonical.upper()
        if m.label not in ("GPE", "LOC", "PERSON") or name not in places or name in countries:
            continue
        if _VENUE_BEFORE.search(text, max(0, m.start - 8), m.start):
            continue
        start = max(text.rfind(stop, 0, m.start) for stop in ".!?\n") + 1
        ends = [i for i in (text.find(stop, m.end) for stop in ".!?\n") if i >= 0]
        sentence = text[start : min(ends) if ends else len(text)]
        if _MATCH_SCORE.search(sentence) and _MATCH_VERB.search(sentence):
            m.label = "ORG"
