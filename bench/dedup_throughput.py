"""Throughput and memory of the dedup stage with a large index.

Fills a :class:`DedupIndex` up to each requested size with synthetic stored articles (words of a vocabulary of
60,000 with Zipf frequencies, 150-900 words in paragraphs of 20-160, 500 outlets, dates spread over the window)
through the bulk path a rebuild uses (:meth:`DedupIndex.add_rows`: signatures without matching). Then times
:meth:`DedupIndex.check_and_add` on fresh news-length articles (400-800 words in 5-10 paragraphs of 40-160
words) in batches, one in ten of them a planted copy of an indexed article (half syndicated with an outlet's
header and footer lines, half lead-only teasers of the first two paragraphs), and prints:

- articles per second of wall time and per CPU second of the process (the machine may be shared: the load
  average is printed next to the figures);
- how many planted copies were linked to their original, and how many fresh articles were wrongly called copies;
- the peak RSS of the process;
- with ``--save``, the seconds to save and load the index and the size of its file.

    python bench/dedup_throughput.py --sizes 100000 1000000 --measure 10000 --save /tmp/dd-index
    python bench/dedup_throughput.py --sizes 10000 --measure 2000          # quick run

Only the measured phase counts as the stage's throughput; generating texts is outside it.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tasks.dedup import DedupIndex, DedupOptions, IndexRow
from tasks.ids import content_hash, make_article_id, short_hash
from tasks.records import Article

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
SYLLABLES = [c + v for c in "bcdfghjklmnprstvwz" for v in ("a", "e", "i", "o", "u", "ai", "ou", "ie")]
# Separates articles in the one string a chunk is generated as (never produced by the vocabulary).
_DOC_BREAK = "\x00"
_PARA_BREAK = ".\n\n"
# Measured articles: news length, 400-800 words in paragraphs of 40-160 words.
NEWS = ((400, 800), (40, 160))


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_average() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


class Generator:
    """Synthetic news articles, generated a chunk at a time with numpy; deterministic for a seed."""

    def __init__(self, seed: int = 7, vocabulary: int = 60_000) -> None:
        self.rng = np.random.default_rng(seed)
        # 1-4 syllables: word lengths of 2 to 12 letters, about 6 on average.
        lengths = self.rng.integers(1, 5, size=vocabulary)
        syl = np.asarray(SYLLABLES)
        words = ["".join(syl[self.rng.integers(0, len(syl), size=n)]) for n in lengths.tolist()]
        self.vocab = np.asarray([*words, _PARA_BREAK, _DOC_BREAK], dtype=object)
        # Word frequencies follow Zipf's law with exponent 1 (English: the commonest word is about 6 % of text);
        # ranks are drawn by inverting the harmonic number H(r) ~ ln r + 0.5772.
        self.harmonic = float(np.log(vocabulary) + np.euler_gamma)
        self.counter = 0

    def texts(self, count: int, words: tuple[int, int], para_words: tuple[int, int]) -> list[list[str]]:
        """Return ``count`` bodies as lists of paragraphs: ``words`` words in paragraphs of ``para_words``."""
        size = len(self.vocab) - 2
        total_words = self.rng.integers(words[0], words[1] + 1, size=count)
        u = self.rng.random(int(total_words.sum()))
        ids = np.clip(np.exp(u * self.harmonic - np.euler_gamma).astype(np.int64) - 1, 0, size - 1)
        # Paragraph breaks: every article is cut into runs of para_words[0]..para_words[1] words.
        marks = np.zeros(len(ids), dtype=np.int8)
        doc_end = np.cumsum(total_words)
        doc_start = doc_end - total_words
        cut_count = int(total_words.sum() // para_words[0]) + count
        steps = self.rng.integers(para_words[0], para_words[1] + 1, size=cut_count)
        for start, end in zip(doc_start.tolist(), doc_end.tolist(), strict=True):
            # A few Python steps per article (its paragraph cuts), the words themselves stay in numpy.
            pos = start
            while True:
                pos += int(steps[self.counter % cut_count])
                self.counter += 1
                if pos >= end - para_words[0] // 2:
                    break
                marks[pos - 1] = 1
            marks[end - 1] = 2
        tokens = np.empty(len(ids) + int((marks > 0).sum()), dtype=np.int64)
        at = np.arange(len(ids)) + np.concatenate([[0], np.cumsum(marks > 0)[:-1]])
        tokens[at] = ids
        tokens[at[marks > 0] + 1] = np.where(marks[marks > 0] == 1, size, size + 1)
        joined = " ".join(self.vocab[tokens].tolist())
        return [
            [p.strip().rstrip(".") + "." for p in doc.split(_PARA_BREAK.strip()) if p.strip()]
            for doc in joined.split(_DOC_BREAK)[:count]
        ]

    def article(
        self, paragraphs: list[str], exact_hash: bool = True, draws: tuple[int, int, str] | None = None
    ) -> Article:
        """Return an article with ``paragraphs`` as its body, on a random outlet and date of the window;
        ``exact_hash`` False replaces the normalised content hash by a hash of the raw text (for bulk fills:
        any 32-hex-digit fingerprint of the body serves); ``draws`` are its (outlet, minutes back, title) when
        drawn in bulk."""
        self.counter += 1
        n = self.counter
        if draws is None:
            draws = self.draws(1)[0]
        outlet_number, minutes, title = draws
        text = "\n\n".join(paragraphs)
        outlet = f"outlet{outlet_number}.example"
        canonical = f"https://{outlet}/news/{n}-story"
        return Article(
            article_id=make_article_id(canonical, text),
            item_key=f"synthetic#{n}",
            source_uri="synthetic",
            source=outlet,
            text=text,
            content_hash=content_hash(text) if exact_hash else short_hash(text, 32),
            fetched_at=NOW,
            title=title,
            url=f"https://www.{outlet}/news/{n}-story?utm_source=rss",
            canonical_url=canonical,
            published_at=NOW - timedelta(minutes=minutes),
        )

    def draws(self, count: int) -> list[tuple[int, int, str]]:
        """Return ``count`` random (outlet number, minutes before NOW within 20 days, 8-word title)."""
        outlets = self.rng.integers(0, 500, size=count).tolist()
        minutes = self.rng.integers(0, 20 * 24 * 60, size=count).tolist()
        words = self.vocab[self.rng.integers(0, len(self.vocab) - 2, size=(count, 8))].tolist()
        return [(o, m, " ".join(w)) for o, m, w in zip(outlets, minutes, words, strict=True)]

    def rows(self, count: int) -> Iterator[IndexRow]:
        texts = self.texts(count, (150, 900), (20, 160))
        for paragraphs, draws in zip(texts, self.draws(count), strict=True):
            a = self.article(paragraphs, exact_hash=False, draws=draws)
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


Kept = list[tuple[str, list[str]]]


def fill(index: DedupIndex, gen: Generator, count: int, keep: Kept, chunk: int = 2000) -> None:
    """Add ``count`` synthetic stored articles; keep up to 5,000 of them (article id, paragraphs), sampled over
    the whole fill, to plant copies of later."""
    done = 0
    while done < count:
        rows = list(gen.rows(min(chunk, count - done)))
        index.add_rows(rows)
        for r in rows[:: max(1, len(rows) // 25)]:
            entry = (r.article_id, r.text.split("\n\n"))
            if len(keep) < 5000:
                keep.append(entry)
            else:
                keep[int(gen.rng.integers(0, len(keep)))] = entry
        done += len(rows)


def measure(index: DedupIndex, gen: Generator, count: int, batch: int, keep: Kept) -> tuple[float, float]:
    """Check ``count`` fresh articles (one in ten a planted copy) in batches; print what was found and return
    articles per wall second and per CPU second."""
    # Generated 1,000 at a time: one string for all would be a large share of the peak RSS measured.
    bodies = (body for start in range(0, count, 1000) for body in gen.texts(min(1000, count - start), *NEWS))
    articles: list[Article] = []
    planted: dict[int, str] = {}
    for i in range(count):
        paras = next(bodies)
        if i % 10 == 0 and keep:
            original, kept = keep[int(gen.rng.integers(0, len(keep)))]
            paras = ["Skip to main content", *kept, "All rights reserved."] if i % 20 else kept[:2]
            planted[i] = original
        articles.append(gen.article(paras))
    gc.collect()
    started = time.perf_counter()
    cpu_started = time.process_time()
    decisions = []
    for start in range(0, len(articles), batch):
        decisions.extend(index.check_and_add(articles[start : start + batch]))
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    found = sum(decisions[i].cluster_id == original for i, original in planted.items())
    wrong = sum(d.duplicate_of is not None for i, d in enumerate(decisions) if i not in planted)
    print(
        f"    planted copies linked to their original: {found} of {len(planted)}; "
        f"fresh articles called copies: {wrong} of {count - len(planted)}"
    )
    print(
        f"    {elapsed:.1f} s wall, {cpu:.1f} s CPU: {count / elapsed:,.0f} articles/s wall, "
        f"{count / cpu:,.0f} articles per CPU second ({cpu / count * 1e6:,.0f} us CPU per article)"
    )
    return count / elapsed, count / cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--measure", type=int, default=10_000, help="articles checked at each size")
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--save", type=Path, default=None, help="directory to time save_index / load_index")
    args = parser.parse_args(argv)

    options = DedupOptions(window_days=30)
    index = DedupIndex(options)
    gen = Generator()
    keep: Kept = []
    print(f"start: peak RSS {peak_rss_mb():,.0f} MB; {os.cpu_count()} CPUs, load average {load_average()}")
    for size in sorted(args.sizes):
        started = time.perf_counter()
        cpu_started = time.process_time()
        fill(index, gen, max(size - len(index), 0), keep)
        print(
            f"index filled to {len(index):,} in {time.perf_counter() - started:,.0f} s "
            f"({time.process_time() - cpu_started:,.0f} s CPU); peak RSS {peak_rss_mb():,.0f} MB"
        )
        print(f"  measuring {args.measure:,} articles at {len(index):,} indexed; load average {load_average()}")
        measure(index, gen, args.measure, args.batch, keep)
        print(f"  peak RSS {peak_rss_mb():,.0f} MB; load average {load_average()}")
    if args.save is not None:
        from tasks.dedup import index_path, load_index, save_index

        directory = args.save
        entries = len(index)
        started = time.perf_counter()
        save_index(index, str(directory), now=NOW)
        saved = time.perf_counter() - started
        size_mb = index_path(str(directory)).stat().st_size / 1e6
        print(f"save_index: {saved:.1f} s, {entries:,} entries, file {size_mb:,.0f} MB")
        del index
        gc.collect()
        started = time.perf_counter()
        loaded = load_index(str(directory), options, now=NOW)
        print(
            f"load_index: {time.perf_counter() - started:.1f} s, {len(loaded or []):,} entries; "
            f"peak RSS {peak_rss_mb():,.0f} MB; load average {load_average()}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
