"""Sources to batches: what the run will read, planned up front and read batch by batch.

A source is a local file or directory (HTML, text, JSONL; WARC files inside a directory are read as WARC),
an http(s) URL (feed, sitemap, sitemap index, article page; the kind is detected when not given), a text
file of URLs, a ``.warc``/``.warc.gz`` file or a sources TOML file. Planning lists item references cheaply
(file paths, JSONL offsets, URLs to fetch) so the run knows its size and memory stays bounded; each batch is
read only when its turn comes, and WARC archives are streamed record by record.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import ParamSpec, TypeVar

from prefect import Task, task
from prefect.cache_policies import NO_CACHE
from prefect.tasks import exponential_backoff

from storage.fetch_state import FetchState
from storage.item_ledger import ItemLedger
from tasks.fetch import Fetcher, FetchOptions
from tasks.load import ContentCache, ItemRef, LoadOptions, discover_local, file_version, load_items, ref_from_key
from tasks.records import RawItem, Rejection
from tasks.sources import (
    URL_LIST_KEY_PREFIX,
    WARC_SUFFIXES,
    FetchTarget,
    SourceSpec,
    discover_targets,
    fetch_targets,
    iter_warc,
    parse_source,
    retry_on_transient,
    staged_keys,
)

P = ParamSpec("P")
R = TypeVar("R")
_URL = re.compile(r"^https?://", re.IGNORECASE)
# How many lines of a .txt file are looked at to tell a URL list from an article.
_SNIFF_LINES = 20
# Share of those lines that must be URLs for a .txt file to be a URL list: a list with a few broken lines is
# still a list (the broken lines are quarantined one by one), while an article quoting a link or two is not.
_URL_LIST_SHARE = 0.8


class SourceError(ValueError):
    """A source the user named cannot be used at all (a broken sources file): the run stops with this message."""


@dataclass(frozen=True, slots=True)
class SourceOptions:
    """How sources are read."""

    load: LoadOptions = field(default_factory=LoadOptions)
    fetch: FetchOptions = field(default_factory=FetchOptions)
    # Read items again even if an earlier run processed them from the same version of their file.
    reprocess: bool = False


@dataclass(frozen=True, slots=True)
class SourceBatch:
    """One batch: local references, pages to fetch, or records already read from a WARC stream."""

    local: tuple[ItemRef, ...] = ()
    targets: tuple[FetchTarget, ...] = ()
    items: tuple[RawItem, ...] = ()
    rejections: tuple[Rejection, ...] = ()
    # item_key -> version of its file, recorded in the item ledger once the batch is committed.
    versions: dict[str, str] = field(default_factory=dict)
    # The run's cache of the JSONL file being read, shared by consecutive batches of one file.
    cache: ContentCache | None = None

    def __len__(self) -> int:
        return len(self.local) + len(self.targets) + len(self.items) + len(self.rejections)


def fetch_keys(targets: Sequence[FetchTarget], items: Sequence[RawItem]) -> list[str]:
    """Return the fetch-state keys that reading ``targets`` and ``items`` stages: the targets' and those of
    the pages fetched during discovery."""
    return [t.key for t in targets] + staged_keys(items)


@dataclass(slots=True)
class SourcePlan:
    """Everything a run will read, as references, plus what failed before reading."""

    local: list[ItemRef] = field(default_factory=list)
    targets: list[FetchTarget] = field(default_factory=list)
    items: list[RawItem] = field(default_factory=list)
    warc: list[SourceSpec] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)
    unchanged: int = 0  # items an earlier run processed from the same file version: not read again
    cache: ContentCache = field(default_factory=ContentCache)

    @property
    def total_items(self) -> int:
        """Return the number of items known up front (WARC records are counted as they stream)."""
        return len(self.local) + len(self.targets) + len(self.items)

    def batches(self, size: int, options: SourceOptions, ledger: ItemLedger | None = None) -> Iterator[SourceBatch]:
        """Yield batches of at most ``size`` items: local files, then pages to fetch, then WARC records.

        WARC records that ``ledger`` says an earlier run processed from the same archive are passed over (and
        counted in ``unchanged``) unless ``options.reprocess``.
        """
        for start in range(0, len(self.local), size):
            refs = self.local[start : start + size]
            versions = {r.key: self.versions[r.key] for r in refs if r.key in self.versions}
            yield SourceBatch(local=tuple(refs), versions=versions, cache=self.cache)
        for start in range(0, len(self.targets), size):
            yield SourceBatch(targets=tuple(self.targets[start : start + size]))
        for start in range(0, len(self.items), size):
            yield SourceBatch(items=tuple(self.items[start : start + size]))
        for spec in self.warc:
            version = file_version(Path(spec.uri))
            records = iter_warc(spec, options.fetch)
            while chunk := list(islice(records, size)):
                versions = {r.item_key: version for r in chunk}
                done = ledger.processed(versions) if ledger is not None and not options.reprocess else set()
                self.unchanged += len(done)
                fresh = [r for r in chunk if r.item_key not in done]
                if fresh:
                    yield SourceBatch(
                        items=tuple(r for r in fresh if isinstance(r, RawItem)),
                        rejections=tuple(r for r in fresh if isinstance(r, Rejection)),
                        versions={r.item_key: version for r in fresh},
                    )


def is_url_list(path: Path) -> bool:
    """Return True when a text file is a list of URLs: a ``.urls`` file always; a ``.txt`` file when at least
    :data:`_URL_LIST_SHARE` of its first non-comment lines are http(s) URLs (else it is an article)."""
    if path.name.lower().endswith(".urls"):
        return True
    try:
        with path.open(encoding="utf-8", errors="replace") as handle:
            lines = [line.strip() for line in islice(handle, 200)]
    except OSError:
        return False
    lines = [line for line in lines if line and not line.startswith("#")][:_SNIFF_LINES]
    return bool(lines) and sum(1 for line in lines if _URL.match(line)) >= _URL_LIST_SHARE * len(lines)


def route_source(source: str) -> str:
    """Return how ``source`` is read: ``web`` (URL, URL list, sources TOML), ``warc``, or ``local``."""
    if _URL.match(source):
        return "web"
    path = Path(source).expanduser()
    name = path.name.lower()
    if name.endswith(WARC_SUFFIXES):
        return "warc"
    if path.is_file() and (name.endswith(".toml") or (name.endswith((".txt", ".urls")) and is_url_list(path))):
        return "web"
    return "local"


def plan_sources(
    sources: Sequence[str],
    options: SourceOptions,
    client: Fetcher,
    state: FetchState,
    ledger: ItemLedger | None = None,
) -> SourcePlan:
    """Return the plan for ``sources``: local references, pages to fetch (feeds and sitemaps expanded), WARC
    archives to stream; unreadable sources and dead feeds become rejections, non-news files are skipped.
    Local items that ``ledger`` says an earlier run processed from the same file version are left out (counted
    in ``unchanged``) unless ``options.reprocess``.

    Raises :class:`SourceError` for a source that names nothing usable (a broken sources TOML).
    """
    plan = SourcePlan()
    local: list[str] = []
    web: list[SourceSpec] = []
    for source in sources:
        route = route_source(source)
        if route == "local":
            local.append(source)
            continue
        try:
            specs = parse_source(source, follow_symlinks=options.load.follow_symlinks)
        except ValueError as exc:
            raise SourceError(f"cannot use source {source!r}: {exc}") from exc
        for spec in specs:
            (plan.warc if spec.kind == "warc" else web).append(spec)
            if spec.rate is not None and _URL.match(spec.uri):
                client.set_host_delay(spec.uri, 1.0 / spec.rate)
    refs, rejections, skipped = discover_local(local, options.load)
    file_versions: dict[str, str] = {}
    for ref in refs:
        if ref.path not in file_versions:
            file_versions[ref.path] = file_version(Path(ref.path))
        plan.versions[ref.key] = file_versions[ref.path]
    if ledger is not None and not options.reprocess:
        done = ledger.processed(plan.versions)
        plan.unchanged += len(done)
        refs = [r for r in refs if r.key not in done]
    plan.local.extend(refs)
    plan.rejections.extend(rejections)
    for path in skipped:
        if path.lower().endswith(WARC_SUFFIXES):
            plan.warc.extend(parse_source(path, follow_symlinks=options.load.follow_symlinks))
        else:
            plan.skipped.append(path)
    if web:
        targets, rejected, items = discover_targets(web, client, state, options.fetch)
        plan.targets.extend(targets)
        plan.rejections.extend(rejected)
        plan.items.extend(items)
    return plan


def plan_retry(rows: Sequence[dict[str, object]], options: SourceOptions) -> SourcePlan:
    """Return a plan that feeds quarantined items (``quarantine`` rows) through the pipeline again.

    Each item is read again from where it came from when that still exists (a local file the user may have
    fixed, a URL fetched again), else rebuilt from its kept payload when the payload was kept whole. Items that
    can be had neither way stay in quarantine and are listed in ``plan.skipped``.
    """
    plan = SourcePlan()
    for row in rows:
        key, url, payload = str(row["item_key"] or ""), row.get("url"), row.get("payload")
        from_web = key.startswith(("fetch:", "warc:", URL_LIST_KEY_PREFIX))
        ref = ref_from_key(key, options.load) if key and not from_web else None
        if ref is not None:
            plan.local.append(ref)
            plan.versions[ref.key] = file_version(Path(ref.path))
        elif isinstance(url, str) and _URL.match(url):
            plan.targets.append(FetchTarget(url=url, source_uri=str(row["source_uri"])))
        elif from_web and key.startswith(URL_LIST_KEY_PREFIX):
            plan.skipped.append(key)  # a line of a URL list that is no URL: fixed in the list, not here
        elif isinstance(payload, bytes) and payload.strip() and not row.get("payload_truncated"):
            external_id = row.get("external_id")
            plan.items.append(
                RawItem(
                    item_key=key,
                    source_uri=str(row["source_uri"]),
                    payload=payload,
                    kind="html" if payload.lstrip()[:1] == b"<" else "text",
                    fetched_at=datetime.now(UTC),
                    external_id=external_id if isinstance(external_id, str) else None,
                )
            )
        else:
            plan.skipped.append(key)
    return plan


def read_batch(
    batch: SourceBatch, options: SourceOptions, client: Fetcher, state: FetchState
) -> tuple[list[RawItem], list[Rejection]]:
    """Read one batch; return ``(items, rejections)``.

    Every reference yields an item or a rejection, except pages that an earlier run already fetched (or that
    answered 304): incremental runs skip them before they enter, and the client's counters report them.
    """
    items, rejections = load_items(batch.local, options.load, batch.cache, batch.versions)
    if batch.targets:
        fetched, failed = fetch_targets(batch.targets, client, state, options.fetch)
        items.extend(fetched)
        rejections.extend(failed)
    items.extend(batch.items)
    rejections.extend(batch.rejections)
    return items, rejections


# The client already retries each URL; these task retries catch what fails around it (a locked state file,
# a network outage longer than one URL's budget) and only when the failure is transient. The "fetch" tag lets
# a team cap fetching across processes and deployments with one Prefect concurrency limit
# (`prefect concurrency-limit create fetch 1`), since the per-host delay is enforced within a process.
def _fetching_task(name: str, fn: Callable[P, R]) -> Task[P, R]:
    return task(
        name=name,
        tags=["fetch"],
        cache_policy=NO_CACHE,
        retries=2,
        retry_delay_seconds=exponential_backoff(backoff_factor=10),
        retry_jitter_factor=0.5,
        retry_condition_fn=retry_on_transient,
    )(fn)


plan_sources_task = _fetching_task("discover", plan_sources)
read_batch_task = _fetching_task("load", read_batch)
