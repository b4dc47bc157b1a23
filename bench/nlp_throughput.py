"""Throughput of the NLP stage on real article texts, with and without figures; prints, writes nothing.

    python -m bench.nlp_throughput [--items ../shared/data/dedup/items.jsonl] [--limit 200] [--repeat 2]

Runs :func:`tasks.nlp.analyze_articles` over the English items of the dedup development set (real news bodies)
and reports words/s and articles/s (per second of CPU time of this process, which other work on a
shared machine disturbs less than wall time) for: the full spaCy pipeline (reference), the stage without figures
(``senter`` + gazetteer + ``ner``) and the stage with figures (rules on every sentence, tagger + parser on the
sentences holding a figure), and the figures overhead. Models are loaded and warmed up before timing; each
setting is timed ``--repeat`` times, alternating, and the best run is kept (the machine is shared, so the
minimum is the least noisy estimate).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bench import SHARED_DATA

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tasks.nlp import ENTITY_COMPONENTS, PARSE_COMPONENTS, NlpOptions, analyze_articles, load_nlp, resolve_model
from tasks.records import Article, SourceHints


def _articles(path: Path, limit: int) -> list[Article]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row.get("language") != "en" or not row.get("text"):
            continue
        published = None
        if row.get("published_at"):
            try:
                published = datetime.fromisoformat(row["published_at"].replace("Z", "+00:00"))
            except ValueError:
                published = None
        out.append(
            Article(
                article_id=row["id"],
                item_key=row["id"],
                source_uri=str(path),
                source=row.get("outlet") or "bench",
                text=row["text"],
                content_hash="",
                fetched_at=datetime.now(UTC),
                published_at=published,
                language="en",
                hints=SourceHints(),
            )
        )
        if len(out) >= limit:
            break
    return out


def _rate(label: str, seconds: float, words: int, articles: int) -> None:
    print(f"{label:<24} {seconds:7.2f} s  {words / seconds:8.0f} words/s  {articles / seconds:6.1f} articles/s")


def _best(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Return the best CPU time and the best wall time of ``repeat`` calls of ``fn``."""
    cpu = wall = float("inf")
    for _ in range(repeat):
        c0, w0 = time.process_time(), time.perf_counter()
        fn()
        cpu, wall = min(cpu, time.process_time() - c0), min(wall, time.perf_counter() - w0)
    return cpu, wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=Path, default=SHARED_DATA / "dedup" / "items.jsonl")
    ap.add_argument("--limit", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--model", default="en_core_web_sm")
    ap.add_argument("--skip-full", action="store_true", help="do not time the full spaCy pipeline")
    args = ap.parse_args()

    import spacy

    articles = _articles(args.items, args.limit)
    words = sum(len(a.text.split()) for a in articles)
    texts = [a.text for a in articles]
    # warm up: load both pipelines and run them once on a little text
    load_nlp(args.model, ENTITY_COMPONENTS)
    load_nlp(args.model, PARSE_COMPONENTS)
    analyze_articles(articles[:5], NlpOptions(model=args.model))

    print(f"{len(articles)} English articles, {words} words ({args.items}); model {resolve_model(args.model)}")
    if not args.skip_full:
        full = spacy.load(resolve_model(args.model))
        list(full.pipe(texts[:5]))
        cpu_full, _ = _best(lambda: list(full.pipe(texts, batch_size=64)), args.repeat)
        _rate("full spaCy pipeline", cpu_full, words, len(texts))
    without = NlpOptions(model=args.model, with_figures=False)
    with_figs = NlpOptions(model=args.model, with_figures=True)
    # alternate the two settings so that load from other processes hits both alike; keep each one's best
    cpu_ents = cpu_figs = wall_ents = wall_figs = float("inf")
    for _ in range(args.repeat):
        c, w = _best(lambda: analyze_articles(articles, without), 1)
        cpu_ents, wall_ents = min(cpu_ents, c), min(wall_ents, w)
        c, w = _best(lambda: analyze_articles(articles, with_figs), 1)
        cpu_figs, wall_figs = min(cpu_figs, c), min(wall_figs, w)
    _rate("stage, entities only", cpu_ents, words, len(texts))
    _rate("stage, entities+figures", cpu_figs, words, len(texts))
    print(f"figures overhead         {100 * (cpu_figs - cpu_ents) / cpu_ents:6.1f} % of CPU time "
          f"({100 * (wall_figs - wall_ents) / wall_ents:.1f} % of wall time)")  # fmt: skip
    results = analyze_articles(articles, with_figs)
    n_ents = sum(len(e) for e, _ in results)
    n_figs = sum(len(f) for _, f in results)
    n_obj = sum(1 for _, fs in results for f in fs if f.object)
    print(f"output: {n_ents} entity mentions, {n_figs} figures ({n_obj} with an object)")


if __name__ == "__main__":
    main()
