"""Objects without a parse: what a count, an ordinal or a length of time measures, from the words around it.

"two Dutch farmers" counts "Dutch farmers", "the second-ranking official" ranks "official", "a family of four"
counts a "family". These figures are many and their noun usually follows them, so reading the next words costs
no model; money, percentages, fractions and physical quantities take their object from the dependency parse
instead (:mod:`tasks.figures.objects`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from tasks.figures.candidates import PARENT_OF
from tasks.figures.kinds import KIND_COUNT, KIND_MONEY, KIND_ORDINAL, KIND_QUANTITY, _words
from tasks.figures.measured import HEDGE_FRAMES
from tasks.figures.objects import drop_evaluative, is_evaluative, needs_parse
from tasks.figures.units import _TIME_UNITS
from tasks.records import Figure

# Words around a number that end the noun phrase of what it counts.
_NP_STOP = _words(
    "a an the and or but nor of in on at to from by with for as than that which who whom whose where when "
    "while is are was were be been being am has have had do does did will would shall should can could "
    "may might must not no so if into onto over under about after before since until during per each "
    "every all some any both either neither this these those it its their his her our your my we they he "
    "she you i there here then also only just even still already aboard ago later earlier more most less "
    "least very too such said says say came come comes went go goes took take takes made make makes got "
    "get gets left fell rose saw gave ran won lost died remain remains live lives work works according "
    "including against between among across through toward towards via like dead alive injured wounded "
    "missing homeless displaced hurt killed plus inside outside last began begin begins lack lacks lacked "
    "always never ever often sometimes usually together apart away back off out around nationwide worldwide "
    "overseas abroad ahead instead vs versus one ones now within without wrote seemed told asked added noted "
    "replied tweeted posted commented claimed"
)
_NP_NOUN_ING = _words(
    "building buildings meeting meetings spending funding savings earnings holdings housing training "
    "trading lending pricing rating ratings ceiling ceilings setting settings offering offerings listing "
    "listings opening openings morning mornings evening evenings wedding weddings painting paintings "
    "bombing bombings shooting shootings shipping banking mining"
)
_BOUND_NOUNS = _words("maximum minimum max min total average sum")
# "the age of 40" names the measure, not what has it: a person's age has no object.
_AGE_NOUNS = _words("age ages")
_PERIOD_NOUNS = _words(
    "quarter quarters half year years month months week weeks day days time times round rounds term terms "
    "phase stage season decade century minute hour"
)
# A plural noun, the head of what a count counts ("sales" and "arms" are also modifiers: "sales staff").
_PLURAL_HEAD = re.compile(r"(?!(?:sales|arms|sports|goods|savings|earnings|news|series|species|jobs)$)"
                          r"[a-z]+[^su’']s|people|children|men|women")  # fmt: skip
# Nouns for people, after which an age ("a 35-year-old woman", "the 89-year-old festival impresario") is the
# person's, who is never what is measured; a thing that is old ("a 100-year-old bridge") keeps its noun.
_PERSON_NOUNS = _words(
    "man woman boy girl child kid baby toddler infant teen teenager youngster youth adult person individual "
    "son daughter mother father mom mum dad parent brother sister sibling wife husband spouse partner boyfriend "
    "girlfriend fiance fiancee widow widower grandmother grandfather grandson granddaughter grandchild nephew niece "
    "cousin uncle aunt friend neighbour neighbor student pupil schoolboy schoolgirl driver passenger pedestrian "
    "cyclist motorist rider victim survivor suspect defendant inmate prisoner resident native citizen worker "
    "employee staffer player athlete rookie veteran actor actress singer rapper model star officer soldier "
    "teacher nurse doctor patient mother-of-two father-of-two owner founder chief leader member fan gunman "
    "attacker killer shooter thief robber nominee candidate winner champion heir heiress gentleman lady male "
    "female juvenile minor retiree pensioner farmer fisherman hunter head boss director manager president "
    "chairman chairwoman executive official minister senator lawmaker mayor judge lawyer coach"
)
_AGED = re.compile(r"(\w+)\s+aged?\s+(?:\d+\s+(?:and|or)\s+)?$")
_OF_TAIL = re.compile(r"\s+of\s+((?:the\s+|a\s+)?(?:\$?[\d.,]+\s+)?[a-z][\w-]*)(?![\w-])")
# A dotted abbreviation keeps its last period before a word that goes on the phrase ("24 large U.S. cities").
_WORD_TOKEN = re.compile(r"(?:[A-Z]\.){2,}(?=\s+[a-z])|[\w’'&]+(?:[.\-‑/][\w’'&]+)*|[^\w\s]")


# The subject of a copula ranked by an ordinal that names no noun: "the movie was the first [to ...]".
_RANKED_SUBJECT = re.compile(
    r"(\w+)\s+(?:was|is|were|are|became|becomes|remains|remained)\s+(?:also\s+|now\s+)?the\s+$"
)
_PARENT_OF_BEFORE = re.compile(rf"{PARENT_OF}$")
# What may stand between a count with its noun and a later count without one that counts the same thing: "and",
# "to", "or", "versus", and the earlier level of a change ("2,345 new cases, up from 1,980").
_COORDINATED_REST = re.compile(
    r"\s*,?\s*(?:and|to|or|versus|vs\.?|(?:up|down)\s+from|from|compared\s+(?:with|to))\s+(?:[A-Z][\w’'.-]*\s+){0,2}"
)
# A run of capitalised words that ends the phrase: a name in apposition ("blackbelt YK Kim, leading").
_NAME_APPOSITIVE = re.compile(r"(?:[A-Z][\w’'.-]*\s+){1,3}[A-Z][\w’'.-]*(?=\s*(?:[,;:.)!?]|$))")
# A count joined by a hyphen to a lower-case word counts that word ("19-page", "three-piece", "14-man"); words
# that only say how the count is meant ("5,000-strong", "100-odd", "two-time") name nothing counted.
_HYPHEN_COUNTED = re.compile(r"[-‑](?!(?:strong|plus|odd|fold|ish|something|time|times)$)([a-z]+)")
# A comparison between a count and its noun: "300 more nurses", "three fewer seats" (not "five more than").
_MORE_OR_FEWER = re.compile(r"\s+(?:more|fewer)(?=\s+[a-z])(?!\s+(?:than|of)\b)", re.IGNORECASE)
_PARTITIVE = re.compile(r"\s+of\s+(?:the|those|these|its|their|his|her|our|all\s+the)\s+", re.IGNORECASE)


def _noun_phrase_at(
    text: str, pos: int, kind: str, others: Sequence[Figure], *, partitive: bool = False
) -> tuple[list[str], int | None]:
    """Return the words of the noun phrase that starts at ``pos`` (at most five) and where it ends; other figures
    in front are skipped when they are amounts ("two 155 mm shells") or, after a ``partitive`` "of the", counts
    ("four of the 10 crates"). Right after the figure a possessive is what is counted ("two firms’ disputes");
    after "of the" it owns the noun that follows ("two of the company's stores")."""
    words: list[str] = []
    last_end: int | None = None
    for m in _WORD_TOKEN.finditer(text, pos, min(len(text), pos + 120)):
        start = m.start()
        other = next((o for o in others if o.start_char <= start < o.end_char), None)
        if other is not None:
            skippable = other.kind in (KIND_MONEY, KIND_QUANTITY) or (partitive and other.kind == KIND_COUNT)
            if words or not skippable:
                break
            continue  # "two 155 mm shells", "three-year $9 billion plan"
        if words and last_end is not None and re.search(r"\n|\s\s", text[last_end:start]):
            break  # a line break or a gap of layout ends the phrase: "Two year warranty  Heated airers"
        w = m.group(0)
        run_on = re.search(r"[a-z][.!?](?=[A-Z])", w)
        if run_on is not None:
            w = w[: run_on.start() + 1]  # two sentences run together: "caliper.They look great"
        low = w.lower()
        if not w[0].isalnum() or low in _NP_STOP or (low.endswith("ly") and len(low) > 4):
            break
        possessive = re.fullmatch(r"(\w+s)[’']|(\w+)[’']s", w)
        if possessive and not partitive and (words or kind != KIND_ORDINAL):
            words.append(possessive.group(1) or possessive.group(2))
            break  # "the two firms’ patent disputes": the owner is what is counted
        if words and w[0].isupper() and words[-1].islower() and _NAME_APPOSITIVE.match(text, start):
            break  # "9th degree blackbelt YK Kim,": a name after the noun is who it is, never what is counted
        if words and _PLURAL_HEAD.fullmatch(words[-1].lower()) and w.islower() and not low.endswith("s"):
            break  # after a plural noun a word is its verb or an adverb: "10,000 people travel", "branches nationwide"
        if re.fullmatch(r"\w+(?:ed|ing)", low) and low not in _NP_NOUN_ING:
            if words and re.search(r"[^s]s$", words[-1].lower()):
                break  # after a plural noun it is the verb: "five banks agreed", "40 students answered"
            nxt = _WORD_TOKEN.search(text, m.end(), min(len(text), m.end() + 30))
            if nxt is None or nxt.group(0).lower() in _NP_STOP or not nxt.group(0)[0].isalpha():
                break  # a verb ("killed", "aged"), unless it modifies a following noun ("trading partners")
            if words and nxt.group(0)[0].isupper():
                break  # a verb taking a name: "deal letting Nokia"
        words.append(w)
        last_end = m.start() + len(w)
        if run_on is not None:
            break
        if kind == KIND_ORDINAL and low in _PERIOD_NOUNS:
            break  # "second quarter", "first half"
        if len(words) == 5:
            break
    return words, last_end


def guess_object(text: str, figure: Figure, others: Sequence[Figure] = ()) -> str | None:
    """Return what a count, ordinal or duration adjective measures from the words after it, without a parse.

    "two Dutch farmers" -> "Dutch farmers"; "the first sizeable export rise since" ->
    "sizeable export rise"; "second-ranking official" -> "official"; "a family of four" -> "family".
    ``figure`` offsets index into ``text``; ``others`` are the text's other figures (skipped over).
    """
    if (
        figure.kind == KIND_COUNT
        and _PARENT_OF_BEFORE.search(text, max(0, figure.start_char - 20), figure.start_char)
        and not re.match(r"\s+[a-z]", text[figure.end_char :])
    ):
        return None  # "father-of-three Chris", "a mother of two.": the children, unnamed ("mother of two children")
    aged = _AGED.search(text, max(0, figure.start_char - 40), figure.start_char)
    if figure.kind == KIND_QUANTITY and aged and aged.group(1).lower() not in _NP_STOP:
        return aged.group(1)  # "two sons aged 9 and 6"
    if figure.kind == KIND_QUANTITY and figure.unit not in _TIME_UNITS:
        return None
    if figure.kind == KIND_QUANTITY and not re.search(r"[-‑]", figure.text) and not _unit_as_adjective(text, figure):
        return _noun_of(text, figure)  # a length of time names no noun after it: "a grace period of 6 months"
    pos = figure.end_char + (text[figure.end_char : figure.end_char + 1] == "+")  # "100+ people": at least 100
    if figure.kind == KIND_QUANTITY and (old := re.match(r"\s+old\b", text[pos:])):
        pos += old.end()  # "a one-year old record": the record is that old
    if figure.kind == KIND_ORDINAL and re.fullmatch(r"one|two|three|four|five|six|seven|eight|nine|ten|\d{1,2}",
                                                     figure.text, re.I):  # fmt: skip
        prev = re.search(r"(\w+)\s+$", text[max(0, figure.start_char - 30) : figure.start_char])
        return prev.group(1) if prev else None  # "day one", "week 9": the place in a sequence
    # the rest of a hyphenated compound: "second-ranking official", "5,000-strong work force"
    rest = re.match(r"[-‑][\w-]+", text[pos:])
    if rest:
        counted = _HYPHEN_COUNTED.fullmatch(rest.group(0))
        if figure.kind == KIND_COUNT and counted:
            return counted.group(1)  # "a 19-page affidavit", "a five-story building": pages and stories counted
        pos += rest.end()
    if figure.kind == KIND_COUNT and (more := _MORE_OR_FEWER.match(text, pos)):
        pos = more.end()  # "300 more nurses", "two fewer seats": the comparison says how many, the noun what
    words, last_end = _noun_phrase_at(text, pos, figure.kind, others)
    if not words and figure.kind == KIND_ORDINAL:
        ranked = _RANKED_SUBJECT.search(text, max(0, figure.start_char - 60), figure.start_char)
        if ranked and ranked.group(1).lower() not in _NP_STOP and ranked.group(1)[0].islower():
            return ranked.group(1)  # "the movie was also the first to introduce ...": the subject is ranked
    part = _PARTITIVE.match(text, pos) if not words and figure.kind == KIND_COUNT else None
    if part is not None:  # "four of the 10 crates of apples", "three of those firms"
        words, last_end = _noun_phrase_at(text, part.end(), figure.kind, others, partitive=True)
    if len(words) == 1 and figure.kind != KIND_ORDINAL and last_end is not None:
        # "2 million bags of rice", "the 30-year-old head of the union"
        of = _OF_TAIL.match(text, last_end)
        nxt = _WORD_TOKEN.search(text, of.end(), min(len(text), of.end() + 30)) if of else None
        runs_on = nxt is not None and nxt.group(0)[0].isalpha() and nxt.group(0).lower() not in _NP_STOP
        if of and of.group(1).split()[-1].lower() not in _NP_STOP and not runs_on:
            words.append("of " + of.group(1))  # not "bricks of a white [powdery substance]"
    if words and figure.kind == KIND_COUNT and last_end is not None and len(words) < 5:
        words[-1] += _counted_list(text, last_end, words[-1])
    if words and figure.kind == KIND_QUANTITY and figure.text.islower() and all(w[0].isupper() for w in words):
        return None  # "50-year-old Kevin Swanson": an age before a name is the person's, who is never the object
        # (a headline in title case, "15-Minute Dance Workout", writes the figure capitalised too)
    if words and figure.kind == KIND_QUANTITY and _of_a_person(text, figure, words):
        return None  # "a 35-year-old woman", "54-year-old Bharrat Ramdehol": a person's age has no object
    if words and figure.kind == KIND_COUNT and figure.value == 1 and _VERB_IN_S.fullmatch(words[0]):
        return None  # "one stands out": "one" takes no plural, so a word in "-s" after it is its verb
    if words:
        if len(words) == 1 and is_evaluative(words[0]):
            return None  # "12 (second highest after Haryana)": a rank with no noun
        return drop_evaluative(" ".join(words))
    return _noun_of(text, figure)


def _of_a_person(text: str, figure: Figure, words: Sequence[str]) -> bool:
    """Return True when ``figure`` is an age ("35-year-old", "13 year old") and the words after it name a person:
    a noun for a person, one in "-ist", or a capitalised name."""
    age = figure.text.lower().endswith("old") or re.match(r"\s+old\b", text[figure.end_char :]) is not None
    if not age:
        return False
    head = next(w for w in reversed(words) if not w.startswith("of ")).lower().split()[-1]
    singular = re.sub(r"(?<=m)en$", "an", head) if head.endswith("men") else re.sub(r"(?<!s)s$", "", head)
    return singular in _PERSON_NOUNS or singular.endswith("ist") or words[0][:1].isupper()


# A word in "-s" that is no singular noun ("class", "bus", "crisis", "news", "series" are).
_VERB_IN_S = re.compile(
    r"(?!(?:news|means|series|species|gas|lens|yes|plus|works|headquarters|physics|economics|politics|mathematics|"
    r"electronics|athletics|ethics|Olympics|billiards|crossroads|barracks|kudos)$)[a-z]+(?<![sui])s"
)


# The rest of a list of plural nouns counted together: ", conservators, scholars and random book-mad civilians".
_LIST_WORD = r"(?!(?:and|or)\b)[a-z][\w-]*"
_LIST_REST = re.compile(
    rf"(?:,\s+(?:{_LIST_WORD}\s+){{0,2}}{_LIST_WORD})*,?\s+(?:and|or)\s+(?:{_LIST_WORD}\s+){{0,2}}?{_LIST_WORD}"
    rf"(?=\s*(?:[^\w\s-]|$)|\s+(?:{'|'.join(sorted(_NP_STOP))})\b)"
)
_NUMBER_WORD = re.compile(r"one|two|three|four|five|six|seven|eight|nine|ten|dozens?|hundreds?|thousands?|millions?")


def _counted_list(text: str, pos: int, head: str) -> str:
    """Return the words that continue a count's plural noun into a list it counts as a whole ("some 300
    librarians, conservators, scholars and collectors"), or nothing: each item a bare plural noun phrase, no
    determiner, number or verb in it, and the list ends the phrase."""
    m = _LIST_REST.match(text, pos)
    if m is None or not _PLURAL_HEAD.fullmatch(head.lower()):
        return ""
    items = re.split(r",\s+(?:(?:and|or)\s+)?|\s+(?:and|or)\s+", re.sub(r"^[,\s]*(?:(?:and|or)\s+)?", "", m.group(0)))
    for item in items:
        item_words = item.split()
        last = item_words[-1].lower() if item_words else ""
        if not (_PLURAL_HEAD.fullmatch(last) or last.endswith(("men", "people", "children"))):
            return ""
        if any(w in _NP_STOP or _NUMBER_WORD.fullmatch(w) or re.fullmatch(r"\w+ed", w) for w in item_words):
            return ""
    return m.group(0)


def _unit_as_adjective(text: str, figure: Figure) -> bool:
    """Return True when a length of time is written as an adjective without its hyphen: the unit stays singular
    after a number other than one and a noun follows ("my 45 minute drive home")."""
    unit_word = figure.text.split()[-1].lower() if " " in figure.text else ""
    nxt = re.match(r"\s+([a-z][\w-]*)", text[figure.end_char :])
    noun = nxt is not None and nxt.group(1) not in _NP_STOP and nxt.group(1) != "old"  # "13 year old": an age
    return figure.value != 1 and unit_word == figure.unit and noun


def _noun_of(text: str, figure: Figure) -> str | None:
    """Return the noun a count or a length of time completes through "of": "a family of four" -> "family", "a
    grace period of 3 to 6 months" -> "grace period" (a lower-case noun in front is kept for lengths of time)."""
    before = re.search(
        r"(?:(\w+)\s+)?(\w+)\s+of\s+(?:the\s+)?$", text[max(0, figure.start_char - 60) : figure.start_char]
    )
    if before is None or figure.kind not in (KIND_COUNT, KIND_QUANTITY):
        return None
    if before.group(2).lower() in _NP_STOP or before.group(2).lower() in _BOUND_NOUNS | _AGE_NOUNS | HEDGE_FRAMES:
        return None  # "a maximum of 20": a bound, not what is counted; "at the age of 40": a person's age;
        # "in the range of 40 minutes": a hedge
    lead = before.group(1)
    if figure.kind == KIND_QUANTITY and lead and lead.islower() and lead not in _NP_STOP:
        return f"{lead} {before.group(2)}"
    return before.group(2)


def objects_without_parse(text: str, figures: Sequence[Figure]) -> list[Figure]:
    """Return ``figures`` with the objects of counts, ordinals and duration adjectives from :func:`guess_object`
    (figures whose object comes from the parse, and those that already have one, are left as they are)."""
    out = []
    for f in figures:
        if f.object is None and f.kind in (KIND_COUNT, KIND_ORDINAL, KIND_QUANTITY) and not needs_parse(f):
            obj = guess_object(text, f, figures)
            out.append(replace(f, object=obj) if obj else f)
        else:
            out.append(f)
    # "from 200 staff to 1,500", "90,000 votes and Spain 98,400", "a period of 3 to 6 months": a later count
    # (or length of time) written without its noun takes the object of the one it is coordinated with
    for i in range(len(out) - 1):
        a, b = out[i], out[i + 1]
        if (
            a.kind == b.kind
            and a.kind in (KIND_COUNT, KIND_QUANTITY)
            and a.unit == b.unit
            and a.object
            and not b.object
            and not re.search(r"\bper\s+$", text[max(0, a.start_char - 6) : a.start_char])  # "65.2 cases per 100,000"
        ):
            gap = text[a.end_char : b.start_char]
            rest = gap[gap.find(a.object) + len(a.object) :] if a.object in gap else gap
            if len(gap) < 60 and _COORDINATED_REST.fullmatch(rest):
                out[i + 1] = replace(b, object=a.object)
    # "eight and 11 goals", "10-12 people": the first of two coordinated counts takes the second's object
    for i in range(len(out) - 2, -1, -1):
        a, b = out[i], out[i + 1]
        if (
            a.kind == b.kind == KIND_COUNT
            and b.object
            and re.fullmatch(r"\s+(?:and|or|to)\s+|\s?[-–]\s?", text[a.end_char : b.start_char])
        ):
            out[i] = replace(a, object=b.object)
    return out
