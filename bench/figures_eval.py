"""Score the figures stage on the hand-annotated development set; prints scores, writes nothing.

    python -m bench.figures_eval [--data ../shared/data/figures] [--model en_core_web_sm] [--no-parse] [-v]
    python -m bench.figures_eval --file bench/data/figures_heldout.jsonl [-v]   # one set alone, no seed check
    python -m bench.figures_eval --file bench/data/figures_relative_dev.jsonl [-v]   # relative dates scored too

Scoring (see the set's README for the annotation guidelines):

* Each sentence is run through :func:`tasks.figures.extract_figures` as one text, with the sentence's
  ``published_at`` (when the source gives one) and the outlet's country (from the fundus folder: ``ca`` is
  Canada, ``uk`` Britain ...) as hints, the way the pipeline runs an article.
* Predicted and gold mentions are paired one-to-one by span overlap (largest overlap first). A pair is correct
  when kind, unit and value all agree (floats to 1e-6 relative; dates as strings, where a gold ``XXXX`` year
  matches any year, since the pipeline fills in the publication year the annotation leaves unknown).
* Relative dates ("last year", "on Sunday", "three days ago") are scored only in a file that annotates them,
  told by whether any gold mention there carries ``"relative": true`` (``bench/data/figures_relative_dev.jsonl``
  does; the development set, the seed and ``bench/data/figures_heldout.jsonl`` never annotated them). In such a
  file a relative date is scored like any other mention, its gold value resolved against the source's
  ``published_at`` in the outlet's local time, and a separate line gives P/R/F1 for relative dates alone: gold
  relative mentions, predictions flagged ``relative`` or paired with one, and the correct pairs among them. In
  any other file predictions with ``relative=True`` are left out before pairing, as they always were there.
* Objects: over the correct pairs whose gold object is not null, coverage is the share where an object was
  predicted; token F1 compares lower-cased word tokens of predicted and gold object.
* Object precision, over all correct pairs: an object is right when its token F1 with the gold object is at
  least 0.5, or when both are empty; precision = right among the predicted non-empty objects / predicted
  non-empty, coverage = predicted non-empty / gold non-empty, agreement = right (empty pairs included) / pairs.
  An empty object where the gold has one costs coverage, a wrong one costs precision: the stage prefers the
  first.
* The seed (``seed.jsonl``, every sentence of the seed article) must be entirely right: no missed, no spurious
  and no wrong mention.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

from bench import SHARED_DATA, part_of
from bench.dragnet_sets import resolve_rows

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tasks.figures import extract_figures, make_context
from tasks.nlp import PARSE_COMPONENTS, load_nlp
from tasks.records import Figure

# fundus keeps test pages under a folder per publisher country.
_FOLDER_COUNTRY = {"au": "AU", "ca": "CA", "uk": "GB", "us": "US", "ind": "IN", "za": "ZA", "my": "MY",
                   "pt": "PT", "mx": "MX", "be": "BE", "tz": "TZ", "de": "DE", "fr": "FR"}  # fmt: skip


def _context(row: dict[str, Any]) -> dict[str, Any]:
    src = row.get("source")
    if not isinstance(src, dict):
        return {}
    out: dict[str, Any] = {}
    m = re.search(r"test_data/(\w+)/", src.get("path", ""))
    if m and m.group(1) in _FOLDER_COUNTRY:
        out["country"] = _FOLDER_COUNTRY[m.group(1)]
    if src.get("repo", "").startswith("fomc") or "fed-statement" in src.get("repo", ""):
        out["country"] = "US"
    if src.get("country"):
        out["country"] = src["country"]
    if src.get("published_at"):
        out["published_at"] = datetime.fromisoformat(src["published_at"])
    return out


# An object counts as right at this token F1 with the gold object: it names the same thing, give or take a word.
OBJECT_RIGHT_F1 = 0.5


def _tokens(text: str | None) -> list[str]:
    return re.findall(r"\w+", (text or "").lower())


def token_f1(pred: str | None, gold: str | None) -> float:
    p, g = _tokens(pred), _tokens(gold)
    if not p or not g:
        return 0.0
    common = sum((Counter(p) & Counter(g)).values())
    if common == 0:
        return 0.0
    prec, rec = common / len(p), common / len(g)
    return 2 * prec * rec / (prec + rec)


def _value_ok(pred: Figure, gold: dict[str, Any]) -> bool:
    if gold["kind"] == "date":
        gv, pv = str(gold["value"]), pred.date_value or ""
        if gv.startswith("XXXX") and re.fullmatch(r"\d{4}" + re.escape(gv[4:]), pv):
            return True
        return gv == pv
    if pred.value is None or gold["value"] is None:
        return False
    # an annotator writes a repeating fraction rounded ("two-thirds": 0.6667); a wrong value is off by far more
    return math.isclose(pred.value, float(gold["value"]), rel_tol=1e-4, abs_tol=1e-9)


def _correct(pred: Figure, gold: dict[str, Any]) -> bool:
    return pred.kind == gold["kind"] and pred.unit == gold["unit"] and _value_ok(pred, gold)


def _pair(preds: list[Figure], golds: list[dict[str, Any]]) -> list[tuple[int, int]]:
    overlaps = []
    for i, p in enumerate(preds):
        for j, g in enumerate(golds):
            ov = min(p.end_char, g["end"]) - max(p.start_char, g["start"])
            if ov > 0:
                overlaps.append((ov, i, j))
    used_p: set[int] = set()
    used_g: set[int] = set()
    pairs = []
    for _ov, i, j in sorted(overlaps, reverse=True):
        if i not in used_p and j not in used_g:
            used_p.add(i)
            used_g.add(j)
            pairs.append((i, j))
    return pairs


class Score:
    def __init__(self) -> None:
        self.tp: Counter[str] = Counter()
        self.n_pred: Counter[str] = Counter()
        self.n_gold: Counter[str] = Counter()
        self.obj_total = 0
        self.obj_found = 0
        self.obj_f1: list[float] = []
        self.approx_ok = 0
        self.approx_n = 0
        # object precision over all correct pairs (see the module docstring)
        self.obj_pairs = 0
        self.obj_pred = 0
        self.obj_gold = 0
        self.obj_right_pred = 0
        self.obj_right = 0
        self.errors: list[str] = []
        # relative dates alone, scored only when the file annotates them (see the module docstring)
        self.score_relative = False
        self.rel_tp = 0
        self.rel_pred = 0
        self.rel_gold = 0

    def add(self, sid: str, text: str, preds: list[Figure], golds: list[dict[str, Any]]) -> None:
        if not self.score_relative:
            preds = [p for p in preds if not p.relative]
        for p in preds:
            self.n_pred[p.kind] += 1
        for g in golds:
            self.n_gold[g["kind"]] += 1
        pairs = _pair(preds, golds)
        paired_p = {i for i, _ in pairs}
        paired_g = {j for _, j in pairs}
        if self.score_relative:
            rel_pairs = [(i, j) for i, j in pairs if golds[j].get("relative")]
            self.rel_gold += sum(1 for g in golds if g.get("relative"))
            self.rel_pred += sum(1 for p in preds if p.relative) + sum(1 for i, _ in rel_pairs if not preds[i].relative)
            self.rel_tp += sum(1 for i, j in rel_pairs if _correct(preds[i], golds[j]))
        for i, j in pairs:
            p, g = preds[i], golds[j]
            if _correct(p, g):
                self.tp[g["kind"]] += 1
                self.approx_n += 1
                self.approx_ok += p.approximate == g["approximate"]
                if p.approximate != g["approximate"]:
                    self.errors.append(f"{sid} APPROX {g['text']!r} gold={g['approximate']} pred={p.modifier}")
                self._object_precision(sid, p, g)
                if g.get("object"):
                    self.obj_total += 1
                    if p.object:
                        self.obj_found += 1
                        f1 = token_f1(p.object, g["object"])
                        self.obj_f1.append(f1)
                        if f1 < 0.85:
                            self.errors.append(f"{sid} OBJECT {g['text']!r} gold={g['object']!r} pred={p.object!r}")
                    else:
                        self.errors.append(f"{sid} NO-OBJECT {g['text']!r} gold={g['object']!r}")
            else:
                pv = p.date_value if p.kind == "date" else p.value
                self.errors.append(
                    f"{sid} WRONG gold={g['text']!r} {g['kind']} {g['value']} {g['unit']} | "
                    f"pred={p.text!r} {p.kind} {pv} {p.unit}"
                )
        for j, g in enumerate(golds):
            if j not in paired_g:
                self.errors.append(f"{sid} MISSED {g['text']!r} {g['kind']} {g['value']} {g['unit']}")
        for i, p in enumerate(preds):
            if i not in paired_p:
                pv = p.date_value if p.kind == "date" else p.value
                self.errors.append(f"{sid} SPURIOUS {p.text!r} {p.kind} {pv} {p.unit}")

    def _object_precision(self, sid: str, p: Figure, g: dict[str, Any]) -> None:
        self.obj_pairs += 1
        self.obj_pred += bool(p.object)
        self.obj_gold += bool(g.get("object"))
        if p.object:
            right = token_f1(p.object, g.get("object")) >= OBJECT_RIGHT_F1
            self.obj_right_pred += right
            self.obj_right += right
            if not right and not g.get("object"):
                self.errors.append(f"{sid} OBJECT-NOT-IN-GOLD {g['text']!r} pred={p.object!r}")
        else:
            self.obj_right += not g.get("object")

    def object_precision(self) -> tuple[float, float, float]:
        """Return object precision, coverage and agreement over the correct pairs (see the module docstring)."""
        precision = self.obj_right_pred / self.obj_pred if self.obj_pred else 0.0
        coverage = self.obj_pred / self.obj_gold if self.obj_gold else 0.0
        agreement = self.obj_right / self.obj_pairs if self.obj_pairs else 0.0
        return precision, coverage, agreement

    def prf(self, kind: str | None = None) -> tuple[float, float, float]:
        tp = sum(self.tp.values()) if kind is None else self.tp[kind]
        npred = sum(self.n_pred.values()) if kind is None else self.n_pred[kind]
        ngold = sum(self.n_gold.values()) if kind is None else self.n_gold[kind]
        p = tp / npred if npred else 0.0
        r = tp / ngold if ngold else 0.0
        return p, r, (2 * p * r / (p + r) if p + r else 0.0)

    def prf_relative(self) -> tuple[float, float, float]:
        """Return P/R/F1 over relative dates alone (zeros when the file does not annotate them)."""
        p = self.rel_tp / self.rel_pred if self.rel_pred else 0.0
        r = self.rel_tp / self.rel_gold if self.rel_gold else 0.0
        return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def annotates_relative(rows: list[dict[str, Any]]) -> bool:
    """Return True when any gold mention of ``rows`` carries ``relative``: the file's relative dates are scored."""
    return any("relative" in m for row in rows for m in row["mentions"])


def _story(row: dict[str, Any]) -> str:
    """Return the story a sentence comes from (its dedup item, page or source file): the unit of the split."""
    src = row.get("source")
    if not isinstance(src, dict):
        return str(row["id"])
    if src.get("dragnet_page"):
        return f"dragnet:{src['dragnet_page']}"
    return str(src.get("dedup_item") or src.get("manifest_id") or src.get("url") or src.get("path") or row["id"])


def _run(path: Path, parse: Any, part: str = "all") -> tuple[Score, float]:
    score = Score()
    elapsed = 0.0
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = resolve_rows(rows)  # a set of pointers into the Dragnet pages gets its text from ../shared
    if part != "all":
        rows = [r for r in rows if part_of(_story(r)) == part]
    score.score_relative = annotates_relative(rows)
    for row in rows:
        text = row["text"]
        t0 = time.perf_counter()
        preds = extract_figures(text, make_context(text, **_context(row)), parse=parse,
                                sentences=[(0, len(text))])  # fmt: skip
        elapsed += time.perf_counter() - t0
        score.add(row["id"], text, preds, row["mentions"])
    return score, elapsed


def _print_scores(title: str, dev: Score, dev_time: float, label: str = "dev") -> None:
    """Print one set's scores: overall and per kind, objects, approximate flags, time."""
    print(title)
    p, r, f = dev.prf()
    print(f"overall   P={p:.3f} R={r:.3f} F1={f:.3f}   (gold {sum(dev.n_gold.values())}, "
          f"pred {sum(dev.n_pred.values())}, correct {sum(dev.tp.values())})")  # fmt: skip
    for kind in sorted(dev.n_gold):
        p, r, f = dev.prf(kind)
        print(f"  {kind:<9} P={p:.3f} R={r:.3f} F1={f:.3f}   (gold {dev.n_gold[kind]}, pred {dev.n_pred[kind]})")
    if dev.obj_total:
        cov = dev.obj_found / dev.obj_total
        mean_f1 = sum(dev.obj_f1) / len(dev.obj_f1) if dev.obj_f1 else 0.0
        good = sum(1 for x in dev.obj_f1 if x >= 0.85)
        print(f"objects   coverage={cov:.3f} ({dev.obj_found}/{dev.obj_total})  token F1 (found)={mean_f1:.3f}  "
              f"token F1>=0.85: {good}/{dev.obj_total}")  # fmt: skip
    if dev.obj_pairs:
        prec, cov, agree = dev.object_precision()
        print(f"object    precision={prec:.3f} ({dev.obj_right_pred}/{dev.obj_pred})  coverage={cov:.3f} "
              f"({dev.obj_pred}/{dev.obj_gold})  agreement={agree:.3f} ({dev.obj_right}/{dev.obj_pairs}; "
              f"right: token F1>={OBJECT_RIGHT_F1} or both empty)")  # fmt: skip
    if dev.score_relative:
        p, r, f = dev.prf_relative()
        print(f"relative  P={p:.3f} R={r:.3f} F1={f:.3f}   (gold {dev.rel_gold}, pred {dev.rel_pred}, "
              f"correct {dev.rel_tp}; relative dates only, in the figures above too)")  # fmt: skip
    else:
        print("relative  not annotated in this set: predicted relative dates left out")
    print(f"approximate flag right on {dev.approx_ok}/{dev.approx_n} correct mentions")
    print(f"time: {dev_time * 1000:.0f} ms for the {label} sentences (rules and parse)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=SHARED_DATA / "figures")
    ap.add_argument("--model", default="en_core_web_sm")
    ap.add_argument("--no-parse", action="store_true", help="rules only: no objects")
    ap.add_argument("-v", "--verbose", action="store_true", help="list every error")
    ap.add_argument("--file", type=Path, help="score this one jsonl alone (same format, no seed check)")
    ap.add_argument("--part", choices=("all", "tune", "check"), default="all",
                    help="with --file: only the stories of one half (split by a hash of the story, as the entity "
                         "scorer splits)")  # fmt: skip
    args = ap.parse_args()

    parse = None
    if not args.no_parse:
        # with the entity recogniser, as an ingest has it: a person is never a figure's object
        nlp = load_nlp(args.model, (*PARSE_COMPONENTS, "ner"))
        parse = nlp.pipe

    mode = "rules only" if args.no_parse else "with parse"
    if args.file is not None:
        scored, scored_time = _run(args.file, parse, args.part)
        title = f"figures set: {args.file}{'' if args.part == 'all' else f', part {args.part}'}"
        _print_scores(f"{title}  (model {args.model}, {mode})", scored, scored_time, "scored")
        if args.verbose:
            for e in scored.errors:
                print("  " + e)
        return

    dev, dev_time = _run(args.data / "figures.jsonl", parse)
    seed, _ = _run(args.data / "seed.jsonl", parse)

    _print_scores(f"figures dev set: {args.data / 'figures.jsonl'}  (model {args.model}, {mode})", dev, dev_time)
    seed_errors = [e for e in seed.errors if "OBJECT" not in e and "APPROX" not in e]
    sp, sr, sf = seed.prf()
    verdict = "PASS" if not seed_errors else "FAIL"
    print(f"seed      {verdict}  P={sp:.3f} R={sr:.3f} F1={sf:.3f}; objects "
          f"{sum(1 for x in seed.obj_f1 if x >= 0.85)}/{seed.obj_total} with token F1>=0.85")  # fmt: skip
    if args.verbose:
        for e in [*dev.errors, "--- seed ---", *seed.errors]:
            print("  " + e)


if __name__ == "__main__":
    main()
