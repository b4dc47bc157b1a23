"""Main text by agreement: three extractors read the page, the text the other two agree with most is kept.

Each extractor fails in its own way: trafilatura's precision setting drops a paragraph it is unsure of,
its recall setting keeps a link list below the article, resiliparse's main-content rules keep a byline or an
image credit. Where one of them errs, the other two rarely err the same way, so the output closest to the
others (the *medoid* under the same bag-of-words F1 that judges extraction) is the one that erred least.
Measured on the whole-text development pages (``bench/maintext_eval.py``, check part), the medoid beats each
of its members; a finer, paragraph-level vote was measured too and gained less (line boundaries differ
between extractors, so a paragraph one of them splits loses its votes).

One failure no vote can fix: both trafilatura settings stop where a layout break (an advertisement or a
sidebar placed between two parts of the article body) ends the container they chose, so two of three members
agree on the first half of the article. :func:`continue_truncated` then takes the rest from a member that
read on: it must hold the chosen text's last paragraph word for word and continue with prose paragraphs that
add at least half as many words again (a few extra paragraphs are as likely an author box or reader comments
as article text, and were measured to cost more than they gain).

Members, each cheap enough that the three together stay within 1.5 times the cost of the single trafilatura
run they replace: trafilatura with ``favor_precision`` and with ``favor_recall`` (comments off; both read the
same parsed tree, which trafilatura copies), and resiliparse's ``main_content`` extraction (C++, about a tenth of
a trafilatura run; alt texts off, they are image descriptions, not article text).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import version
from typing import Any

PRECISION = "trafilatura_precision"
RECALL = "trafilatura_recall"
RESILIPARSE = "resiliparse"
# Order matters only for ties: the first of equally central outputs wins.
MEMBERS = (PRECISION, RECALL, RESILIPARSE)

_TOKEN = re.compile(r"\w+")
_SPACES = re.compile(r"\s+")
# Recall and resiliparse texts this close (bag-of-words F1) settle the page without the precision run.
AGREED = 0.9
# A continuation is taken only when it adds at least this share of the chosen text's words.
CONTINUATION_MIN_SHARE = 0.5
# A paragraph of a continuation is prose: this many words or more, ending like a sentence.
PROSE_MIN_WORDS = 20
_SENTENCE_END = (".", "!", "?", '"', "\u201d", "\u2019", ")", "\u3002")
# The chosen text's last paragraph must be this long to be found again in another member unambiguously.
ANCHOR_MIN_WORDS = 8


@dataclass(frozen=True, slots=True)
class MainText:
    """The chosen main text (one paragraph per line), which member gave it, and how central it was.

    ``agreement`` is the mean F1 of the chosen text against the other members (1.0: they all said the same);
    a low value marks a page where the extractors disagreed, worth a look when the text seems off.
    """

    text: str
    member: str
    agreement: float
    continued_from: str | None = None

    @property
    def extractor(self) -> str:
        """The member that gave the text, ``+`` the one that gave its continuation, if any."""
        return f"{self.member}+{self.continued_from}" if self.continued_from else self.member


def _resiliparse(html: str) -> str:
    from resiliparse.extract.html2text import extract_plain_text

    return str(extract_plain_text(html, main_content=True, comments=False, alt_texts=False))


def _trafilatura(tree: Any, url: str | None, include_tables: bool, *, precision: bool) -> str:
    import trafilatura  # imported by the clean workers on their first page, not by every process that plans work

    return (
        trafilatura.extract(
            tree,
            url=url,
            include_comments=False,
            include_tables=include_tables,
            output_format="txt",
            with_metadata=False,
            deduplicate=False,
            favor_precision=precision,
            favor_recall=not precision,
        )
        or ""
    )


def _runs(tree: Any, html: str, url: str | None, include_tables: bool) -> dict[str, Callable[[], str]]:
    return {
        PRECISION: lambda: _trafilatura(tree, url, include_tables, precision=True),
        RECALL: lambda: _trafilatura(tree, url, include_tables, precision=False),
        RESILIPARSE: lambda: _resiliparse(html),
    }


def member_texts(tree: Any, html: str, url: str | None, *, include_tables: bool = True) -> dict[str, str]:
    """Return each member's main text of a page (``tree``: the page parsed by lxml; ``html``: its decoded
    markup, which resiliparse parses with its own parser)."""
    return {name: run() for name, run in _runs(tree, html, url, include_tables).items()}


def bag(text: str) -> Counter[str]:
    """Return the bag of lowercased ``\\w+`` tokens of ``text`` (the unit extraction is judged in)."""
    return Counter(_TOKEN.findall(text.lower()))


def overlap_f1(a: Counter[str], b: Counter[str]) -> float:
    """Return the bag-of-words F1 of two token bags (symmetric; 0.0 when either is empty)."""
    common = sum((a & b).values())
    if not common:
        return 0.0
    return 2 * common / (a.total() + b.total())


def choose(texts: Mapping[str, str]) -> MainText:
    """Return the medoid of the members' texts: the one with the highest summed F1 against the others.

    An empty output agrees with nothing, so two members that agree outvote a third that found nothing, and a
    page only one member could read gets that member's text (the others score 0 against it and each other).
    """
    names = [name for name in MEMBERS if name in texts] + [name for name in texts if name not in MEMBERS]
    bags = {name: bag(texts[name]) for name in names}
    others = max(1, len(names) - 1)

    def centrality(name: str) -> float:
        return sum(overlap_f1(bags[name], bags[other]) for other in names if other != name)

    best = max(names, key=lambda name: (centrality(name), bool(bags[name])))
    return MainText(texts[best], best, centrality(best) / others)


def _paragraphs(text: str) -> list[str]:
    return [p for p in (_SPACES.sub(" ", line).strip() for line in text.splitlines()) if p]


def _words(text: str) -> int:
    return len(_TOKEN.findall(text))


def _continuation(chosen: list[str], other: list[str]) -> list[str]:
    """Return the prose paragraphs ``other`` has after the chosen text's last paragraph: one non-prose line
    between two prose paragraphs is skipped (an "Advertisement" label), a second one ends the continuation."""
    try:
        start = other.index(chosen[-1]) + 1
    except ValueError:
        return []
    seen, added, gap = set(chosen), [], 0
    for paragraph in other[start:]:
        if paragraph in seen:
            continue
        if _words(paragraph) >= PROSE_MIN_WORDS and paragraph.endswith(_SENTENCE_END):
            added.append(paragraph)
            gap = 0
        else:
            gap += 1
            if gap > 1:
                break
    return added


def continue_truncated(main: MainText, texts: Mapping[str, str]) -> MainText:
    """Return ``main`` with the rest of a text cut short at a layout break, taken from the first member (in
    :data:`MEMBERS` order) that read on; ``main`` itself when none did (see the module docstring)."""
    texts = {name: texts[name] for name in MEMBERS if name in texts}
    chosen = _paragraphs(main.text)
    if not chosen or _words(chosen[-1]) < ANCHOR_MIN_WORDS:
        return main
    for name, text in texts.items():
        if name == main.member:
            continue
        added = _continuation(chosen, _paragraphs(text))
        if added and _words(" ".join(added)) >= CONTINUATION_MIN_SHARE * _words(main.text):
            return MainText("\n".join(chosen + added), main.member, main.agreement, continued_from=name)
    return main


def extract_main_text(
    tree: Any, html: str, url: str | None, *, include_tables: bool = True, tidy: Callable[[str], str] = str
) -> MainText:
    """Return the main text of a parsed page: the members' medoid, continued where it was cut short (see the
    module docstring). ``tidy`` is applied to each member's text before any comparison (the clean stage drops
    boilerplate paragraphs there, so that the vote is about the article, not about a "Read more:" line).

    A cascade keeps the cost down: the recall setting and resiliparse run first, and when they agree
    (:data:`AGREED`) the recall text is taken without the precision run, whose vote could not change much;
    measured on the development pages this skips it on about three pages in five for no loss of F1.
    """
    runs = _runs(tree, html, url, include_tables)
    texts = {name: tidy(runs[name]()) for name in (RECALL, RESILIPARSE)}
    agreement = overlap_f1(bag(texts[RECALL]), bag(texts[RESILIPARSE]))
    if agreement >= AGREED:
        main = MainText(texts[RECALL], RECALL, agreement)
    else:
        texts[PRECISION] = tidy(runs[PRECISION]())
        main = choose(texts)
    return continue_truncated(main, texts)


@lru_cache(maxsize=1)
def members_version() -> str:
    """Return the versions of the extractors behind :data:`MEMBERS` (stored with every article)."""
    return f"trafilatura {version('trafilatura')}; resiliparse {version('resiliparse')}"
