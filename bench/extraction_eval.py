"""Main-text quality, metadata and speed of the clean stage against trafilatura, in one run.

Quality: the 262 pages of ``data/extraction`` with must / must-not snippets, scored by the rule in its README
(NFC, whitespace runs to one space, case-sensitive substring; a page passes when every ``with`` snippet is found
and no ``without`` snippet is). Metadata: coverage (share of pages with a title, date, timezone, author,
language) and accuracy against the expectations (title exact after normalisation, date on the calendar day,
authors as a set, language). Speed: pages/s on ``data/bench`` (``--limit N`` pages), one core, in this process;
mediawatch also through ``clean_items`` with its worker processes.

    python -m bench.extraction_eval [--data ../shared/data] [--limit 300] [--failures mediawatch]
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import time
import unicodedata
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import SHARED_DATA

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import trafilatura

from tasks.clean import CleanOptions, clean_item, clean_items
from tasks.records import Article, RawItem

_WS = re.compile(r"\s+")
FETCHED = datetime(2026, 6, 1, tzinfo=UTC)
# Norwegian is labelled "no" by some pages and "nb" (Bokmål) by others.
_SAME_LANGUAGE = {"nb": "no", "nn": "no"}


def norm(text: str) -> str:
    return _WS.sub(" ", unicodedata.normalize("NFC", text)).strip()


@dataclass
class Output:
    """What one system returned for one page, reduced to what is scored."""

    text: str = ""
    title: str | None = None
    date: str | None = None  # YYYY-MM-DD (UTC when a timezone was known)
    tz_known: bool = False
    authors: tuple[str, ...] = ()
    language: str | None = None
    seconds: float = 0.0


@dataclass
class Tally:
    pages: int = 0
    passed: int = 0
    with_total: int = 0
    with_found: int = 0
    without_total: int = 0
    without_absent: int = 0
    seconds: float = 0.0

    def add(self, expectation: dict[str, Any], text: str) -> bool:
        body = norm(text)
        found = sum(norm(s) in body for s in expectation["with"])
        absent = sum(norm(s) not in body for s in expectation["without"])
        ok = found == len(expectation["with"]) and absent == len(expectation["without"])
        self.pages += 1
        self.passed += ok
        self.with_total += len(expectation["with"])
        self.with_found += found
        self.without_total += len(expectation["without"])
        self.without_absent += absent
        return ok

    def row(self) -> tuple[str, str, str, str]:
        snippets = self.with_total + self.without_total
        return (
            pct(self.passed, self.pages),
            pct(self.with_found, self.with_total),
            pct(self.without_absent, self.without_total),
            pct(self.with_found + self.without_absent, snippets),
        )


@dataclass
class MetaTally:
    pages: int = 0
    have: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    right: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    expected: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}" if whole else "-"


def item_for(page_id: str, url: str | None, payload: bytes) -> RawItem:
    return RawItem(item_key=page_id, source_uri=page_id, payload=payload, kind="html", fetched_at=FETCHED, url=url)


def run_mediawatch(options: CleanOptions) -> Callable[[str, str | None, bytes], Output]:
    def run(page_id: str, url: str | None, payload: bytes) -> Output:
        start = time.perf_counter()
        result = clean_item(item_for(page_id, url, payload), options)
        seconds = time.perf_counter() - start
        if not isinstance(result, Article):
            return Output(seconds=seconds)
        date = result.published_at.strftime("%Y-%m-%d") if result.published_at else None
        return Output(
            text=result.text,
            title=result.title,
            date=date,
            tz_known=bool(result.published_tz_known),
            authors=result.authors,
            language=result.language,
            seconds=seconds,
        )

    return run


def run_trafilatura(**settings: Any) -> Callable[[str, str | None, bytes], Output]:
    def run(page_id: str, url: str | None, payload: bytes) -> Output:
        start = time.perf_counter()
        doc = trafilatura.bare_extraction(payload, url=url, with_metadata=True, **settings)
        seconds = time.perf_counter() - start
        if doc is None:
            return Output(seconds=seconds)
        authors = tuple(a.strip() for a in re.split(r";", doc.author or "") if a.strip())
        return Output(
            text=doc.text or "",
            title=doc.title,
            date=doc.date,
            tz_known=False,
            authors=authors,
            language=doc.language,
            seconds=seconds,
        )

    return run


def expected_day(value: str | None) -> str | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return value[:10]
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC)
    return parsed.strftime("%Y-%m-%d")


def score_metadata(tally: MetaTally, expectation: dict[str, Any], out: Output) -> None:
    tally.pages += 1
    have = {
        "title": bool(out.title),
        "date": bool(out.date),
        "timezone": out.tz_known,
        "author": bool(out.authors),
        "language": bool(out.language),
    }
    for key, value in have.items():
        tally.have[key] += value
    if expectation.get("title"):
        tally.expected["title"] += 1
        tally.right["title"] += norm(out.title or "") == norm(expectation["title"])
    if expectation.get("date"):
        tally.expected["date"] += 1
        tally.right["date"] += out.date is not None and out.date == expected_day(expectation["date"])
    if expectation.get("authors"):
        tally.expected["author"] += 1
        tally.right["author"] += {norm(a).casefold() for a in out.authors} == {
            norm(a).casefold() for a in expectation["authors"]
        }
    if expectation.get("language"):
        tally.expected["language"] += 1
        want = _SAME_LANGUAGE.get(expectation["language"], expectation["language"])
        tally.right["language"] += _SAME_LANGUAGE.get(out.language or "", out.language) == want


def print_table(headers: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=SHARED_DATA)
    parser.add_argument("--limit", type=int, default=300, help="bench pages for the speed run (0: skip)")
    parser.add_argument("--failures", default="", help="print the failing pages of this system")
    parser.add_argument("--workers", type=int, default=2, help="worker processes for the clean_items run")
    args = parser.parse_args()

    options = CleanOptions(workers=0)
    systems: dict[str, Callable[[str, str | None, bytes], Output]] = {
        "mediawatch": run_mediawatch(options),
        "trafilatura default": run_trafilatura(),
        "trafilatura no_comments": run_trafilatura(include_comments=False),
        "trafilatura no_comments+precision": run_trafilatura(include_comments=False, favor_precision=True),
    }

    folder = args.data / "extraction"
    expectations = [json.loads(line) for line in (folder / "expectations.jsonl").open(encoding="utf-8")]
    tallies: dict[str, dict[str, Tally]] = {name: defaultdict(Tally) for name in systems}
    meta: dict[str, MetaTally] = {name: MetaTally() for name in systems}
    failures: list[str] = []
    for expectation in expectations:
        payload = gzip.decompress((folder / expectation["file"]).read_bytes())
        groups = ["all", f"source={expectation['source']}", f"lang={expectation['language']}"]
        for name, system in systems.items():
            out = system(expectation["id"], expectation["url"], payload)
            for group in groups:
                tallies[name][group].seconds += out.seconds
                ok = tallies[name][group].add(expectation, out.text)
            score_metadata(meta[name], expectation, out)
            if name == args.failures and not ok:
                body = norm(out.text)
                missing = [s for s in expectation["with"] if norm(s) not in body]
                leaked = [s for s in expectation["without"] if norm(s) in body]
                failures.append(f"{expectation['id']}: missing {missing} leaked {leaked}")

    groups = sorted(tallies["mediawatch"], key=lambda g: (g != "all", not g.startswith("source"), g))
    print(
        f"## Main text on {len(expectations)} pages of {folder} (pass %, with found %, without absent %, "
        "snippets satisfied %)\n"
    )
    rows = []
    for group in groups:
        for name in systems:
            tally = tallies[name][group]
            rows.append([group, str(tally.pages), name, *tally.row()])
    print_table(["class", "pages", "system", "pass", "with", "without", "snippets"], rows)

    print("## Metadata: coverage % of pages / accuracy % against the expectations\n")
    fields_ = ["title", "date", "timezone", "author", "language"]
    rows = []
    for name in systems:
        tally = meta[name]
        cells = []
        for key in fields_:
            cover = pct(tally.have[key], tally.pages)
            acc = pct(tally.right[key], tally.expected[key]) if key != "timezone" else "-"
            cells.append(f"{cover} / {acc}")
        rows.append([name, *cells])
    print_table(["system", *fields_], rows)

    if failures:
        print(f"## Failing pages of {args.failures}\n")
        print("\n".join(failures))
        print()

    if args.limit > 0:
        speed(args, systems, options)


def speed(
    args: argparse.Namespace, systems: dict[str, Callable[[str, str | None, bytes], Output]], options: CleanOptions
) -> None:
    manifest = [json.loads(line) for line in (args.data / "bench" / "manifest.jsonl").open(encoding="utf-8")]
    pages = [
        (row["id"], row["url"], gzip.decompress((args.data / row["path"]).read_bytes()))
        for row in manifest[: args.limit]
    ]
    megabytes = sum(len(p) for _, _, p in pages) / 1e6
    rows = []
    for name, system in systems.items():
        start = time.perf_counter()
        for page_id, url, payload in pages:
            system(page_id, url, payload)
        seconds = time.perf_counter() - start
        rows.append([name + " (1 core)", f"{len(pages) / seconds:.1f}", f"{megabytes / seconds:.2f}"])
    items = [item_for(page_id, url, payload) for page_id, url, payload in pages]
    pooled = replace(options, workers=args.workers)
    clean_items(items[:2], pooled)  # start the worker processes outside the timing
    start = time.perf_counter()
    articles, rejections = clean_items(items, pooled)
    seconds = time.perf_counter() - start
    rows.append(
        [
            f"mediawatch clean_items ({args.workers} workers)",
            f"{len(pages) / seconds:.1f}",
            f"{megabytes / seconds:.2f}",
        ]
    )
    reasons: dict[str, int] = defaultdict(int)
    for rejection in rejections:
        reasons[rejection.reason] += 1
    print(f"## Speed on {len(pages)} pages of {args.data / 'bench'} ({megabytes:.0f} MB)\n")
    print_table(["system", "pages/s", "MB/s"], rows)
    print(f"clean_items: {len(articles)} articles, rejections {dict(reasons)}")


if __name__ == "__main__":
    main()
