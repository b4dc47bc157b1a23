"""Settings to option objects: the only place that knows which knob feeds which stage."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import metadata

from flows.settings import Settings
from tasks.clean import CleanOptions
from tasks.dedup import DedupOptions
from tasks.fetch import FetchOptions
from tasks.inputs import SourceOptions
from tasks.load import LoadOptions
from tasks.nlp import NlpOptions, model_package_version


@dataclass(frozen=True, slots=True)
class RunOptions:
    """Everything one ingest run needs, frozen."""

    sources: SourceOptions
    clean: CleanOptions
    dedup: DedupOptions
    nlp: NlpOptions
    max_payload_bytes: int
    code_version: str
    keep_raw: bool = True


def code_version() -> str:
    """Return the installed mediawatch version."""
    try:
        return metadata.version("mediawatch")
    except metadata.PackageNotFoundError:
        return "unknown"


def model_version(model: str) -> str:
    """Return ``<package> <version>`` of the spaCy model ``model`` without loading it ("" if not installed): read
    from package metadata, so a run that analyses nothing never imports spaCy."""
    return model_package_version(model)


def fetch_options(settings: Settings) -> FetchOptions:
    """Return the fetch options from ``settings`` (empty strings keep the defaults)."""
    defaults = FetchOptions()
    return FetchOptions(
        contact=settings.contact or defaults.contact,
        user_agent=settings.user_agent or defaults.user_agent,
        host_delay_seconds=settings.host_delay_seconds,
        max_bytes=settings.max_bytes,
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
        total_timeout=settings.total_timeout,
        retries=settings.retries,
        refetch=settings.refetch,
        max_workers=settings.fetch_workers,
        host_budget_seconds=settings.fetch_host_budget_seconds,
        run_budget_seconds=settings.fetch_run_budget_seconds,
        allow_networks=tuple(c.strip() for c in settings.allow_networks.split(",") if c.strip()),
    )


def build_run_options(settings: Settings) -> RunOptions:
    """Return the frozen options of a run built from ``settings``."""
    return RunOptions(
        sources=SourceOptions(
            load=LoadOptions(max_bytes=settings.max_file_bytes, follow_symlinks=settings.follow_symlinks),
            fetch=fetch_options(settings),
            reprocess=settings.reprocess,
        ),
        clean=CleanOptions(
            workers=settings.clean_workers,
            timeout_seconds=settings.clean_timeout_seconds,
            max_text_chars=settings.max_text_chars,
        ),
        dedup=DedupOptions(window_days=settings.dedup_window_days),
        nlp=NlpOptions(
            model=settings.model,
            batch_size=settings.nlp_batch_size,
            n_process=settings.n_process,
            with_figures=settings.with_figures,
            max_text_chars=settings.max_text_chars,
        ),
        max_payload_bytes=settings.max_payload_bytes,
        code_version=code_version(),
        keep_raw=settings.keep_raw,
    )
