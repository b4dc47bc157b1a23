"""Harder non-duplicates for the dedup evaluation, generated at run time from real texts.

The development set's own shared-paragraph negatives put a base story's paragraph into long host stories, where
it is a small share of the host. Copies are told from different stories by how much of the *shorter* text the
longer one holds, so the hard cases are short hosts and hosts where the shared block sits where a copy's lead
would. This module builds such pairs from the real texts of ``data/dedup`` (the stories, "A") and of
``data/bench`` (other real pages, text extracted with trafilatura, "B"), deterministically for a seed:

``background_start`` / ``background_middle`` / ``background_end``
    a mid-article paragraph of story A (never its first two nor its last) inserted at the start, in the
    middle or at the end of an unrelated story B; half of the hosts are cut to a brief of 2-3 paragraphs.
``shared_quote``
    one quoted sentence of A (a sentence with quotation marks, else a long sentence) inside a paragraph of B,
    or as a paragraph of its own.
``shared_boilerplate``
    the same standard paragraph (an "About the company" note, a disclaimer, an agency notice: made-up
    templates, or a paragraph of a third real page playing that role) appended to two unrelated stories B1
    and B2, half of them briefs.
``same_topic``
    two real texts (a bench page and a development story, or two bench pages) that share at least four rare
    capitalised names and almost no wording: different stories on one topic. The pages hold almost no two
    independent reports of one day (the dated ones are the dedup set's own sources), so the day is not required.

Each generated item is new (its own id, URL and outlet on the reserved ``.example`` domain); a pair is
(A's original, B') for the first two kinds, so every variant of A must stay apart from B' too. Bench pages
whose text overlaps the dedup texts (the extraction pages the dedup set was built from) are left out, so that
no generated "negative" is a hidden copy. No text is written to disk.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import random
import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SEED = 20260115
# Pages read from the bench manifest (in a fixed order by the hash of their id): about 10 s of extraction.
PAGE_LIMIT = 300
# A page is usable as a host when its text has at least this many paragraphs of >= 8 words.
MIN_HOST_PARAGRAPHS = 3
# Share of a page's 5-shingles found in the dedup texts above which it is one of their sources: left out.
MAX_OVERLAP = 0.05
COUNTS = {"background": 30, "shared_quote": 40, "shared_boilerplate": 30, "same_topic": 30}
POSITIONS = ("start", "middle", "end")
_WORD = re.compile(r"\w+")
_SENTENCE = re.compile(r"(?<=[.!?»“”\"])\s+(?=[A-ZÄÖÜ«“„\"])")
_QUOTE = re.compile(r"[\"“”„«»]")
_NAME = re.compile(r"(?<=[a-zäöüßéèáíóúñ,] )[A-ZÄÖÜÉ][a-zäöüßéèáíóúñ]{3,}\b")
_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})")

# Made-up standard paragraphs of the kind agencies and press offices append to every release.
_BOILERPLATE = (
    "About {company}: {company} is a {sector} company headquartered in {city}. Founded in {year}, it employs "
    "about {staff} people in {countries} countries and serves customers in energy, transport and public "
    "administration. Its shares are listed on the {city} stock exchange. For more information, visit the "
    "company's website or follow it on social media.",
    "Disclaimer: This release contains forward-looking statements about {company} that involve risks and "
    "uncertainties, including market conditions, regulation and the outcome of pending proceedings. Actual "
    "results may differ materially from those expressed or implied. {company} undertakes no obligation to "
    "update any forward-looking statement made in this release.",
    "{agency} is an independent news agency based in {city}, founded in {year}. Its reports are distributed "
    "to more than {staff} subscribers in {countries} countries and may not be republished, rewritten or "
    "redistributed without written permission. Corrections and complaints can be sent to the {agency} news desk.",
    "Media contact: {company} press office, {city}. {company} publishes its results four times a year; the "
    "next report is due in the autumn. Journalists can request interviews, images and background material "
    "through the press office, which answers on working days between nine and five.",
)
_FILL = {
    "company": ("Norvale Systems", "Brightwater Holdings", "Kestrel Industrial", "Aldmoor Group"),
    "sector": ("technology", "engineering", "logistics", "software"),
    "city": ("Rotterdam", "Lyon", "Gothenburg", "Leeds"),
    "agency": ("Meridian Press Service", "Continental Wire", "Northgate News Agency"),
    "year": ("1987", "1996", "2004", "2011"),
    "staff": ("1,200", "3,400", "8,500", "650"),
    "countries": ("12", "27", "40", "9"),
}


@dataclass(frozen=True, slots=True)
class Page:
    """A real bench page's text, as paragraphs."""

    page_id: str
    date: str | None
    language: str | None
    paragraphs: list[str]


@dataclass(frozen=True, slots=True)
class Negatives:
    """Generated items (the ``items.jsonl`` layout plus ``split_key``: what the tuning / check split is made by)
    and the negative pairs ``{pair_id, ids, kind, split_key}`` between them and the development items."""

    items: list[dict[str, Any]]
    pairs: list[dict[str, Any]]


def _words(text: str) -> int:
    return len(_WORD.findall(text))


def _shingles(text: str, k: int = 5) -> set[str]:
    tokens = _WORD.findall(unicodedata.normalize("NFKC", text).casefold())
    return {" ".join(tokens[i : i + k]) for i in range(max(1, len(tokens) - k + 1))}


def _key(value: str) -> str:
    return hashlib.sha1(value.encode()).hexdigest()


def load_pages(data: Path, known_texts: list[str], limit: int = PAGE_LIMIT) -> list[Page]:
    """Return up to ``limit`` bench pages (``data/bench/manifest.jsonl``, first by the hash of their id) whose
    extracted text has at least ``MIN_HOST_PARAGRAPHS`` prose paragraphs and overlaps neither ``known_texts``
    nor a page taken before it."""
    import py3langid
    import trafilatura

    known: set[str] = set()
    for text in known_texts:
        known |= _shingles(text)
    rows = [json.loads(line) for line in (data / "bench" / "manifest.jsonl").open(encoding="utf-8")]
    rows.sort(key=lambda r: _key(r["id"]))
    pages: list[Page] = []
    for row in rows:
        if len(pages) >= limit:
            break
        html = gzip.decompress((data / row["path"]).read_bytes()).decode("utf-8", "replace")
        text = trafilatura.extract(html, include_comments=False, include_tables=False) or ""
        paragraphs = [p.strip() for p in text.split("\n") if _words(p) >= 8]
        if len(paragraphs) < MIN_HOST_PARAGRAPHS:
            continue
        sh = _shingles(text)
        if len(sh & known) > MAX_OVERLAP * len(sh):
            continue
        date = _DATE.search(row["id"])
        language = py3langid.classify(text[:2000])[0]
        pages.append(Page(row["id"], date.group(1) if date else None, language, paragraphs))
        # Two captures of one article are different pages with one text: the second is left out too.
        known |= sh
    return pages


def _host(page: Page, rng: random.Random) -> list[str]:
    """Return the host paragraphs: half the time a brief (the first 2-3 paragraphs), else up to 12."""
    if rng.random() < 0.5:
        return list(page.paragraphs[: rng.choice((2, 3))])
    return list(page.paragraphs[:12])


def _insert(host: list[str], paragraph: str, position: str, rng: random.Random) -> list[str]:
    if position == "start":
        return [paragraph, *host]
    if position == "end":
        return [*host, paragraph]
    at = rng.randint(1, max(1, len(host) - 1))
    return [*host[:at], paragraph, *host[at:]]


def _quote(paragraphs: list[str], rng: random.Random) -> str | None:
    """Return a quoted sentence of 8-45 words from ``paragraphs`` (else a long plain sentence), or None."""
    sentences = [s.strip() for p in paragraphs for s in _SENTENCE.split(p) if 8 <= _words(s) <= 45]
    quoted = [s for s in sentences if _QUOTE.search(s)]
    pool = quoted or [s for s in sentences if _words(s) >= 15]
    return rng.choice(pool) if pool else None


def _boilerplate(rng: random.Random, take: Callable[[str | None], Page]) -> str:
    """Return a standard paragraph: a made-up template, or (one time in four) the longest paragraph of a real
    page, playing the part of an agency's standard text."""
    if rng.random() < 0.25:
        return max(take(None).paragraphs, key=_words)
    template = rng.choice(_BOILERPLATE)
    return template.format(**{k: rng.choice(v) for k, v in _FILL.items()})


def _item(n: int, paragraphs: list[str], split_key: str, language: str | None, date: str | None) -> dict[str, Any]:
    first = _WORD.findall(paragraphs[0])[:9]
    return {
        "id": f"x{n:04d}",
        "url": f"https://www.outlet-{n:04d}.example/news/{n}",
        "title": " ".join(first).capitalize(),
        "text": "\n\n".join(paragraphs),
        "published_at": f"{date}T09:00:00+00:00" if date else None,
        "outlet": f"outlet-{n:04d}.example",
        "language": language,
        "split_key": split_key,
    }


def _stories(items: dict[str, dict[str, Any]], groups: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """Return (story id, original item) of every development story with at least 5 paragraphs."""
    out: list[tuple[str, dict[str, Any]]] = []
    grouped = {iid for g in groups for iid in g["ids"]}
    for g in groups:
        out.append((g["group_id"], items[g["original_id"]]))
    for iid, item in items.items():
        if iid not in grouped:
            out.append((iid, item))
    return [(s, it) for s, it in out if len([p for p in it["text"].split("\n\n") if _words(p) >= 8]) >= 5]


def generate(
    items: dict[str, dict[str, Any]], groups: list[dict[str, Any]], pages: list[Page], seed: int = SEED
) -> Negatives:
    """Return the generated negatives (see the module docstring); deterministic for ``seed`` and the inputs.

    Every bench page is used at most once (two generated items built on one page would be copies of each other),
    and a generated item's ``split_key`` is the story of the development item it is paired with (so it falls in
    that story's part of the tuning / check split), else its pair's own key.
    """
    rng = random.Random(seed)
    stories = _stories(items, groups)
    rng.shuffle(stories)
    originals = [
        Page(it["id"], (it.get("published_at") or "")[:10] or None, it.get("language"), it["text"].split("\n\n"))
        for _, it in stories
    ]
    story_of = {it["id"]: story for story, it in stories}
    topic_pairs = _same_topic_pairs(pages, originals, rng)
    used: set[str] = set()
    chosen_topics: list[tuple[Page, Page]] = []
    for a, b in topic_pairs:
        if len(chosen_topics) >= COUNTS["same_topic"] or a.page_id in used or b.page_id in used:
            continue
        chosen_topics.append((a, b))
        used |= {a.page_id, b.page_id}
    free = [p for p in pages if p.page_id not in used]
    rng.shuffle(free)
    new_items: list[dict[str, Any]] = []
    pairs: list[dict[str, Any]] = []

    def add(paragraphs: list[str], split_key: str, language: str | None, date: str | None) -> str:
        item = _item(len(new_items) + 1, paragraphs, split_key, language, date)
        new_items.append(item)
        return str(item["id"])

    def take(language: str | None) -> Page:
        """Return an unused page, of ``language`` when one is left."""
        if not free:
            raise ValueError("not enough bench pages for the generated negatives: raise PAGE_LIMIT")
        return free.pop(next((i for i, p in enumerate(free) if language is None or p.language == language), 0))

    story_iter = iter(stories * 3)
    for position in POSITIONS:
        for _ in range(COUNTS["background"]):
            story, original = next(story_iter)
            paras = [p for p in original["text"].split("\n\n") if _words(p) >= 8]
            shared = rng.choice(paras[2:-1])
            host = _insert(_host(take(original.get("language")), rng), shared, position, rng)
            date = (original.get("published_at") or "")[:10] or None
            new = add(host, story, original.get("language"), date)
            pairs.append({"ids": [original["id"], new], "kind": f"background_{position}", "split_key": story})
    made = 0
    while made < COUNTS["shared_quote"]:
        story, original = next(story_iter)
        quote = _quote(original["text"].split("\n\n"), rng)
        if quote is None:
            continue
        host = _host(take(original.get("language")), rng)
        at = rng.randrange(len(host))
        if rng.random() < 0.5:
            host[at] = f"{host[at]} {quote}"
        else:
            host.insert(at, quote)
        new = add(host, story, original.get("language"), None)
        pairs.append({"ids": [original["id"], new], "kind": "shared_quote", "split_key": story})
        made += 1
    for k in range(COUNTS["shared_boilerplate"]):
        standard = _boilerplate(rng, take)
        key = f"boilerplate-{k}"
        ids = [add([*_host(page, rng), standard], key, page.language, page.date) for page in (take(None), take(None))]
        pairs.append({"ids": ids, "kind": "shared_boilerplate", "split_key": key})
    for a, b in chosen_topics:
        key = story_of.get(a.page_id) or story_of.get(b.page_id) or f"topic-{a.page_id}"
        ids = [
            page.page_id if page.page_id in items else add(page.paragraphs[:12], key, page.language, page.date)
            for page in (a, b)
        ]
        pairs.append({"ids": ids, "kind": "same_topic", "split_key": key})
    for n, pair in enumerate(pairs, 1):
        pair["pair_id"] = f"gen{n:04d}"
    return Negatives(new_items, pairs)


def _same_topic_pairs(pages: list[Page], originals: list[Page], rng: random.Random) -> list[tuple[Page, Page]]:
    """Return pairs (at least one of them a bench page) of texts sharing at least four rare names and almost no
    5-shingles (so not copies of each other), in a seeded order. A name is a capitalised word that follows a
    lower-case word or a comma (so not a sentence's first word) and is rare: in two or three texts of the pool.
    The pool holds almost no two pages of one day that are not the dedup set's own sources, so the day is not
    required: these are different stories on the same topic, the nearest the data comes to one event reported
    twice."""
    pool = [*pages, *originals]
    names = {p.page_id: set(_NAME.findall(" ".join(p.paragraphs))) for p in pool}
    frequency = Counter(n for found in names.values() for n in found)
    bench_ids = {p.page_id for p in pages}
    out: list[tuple[Page, Page]] = []
    for i, a in enumerate(pool):
        for b in pool[i + 1 :]:
            if a.page_id not in bench_ids and b.page_id not in bench_ids:
                continue
            rare = {n for n in names[a.page_id] & names[b.page_id] if frequency[n] <= 3}
            if len(rare) < 4:
                continue
            sa, sb = _shingles(" ".join(a.paragraphs)), _shingles(" ".join(b.paragraphs))
            if len(sa & sb) < 0.05 * min(len(sa), len(sb)):
                out.append((a, b))
    rng.shuffle(out)
    return out
