"""Whole-text precision and recall of main-text extraction, scored as the project is judged, on two sets.

Sets (read from the shared data at run time; nothing of them is copied here):
``dragnet`` — ``extraction-dragnet``: 966 English news, magazine and blog pages of 2012 with their gold main
text (AGPL); ``fundus`` — the 158 pages of ``extraction`` with a complete reference text (lead, sub-headings,
paragraphs), news of 2019-2026 in 13 languages, gold = those pieces joined by line breaks.

Scoring, by the sets' README: per page, lowercase both texts, take their ``\\w+`` tokens and compare the two
bags of words (multiset overlap): precision, recall and F1 per page, then the mean over pages. An empty output or
a rejected page scores 0. Speed: pages per CPU-second of each system (process time around the call, one page at
a time; for mediawatch the whole clean stage, metadata included).

Split: a page is *tuning* when the last hex digit of ``sha1(id)`` is below 10 (0-9, about 62 %), else *check*.
Rules and thresholds are set on the tuning part; the check part is the figure to quote.

Systems, each given the same text (every page is decoded once by :func:`tasks.decode.decode_bytes`):
``mediawatch`` (the clean stage, :func:`tasks.clean.clean_item` in-process; a rejection scores 0; ``--option
name=value`` changes a :class:`tasks.clean.CleanOptions` field, to measure what a rule adds),
``trafilatura`` (defaults), ``trafilatura_precision`` (``favor_precision``), ``trafilatura_recall``
(``favor_recall``), all three with comments off; ``readability`` (readability-lxml ``Document.summary()``,
then its text); ``justext`` (English stoplist, non-boilerplate paragraphs); ``resiliparse``
(``extract_plain_text(main_content=True)``, comments and alt texts off, as mediawatch runs it).

``--save FILE`` writes every page's scores (ids and numbers only); ``--compare FILE`` prints, per set, part and
page language (20+ pages), mediawatch's mean F1 against the saved mediawatch scores. ``--mediawatch-root DIR``
imports the clean stage from another checkout (how ``bench/data/maintext_before.json`` was made).

    python -m bench.maintext_eval [--data ../shared/data] [--sets dragnet,fundus] [--limit N]
        [--part tuning|check|both] [--systems mediawatch,trafilatura,...] [--option NAME=VALUE ...]
        [--failures SYSTEM N] [--save FILE] [--compare FILE] [--mediawatch-root DIR]
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import re
import sys
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.dont_write_bytecode = True  # the bench writes nothing into the repository tree
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import SHARED_DATA  # noqa: E402

FETCHED = datetime(2026, 6, 1, tzinfo=UTC)
# A page whose F1 differs from mediawatch's by more than this counts as worse or better.
MARGIN = 0.05
# A page language with fewer pages than this in a set part is not reported on its own.
MIN_LANGUAGE_PAGES = 20
_TOKEN = re.compile(r"\w+")

SETS = ("dragnet", "fundus")
SYSTEMS = (
    "mediawatch",
    "trafilatura",
    "trafilatura_precision",
    "trafilatura_recall",
    "readability",
    "justext",
    "resiliparse",
)


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a set: where its bytes are, its gold text and its declared language."""

    set: str
    id: str
    path: Path
    gold: str
    language: str


def load_pages(data: Path, sets: tuple[str, ...]) -> list[Page]:
    """Return the pages of ``sets``, each set's pages in id order."""
    pages: list[Page] = []
    if "dragnet" in sets:
        root = data / "extraction-dragnet"
        with (root / "truth.jsonl").open(encoding="utf-8") as lines:
            records = [json.loads(line) for line in lines]
        for r in sorted(records, key=lambda r: (len(r["id"]), r["id"])):
            pages.append(Page("dragnet", r["id"], root / "html" / f"{r['id']}.html.gz", r["article"], "en"))
    if "fundus" in sets:
        root = data / "extraction"
        with (root / "expectations.jsonl").open(encoding="utf-8") as lines:
            expected = {e["id"]: e for e in map(json.loads, lines)}
        with (root / "reference_text.jsonl").open(encoding="utf-8") as lines:
            for r in sorted(map(json.loads, lines), key=lambda r: r["id"]):
                gold = "\n".join([*r["lead"], *r["subheadings"], *r["paragraphs"]])
                e = expected[r["id"]]
                pages.append(Page("fundus", r["id"], root / e["file"], gold, e["language"]))
    return pages


def part_of(page_id: str) -> str:
    """Return ``tuning`` or ``check`` for a page id: tuning when sha1(id)'s last hex digit is 0-9 (10 of 16)."""
    return "tuning" if int(hashlib.sha1(page_id.encode()).hexdigest()[-1], 16) < 10 else "check"


def tokens(text: str) -> Counter[str]:
    """Return the bag of lowercased ``\\w+`` tokens of ``text``."""
    return Counter(_TOKEN.findall(text.lower()))


def score(output: Counter[str], gold: Counter[str]) -> tuple[float, float, float]:
    """Return (precision, recall, F1) of an output bag against a gold bag; empty output on non-empty gold is 0."""
    if not gold:
        return (1.0, 1.0, 1.0) if not output else (0.0, 0.0, 0.0)
    if not output:
        return 0.0, 0.0, 0.0
    overlap = sum((output & gold).values())
    precision = overlap / output.total()
    recall = overlap / gold.total()
    f1 = 2 * precision * recall / (precision + recall) if overlap else 0.0
    return precision, recall, f1


# ----------------------------------------------------------------------------------------------- systems

_BLOCK_TAGS = frozenset(
    re.findall(
        r"\w+",
        "address article aside blockquote br dd div dl dt figcaption figure footer h1 h2 h3 h4 h5 h6 header hr li "
        "main nav ol p pre section table td th tr ul",
    )
)


def html_text(fragment: str) -> str:
    """Return the text of an HTML fragment with block elements on their own lines (``text_content()`` would run
    "<p>end.</p><p>Next" together into one token "endnext")."""
    import lxml.html

    if not fragment.strip():
        return ""
    root = lxml.html.fromstring(fragment)
    parts: list[str] = []

    def walk(node: lxml.html.HtmlElement) -> None:
        block = isinstance(node.tag, str) and node.tag in _BLOCK_TAGS
        if block:
            parts.append("\n")
        if isinstance(node.tag, str) and node.text:
            parts.append(node.text)
        for child in node:
            walk(child)
            if child.tail:
                parts.append(child.tail)
        if block:
            parts.append("\n")

    walk(root)
    return "".join(parts)


# CleanOptions fields changed by --option (set in each worker process through the pool's initializer).
_OPTIONS: dict[str, Any] = {}


def _set_up_worker(root: str | None, options: dict[str, Any]) -> None:
    if root:
        sys.path.insert(0, root)
    _OPTIONS.update(options)


def run_mediawatch(text: str, page_id: str) -> str:
    from tasks.clean import CleanOptions, clean_item
    from tasks.records import Article, RawItem

    # The decoded text goes back in as UTF-8 bytes: decode_bytes reads valid UTF-8 (or ASCII) as the same text.
    item = RawItem(item_key=page_id, source_uri=page_id, payload=text.encode("utf-8"), kind="html", fetched_at=FETCHED)
    result = clean_item(item, CleanOptions(workers=0, **_OPTIONS))
    if isinstance(result, Article):
        return result.text
    raise RejectedError(result.reason)


def _trafilatura(*, precision: bool = False, recall: bool = False) -> Callable[[str, str], str]:
    def run(text: str, page_id: str) -> str:
        import trafilatura

        output = trafilatura.extract(
            text, include_comments=False, output_format="txt", favor_precision=precision, favor_recall=recall
        )
        return output or ""

    return run


def run_readability(text: str, page_id: str) -> str:
    from readability import Document

    return html_text(Document(text).summary())


def run_justext(text: str, page_id: str) -> str:
    import justext

    paragraphs = justext.justext(text, justext.get_stoplist("English"))
    return "\n".join(p.text for p in paragraphs if not p.is_boilerplate)


def run_resiliparse(text: str, page_id: str) -> str:
    from resiliparse.extract.html2text import extract_plain_text

    return str(extract_plain_text(text, main_content=True, comments=False, alt_texts=False))


RUNNERS: dict[str, Callable[[str, str], str]] = {
    "mediawatch": run_mediawatch,
    "trafilatura": _trafilatura(),
    "trafilatura_precision": _trafilatura(precision=True),
    "trafilatura_recall": _trafilatura(recall=True),
    "readability": run_readability,
    "justext": run_justext,
    "resiliparse": run_resiliparse,
}


class RejectedError(Exception):
    """A system refused the page (the clean stage's rejection reason in the message)."""


# ----------------------------------------------------------------------------------------------- running


@dataclass(frozen=True, slots=True)
class Result:
    """One system's score on one page."""

    precision: float
    recall: float
    f1: float
    output_tokens: int
    gold_tokens: int
    cpu_seconds: float
    note: str = ""  # rejection reason, error, or "empty"


def evaluate_page(job: tuple[Page, tuple[str, ...]]) -> tuple[Page, dict[str, Result]]:
    """Return the page and each system's :class:`Result` on it (run in a worker process)."""
    from tasks.decode import DecodeError, decode_bytes

    page, systems = job
    gold = tokens(page.gold)
    payload = gzip.decompress(page.path.read_bytes())
    try:
        text = decode_bytes(payload).text
    except DecodeError as exc:
        zero = Result(*score(Counter(), gold), 0, gold.total(), 0.0, f"decode_error: {exc}")
        return page, dict.fromkeys(systems, zero)
    results: dict[str, Result] = {}
    for name in systems:
        start = time.process_time()
        note = ""
        try:
            output = RUNNERS[name](text, page.id)
        except RejectedError as exc:
            output, note = "", f"rejected: {exc}"
        except Exception as exc:  # a baseline that crashes on a page scores 0 there, as a rejection would
            output, note = "", f"error: {type(exc).__name__}: {str(exc)[:80]}"
        seconds = time.process_time() - start
        bag = tokens(output)
        if not note and not bag:
            note = "empty"
        results[name] = Result(*score(bag, gold), bag.total(), gold.total(), seconds, note)
    return page, results


def mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def print_table(title: str, pages: list[Page], results: dict[str, dict[str, Result]], systems: tuple[str, ...]) -> None:
    print(f"\n{title}: {len(pages)} pages")
    header = f"{'system':<22} {'F1':>6} {'P':>6} {'R':>6} {'zero':>5} {'worse':>6} {'better':>6} {'pages/CPU-s':>12}"
    print(header)
    print("-" * len(header))
    keys = [f"{p.set}/{p.id}" for p in pages]
    for name in sorted(systems, key=lambda s: -mean([results[k][s].f1 for k in keys])):
        rows = [results[k][name] for k in keys]
        zero = sum(r.f1 == 0 for r in rows)
        if "mediawatch" in systems and name != "mediawatch":
            base = [results[k]["mediawatch"].f1 for k in keys]
            worse = str(sum(r.f1 < b - MARGIN for r, b in zip(rows, base, strict=True)))
            better = str(sum(r.f1 > b + MARGIN for r, b in zip(rows, base, strict=True)))
        else:
            worse = better = "-"
        cpu = sum(r.cpu_seconds for r in rows)
        speed = f"{len(rows) / cpu:.1f}" if cpu else "-"
        print(
            f"{name:<22} {mean([r.f1 for r in rows]):>6.3f} {mean([r.precision for r in rows]):>6.3f} "
            f"{mean([r.recall for r in rows]):>6.3f} {zero:>5} {worse:>6} {better:>6} {speed:>12}"
        )


def print_failures(system: str, count: int, pages: list[Page], results: dict[str, dict[str, Result]]) -> None:
    worst = sorted(pages, key=lambda p: (results[f"{p.set}/{p.id}"][system].f1, p.id))[:count]
    print(f"\n{count} worst pages for {system} (output and gold sizes in tokens)")
    print(f"{'set':<8} {'id':<40} {'part':<7} {'F1':>6} {'P':>6} {'R':>6} {'output':>7} {'gold':>7}  note")
    for page in worst:
        r = results[f"{page.set}/{page.id}"][system]
        print(
            f"{page.set:<8} {page.id:<40} {part_of(page.id):<7} {r.f1:>6.3f} {r.precision:>6.3f} {r.recall:>6.3f} "
            f"{r.output_tokens:>7} {r.gold_tokens:>7}  {r.note}"
        )


def groups(pages: list[Page]) -> list[tuple[str, list[Page]]]:
    """Return (label, pages) per set and part, and per page language with MIN_LANGUAGE_PAGES pages or more in
    the whole set and in each part."""
    out: list[tuple[str, list[Page]]] = []
    for name in SETS:
        whole = [p for p in pages if p.set == name]
        languages = Counter(p.language for p in whole)
        if len(languages) > 1:  # the whole set per language too: a part alone may hold too few pages of one
            for language, count in sorted(languages.items()):
                if count >= MIN_LANGUAGE_PAGES:
                    out.append((f"{name} all [{language}]", [p for p in whole if p.language == language]))
        for part in ("check", "tuning"):
            chosen = [p for p in pages if p.set == name and part_of(p.id) == part]
            if not chosen:
                continue
            out.append((f"{name} {part}", chosen))
            languages = Counter(p.language for p in chosen)
            if len(languages) > 1:
                for language, count in sorted(languages.items()):
                    if count >= MIN_LANGUAGE_PAGES:
                        out.append((f"{name} {part} [{language}]", [p for p in chosen if p.language == language]))
    return out


def compare(path: Path, pages: list[Page], results: dict[str, dict[str, Result]]) -> None:
    saved = json.loads(path.read_text(encoding="utf-8"))["pages"]
    print(f"\nmediawatch against {path} (mean F1 over the pages both have)")
    print(f"{'group':<26} {'pages':>6} {'before':>7} {'now':>7} {'change':>7}")
    for label, chosen in groups(pages):
        keys = [f"{p.set}/{p.id}" for p in chosen if f"{p.set}/{p.id}" in saved]
        if not keys:
            continue
        before = mean([saved[k]["mediawatch"]["f1"] for k in keys])
        now = mean([results[k]["mediawatch"].f1 for k in keys])
        print(f"{label:<26} {len(keys):>6} {before:>7.3f} {now:>7.3f} {now - before:>+7.3f}")


def save(path: Path, results: dict[str, dict[str, Result]], options: dict[str, Any]) -> None:
    pages = {
        key: {
            name: {
                "f1": round(r.f1, 5),
                "precision": round(r.precision, 5),
                "recall": round(r.recall, 5),
                "cpu_seconds": round(r.cpu_seconds, 5),
                "note": r.note,
            }
            for name, r in by_system.items()
        }
        for key, by_system in sorted(results.items())
    }
    path.write_text(json.dumps({"options": options, "pages": pages}, indent=0) + "\n", encoding="utf-8")


def _option(text: str) -> tuple[str, Any]:
    name, _, raw = text.partition("=")
    value: Any = raw
    if raw.lower() in ("true", "false"):
        value = raw.lower() == "true"
    else:
        try:
            value = float(raw) if "." in raw or "e" in raw.lower() else int(raw)
        except ValueError:
            value = raw
    return name.strip(), value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=SHARED_DATA)
    parser.add_argument("--sets", default=",".join(SETS), help=f"comma-separated, of: {','.join(SETS)}")
    parser.add_argument("--limit", type=int, default=0, help="first N pages of each set by id (0: all)")
    parser.add_argument("--part", choices=("tuning", "check", "both"), default="both")
    parser.add_argument("--systems", default=",".join(SYSTEMS), help=f"comma-separated, of: {','.join(SYSTEMS)}")
    parser.add_argument("--option", action="append", default=[], metavar="NAME=VALUE", help="a CleanOptions field")
    parser.add_argument("--failures", nargs=2, metavar=("SYSTEM", "N"), help="print the N worst pages of SYSTEM")
    parser.add_argument("--save", type=Path, help="write every page's scores to this JSON file")
    parser.add_argument("--compare", type=Path, help="compare mediawatch with the scores saved in this file")
    parser.add_argument("--mediawatch-root", help="import the clean stage from this checkout")
    parser.add_argument("--workers", type=int, default=2, help="processes (2: the 2-core target machine)")
    args = parser.parse_args()

    systems = tuple(s.strip() for s in args.systems.split(",") if s.strip())
    sets = tuple(s.strip() for s in args.sets.split(",") if s.strip())
    unknown = [s for s in systems if s not in RUNNERS] + [s for s in sets if s not in SETS]
    if unknown:
        parser.error(f"unknown systems or sets {unknown}; known: {', '.join(SYSTEMS + SETS)}")
    if args.failures and args.failures[0] not in systems:
        parser.error(f"--failures {args.failures[0]} is not among --systems")
    options = dict(_option(o) for o in args.option)

    pages = load_pages(args.data, sets)
    if args.part != "both":
        pages = [p for p in pages if part_of(p.id) == args.part]
    if args.limit:
        pages = [p for name in sets for p in [q for q in pages if q.set == name][: args.limit]]

    start = time.perf_counter()
    initargs = (args.mediawatch_root, options)
    with ProcessPoolExecutor(args.workers, initializer=_set_up_worker, initargs=initargs) as pool:
        done = pool.map(evaluate_page, [(p, systems) for p in pages], chunksize=4)
        results = {f"{page.set}/{page.id}": by_system for page, by_system in done}
    wall = time.perf_counter() - start

    print(
        f"{len(pages)} pages ({', '.join(sets)}), {len(systems)} systems, {args.workers} processes, {wall:.0f} s wall"
    )
    if options or args.mediawatch_root:
        print(f"mediawatch options {options or '{}'}, code from {args.mediawatch_root or 'this checkout'}")
    print("split: tuning when the last hex digit of sha1(id) is 0-9, else check")
    print("columns: mean F1/P/R over pages; zero = pages scored 0 (rejected, empty or error); worse/better = pages")
    print(f"  where the system's F1 is more than {MARGIN} below/above mediawatch's; pages/CPU-s = process time")
    for label, chosen in groups(pages):
        title = f"{label.upper() if label.endswith('check') else label}" + (
            " (the figure to quote)" if label.endswith("check") else ""
        )
        print_table(title, chosen, results, systems)
    if args.failures:
        print_failures(args.failures[0], int(args.failures[1]), pages, results)
    if args.compare:
        compare(args.compare, pages, results)
    if args.save:
        save(args.save, results, options)


if __name__ == "__main__":
    main()
