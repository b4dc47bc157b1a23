"""Figures on whole real pages: how many per page, how many in tables, and the ones to check by hand.

    python -m bench.figures_pages [--list bench/figures_pages.txt] [--money 40] [--all-money]
    python -m bench.figures_pages --make-list [--seed 20260620] [--pages 200]   # draw the page list again

The development sets score sentences; this runs the stage the way an ingest does, on whole pages: each page of
the list (manifest ids of ``../shared/data/bench/manifest.jsonl``) is cleaned (:func:`tasks.clean.clean_item`,
in this process) and analysed (:func:`tasks.nlp.analyze_articles`, entities and figures), and it prints

* figures per page (max and median), over all figures and over prose figures alone (not ``in_table``), and the
  share of figures found in tables;
* every money figure over one million in prose with its sentence and ``object``, for checking objects by hand
  (a sample with ``--money N``, every one with ``--all-money``);
* every figure whose surroundings look like something that is no figure: a piece of a phone number, a number
  inside a product or model code, a citation marker. These checks are this script's own, written apart from the
  stage's rules, so that they can catch what the rules let through.

The list: ``--make-list`` sorts the manifest's ids, leaves out every page named in ``bench/data/README.md`` (the
pages of the held-out, fresh and relative-date sets) and the pages of ``bench/data/figures_dev2.jsonl``,
shuffles them with ``random.Random(seed)`` and keeps, in that order, the pages that clean to an English article
(language as the clean stage decides it) until ``--pages`` are found; when the English pages run out first (the
pages used before took most of them), the first pages in other languages fill the list, which then shows that
the stage leaves them alone. Prints, and with ``--make-list`` writes the list.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import statistics
import sys
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import SHARED_DATA

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tasks.clean import CleanOptions, clean_item
from tasks.nlp import NlpOptions, analyze_articles
from tasks.records import Article, Figure, RawItem

HERE = Path(__file__).resolve().parent
LIST = HERE / "figures_pages.txt"
FETCHED = datetime(2026, 6, 20, tzinfo=UTC)
SEED = 20260620

# A phone number: an optional country code and area code, then two or three groups of digits.
_PHONE = re.compile(r"(?<![\w.,])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{2,5}\)\s?|\d{2,5}[\s.-])\d{3,4}[\s.-]\d{3,5}(?![\w])")
# A token mixing letters and digits ("XR-7", "K5", "GT500"), or a capitalised code word right before the number.
_CODE_TOKEN = re.compile(r"[A-Za-z]+[-‑]?[A-Za-z]*\d[\w-]*|\d+[A-Za-z]+\d[\w-]*")
_CODE_WORD_BEFORE = re.compile(r"(?:^|\s)[A-Z]{2,5}\s$")
_CITATION = re.compile(r"\[\s*\d{1,3}(?:\s*[,–-]\s*\d{1,3})*\s*\]")


def _manifest() -> dict[str, dict[str, Any]]:
    rows = (json.loads(line) for line in (SHARED_DATA / "bench" / "manifest.jsonl").read_text().splitlines() if line)
    return {row["id"]: row for row in rows}


def _article(row: dict[str, Any]) -> Article | None:
    payload = gzip.decompress((SHARED_DATA / row["path"]).read_bytes())
    item = RawItem(item_key=row["id"], source_uri=row["id"], payload=payload, kind="html", fetched_at=FETCHED,
                   url=row.get("url"))  # fmt: skip
    result = clean_item(item, CleanOptions(workers=0))
    return result if isinstance(result, Article) else None


def _left_out() -> set[str]:
    """Return the ids of pages already used for figures development or checking."""
    named = (HERE / "data" / "README.md").read_text(encoding="utf-8")
    ids = set(re.findall(r"`([a-z]+-[\w.-]+)`", named))
    dev2 = HERE / "data" / "figures_dev2.jsonl"
    if dev2.exists():
        for line in dev2.read_text(encoding="utf-8").splitlines():
            if line.strip():
                ids.add(json.loads(line)["source"]["manifest_id"])
    return ids


def make_list(seed: int, n_pages: int) -> list[str]:
    """Return ``n_pages`` manifest ids drawn as the module docstring says."""
    manifest = _manifest()
    left_out = _left_out()
    ids = sorted(i for i in manifest if i not in left_out)
    random.Random(seed).shuffle(ids)
    english: list[str] = []
    others: list[str] = []
    for page_id in ids:
        art = _article(manifest[page_id])
        if art is not None:
            (english if (art.language or "").split("-")[0] == "en" else others).append(page_id)
        if len(english) == n_pages:
            break
    return english + others[: n_pages - len(english)]


def suspicious(text: str, f: Figure) -> str | None:
    """Return why ``f`` may be no figure (``phone``, ``code``, ``citation``), judged from the text around it."""
    s, e = f.start_char, f.end_char
    for m in _PHONE.finditer(text, max(0, s - 20), min(len(text), e + 20)):
        if m.start() <= s and e <= m.end() and not re.search(r"[,$%£€]", m.group(0)):
            return "phone"
    left = re.search(r"\S*$", text[max(0, s - 30) : s])
    right = re.match(r"\S*", text[e : e + 30])
    token = (left.group(0) if left else "") + text[s:e] + (right.group(0) if right else "")
    token = token.strip(".,;:!?()\"“”'’")
    glued = token != f.text and not f.text[0].isalpha()  # letters outside the figure's own span ("R6" in "YZF-R6")
    if (
        glued
        and " " not in f.text
        and _CODE_TOKEN.fullmatch(token)
        and not re.fullmatch(r"(?:(?:mid|early|late|pre|post)[-‑])?\d+(?:st|nd|rd|th|s)", token)
    ):
        return "code"
    if f.kind == "count" and _CODE_WORD_BEFORE.search(text[max(0, s - 8) : s]):
        return "code"
    for m in _CITATION.finditer(text, max(0, s - 12), min(len(text), e + 12)):
        if m.start() <= s and e <= m.end():
            return "citation"
    return None


def _short(sentence: str | None, width: int = 220) -> str:
    flat = re.sub(r"\s+", " ", sentence or "").strip()
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _around(f: Figure, width: int = 110) -> str:
    """Return the words of the figure's sentence around it (``width`` characters on each side)."""
    sentence = f.sentence or f.text
    at = sentence.find(f.text)
    if at < 0:
        return _short(sentence, 2 * width)
    left = sentence[max(0, at - width) : at]
    right = sentence[at + len(f.text) : at + len(f.text) + width]
    return _short(("…" if at > width else "") + left + "[" + f.text + "]" + right, 3 * width)


def report(pages: Iterable[tuple[str, Article, list[Figure]]], money_sample: int | None) -> None:
    """Print the statistics of the module docstring."""
    per_page: list[int] = []
    per_page_prose: list[int] = []
    biggest: list[tuple[int, str]] = []
    biggest_prose: list[tuple[int, str]] = []
    in_table = 0
    money: list[tuple[str, Figure]] = []
    odd: list[tuple[str, str, str, Figure]] = []
    ambiguous = sources = 0
    source_counts: dict[str, int] = {}
    for page_id, art, figs in pages:
        table = [f for f in figs if getattr(f, "in_table", None)]
        prose = [f for f in figs if not getattr(f, "in_table", None)]
        per_page.append(len(figs))
        per_page_prose.append(len(prose))
        biggest.append((len(figs), page_id))
        biggest_prose.append((len(prose), page_id))
        in_table += len(table)
        for f in figs:
            if f.kind == "money":
                ambiguous += bool(f.currency_ambiguous)
                src = getattr(f, "currency_source", None) or "-"
                source_counts[src] = source_counts.get(src, 0) + 1
                sources += 1
            if f.kind == "money" and f.value is not None and f.value > 1e6 and not getattr(f, "in_table", None):
                money.append((page_id, f))
            why = suspicious(art.text, f)
            if why is not None:
                odd.append((why, page_id, art.text[max(0, f.start_char - 40) : f.end_char + 40], f))
    total = sum(per_page)
    print(f"{len(per_page)} pages, {total} figures; prose {sum(per_page_prose)}, in tables {in_table} "
          f"({100 * in_table / max(total, 1):.1f} %)")  # fmt: skip
    print(f"figures per page: max {max(per_page, default=0)}, median {statistics.median(per_page or [0]):.0f}; "
          f"prose figures per page: max {max(per_page_prose, default=0)}, "
          f"median {statistics.median(per_page_prose or [0]):.0f}")  # fmt: skip
    print("pages with the most figures: " + ", ".join(f"{i} ({n})" for n, i in sorted(biggest, reverse=True)[:5]))
    print("pages with the most prose figures: "
          + ", ".join(f"{i} ({n})" for n, i in sorted(biggest_prose, reverse=True)[:5]))  # fmt: skip
    print(f"money figures: {sources}, currency_ambiguous {ambiguous}; currency_source "
          + ", ".join(f"{k} {v}" for k, v in sorted(source_counts.items())))  # fmt: skip
    shown = money if money_sample is None else random.Random(SEED).sample(money, min(money_sample, len(money)))
    shown.sort(key=lambda pair: (pair[0], pair[1].start_char))
    print(
        f"\nmoney over one million in prose: {len(money)}" + ("" if money_sample is None else f", {len(shown)} shown")
    )
    for page_id, f in shown:
        print(f"  [{page_id}] {f.text!r} = {f.value:.4g} {f.unit} ({getattr(f, 'currency_source', None)})"
              f"  object={f.object!r}")  # fmt: skip
        print(f"      {_around(f)}")
    print(f"\nlooks like no figure: {len(odd)}")
    for why, page_id, around, f in sorted(odd, key=lambda x: (x[0], x[1])):
        print(f"  {why:<8} [{page_id}] {f.text!r} {f.kind}  …{_short(around, 100)}…")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--list", type=Path, default=LIST)
    ap.add_argument("--make-list", action="store_true", help="draw the page list again and write it to --list")
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--pages", type=int, default=200)
    ap.add_argument("--money", type=int, default=40, help="how many money figures over one million to show")
    ap.add_argument("--all-money", action="store_true", help="show every money figure over one million")
    ap.add_argument("--model", default="en_core_web_sm")
    args = ap.parse_args()

    if args.make_list:
        ids = make_list(args.seed, args.pages)
        args.list.write_text("".join(f"{i}\n" for i in ids), encoding="utf-8")
        print(f"wrote {len(ids)} page ids to {args.list}")
        return
    manifest = _manifest()
    ids = [line.strip() for line in args.list.read_text(encoding="utf-8").splitlines() if line.strip()]
    t0 = time.perf_counter()
    articles = [a for a in (_article(manifest[i]) for i in ids) if a is not None]
    t1 = time.perf_counter()
    analyses = analyze_articles(articles, NlpOptions(model=args.model))
    t2 = time.perf_counter()
    print(f"cleaned {len(articles)}/{len(ids)} pages in {t1 - t0:.0f} s, analysed in {t2 - t1:.0f} s")
    report(((a.item_key, a, an.figures) for a, an in zip(articles, analyses, strict=True)),
           None if args.all_money else args.money)  # fmt: skip


if __name__ == "__main__":
    main()
