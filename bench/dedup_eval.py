"""Evaluate the dedup stage on a labelled near-duplicate set (the layout of ``data/dedup``) plus harder negatives
generated from real texts (``bench/dedup_negatives.py``).

The development set is split into a tuning part and a check part by story: an item belongs to the part of
``sha1(story id)``'s last hex digit, 0-7 tuning and 8-f check, where the story id is the ``group_id`` of
``pairs.jsonl`` for a group's members, the base's group for a shared-paragraph host, and the item id for any
other item. A generated item goes with the development item it is paired with (a pair of two generated items
by its own key). Thresholds are set on the tuning part; the check part is the figure to quote.

Each part is fed on its own through :meth:`DedupIndex.check_and_add` in batches: its items in file order, the
generated items at seeded positions among them. Printed per part: pair precision / recall / F1 (pairs = every
pair inside a predicted cluster, after the folds the index made; true pairs = every pair inside a group), recall
of variant -> original per variant kind, the methods used, the false links by method (a copy linked to a story
that is not its own), and each negative kind with its count and how many of its pairs ended in one cluster.

    python -m bench.dedup_eval ../shared/data/dedup [--batch 200] [--no-generated] [--seed N] [--show-errors 10]
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import random
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.dedup_negatives import SEED, Negatives, generate, load_pages
from tasks.dedup import DedupIndex, DedupOptions
from tasks.ids import content_hash, make_article_id
from tasks.records import Article, DedupDecision
from tasks.urls import canonicalize_url, site_of

# Every item of the set is "fetched" in one run at this time.
FETCHED_AT = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
PARTS = ("tuning", "check")


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def to_article(item: dict[str, Any], line: int) -> Article:
    url = item.get("url")
    canonical = canonicalize_url(url) if url else None
    text = item["text"]
    return Article(
        article_id=make_article_id(canonical, text),
        item_key=f"items.jsonl#L{line}",
        source_uri="items.jsonl",
        source=site_of(url) or item.get("outlet") or "unknown",
        text=text,
        content_hash=content_hash(text),
        fetched_at=FETCHED_AT,
        title=item.get("title"),
        url=url,
        canonical_url=canonical,
        external_id=item["id"],
        published_at=parse_time(item.get("published_at")),
        language=item.get("language"),
    )


def part_of(story: str) -> str:
    """Return the part of a story: the last hex digit of its SHA-1, 0-7 tuning, 8-f check."""
    return "tuning" if int(hashlib.sha1(story.encode()).hexdigest()[-1], 16) < 8 else "check"


def pairs_of(groups: dict[str, list[str]]) -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    for members in groups.values():
        for a, b in itertools.combinations(sorted(set(members)), 2):
            out.add((a, b))
    return out


@dataclass(frozen=True, slots=True)
class Labels:
    """What the evaluation knows about the items: their true story, variant kind, and the negative pairs."""

    story_of: dict[str, str]  # item -> true story (its group, else itself)
    kind_of: dict[str, str]  # item -> variant kind ("original" for a group's original)
    original_of: dict[str, str]  # group member -> the group's original
    split_of: dict[str, str]  # item -> the story it is split by
    negatives: list[dict[str, Any]]  # {ids, kind, source: "development" | "generated"}


def labels(data: Path, items: list[dict[str, Any]], generated: Negatives) -> Labels:
    groups = [json.loads(line) for line in (data / "pairs.jsonl").open(encoding="utf-8")]
    dev_negatives = [json.loads(line) for line in (data / "hard_negatives.jsonl").open(encoding="utf-8")]
    story_of = {item["id"]: item["id"] for item in items}
    kind_of: dict[str, str] = {}
    original_of: dict[str, str] = {}
    for g in groups:
        for iid, kind in zip(g["ids"], g["kind_of_variant"], strict=True):
            story_of[iid] = g["group_id"]
            kind_of[iid] = kind
            original_of[iid] = g["original_id"]
    split_of = dict(story_of)
    for neg in dev_negatives:
        if neg["kind"] == "shared_background_paragraph":
            base, host = neg["ids"]
            split_of[host] = story_of[base]
    for item in generated.items:
        story_of[item["id"]] = item["id"]
        split_of[item["id"]] = item["split_key"]
    # A generated item paired with a development item goes with that item, whatever story it was drawn for.
    new_ids = {item["id"] for item in generated.items}
    for pair in generated.pairs:
        first, second = pair["ids"]
        if first not in new_ids and second in new_ids:
            split_of[second] = split_of[first]
    negatives = [{**n, "source": "development"} for n in dev_negatives]
    negatives += [{**n, "source": "generated"} for n in generated.pairs]
    return Labels(story_of, kind_of, original_of, split_of, negatives)


def feed_order(items: list[dict[str, Any]], generated: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return the items in file order with the generated ones at seeded positions among them."""
    rng = random.Random(SEED)
    out = list(items)
    for item in generated:
        out.insert(rng.randrange(len(out) + 1), item)
    return out


def run(
    feed: list[dict[str, Any]], batch: int, options: DedupOptions
) -> tuple[list[DedupDecision], dict[str, str], float]:
    """Return the decisions for ``feed`` (in batches), the index's cluster folds and the seconds the index took."""
    articles = [to_article(item, n + 1) for n, item in enumerate(feed)]
    index = DedupIndex(options)
    decisions: list[DedupDecision] = []
    started = time.perf_counter()
    for start in range(0, len(articles), batch):
        decisions.extend(index.check_and_add(articles[start : start + batch]))
    return decisions, index.cluster_aliases(), time.perf_counter() - started


def report(name: str, feed: list[dict[str, Any]], lab: Labels, args: argparse.Namespace) -> dict[str, float]:
    """Run one part and print its figures; return the headline numbers."""
    decisions, aliases, elapsed = run(feed, args.batch, DedupOptions())
    ids = [item["id"] for item in feed]
    by_article = {d.article_id: iid for iid, d in zip(ids, decisions, strict=True)}
    cluster_of = {iid: aliases.get(d.cluster_id, d.cluster_id) for iid, d in zip(ids, decisions, strict=True)}
    method_of = {iid: d.method for iid, d in zip(ids, decisions, strict=True)}
    predicted: dict[str, list[str]] = defaultdict(list)
    for iid, cluster in cluster_of.items():
        predicted[cluster].append(iid)
    truth_groups: dict[str, list[str]] = defaultdict(list)
    for iid in ids:
        truth_groups[lab.story_of[iid]].append(iid)
    truth = pairs_of(truth_groups)
    pred = pairs_of(predicted)
    tp = len(pred & truth)
    precision = tp / len(pred) if pred else 1.0
    recall = tp / len(truth) if truth else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    generated = sum(iid.startswith("x") for iid in ids)
    print(f"\n=== {name} part: {len(ids)} items ({generated} generated), {len(ids) / elapsed:,.0f} articles/s")
    print("methods:", dict(Counter(m or "original" for m in method_of.values())))
    print(
        f"pairs: predicted {len(pred)}  true {len(truth)}  false {len(pred - truth)}  missed {len(truth - pred)}  "
        f"P {precision:.4f}  R {recall:.4f}  F1 {f1:.4f}"
    )

    print("recall of variant -> original, by kind:")
    by_kind: dict[str, list[bool]] = defaultdict(list)
    for iid in ids:
        kind = lab.kind_of.get(iid)
        if kind is None or kind == "original":
            continue
        by_kind[kind].append(cluster_of[iid] == cluster_of[lab.original_of[iid]])
    worst = 1.0
    for kind, hits in sorted(by_kind.items()):
        worst = min(worst, sum(hits) / len(hits))
        print(f"  {kind:18s} {sum(hits):4d}/{len(hits):4d}  {sum(hits) / len(hits):.3f}")
    vv = [p for p in truth if lab.kind_of.get(p[0]) != "original" and lab.kind_of.get(p[1]) != "original"]
    print(f"  {'variant-variant':18s} {len(set(vv) & pred):4d}/{len(vv):4d}")

    # A false link: a copy whose story (the cluster it was put in, after folds) is not its own story.
    false_links: Counter[str] = Counter()
    for iid, d in zip(ids, decisions, strict=True):
        if d.duplicate_of is None:
            continue
        target = by_article.get(aliases.get(d.cluster_id, d.cluster_id))
        if target is not None and lab.story_of[target] != lab.story_of[iid]:
            false_links[d.method or "?"] += 1
    print(f"false links by method: {dict(false_links) or 'none'}")

    print("negatives (pairs in one cluster / pairs):")
    present = set(ids)
    counts: Counter[tuple[str, str]] = Counter()
    hits_by: Counter[tuple[str, str]] = Counter()
    for neg in lab.negatives:
        a, b = neg["ids"]
        if a not in present or b not in present:
            continue
        key = (neg["source"], neg["kind"])
        counts[key] += 1
        hits_by[key] += cluster_of[a] == cluster_of[b]
    for key in sorted(counts):
        print(f"  {key[0]:11s} {key[1]:30s} {hits_by[key]:3d}/{counts[key]:3d}")

    if args.show_errors:
        by_id = {item["id"]: item for item in feed}
        for title, rows in (("false pairs", sorted(pred - truth)), ("missed pairs", sorted(truth - pred))):
            print(title + ":")
            for a, b in rows[: args.show_errors]:
                print(
                    f"  {a} {lab.kind_of.get(a)} {method_of[a]} | {b} {lab.kind_of.get(b)} {method_of[b]} | "
                    f"{by_id[a]['title'][:40]!r} | {by_id[b]['title'][:40]!r}"
                )
    return {"precision": precision, "recall": recall, "worst_kind": worst}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("data", type=Path, help="directory with items.jsonl, pairs.jsonl, hard_negatives.jsonl")
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--no-generated", action="store_true", help="the development set only")
    parser.add_argument("--show-errors", type=int, default=0, help="print this many false / missed pairs")
    parser.add_argument("--seed", type=int, default=SEED, help="seed of the generated negatives")
    args = parser.parse_args(argv)

    items = [json.loads(line) for line in (args.data / "items.jsonl").open(encoding="utf-8")]
    generated = Negatives([], [])
    if not args.no_generated:
        started = time.perf_counter()
        groups = [json.loads(line) for line in (args.data / "pairs.jsonl").open(encoding="utf-8")]
        pages = load_pages(args.data.parent, [item["text"] for item in items])
        generated = generate({item["id"]: item for item in items}, groups, pages, seed=args.seed)
        kinds = Counter(p["kind"] for p in generated.pairs)
        print(
            f"generated {len(generated.items)} items from {len(pages)} bench pages in "
            f"{time.perf_counter() - started:.0f} s: {dict(sorted(kinds.items()))}"
        )
    lab = labels(args.data, items, generated)
    figures = {}
    for part in PARTS:
        feed = feed_order(
            [i for i in items if part_of(lab.split_of[i["id"]]) == part],
            [i for i in generated.items if part_of(lab.split_of[i["id"]]) == part],
        )
        figures[part] = report(part, feed, lab, args)
    check = figures["check"]
    print(
        f"\ncheck part (the figure to quote): P {check['precision']:.4f}  R {check['recall']:.4f}  "
        f"lowest recall of a variant kind {check['worst_kind']:.3f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
