"""Entities: from the model's mentions to one identity per entity, the same in every article.

The NLP stage (:mod:`tasks.nlp`) runs spaCy's recogniser; this module turns its mentions into
:class:`~tasks.records.Entity` records, all within one article, so an ``entity_id`` never depends on what else
was ingested (a rerun, a replay or a run after a crash gives the same ids):

1. **Canonical form** of each mention (:func:`canonical_form`): no leading "the", possessive or stray
   punctuation, single spaces, ALL-CAPS headline case undone.
2. **In-article aliases**: a headline form takes the body's casing, a bare surname after the full name is that
   person ("Li" after "Li Qiang", also where the model missed it), an acronym and its expansion in the same
   article are one entity ("ECB" and "European Central Bank").
3. **Platforms and products are not people or places**: a curated list (``tasks/data/entity_aliases.tsv``,
   kind ``platform``: Twitter/X, Facebook, TikTok, JavaScript, Python, Android, iPhone ...) gives them ORG or
   PRODUCT whatever the model said (the small model calls Twitter a PERSON).
4. **One label per entity** in the article, by majority of its mentions (first seen wins a tie).
5. **Alias table** for frequent entities (same file, kinds ``country`` and ``organisation``): "US", "U.S.",
   "USA", "United States of America" and "America" are the United States; "UN" and "United Nations" one entity;
   not when the article calls the name a PERSON (Jordan, Chad).
6. **Generic words** are dropped (:func:`is_generic_word`): a one-word ORG or PRODUCT that is an English
   dictionary word, capitalised only where any word is (at the start of a sentence or line: "Digital activism
   spiked ...") and a common word in the article too (also written in lowercase there, or never a noun), and any
   all-lowercase mention that is a dictionary word ("navy"). The dictionary ships with the model.
7. **Identity**: ``entity_key`` is a coarse type and the alias-resolved name, normalised (:func:`normalize_name`:
   case, dots and commas, hyphens, accents): ``GPE:united states``, ``ORG:european central bank``,
   ``PERSON:li qiang``; ``entity_id`` hashes it (:func:`tasks.ids.make_entity_id`). The coarse type is written as
   the label that stands for its group: GPE for GPE, LOC and FAC (the small model mixes them up for the same
   place), ORG for ORG and PRODUCT (a product and its maker's name are confused the same way), the label itself
   otherwise. Which fine label the lake mostly gives an entity is a query (``entity_labels`` in
   :mod:`storage.query`), never written into rows.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from itertools import pairwise
from typing import TYPE_CHECKING

from tasks.ids import make_entity_id
from tasks.records import Entity

if TYPE_CHECKING:
    from spacy.tokens import Doc

# Labels kept as entities. Numeric labels (DATE, MONEY, PERCENT, CARDINAL ...) are the figures' business.
ENTITY_LABELS = frozenset(
    {"PERSON", "NORP", "FAC", "ORG", "GPE", "LOC", "PRODUCT", "EVENT", "WORK_OF_ART", "LAW", "LANGUAGE"}
)
# Labels whose one-word mentions may be a person's surname ("Merz" tagged ORG or GPE by the small model).
_ALIASABLE = frozenset({"PERSON", "ORG", "GPE", "NORP", "LOC", "PRODUCT"})
# The coarse type of each label, written as the label that stands for the group (so that a GPE, ORG or PERSON
# name keeps the id it had when ids hashed the label itself).
COARSE_LABEL: Mapping[str, str] = {"LOC": "GPE", "FAC": "GPE", "PRODUCT": "ORG"}
# Labels whose one-word, sentence-initial dictionary words are dropped: the model calls a capitalised common
# word an organisation or a product ("Digital", "Subscribe"); people and places it gets right far more often.
_GENERIC_LABELS = frozenset({"ORG", "PRODUCT"})

ALIASES = "entity_aliases.tsv"
PLACES = "places.txt"
GIVEN_NAMES = "given_names.txt"
KIND_COUNTRY, KIND_ORGANISATION, KIND_PLATFORM = "country", "organisation", "platform"
_KINDS = frozenset({KIND_COUNTRY, KIND_ORGANISATION, KIND_PLATFORM})


# ---------------------------------------------------------------------------------------------------------------
# Names
# ---------------------------------------------------------------------------------------------------------------

_LEADING_THE = re.compile(r"^(?:the|The|THE)\s+")
_POSSESSIVE = re.compile(r"(?:['’]s|s['’]|['’])$")
_STRAY = " \t\n\"'“”‘’«»()[]{}<>,.;:!?*—–-_/|"
_LOWER_WORDS = frozenset({"of", "and", "the", "for", "in", "on", "at", "to", "de", "du", "la", "von", "van", "der"})
_KEY_DROP = re.compile(r"[.,]")
_KEY_SPACE = re.compile(r"[\s\-‐‑‒–—/]+")


def canonical_form(text: str, headline: bool = False) -> str:
    """Return the normalised name of a mention: no leading "the", possessive or stray punctuation, single
    spaces; with ``headline`` (an ALL-CAPS line) the capitals are undone ("TRUMP" -> "Trump")."""
    name = re.sub(r"\s+", " ", text).strip(_STRAY)
    name = _LEADING_THE.sub("", name)
    if _POSSESSIVE.search(name) and len(name) > 3:
        name = _POSSESSIVE.sub("", name)
    name = name.strip(_STRAY)
    if headline and name.isupper():
        # several words, or one of five letters or more, are a name in capitals ("TRUMP"); one short word may be an
        # acronym ("NATO")
        words = name.split(" ")
        name = " ".join(
            w.lower()
            if i and w.lower() in _LOWER_WORDS
            else w[:1] + w[1:].lower()
            if len(w) > 4 or len(words) > 1
            else w
            for i, w in enumerate(words)
        )
    return name


@lru_cache(maxsize=65_536)  # the same names come back in every article; a hit costs 0.1 µs against 6 µs
def normalize_name(name: str) -> str:
    """Return the form of a name that identity is decided on: accents, case, dots and commas dropped, hyphens,
    dashes and slashes as spaces, curly apostrophes straight, no leading "the". "U.S." / "U.S" / "US" are all
    ``us``; "Côte d'Ivoire" and "Cote d’Ivoire" are one; "Coca-Cola" is "Coca Cola"."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).replace("’", "'").replace("‘", "'")
    plain = _KEY_SPACE.sub(" ", _KEY_DROP.sub("", plain)).strip()
    return _LEADING_THE.sub("", plain).casefold()


def coarse_label(label: str) -> str:
    """Return the coarse type of ``label`` as the label that stands for its group (LOC and FAC are GPE, PRODUCT is
    ORG, every other label is its own)."""
    return COARSE_LABEL.get(label, label)


# ---------------------------------------------------------------------------------------------------------------
# The alias table
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AliasEntry:
    """One entity of the alias table: its ``name``, the ``label`` its aliases get, its ``kind`` (country,
    organisation or platform)."""

    name: str
    label: str
    kind: str

    @property
    def key(self) -> str:
        """The ``entity_key`` of every mention resolved to this entry."""
        return f"{coarse_label(self.label)}:{normalize_name(self.name)}"


@dataclass(frozen=True, slots=True)
class AliasTable:
    """Normalised alias -> entry; for a short acronym ("US", "BoE"), the spellings (without dots) it matches."""

    entries: Mapping[str, AliasEntry]
    short_forms: Mapping[str, frozenset[str]]

    def lookup(self, written: str) -> AliasEntry | None:
        """Return the entry ``written`` (a canonical form) names, or None. An all-lowercase form never matches (a
        name is capitalised: "fed" is not the Fed), nor a short acronym spelt otherwise than in the table ("Who")."""
        if not any(c.isupper() for c in written):
            return None
        key = normalize_name(written)
        entry = self.entries.get(key)
        if entry is None:
            return None
        forms = self.short_forms.get(key)
        if forms is not None and _KEY_DROP.sub("", written) not in forms:
            return None
        return entry


def _is_short_acronym(alias: str) -> bool:
    """An alias of one to three letters, mostly capitals ("US", "U.S.", "UN", "WHO", "X", "BoE"), is too often a
    word when written in another case ("Us", "Who")."""
    bare = _KEY_DROP.sub("", alias)
    return 0 < len(bare) <= 3 and bare.isalpha() and sum(c.isupper() for c in bare) * 2 > len(bare)


def parse_alias_table(text: str) -> AliasTable:
    """Return the alias table in ``text`` (the format of ``tasks/data/entity_aliases.tsv``: name, label, kind,
    aliases separated by "|"; "#" starts a comment line).

    Raises ValueError on a malformed line, an unknown kind or label, or an alias that names two entries."""
    entries: dict[str, AliasEntry] = {}
    short: defaultdict[str, set[str]] = defaultdict(set)
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        cells = line.split("\t")
        if len(cells) != 4:
            raise ValueError(f"line {number}: expected 4 tab-separated columns, got {len(cells)}")
        name, label, kind, aliases = (c.strip() for c in cells)
        if kind not in _KINDS or label not in ENTITY_LABELS or not name:
            raise ValueError(f"line {number}: bad name, label {label!r} or kind {kind!r}")
        entry = AliasEntry(name, label, kind)
        for alias in [name, *(a.strip() for a in aliases.split("|") if a.strip())]:
            key = normalize_name(alias)
            if entries.get(key, entry) != entry:
                raise ValueError(f"line {number}: alias {alias!r} already names {entries[key].name!r}")
            entries[key] = entry
            if _is_short_acronym(alias):
                short[key].add(_KEY_DROP.sub("", alias))
    return AliasTable(entries, {key: frozenset(forms) for key, forms in short.items()})


@lru_cache(maxsize=1)
def alias_table() -> AliasTable:
    """Return the bundled alias table (``tasks/data/entity_aliases.tsv``), read once per process."""
    return parse_alias_table(resources.files("tasks").joinpath("data", ALIASES).read_text(encoding="utf-8"))


def resolve_alias(label: str, canonical: str, table: AliasTable | None = None) -> AliasEntry | None:
    """Return the alias-table entry a mention with this (in-article, majority) ``label`` and ``canonical`` form
    resolves to, or None: platforms always, countries and organisations unless the article calls it a PERSON."""
    entry = (table or alias_table()).lookup(canonical)
    if entry is None or (label == "PERSON" and entry.kind != KIND_PLATFORM):
        return None
    return entry


def entity_key(label: str, canonical: str, table: AliasTable | None = None) -> str:
    """Return the identity of an entity with this (final) ``label`` and ``canonical`` form: ``TYPE:name``, the
    alias table's name when the table knows it, else the normalised canonical form. ``entity_id`` hashes it."""
    entry = resolve_alias(label, canonical, table)
    return entry.key if entry is not None else _plain_key(label, canonical)


def _plain_key(label: str, canonical: str) -> str:
    """The ``entity_key`` of a name the alias table does not know."""
    return f"{coarse_label(label)}:{normalize_name(canonical)}"


def entity_id_of(key: str) -> str:
    """Return the ``entity_id`` of an ``entity_key`` (``TYPE:name``)."""
    kind, _, name = key.partition(":")
    return make_entity_id(kind, name)


# ---------------------------------------------------------------------------------------------------------------
# Generic words
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Dictionary:
    """Lowercase English words (``words``), and those of them that are nouns (``nouns``), for
    :func:`is_generic_word`. Empty: no word is generic."""

    words: frozenset[str] = frozenset()
    nouns: frozenset[str] = frozenset()

    def knows(self, word: str) -> bool:
        """Return whether ``word`` (any case), or it without a plural "s", is an English word."""
        return self._form(word) is not None

    def is_noun(self, word: str) -> bool:
        """Return whether ``word`` (any case), or it without a plural "s", is an English noun."""
        form = self._form(word)
        return form is not None and form in self.nouns

    def _form(self, word: str) -> str | None:
        low = word.lower()
        if low in self.words:
            return low
        if len(low) > 3 and low.endswith("s") and low[:-1] in self.words:
            return low[:-1]
        return None


NO_DICTIONARY = Dictionary()

# What may stand between the start of a sentence or line and its first word: quotes, brackets, bullets, dashes.
_OPENERS = " \t\"'“‘«([*•·–—-"


def starts_sentence(text: str, offset: int, sentence_starts: Collection[int] = ()) -> bool:
    """Return whether the word at ``offset`` is the first of a sentence or a line (after any opening quotes,
    brackets or bullets), or follows a colon ("said: “The ..."): places where any word is capitalised.

    Sentences are the sentence recogniser's (``sentence_starts``); only without them does a full stop count, as
    "U.S. Congress" would otherwise start a sentence at "Congress"."""
    k = offset
    while k > 0 and text[k - 1] in _OPENERS:
        k -= 1
    if k == 0 or text[k - 1] in "\n:" or k in sentence_starts or offset in sentence_starts:
        return True
    return not sentence_starts and text[k - 1] in ".!?"


def is_generic_word(
    text: str,
    canonical: str,
    label: str,
    dictionary: Dictionary,
    sentence_starts: Collection[int] = (),
    names: Sequence[tuple[int, int]] = (),
) -> bool:
    """Return whether a one-word entity is a common word the model took for a name, so the entity is dropped.

    ``canonical`` must be one word of letters that ``dictionary`` knows, and either

    - written all in lowercase ("navy", "mosques"), whatever the label: a name is capitalised; or
    - an ORG or PRODUCT with only its first letter capital, capitalised in ``text`` only where any word is (every
      capitalised occurrence starts a sentence or a line: "Digital activism spiked ..."), and a common word in
      this article too: the article also writes it in lowercase ("Education was ..." and "his education"), or
      the dictionary knows it only as an adjective, adverb or verb ("Digital", "Avoid"), never as a noun.
      Occurrences inside a longer name (``names``: the spans of the article's other mentions, "a Digital
      Infrastructure Initiative") say nothing about the word alone and are not counted.

    - an ORG or PRODUCT written only in capitals, in headline lines ("SHOCK DEFEAT"): a headline's word.

    So "Congress" and "Kremlin" at the start of every sentence that names them stay (nouns the article never
    writes in lowercase), "shares of Chevron rose" stays (capitalised mid-sentence), all capitals ("NYSE") stay,
    and the alias table's names are never tested (the caller checks the table first).
    """
    if not dictionary.words or not canonical.isalpha() or not dictionary.knows(canonical):
        return False
    if canonical.islower():
        return True
    if label in _GENERIC_LABELS:
        hits = [h.span() for h in re.finditer(rf"(?<![\w'’-]){re.escape(canonical)}(?!\w)", text, re.IGNORECASE)]
        if hits and all(text[s:e].isupper() and _is_headline(text, s, e) for s, e in hits):
            return True  # "CHILE IN SHOCK DEFEAT": a word of a headline in capitals, never written as a name
    if label not in _GENERIC_LABELS or not (canonical[0].isupper() and canonical[1:].islower()):
        return False
    seen = False
    for hit in re.finditer(rf"(?<![\w'’-]){re.escape(canonical)}(?!\w)", text):
        start, end = hit.span()
        if any(s <= start and end <= e and e - s > end - start for s, e in names):
            continue
        if not starts_sentence(text, start, sentence_starts):
            return False
        seen = True
    if not seen:
        return False
    lower = canonical.lower()
    return not dictionary.is_noun(canonical) or re.search(rf"(?<![\w'’-]){re.escape(lower)}(?!\w)", text) is not None


# ---------------------------------------------------------------------------------------------------------------
# Mentions to entities
# ---------------------------------------------------------------------------------------------------------------


def _is_headline(text: str, start: int, end: int) -> bool:
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line = text[line_start : line_end if line_end >= 0 else len(text)]
    letters = [c for c in line if c.isalpha()]
    return len(letters) >= 12 and sum(c.isupper() for c in letters) / len(letters) > 0.9


def _initials(name: str) -> str:
    return "".join(w[0] for w in re.findall(r"[\w'’&-]+", name) if w.lower() not in _LOWER_WORDS and w[0].isalpha())


@dataclass(slots=True)
class Mention:
    """One mention on its way to an :class:`~tasks.records.Entity`; ``canonical`` and ``label`` change as the
    article's aliases are resolved."""

    text: str
    label: str
    start: int
    end: int
    sentence_id: int | None
    canonical: str


# What a mention's span may carry around the name that CoNLL-style spans leave out: a leading article, a
# possessive, stray punctuation, a title in front of a person, a clause the model ran on into after a spaced dash.
_SPAN_THE = re.compile(r"(?:the|The|THE)\s+(?=\S)")
_SPAN_POSSESSIVE = re.compile(r"(?<=\w)\s?['’‘]s$")  # "Kelce's", and "Kelce 's" in text tokenised with spaces
_SPAN_STRAY = " \t\n\"'“”‘’«»()[]{}<>,;:!?*—–-_/|"
_SPAN_DASH_CLAUSE = re.compile(r"\s+[-–—]\s+(?=[a-z])|\s+/\s+")  # "Ann Roe - found", "Ann Roe / Agency"
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
    cut = _SPAN_DASH_CLAUSE.search(text, s, e)
    if cut:
        e = cut.start()
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
        for s, e in _names_between_scores(text, ent.start_char, ent.end_char, ent.label_):
            start, end = name_span(text, s, e, ent.label_)
            canon = canonical_form(text[start:end], caps)
            if not canon or not any(c.isalpha() for c in canon):
                continue
            sid = sentence_of(start, sentence_starts)
            mentions.append(Mention(text[start:end], ent.label_, start, end, sid, canon))
    _people_by_given_name(mentions)
    mentions = _by_context(text, mentions)
    _places_not_people(mentions)
    mentions += _missed_surnames(text, mentions, sentence_starts)
    mentions += _places_in_capitals(text, mentions, sentence_starts)
    mentions.sort(key=lambda m: m.start)
    return resolve_entities(mentions, text, sentence_starts, dictionary)


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


@lru_cache(maxsize=1)
def place_names() -> frozenset[str]:
    """Return the bundled place names (``tasks/data/places.txt``) in capitals, read once per process."""
    text = resources.files("tasks").joinpath("data", PLACES).read_text(encoding="utf-8")
    return frozenset(line.strip().upper() for line in text.splitlines() if line.strip() and not line.startswith("#"))


@lru_cache(maxsize=1)
def given_names() -> frozenset[str]:
    """Return the bundled given names (``tasks/data/given_names.txt``) in capitals, read once per process."""
    text = resources.files("tasks").joinpath("data", GIVEN_NAMES).read_text(encoding="utf-8")
    return frozenset(line.strip().upper() for line in text.splitlines() if line.strip() and not line.startswith("#"))


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
    names, places, table = given_names(), place_names(), alias_table()
    for m in mentions:
        if m.label not in ("ORG", "GPE", "LOC", "FAC"):
            continue
        words = m.canonical.split(" ")
        if not 2 <= len(words) <= 3 or not all(_NAME_WORD.fullmatch(w) for w in words):
            continue
        first, last = words[0].upper(), words[-1].upper().rstrip(".")
        if first not in names or last in _NOT_SURNAMES or m.canonical.upper() in places:
            continue
        if table.lookup(m.canonical) is None:
            m.label = "PERSON"


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
    known = _known_in_body(mentions)
    regions: list[tuple[int, int]] = [(m.start("place"), m.end("place")) for m in _DATELINE.finditer(text)]
    regions += [(line.start(), line.end()) for line in re.finditer(r"[^\n]+", text)
                if _is_headline(text, line.start(), line.end())]  # fmt: skip
    found: list[Mention] = []
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
# Office words after a portfolio: "Transport Secretary Grant Shapps", "Defense Minister Fedorov".
_OFFICE_AFTER = re.compile(r"\s+(?:Secretary|Minister|Ministers|Commissioner|Spokesman|Spokeswoman|Spokesperson)\b")


def _by_context(text: str, mentions: list[Mention]) -> list[Mention]:
    """Return ``mentions`` with what the words around a name say about it applied over the model's label.

    - A name the model calls an organisation or a place is a person when a personal title opens it ("Major-Gen
      Gopaul Govender", the title then left out of the span) or an age follows it between commas ("Nathaly
      Cartas Leon, 20,").
    - A name right after a noun for a kind of organisation ("auction house Artcurial") or followed by one in
      apposition ("Etlaq, the company behind the spaceport") is an organisation, whatever the model said.
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
        if m.label in ("PERSON", "GPE", "LOC", "FAC", "NORP") and (
            _ORG_NOUN_BEFORE.search(text, max(0, m.start - 30), m.start) or _ORG_NOUN_AFTER.match(text, m.end)
        ):
            m.label = "ORG"
        if m.label == "ORG" and " " not in m.text and _OFFICE_AFTER.match(text, m.end):
            continue
        out.append(m)
    return out


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


def sentence_of(offset: int, starts: Sequence[int]) -> int | None:
    """Return the index of the sentence holding ``offset`` (``starts``: sorted sentence start offsets)."""
    if not starts:
        return None
    lo, hi = 0, len(starts) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if starts[mid] <= offset:
            lo = mid
        else:
            hi = mid - 1
    return lo


def resolve_entities(
    mentions: list[Mention],
    text: str = "",
    sentence_starts: Collection[int] = (),
    dictionary: Dictionary = NO_DICTIONARY,
) -> list[Entity]:
    """Resolve aliases within one article and return :class:`Entity` records (see the module docstring, steps
    2 to 7); ``text`` is the article's text, which the generic-word rule reads."""
    _resolve_in_article(mentions)
    table = alias_table()
    # 3. platforms and products: the curated label, whatever the model said
    for m in mentions:
        entry = table.lookup(m.canonical)
        if entry is not None and entry.kind == KIND_PLATFORM:
            m.label = entry.label
    # 4. one label per entity, by majority of its mentions (first seen wins a tie)
    labels: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for m in mentions:
        labels[normalize_name(m.canonical)][m.label] += 1
    chosen = {name: c.most_common(1)[0][0] for name, c in labels.items()}
    kept: list[tuple[Mention, str, str]] = []  # (mention, final label, entity_key)
    generic: dict[str, bool] = {}
    spans = [(m.start, m.end) for m in mentions]
    starts = frozenset(sentence_starts)
    for m in mentions:
        label = chosen[normalize_name(m.canonical)]
        # 5. the alias table
        entry = resolve_alias(label, m.canonical, table)
        if entry is not None:
            kept.append((m, entry.label, entry.key))
            continue
        # 6. generic words (decided once per form)
        if " " not in m.canonical:
            if m.canonical not in generic:
                generic[m.canonical] = is_generic_word(text, m.canonical, label, dictionary, starts, spans)
            if generic[m.canonical]:
                continue
        kept.append((m, label, _plain_key(label, m.canonical)))
    # 7. identity
    ids = [entity_id_of(key) for _, _, key in kept]
    counts = Counter(ids)
    return [
        Entity(
            text=m.text,
            label=label,
            canonical=m.canonical,
            entity_id=eid,
            start_char=m.start,
            end_char=m.end,
            sentence_id=m.sentence_id,
            mention_count=counts[eid],
        )
        for (m, label, _), eid in zip(kept, ids, strict=True)
    ]


def _resolve_in_article(mentions: list[Mention]) -> None:
    """Step 2: casing, surnames and acronyms within the article (changes ``canonical`` and ``label`` in place)."""
    # casing: a headline form takes the casing the body uses for the same name
    body_forms: dict[str, str] = {}
    for m in mentions:
        if not m.canonical.isupper() or len(m.canonical) <= 3:
            body_forms.setdefault(m.canonical.casefold(), m.canonical)
    for m in mentions:
        m.canonical = body_forms.get(m.canonical.casefold(), m.canonical)
    # one-word mentions that are a part of a longer person's name: "Li" -> "Li Qiang", "Merz" -> "Friedrich Merz"
    persons = Counter(m.canonical for m in mentions if m.label == "PERSON" and " " in m.canonical)
    by_part: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for full, n in persons.items():
        parts = full.split(" ")
        for part in {parts[0], parts[-1]}:
            if len(part) > 1 and part[0].isupper():
                by_part[part][full] += n
    for m in mentions:
        if " " not in m.canonical and m.label in _ALIASABLE and m.canonical in by_part:
            options = by_part[m.canonical]
            best, n = options.most_common(1)[0]
            if len(options) == 1 or n > sum(options.values()) - n:
                m.canonical, m.label = best, "PERSON"
        elif m.label == "PERSON" and " " in m.canonical:
            # "President Xi Jinping" already full; "Mr Li Qiang" -> "Li Qiang"
            m.canonical = re.sub(r"^(?:Mr|Mrs|Ms|Dr|Sir|Dame|Lord|Lady)\.? ", "", m.canonical)
    # acronyms and their expansion when both appear: "ECB" <-> "European Central Bank"
    expansions: dict[str, str] = {}
    for m in mentions:
        if " " in m.canonical and m.label in ("ORG", "GPE", "LOC", "NORP", "FAC", "EVENT", "LAW"):
            ini = _initials(m.canonical)
            if len(ini) >= 2:
                expansions.setdefault(ini.upper(), m.canonical)
    for m in mentions:
        if m.canonical.isupper() and m.canonical.replace(".", "") in expansions:
            m.canonical = expansions[m.canonical.replace(".", "")]
