"""Sources to batches: what the run will read, planned up front and read batch by batch.

A source is a local file or directory (HTML, text, JSONL), an http(s) URL (feed, sitemap, page), a ``.warc``
file or a sources TOML file. Planning lists item references cheaply (file paths, JSONL offsets, URLs to
fetch) so the run knows its size and memory stays bounded; each batch is read only when its turn comes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from prefect import task
from prefect.cache_policies import NO_CACHE

from tasks.load import ItemRef, LoadOptions, discover_local, load_items
from tasks.records import RawItem, Rejection


@dataclass(frozen=True, slots=True)
class SourceOptions:
    """How sources are read."""

    load: LoadOptions = field(default_factory=LoadOptions)


@dataclass(frozen=True, slots=True)
class SourceBatch:
    """One batch of item references."""

    local: tuple[ItemRef, ...] = ()

    def __len__(self) -> int:
        return len(self.local)


@dataclass(slots=True)
class SourcePlan:
    """Everything a run will read, as references, plus what failed before reading."""

    local: list[ItemRef] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    @property
    def total_items(self) -> int:
        """Return the number of items the batches will read."""
        return len(self.local)

    def batches(self, size: int) -> Iterator[SourceBatch]:
        """Yield the references in batches of at most ``size`` items."""
        for start in range(0, len(self.local), size):
            yield SourceBatch(local=tuple(self.local[start : start + size]))


def plan_sources(sources: Sequence[str], options: SourceOptions) -> SourcePlan:
    """Return the plan for ``sources``; unreadable sources become rejections, non-news files are skipped."""
    plan = SourcePlan()
    refs, rejections, skipped = discover_local(sources, options.load)
    plan.local.extend(refs)
    plan.rejections.extend(rejections)
    plan.skipped.extend(skipped)
    return plan


def read_batch(batch: SourceBatch, options: SourceOptions) -> tuple[list[RawItem], list[Rejection]]:
    """Read one batch; return ``(items, rejections)`` accounting for every reference in the batch."""
    return load_items(batch.local, options.load)


plan_sources_task = task(name="discover", cache_policy=NO_CACHE)(plan_sources)
read_batch_task = task(name="load", cache_policy=NO_CACHE)(read_batch)
