"""Names in lines written in title case: headlines, titles of posts and recipes ("Lemon and Thyme Roasted Carrots
with Crispy Shallots", "Emma Stone, Ryan Reynolds Spotted at Venice Premiere").

Where every word is capitalised the small model reads runs of common words as names and runs a person's name on
into the verb after it. Two rules read such lines by their words, with an English dictionary:

- :func:`drop_common_phrases`: a name of common words only, in such a line, that the article never writes as a
  name in running text, is the line's capitals, not a name ("Crispy Shallots", "Thyme Roasted Carrots");
- :func:`trim_trailing_verbs`: a person's name of three words or more that ends in a common verb form ("Ryan
  Reynolds Spotted") ends before it.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from functools import cache

from tasks.entities import Dictionary, Mention, canonical_form

# Last words of the names of organisations that are common words: "Supreme Court", "Labour Party", "World Bank".
_ORG_HEADS = frozenset((
    "court", "house", "party", "bank", "council", "department", "ministry", "committee", "agency", "office",
    "service", "services", "board", "commission", "union", "league", "club", "team", "university", "college",
    "school", "institute", "foundation", "fund", "association", "society", "church", "museum", "hospital",
    "center", "centre", "company", "group", "news", "times", "post", "journal", "network", "motors", "airlines",
    "airways", "industries", "army", "navy", "police", "senate", "congress", "parliament", "assembly", "guard",
    "corps", "bureau", "authority", "trust", "federation", "organisation", "organization", "press", "magazine",
))  # fmt: skip
_WORD = re.compile(r"[A-Za-z][\w'’-]*")
# A verb form that can end a person's name only as the headline's verb: "Featured", "Stars", "Wins".
_VERB_FORM = re.compile(r"[a-z]+(?:ed|s|ing)")


@cache
def _function_words() -> frozenset[str]:
    """spaCy's English stop words ("the", "with", "from"), which the dictionary of content words lacks; imported
    here, not with the module, as the flows import this module long before any text is analysed."""
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS)


def is_common_word(word: str, dictionary: Dictionary) -> bool:
    """Return whether ``word`` (any case) is an English word: one of the dictionary's, or a function word."""
    return word.lower() in _function_words() or dictionary.knows(word)


def is_title_line(text: str, offset: int, names: Sequence[tuple[int, int]], dictionary: Dictionary) -> bool:
    """Return whether the line holding ``offset`` is written in title case: three words or more, every word of
    four letters or more capitalised but function words ("with", "from"), not all in capitals (a line in capitals
    has rules of its own), and a common word capitalised past its first word and outside every name (``names``:
    the spans of the article's mentions). A line of names alone ("Crystal Palace 2 Leeds 1") is no title, nor a
    sentence of prose full of names ("President Bill Clinton met ... a spokesman said")."""
    start = text.rfind("\n", 0, offset) + 1
    end = text.find("\n", offset)
    end = end if end >= 0 else len(text)
    words = list(_WORD.finditer(text, start, end))
    long = [w.group(0) for w in words if len(w.group(0)) >= 4 and w.group(0).lower() not in _function_words()]
    if len(words) < 3 or not long or text[start:end].isupper() or not all(w[0].isupper() for w in long):
        return False
    return any(
        w.group(0)[0].isupper()
        and w.group(0).lower() not in _function_words()
        and dictionary.knows(w.group(0))
        and not any(s <= w.start() < e for s, e in names)
        for w in words[1:]
    )


def drop_common_phrases(
    text: str, mentions: Sequence[Mention], dictionary: Dictionary, given: Collection[str]
) -> list[Mention]:
    # ``given``: given names in capitals, as :func:`tasks.mentions.given_names` has them
    """Return ``mentions`` without the organisations and people of two words or more whose every word is a common
    English word with a capital first letter only, found only in title-case lines of ``text``. A person whose
    first word is a given name ("Will Smith") and an organisation ending in a word that heads such names
    ("Supreme Court") stay, and so does any name the article also writes capitalised in running text."""
    out = []
    names = [(m.start, m.end) for m in mentions]
    for m in mentions:
        words = m.canonical.split(" ")
        common = (
            m.label in ("ORG", "PERSON")
            and len(words) > 1
            and all(w.isalpha() and w.istitle() and is_common_word(w, dictionary) for w in words)
            and not (m.label == "ORG" and words[-1].lower() in _ORG_HEADS)
            and not (m.label == "PERSON" and words[0].upper() in given)
        )
        if common and all(
            is_title_line(text, h.start(), names, dictionary) for h in re.finditer(re.escape(m.text), text)
        ):
            continue
        out.append(m)
    return out


def trim_trailing_verbs(text: str, mentions: list[Mention], dictionary: Dictionary) -> None:
    """End a person's name of three words or more in a title-case line before a last word that is a common verb
    form ("Ryan Reynolds Spotted at Venice Premiere" names Ryan Reynolds)."""
    names = [(m.start, m.end) for m in mentions]
    for i, m in enumerate(mentions):
        words = m.text.split(" ")
        last = words[-1]
        if (
            m.label == "PERSON"
            and len(words) >= 3
            and _VERB_FORM.fullmatch(last.lower())
            and dictionary.knows(last)
            and is_title_line(text, m.start, names, dictionary)
        ):
            end = m.end - len(last) - 1
            name = text[m.start : end]
            mentions[i] = Mention(name, m.label, m.start, end, m.sentence_id, canonical_form(name))
