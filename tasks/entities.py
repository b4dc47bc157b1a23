"""Entities: from the model's mentions to one identity per entity, the same in every article.

The NLP stage (:mod:`tasks.nlp`) runs spaCy's recogniser and :mod:`tasks.mentions` corrects its spans and labels;
this module turns the mentions into :class:`~tasks.records.Entity` records, all within one article, so an
``entity_id`` never depends on what else was ingested (a rerun, a replay or a run after a crash gives the same
ids):

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

import json
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from tasks.ids import make_entity_id
from tasks.records import Entity

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
GAZETTEER = "gazetteer.jsonl"
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
    letters = sum(map(str.isalpha, line))
    return letters >= 12 and sum(map(str.isupper, line)) / letters > 0.9


# How many of the model's votes one label read from the context is worth.
_CUE_WEIGHT = 3


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
    cued: bool = False  # the label was read from the words around the name, not guessed by the model


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
    # 4. one label per entity, by majority of its mentions (first seen wins a tie); a label the words around a
    # name gave it ("Green Throttle's website") outweighs the model's guesses elsewhere in the article
    labels: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for m in mentions:
        labels[normalize_name(m.canonical)][m.label] += _CUE_WEIGHT if m.cued else 1
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
                # a label the context gave stays, and outvotes the model for the whole name ("Green Throttle")
                m.canonical, m.label = best, m.label if m.cued else "PERSON"
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


def gazetteer_patterns() -> list[dict[str, Any]]:
    """Return the entity_ruler patterns of the bundled gazetteer (``tasks/data/gazetteer.jsonl``)."""
    text = resources.files("tasks").joinpath("data", GAZETTEER).read_text(encoding="utf-8")
    patterns = []
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("//"):
            row = json.loads(line)
            patterns.append({"label": row["label"], "pattern": row["pattern"]})
    return patterns


@lru_cache(maxsize=1)
def possessive_names() -> frozenset[str]:
    """Return the gazetteer's names that end in a possessive ("Moody's", "Standard & Poor's"), spaces removed
    before the "'s": there it is part of the name, which spans keep."""
    return frozenset(
        re.sub(r"\s+(?=['’]s$)", "", p["pattern"]) for p in gazetteer_patterns() if re.search(r"['’]s$", p["pattern"])
    )
