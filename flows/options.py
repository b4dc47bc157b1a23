"""Settings to option objects: the only place that knows which knob feeds which stage."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import metadata

from tasks.nlp import NlpOptions

from flows.settings import Settings
from tasks.clean import CleanOptions
from tasks.dedup import DedupOptions
from tasks.inputs import SourceOptions
from tasks.load import LoadOptions


@dataclass(frozen=True, slots=True)
class RunOptions:
    """Everything one ingest run needs, frozen."""

    sources: SourceOptions
    clean: CleanOptions
    dedup: DedupOptions
    nlp: NlpOptions
    max_payload_bytes: int
    code_version: str


def code_version() -> str:
    """Return the installed mediawatch version."""
    try:
        return metadata.version("mediawatch")
    except metadata.PackageNotFoundError:
        return "unknown"


def model_version(model: str) -> str:
    """Return the version of the spaCy model package ``model`` without loading it ("" if unknown)."""
    try:
        import spacy

        meta = spacy.util.get_package_path(model) / "meta.json"
        import json

        return str(json.loads(meta.read_text()).get("version", ""))
    except (ImportError, OSError, ValueError):
        return ""


def build_run_options(settings: Settings) -> RunOptions:
    """Return the frozen options of a run built from ``settings``."""
    return RunOptions(
        sources=SourceOptions(load=LoadOptions(max_bytes=settings.max_file_bytes)),
        clean=CleanOptions(),
        dedup=DedupOptions(window_days=settings.dedup_window_days),
        nlp=NlpOptions(
            model=settings.model,
            batch_size=settings.nlp_batch_size,
            n_process=settings.n_process,
            with_figures=settings.with_figures,
        ),
        max_payload_bytes=settings.max_payload_bytes,
        code_version=code_version(),
    )
