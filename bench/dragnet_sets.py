"""Annotated sets drawn from the Dragnet pages, kept as pointers: a set stores offsets, never the text.

The Dragnet gold texts (``../shared/data/extraction-dragnet``) are AGPL-3.0 and may not be copied into this
repository, so ``bench/data/figures_fresh5.jsonl`` and ``bench/data/entities_fresh2.jsonl`` hold, for each
sentence, the page id and the sentence's offset and length in the page's gold ``article``, and, for each
annotation, its span in the sentence (a figure's object too). :func:`resolve_rows` and :func:`sentence_text` read
the gold text from ``../shared``, so the scorers see the same rows as from any other set.

    python -m bench.dragnet_sets figures_fresh5      # prints a draw as JSON lines
    python -m bench.dragnet_sets entities_fresh2
    python -m bench.dragnet_sets figures_fresh6
    python -m bench.dragnet_sets entities_fresh3
    python -m bench.dragnet_sets figures_fresh7

The figures draw (see ``bench/data/figures_fresh5.md``): pages in the order of ``random.Random(seed)`` over their
sorted ids; per page, the lines of the gold text split into sentences, the candidate sentences (a digit or a
number word) in a seeded random order, the first three taken, plus with probability 1/4 one sentence without a
candidate; pages with no candidate sentence give nothing; the walk stops at the page that reaches the target.
An entities draw (``bench/data/entities_fresh2.md``) walks the pages the same way with its own seed and takes
three sentences of each page at random, whatever they hold. Every draw of :data:`DRAWS` skips the pages of the
draws listed before it, so no page serves two sets.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import sys
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

from bench import SHARED_DATA

DRAGNET = SHARED_DATA / "extraction-dragnet"

_NUMBER_WORD = re.compile(
    r"\b(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|"
    r"seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundreds?|thousands?|"
    r"millions?|billions?|trillions?|dozens?|half|thirds?|quarters?|first|second|third|fourth|fifth|sixth|"
    r"seventh|eighth|ninth|tenth)\b",
    re.IGNORECASE,
)
# A sentence ends after . ! ? (and closing quotes or brackets) before whitespace and a capital, digit, quote or
# opening bracket, unless the word before the stop is an abbreviation or a single initial.
_BOUNDARY = re.compile(r"[.!?][\"'”’)\]]*\s+(?=[A-Z0-9\"“‘(\[])")
_ABBREV = re.compile(
    r"(?:\b(?:Mr|Mrs|Ms|Dr|St|Gov|Sen|Rep|Gen|Lt|Col|Sgt|Capt|Prof|Jr|Sr|Inc|Corp|Co|Ltd|No|vs|etc|"
    r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|Ave|Mt|Ft)|\b[A-Z]|(?:[A-Za-z]\.)+[A-Za-z])[.]$"
)
MIN_CHARS = 25


@cache
def articles() -> dict[str, str]:
    """Return the gold article text of every Dragnet page, by page id."""
    out: dict[str, str] = {}
    with (DRAGNET / "truth.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            out[str(row["id"])] = row["article"]
    return out


def split_sentences(article: str) -> Iterator[tuple[int, int]]:
    """Yield ``(offset, length)`` of each sentence: lines first, then sentence stops that are no abbreviation."""
    pos = 0
    for line in article.splitlines(keepends=True):
        start = pos
        pos += len(line)
        body = line.rstrip("\r\n")
        cut = 0
        for m in _BOUNDARY.finditer(body):
            if _ABBREV.search(body[cut : m.start() + 1]):
                continue
            yield from _trimmed(body, start, cut, m.start() + len(m.group(0).rstrip()))
            cut = m.end()
        yield from _trimmed(body, start, cut, len(body))


def _trimmed(body: str, base: int, begin: int, end: int) -> Iterator[tuple[int, int]]:
    """Yield the span ``body[begin:end]`` without its outer whitespace, as an offset into the article."""
    piece = body[begin:end]
    lead = len(piece) - len(piece.lstrip())
    piece = piece.strip()
    if piece:
        yield base + begin + lead, len(piece)


def is_candidate(sentence: str) -> bool:
    """Return True when a sentence may hold a figure: a digit or a number word."""
    return any(ch.isdigit() for ch in sentence) or bool(_NUMBER_WORD.search(sentence))


def page_url(page_id: str) -> str | None:
    """Return the page's canonical or og:url address when its HTML states one (the outlet's country comes from it)."""
    with gzip.open(DRAGNET / "html" / f"{page_id}.html.gz") as fh:
        html = fh.read().decode("utf-8", "replace")
    for pat in (
        r"<link[^>]+rel=[\"']canonical[\"'][^>]*href=[\"']([^\"']+)",
        r"property=[\"']og:url[\"'][^>]*content=[\"']([^\"']+)",
        r"content=[\"']([^\"']+)[\"'][^>]*property=[\"']og:url",
    ):
        m = re.search(pat, html)
        if m:
            return m.group(1)
    return None


Pick = Callable[[str, str, list[tuple[int, int]]], list[tuple[int, int]]]


def _walk(seed: int, target: int, skip: set[str], pick: Pick) -> list[dict[str, Any]]:
    """Walk the pages in the seed's order (``skip`` left out) and take the sentences ``pick`` chooses from each
    page's sentences of at least :data:`MIN_CHARS`, in text order, until ``target`` sentences are drawn."""
    texts = articles()
    ids = [p for p in sorted(texts) if p not in skip]
    random.Random(seed).shuffle(ids)
    out: list[dict[str, Any]] = []
    for page in ids:
        article = texts[page]
        picked = pick(page, article, [(o, n) for o, n in split_sentences(article) if n >= MIN_CHARS])
        if not picked:
            continue
        url = page_url(page)
        for o, n in sorted(picked):
            out.append({"page": page, "char_offset": o, "length": n, "url": url, "text": article[o : o + n]})
        if len(out) >= target:
            break
    return out


def draw(seed: int, target: int, skip: set[str] | frozenset[str] = frozenset()) -> list[dict[str, Any]]:
    """Return a figures draw in draw order (page order, then text order within a page)."""

    def pick(page: str, article: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
        cands = [s for s in spans if is_candidate(article[s[0] : s[0] + s[1]])]
        if not cands:
            return []
        picked = random.Random(f"{seed}:{page}").sample(cands, len(cands))[:3]
        others = [s for s in spans if s not in cands]
        rng = random.Random(f"{seed}:none:{page}")
        if others and rng.random() < 0.25:
            picked.append(rng.choice(others))
        return picked

    return _walk(seed, target, set(skip), pick)


def draw_entities(seed: int, target: int, skip: set[str] | frozenset[str] = frozenset()) -> list[dict[str, Any]]:
    """Return sentences for an entity set: three random sentences per page, pages in ``skip`` left out."""

    def pick(page: str, _article: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
        return random.Random(f"{seed}:{page}").sample(spans, min(3, len(spans)))

    return _walk(seed, target, set(skip), pick)


# The committed sets, in the order they were drawn: (set name, kind, seed, sentences).
DRAWS: tuple[tuple[str, str, int, int], ...] = (
    ("figures_fresh5", "figures", 20261210, 240),
    ("entities_fresh2", "entities", 20261211, 200),
    ("figures_fresh6", "figures", 20261212, 240),
    ("entities_fresh3", "entities", 20261213, 200),
    ("figures_fresh7", "figures", 20261214, 240),
    ("figures_fresh8", "figures", 20261215, 240),
    ("entities_fresh4", "entities", 20261216, 200),
    ("figures_fresh9", "figures", 20261217, 240),
    ("entities_fresh5", "entities", 20261218, 200),
)


def draw_set(name: str) -> list[dict[str, Any]]:
    """Return the draw of a set of :data:`DRAWS`, skipping the pages of every draw listed before it."""
    skip: set[str] = set()
    for set_name, kind, seed, target in DRAWS:
        rows = (draw if kind == "figures" else draw_entities)(seed, target, skip)
        if set_name == name:
            return rows
        skip |= {r["page"] for r in rows}
    raise KeyError(name)


def sentence_text(row: dict[str, Any]) -> str:
    """Return a row's sentence: its own ``text``, or the slice of the Dragnet gold text it points to."""
    if "text" in row:
        return str(row["text"])
    src = row.get("source") or row
    return articles()[str(src["dragnet_page"])][src["char_offset"] : src["char_offset"] + src["length"]]


def resolve_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Fill ``text``, mention ``text`` and ``object`` from the gold text for rows that point into Dragnet pages."""
    out = []
    for row in rows:
        src = row.get("source") or {}
        if "dragnet_page" not in src or "text" in row:
            out.append(row)
            continue
        text = sentence_text(row)
        mentions = []
        for m in row["mentions"]:
            obj = m.get("object_span")
            phrase = text[obj[0] : obj[1]] if obj else None
            mentions.append({**m, "text": text[m["start"] : m["end"]], "object": phrase})
        out.append({**row, "text": text, "mentions": mentions})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("set", choices=[name for name, *_ in DRAWS])
    args = ap.parse_args()
    for row in draw_set(args.set):
        sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    main()
