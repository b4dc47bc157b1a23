"""What looks like a figure and is not: clock times, scores, addresses, URLs, phone numbers and their pieces,
codes and model names ("COVID-19", "YZF-R6"), citation markers, list labels, copyright years, years in the name of
a law, emergency numbers, vague "decades ago".

:func:`_excluded_spans` lists those spans in a text; :mod:`tasks.figures.assembly` drops every candidate that
overlaps one. Kept apart from the candidate rules (:mod:`tasks.figures.candidates`) because each rule here is a
reason for a number not to count, read on its own.
"""

from __future__ import annotations

import re

from tasks.figures.grammar import _Scan
from tasks.figures.kinds import _words
from tasks.figures.ordinals import _RANK_NUMBER, _is_rank

# A clock time: "10:30", "5 p.m.", "9-11am", "noon", "7 o'clock", "until 3 in the afternoon".
_CLOCK = re.compile(
    r"\b(?:\d{1,2}(?:[:.]\d{2})?\s*(?:[-–—‑]|to|until|till)\s*)?\d{1,2}(?:[:.]\d{2})?\s*(?:a\.m\.|p\.m\.|am\b|pm\b)"
    r"|\b(?:at|by|until|till|before|after|around|from)\s+\d{1,2}(?:[:.]\d{2})?\s+(?:in\s+the\s+(?:morning|afternoon|evening)"
    r"|at\s+night)\b"
    r"|\b\d{1,2}:\d{2}(?:hrs?\b|h\b)?\b|\b(?:noon|midnight)\b|\b\d{1,2}\s?o[’']clock\b",
    re.I,
)
_CLOCK_WORDS = _words("am pm a p noon midnight clock morning afternoon evening night")
# A clock time told in words: "after five o'clock".
_WORD_CLOCK = re.compile(r"(?i)\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)\s?o[’']clock\b")
# A street address: "412 Elm Rd.", "90 S. Harbour St.", "7 Market Street".
_ADDRESS = re.compile(
    r"\b\d{1,5}\s+(?:[NSEW]\.?\s+)?(?:(?:[A-Z][\w’'-]*|\d+(?:st|nd|rd|th))\s+){1,3}(?:St|Street|Rd|Road|Ave|Avenue|Blvd|Boulevard|Dr|Drive|"
    r"Lane|Ln|Way|Pl|Place|Ct|Court|Hwy|Highway|Pkwy|Parkway|Terrace|Crescent|Square|Trail|Trl|Circle|Cir|Row|Alley|"
    r"Pike|Turnpike|Loop|Close|Mews)\b"
)
_SCORE_CONTEXT = re.compile(
    r"\b(?:won|win|wins|lost|lose|loses|beat|beats|defeat|defeated|drew|draw|victory|voted|vote|votes|score|"
    r"scored|led|lead|leads|trail|trailing|ruled|ruling|decision|margin|majority|tally|record|split|ended|ending|"
    r"finished|match|game|season|series|against|thrashed|thrashing|routed|edged|clinched)\b",
    re.IGNORECASE,
)
_SCORE = re.compile(
    r"(?<![\w.,])(\d{1,3})\s?[-–](\s?)(\d{1,3})"
    r"(?![\w%/]|[.,]\d|\s*(?:per|percent|%)|\s+(?i:thousand|million|billion|trillion)\b)"
)
_URLISH = re.compile(r"\S+(?:\.\w{2,}/|@|://)\S*|\b(?i:doi):\s?\S+")
# A phone number: groups of digits with spaces, hyphens or dots between them, an area code in brackets, a "+"
# in front ("+44 20 7946 0958", "(555) 010-4477", "0800 555 0199", "555.010.4477"); validated by _is_phone.
_PHONE = re.compile(
    r"(?<![\w.,/+‑-])(?P<plus>\+\s?)?(?P<first>\(\d{1,5}\)|\d{1,5})"
    r"(?P<rest>(?:(?:[ \u00a0]?[-‑–.][ \u00a0]?|[ \u00a0])\d{2,6}){1,5})(?![\w%°]|[.,]\d)"
)
_PHONE_CUE = re.compile(
    r"(?i)\b(?:call|calls|calling|phone|telephone|tel|fax|mobile|cell|hotline|helpline|dial|text|whatsapp|sms|"
    r"contact|number|ring|freephone|tollfree|toll-free)\b[\s.:#()-]*(?:on\s+|at\s+)?$"
)
_LONG_PHONE = re.compile(r"(?<![\w.,])\+\d{7,15}\b|(?<![\w.,])0\d{8,12}\b")
# A number with a plus sign glued in front and a name after it: a name ("+972 Magazine") or a dialling code.
_PLUS_NAME = re.compile(r"(?<![\w.,+])\+\d{1,4}(?=\s+[A-Z][a-z])")
# A citation or footnote marker, or a list in brackets: "[12]", "[3][4]", "[1, 2]", "[5-7]".
_CITATION = re.compile(r"\[\s*\d{1,4}(?:\s*[,;–-]\s*\d{1,4})*\s*\]")
# The number of an item of a numbered list ("01. Robert Plant", "2) Cut the onions", "3)Twist") and the time stamp
# of a live blog's entry ("16.06 Rescuers say ..."), both at the start of a line: positions and clock times.
_LINE_LABEL = re.compile(
    r"(?m)^[ \t]*(?:\(?\d{1,3}[.)](?=[ \t]+[^\d\s%]|[ \t]*$)|\d{1,3}\)(?=[A-Z][a-z])"
    r"|(?:[01]?\d|2[0-3])[.:][0-5]\d(?=[ \t]*(?:$|[A-Z“\"‘'])))"
)
# Numbers joined by colons: clock and race times, ratios, chapter and verse ("2:04:38", "1:41.73", "Colossians
# 1:9"); none of them an amount read as a number.
_COLON_NUMBERS = re.compile(r"(?<![\w.:])\d{1,4}(?::\d{1,4}(?:\.\d+)?)+(?![\w:])")
# A time zone's offset: "CEST+1", "UTC-05:00", "GMT +8".
_ZONE_OFFSET = re.compile(r"\b(?:UTC|GMT|[A-Z]{1,3}[SD]?T)\s?[+−-]\s?\d{1,2}(?::?\d\d)?\b")
# A phone number spelled in letters, with its digits in brackets: "888-INFO-FDA", "1-800-FLOWERS",
# "855-543-DRUG (3784)".
_VANITY_PHONE = re.compile(r"(?<![\w-])(?:\d{1,3}[-‑]){0,2}\d{3}[-‑][A-Z]{3,}(?:[-‑][A-Z\d]+)*(?:\s*\(\d{3,4}\))?")
# A number after "#" is a label (an item, a product or a list entry: "#559393", "Mistake #6"), no amount.
_HASH_NUMBER = re.compile(r"#\s?\d[\d,]*")
# A house number in a police blotter's "the 2100 block of Main Street", a flat, suite or box number.
_HOUSE_NUMBER = re.compile(
    r"(?i)\b\d{1,5}\s+block\s+of\b|\b(?:suite|ste|apt|apartment|unit|room|flat|p\.?\s?o\.?\s+box|box)\.?\s+#?\d+[a-z]?\b"
)
# A code made of a name and a letter-digit part ("YZF-R6", "Mk-II4"), whose digits are no amount.
_NAME_CODE = re.compile(r"\b[A-Za-z]+[-‑][A-Za-z]+\d[\w.]*")
# "3-D", "2D": a number of dimensions names a kind of image or printing, it counts nothing.
_DIMENSIONS = re.compile(r"\b[1-4][-‑]?D\b")
# A journal reference's volume, issue and pages: "392(2): 404–418".
_JOURNAL_PAGES = re.compile(r"\b\d{1,4}\s?\(\d{1,4}\)\s?:\s?\d{1,6}(?:\s?[–-]\s?\d{1,6})?")
# An address whose street word comes first: "33 Rue Majorelle", "12 Via Roma", "5 Calle Mayor".
_STREET_FIRST = re.compile(
    r"\b\d{1,5},?\s+(?:[Rr]ue|Via|Calle|Avenida|Rua|Viale|Piazza|Plaza|Jalan|Jln\.?|[Cc]hemin|[Aa]venue\s+de)\s+[A-Z]"
)
# An emergency or service number: "the 911 dispatcher", "called 999", "phoned 911", "where 111 isn't available".
_SERVICE_NUMBERS = r"(?:911|999|112|111|000|101)"
_EMERGENCY_NUMBER = re.compile(
    rf"(?i)\b{_SERVICE_NUMBERS}(?=\s+(?:call|calls|dispatch|dispatcher|dispatchers|operator|operators|centre|"
    r"center|emergency|line|service|isn[’']t|is\s+not)\b)"
    rf"|(?<=\b(?:call|dial|ring)\s){_SERVICE_NUMBERS}\b|(?<=\b(?:called|dialed|phoned)\s){_SERVICE_NUMBERS}\b"
    rf"|(?<=\b(?:calling|dialing|dialled|phoning)\s){_SERVICE_NUMBERS}\b"
)
# A version named by its word, in prose or in a settings line: "version 2.5", "TargetVersion: 3", "firmware 1.2".
_VERSION = re.compile(r"(?i)(?:\bversion|[a-z]Version|\bver\.|\brevision|\bfirmware)\s*[:=]?\s*v?\d+(?:\.\d+)*\b")
# A phone number: a group of digits opening with a zero and followed by more groups ("0845 46 47", "020 7946
# 0018"), or digits given as where to call ("call the helpline on 0800 123", "phone 555 0199").
_PHONE_GROUPS = re.compile(
    r"(?<![\w.,/$£€-])(?:\+\d{1,3}\s?)?(?:\(0\d{1,4}\)|0\d{2,4})(?:[\s-]\d{2,4}){1,3}(?![\w.,]\d|%)"
)
# Digits in three or more groups joined by hyphens, nine digits or more: a phone number or a code ("212-524-3366-73");
# an ISO date has eight.
_HYPHEN_GROUPS = re.compile(r"(?<![\w.,/-])\d{2,6}(?:-\d{2,6}){2,}(?![\w-])")
_PHONE_AFTER_CALL = re.compile(
    r"(?i)\b(?:call|ring|phone|dial|text|sms|contact)(?:s|ed|ing|led)?\b[^.;!?\n]{0,40}?\b(?:on|at)\s+"
    r"(?P<num>\+?\d{2,5}(?:[\s-]\d{2,5}){1,3})(?![\w.,]\d|%)"
)
# A reference in brackets after a word, as health and science pages cite, or the labels of the things just named:
# "body fat (3).", "models (3, 16 )", "four colours (1, 2, 3 and 4),".
_BRACKET_CITATION = re.compile(r"(?<=[a-z%)]\s)\(\s*\d{1,3}(?:\s*(?:,|,?\s+and|&)\s*\d{1,3})*\s*\)(?=\s*[.,;:]|\s*$)")
# Labels of a list written inline: "1) Deviled, 2) Scotch" (two or more).
_INLINE_LABEL = re.compile(r"(?<![\w(.,/])\d{1,2}\)(?=\s+[A-Za-z])")
# A copyright line's years: "Copyright 2015", "© 2009-2024".
_COPYRIGHT = re.compile(r"(?i)(?:\bcopyright\b|©)\s*(?:\(c\)\s*)?\d{4}(?:\s*[-–]\s*\d{2,4})?")
# A local phone number "225-8473": three digits, a hyphen, four digits not ending in "00" (a range is "100-1000").
_LOCAL_PHONE = re.compile(r"(?<![\w$£€.,/-])\d{3}-(?!\d\d00)\d{4}(?![\w%]|[.,]\d|-)")
# The day of the month in brackets after a day word: "Today (19)", "Monday (3)".
_DAY_LABEL = re.compile(
    r"(?i)\b(?:today|yesterday|tomorrow|monday|tuesday|wednesday|thursday|friday|saturday|sunday)\s*\(\s*(?P<n>\d{1,2})\s*\)"
)
# A score with "nil": "two-nil", "3-nil".
# A tally written with words between its numbers: "by 51 votes to 49", "by 217 to 212" (winner first: a range
# runs upwards, "by 10 to 20 units").
_VOTES_TO = re.compile(
    r"(?i)\bby\s+(?P<a>\d{1,4})(?P<votes>\s+votes?)?\s+to\s+(?P<b>\d{1,4})(?:\s+votes?)?\b(?!\s*(?:%|per\b|percent|[a-z]))"
)
# A span of months written as numbers before its year, as company reports write periods: "1-6 2015", "(7–9/2024)".
_MONTH_SPAN = re.compile(r"(?<![\w.,-])(?:[1-9]|1[0-2])\s?[-–]\s?(?:[1-9]|1[0-2])(?=\s?/?\s?(?:19|20)\d\d\b)")
_NIL_SCORE = re.compile(r"(?i)\b(?:\d{1,2}|one|two|three|four|five|six|seven)[-‑\s]nil\b")
# "three decades ago", "a century ago": too vague to be a date, and no length of anything either.
_VAGUE_AGO = re.compile(r"(?i)\b[\w-]+\s+(?:decades?|centuries|century)\s+ago\b")
# A year in the formal name of a statute or treaty: "the Immigration and Nationality Act of 1965".
_NAMED_LAW_YEAR = re.compile(
    r"\b(?:Act|Acts|Law|Treaty|Accord|Accords|Convention|Code|Ordinance|Statute|Charter|Protocol)\s+of\s+"
    r"(?:1[5-9]\d\d|20\d\d)\b"
)

# Number words fixed in a compound that counts nothing: "a two-way player", "first-come, first-served", "a
# one-of-a-kind show", "3rd party packages", "second-hand cars", "first-hand accounts" ("the third party in
# parliament" is a rank).
_FIXED_COMPOUND = re.compile(
    r"(?i)\b(?:one|two)[-‑]way\b|\bfirst[-‑]come\b|\bfirst[-‑]serve[ds]?\b|\bone[-‑]of[-‑](?:a[-‑])?kind\b"
    r"|\bone[-‑](?:to|on)[-‑]one\b|\b3rd[-‑\s]part(?:y|ies)\b|\bthird[-‑]part(?:y|ies)\b|\b(?:first|second)[-‑]hand\b"
)
_FIXED_COMPOUND_WORDS = _words("way come serve served serves kind party parties hand one")
# A number given as a name: "a burst source known as 121102", "the strain dubbed 2.1" (nothing follows it that it
# counts or measures).
_KNOWN_AS_NUMBER = re.compile(
    r"\b(?:known\s+as|dubbed|designated|code[-‑\s]?named)\s+(?P<n>\d[\d.]*)(?![\w%]|\s+[a-z])"
)
_KNOWN_AS_WORDS = _words("known dubbed designated named codenamed")
# A number joined to a Greek letter names a compound or a receptor ("17-beta oestradiol", "5-alpha reductase").
_GREEK_NAME = re.compile(r"(?i)\b\d{1,2}[-‑](?:alpha|beta|gamma|delta|epsilon|kappa|omega)\b")
# A package pinned to a version, or an image tag, as software pages write them: "click==7.0", "six==1.12.0",
# "numpy>=1.2", "python:3.7" (the package's name too: "six" is no count there).
_CODE_PIN = re.compile(r"[\w.-]+\s?(?:==|>=|<=|~=|!=)\s?v?\d[\w.]*|(?<=[A-Za-z]):\d[\w.-]*")
# A position in degrees, minutes and seconds: "40°26′46″ N".
_ARC_POSITION = re.compile(r"\d{1,3}°\s?\d{1,2}[′']\s?(?:\d{1,2}(?:\.\d+)?[″\"])?")


def _age_after_name(text: str, m: re.Match[str]) -> bool:
    """Return True when a bracketed number that looks like a reference is a person's age after the name: "Mary
    Banda (64), a nurse" (one number, a capitalised word before it, the clause going on)."""
    before = re.search(r"(\S+)\s$", text[max(0, m.start() - 30) : m.start()])
    return (
        before is not None
        and before.group(1)[:1].isupper()
        and re.fullmatch(r"\(\s*\d{1,2}\s*\)", m.group(0)) is not None
        and re.match(r"\s*[,;:]", text[m.end() :]) is not None
    )


def _excluded_spans(text: str, sc: _Scan) -> list[tuple[int, int]]:
    words = [(m.start(), m.end()) for m in _NIL_SCORE.finditer(text)] if "nil" in sc.words else []
    words += [(m.start(), m.end()) for m in _VAGUE_AGO.finditer(text)] if "ago" in sc.words else []
    words += [(m.start(), m.end()) for m in _WORD_CLOCK.finditer(text)] if "clock" in sc.words else []
    words += [(m.start(), m.end()) for m in _MONTH_SPAN.finditer(text)] if sc.digit else []
    tallies = _VOTES_TO.finditer(text) if "by" in sc.words and "to" in sc.words else ()
    words += [(m.start(), m.end()) for m in tallies if m.group("votes") or int(m.group("a")) > int(m.group("b"))]
    words += [(m.start(), m.end()) for m in _FIXED_COMPOUND.finditer(text)] if sc.words & _FIXED_COMPOUND_WORDS else []
    if not sc.digit:
        return words
    clock = ":" in text or not sc.words.isdisjoint(_CLOCK_WORDS)
    spans = [(m.start(), m.end()) for m in _CLOCK.finditer(text)] if clock else []
    spans += [(m.start(), m.end()) for m in _URLISH.finditer(text)] if "/" in text or "@" in text or ":" in text else []
    spans += [(m.start(), m.end()) for m in _ADDRESS.finditer(text)]
    for m in _SCORE.finditer(text):
        a, b = int(m.group(1)), int(m.group(3))
        window = text[max(0, m.start() - 40) : m.end() + 25]
        # a range runs upwards; "5-1", "7-2", "2-2" are scores or records even without a sports word nearby
        if (_SCORE_CONTEXT.search(window) or a >= b) and a < 200 and b < 200:
            spans.append((m.start(), m.end()))
    for m in re.finditer(r"\b\d+[-‑](?:to|for|of)[-‑]\d+\b|\b[A-Za-z]+[-‑]\d[\d.]*\b|\b\d+[-‑][A-Za-z]*\d+\w*\b", text):
        if re.match(r"(?i)(?:mid|early|late|pre|post|US|over|under|top|sub|around|foot|feet|ft)[-‑]", m.group(0)):
            continue
        if re.match(r"\d+[-‑]\d+$", m.group(0)):
            continue
        spans.append((m.start(), m.end()))
    if "[" in text:
        spans += [(m.start(), m.end()) for m in _CITATION.finditer(text)]
    spans += [(m.start(), m.end()) for m in _GREEK_NAME.finditer(text)] if "-" in text else []
    named = _KNOWN_AS_NUMBER.finditer(text) if sc.words & _KNOWN_AS_WORDS else ()
    spans += [(m.start("n"), m.end("n")) for m in named]
    spans += [(m.start(), m.end()) for m in _CODE_PIN.finditer(text)] if "=" in text or ":" in text else []
    spans += [(m.start(), m.end()) for m in _ARC_POSITION.finditer(text)] if "°" in text else []
    spans += [(m.start(), m.end()) for m in _HOUSE_NUMBER.finditer(text)]
    spans += [(m.start(), m.end()) for m in _STREET_FIRST.finditer(text)]
    spans += [(m.start(), m.end()) for m in _EMERGENCY_NUMBER.finditer(text)]
    spans += [(m.start(), m.end()) for m in _PHONE_GROUPS.finditer(text)] if "0" in text else []
    hyphened = _HYPHEN_GROUPS.finditer(text) if "-" in text else ()
    spans += [(m.start(), m.end()) for m in hyphened if sum(c.isdigit() for c in m.group(0)) >= 9]
    spans += [(m.start(), m.end()) for m in _VERSION.finditer(text)] if "ersion" in text or "ver" in sc.words else []
    spans += [(m.start("num"), m.end("num")) for m in _PHONE_AFTER_CALL.finditer(text)]
    cited = _BRACKET_CITATION.finditer(text) if "(" in text else ()
    spans += [(m.start(), m.end()) for m in cited if not _age_after_name(text, m)]
    labels = [(m.start(), m.end()) for m in _INLINE_LABEL.finditer(text)] if ")" in text else []
    spans += labels if len(labels) >= 2 else []
    spans += [(m.start(), m.end()) for m in _COPYRIGHT.finditer(text)]
    spans += [(m.start(), m.end()) for m in _LOCAL_PHONE.finditer(text)] if "-" in text else []
    spans += [(m.start(), m.end()) for m in _VANITY_PHONE.finditer(text)] if "-" in text else []
    spans += [(m.start(), m.end()) for m in _ZONE_OFFSET.finditer(text)] if "+" in text or "-" in text else []
    spans += [(m.start(), m.end()) for m in _COLON_NUMBERS.finditer(text)] if ":" in text else []
    spans += [(m.start(), m.end()) for m in _JOURNAL_PAGES.finditer(text)] if "(" in text else []
    spans += [(m.start("n"), m.end("n")) for m in _DAY_LABEL.finditer(text)] if "(" in text else []
    spans += [(m.start(), m.end()) for m in _NAMED_LAW_YEAR.finditer(text)] if " of " in text else []
    if "#" in text:
        ranks = [
            (r.start(), r.end()) for r in _RANK_NUMBER.finditer(text) if r.group(0)[0] == "#" and _is_rank(text, r)
        ]
        spans += [(m.start(), m.end()) for m in _HASH_NUMBER.finditer(text) if (m.start(), m.end()) not in ranks]
    spans += [(m.start(), m.end()) for m in _LINE_LABEL.finditer(text)]
    spans += [(m.start(), m.end()) for m in _NAME_CODE.finditer(text)]
    spans += [(m.start(), m.end()) for m in _DIMENSIONS.finditer(text)]
    spans += [(m.start(), m.end()) for m in _PHONE.finditer(text) if _is_phone(text, m)]
    spans += [(m.start(), m.end()) for m in _LONG_PHONE.finditer(text)
              if m.group(0)[0] == "+" or _PHONE_CUE.search(text, max(0, m.start() - 30), m.start())]  # fmt: skip
    spans += [(m.start(), m.end()) for m in _PLUS_NAME.finditer(text)] if "+" in text else []
    return spans + words


def _is_phone(text: str, m: re.Match[str]) -> bool:
    """Return True when the digit groups of ``m`` (a :data:`_PHONE` match) are a phone number.

    Seven to eighteen digits (a relay prefix may come first); three groups or more, or two after a "+", an area
    code in brackets or a word such as "call"; every group after the first of two digits or more and the last of
    three or more (a "+" excepted: "+33 1 45 67 89 10"). Not a phone number: groups of three after a first of one
    to three (thousands written with spaces, "1 250 000"), several years ("2019 2020 2021"), a date ("2024-05-17",
    "17.05.2024"), or numbers with decimal points ("107.7 42.0 12.8", where the dots are not the only separator).
    """
    first = m.group("first").strip("()")
    seps = re.findall(r"[^\d]+", m.group("rest"))
    groups = [first, *re.findall(r"\d+", m.group("rest"))]
    digits = sum(len(g) for g in groups)
    if not 7 <= digits <= 18:
        return False
    plus = m.group("plus") is not None
    cue = plus or m.group("first").startswith("(") or _PHONE_CUE.search(text, max(0, m.start() - 30), m.start())
    if any("." in sep for sep in seps) and not all(sep.strip() == "." for sep in seps):
        return False  # decimals in a row of numbers
    if len(groups) < 3 and not cue:
        return False
    if not plus and len(groups[-1]) < 3 and not (len(groups) >= 5 and digits >= 9):
        return False  # "1 2 3" is a list; five groups or more of nine digits are a number dialled in pairs
    if cue:
        return True
    spaced = all(sep in (" ", "\u00a0") for sep in seps)
    if spaced and len(first) <= 3 and not first.startswith("0") and all(len(g) == 3 for g in groups[1:]):
        return False  # "1 250 000": thousands written with spaces
    if sum(1 for g in groups if re.fullmatch(r"(?:19|20)\d\d", g)) >= 2:
        return False
    if len(groups) == 3 and any(re.fullmatch(r"(?:19|20)\d\d", g) for g in (groups[0], groups[-1])):
        return all(len(g) >= 3 for g in groups)  # "2024-05-17", "17.05.2024" are dates
    return True
