"""Evaluate the dedup stage on a labelled near-duplicate set (the layout of ``data/dedup``).

Feeds ``items.jsonl`` as-is, in file order, through :meth:`DedupIndex.check_and_add` in batches, forms the
predicted clusters from the returned ``cluster_id``s and prints pair precision / recall / F1 (pairs = every pair
inside a cluster) against the true groups of ``pairs.jsonl``, recall per variant kind, the methods used, and the
false positives among the designated hard negatives of ``hard_negatives.jsonl``.

    python -m bench.dedup_eval ../shared/data/dedup [--batch 200]
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tasks.dedup import DedupIndex, DedupOptions
from tasks.ids import content_hash, make_article_id
from tasks.records import Article, DedupDecision
from tasks.urls import canonicalize_url, site_of

# Every item of the set is "fetched" in one run at this time.
FETCHED_AT = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


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


def pairs_of(groups: dict[str, list[str]]) -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    for members in groups.values():
        for a, b in itertools.combinations(sorted(set(members)), 2):
            out.add((a, b))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="directory with items.jsonl, pairs.jsonl, hard_negatives.jsonl")
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--show-errors", type=int, default=0, help="print this many missed / wrong pairs")
    args = parser.parse_args(argv)

    items = [json.loads(line) for line in (args.data / "items.jsonl").open(encoding="utf-8")]
    articles = [to_article(item, n + 1) for n, item in enumerate(items)]
    index = DedupIndex(DedupOptions())
    decisions: list[DedupDecision] = []
    started = time.perf_counter()
    for start in range(0, len(articles), args.batch):
        decisions.extend(index.check_and_add(articles[start : start + args.batch]))
    elapsed = time.perf_counter() - started

    item_ids = [item["id"] for item in items]
    cluster_of = {iid: d.cluster_id for iid, d in zip(item_ids, decisions, strict=True)}
    method_of = {iid: d.method for iid, d in zip(item_ids, decisions, strict=True)}
    predicted: dict[str, list[str]] = defaultdict(list)
    for iid, cluster in cluster_of.items():
        predicted[cluster].append(iid)
    # The same clusters after the folds the index made when an article bridged two clusters.
    aliases = index.cluster_aliases()
    folded: dict[str, list[str]] = defaultdict(list)
    for iid, cluster in cluster_of.items():
        folded[aliases.get(cluster, cluster)].append(iid)

    groups = [json.loads(line) for line in (args.data / "pairs.jsonl").open(encoding="utf-8")]
    truth = pairs_of({g["group_id"]: g["ids"] for g in groups})
    kind_of = {iid: kind for g in groups for iid, kind in zip(g["ids"], g["kind_of_variant"], strict=True)}
    original_of = {iid: g["original_id"] for g in groups for iid in g["ids"]}

    print(f"items {len(items)}  batches of {args.batch}  {len(items) / elapsed:,.0f} articles/s")
    print("methods:", dict(Counter(m or "original" for m in method_of.values())))
    for label, clusters in (("as returned", predicted), ("with cluster folds", folded)):
        pred = pairs_of(clusters)
        tp = len(pred & truth)
        precision = tp / len(pred) if pred else 1.0
        recall = tp / len(truth) if truth else 1.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        print(
            f"{label:20s} pairs: predicted {len(pred)}  true {len(truth)}  P {precision:.4f}  R {recall:.4f}  "
            f"F1 {f1:.4f}"
        )

    pred = pairs_of(predicted)
    print("recall of variant -> original pairs, by kind:")
    by_kind: dict[str, list[bool]] = defaultdict(list)
    for iid, kind in kind_of.items():
        if kind == "original":
            continue
        by_kind[kind].append(cluster_of[iid] == cluster_of[original_of[iid]])
    for kind, hits in sorted(by_kind.items()):
        print(f"  {kind:16s} {sum(hits):4d}/{len(hits):4d}  {sum(hits) / len(hits):.3f}")
    vv = [p for p in truth if kind_of[p[0]] != "original" and kind_of[p[1]] != "original"]
    print(
        f"  {'variant-variant':16s} {sum(p in pred for p in vv):4d}/{len(vv):4d}  "
        f"{sum(p in pred for p in vv) / max(len(vv), 1):.3f}"
    )

    negatives = [json.loads(line) for line in (args.data / "hard_negatives.jsonl").open(encoding="utf-8")]
    fp_by_kind: Counter[str] = Counter()
    n_by_kind: Counter[str] = Counter()
    for neg in negatives:
        a, b = neg["ids"]
        n_by_kind[neg["kind"]] += 1
        fp_by_kind[neg["kind"]] += cluster_of[a] == cluster_of[b]
    print("hard-negative false positives:")
    for kind in sorted(n_by_kind):
        print(f"  {kind:30s} {fp_by_kind[kind]}/{n_by_kind[kind]}")

    if args.show_errors:
        by_id = {item["id"]: item for item in items}
        wrong = sorted(pred - truth)[: args.show_errors]
        missed = sorted(truth - pred)[: args.show_errors]
        for title, rows in (("false pairs", wrong), ("missed pairs", missed)):
            print(title + ":")
            for a, b in rows:
                print(
                    f"  {a} {kind_of.get(a)} {method_of[a]} | {b} {kind_of.get(b)} {method_of[b]} | "
                    f"{by_id[a]['title'][:50]!r} | {by_id[b]['title'][:50]!r}"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
