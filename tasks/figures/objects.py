"""Objects: what a figure measures ("Brazilian coffee" in "US$2 billion worth of Brazilian coffee").

Money, percentages, fractions and physical quantities take their object from a dependency parse
(:func:`attach_objects`), which only the sentences holding such figures pay for (:func:`needs_parse`,
:func:`parse_window`). Counts, ordinals and lengths of time take it from the words that follow
(:func:`tasks.figures.next_words.guess_object`), which needs no model. The walk through the parse that finds
the phrase is :mod:`tasks.figures.measured`; this module keeps a phrase only when it says what is measured, and
cleans it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from tasks.figures.kinds import KIND_COUNT, KIND_DATE, KIND_FRACTION, KIND_MONEY, KIND_PERCENT, KIND_QUANTITY, _words
from tasks.figures.measured import DIMENSION_WORDS, REPORTING_VERBS, TIME_OBJECTS, object_tokens
from tasks.figures.units import _TIME_UNITS, _UNIT_WORDS
from tasks.records import Figure

if TYPE_CHECKING:
    from spacy.tokens import Doc, Span, Token


# ---------------------------------------------------------------------------------------------------------------
# Objects from the dependency parse: which phrase is kept, and how it is cleaned
# ---------------------------------------------------------------------------------------------------------------

# A change written as a gerund ("stop them from rising more than 2 degrees") names the change, not what changed.
_CHANGE_GERUNDS = _words(
    "rising falling growing increasing decreasing dropping declining jumping climbing soaring surging plunging "
    "sliding dipping shrinking expanding gaining losing"
)
# Nouns that never answer "what is measured" on their own: times and periods, the frame of a statement, the
# generic doer ("the bank", "the company"), words that only point ("the purpose", "the side").
_GENERIC_OBJECTS = _words(
    "year years month months week weeks day days time times period periods quarter quarters decade decades "
    "end beginning start moment date purpose purposes study studies report reports survey surveys analysis "
    "research data statement release side sides way ways part thing things lot case fact reason excess sum "
    "bank banks company companies firm firms group groups government agency state country city one ones other "
    "others relative outright equivalent form forms basis kind kinds type types sort news piece minimum maximum"
)
# Of those, the doers: what a share is of ("half of firms", "45% of companies") names what is measured.
_GENERIC_DOERS = _words("bank banks company companies firm firms group groups agency state country city")


def attach_objects(
    figures: Sequence[Figure],
    doc: Doc,
    *,
    offset: int = 0,
    entity_spans: Sequence[tuple[int, int, str]] = (),
    people: Sequence[tuple[int, int]] = (),
) -> list[Figure]:
    """Return ``figures`` with ``object`` (and ``object_entity``) filled from the parse ``doc``.

    ``doc`` parses ``text[offset : offset + len(doc.text)]`` of the text the figure offsets index into. Only
    figures that :func:`needs_parse` and have no object yet are looked at; the two ends of a range ("1/4 to 1/2
    percent") and an amount restated ("73 per cent of the cost, or RM4.5 million") share an object.
    ``entity_spans`` are ``(start, end, canonical)`` in the same text; the entity inside the object phrase, if
    any, becomes ``object_entity``. An object is left empty rather than wrong: a bare generic noun ("year",
    "purpose", "the bank"), a word that is no noun ("reaching"), or a person (a span of ``people``, or a name
    that is the subject of a verb of saying) is dropped.
    """
    if not people and doc.has_annotation("ENT_IOB"):
        # a parse that also ran the entity recogniser names its people itself (a sentence parsed on its own)
        people = [(offset + e.start_char, offset + e.end_char) for e in doc.ents if e.label_ == "PERSON"]
    fig_tokens: set[int] = set()
    spans: list[Span | None] = []
    for f in figures:
        inside = offset <= f.start_char and f.end_char <= offset + len(doc.text)
        sp = doc.char_span(f.start_char - offset, f.end_char - offset, alignment_mode="expand") if inside else None
        spans.append(sp)
        if sp is not None:
            fig_tokens.update(range(sp.start, sp.end))
    found: list[tuple[int, int] | None] = []
    for f, sp in zip(figures, spans, strict=True):
        wanted = sp is not None and needs_parse(f) and f.object is None
        toks = object_tokens(sp, doc, fig_tokens, f.kind == KIND_MONEY) if wanted and sp is not None else None
        toks = _before_clause(doc, toks) if toks is not None else None
        if toks is not None and sp is not None and toks[0] == sp.end + 1 and doc[sp.end].lower_ in ("/", "per"):
            toks = None  # "$6450/year for a family": the unit of a rate, not what it measures
        share = sp is not None and toks is not None and _is_share_of(doc, sp.end, toks[0])
        useful = toks is not None and _useful(doc, toks, offset, people, share, f.unit)
        found.append(toks if useful else None)
    # range ends and restatements share their object
    for i in range(len(figures) - 1):
        a, b = figures[i], figures[i + 1]
        gap = doc.text[a.end_char - offset : b.start_char - offset] if spans[i] and spans[i + 1] else ""
        if needs_parse(a) and needs_parse(b) and _SHARED_GAP.fullmatch(gap):
            found[i], found[i + 1] = found[i] or found[i + 1], found[i + 1] or found[i]
        elif needs_parse(b) and found[i + 1] is None and re.search(r",\s+or\s+$", gap):
            found[i + 1] = found[i]  # "40 per cent of the bill, or RM2 million"
        elif (
            found[i] is not None
            and a.kind == b.kind
            and _FROM_OF_TO.fullmatch(gap)
            and re.search(r"\bfrom\s+$", doc.text[max(0, a.start_char - offset - 6) : a.start_char - offset])
        ):
            found[i + 1] = found[i]  # "from 12% of traffic referrals to over 20%": the end is of the same thing
    _levels_after_changes(figures, spans, found, doc.text, offset)
    out: list[Figure] = []
    for f, toks in zip(figures, found, strict=True):
        if toks is None:
            out.append(f)
            continue
        start, end = toks
        obj = _clean_object(doc[start:end].text)
        first, _, rest = obj.partition(" ")
        hyphen_after = doc.text[f.end_char - offset : f.end_char - offset + 1] in "-‑"
        if rest and first.lower() in DIMENSION_WORDS and hyphen_after:
            obj = rest  # "a 150-km-wide pit": the dimension belongs to the measure, the pit is what is measured
        s_char = doc[start].idx + offset
        e_char = doc[end - 1].idx + len(doc[end - 1]) + offset
        if s_char < f.end_char and f.start_char < e_char:
            # a phrase that runs over the figure keeps its words before it: "CSS's 11Kb rise" is CSS's rise
            obj = _clean_object(_POSSESSIVE_END.sub("", doc.text[s_char - offset : f.start_char - offset]))
            e_char = s_char + len(obj)
        if not obj or _NUMBER_LIKE.fullmatch(obj):
            out.append(f)  # "200°C /400F": another measure is no object
            continue
        if re.fullmatch(r"\s*[(\[]\s*", doc.text[f.end_char - offset : s_char - offset]):
            out.append(f)  # "by 1.43°C (Copernicus Climate Change Service, 2023)": a source in brackets, cited
            continue
        entity = next((c for s, e, c in entity_spans if s < e_char and s_char < e), None)
        out.append(replace(f, object=obj, object_entity=entity))
    return out


def _levels_after_changes(
    figures: Sequence[Figure], spans: Sequence[Span | None], found: list[tuple[int, int] | None], text: str, offset: int
) -> None:
    """Give a bare count the object of the change before it when it is the level the change reached ("fell 1.2% to
    5,950.3", "jumped 28% in January to 49,795"; a date between them is skipped)."""
    for j, b in enumerate(figures):
        if b.kind != KIND_COUNT or b.object is not None or found[j] is not None or spans[j] is None:
            continue
        i = j - 1
        while i >= 0 and figures[i].kind == KIND_DATE:
            i -= 1
        if i < 0 or figures[i].kind not in (KIND_PERCENT, KIND_MONEY) or found[i] is None or spans[i] is None:
            continue
        if _TO_LEVEL_GAP.fullmatch(text[figures[i].end_char - offset : b.start_char - offset]):
            found[j] = found[i]


def _is_share_of(doc: Doc, fig_end: int, obj_start: int) -> bool:
    """Return True when the object phrase starting at ``obj_start`` is what the figure ending at ``fig_end`` is a
    share of: only "of" and a determiner between them ("half of the firms", "45% of companies")."""
    between = [t.lower_ for t in doc[fig_end:obj_start]]
    return bool(between) and between[0] == "of" and all(t in ("the", "its", "their", "all") for t in between[1:])


def _useful(
    doc: Doc,
    toks: tuple[int, int],
    offset: int,
    people: Sequence[tuple[int, int]],
    share: bool = False,
    unit: str | None = None,
) -> bool:
    """Return False for an object phrase that does not say what is measured (see :func:`attach_objects`); with
    ``share`` (the figure is a share of the phrase: "half of firms") a generic doer is what is measured."""
    span = doc[toks[0] : toks[1]]
    words = [t for t in span if not t.is_punct and t.tag_ not in ("DT", "PRP$", "POS")]
    if not words:
        return False
    head = span.root
    if head.lower_ in TIME_OBJECTS:
        return False
    if (
        head.lower_ in _GENERIC_OBJECTS
        and not (share and head.lower_ in _GENERIC_DOERS)
        and all(t.i == head.i or t.tag_ in ("JJ", "JJR", "JJS", "RB") for t in words)
    ):
        return False  # "the bank", "a gigantic sum": a bare generic noun, adjectives add nothing measured
    adjective = head.tag_.startswith("JJ") and head.dep_ == "amod"  # "small" of "small (144 x 144) thumbnails"
    if len(words) == 1 and (head.tag_.startswith(("RB", "IN", "RP")) or adjective or _verb_not_noun(head)):
        return False  # "reaching", "outright", "small": no noun
    if len(words) == 1 and unit is not None and _UNIT_WORDS.get(head.lower_) == unit:
        return False  # "6″ to 8″ inches long": the figure's unit written again
    if len(words) == 1 and head.lower_ in _CHANGE_GERUNDS:
        return False  # "stop them from rising more than 2 degrees": the change, not what changed
    if all(t.like_num or t.tag_ == "CD" for t in words):
        return False  # another number ("Four of them cost $1,000") measures nothing
    s_char, e_char = head.idx + offset, head.idx + len(head) + offset
    if any(s < e_char and s_char < e for s, e in people):
        return False
    if len(words) > 1 and all(t.text.isupper() and len(t.text) > 1 for t in words) and not doc.text.isupper():
        return False  # a dateline in capitals ("MEXICO CITY (Reuters) -"), never what is measured
    proper = all(t.tag_ in ("NNP", "NNPS") for t in words) and len(words) <= 6
    return not (proper and head.dep_ in ("nsubj", "nsubjpass") and head.head.lower_ in REPORTING_VERBS)


# Tags of a finite verb or a relative pronoun: never inside the noun phrase of what is measured (a relative clause
# describes it further: "a 1.4-mile radius of farms [that you learned about]"). Dependencies that make a token the
# head of a clause: a plural noun tag there is the tagger reading a verb in -s as a noun ("while Google hovers").
_FINITE_VERB_TAGS = frozenset({"VBZ", "VBD", "VBP", "MD", "WDT", "WP", "WP$"})
_CLAUSE_DEPS = frozenset({"advcl", "ccomp", "relcl"})


def _before_clause(doc: Doc, toks: tuple[int, int]) -> tuple[int, int] | None:
    """Return the object tokens up to the first verb inside them; None when the phrase starts with one.

    A noun phrase holds no finite verb: a phrase that runs on into a verb was read past its end, as when the
    tagger reads a verb in -s as a plural noun at the head of a clause ("while [Google hovers] around 80%"). A
    preposition that opens a clause on a gerund ends it too: what follows says what the thing is for, not what
    is measured.
    """
    start, end = toks
    for i in range(start, end):
        tok = doc[i]
        if tok.tag_ in _FINITE_VERB_TAGS or (tok.tag_ == "NNS" and tok.dep_ in _CLAUSE_DEPS):
            return (start, i) if i > start else None
        if i > start and tok.tag_ == "IN" and any(c.dep_ == "pcomp" and c.tag_ == "VBG" for c in tok.children):
            return start, i  # "a £1,000 fine [for allowing staff to attend]": a clause on what it is for
    return toks


def _verb_not_noun(tok: Token) -> bool:
    """Return True for a verb form that is used as a verb, not as a noun ("advertising reaching $21 billion");
    a gerund in a noun's place ("committed to spending $2B") is kept."""
    return tok.tag_.startswith("VB") and not (tok.tag_ == "VBG" and tok.dep_ in ("pcomp", "pobj", "nsubj", "dobj"))


# Between a change and the level it reaches, maybe with the period between: " to ", " in January to ".
_TO_LEVEL_GAP = re.compile(r"(?:\s+(?:in|on|during|over)\s+(?:the\s+)?[\w-]+(?:\s+\d{4})?)?\s+to\s+")
# Between the ends of a change written "from A of X to B": "from 12% of all referrals to over 20%".
_FROM_OF_TO = re.compile(
    r"\s+(?:of|in|for)\s+[^,;.()]{1,60}?\s+to\s+(?:(?:over|about|around|nearly|almost|roughly|just|under|"
    r"more\s+than|less\s+than)\s+)?"
)
_SHARED_GAP = re.compile(
    r"\s?(?:[-–—‑]|to|and|[x×])\s?|\s+(?:to|and|at|by)\s+|,?\s+or\s+|\s*\(\s*|\s+\(|(?:\s+(?:per|a|an|each)\s+\w+)?"
    r"\s+(?:rather\s+than|instead\s+of|versus|vs\.?)\s+|,\s+(?:up|down)\s+(?:by\s+)?"
    r"|,\s+(?:an?\s+)?(?:increase|decrease|rise|drop|fall|gain|cut|jump|decline|reduction)\s+of\s+(?:about\s+)?"
)  # the last: "receives $1.7 billion, an increase of $320 million": the change is of the same thing


# A web address is where something is, never what a figure measures.
_WEB_ADDRESS = re.compile(r"(?i)https?://|\bwww\.|\b[\w-]+\.(?:com|org|net|gov|edu|io|info|biz|co\.uk|co)\b")
# Words that cannot end a noun phrase: a preposition or conjunction left at the end was read past the phrase.
_DANGLING_END = re.compile(r"(?i)\s+(?:vs|v|versus|of|and|or|to|with|from|by|for|at|in|on)\.?$")


_POSSESSIVE_END = re.compile(r"\s*[’']s?\s*$")
# A phrase that is a number with a unit symbol and punctuation: another measure, not a thing measured.
_NUMBER_LIKE = re.compile(r"[\W\d]*\d[\w°]*")


def _clean_object(text: str) -> str:
    text = re.sub(r"\s+", " ", text)
    if _WEB_ADDRESS.search(text):
        return ""
    text = re.split(r"(?<=[a-z])[.!?](?=[A-Z][a-z])", text)[0]  # two sentences run together: "caliper.They look"
    if text.count('"') % 2 or text.count("“") != text.count("”"):
        text = re.split(r'["”]', text)[-1]  # a quoted title cut in two: "Harry Potter" decals" is "decals"
    text = re.sub(r"\s*\([^)]*$", "", text)  # a bracket the phrase leaves open: "Revenue Service (Sars"
    text = text.strip(" ,;:—–-()[]\"“”'")
    text = re.sub(r"^(?:the|a|an|all|its|their|his|her|our|this|that|these|those|some)\s+", "", text, flags=re.I)
    # a hedge on the figure is no part of what it measures: "an estimated fortune of $12 billion"
    text = re.sub(r"^(?:estimated|expected|projected|approximate|reported)\s+(?=\w)", "", text, flags=re.I)
    return drop_evaluative(_DANGLING_END.sub("", text.strip()).strip())


# Words before a noun that say what the writer thinks of it ("awesome", "important"), how it ranks ("largest",
# "highest": the figure says that) or only that it differs from others ("additional", "various"), not what it is.
_EVALUATIVE = _words(
    "awesome amazing great greatest best beautiful stunning incredible excellent fantastic wonderful gorgeous lovely "
    "cool favorite favourite perfect terrible horrible awful brilliant superb fabulous delicious lucky worst "
    "highest largest biggest lowest smallest longest shortest oldest youngest richest poorest fastest slowest "
    "strongest weakest busiest deadliest hottest coldest tallest heaviest cheapest costliest safest wealthiest "
    "important key additional further various certain different"
)


def is_evaluative(word: str) -> bool:
    """Return True for a word of praise, rank or vague difference (:data:`_EVALUATIVE`): alone it names nothing."""
    return word.lower() in _EVALUATIVE


def drop_evaluative(phrase: str) -> str:
    """Return ``phrase`` without the words of praise or rank in front of its noun ("30 awesome cutting edge
    designs" -> "cutting edge designs", "third highest opening weekend" -> "opening weekend"); a phrase that is
    nothing else is kept as it is."""
    words = phrase.split(" ")
    lead = 0
    while lead < len(words) - 1 and words[lead].lower().strip(",") in _EVALUATIVE:
        lead += 1
    return " ".join(words[lead:])


# ---------------------------------------------------------------------------------------------------------------
# Which figures the parse is for, and how much of a sentence it reads
# ---------------------------------------------------------------------------------------------------------------

# Kinds whose object the parse finds better than the next-words rule.
_PARSE_KINDS = frozenset({KIND_MONEY, KIND_PERCENT, KIND_FRACTION})


def needs_parse(figure: Figure) -> bool:
    """Return True when ``figure``'s object needs the dependency parse (money, percentages, fractions and
    physical quantities); counts, ordinals and durations use :func:`tasks.figures.next_words.guess_object` on the
    words that follow."""
    if figure.kind in _PARSE_KINDS:
        return True
    return figure.kind == KIND_QUANTITY and figure.unit not in _TIME_UNITS


# Words past ``left`` that parse_window still takes to reach the start of the sentence.
_LEFT_SLACK = 6


def parse_window(
    text: str, figures: Sequence[Figure], bounds: tuple[int, int] | None = None, left: int = 12, right: int = 16
) -> tuple[int, int] | None:
    """Return the ``(start, end)`` of ``text`` worth parsing for ``figures`` (offsets into ``text``), inside the
    sentence ``bounds``: ``left`` words before and ``right`` words after the figures that need a parse, or None
    when none does. Clipping long sentences to the words around the figures keeps the parse cheap."""
    wanted = [f for f in figures if needs_parse(f)]
    if not wanted:
        return None
    s, e = bounds if bounds is not None else (0, len(text))
    lo_char = min(f.start_char for f in wanted)
    hi_char = max(f.end_char for f in wanted)
    before = list(re.finditer(r"\S+", text[s:lo_char]))
    after = list(re.finditer(r"\S+", text[hi_char:e]))
    # a sentence start a few words further back is taken whole: a subject cut in two is read as another noun
    # ("[The space] market in the Middle East is worth $18 billion")
    start = s + before[-left].start() if len(before) > left + _LEFT_SLACK else s
    end = hi_char + after[right - 1].end() if len(after) > right else e
    return start, end
