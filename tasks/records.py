"""The records that flow between stages.

Every stage takes and returns these plain, typed values so that stages can be used from a notebook or a test
with no Prefect running. A stage returns either a record for the next stage or a :class:`Rejection`; the flow
routes rejections to the ``quarantine`` dataset, so an item that enters a run is never silently lost.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

PayloadKind = Literal["html", "text"]


# Stage names, as written in ``quarantine.stage`` and in the per-stage counts of ``runs``.
STAGE_LOAD = "load"
STAGE_FETCH = "fetch"
STAGE_CLEAN = "clean"
STAGE_DEDUP = "dedup"
STAGE_EXTRACT = "extract"
STAGE_WRITE = "write"


@dataclass(frozen=True, slots=True)
class SourceHints:
    """What a source says about its items before they are read: used to resolve ambiguity downstream.

    ``currency`` and ``country`` decide what a bare "$" means in the figures stage; ``language`` is a fallback
    when a page does not declare one.
    """

    name: str | None = None
    language: str | None = None
    country: str | None = None
    currency: str | None = None


@dataclass(frozen=True, slots=True)
class RawItem:
    """One item as it entered the run: a local file, a JSONL line, a fetched page or a WARC record.

    ``item_key`` is unique within a run and stable across reruns of the same input (for example
    ``path#L12`` for the twelfth JSONL line), so a rerun can recognise what it has already processed.
    Fields other than the payload are what the container told us (JSONL fields, feed entries, HTTP headers);
    the clean stage prefers them to what it extracts only where they are more trustworthy.
    """

    item_key: str
    source_uri: str
    payload: bytes
    kind: PayloadKind
    fetched_at: datetime
    url: str | None = None
    external_id: str | None = None
    title: str | None = None
    published_at: str | None = None
    published_at_source: str | None = None
    authors: tuple[str, ...] = ()
    source: str | None = None
    language: str | None = None
    http_headers: tuple[tuple[str, str], ...] = ()
    hints: SourceHints = field(default_factory=SourceHints)


@dataclass(frozen=True, slots=True)
class Rejection:
    """An item a stage could not turn into its output, with a snake_case reason code and the raw payload.

    ``payload`` is kept as given; the storage layer bounds its size when it writes the quarantine row.
    """

    item_key: str
    source_uri: str
    stage: str
    reason: str
    detail: str
    payload: bytes
    external_id: str | None = None
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Article:
    """A cleaned article: main text plus metadata, each metadata field with where it came from.

    ``provenance`` maps a field name (``title``, ``published_at``, ``authors``, ``language``, ``canonical_url``,
    ``site_name``, ...) to its origin: ``jsonld``, ``meta``, ``time_tag``, ``feed``, ``url``, ``text``,
    ``http_header``, ``input`` (given by the JSONL item) or ``detected``.
    ``published_tz_known`` is False when the page gave a time without a timezone (then UTC was assumed).
    """

    article_id: str
    item_key: str
    source_uri: str
    source: str
    text: str
    content_hash: str
    fetched_at: datetime
    title: str | None = None
    url: str | None = None
    canonical_url: str | None = None
    external_id: str | None = None
    authors: tuple[str, ...] = ()
    published_at: datetime | None = None
    published_tz_known: bool | None = None
    modified_at: datetime | None = None
    language: str | None = None
    site_name: str | None = None
    top_image: str | None = None
    section: str | None = None
    keywords: tuple[str, ...] = ()
    description: str | None = None
    is_teaser: bool = False
    teaser_reason: str | None = None
    word_count: int = 0
    provenance: dict[str, str] = field(default_factory=dict)
    extractor: str = ""
    extractor_version: str = ""
    hints: SourceHints = field(default_factory=SourceHints)


@dataclass(frozen=True, slots=True)
class DedupDecision:
    """What the dedup stage decided for one article.

    ``duplicate_of`` is None for an original. ``cluster_id`` is shared by an original and all its copies
    (the original's article_id), so "how many outlets ran this story" is a GROUP BY.
    """

    article_id: str
    cluster_id: str
    duplicate_of: str | None = None
    method: str | None = None
    similarity: float | None = None


@dataclass(frozen=True, slots=True)
class Entity:
    """One named-entity mention; offsets index into ``Article.text``.

    ``canonical`` is the in-article normalised name ("Li" after "Li Qiang" is "Li Qiang"); ``entity_id`` is a
    stable hash of label and canonical form so counts aggregate across articles; ``mention_count`` is how many
    mentions in the article share this entity_id.
    """

    text: str
    label: str
    canonical: str
    entity_id: str
    start_char: int
    end_char: int
    sentence_id: int | None = None
    mention_count: int = 1


@dataclass(frozen=True, slots=True)
class Figure:
    """One figure mention turned into data; offsets index into ``Article.text``.

    ``value`` is the fully scaled number (``US$6.6 billion`` is 6.6e9); dates carry ``date_value`` (ISO 8601
    at the precision written, ``XXXX`` for an unknown year) and no ``value``. ``low``/``high`` hold a range's
    bounds. ``bound`` is ``exact``, ``lower`` or ``upper``; ``role`` is ``level`` or ``change``.
    """

    text: str
    kind: str
    start_char: int
    end_char: int
    value: float | None = None
    date_value: str | None = None
    low: float | None = None
    high: float | None = None
    unit: str | None = None
    scale: float | None = None
    currency_ambiguous: bool = False
    approximate: bool = False
    modifier: str | None = None
    bound: str = "exact"
    role: str | None = None
    relative: bool = False
    object: str | None = None
    object_entity: str | None = None
    sentence_id: int | None = None
    sentence: str | None = None
