"""Score named entities (PER / ORG / LOC, exact spans) on a hand-annotated set; prints scores, writes nothing.

    python -m bench.entities_eval [--file bench/data/entities_fresh.jsonl] [--part all|tune|check] [-v]

Two systems read every sentence of the set as one text:

* ``spacy``: the model alone (``en_core_web_sm``, its full pipeline, ``doc.ents`` as they come);
* ``mediawatch``: the NLP stage as an ingest runs it (:func:`tasks.nlp.analyze_articles` on an English article
  holding the sentence: gazetteer, model, then the entity rules of :mod:`tasks.entities`), figures off.

Labels are mapped as CoNLL-2003 scores them: PERSON is PER, ORG is ORG, GPE, LOC and FAC are LOC; every other
label (NORP, PRODUCT, EVENT, LAW ...) is left out, as CoNLL's MISC is here. A predicted entity is right when its
start, end and mapped label all equal a gold entity's. Micro precision, recall and F1 over the part, overall and
per label.

With ``--tokenized`` every sentence is first rewritten as corpora such as CoNLL-2003 carry text: one space
between tokens, punctuation and a possessive "'s" split off ("Japan 's", "( AP )"), dotted abbreviations kept whole
("U.S."); the gold spans move with their tokens. It measures how the stage holds up on text in that form.

With ``--by-story`` the sentences of a story are read together, one per line, as one article (what an ingest
reads), so the stage's in-article rules (a surname after the full name is that person) come into play; spans are
scored per sentence as before.

Parts: the set's stories are split in two by a hash of their item id (``tune``: rules may be looked at and
changed for errors seen there; ``check``: scored only, the figure to quote). ``all`` is both.
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench import part_of
from bench.dragnet_sets import sentence_text

CONLL = {"PERSON": "PER", "ORG": "ORG", "GPE": "LOC", "LOC": "LOC", "FAC": "LOC"}
LABELS = ("PER", "ORG", "LOC")
DEFAULT = Path(__file__).resolve().parent / "data" / "entities_fresh.jsonl"

Span = tuple[int, int, str]


@dataclass(frozen=True, slots=True)
class Sentence:
    id: str
    item: str
    text: str
    gold: frozenset[Span]


def load(path: Path, part: str) -> list[Sentence]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        if part != "all" and part_of(row["item"]) != part:
            continue
        gold = frozenset((e["start"], e["end"], e["label"]) for e in row["entities"])
        # a set of pointers into the Dragnet pages (entities_fresh2.jsonl) gets its text from ../shared
        out.append(Sentence(row["id"], row["item"], sentence_text(row), gold))
    return out


_TOKEN = re.compile(r"(?:[A-Za-z]\.){2,}|\w+(?:[-&]\w+)*|['’]s\b|[^\w\s]")


def tokenized(sentence: Sentence) -> Sentence:
    """Return ``sentence`` with one space between its tokens and its gold spans moved with them (a gold boundary
    inside a token, which the tokens above do not make, would drop that entity)."""
    starts: dict[int, int] = {}
    ends: dict[int, int] = {}
    parts: list[str] = []
    pos = 0
    for m in _TOKEN.finditer(sentence.text):
        starts[m.start()] = pos
        ends[m.end()] = pos + len(m.group(0))
        parts.append(m.group(0))
        pos += len(m.group(0)) + 1
    gold = frozenset((starts[s], ends[e], label) for s, e, label in sentence.gold if s in starts and e in ends)
    return Sentence(sentence.id, sentence.item, " ".join(parts), gold)


def spacy_spans(sentences: Sequence[Sentence], model: str) -> list[frozenset[Span]]:
    import spacy

    from tasks.nlp import resolve_model

    nlp = spacy.load(resolve_model(model))
    return [
        frozenset((e.start_char, e.end_char, CONLL[e.label_]) for e in doc.ents if e.label_ in CONLL)
        for doc in nlp.pipe([s.text for s in sentences], batch_size=64)
    ]


def mediawatch_spans(sentences: Sequence[Sentence], model: str) -> list[frozenset[Span]]:
    from tasks.nlp import NlpOptions, analyze_articles
    from tasks.records import Article, SourceHints

    articles = [
        Article(
            article_id=s.id,
            item_key=s.id,
            source_uri="bench",
            source="bench",
            text=s.text,
            content_hash="",
            fetched_at=datetime.now(UTC),
            published_at=None,
            language="en",
            hints=SourceHints(),
        )
        for s in sentences
    ]
    results = analyze_articles(articles, NlpOptions(model=model, with_figures=False, n_process=1))
    return [
        frozenset((e.start_char, e.end_char, CONLL[e.label]) for e in entities if e.label in CONLL)
        for entities, _ in results
    ]


def by_story(sentences: Sequence[Sentence], read: Callable[[Sequence[Sentence], str], list[frozenset[Span]]],
             model: str) -> list[frozenset[Span]]:  # fmt: skip
    """Read each story's sentences as one text (one per line) with ``read``; return the spans per sentence."""
    stories: dict[str, list[int]] = {}
    for i, s in enumerate(sentences):
        stories.setdefault(s.item, []).append(i)
    joined: list[Sentence] = []
    offsets: list[list[tuple[int, int]]] = []
    for item, members in stories.items():
        starts: list[int] = []
        text = ""
        for i in members:
            starts.append(len(text))
            text += sentences[i].text + "\n"
        joined.append(Sentence(item, item, text, frozenset()))
        offsets.append(list(zip(members, starts, strict=True)))
    spans = read(joined, model)
    out: list[frozenset[Span]] = [frozenset()] * len(sentences)
    for story_spans, placed in zip(spans, offsets, strict=True):
        for i, start in placed:
            end = start + len(sentences[i].text)
            out[i] = frozenset((s - start, e - start, label) for s, e, label in story_spans if start <= s and e <= end)
    return out


def prf(right: int, predicted: int, gold: int) -> tuple[float, float, float]:
    p = right / predicted if predicted else 0.0
    r = right / gold if gold else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def score(sentences: Sequence[Sentence], predicted: Sequence[frozenset[Span]]) -> dict[str, tuple[int, int, int]]:
    """Return (right, predicted, gold) counts per label and under ``all``."""
    counts: Counter[tuple[str, str]] = Counter()
    for sentence, spans in zip(sentences, predicted, strict=True):
        for label in LABELS:
            g = {s for s in sentence.gold if s[2] == label}
            p = {s for s in spans if s[2] == label}
            counts[(label, "right")] += len(g & p)
            counts[(label, "predicted")] += len(p)
            counts[(label, "gold")] += len(g)
    table = {
        label: (counts[(label, "right")], counts[(label, "predicted")], counts[(label, "gold")]) for label in LABELS
    }
    right, predicted_all, gold = (sum(v[i] for v in table.values()) for i in range(3))
    table["all"] = (right, predicted_all, gold)
    return table


def show_errors(sentences: Iterable[Sentence], predicted: Iterable[frozenset[Span]]) -> None:
    for sentence, spans in zip(sentences, predicted, strict=True):
        missed, spurious = sentence.gold - spans, spans - sentence.gold
        if not missed and not spurious:
            continue
        print(f"\n{sentence.id}: {sentence.text}")
        for s, e, label in sorted(missed):
            print(f"   missed   {label:<4} {sentence.text[s:e]!r}")
        for s, e, label in sorted(spurious):
            print(f"   spurious {label:<4} {sentence.text[s:e]!r}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--file", type=Path, default=DEFAULT)
    ap.add_argument("--part", choices=("all", "tune", "check"), default="check")
    ap.add_argument("--model", default="en_core_web_sm")
    ap.add_argument("--by-story", action="store_true", help="read each story's sentences together, as one article")
    ap.add_argument("--tokenized", action="store_true", help="text with spaces between tokens, as CoNLL carries it")
    ap.add_argument("-v", "--verbose", action="store_true", help="print mediawatch's errors, sentence by sentence")
    args = ap.parse_args()
    sentences = load(args.file, args.part)
    if args.tokenized:
        sentences = [tokenized(s) for s in sentences]
    stories = len({s.item for s in sentences})
    print(f"{args.file.name}, part {args.part}: {len(sentences)} sentences from {stories} stories")
    if args.by_story:
        systems = {
            "spacy": by_story(sentences, spacy_spans, args.model),
            "mediawatch": by_story(sentences, mediawatch_spans, args.model),
        }
    else:
        systems = {"spacy": spacy_spans(sentences, args.model), "mediawatch": mediawatch_spans(sentences, args.model)}
    print(f"{'system':<11} {'label':<4} {'gold':>5} {'pred':>5} {'right':>5}     P      R      F1")
    for name, predicted in systems.items():
        for label, (right, pred, gold) in score(sentences, predicted).items():
            p, r, f = prf(right, pred, gold)
            print(f"{name:<11} {label:<4} {gold:5d} {pred:5d} {right:5d}  {p:.3f}  {r:.3f}  {f:.3f}")
    if args.verbose:
        show_errors(sentences, systems["mediawatch"])


if __name__ == "__main__":
    main()
