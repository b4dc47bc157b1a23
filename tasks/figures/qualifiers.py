"""What the words around a figure say about it: a hedge or a bound in front, and whether it is a change or a level.

"about 40" is approximate, "more than 40" a lower bound, "up to 40" an upper one; "rose 5%" or "a 5% increase"
is a change, "rose to 5%" a level. Dates take bounds as temporal words, never as hedges.
"""

from __future__ import annotations

import re

from tasks.figures.grammar import _Cand
from tasks.figures.kinds import (
    BOUND_EXACT,
    BOUND_LOWER,
    BOUND_UPPER,
    KIND_COUNT,
    KIND_DATE,
    KIND_ORDINAL,
    KIND_QUANTITY,
    ROLE_CHANGE,
    ROLE_KINDS,
    ROLE_LEVEL,
)
from tasks.figures.units import _TIME_UNITS

# modifier -> (approximate, bound). Bounds: "more than" leaves the true value above (lower bound).
_MODIFIERS: dict[str, tuple[bool, str]] = {
    "about": (True, BOUND_EXACT), "around": (True, BOUND_EXACT), "roughly": (True, BOUND_EXACT),
    "approximately": (True, BOUND_EXACT), "some": (True, BOUND_EXACT), "circa": (True, BOUND_EXACT),
    "an estimated": (False, BOUND_EXACT), "estimated": (False, BOUND_EXACT), "close to": (True, BOUND_UPPER),
    "almost": (True, BOUND_UPPER), "nearly": (True, BOUND_UPPER), "just under": (True, BOUND_UPPER),
    "just shy of": (True, BOUND_UPPER), "up to": (True, BOUND_UPPER), "below": (True, BOUND_UPPER),
    "under": (True, BOUND_UPPER), "less than": (True, BOUND_UPPER), "fewer than": (True, BOUND_UPPER),
    "no more than": (True, BOUND_UPPER), "not more than": (True, BOUND_UPPER), "at most": (True, BOUND_UPPER),
    "as many as": (True, BOUND_UPPER), "as much as": (True, BOUND_UPPER), "as high as": (True, BOUND_UPPER),
    "just below": (True, BOUND_UPPER), "short of": (True, BOUND_UPPER),
    "more than": (True, BOUND_LOWER), "over": (True, BOUND_LOWER), "above": (True, BOUND_LOWER),
    "at least": (True, BOUND_LOWER), "just over": (True, BOUND_LOWER), "just above": (True, BOUND_LOWER),
    "well over": (True, BOUND_LOWER), "well above": (True, BOUND_LOWER), "upwards of": (True, BOUND_LOWER),
    "in excess of": (True, BOUND_LOWER), "exceeding": (True, BOUND_LOWER), "north of": (True, BOUND_LOWER),
    "no less than": (True, BOUND_LOWER), "not less than": (True, BOUND_LOWER),
    "as few as": (True, BOUND_LOWER), "as little as": (True, BOUND_LOWER), "as low as": (True, BOUND_LOWER),
    "between": (False, BOUND_EXACT), "top": (False, BOUND_EXACT), "just": (False, BOUND_EXACT),
    "only": (False, BOUND_EXACT), "by": (False, BOUND_EXACT), "since": (False, BOUND_EXACT),
    "from": (False, BOUND_EXACT), "within": (False, BOUND_EXACT), "until": (False, BOUND_EXACT),
    "maybe": (True, BOUND_EXACT), "perhaps": (True, BOUND_EXACT), "possibly": (True, BOUND_EXACT),
    "as often as": (True, BOUND_UPPER), "a minimum of": (True, BOUND_LOWER), "a maximum of": (True, BOUND_UPPER),
    "maximum of": (True, BOUND_UPPER), "max of": (True, BOUND_UPPER), "minimum of": (True, BOUND_LOWER),
    "min of": (True, BOUND_LOWER), "in the range of": (True, BOUND_EXACT), "in the region of": (True, BOUND_EXACT),
    "in the neighborhood of": (True, BOUND_EXACT), "in the neighbourhood of": (True, BOUND_EXACT),
    "on the order of": (True, BOUND_EXACT),
    "a minimum": (True, BOUND_LOWER), "a maximum": (True, BOUND_UPPER),
}  # fmt: skip
_MODIFIER_RE = re.compile(
    r"(?:^|(?<=[\s(—–-]))(?P<mod>"
    + "|".join(re.escape(m) for m in sorted(_MODIFIERS, key=len, reverse=True))
    + r")\s+(?:an?\s+)?(?:(?:additional|further|extra|estimated|total\s+of)\s+)?$",
    re.IGNORECASE,
)
# Dates take bounds as temporal words, never as hedges ("up to 2027" is "until").
_DATE_HEDGES = frozenset({"about", "around", "roughly", "approximately", "circa"})
# A hedge that reaches over "the" or "every" to its number: "at about the 50-second mark", "roughly every 3.4
# months" (a bound does not: "under the 2015 deal" is no bound on 2015).
_HEDGE_OVER = re.compile(
    r"(?:^|(?<=[\s(]))(?P<mod>about|around|roughly|approximately|nearly|almost|as\s+often\s+as)\s+(?:the|every)\s+$",
    re.I,
)
# A verb whose particle "up" makes "up to" a destination: "build up to 30 minutes a day", "moves strawberries up
# to #2"; "back" does the same ("the index is back up to 90": a level reached again).
_PARTICLE_UP = re.compile(
    r"\b(?:build|builds|built|building|move|moves|moved|moving|work|works|worked|working|climb|climbs|climbed|"
    r"climbing|step|steps|stepped|ramp|ramps|ramped|scale|scales|scaled|jump|jumps|jumped|go|goes|went|back)"
    r"\s+(?:[a-z]+\s+)?$",
    re.I,
)
# A hedge after the number: "200 or so world leaders", "40-odd years".
_HEDGE_AFTER = re.compile(
    r"(?P<hedge>\s+or\s+so|[-‑]odd)\b|(?P<lower>\s+(?:or|and)\s+(?:more|up|over|above|older))\b"
    r"|(?P<upper>\s+or\s+(?:less|fewer|under|below|younger))\b",
    re.I,
)

_CHANGE_VERBS = (
    "rise|rises|rose|risen|rising|fall|falls|fell|fallen|falling|grow|grows|grew|grown|growing|increase|"
    "increased|increases|increasing|decrease|decreased|decreases|decreasing|cut|cuts|cutting|jump|jumped|jumps|"
    "climb|climbed|climbs|gain|gained|gains|slip|slipped|slips|drop|dropped|drops|decline|declined|declines|"
    "lower|lowered|lowers|raise|raised|raises|reduce|reduced|reduces|reducing|boost|boosted|boosts|boosting|"
    "add|added|adds|shed|sheds|plunge|plunged|plunges|soar|soared|soars|surge|surged|surges|tumble|tumbled|"
    "sink|sank|sunk|slump|slumped|rally|rallied|advance|advanced|ease|eased|dip|dipped|widen|widened|narrow|"
    "narrowed|expand|expanded|contract|contracted|shrink|shrank|shrunk|lose|lost|slide|slid|up|down|higher|"
    "lower|more|less|trim|trimmed|hike|hiked|slash|slashed"
)
_CHANGE_NOUNS = (
    "increase|increases|decrease|decreases|rise|rises|drop|drops|fall|falls|gain|gains|decline|declines|jump|"
    "growth|cut|cuts|hike|hikes|reduction|reductions|loss|losses|slump|surge|boost|climb|plunge|contraction|"
    "expansion|improvement|decrease|slide|dip|spike|uptick|downturn|rebound|bounce|increment"
)
_CHANGE_BEFORE = re.compile(
    rf"(?:\b(?:{_CHANGE_VERBS})\s+(?:(?:by|of|an?|nearly|almost|about|around|roughly|some|more\s+than|over|"
    rf"just|only|another|a\s+further)\s+)*$|\b(?:{_CHANGE_NOUNS})\s+of\s+(?:(?:about|around|nearly|almost|"
    rf"roughly|some|more\s+than|over|just)\s+)*$|\bby\s+(?:(?:about|around|nearly|almost|roughly|some|more\s+"
    rf"than|over|just|up\s+to|at\s+least)\s+)*$)",
    re.IGNORECASE,
)
_LEVEL_BEFORE = re.compile(
    r"\bto\s+(?:(?:about|around|nearly|almost|roughly|some|more\s+than|over|just|a\s+record|an?\s+estimated)\s+)*$"
    r"|\b(?:at|of)\s+$"
)
_CHANGE_AFTER = re.compile(
    rf"^[\s-]*(?:[\w-]+\s+){{0,2}}?(?:{_CHANGE_NOUNS}|(?:year-on-year|annual|monthly|quarterly)\s+(?:{_CHANGE_NOUNS})"
    rf"|(?:increase|decrease|rise|drop|gain|decline|cut|hike|reduction)\b)\b",
    re.IGNORECASE,
)


def _modifier(text: str, c: _Cand) -> tuple[str | None, bool, str]:
    before = text[max(0, c.start - 40) : c.start]
    m = _MODIFIER_RE.search(before)
    if m is None and c.kind not in (KIND_DATE, KIND_ORDINAL):  # "about the 18th President" is a topic, no hedge
        m = _HEDGE_OVER.search(before)
    if m is None:
        after = _HEDGE_AFTER.match(text, c.end)
        year_or_so = c.kind == KIND_DATE and after is not None and after.group(0).lower().endswith("so")
        if after and (c.kind not in (KIND_DATE, KIND_ORDINAL) or year_or_so):  # "in 1993 or so"
            words = " ".join(after.group(0).replace("‑", " ").replace("-", " ").split()).lower()
            bound = BOUND_LOWER if after.group("lower") else BOUND_UPPER if after.group("upper") else BOUND_EXACT
            return words, True, bound
        return None, False, BOUND_EXACT
    mod = m.group("mod")
    approx, bound = _MODIFIERS[mod.lower()]
    if c.kind == KIND_DATE:
        approx = mod.lower() in _DATE_HEDGES
        bound = BOUND_EXACT
    if mod.lower() == "over" and c.kind == KIND_QUANTITY and c.unit in _TIME_UNITS:
        approx, bound = True, BOUND_LOWER
    if mod.lower() == "between" or mod.lower() == "just":
        approx = False
    if mod.lower() == "over" and text[c.start : c.end].lower().startswith(("a ", "an ")):
        approx, bound = False, BOUND_EXACT  # "over a decade" is "during a decade"
    if mod.lower() in ("some",) and c.kind in (KIND_DATE, KIND_ORDINAL):
        return None, False, BOUND_EXACT
    if mod.lower() == "top" and c.kind not in (KIND_COUNT,):
        return None, False, BOUND_EXACT
    if mod.lower() == "up to" and _PARTICLE_UP.search(before, 0, m.start()):
        return None, False, BOUND_EXACT  # "build up to 30 minutes", "moves up to #2": where it goes, no bound
    return mod, approx, bound


def _role(text: str, c: _Cand) -> str | None:
    if c.kind not in ROLE_KINDS:
        return None
    before = text[max(0, c.start - 60) : c.start]
    after = text[c.end : c.end + 40]
    if _LEVEL_BEFORE.search(before) and not re.search(
        r"\b(?:increase|rise|drop|fall|gain|decline|cut|hike|reduction|growth)\s+of\s+$", before
    ):
        return ROLE_LEVEL
    if _CHANGE_BEFORE.search(before) or _CHANGE_AFTER.match(after):
        return ROLE_CHANGE
    return ROLE_LEVEL
