"""What watches cost at ingest: preparing an article once, then testing 100 watches against it; prints, writes nothing.

    python -m bench.watch_match_cost [--items ../shared/data/dedup/items.jsonl] [--limit 300] [--watches 100]

Takes the first ``--limit`` items of the dedup development set (real news bodies, every language it holds) and
``--watches`` queries generated with a fixed seed from the lists below (trade and policy terms, phrases, entity
names, figure conditions), and times, on CPU time of this process (best of ``--repeat`` passes, since the machine
may be shared):

- ``prepare``: tokenising and indexing one article, in µs per article and per 1,000 words;
- the watches: all of them against one prepared article, in µs per article and per watch;
- both as a share of the ingest cost of an article (``--ingest-ms``, 200 ms of CPU per article on the development
  machine: the NLP stage dominates). The target is at most 5 % for 100 watches.

Entities and figures are **approximations**, not the NLP stage's output: an entity is a run of capitalised words
(its key resolved through the alias table as an ORG, so "U.S." is the United States), a figure is a currency
symbol or a percent sign next to a number (object: the three words after it). They give entity and figure terms
realistic sets to look at; matching costs depend on their number, not on their quality.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from pathlib import Path

from bench import SHARED_DATA

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tasks.entities import entity_id_of, entity_key
from tasks.watch.match import EntityRef, FigureRef, MatchInput, match, prepare
from tasks.watch.query import Query, parse_query

# fmt: off
WORDS = [
    "tariff*", "sanction*", "export*", "import*", "subsid*", "quota", "embargo", "duties", "steel", "aluminium",
    "semiconductor*", "chips", "lithium", "graphite", "wheat", "rice", "fertiliser", "inflation", "recession",
    "deficit", "surplus", "currency", "yuan", "dollar", "euro", "bond*", "interest", "rates", "oil", "gas",
    "pipeline", "shipping", "freight", "port*", "strike*", "election*", "parliament", "minister", "summit",
    "negotiat*", "agreement", "treaty", "dumping", "investigation", "probe", "ban", "curbs", "licence*", "vaccine*",
    "climate", "emissions", "carbon", "solar", "battery", "batteries", "electric", "automaker*", "airline*",
]
PHRASES = [
    "rare earths", "export controls", "free trade agreement", "supply chain", "trade war", "central bank",
    "interest rates", "anti-dumping duties", "carbon border", "critical minerals", "electric vehicles",
    "trade deficit", "world trade organization", "national security", "price cap", "sanctions package",
    "green hydrogen", "food security", "minimum wage", "state aid",
]
ENTITIES = [
    "United States", "U.S.", "China", "European Union", "Germany", "France", "Japan", "India", "Russia", "Ukraine",
    "Brazil", "Mexico", "Canada", "United Kingdom", "WTO", "IMF", "NATO", "Federal Reserve", "ECB", "Beijing",
    "Washington", "Brussels", "Berlin", "Tokyo",
]
ORGS = [
    "Siemens", "Volkswagen", "Tesla", "Apple", "Nvidia", "ASML", "Huawei", "Boeing", "Airbus", "Google",
]
# fmt: on
FIGURES = [
    "kind = money AND value >= 1bn",
    "kind = money AND unit in (EUR, USD) AND value >= 100m",
    "kind = percent AND value > 10",
    "kind = money AND object ~ tariff*",
    "kind = percent AND object ~ (inflation OR growth OR unemployment)",
    "kind = quantity AND unit in (tonne, barrel) AND value >= 1m",
    "value >= 1e9 AND NOT approximate = true",
]
OUTLETS = ["reuters.com", "apnews.com", "bbc.co.uk", "spiegel.de", "lemonde.fr"]
LANGS = ["en", "de", "fr", "es"]


def make_watches(n: int, seed: int = 7) -> list[Query]:
    """Return ``n`` queries of assorted shapes drawn from the lists above (fixed seed: the same set every run)."""
    rng = random.Random(seed)

    def w() -> str:
        return rng.choice(WORDS)

    def p() -> str:
        return f'"{rng.choice(PHRASES)}"'

    def e() -> str:
        return f'entity:"{rng.choice(ENTITIES)}"'

    shapes = [
        lambda: f"{e()} AND ({w()} OR {w()} OR {p()})",
        lambda: f"{p()} NEAR/10 {w()}",
        lambda: f"({w()} OR {w()}) AND NOT {w()} AND lang:{rng.choice(LANGS)}",
        lambda: f"figure({rng.choice(FIGURES)}) AND ({w()} OR {e()})",
        lambda: f"title:{w()} OR {p()}",
        lambda: f'entity.ORG:"{rng.choice(ORGS)}" AND ({w()} OR figure({rng.choice(FIGURES)}))',
        lambda: f"outlet:{rng.choice(OUTLETS)} AND ({w()} OR {p()})",
        lambda: f"({e()} OR {e()}) AND {p()} AND NOT title:{w()}",
        lambda: f"{w()} {w()} {w()}",
        lambda: f"({p()} OR {p()} OR {p()}) AND ({e()} OR {w()})",
    ]
    return [parse_query(shapes[i % len(shapes)]()) for i in range(n)]


_CAPITALISED = re.compile(r"\b[A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*)*")
_MONEY = re.compile(r"([$€£])\s?(\d[\d,.]*)\s*(billion|million|bn|m)?\b\s*((?:\w+\s+){0,3})")
_PERCENT = re.compile(r"(\d[\d.,]*)\s?(?:%|percent|per cent)\s*((?:\w+\s+){0,3})")
_CURRENCY = {"$": "USD", "€": "EUR", "£": "GBP"}
_SCALE = {"billion": 1e9, "bn": 1e9, "million": 1e6, "m": 1e6}


def _number(text: str) -> float | None:
    try:
        return float(text.replace(",", "").rstrip("."))
    except ValueError:
        return None


def approximate_input(item: dict[str, str], index: int) -> MatchInput:
    """Return a :class:`MatchInput` for one item with rule-of-thumb entities and figures (see the module docstring)."""
    text = item["text"]
    entities = []
    for m in _CAPITALISED.finditer(text):
        name = m.group().rstrip(".")
        key = entity_key("ORG", name)
        entities.append(EntityRef(entity_id_of(key), key, name, m.group(), "ORG", m.start(), m.end()))
    figures = []
    for m in _MONEY.finditer(text):
        value = _number(m.group(2))
        if value is not None:
            value *= _SCALE.get(m.group(3) or "", 1.0)
        line_start = text.rfind("\n", 0, m.start()) + 1
        line_end = text.find("\n", m.end())
        sentence = text[line_start : line_end if line_end >= 0 else len(text)]
        figures.append(
            FigureRef(
                "money", value, None, None, _CURRENCY[m.group(1)], m.group(4).strip() or None, sentence,
                m.group().strip(), False, False, "symbol", m.start(), m.end(),
            )
        )  # fmt: skip
    for m in _PERCENT.finditer(text):
        figures.append(
            FigureRef(
                "percent", _number(m.group(1)), None, None, "percent", m.group(2).strip() or None, None,
                m.group().strip(), False, False, None, m.start(), m.end(),
            )
        )  # fmt: skip
    figures.sort(key=lambda f: f.start)
    return MatchInput(
        article_id=item.get("id") or str(index),
        title=item.get("title"),
        text=text,
        language=item.get("language"),
        source=item.get("outlet") or "bench",
        outlet=outlet_of_item(index),
        entities=tuple(entities),
        figures=tuple(figures),
    )


def outlet_of_item(index: int) -> str:
    """An outlet for item ``index`` (the development set's outlets are invented; these make outlet: terms work)."""
    return ["reuters.com", "uk.reuters.com", "apnews.com", "bbc.co.uk", "spiegel.de", "example.org"][index % 6]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=Path, default=SHARED_DATA / "dedup" / "items.jsonl")
    parser.add_argument("--limit", type=int, default=300)
    parser.add_argument("--watches", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--ingest-ms", type=float, default=200.0, help="CPU ms of ingest per article, for the share")
    args = parser.parse_args()

    items = [json.loads(line) for line in args.items.read_text(encoding="utf-8").splitlines()[: args.limit]]
    docs = [approximate_input(item, i) for i, item in enumerate(items) if item.get("text")]
    queries = make_watches(args.watches)
    words = sum(len((d.title or "").split()) + len(d.text.split()) for d in docs)

    first = prepare(docs[0])
    for q in queries:  # compile every query once, as the first article of a run does
        match(q, first)

    # As ingest does it: one article at a time, prepared, matched against every watch, dropped.
    clock = time.process_time
    best_prepare = best_match = float("inf")
    matches = 0
    for _ in range(args.repeat):
        spent_prepare = spent_match = 0.0
        matches = 0
        for d in docs:
            t0 = clock()
            prepared = prepare(d)
            t1 = clock()
            for q in queries:
                if match(q, prepared) is not None:
                    matches += 1
            spent_prepare += t1 - t0
            spent_match += clock() - t1
        best_prepare, best_match = min(best_prepare, spent_prepare), min(best_match, spent_match)

    n = len(docs)
    prep_us = best_prepare / n * 1e6
    match_us = best_match / n * 1e6
    share = (best_prepare + best_match) / n / (args.ingest_ms / 1000) * 100
    print(f"articles: {n} ({words / n:.0f} words on average, {sum(len(d.entities) for d in docs) / n:.0f} entities, "
          f"{sum(len(d.figures) for d in docs) / n:.1f} figures); watches: {len(queries)}")  # fmt: skip
    print(f"prepare:  {prep_us:8.1f} µs per article   ({prep_us / (words / n) * 1000:.0f} µs per 1,000 words)")
    print(f"watches:  {match_us:8.1f} µs per article   ({match_us / len(queries):.2f} µs per watch per article)")
    print(f"matches:  {matches} of {n * len(queries)} article-watch pairs")
    print(f"share of ingest ({args.ingest_ms:.0f} ms CPU per article): {share:.2f} %")


if __name__ == "__main__":
    main()
