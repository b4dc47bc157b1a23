"""What a figure measures, found by walking the dependency parse from the figure (:func:`object_tokens`).

The rules are tried in order, nearest reading first: a noun the figure modifies or that is measured by it ("the
$1.8 billion deal", "holdings of $2 billion"), a phrase right after it ("45 per cent of X", "$1.8 billion in aid"),
the noun before it ("better wages: $21 an hour"), then the verb it hangs on (its subject, object or the thing money
goes to). :mod:`tasks.figures.objects` decides whether the phrase found is worth keeping and cleans it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tasks.figures.kinds import _words
from tasks.figures.units import _DOLLAR_NAMED_AFTER

if TYPE_CHECKING:
    from spacy.tokens import Doc, Span, Token


# Prepositions whose phrase belongs to the measured thing ("holdings of government bonds", "price per unit",
# "investment into Chile from Japan"); others ("in 2024", "between ...") usually do not.
_NP_PREPS = frozenset({"of", "for", "per", "into", "from"})
_NP_LEFT_DEPS = frozenset({"amod", "compound", "nmod", "poss", "nummod", "quantmod", "advmod", "npadvmod", "case"})
NOUN_TAGS = frozenset({"NN", "NNS", "NNP", "NNPS"})
_MODIFIER_TAGS = frozenset({"JJ", "JJR", "JJS", "NN", "NNS", "NNP", "NNPS", "HYPH", "VBN", "VBG"})
_PRONOUN_TAGS = frozenset({"PRP", "PRP$", "WP", "WDT", "EX", "DT"})
# Words right after a figure that are never what it measures ("12 per cent", "$45-billion Canadian" names the dollar).
_NOT_OBJECTS = frozenset({"cent", "percent", "%", "point", "points", "worth", "which", "that", "who", "total", "one",
                          "canadian", "cdn"})  # fmt: skip
# Nouns that name a change rather than the thing that changed ("an increase of 6%").
_CHANGE_HEADS = _words(
    "increase increases decrease decreases rise rises drop drops fall falls gain gains decline declines jump "
    "growth cut cuts hike hikes reduction reductions loss losses surge boost climb plunge contraction slide dip "
    "slash slashes"
)
_PERIOD_WORDS = _words("year month quarter week day")
# A dimension after a measure, and the hedges that may stand before it: "some 300 metres wide", "miles away".
DIMENSION_WORDS = _words("away long wide high deep tall thick across")
_HEDGE_WORDS = _words("about around roughly some nearly almost approximately over under")
# The forms a payment takes: "$40 million in stock for X" pays for X.
_PAYMENT_FORMS = _words("cash stock shares equity bonds notes")
# Nouns of a hedge written as a phrase: "in the range of 40 minutes", "on the order of 10 percent".
HEDGE_FRAMES = _words("range region neighborhood neighbourhood order")
# Participles that put an amount on the noun they follow: "The deal, valued at $4.5 billion".
_VALUING_PARTICIPLES = _words("valued priced estimated pegged capped budgeted assessed appraised costed insured")
# Nouns that measure something else ("an annual rate of 2.5%", "a pace of $10 billion per month").
_MEASURE_HEADS = _words("rate pace level total sum amount value average figure tally high low record")
# Verbs of saying and thinking: their subject is a source, never what a figure in their clause measures.
REPORTING_VERBS = _words(
    "say said says tell told tells estimate estimated estimates note noted notes add added adds predict predicted "
    "predicts expect expected expects claim claimed claims argue argued argues write wrote writes suggest suggested "
    "suggests believe believed believes think thought thinks calculate calculated calculates project projected "
    "projects forecast forecasts reckon reckoned reckons warn warned warns insist insisted insists explain "
    "explained explains recall recalled recalls acknowledge acknowledged acknowledges admit admitted admits "
    "announce announced announces"
)
# Nouns of time and season: no object whatever words come with them ("the current financial year").
TIME_OBJECTS = _words(
    "year years month months week weeks day days time period quarter quarters decade decades end beginning start "
    "summer summers winter winters spring autumn season seasons morning evening night weekend"
)
# Verbs whose direct object is the amount a subject reaches ("the net worth reached 855 billion euros") or takes
# in ("JPMorgan earned $4.9 billion", "the Orion spacecraft will get $1.194 billion").
LEVEL_VERBS = _words(
    "reach reached reaches total totalled totaled totals hit hits exceed exceeded exceeds top topped tops "
    "surpass surpassed amount amounted stand stood come came cost costs equal equals represent represents "
    "account accounted earn earned earns receive received receives get gets got generate generates generated "
    "reaching totalling totaling hitting exceeding topping surpassing amounting standing costing representing "
    "earning receiving generating"
)


def object_tokens(sp: Span, doc: Doc, figs: set[int], money: bool = False) -> tuple[int, int] | None:
    """Return the token range of what the figure ``sp`` measures, by the first rule that applies; a change noun
    ("a 10% increase in X") or a bare measure noun ("a pace of $10 billion") found that way points further on."""
    found = _first_object(sp, doc, figs, money)
    if found is None:
        return None
    head = _range_head(doc, found)
    if head.lower_ in _CHANGE_HEADS:
        return _change_object(head, doc, figs, sp)
    if head.lower_ in _MEASURE_HEADS and not any(c.dep_ == "compound" for c in head.lefts):
        return _measured_by(head, doc, figs, sp) or found  # "an annual rate of 2.5%"; a "tax rate" says itself
    return found


def _range_head(doc: Doc, found: tuple[int, int]) -> Token:
    span = doc[found[0] : found[1]]
    return span.root if span.root.tag_ in NOUN_TAGS else doc[found[1] - 1]


def _measured_by(noun: Token, doc: Doc, figs: set[int], sp: Span) -> tuple[int, int] | None:
    """Return what a measure noun ("rate", "pace", "total") measures: the object of the verb it hangs from."""
    tok = noun
    while tok.dep_ == "pobj" and tok.head.dep_ == "prep":
        tok = tok.head.head
        if tok.tag_.startswith("VB"):
            obj = _verb_object(tok, doc, figs, sp, subject=False)
            if obj is not None:
                return obj
            for c in tok.children:  # "add to its holdings of X at a pace of ..."
                if c.dep_ == "prep" and c.lower_ == "to" and c.i < noun.i:
                    pobj = _child(c, "pobj")
                    if pobj is not None and pobj.i not in figs:
                        return _np(pobj, doc, figs)
            return _verb_object(tok, doc, figs, sp)
    return None


def _measured_before(sp: Span, doc: Doc, figs: set[int]) -> tuple[int, int] | None:
    """Return the noun right before a measure followed by its dimension ("objects 13.5 billion light-years away",
    "The asteroid, roughly 300 metres wide,"), or None."""
    if sp.end >= len(doc) or doc[sp.end].lower_ not in DIMENSION_WORDS:
        return None
    i = sp.start - 1
    while i >= 0 and (doc[i].lower_ in _HEDGE_WORDS or doc[i].text == ","):
        i -= 1
    if i < 0 or doc[i].tag_ not in NOUN_TAGS or doc[i].i in figs:
        return None
    return _np(doc[i], doc, figs)


def _first_object(sp: Span, doc: Doc, figs: set[int], money: bool = False) -> tuple[int, int] | None:
    measured = _measured_before(sp, doc, figs)
    if measured is not None:
        return measured
    nxt = _skip_aside(doc, sp.end, figs)
    # 1. "US$2 billion worth of Brazilian coffee", "45 per cent of X", "a third — 31% — of X"
    if nxt < len(doc) and doc[nxt].lower_ == "worth":
        nxt += 1
    if nxt < len(doc) and doc[nxt].lower_ == "of":
        pobj = _child(doc[nxt], "pobj")
        if pobj is not None and pobj.tag_ in ("WDT", "WP"):
            verb = pobj.head.head.head
            attr = _child(verb, "attr") or _child(verb, "acomp")
            return _np(attr, doc, figs) if attr is not None else None  # "20 per cent of which were trucks"
        if pobj is not None and pobj.i not in figs:
            return _np(pobj, doc, figs)
        return _np_after(doc, nxt, figs)
    # 1b. the form an amount takes or what it pays for, written right after it: "$1.8 billion in aid", "$100
    # billion in revenue", "$3.8 billion for space operations"
    if money and nxt < len(doc) and doc[nxt].lower_ in ("in", "for"):
        pobj = _child(doc[nxt], "pobj")
        named = pobj is not None and pobj.tag_ in (NOUN_TAGS if doc[nxt].lower_ == "for" else ("NN", "NNS"))
        if pobj is not None and named and pobj.i not in figs and pobj.lower_ not in TIME_OBJECTS:
            bought = pobj.i + 1 < len(doc) and doc[pobj.i + 1].lower_ == "for" and pobj.lower_ in _PAYMENT_FORMS
            target = _child(doc[pobj.i + 1], "pobj") if bought else None
            if target is not None and target.tag_ in NOUN_TAGS and target.i not in figs:
                return _np(target, doc, figs)  # "$40 million in stock for the startup": what it buys
            return _np(pobj, doc, figs)
    # 2. a modifier of the noun phrase that follows: "70 per cent recycling target", "$12million Lisbon villa";
    # a figure restating the one before it in brackets looks past the bracket: "a 2,150km (1,336-mile) coastline"
    last = sp.end - 1
    if sp.end < len(doc) and doc[sp.end].text == ")" and sp.start > 1 and doc[sp.start - 1].text == "(":
        last = sp.end if doc[sp.start - 2].i in figs else last
    after = _np_after(doc, last, figs)
    if after is not None:
        return after
    head = sp.root
    dep, gov = head.dep_, head.head
    if gov.i == sp.end and gov.lower_ in _NOT_OBJECTS and gov.lower_ in _DOLLAR_NAMED_AFTER:
        head, dep, gov = gov, gov.dep_, gov.head  # "$45-billion Canadian": the word only names the dollar
    if gov.i == sp.end and gov.lower_ in _PERIOD_WORDS and gov.i + 1 < len(doc) and doc[gov.i + 1].lower_ == "on":
        head, dep, gov = gov, gov.dep_, gov.head  # "slumped 7.5% year on year": the period says when, not what
    if (
        dep in ("nmod", "compound", "amod", "nummod", "predet")
        and gov.i >= sp.end
        and gov.tag_ in NOUN_TAGS
        and gov.i not in figs
        and gov.lower_ not in _NOT_OBJECTS
        and not any(_spaced_dash(t) for t in doc[sp.end : gov.i])
    ):
        return _np(gov, doc, figs)  # the noun the figure modifies, further on: "2,150km (1,336-mile) coastline",
        # "Half the aid"
    # 3a. "better wages: $21 an hour", "families with earnings less than $40,000", "a high above $90,000"
    before = _before_modifiers(doc, sp.start, figs)
    if before is not None:
        return _np(_climb(before), doc, figs)
    # 3. a figure in brackets or apposition names the thing before it: "Rent (3.1%)", "exports 12.5 per cent"
    if sp.start > 0 and doc[sp.start - 1].text == "(" and sp.start > 1 and doc[sp.start - 2].tag_ in _MODIFIER_TAGS:
        return _np(_climb(doc[sp.start - 2]), doc, figs)
    if dep in ("appos", "npadvmod", "nmod") and gov.i < sp.start and gov.tag_ in NOUN_TAGS and gov.i not in figs:
        return _np(_climb(gov), doc, figs)
    # 4. attached to a verb, directly or through a preposition
    if dep == "pobj" and gov.dep_ in ("prep", "quantmod", "agent"):
        target = gov.head
        if target.lower_ in HEDGE_FRAMES and target.dep_ == "pobj" and target.head.lower_ in ("in", "on"):
            target = target.head.head  # "is in the region of $5m": a hedge; the figure hangs on what it hedges
        if target.tag_ == "IN" and target.head.tag_ in NOUN_TAGS:
            target = target.head  # "a surplus of just under US$6.9 billion"
        if target.tag_ in NOUN_TAGS and target.i not in figs and target.lower_ not in _CHANGE_HEADS:
            return _np(_climb(target), doc, figs)  # "low temperatures of around 5 degrees"
        if target.tag_ in ("JJ", "RB", "JJR", "RBR", "IN", "VBN") and target.head.tag_.startswith("VB"):
            target = target.head
        if (
            target.lower_ in _VALUING_PARTICIPLES
            and target.dep_ == "acl"
            and target.head.tag_ in NOUN_TAGS
            and target.head.i not in figs
        ):
            return _np(target.head, doc, figs)  # "The deal, valued at $4.5 billion": what the amount values
        if target.tag_.startswith("VB"):
            dobj = _child(target, "dobj") if gov.lower_ == "to" else None
            if dobj is not None and dobj.i not in figs and dobj.tag_ in NOUN_TAGS and target.i < dobj.i < sp.start:
                return _np(dobj, doc, figs)  # "raise the minimum wage to $15": what reaches the level
            subjectless = not any(c.dep_ in ("nsubj", "nsubjpass") for c in target.children)
            spending = target.lower_ in _SPENDING_VERBS  # what money is spent on is what it measures
            if money and (subjectless or spending) and (dest := _money_destination(sp, target, doc, figs)) is not None:
                return dest  # "to claw back up to R50bn in revenue"
            return _verb_object(target, doc, figs, sp)
        if target.lower_ in _CHANGE_HEADS:
            return _change_object(target, doc, figs, sp)
        return None
    if dep in ("dobj", "attr", "oprd") and gov.tag_.startswith("VB"):
        if gov.lemma_ in LEVEL_VERBS or gov.lower_ in LEVEL_VERBS or dep == "attr":
            subj = _subject(gov, figs)
            return _np(subj, doc, figs) if subj is not None else None
        if head.lower_ in ("cent", "cents", "percent", "%", "points", "point"):
            return _verb_object(gov, doc, figs, sp)  # "fall 37 per cent", "settled up 87 cents"
        return _money_destination(sp, gov, doc, figs)
    if dep in ("npadvmod", "advmod", "acomp", "ccomp", "xcomp", "dep", "conj") and gov.tag_.startswith("VB"):
        return _verb_object(gov, doc, figs, sp)
    if dep == "npadvmod" and gov.lower_ == "worth" and gov.dep_ != "acomp":  # "is worth $X": the subject, below
        noun = gov.head if gov.head.tag_ in NOUN_TAGS else doc[gov.i - 1] if gov.i > 0 else gov
        if noun.tag_ in NOUN_TAGS and noun.i not in figs:
            return _np(noun, doc, figs)  # "US farm goods worth about US$21 billion", "cocaine worth $360 million"
        return None  # what is worth the amount is not named: not the subject of the verb
    if dep == "npadvmod" and gov.tag_ in ("JJ", "RB", "IN") and gov.head.tag_.startswith("VB") and gov.i not in figs:
        return _verb_object(gov.head, doc, figs, sp)  # "the screen was 60 feet high", "the wall was 201 feet from"
    return None


_BEFORE_SKIP = _words(
    "less more fewer greater than about around nearly almost over under above below just some roughly"
)


def _before_modifiers(doc: Doc, start: int, figs: set[int]) -> Token | None:
    """Return the noun right before a figure, across a colon or comparison words ("incomes less than")."""
    i = start - 1
    skipped = 0
    while i >= 0 and doc[i].lower_ in _BEFORE_SKIP and doc[i].i not in figs:
        i -= 1
        skipped += 1
    if i >= 1 and skipped == 0 and doc[i].text == ":":
        i -= 1
        skipped = 1
    if skipped == 0 or i < 0 or doc[i].i in figs or doc[i].tag_ not in ("NN", "NNS"):
        return None
    return doc[i]


def _skip_aside(doc: Doc, i: int, figs: set[int]) -> int:
    """Return the index after an aside that restates the figure: "a third — 31% — of ..."."""
    if i < len(doc) and doc[i].text in ("—", "–", "-", "(") and i + 1 < len(doc) and doc[i + 1].i in figs:
        j = i + 1
        while j < len(doc) and j in figs:
            j += 1
        if j < len(doc) and doc[j].text in ("—", "–", "-", ")"):
            return j + 1
    return i


def _climb(tok: Token) -> Token:
    """Return the noun a prepositional phrase hangs from: "target for the federal funds rate" from "rate"."""
    for _ in range(3):
        prep = tok.head
        if tok.dep_ == "pobj" and prep.lower_ in ("of", "for") and prep.head.tag_ in NOUN_TAGS:
            tok = prep.head
        else:
            break
    return tok


def _spaced_dash(tok: Token) -> bool:
    """Return True for a dash written with spaces around it (" - ", " — "), which no compound is joined by."""
    return tok.text in ("-", "–", "—", "--") and bool(tok.whitespace_) and tok.i > 0 and bool(tok.nbor(-1).whitespace_)


def _np_after(doc: Doc, last: int, figs: set[int]) -> tuple[int, int] | None:
    """Return the noun phrase right after token ``last`` that the figure modifies ("backing" in "61 percent
    backing"), or None when the next words are no noun phrase."""
    i = last + 1
    if i < len(doc) and _spaced_dash(doc[i]):
        return None  # "to $1.5 billion - increasing funding for ...": a dash with spaces starts an aside
    if i < len(doc) and doc[i].text == "," and i + 1 < len(doc) and doc[i + 1].tag_ in ("JJ", "HYPH"):
        i += 1  # "a $50-million, city-wide renovation"
    start = i
    end = None
    while i < len(doc) and i not in figs and doc[i].tag_ in _MODIFIER_TAGS and doc[i].lower_ not in _NOT_OBJECTS:
        if doc[i].tag_ in NOUN_TAGS:
            end = i
            nxt = doc[i + 1] if i + 1 < len(doc) else None
            if nxt is None or nxt.tag_ not in _MODIFIER_TAGS or nxt.tag_ in ("VBN", "VBG") or nxt.i in figs:
                break
        elif doc[i].tag_ in ("VBN", "VBG") and i == start and doc[i].head.i <= i:
            return None  # a verb: "27 per cent gained"
        i += 1
    if end is None or doc[end].lower_ in TIME_OBJECTS:
        return None  # "$5 million last year": a time after the figure, not what it measures
    return (start, end + 1 + _pp_len(doc, end, figs))


def _pp_len(doc: Doc, head_i: int, figs: set[int]) -> int:
    """Return how many tokens of of/for/per phrases follow noun ``head_i`` ("price per unit")."""
    hi = head_i
    while hi + 1 < len(doc) and doc[hi + 1].lower_ in _NP_PREPS and doc[hi + 1].dep_ in ("prep", "mark"):
        prep = doc[hi + 1]
        # the phrase the preposition opens: its subtree, or up to the noun it governs when the parse hung it
        # elsewhere ("the target for the federal funds rate 75 basis points")
        sub = sorted(t.i for t in prep.subtree)
        if len(sub) == 1 or sub[-1] - sub[0] + 1 != len(sub):
            nxt = hi + 2
            while nxt < len(doc) and doc[nxt].tag_ in ("DT", "JJ", "JJS", "NN", "NNS", "NNP", "NNPS", "HYPH"):
                nxt += 1
            sub = list(range(hi + 1, nxt))
        if len(sub) < 2 or any(i in figs for i in sub) or any(doc[i].text in ("(", "—", "–", ",") for i in sub):
            break
        if doc[sub[-1]].tag_ not in NOUN_TAGS:
            break
        hi = sub[-1]
    return hi - head_i


def _change_object(change: Token, doc: Doc, figs: set[int], sp: Span) -> tuple[int, int] | None:
    """Return what a change noun measures: "a 10% increase in the median price" -> "median price", "revenue
    growth of 3%" -> "revenue"; else the subject of its verb ("the net worth reached ..., an increase of 6%")."""
    for c in change.rights:
        if c.dep_ == "prep" and c.lower_ in ("in", "of"):
            pobj = _child(c, "pobj")
            if pobj is not None and pobj.i not in figs:
                return _np(pobj, doc, figs)
    mods = [c for c in change.lefts if c.dep_ in ("compound", "nmod") and c.tag_ in NOUN_TAGS and c.i not in figs]
    if mods:
        return mods[0].left_edge.i, change.i  # "revenue growth of 3%": the revenue grows
    nxt = doc[change.i + 1] if change.i + 1 < len(doc) else None
    if nxt is not None and nxt.dep_ == "prep" and nxt.lower_ == "in":  # "a $20,000 slash in price", hung on the verb
        pobj = _child(nxt, "pobj")
        if pobj is not None and pobj.i not in figs:
            return _np(pobj, doc, figs)
    verb = change.head
    while verb.dep_ in ("appos", "conj", "npadvmod") and verb.head is not verb and not verb.tag_.startswith("VB"):
        verb = verb.head
    if verb.tag_.startswith("VB"):
        subj = _subject(verb, figs)
        return _np(subj, doc, figs) if subj is not None else None
    return None


# Verbs that hand money to someone: the receiver is what the amount is for.
_GIVING_VERBS = _words(
    "allocate allocated allocates give gave given gives grant granted grants award awarded awards pay paid pays "
    "transfer transferred transfers lend lent lends loan loaned loans send sent sends donate donated donates "
    "pledge pledged pledges contribute contributed contributes provide provided provides channel channelled "
    "channeled funnel funnelled funneled"
)
# Verbs of spending: the thing the money goes on is what the amount measures, whoever spends it.
_SPENDING_VERBS = _words(
    "spend spends spent spending invest invests invested investing splurge splurged waste wastes wasted wasting "
    "pour pours poured pouring sink sinks sank sunk plough ploughed plow plowed"
)


def _money_destination(sp: Span, verb: Token, doc: Doc, figs: set[int]) -> tuple[int, int] | None:
    """Return what an amount given as a direct object is spent on or held in ("put US$3 billion in new
    shares", "set aside $40 million for a school building programme")."""
    for tok in (*sp, verb):
        for prep in tok.children:
            if prep.dep_ != "prep" or prep.i < sp.end - 1:
                continue
            act = _child(prep, "pcomp")
            thing = _child(act, "dobj") if act is not None and act.tag_ == "VBG" else None
            if prep.lower_ in ("on", "into") and thing is not None and thing.tag_ in ("NN", "NNS"):
                return _np(thing, doc, figs)  # "spent $55 million on developing the technology"
            pobj = _child(prep, "pobj")
            if pobj is None or pobj.i in figs or pobj.tag_ in _PRONOUN_TAGS or pobj.lower_ in TIME_OBJECTS:
                continue  # "in the year", "for the first time" say when, not what
            if prep.lower_ in ("in", "on", "into") and pobj.tag_ in ("NN", "NNS"):
                return _np(pobj, doc, figs)  # "putting $100,000 into a bakery"
            if prep.lower_ == "for" and tok is verb:
                return _np(pobj, doc, figs)
            if prep.lower_ == "to" and tok is verb and verb.lower_ in _GIVING_VERBS and pobj.tag_ in NOUN_TAGS:
                return _np(pobj, doc, figs)  # "allocated R4bn to the revenue service": what the money goes to
    if verb.tag_ == "VBG" and verb.dep_ in ("pobj", "pcomp"):
        return (verb.i, verb.i + 1)  # "pledged to investing more than $3B"
    return None


def _child(tok: Token, dep: str, lower: str | None = None) -> Token | None:
    for c in tok.children:
        if c.dep_ == dep and (lower is None or c.lower_ == lower):
            return c
    return None


def _subject(verb: Token, figs: set[int]) -> Token | None:
    """Return the subject of ``verb`` or of the verb it depends on; None for a pronoun, and None rather than the
    speaker when the figure's clause is what someone said or estimated ("Lee estimated that X would cost $5")."""
    v = verb
    for _ in range(6):
        for c in v.children:
            if (c.dep_ in ("nsubj", "nsubjpass") or (c.dep_ == "csubj" and c.tag_ == "VBG")) and c.i not in figs:
                if c.tag_ in ("WDT", "WP") and v.dep_ == "relcl" and v.head.tag_ in ("NN", "NNS"):
                    # "the industry, which was worth $630 billion"; a name before "which" is more often the end of
                    # the clause "which" stands for ("sales of €140 million in the Alps, which represents ...")
                    return v.head
                return None if c.tag_ in _PRONOUN_TAGS else _agreeing(c, v)
        if v.dep_ == "relcl" and v.head.tag_ in NOUN_TAGS:
            return v.head
        if v.dep_ in ("conj", "ccomp") and (before := _noun_before(v, figs)) is not None:
            return before  # "X was €2 million and [the share of Y] was €13 million", the second subject unparsed
        if v.dep_ in ("ccomp", "parataxis") and v.head.lower_ in REPORTING_VERBS:
            break  # the subject of "said" is who said it, not what the figure measures
        if v.dep_ in ("xcomp", "conj", "advcl", "ccomp", "pcomp", "relcl", "acl") and v.head is not v:
            v = v.head
            continue
        break
    return _noun_before(verb, figs) if verb.lower_ in LEVEL_VERBS or verb.lemma_ in LEVEL_VERBS else None


def _agreeing(subj: Token, verb: Token) -> Token:
    """Return the subject, or the noun coordinated with it when only that one agrees with a singular verb: in
    "X has built satellites, and its space industry is worth $8 billion" the parse may join "satellites" and
    "industry" as one plural subject of "is"."""
    if subj.tag_ == "NNS" and (verb.tag_ == "VBZ" or verb.lower_ == "was"):
        for c in subj.children:
            if c.dep_ == "conj" and c.tag_ == "NN" and c.i < verb.i:
                return c
    return subj


def _noun_before(verb: Token, figs: set[int]) -> Token | None:
    """Return the noun right before a level verb that the parse left without a subject ("the net worth of
    families reached ...", parsed as an apposition of an earlier name): the head of that noun phrase."""
    i = verb.i - 1
    while i >= 0 and verb.doc[i].tag_ in ("RB", "MD"):
        i -= 1  # "has already reached", "will likely top"
    if i < 0 or i in figs or verb.doc[i].tag_ not in NOUN_TAGS:
        return None
    noun = _climb(verb.doc[i])
    # the object of another verb or preposition ("the cost of releasing the 12 floors came to") is not the subject
    return None if noun.dep_ in ("dobj", "pobj", "attr", "oprd", "dative") else noun


def _verb_object(
    verb: Token, doc: Doc, figs: set[int], exclude: Span, *, subject: bool = True
) -> tuple[int, int] | None:
    """Return what a figure attached to ``verb`` measures: its direct object, else (with ``subject``) its
    subject."""
    for c in verb.children:
        if c.dep_ == "dobj" and c.i not in figs and not (exclude.start <= c.i < exclude.end):
            if c.tag_ in _PRONOUN_TAGS:
                return None
            if c.lower_ in _NOT_OBJECTS or c.like_num:
                continue
            if c.lower_ in _CHANGE_HEADS:
                break
            return _np(c, doc, figs)
    subj = _subject(verb, figs) if subject else None
    if subj is None:
        return None
    return _np(subj, doc, figs)


def _with_conjuncts(head: Token, hi: int, figs: set[int]) -> int:
    """Return the last token of the phrase ending at ``hi`` carried on through the nouns coordinated with ``head``
    ("of doctors, nurses and pharmacists", "for the brand and its factories"): what is measured is all of them. A
    conjunct that holds a figure, or runs long, is a phrase of its own."""
    for conj in head.conjuncts:
        if conj.i <= hi or conj.tag_ not in NOUN_TAGS:
            continue
        end = conj.right_edge.i
        if end - hi > 8 or any(i in figs for i in range(hi + 1, end + 1)):
            break
        hi = end
    return hi


def _np(head: Token | None, doc: Doc, figs: set[int]) -> tuple[int, int] | None:
    """Return the token range of the noun phrase around ``head``: left modifiers, of/for/per phrases."""
    if head is None or head.i in figs or head.tag_ in _PRONOUN_TAGS:
        return None
    if head.dep_ == "csubj":  # "coating the glaciers would cost $5 billion": the clause is what costs
        lo, hi = head.left_edge.i, head.right_edge.i
        if hi - lo < 8 and not any(i in figs for i in range(lo, hi + 1)):
            return (lo, hi + 1)
    keep = {head.i}
    for c in head.lefts:
        if c.dep_ in ("det", "predet", "punct", "prep", "cc"):
            continue
        if c.dep_ == "poss" and (c.tag_ in ("PRP$", "WP$") or head.tag_ in ("NNP", "NNPS")):
            continue
        if c.dep_ in _NP_LEFT_DEPS or c.dep_ == "conj":
            keep.update(t.i for t in c.subtree)
    lo = min(keep)
    hi = _with_conjuncts(head, head.i + _pp_len(doc, head.i, figs), figs)
    # start after the last figure token inside the phrase: "the region's 80 million mobile users"
    inner = [i for i in range(lo, head.i) if i in figs]
    if inner:
        lo = max(inner) + 1
    while lo < head.i and (doc[lo].tag_ in ("DT", "PDT", "PRP$", ",", "CC", "POS", "HYPH") or doc[lo].is_punct):
        lo += 1
    while hi > head.i and (doc[hi].is_punct or doc[hi].tag_ in ("CC", "DT")):
        hi -= 1
    return (lo, hi + 1) if lo <= hi else None
