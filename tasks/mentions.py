"""Mentions: from the recogniser's spans to the names an article holds, before identity is resolved.

The small English model (:mod:`tasks.nlp`) finds most names but draws some spans too wide and gives some the
wrong label; these rules correct what the words around a name make plain, within one article:

* the **span** is the name alone, as CoNLL-style spans are (:func:`name_span`): no leading "the", possessive,
  stray punctuation, person's title, run-on clause or photo credit; a mention over a line of results ("Arsenal 2
  Everton 1") is cut into its names, one over the parts of a headline in capitals ("CRICKET - ENGLAND V NEW
  ZEALAND") is dropped, a word of letters and digits ("A2") is no person or place, and an acronym of a common
  noun ("CEO", "GDP", "UI"; ``tasks/data/common_acronyms.txt``) is no name at all;
* a **photo credit** ("(Jane Roe/AFP/Getty Images)") is read by its shape: the photographer a person, each agency
  an organisation;
* **labels from context**: a personal title or an age makes a person, an organisation noun before or after the
  name an organisation, a name opening with a given name a person (``tasks/data/given_names.txt``), a known
  place the model calls a person a place (``tasks/data/places.txt``), a name ending in an event word ("Rotterdam
  Open", "Davis Cup") an event;
* **names the model missed**: a surname after the full name, names in headlines in capitals and datelines
  (known places, or names the article writes in ordinary case), country names, and the teams, players and
  countries of lines of results and standings (:mod:`tasks.results_lines`).

:func:`entities_from_doc` runs them in that order and hands the mentions to
:func:`tasks.entities.resolve_entities`, which gives each entity its identity.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources
from itertools import pairwise
from typing import TYPE_CHECKING

from tasks.entities import (
    ENTITY_LABELS,
    KIND_PLATFORM,
    NO_DICTIONARY,
    AliasTable,
    Dictionary,
    Mention,
    _is_headline,
    alias_table,
    canonical_form,
    possessive_names,
    resolve_entities,
    sentence_of,
)
from tasks.records import Entity
from tasks.results_lines import clubs_in_match_reports, missed_countries, names_in_result_lines
from tasks.title_lines import drop_common_phrases, is_common_word, trim_trailing_verbs

if TYPE_CHECKING:
    from spacy.tokens import Doc

PLACES = "places.txt"
GIVEN_NAMES = "given_names.txt"
COMMON_ACRONYMS = "common_acronyms.txt"


# What a mention's span may carry around the name that CoNLL-style spans leave out: a leading article, a
# possessive, stray punctuation, a title in front of a person, a clause the model ran on into after a spaced dash.
_SPAN_THE = re.compile(r"(?:the|The|THE)\s+(?=\S)")
_SPAN_POSSESSIVE = re.compile(r"(?<=\w)\s?['’‘]s$")  # "Kelce's", and "Kelce 's" in text tokenised with spaces
_SPAN_STRAY = " \t\n\"'“”‘’«»()[]{}<>,;:!?*—–-_/|"
_SPAN_DASH_CLAUSE = re.compile(r"\s+[-–—]\s+(?=[a-z])|\s+/\s+")  # "Ann Roe - found", "Ann Roe / Agency"
_SPAN_DASH = re.compile(r"\s+[-–—]\s+|\s+/\s+")
_TITLES = frozenset((
    "mr", "mrs", "ms", "dr", "prof", "president", "gen", "general", "col", "colonel", "capt", "captain", "lt", "sgt",
    "rev", "sen", "senator", "rep", "gov", "governor", "judge", "minister", "secretary", "chancellor", "premier",
    "mayor", "sheikh", "major-gen", "maj-gen", "brig-gen", "lt-gen"
))  # fmt: skip
# The first word of a name and the space after it, when a capitalised word follows: where a title would stand.
_LEADING_WORD = re.compile(r"([\w-]+)\.?\s+(?=[A-Z])")


def name_span(text: str, start: int, end: int, label: str) -> tuple[int, int]:
    """Return the span of the name itself inside the mention ``text[start:end]``: without a leading "the",
    a possessive "'s", stray punctuation at either end, a clause run on into after a spaced dash ("Issam Abdallah
    - found" is "Issam Abdallah") or a second name after a spaced slash (a photo credit, "Ann Roe / Agency"), or,
    for a person, titles in front ("Major-Gen Gopaul Govender") and lowercase words at the end. The span is
    returned unchanged when trimming would leave no letter."""
    s, e = start, end
    cut = (_SPAN_DASH if label == "PERSON" else _SPAN_DASH_CLAUSE).search(text, s, e)
    if cut:
        e = cut.start()  # no person's name holds a spaced dash: "Jason Shafrin - Oct 28"
    while s < e and text[s] in _SPAN_STRAY:
        s += 1
    while e > s and text[e - 1] in _SPAN_STRAY:
        e -= 1
    the = _SPAN_THE.match(text, s, e)
    if the:
        s = the.end()
    possessive = _SPAN_POSSESSIVE.search(text[s:e])
    if possessive and e - s > 3:
        e = s + possessive.start()
    if label == "PERSON":
        while (last := re.search(r"\s+[a-z]+$", text[s:e])) and last.start() > 0:
            e = s + last.start()  # a name ends in a capitalised word: "Fianna Fáil party" ends at "Fáil"
        while True:
            title = _LEADING_WORD.match(text[s:e])
            if title is None or title.group(1).lower() not in _TITLES:
                break
            s += title.end()
    if not any(c.isalpha() for c in text[s:e]):
        return start, end
    return s, e


# A score between names in a results line: "Arsenal 2 Everton 1", "Leeds 0, Chelsea 0".
_SCORE_TOKEN = re.compile(r"(?:\s*,)?\s+\d{1,3}(?:\s*,)?(?:\s+|$)")


def _names_between_scores(text: str, start: int, end: int, label: str) -> list[tuple[int, int]]:
    """Return the spans of the names inside a mention that runs over a line of results ("Arsenal 2 Everton 1":
    "Arsenal" and "Everton"): two scores or more between capitalised names. Any other mention is returned whole
    ("Channel 4 News", "Ligue 1" hold one number)."""
    if label not in ("ORG", "GPE", "LOC", "PERSON", "NORP", "FAC"):
        return [(start, end)]
    scores = list(_SCORE_TOKEN.finditer(text, start, end))
    if len(scores) < 2:
        return [(start, end)]
    parts, s = [], start
    for m in scores:
        parts.append((s, m.start()))
        s = m.end()
    parts.append((s, end))
    names = [(a, b) for a, b in parts if b > a and text[a].isupper()]
    return names if len(names) >= 2 else [(start, end)]


# What separates the parts of a headline in capitals: a spaced dash after a kicker, "V"/"VS" between two sides.
_HEADLINE_SEPARATOR = re.compile(r"\s[-–—]\s|\sVS?\.?\s")
# One word of letters and digits; a person, a place or a nationality is never written so.
_CODE = re.compile(r"(?=\w*\d)(?=\w*[A-Za-z])\w+")
_NO_CODES = frozenset(("PERSON", "GPE", "LOC", "NORP"))


def entities_from_doc(
    doc: Doc, sentence_starts: Sequence[int] = (), dictionary: Dictionary = NO_DICTIONARY
) -> list[Entity]:
    """Return the article's entity mentions with canonical forms, aliases resolved, one label per entity,
    ``entity_id`` and ``mention_count``; ``sentence_starts`` are the character offsets of sentence starts,
    ``dictionary`` the English words for :func:`is_generic_word` (empty: nothing is dropped)."""
    text = doc.text
    mentions: list[Mention] = []
    for ent in doc.ents:
        if ent.label_ not in ENTITY_LABELS:
            continue
        caps = ent.text.isupper() and _is_headline(text, ent.start_char, ent.end_char)
        if ent.label_ in _NO_CODES and _CODE.fullmatch(ent.text):
            continue  # "A2", "F16": a rating, a model or a grid square, no place or person
        if ent.text in common_acronyms():
            continue  # "CEO", "GDP", "UI": a common noun in capitals names no one
        if caps and _HEADLINE_SEPARATOR.search(ent.text):
            continue  # "CRICKET - ENGLAND V NEW ZEALAND": no one name; known places are read by the capitals rule
        for s, e in _names_between_scores(text, ent.start_char, ent.end_char, ent.label_):
            if (cut := text.find("\n", s, e)) != -1:
                e = cut  # "US Open\n\nFLUSHING MEADOWS": a name never runs over a line break (a headline, a dateline)
            if (cut := text.find(": ", s, e)) != -1:
                e = cut  # "Coinbase Pro: Features": a heading's topic and its subject, not one name
            if not any(c.isupper() for c in text[s:e]) and re.search(r"['’]|^\W*$", text[s:e]):
                continue  # "n’t": a piece of a word
            if re.sub(r"\s+(?=['’]s$)", "", text[s:e]) in possessive_names():
                start, end = s, e  # "Standard & Poor's": the possessive is part of the name
            else:
                start, end = name_span(text, s, e, ent.label_)
            canon = canonical_form(text[start:end], caps)
            if not canon or not any(c.isalpha() for c in canon):
                continue
            sid = sentence_of(start, sentence_starts)
            mentions.append(Mention(text[start:end], ent.label_, start, end, sid, canon))
    mentions = _split_known_pairs(_possessed_names(_names_with_particles(text, mentions)))
    mentions = photo_credits(text, mentions, sentence_starts)
    _people_by_given_name(mentions)
    _organisations_by_last_word(mentions)
    mentions = _by_context(text, mentions)
    _people_beside_people(text, mentions)
    _products_by_shape(mentions)
    _places_after_adjectives(text, mentions, dictionary)
    _places_not_people(mentions)
    _events_not_names(mentions)
    given = given_names()
    if dictionary.words:
        trim_trailing_verbs(text, mentions, dictionary)
        mentions = drop_common_phrases(text, mentions, dictionary, given)
        _unknown_first_names(text, mentions, dictionary)
    mentions = [m for m in mentions if not (m.label == "PERSON" and m.canonical.lower() in _KIN_WORDS)]
    mentions += names_in_result_lines(text, mentions, given, sentence_starts)
    mentions += missed_countries(text, mentions, given, sentence_starts)
    clubs_in_match_reports(text, mentions, place_names())
    mentions += _missed_surnames(text, mentions, sentence_starts)
    mentions += _places_in_capitals(text, mentions, sentence_starts)
    mentions.sort(key=lambda m: m.start)
    return resolve_entities(mentions, text, sentence_starts, dictionary)


# A photo credit: the photographer, then the agencies, between slashes ("(Jane Roe/AFP/Getty Images)", "Photo:
# Jane Roe/Reuters"); the model runs them together or calls the photographer an agency.
_CREDIT = re.compile(
    r"(?:\(|\b(?:Photo|Photograph|Picture|Image|Credit)s?:\s*)(?P<who>[A-Z][\w'’.-]*(?:\s[A-Z][\w'’.-]*){1,2})"
    r"(?P<agencies>(?:\s?/\s?[A-Z][\w&.'’-]*(?:\s[A-Z][\w&.'’-]*){0,2})+)(?=\s*(?:\)|$|\n))"
)
_CREDIT_AGENCY = re.compile(r"[A-Z][\w&.'’-]*(?:\s[A-Z][\w&.'’-]*){0,2}")


def photo_credits(text: str, mentions: list[Mention], sentence_starts: Sequence[int]) -> list[Mention]:
    """Return ``mentions`` with each photo credit read by its shape: the photographer a PERSON, each agency an ORG
    (the model's mentions inside the credit are replaced)."""
    if "/" not in text:
        return mentions
    found: list[Mention] = []
    for m in _CREDIT.finditer(text):
        s, e = m.span("who")
        found.append(Mention(text[s:e], "PERSON", s, e, sentence_of(s, sentence_starts), canonical_form(text[s:e])))
        base = m.start("agencies")
        for a in _CREDIT_AGENCY.finditer(m.group("agencies")):
            s, e = base + a.start(), base + a.end()
            found.append(Mention(text[s:e], "ORG", s, e, sentence_of(s, sentence_starts), canonical_form(text[s:e])))
    if not found:
        return mentions
    spans = [(f.start, f.end) for f in found]
    kept = [x for x in mentions if not any(x.start < e and s < x.end for s, e in spans)]
    return sorted([*kept, *found], key=lambda x: x.start)


# Lowercase particles inside people's names: "Ursula von der Leyen", "Erik ten Hag", "Lula da Silva", "Mohammed
# bin Salman"; the model often stops the name before them.
_PARTICLES = re.compile(
    r"(?:[ \t]+(?:von|van|der|den|de|del|della|di|da|du|dos|das|la|le|ten|ter|bin|ibn|al|el)){1,3}[ \t]+"
    r"(?P<last>[A-Z][\w'’-]+)"
)


def _names_with_particles(text: str, mentions: list[Mention]) -> list[Mention]:
    """Return ``mentions`` with a person's name carried on over lowercase particles to the capitalised word after
    them ("Ursula" + "von der Leyen"); a mention inside the added part is taken in."""
    out: list[Mention] = []
    skip_to = -1
    for m in sorted(mentions, key=lambda m: m.start):
        if m.start < skip_to:
            continue
        tail = _PARTICLES.match(text, m.end) if m.label == "PERSON" else None
        if tail is not None:
            name = text[m.start : tail.end()]
            m = Mention(name, "PERSON", m.start, tail.end(), m.sentence_id, canonical_form(name))
            skip_to = tail.end()
        out.append(m)
    return out


def _split_known_pairs(mentions: list[Mention]) -> list[Mention]:
    """Return ``mentions`` with a mention of two names the alias table knows, or of two people by their given
    names, cut in two ("Facebook and Instagram", "Courtney Pannell & Divya Vishwanath"); names joined by "and" or
    "&" that are one name ("Johnson & Johnson", "Marks and Spencer") stay whole."""
    table = alias_table()
    out: list[Mention] = []
    for m in mentions:
        pair = re.fullmatch(r"(.+?)(\s+(?:and|&)\s+)(.+)", m.text)
        labels = [_pair_label(pair.group(g), table) for g in (1, 3)] if pair else []
        if pair is None or None in labels:
            out.append(m)
            continue
        a_end = m.start + len(pair.group(1))
        b_start = a_end + len(pair.group(2))
        out.append(Mention(pair.group(1), str(labels[0]), m.start, a_end, m.sentence_id, pair.group(1)))
        out.append(Mention(pair.group(3), str(labels[1]), b_start, m.end, m.sentence_id, pair.group(3)))
    return out


# A name owned by another: "Maggie Mahar’s Health Beat", "Bill Gates's Cascade Investment".
_OWNER_AND_OWNED = re.compile(r"(?P<owner>.+?)['’]s\s+(?P<owned>[A-Z].*)")


def _possessed_names(mentions: list[Mention]) -> list[Mention]:
    """Return ``mentions`` with a mention the model ran over a possessive cut in two when its owner is a
    person's full name: the person, and what is theirs as an organisation ("Maggie Mahar’s Health Beat")."""
    out: list[Mention] = []
    table = alias_table()
    for m in mentions:
        split = _OWNER_AND_OWNED.fullmatch(m.text) if m.label in ("PERSON", "ORG") else None
        if split is None or _pair_label(split.group("owner"), table) != "PERSON":
            out.append(m)
            continue
        owner, owned = split.group("owner"), split.group("owned")
        owned_start = m.start + split.start("owned")
        out.append(Mention(owner, "PERSON", m.start, m.start + len(owner), m.sentence_id, owner))
        out.append(Mention(owned, "ORG", owned_start, m.end, m.sentence_id, canonical_form(owned)))
    return out


def _pair_label(name: str, table: AliasTable) -> str | None:
    """Return the label of one side of a pair of names: the alias table's, PERSON for a person's full name
    (two or three capitalised words, a given name first, no organisation word last), else None."""
    entry = table.lookup(name)
    if entry is not None:
        return entry.label
    return "PERSON" if _is_full_name(name) else None


def _is_full_name(name: str) -> bool:
    """Return True for a person's full name by its shape: two or three capitalised words, the first a given
    name, the last no organisation or place word ("Jodie Burrage", not "Charles River Laboratories")."""
    words = name.split(" ")
    if not 2 <= len(words) <= 3 or not all(_NAME_WORD.fullmatch(w) for w in words):
        return False
    return words[0].upper() in given_names() and words[-1].upper().rstrip(".") not in _NOT_SURNAMES


def _missed_surnames(text: str, mentions: Sequence[Mention], sentence_starts: Sequence[int]) -> list[Mention]:
    """Return mentions of a person's surname the model did not tag ("Merz is expected ..." after "Friedrich
    Merz"): the last word of a full name, capitalised, outside any other mention, for one person only."""
    owners: defaultdict[str, set[str]] = defaultdict(set)
    for m in mentions:
        parts = m.canonical.split(" ")
        surname = parts[-1]
        if m.label == "PERSON" and len(parts) > 1 and len(surname) > 2 and surname.isalpha() and surname[0].isupper():
            owners[surname].add(m.canonical)
    taken = [(m.start, m.end) for m in mentions]
    found: list[Mention] = []
    for surname, names in owners.items():
        if len(names) != 1:
            continue
        full = next(iter(names))
        for hit in re.finditer(rf"(?<![\w-]){re.escape(surname)}(?![\w-])", text):
            if any(s < hit.end() and hit.start() < e for s, e in taken):
                continue
            sid = sentence_of(hit.start(), sentence_starts)
            found.append(Mention(surname, "PERSON", hit.start(), hit.end(), sid, full))
    return found


def _word_list(name: str) -> list[str]:
    """Return the entries of a bundled word list (``tasks/data/<name>``): one per line, ``#`` lines are comments."""
    text = resources.files("tasks").joinpath("data", name).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


@lru_cache(maxsize=1)
def place_names() -> frozenset[str]:
    """Return the bundled place names (``tasks/data/places.txt``) in capitals, read once per process."""
    return frozenset(name.upper() for name in _word_list(PLACES))


@lru_cache(maxsize=1)
def common_acronyms() -> frozenset[str]:
    """Return the acronyms of common nouns (``tasks/data/common_acronyms.txt``: "CEO", "GDP", "UI"), as written."""
    return frozenset(_word_list(COMMON_ACRONYMS))


@lru_cache(maxsize=1)
def given_names() -> frozenset[str]:
    """Return the bundled given names (``tasks/data/given_names.txt``) in capitals, read once per process."""
    return frozenset(name.upper() for name in _word_list(GIVEN_NAMES))


# Last words that make a name that starts with a given name an organisation or a place ("Charles River
# Laboratories", "Ann Arbor", "Stanley Cup", "Eli Lilly and Company" keeps its own entry in the alias table).
_NOT_SURNAMES = frozenset((
    "INC", "CORP", "CO", "LTD", "LLC", "PLC", "GROUP", "BANK", "UNIVERSITY", "COLLEGE", "SCHOOL", "INSTITUTE",
    "FOUNDATION", "TRUST", "FUND", "PARTNERS", "CAPITAL", "HOLDINGS", "STREET", "ROAD", "AVENUE", "PARK", "SQUARE",
    "COUNTY", "CITY", "HOSPITAL", "AIRPORT", "STADIUM", "CENTRE", "CENTER", "HALL", "BRIDGE", "ISLAND", "ISLANDS",
    "LAKE", "RIVER", "MOUNTAIN", "VALLEY", "BEACH", "BAY", "CHURCH", "CATHEDRAL", "MUSEUM", "GALLERY", "LIBRARY",
    "ACADEMY", "SOCIETY", "ASSOCIATION", "COUNCIL", "COMMITTEE", "PARTY", "CLUB", "UNITED", "FC", "ROVERS",
    "ATHLETIC", "RECORDS", "STUDIOS", "MEDIA", "NEWS", "TIMES", "POST", "FOODS", "MOTORS", "AIRLINES", "AWARD",
    "AWARDS", "PRIZE", "CUP", "TROPHY", "FESTIVAL", "SHOW", "ACT", "LABORATORIES", "LABS", "PHARMACEUTICALS",
    "ENERGY", "SYSTEMS", "TECHNOLOGIES", "INDUSTRIES", "INTERNATIONAL", "ARBOR", "HOTEL", "RESORT", "MALL", "PLAZA",
))  # fmt: skip
_NAME_WORD = re.compile(r"[A-Z][\w’'-]*\.?|[A-Z]\.")


def _people_by_given_name(mentions: Sequence[Mention]) -> None:
    """Relabel as PERSON a name of two or three capitalised words whose first word is a given name and whose last
    is no organisation or place word ("Jodie Burrage" read as an organisation, "Ronnie Evans" as a place); a name
    in the alias table or a known place keeps its label, and so does one the context rules decide later."""
    places, table = place_names(), alias_table()
    for m in mentions:
        if m.label not in ("ORG", "GPE", "LOC", "FAC") or not _is_full_name(m.canonical):
            continue
        if m.canonical.upper() not in places and table.lookup(m.canonical) is None:
            m.label = "PERSON"


# Last words no person's name ends with: a club's, a company's or an institution's ("Manchester United", "Acme
# Holdings", "Harbury University").
_ORG_LAST_WORDS = frozenset((
    "UNITED", "FC", "CF", "AFC", "ROVERS", "ATHLETIC", "WANDERERS", "HOTSPUR", "ALBION", "INC", "CORP", "CORPORATION",
    "LTD", "LLC", "PLC", "GROUP", "HOLDINGS", "UNIVERSITY", "COLLEGE", "INSTITUTE", "FOUNDATION", "ASSOCIATION",
    "COUNCIL", "COMMITTEE", "PARTY", "AIRLINES", "AIRWAYS", "MOTORS", "TECHNOLOGIES", "INDUSTRIES",
    "PHARMACEUTICALS", "LABORATORIES", "BANK", "AG", "GMBH",
))  # fmt: skip


def _organisations_by_last_word(mentions: Sequence[Mention]) -> None:
    """Relabel as ORG a name of two words or more the model calls a person whose last word no person's name ends
    with ("Manchester United", "Acme Holdings")."""
    for m in mentions:
        words = m.canonical.split(" ")
        if m.label == "PERSON" and len(words) > 1 and words[-1].upper().rstrip(".") in _ORG_LAST_WORDS:
            m.label = "ORG"


# A word written in capitals ("JAPAN", "AL-AIN", "U.S."), possibly with a possessive ("FRANCE'S").
_CAPS_WORD = re.compile(r"(?<![\w'’-])[A-Z][A-Z.'’-]*(?![\w'’-])")
# A dateline: a line opening with a place in capitals, then maybe its state or country, then an agency in brackets,
# a dash or a date ("WASHINGTON (Reuters) -", "LONDON 2024-05-02", "NAIROBI, Kenya -").
_DATELINE = re.compile(
    r"(?m)^[ \t]*(?P<place>[A-Z][A-Z.'’-]+(?:[ \t]+[A-Z][A-Z.'’-]+){0,3})"
    r"(?=[ \t]*(?:,[ \t]*[A-Z][\w .]*?)?[ \t]*(?:\(|[-–—]|\d))"
)


def _place_form(name: str) -> str:
    """Return a known place written in capitals in ordinary case: a short one-word name is no acronym when it is
    a place ("PERU" is Peru), except two- and three-letter ones ("UAE")."""
    canon = canonical_form(name, True)
    return canon.capitalize() if canon.isupper() and len(canon) > 3 and " " not in canon else canon


def _known_in_body(mentions: Sequence[Mention]) -> dict[str, tuple[str, str]]:
    """Return the names the article writes in ordinary case, in capitals, with (label, canonical form): every
    person, organisation and place, and the surname of a person named in full (for one person only)."""
    known: dict[str, tuple[str, str]] = {}
    surnames: defaultdict[str, set[str]] = defaultdict(set)
    for m in mentions:
        if m.text.isupper() or m.label not in ("PERSON", "ORG", "GPE", "LOC"):
            continue
        known.setdefault(m.canonical.upper(), (m.label, m.canonical))
        parts = m.canonical.split(" ")
        if m.label == "PERSON" and len(parts) > 1 and len(parts[-1]) > 2:
            surnames[parts[-1].upper()].add(m.canonical)
    for surname, names in surnames.items():
        if len(names) == 1:
            known.setdefault(surname, ("PERSON", next(iter(names))))
    return known


def _places_in_capitals(text: str, mentions: list[Mention], sentence_starts: Sequence[int]) -> list[Mention]:
    """Return the names written in capitals that the model missed, and relabel the places it mislabelled.

    The small model reads text in capitals poorly ("BRAZIL EDGE PAST PERU" has no entity, "LONDON" at the head of
    a dateline is an ORG). In a headline line (:func:`_is_headline`) or a dateline, a run of capitalised words
    that is a known place name (``tasks/data/places.txt``) is a GPE: added where no mention covers it, relabelled
    where a mention is exactly that name. A run the article writes in ordinary case elsewhere (a person, an
    organisation, a place, a surname: "AGASSI" after "Andre Agassi") takes that label where no mention covers it.
    Text in ordinary case is left to the model.
    """
    names = place_names()
    regions: list[tuple[int, int]] = [(m.start("place"), m.end("place")) for m in _DATELINE.finditer(text)]
    regions += [(line.start(), line.end()) for line in re.finditer(r"[^\n]+", text)
                if _is_headline(text, line.start(), line.end())]  # fmt: skip
    found: list[Mention] = []
    known = _known_in_body(mentions) if regions else {}  # most articles have no line in capitals
    for start, end in regions:
        words = [(w.start(), w.end(), re.sub(r"['’]S$", "", w.group(0))) for w in _CAPS_WORD.finditer(text, start, end)]
        i = 0
        while i < len(words):
            for n in range(min(4, len(words) - i), 0, -1):
                run = words[i : i + n]
                if any(re.search(r"[^\s]", text[a[1] : b[0]]) for a, b in pairwise(run)):
                    continue  # words of one name are separated by spaces only
                name = " ".join(w[2] for w in run)
                if name not in names and name not in known:
                    continue
                label, canon = ("GPE", _place_form(name)) if name in names else known[name]
                s, e = run[0][0], run[-1][0] + len(run[-1][2])  # a possessive "'S" stays out
                same = [m for m in mentions if m.start == s and m.end == e]
                if same:
                    for m in same:
                        m.label = label if m.label not in ("GPE", "LOC", "FAC") else m.label
                        m.canonical = canon if name in names else m.canonical  # "PERU" is Peru, not an acronym
                elif not any(m.start < e and s < m.end for m in (*mentions, *found)):
                    found.append(Mention(text[s:e], label, s, e, sentence_of(s, sentence_starts), canon))
                i += n - 1
                break
            i += 1
    return found


# Honorifics and ranks that only stand before a person's name (not "General", "Justice" or "Minister", which also
# open the names of companies and departments).
_PERSONAL_TITLES = frozenset((
    "mr", "mrs", "ms", "dr", "prof", "gen", "col", "capt", "lt", "sgt", "rev", "sheikh", "major-gen", "maj-gen",
    "brig-gen", "lt-gen", "colonel", "sergeant", "lieutenant"
))  # fmt: skip
# A person's age set off by commas right after the name: "Nathaly Cartas Leon, 20, had ...".
_AGE_AFTER = re.compile(r",\s*\d{1,3}\s*,")
# Nouns that name what kind of organisation the name after them is ("auction house Artcurial", "carmaker Hyundai",
# "investment bank Goldman Sachs"), or, after a comma, what kind the name before them is ("Etlaq, the company").
# Not nouns that also name a person's trade ("developer", "producer", "publisher", "broadcaster", "broker").
_ORG_NOUNS = (
    r"company|companies|firm|firms|bank|lender|insurer|brokerage|retailer|carrier|airline|carmaker|automaker|"
    r"drugmaker|chipmaker|maker|manufacturer|newspaper|agency|startup|start-up|conglomerate|group|giant|house|"
    r"consultancy|charity|club|outfit|label|chain|supplier|exchange|fund"
)
_ORG_NOUN_BEFORE = re.compile(rf"(?<![\w-])(?:{_ORG_NOUNS})\s+$")
_ORG_NOUN_AFTER = re.compile(rf",\s+(?:the|a|an)\s+(?:[a-z-]+\s+)?(?:{_ORG_NOUNS})\b")
# What only an organisation has, after its name and a possessive: "Green Throttle's website", "Acme's shares".
_ORG_POSSESSION_AFTER = re.compile(
    r"['’]s\s+(?:(?:official\s+)?web\s?site|CEO|chief\s+executive|shares|stock|share\s+price|headquarters|"
    r"subsidiary|subsidiaries|board\s+of\s+directors|shareholders|co-?founders?|founders?)\b"
)
# The people of an organisation before its name: "everyone at Sherwin Porter", "the team at Acme".
_MEMBERS_AT = re.compile(
    r"(?<![\w-])(?:everyone|everybody|team|teams|folks|staff|people|guys|crew|employees|colleagues)\s+at\s+$"
)
# A kind of place, then "of", before a name: "the atoll of Nikumaroro", "the city of Bexley".
_PLACE_NOUN_OF = re.compile(
    r"(?<![\w-])(?:island|islands|atoll|city|town|village|province|region|district|county|port|state|capital|"
    r"municipality|township|borough|suburb|neighbourhood|neighborhood)\s+of\s+$"
)
# Office words after a portfolio: "Transport Secretary Grant Shapps", "Defense Minister Fedorov".
_OFFICE_AFTER = re.compile(r"\s+(?:Secretary|Minister|Ministers|Commissioner|Spokesman|Spokeswoman|Spokesperson)\b")


def _by_context(text: str, mentions: list[Mention]) -> list[Mention]:
    """Return ``mentions`` with what the words around a name say about it applied over the model's label.

    - A name the model calls an organisation or a place is a person when a personal title opens it ("Major-Gen
      Gopaul Govender", the title then left out of the span) or an age follows it between commas ("Nathaly
      Cartas Leon, 20,").
    - A name right after a noun for a kind of organisation ("auction house Artcurial"), followed by one in
      apposition ("Etlaq, the company behind the spaceport") or by what only an organisation has ("Green
      Throttle's website", "Acme's shares"), or after its people ("everyone at Acme") is an organisation,
      whatever the model said; the label then outweighs the model's for the same name elsewhere in the article.
    - A name after a kind of place and "of" ("the atoll of Nikumaroro") is a place.
    - A one-word organisation right before an office ("Transport Secretary Grant Shapps") is the portfolio of a
      title, no organisation: dropped.
    - An organisation followed by "of" and a place is one organisation ("Chartered Professional Accountants of
      Canada", as "Bank of England" is one name) when the model split it in two.
    """
    out: list[Mention] = []
    for m in sorted(mentions, key=lambda m: m.start):
        prev = out[-1] if out else None
        if prev and prev.label == "ORG" and m.label in ("GPE", "LOC") and text[prev.end : m.start] == " of ":
            name = text[prev.start : m.end]
            out[-1] = Mention(name, "ORG", prev.start, m.end, prev.sentence_id, canonical_form(name))
            continue
        if m.label in ("ORG", "GPE", "LOC", "FAC", "NORP"):
            first = _LEADING_WORD.match(m.text)
            if first and first.group(1).lower() in _PERSONAL_TITLES:
                start, end = name_span(text, m.start, m.end, "PERSON")
                m = Mention(text[start:end], "PERSON", start, end, m.sentence_id, canonical_form(text[start:end]))
            elif " " in m.text and m.text.istitle() and _AGE_AFTER.match(text, m.end):
                m.label = "PERSON"
        if m.label in ("PERSON", "GPE", "LOC", "FAC", "NORP", "ORG") and (
            _ORG_NOUN_BEFORE.search(text, max(0, m.start - 30), m.start)
            or _ORG_NOUN_AFTER.match(text, m.end)
            or (_ORG_POSSESSION_AFTER.match(text, m.end) and not _named_person_or_place(m.canonical))
            or (_MEMBERS_AT.search(text, max(0, m.start - 30), m.start) and m.canonical.upper() not in place_names())
        ):
            m.label, m.cued = "ORG", True
        if m.label in ("ORG", "PERSON", "NORP") and _PLACE_NOUN_OF.search(text, max(0, m.start - 30), m.start):
            m.label, m.cued = "GPE", True  # "the Kiribati atoll of Nikumaroro", "the town of Bexley"
        if m.label == "ORG" and " " not in m.text and _OFFICE_AFTER.match(text, m.end):
            continue
        out.append(m)
    return out


# Last words that make a name an event (a tournament, a race, a show): "Rotterdam Open", "Davis Cup", "Monaco
# Grand Prix", "World Championships"; the model often calls one a place or an organisation.
_EVENT_WORDS = re.compile(
    r"\s(?:Open|Cup|Championships?|Grand Prix|Olympics|Olympiad|Masters|Trophy|Tournament|Marathon|Invitational)$"
)


_NO_MAKERS = frozenset({"PERSON", "GPE", "LOC"})
# A name written in camel case from a lower-case start: "vSphere", "iMac", "eReader" (a product's style; the
# companies written so, "eBay", are in the alias table).
_LOWER_CAMEL = re.compile(r"[a-z]{1,2}[A-Z][A-Za-z\d]+")


def _products_by_shape(mentions: Sequence[Mention]) -> None:
    """Relabel as PRODUCT what is written as a product's name: a word in lower camel case ("vSphere"), or a
    known company's name followed by more words that the model calls a person or a place ("Google Apps Script",
    "Microsoft Teams"): a maker's name opens the name of what it makes, never of a person or a place."""
    table = alias_table()
    for m in mentions:
        if table.lookup(m.canonical) is not None:
            continue
        if _LOWER_CAMEL.fullmatch(m.canonical) and m.label in ("PERSON", "ORG", "GPE", "LOC", "FAC"):
            m.label = "PRODUCT"
            continue
        first, _, rest = m.canonical.partition(" ")
        maker = table.lookup(first) if rest else None
        if maker is not None and maker.kind == KIND_PLATFORM and maker.label == "ORG" and m.label in _NO_MAKERS:
            m.label = "PRODUCT"


# What a family calls its members: "Dad finally retires" names no one.
_KIN_WORDS = frozenset(
    ("mum", "mom", "dad", "mummy", "mommy", "daddy", "mama", "papa", "grandma", "grandpa", "granny", "nana", "auntie")
)
# A capitalised word right before a one-word name: a given name the model did not know ("Zendaya Coleman").
_WORD_BEFORE = re.compile(r"(?<![\w'’.-])([A-Z][a-z]+) $")


def _unknown_first_names(text: str, mentions: list[Mention], dictionary: Dictionary) -> None:
    """Open a one-word person's name at the capitalised word right before it when that word is no English word,
    no known place or name, and in no other mention: a given name the model did not know ("Zendaya Coleman"
    found as "Coleman")."""
    taken = [(m.start, m.end) for m in mentions]
    for i, m in enumerate(mentions):
        before = _WORD_BEFORE.search(text, max(0, m.start - 30), m.start) if m.label == "PERSON" else None
        if before is None or " " in m.text or is_common_word(before.group(1), dictionary):
            continue
        start = before.start(1)
        word = before.group(1)
        if word.lower() in _PERSONAL_TITLES or word.upper() in place_names() or alias_table().lookup(word) is not None:
            continue  # a title, a place or a known name before the person is no given name
        if any(s < m.start and start < e for s, e in taken):
            continue
        name = text[start : m.end]
        mentions[i] = Mention(name, "PERSON", start, m.end, m.sentence_id, canonical_form(name))


def _named_person_or_place(name: str) -> bool:
    """Return True for a person's full name by its given name, or a known place: what they own ("Jane Roe's
    website", "Paris's mayor") says nothing of what they are."""
    return name.upper() in place_names() or _pair_label(name, alias_table()) == "PERSON"


def _people_beside_people(text: str, mentions: Sequence[Mention]) -> None:
    """Relabel as PERSON a one-word name the model calls an organisation or a place when it is a given name (and
    no known place) listed with a person: "tell Sasha and Malia", "Sasha, Malia or Michelle"."""
    names, places = given_names(), place_names()
    for a, b in pairwise(sorted(mentions, key=lambda m: m.start)):
        if not re.fullmatch(r",?\s+(?:and|or|&)\s+|,\s+", text[a.end : b.start]):
            continue
        for m, other in ((a, b), (b, a)):
            if (
                other.label == "PERSON"
                and m.label in ("ORG", "GPE", "LOC", "FAC", "NORP")
                and " " not in m.canonical
                and m.canonical.upper() in names
                and m.canonical.upper() not in places
            ):
                m.label = "PERSON"


def _events_not_names(mentions: Sequence[Mention]) -> None:
    """Relabel as EVENT a person, organisation or place whose last word names an event ("Rotterdam Open")."""
    for m in mentions:
        if m.label in ("PERSON", "ORG", "GPE", "LOC", "FAC") and _EVENT_WORDS.search(m.canonical):
            m.label = "EVENT"


def _places_after_adjectives(text: str, mentions: Sequence[Mention], dictionary: Dictionary) -> None:
    """Cut to the place a mention the model calls a person that is a known place after common words
    ("Mountainous Nepal" in a headline): a person's name opens on a given name or after a title, not on an
    English word that names no place before a country ("Mr Chad Jordan" stays a person)."""
    if not dictionary.words:
        return
    names, given = place_names(), given_names()
    for m in mentions:
        words = m.text.split()
        if m.label != "PERSON" or len(words) < 2 or words[-1].upper() not in names:
            continue
        lead = [w.lower().rstrip(".") for w in words[:-1]]
        if any(w.upper() in given or w.upper() in names or w not in dictionary.words for w in lead):
            continue
        title = _LEADING_WORD.search(text, max(0, m.start - 12), m.start)
        if title is not None and title.end() == m.start and title.group(1).lower() in _TITLES | _PERSONAL_TITLES:
            continue
        m.start = m.end - len(words[-1])
        m.text, m.canonical, m.label = words[-1], m.canonical.split()[-1], "GPE"


def _places_not_people(mentions: Sequence[Mention]) -> None:
    """Relabel as GPE a mention the model calls a person that is exactly a known place name ("Kyiv", "Nepal",
    "Daejeon": unfamiliar names read as people). A name that is part of a person's name in the same article
    stays a person ("Houston" after "Whitney Houston"); an ORG is left alone (a club named after its city is
    one)."""
    names = place_names()
    people = [m.canonical for m in mentions if m.label == "PERSON"]
    for m in mentions:
        if m.label != "PERSON" or m.canonical.upper() not in names:
            continue
        pattern = re.compile(rf"(?<![\w-]){re.escape(m.canonical)}(?![\w-])")
        if not any(p != m.canonical and pattern.search(p) for p in people):
            m.label = "GPE"
