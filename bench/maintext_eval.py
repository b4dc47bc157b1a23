"""Whole-text precision and recall of main-text extraction on the Dragnet pages, scored as the project is judged.

Data: ``extraction-dragnet`` in the shared data (966 news, magazine and blog pages of 2012 with their gold main
text; AGPL, so it is read from there at run time and nothing of it is copied here). Scoring, by the data set's
README: per page, lowercase both texts, take their ``\\w+`` tokens and compare the two bags of words (multiset
overlap): precision, recall and F1 per page, then the mean over pages. An empty output or a rejected page scores
0 (the gold text of every page is non-empty; a page with empty gold would score 1 for an empty output, else 0).

Split: a page is *tuning* when the last hex digit of ``sha1(id)`` is below 10 (0-9, about 62 %), else *check*.
Rules and thresholds are set on the tuning part; the check part is the figure to quote.

Systems, each given the same text (every page is decoded once by :func:`tasks.decode.decode_bytes`):
``mediawatch`` (the clean stage, :func:`tasks.clean.clean_item` in-process; a rejection scores 0),
``trafilatura`` (defaults), ``trafilatura_precision`` (``favor_precision``), ``trafilatura_recall``
(``favor_recall``), all three with comments off; ``readability`` (readability-lxml ``Document.summary()``,
then its text); ``justext`` (English stoplist, non-boilerplate paragraphs); ``resiliparse``
(``extract_plain_text(main_content=True)``, comments off).

    python -m bench.maintext_eval [--data ../shared/data] [--limit N] [--part tuning|check|both]
        [--systems mediawatch,trafilatura,...] [--failures SYSTEM N]
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

sys.dont_write_bytecode = True  # the bench writes nothing into the repository tree
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import SHARED_DATA  # noqa: E402

DATASET = "extraction-dragnet"
FETCHED = datetime(2026, 6, 1, tzinfo=UTC)
# A page whose F1 differs from mediawatch's by more than this counts as worse or better.
MARGIN = 0.05
_TOKEN = re.compile(r"\w+")

SYSTEMS = (
    "mediawatch",
    "trafilatura",
    "trafilatura_precision",
    "trafilatura_recall",
    "readability",
    "justext",
    "resiliparse",
)


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


def run_mediawatch(text: str, page_id: str) -> str:
    from tasks.clean import CleanOptions, clean_item
    from tasks.records import Article, RawItem

    # The decoded text goes back in as UTF-8 bytes: decode_bytes reads valid UTF-8 (or ASCII) as the same text.
    item = RawItem(item_key=page_id, source_uri=page_id, payload=text.encode("utf-8"), kind="html", fetched_at=FETCHED)
    result = clean_item(item, CleanOptions(workers=0))
    if isinstance(result, Article):
        return result.text
    raise RejectedError(result.reason)


def _trafilatura(**flags: bool) -> Callable[[str, str], str]:
    def run(text: str, page_id: str) -> str:
        import trafilatura

        return trafilatura.extract(text, include_comments=False, output_format="txt", **flags) or ""

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

    return str(extract_plain_text(text, main_content=True, comments=False))


RUNNERS: dict[str, Callable[[str, str], str]] = {
    "mediawatch": run_mediawatch,
    "trafilatura": _trafilatura(),
    "trafilatura_precision": _trafilatura(favor_precision=True),
    "trafilatura_recall": _trafilatura(favor_recall=True),
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
    seconds: float
    note: str = ""  # rejection reason, error, or "empty"


def evaluate_page(job: tuple[Path, str, str, tuple[str, ...]]) -> tuple[str, dict[str, Result]]:
    """Return the page id and each system's :class:`Result` on it (run in a worker process)."""
    from tasks.decode import DecodeError, decode_bytes

    path, page_id, gold_text, systems = job
    gold = tokens(gold_text)
    payload = gzip.decompress(path.read_bytes())
    try:
        text = decode_bytes(payload).text
    except DecodeError as exc:
        zero = Result(*score(Counter(), gold), 0, gold.total(), 0.0, f"decode_error: {exc}")
        return page_id, dict.fromkeys(systems, zero)
    results: dict[str, Result] = {}
    for name in systems:
        start = time.perf_counter()
        note = ""
        try:
            output = RUNNERS[name](text, page_id)
        except RejectedError as exc:
            output, note = "", f"rejected: {exc}"
        except Exception as exc:  # a baseline that crashes on a page scores 0 there, as a rejection would
            output, note = "", f"error: {type(exc).__name__}: {str(exc)[:80]}"
        seconds = time.perf_counter() - start
        bag = tokens(output)
        if not note and not bag:
            note = "empty"
        results[name] = Result(*score(bag, gold), bag.total(), gold.total(), seconds, note)
    return page_id, results


def mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def print_table(title: str, ids: list[str], results: dict[str, dict[str, Result]], systems: tuple[str, ...]) -> None:
    print(f"\n{title}: {len(ids)} pages")
    header = f"{'system':<22} {'F1':>6} {'P':>6} {'R':>6} {'zero':>5} {'worse':>6} {'better':>6} {'ms/page':>8}"
    print(header)
    print("-" * len(header))
    for name in sorted(systems, key=lambda s: -mean([results[i][s].f1 for i in ids])):
        rows = [results[i][name] for i in ids]
        zero = sum(r.f1 == 0 for r in rows)
        if "mediawatch" in systems and name != "mediawatch":
            base = [results[i]["mediawatch"].f1 for i in ids]
            worse = str(sum(r.f1 < b - MARGIN for r, b in zip(rows, base, strict=True)))
            better = str(sum(r.f1 > b + MARGIN for r, b in zip(rows, base, strict=True)))
        else:
            worse = better = "-"
        print(
            f"{name:<22} {mean([r.f1 for r in rows]):>6.3f} {mean([r.precision for r in rows]):>6.3f} "
            f"{mean([r.recall for r in rows]):>6.3f} {zero:>5} {worse:>6} {better:>6} "
            f"{1000 * mean([r.seconds for r in rows]):>8.1f}"
        )


def print_failures(system: str, count: int, ids: list[str], results: dict[str, dict[str, Result]]) -> None:
    worst = sorted(ids, key=lambda i: (results[i][system].f1, i))[:count]
    print(f"\n{count} worst pages for {system} (output and gold sizes in tokens)")
    print(f"{'id':<8} {'part':<7} {'F1':>6} {'P':>6} {'R':>6} {'output':>7} {'gold':>7}  note")
    for page_id in worst:
        r = results[page_id][system]
        print(
            f"{page_id:<8} {part_of(page_id):<7} {r.f1:>6.3f} {r.precision:>6.3f} {r.recall:>6.3f} "
            f"{r.output_tokens:>7} {r.gold_tokens:>7}  {r.note}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=SHARED_DATA)
    parser.add_argument("--limit", type=int, default=0, help="first N pages by id (0: all)")
    parser.add_argument("--part", choices=("tuning", "check", "both"), default="both")
    parser.add_argument("--systems", default=",".join(SYSTEMS), help=f"comma-separated, of: {','.join(SYSTEMS)}")
    parser.add_argument("--failures", nargs=2, metavar=("SYSTEM", "N"), help="print the N worst pages of SYSTEM")
    parser.add_argument("--workers", type=int, default=2, help="processes (2: the 2-core target machine)")
    args = parser.parse_args()

    systems = tuple(s.strip() for s in args.systems.split(",") if s.strip())
    unknown = [s for s in systems if s not in RUNNERS]
    if unknown:
        parser.error(f"unknown systems {unknown}; known: {', '.join(SYSTEMS)}")
    if args.failures and args.failures[0] not in systems:
        parser.error(f"--failures {args.failures[0]} is not among --systems")

    root = args.data / DATASET
    gold: dict[str, str] = {}
    with (root / "truth.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            gold[record["id"]] = record["article"]
    ids = sorted(gold, key=lambda i: (len(i), i))
    if args.part != "both":
        ids = [i for i in ids if part_of(i) == args.part]
    if args.limit:
        ids = ids[: args.limit]

    jobs = [(root / "html" / f"{i}.html.gz", i, gold[i], systems) for i in ids]
    start = time.perf_counter()
    with ProcessPoolExecutor(args.workers) as pool:
        results = dict(pool.map(evaluate_page, jobs, chunksize=4))
    wall = time.perf_counter() - start

    print(f"{DATASET}: {len(ids)} pages, {len(systems)} systems, {args.workers} processes, {wall:.0f} s wall")
    print("split: tuning when the last hex digit of sha1(id) is 0-9, else check")
    print("columns: mean F1/P/R over pages; zero = pages scored 0 (rejected, empty or error); worse/better = pages")
    print(f"  where the system's F1 is more than {MARGIN} below/above mediawatch's; ms/page = one core")
    for part, title in (("check", "CHECK part (the figure to quote)"), ("tuning", "TUNING part")):
        chosen = [i for i in ids if part_of(i) == part]
        if chosen:
            print_table(title, chosen, results, systems)
    if args.failures:
        print_failures(args.failures[0], int(args.failures[1]), ids, results)


if __name__ == "__main__":
    main()
