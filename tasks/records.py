"""The records that flow between stages.

Every stage takes and returns these plain, typed values so that stages can be used from a notebook or a test
with no Prefect running. A stage returns either a record for the next stage or a :class:`Rejection`; the flow
routes rejections to the ``quarantine`` dataset, so an item that enters a run is never silently lost.

A bad value in a field that is not the content (a date no parser reads, a ``+25:00`` offset, a lone UTF-16
surrogate in a title) does not cost the item: the stage repairs or drops the value, keeps the record and notes
a *repair code* in its ``repairs``; the write stage counts them per run. The codes:

- ``lone_surrogate``: a string held a lone UTF-16 surrogate (a JSON ``"\\ud800"`` escape with no partner), which
  no UTF-8 writer accepts; replaced with U+FFFD.
- ``control_characters``: the text held C0 control characters (a stray NUL from a broken export); removed.
- ``unparseable_date``: a published or modified time no parser reads ("yesterday-ish"); left out, the next
  source of the date (the input item, the URL) used if there is one.
- ``implausible_date``: a date before 1990 or more than a year ahead (a 1970 epoch placeholder); left out.
- ``bad_utc_offset``: a time whose UTC offset is impossible (``+25:00``); left out, as above.
- ``figures_failed``: figure extraction raised on the article; its entities are kept, its figures dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, fields, is_dataclass, replace
from datetime import datetime
from typing import Any, Literal, TypeVar

PayloadKind = Literal["html", "text"]


# Stage names, as written in ``quarantine.stage`` and in the per-stage counts of ``runs``.
STAGE_LOAD = "load"
STAGE_FETCH = "fetch"
STAGE_CLEAN = "clean"
STAGE_DEDUP = "dedup"
STAGE_EXTRACT = "extract"
STAGE_WRITE = "write"

# Repair codes (see the module docstring), as written in the per-run counts.
REPAIR_LONE_SURROGATE = "lone_surrogate"
REPAIR_CONTROL_CHARACTERS = "control_characters"
REPAIR_UNPARSEABLE_DATE = "unparseable_date"
REPAIR_IMPLAUSIBLE_DATE = "implausible_date"
REPAIR_BAD_UTC_OFFSET = "bad_utc_offset"
REPAIR_FIGURES_FAILED = "figures_failed"


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
    repairs: tuple[str, ...] = ()


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
    ``repairs`` holds the repair codes of the item and of its cleaning, each once.
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
    repairs: tuple[str, ...] = ()


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
    ``currency_source`` says where a money figure's currency came from (``symbol``, ``outlet_country``, ``text``,
    ``text_places`` or ``default``, the one ``currency_ambiguous`` case); ``in_table`` marks a figure read from a
    table row or a list of short numeric lines rather than from prose.
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
    currency_source: str | None = None
    in_table: bool = False
    approximate: bool = False
    modifier: str | None = None
    bound: str = "exact"
    role: str | None = None
    relative: bool = False
    object: str | None = None
    object_entity: str | None = None
    sentence_id: int | None = None
    sentence: str | None = None


@dataclass(frozen=True, slots=True)
class WatchMention:
    """One watch's match of one article: what the ``mentions`` dataset holds (``tasks.watch.matching``).

    ``terms`` are the query's positive terms that held, in canonical form; ``evidence`` the sentence (or title, or
    figure sentence) that shows the match, so an analyst sees why without opening the article.
    """

    watch: str
    fingerprint: str
    article_id: str
    terms: tuple[str, ...]
    evidence: str
    evidence_kind: str
    figure_text: str | None = None
    figure_kind: str | None = None
    figure_value: float | None = None
    figure_unit: str | None = None


class Analysis(tuple[list[Entity], list[Figure]]):
    """What the NLP stage found in one article: the pair ``(entities, figures)``, which unpacks as such.

    ``error`` is set (one line, the exception) when the model could not read the article's text at all; the
    write stage then quarantines the article instead of writing it. ``repairs`` holds repair codes such as
    ``figures_failed`` (figure extraction raised: entities kept, no figures).
    """

    error: str | None
    repairs: tuple[str, ...]

    def __new__(
        cls,
        entities: Iterable[Entity] = (),
        figures: Iterable[Figure] = (),
        error: str | None = None,
        repairs: tuple[str, ...] = (),
    ) -> Analysis:
        self = super().__new__(cls, (list(entities), list(figures)))
        self.error = error
        self.repairs = repairs
        return self

    @property
    def entities(self) -> list[Entity]:
        """The entity mentions, in text order."""
        return self[0]

    @property
    def figures(self) -> list[Figure]:
        """The figure mentions, in text order."""
        return self[1]

    def __reduce__(self) -> tuple[type[Analysis], tuple[list[Entity], list[Figure], str | None, tuple[str, ...]]]:
        # A tuple subclass is otherwise pickled as its items only (worker processes send these through pipes).
        return (Analysis, (self[0], self[1], self.error, self.repairs))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, tuple) or not tuple.__eq__(self, other):
            return False
        if isinstance(other, Analysis):
            return (self.error, self.repairs) == (other.error, other.repairs)
        return self.error is None and not self.repairs

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = None  # type: ignore[assignment]  # holds lists

    def __repr__(self) -> str:
        return f"Analysis(entities={self[0]!r}, figures={self[1]!r}, error={self.error!r}, repairs={self.repairs!r})"


# ------------------------------------------------------------------------------------------------ repairs

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_LINE_BREAKS = re.compile(r"\s*[\r\n]+\s*")
# Longest one-line error kept in a rejection's detail or an analysis: enough for the exception and its message.
MAX_ERROR_CHARS = 500

R = TypeVar("R")


def describe_error(exc: BaseException) -> str:
    """Return ``"TypeName: message"`` on one line, at most :data:`MAX_ERROR_CHARS` characters, always writable."""
    text = _LINE_BREAKS.sub(" ", f"{type(exc).__name__}: {exc}").strip()
    return fix_surrogates(text)[:MAX_ERROR_CHARS]


def fix_surrogates(text: str) -> str:
    """Return ``text`` with every lone UTF-16 surrogate replaced by U+FFFD (unchanged when it has none).

    A high and a low surrogate that stand next to each other (text decoded with ``surrogatepass``) are joined
    into the one character they encode rather than replaced.
    """
    if text.isascii() or not _LONE_SURROGATE.search(text):
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def _fixed(value: Any) -> Any:
    if isinstance(value, str):
        return fix_surrogates(value)
    if isinstance(value, tuple | list):
        items = [_fixed(v) for v in value]
        if all(a is b for a, b in zip(items, value, strict=True)):
            return value
        return tuple(items) if isinstance(value, tuple) else items
    if isinstance(value, dict):
        pairs = [(_fixed(k), _fixed(v)) for k, v in value.items()]
        if all(k is a and v is b for (k, v), (a, b) in zip(pairs, value.items(), strict=True)):
            return value
        return dict(pairs)
    if is_dataclass(value) and not isinstance(value, type):
        return repair_surrogates(value)[0]
    return value


def repair_surrogates(record: R) -> tuple[R, bool]:
    """Return ``record`` (a dataclass instance) with lone surrogates replaced in every string it holds, nested
    tuples, lists, dicts and records included, and whether anything changed; bytes are left as they are."""
    if not is_dataclass(record) or isinstance(record, type):
        fixed = _fixed(record)
        return fixed, fixed is not record
    changes: dict[str, Any] = {}
    for f in fields(record):
        value = getattr(record, f.name)
        new = _fixed(value)
        if new is not value:
            changes[f.name] = new
    if not changes:
        return record, False
    return replace(record, **changes), True


def with_repairs(repairs: Iterable[str], *more: str) -> tuple[str, ...]:
    """Return ``repairs`` followed by ``more``, each code once, in first-seen order."""
    return tuple(dict.fromkeys([*repairs, *more]))
