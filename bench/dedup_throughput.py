"""Throughput and memory of the dedup stage with a large index.

Fills a :class:`DedupIndex` with synthetic articles (random words from a Zipf-distributed vocabulary, 4-9
paragraphs, 150-900 words, 500 outlets, dates spread over the window) up to each requested size, then times
:meth:`DedupIndex.check_and_add` on fresh articles in batches, a tenth of them copies of indexed ones
(syndicated with boilerplate, or lead-only), and prints articles/s and the peak RSS of the process.

    python bench/dedup_throughput.py --sizes 100000 1000000 [--measure 20000] [--batch 200]
    python bench/dedup_throughput.py --sizes 10000 --measure 2000          # quick run
    python bench/dedup_throughput.py --sizes 1000000 --save /tmp/dd-index   # also time save / load

Filling uses ``DedupIndex.add_rows`` (what a rebuild does: signatures without matching), so it is faster than
the stage itself; only the measured phase counts.
"""

from __future__ import annotations

import argparse
import gc
import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tasks.dedup import DedupIndex, DedupOptions, IndexRow
from tasks.ids import content_hash, make_article_id
from tasks.records import Article

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
SYLLABLES = [c + v for c in "bcdfghjklmnprstvwz" for v in ("a", "e", "i", "o", "u", "ai", "ou", "ie")]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Generator:
    """Synthetic news articles; deterministic for a seed."""

    def __init__(self, seed: int = 7, vocabulary: int = 60_000) -> None:
        self.rng = np.random.default_rng(seed)
        lengths = self.rng.integers(1, 5, size=vocabulary)
        syl = np.asarray(SYLLABLES)
        self.vocab = np.asarray(
            ["".join(syl[self.rng.integers(0, len(syl), size=n)]) for n in lengths.tolist()], dtype=object
        )
        self.counter = 0

    def paragraphs(self) -> list[str]:
        count = int(self.rng.integers(4, 10))
        words = self.rng.zipf(1.3, size=int(self.rng.integers(150, 900))) % len(self.vocab)
        cuts = np.sort(self.rng.choice(np.arange(1, len(words)), size=count - 1, replace=False))
        return [" ".join(self.vocab[part].tolist()) + "." for part in np.split(words, cuts)]

    def article(self, paragraphs: list[str] | None = None) -> Article:
        self.counter += 1
        n = self.counter
        paras = paragraphs if paragraphs is not None else self.paragraphs()
        text = "\n\n".join(paras)
        outlet = f"outlet{int(self.rng.integers(0, 500))}.example"
        url = f"https://www.{outlet}/news/{n}-story?utm_source=rss"
        canonical = f"https://{outlet}/news/{n}-story"
        published = NOW - timedelta(minutes=int(self.rng.integers(0, 20 * 24 * 60)))
        return Article(
            article_id=make_article_id(canonical, text),
            item_key=f"synthetic#{n}",
            source_uri="synthetic",
            source=outlet,
            text=text,
            content_hash=content_hash(text),
            fetched_at=NOW,
            title=" ".join(self.vocab[self.rng.integers(0, len(self.vocab), size=8)].tolist()),
            url=url,
            canonical_url=canonical,
            published_at=published,
        )

    def rows(self, count: int) -> Iterator[IndexRow]:
        for _ in range(count):
            a = self.article()
            yield IndexRow(
                article_id=a.article_id,
                cluster_id=a.article_id,
                canonical_url=a.canonical_url,
                content_hash=a.content_hash,
                title=a.title,
                source=a.source,
                published_at=a.published_at,
                fetched_at=a.fetched_at,
                text=a.text,
                url=a.url,
            )


def fill(index: DedupIndex, gen: Generator, count: int, keep: list[list[str]], chunk: int = 2000) -> None:
    """Add ``count`` synthetic stored articles; keep a few bodies to copy later."""
    done = 0
    while done < count:
        rows = list(gen.rows(min(chunk, count - done)))
        index.add_rows(rows)
        if len(keep) < 5000:
            keep.extend(r.text.split("\n\n") for r in rows[:50])
        done += len(rows)


def measure(index: DedupIndex, gen: Generator, count: int, batch: int, keep: list[list[str]]) -> float:
    """Return articles/s of check_and_add over ``count`` fresh articles (10 % copies)."""
    articles: list[Article] = []
    for i in range(count):
        if i % 10 == 0 and keep:
            paras = keep[int(gen.rng.integers(0, len(keep)))]
            copy = ["Skip to main content", *paras, "All rights reserved."] if i % 20 else paras[:2]
            articles.append(gen.article(copy))
        else:
            articles.append(gen.article())
    gc.collect()
    started = time.perf_counter()
    cpu_started = time.process_time()
    copies = 0
    for start in range(0, len(articles), batch):
        decisions = index.check_and_add(articles[start : start + batch])
        copies += sum(d.duplicate_of is not None for d in decisions)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    print(f"    copies found: {copies} of {count // 10} planted; {count / cpu:,.0f} articles per CPU second")
    return count / elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--measure", type=int, default=20_000, help="articles checked at each size")
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--save", type=Path, default=None, help="directory to time save_index / load_index")
    args = parser.parse_args(argv)

    options = DedupOptions(window_days=30)
    index = DedupIndex(options)
    gen = Generator()
    keep: list[list[str]] = []
    print(f"start: peak RSS {peak_rss_mb():,.0f} MB")
    for size in sorted(args.sizes):
        started = time.perf_counter()
        fill(index, gen, max(size - len(index), 0), keep)
        print(f"index filled to {len(index):,} in {time.perf_counter() - started:,.0f} s")
        rate = measure(index, gen, args.measure, args.batch, keep)
        print(f"  at {size:,} indexed: {rate:,.0f} articles/s (batch {args.batch}); peak RSS {peak_rss_mb():,.0f} MB")
    if args.save is not None:
        from storage.dedup_store import load_index, save_index

        directory = args.save or Path(tempfile.mkdtemp())
        started = time.perf_counter()
        save_index(index, str(directory))
        print(f"save_index: {time.perf_counter() - started:.1f} s")
        del index
        gc.collect()
        started = time.perf_counter()
        loaded = load_index(str(directory), options)
        print(
            f"load_index: {time.perf_counter() - started:.1f} s, {len(loaded or []):,} entries; "
            f"peak RSS {peak_rss_mb():,.0f} MB"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
