"""Per-source health: what each source gave a run, whether it failed, whether it drifted from its own past.

A *source* is one entry of a sources file, one feed, sitemap or page URL, or one input path given on the command
line (:func:`map_sources`). During a run a :class:`HealthTally` counts, per source, the requests made for it
(through a :class:`RecordingFetcher` around the run's HTTP client), the entries its feeds and sitemaps listed,
the items that entered from it and what cleaning and dedup made of them. At the end :meth:`HealthTally.rows`
gives one ``source_health`` row per source, judged against the source's own recent rows (:func:`drift_findings`),
and :func:`decide_outcome` turns the rows and the run's counts into the run's outcome with a one-line message:

* ``failed``: every source that was tried failed (none of its requests or files succeeded);
* ``degraded``: some sources failed, or more of the items that entered were quarantined than the threshold;
* ``completed``: everything else, "nothing new" and "no items found" included.

Nothing here emits events or sets states: the flow does, from these values.
"""

from __future__ import annotations

import json
import os
import statistics
import threading
import tomllib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from storage.schemas import columns
from tasks.fetch import Accept, BudgetExhaustedError, Fetcher, FetchError, FetchResponse, FetchStats
from tasks.inputs import route_source
from tasks.records import STAGE_FETCH, STAGE_LOAD, Article, DedupDecision, RawItem, Rejection
from tasks.sources import (
    FETCH_KEY_PREFIX,
    REASON_FEED_PARSE_ERROR,
    REASON_NOT_A_SOURCE,
    REASON_SITEMAP_PARSE_ERROR,
    FetchTarget,
    classify_url,
    parse_source,
)

OUTCOME_COMPLETED = "completed"
OUTCOME_DEGRADED = "degraded"
OUTCOME_FAILED = "failed"

STATUS_OK = "ok"
STATUS_FAILING = "failing"
STATUS_DRIFT = "drift"
STATUS_IDLE = "idle"  # nothing tried: everything known or unchanged, or an empty folder

KIND_LOCAL = "local"
KIND_URL_LIST = "url_list"
KIND_PATH = "path"  # a sources-file entry naming a file or folder (URL list, WARC files, another sources file)
KIND_OTHER = "other"

FETCHED = "fetched"
NOT_MODIFIED = "not_modified"
DEFERRED = "deferred"

# A listing that answered but whose body is not a feed or sitemap: the request "succeeded", the source did not.
_UNUSABLE_LISTING = frozenset({REASON_FEED_PARSE_ERROR, REASON_SITEMAP_PARSE_ERROR, REASON_NOT_A_SOURCE})
_INPUT_STAGES = frozenset({STAGE_LOAD, STAGE_FETCH})

# Drift is judged against the source's own last DRIFT_HISTORY_RUNS active runs, and only once it has
# DRIFT_MIN_RUNS of them: one earlier run is an anecdote (a slow news day), two agreeing ones are a habit.
DRIFT_HISTORY_RUNS = 5
DRIFT_MIN_RUNS = 2
# A run judges words and dates only when it read at least this many pages from the source: one odd page (a
# photo gallery, a live blog stub) must not flag a whole site.
DRIFT_MIN_PAGES = 2
# "Halves": a site redesign that cuts the extracted article body or hides the date does it at once, far below
# the day-to-day spread of a source's mean words (about ±30 % between runs of one outlet's feed).
DRIFT_RATIO = 0.5
# Date coverage is only judged for sources that usually date most of their pages.
DRIFT_MIN_DATE_SHARE = 0.2
# A rise of 4xx/5xx answers by a quarter of the requests (over at least DRIFT_MIN_REQUESTS of them): a few
# missing pages are normal, a quarter more is a blocked crawler or a broken site section.
DRIFT_ERROR_RISE = 0.25
DRIFT_MIN_REQUESTS = 4

# Sources named in a one-line message: enough to act on, short enough for a state message.
_NAMED = 3


# -- sources ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Source:
    """One source of a run: ``key`` is its stable identity across runs (URL or absolute path)."""

    key: str
    kind: str
    name: str | None = None


def _absolute(path: str | Path) -> str:
    """Return ``path`` as the loader names files under it: expanded and absolute, links not resolved."""
    return str(Path(path).expanduser().absolute())


@dataclass(slots=True)
class SourceMap:
    """The run's sources, and which source each URI (page URL, file path, feed URL) belongs to."""

    sources: dict[str, Source] = field(default_factory=dict)
    exact: dict[str, str] = field(default_factory=dict)
    prefixes: list[tuple[str, str]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, source: Source, uris: Iterable[str] = (), paths: Iterable[str] = ()) -> None:
        """Add ``source`` with the URIs that belong to it exactly and the folders or files it covers."""
        self.sources.setdefault(source.key, source)
        self.exact.setdefault(source.key, source.key)
        for uri in uris:
            self.exact.setdefault(uri, source.key)
        for path in paths:
            self.prefixes.append((path.rstrip(os.sep) or os.sep, source.key))
        self.prefixes.sort(key=lambda p: len(p[0]), reverse=True)

    def add_targets(self, targets: Iterable[FetchTarget]) -> None:
        """Remember that each target's page belongs to the source that listed it."""
        with self._lock:
            for target in targets:
                self.exact.setdefault(target.url, self.key_of(target.source_uri))

    def key_of(self, uri: str) -> str:
        """Return the key of the source ``uri`` belongs to: exactly known, under a source's path, on the host of
        exactly one web source; else ``uri`` itself becomes a source (kind ``other``)."""
        key = self.exact.get(uri)
        if key is not None:
            return key
        if "://" not in uri:
            plain = _absolute(uri)
            for prefix, owner in self.prefixes:
                if plain == prefix or plain.startswith(prefix + os.sep):
                    return owner
        else:
            host = _host(uri)
            owners = {k for k, s in self.sources.items() if s.kind != KIND_LOCAL and host and _host(k) == host}
            if len(owners) == 1:
                return owners.pop()
        self.sources.setdefault(uri, Source(uri, KIND_OTHER))
        return uri


def _host(uri: str) -> str:
    try:
        return urlsplit(uri).netloc.lower()
    except ValueError:
        return ""


def _uris_of(path: str | Path, kind: str | None, follow_symlinks: bool) -> list[str]:
    """Return the URIs a URL list, WARC file, folder or sources file names (none when it cannot be parsed: the
    run's own checks report that)."""
    try:
        specs = parse_source(path, kind=kind, follow_symlinks=follow_symlinks)  # type: ignore[arg-type]
    except ValueError:
        return []
    uris = [spec.uri for spec in specs]
    uris += [spec.rejection.source_uri for spec in specs if spec.rejection is not None]
    return uris


def _toml_entries(path: Path) -> list[dict[str, Any]]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return []
    entries: list[dict[str, Any]] = []
    for key in ("source", "sources"):
        value = data.get(key, [])
        if isinstance(value, list):
            entries.extend(e for e in value if isinstance(e, dict))
    return entries


def map_sources(given: Sequence[str], follow_symlinks: bool = False) -> SourceMap:
    """Return the sources named by what a run was given (command-line sources or a deployment's parameter).

    A local file or folder, a WARC file and a URL list are one source each (keyed by absolute path); a URL is one
    source; each entry of a sources file is one source (keyed by its URL, or by the path it names).
    """
    mapping = SourceMap()
    for raw in given:
        route = route_source(raw)
        if "://" in raw and route == "web":
            mapping.add(Source(raw, classify_url(raw)), uris=[raw])
        elif route in ("local", "warc"):
            key = _absolute(raw)
            uris = _uris_of(raw, None, follow_symlinks) if route == "warc" else []
            paths = {key, str(Path(key).resolve())}
            mapping.add(Source(key, KIND_LOCAL if route == "local" else "warc"), uris=uris, paths=paths)
        elif raw.lower().endswith(".toml"):
            _map_sources_file(mapping, Path(raw).expanduser(), follow_symlinks)
        else:
            key = _absolute(raw)
            mapping.add(Source(key, KIND_URL_LIST), uris=[raw, *_uris_of(raw, None, follow_symlinks)], paths=[key])
    return mapping


def _map_sources_file(mapping: SourceMap, toml: Path, follow_symlinks: bool) -> None:
    for entry in _toml_entries(toml):
        name = entry.get("name") if isinstance(entry.get("name"), str) else None
        kind = entry.get("kind") if isinstance(entry.get("kind"), str) else None
        if isinstance(entry.get("url"), str):
            url = entry["url"].strip()
            mapping.add(Source(url, kind or classify_url(url), name), uris=[url])
        elif isinstance(entry.get("path"), str):
            target = Path(entry["path"]).expanduser()
            target = target if target.is_absolute() else toml.parent / target
            key = _absolute(target)
            uris = _uris_of(target, kind, follow_symlinks)
            mapping.add(Source(key, KIND_PATH, name), uris=uris, paths={key, str(Path(key).resolve())})


# -- requests -----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FetchRecord:
    """How one request ended: ``outcome`` is ``fetched``, ``not_modified``, ``deferred`` or the failure reason."""

    url: str
    outcome: str
    status: int | None = None


class RecordingFetcher:
    """The run's HTTP client with a memory: every request goes to ``inner``, and how it ended is kept (per URL)
    for the per-source counts. ``on_page`` is called after each answered page request (progress within a batch).
    """

    def __init__(self, inner: Fetcher) -> None:
        self.inner = inner
        self.stats: FetchStats = inner.stats
        self.on_page: Callable[[], None] | None = None
        self._records: list[FetchRecord] = []
        self._lock = threading.Lock()

    def set_host_delay(self, url: str, seconds: float) -> None:
        """Pass a source's ``rate`` to the client."""
        self.inner.set_host_delay(url, seconds)

    def get(
        self,
        url: str,
        *,
        accept: Accept = "html",
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> FetchResponse:
        """Return ``inner.get(...)``, remembering how it ended (re-raising what it raised)."""
        try:
            response = self.inner.get(url, accept=accept, etag=etag, last_modified=last_modified)
        except BudgetExhaustedError:
            self._note(FetchRecord(url, DEFERRED))
            raise
        except FetchError as exc:
            self._note(FetchRecord(url, exc.reason, exc.status))
            raise
        self._note(FetchRecord(url, NOT_MODIFIED if response.not_modified else FETCHED, response.status))
        return response

    def _note(self, record: FetchRecord) -> None:
        with self._lock:
            self._records.append(record)
        if self.on_page is not None and record.outcome != DEFERRED:
            self.on_page()

    def drain(self) -> list[FetchRecord]:
        """Return the records kept since the last call, and forget them."""
        with self._lock:
            records, self._records = self._records, []
        return records


# -- figures ------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class SourceFigures:
    """What one source gave the run so far."""

    source: Source
    requests: int = 0
    fetched: int = 0
    not_modified: int = 0
    http_4xx: int = 0
    http_5xx: int = 0
    succeeded: int = 0  # requests answered, files and records read
    unsuccessful: int = 0  # requests failed, files and records not read, listings that were no listing
    failed_by_reason: Counter[str] = field(default_factory=Counter)
    listed: int = 0
    items_in: int = 0
    pages_cleaned: int = 0
    articles: int = 0
    teasers: int = 0
    duplicates: int = 0
    quarantined: int = 0
    words: int = 0
    with_date: int = 0
    with_author: int = 0
    language_mismatches: int = 0

    @property
    def failing(self) -> bool:
        """True when something was tried for this source and none of it succeeded."""
        return self.unsuccessful > 0 and self.succeeded <= 0


def _same_language(found: str | None, declared: str | None) -> bool:
    if not found or not declared:
        return True
    return found.split("-")[0].lower() == declared.split("-")[0].lower()


class HealthTally:
    """Per-source counts of one run, fed by the flow as batches pass (thread-safe)."""

    def __init__(self, sources: SourceMap) -> None:
        self.sources = sources
        self.figures: dict[str, SourceFigures] = {key: SourceFigures(source) for key, source in sources.sources.items()}
        self._originals: dict[str, str] = {}  # article_id -> source key, to take back originals not written
        self._lock = threading.Lock()

    def _of(self, uri: str) -> SourceFigures:
        key = self.sources.key_of(uri)
        figures = self.figures.get(key)
        if figures is None:
            figures = self.figures[key] = SourceFigures(self.sources.sources[key])
        return figures

    def add_fetches(self, records: Iterable[FetchRecord]) -> None:
        """Count requests: answered (200, 304), failed by status class, or left for the next run (not counted)."""
        with self._lock:
            for record in records:
                if record.outcome == DEFERRED:
                    continue
                figures = self._of(record.url)
                figures.requests += 1
                if record.outcome == FETCHED:
                    figures.fetched += 1
                    figures.succeeded += 1
                elif record.outcome == NOT_MODIFIED:
                    figures.not_modified += 1
                    figures.succeeded += 1
                else:
                    figures.unsuccessful += 1
                    if record.status is not None and 400 <= record.status <= 499:
                        figures.http_4xx += 1
                    elif record.status is not None and 500 <= record.status <= 599:
                        figures.http_5xx += 1

    def add_listed(self, targets: Sequence[FetchTarget]) -> None:
        """Count the pages feeds and sitemaps listed (known ones too: a feed that lists nothing new still lists)."""
        self.sources.add_targets(targets)
        with self._lock:
            for target in targets:
                self._of(target.source_uri).listed += 1

    def add_read(self, items: Sequence[RawItem], rejections: Sequence[Rejection]) -> None:
        """Count what entered the run from each source: items read, and items rejected on the way in."""
        with self._lock:
            for item in items:
                figures = self._of(item.source_uri)
                figures.items_in += 1
                if not item.item_key.startswith(FETCH_KEY_PREFIX):  # pages were counted as requests
                    figures.succeeded += 1
            for rejection in rejections:
                figures = self._of(rejection.source_uri)
                figures.items_in += 1
                if rejection.stage not in _INPUT_STAGES:
                    continue
                figures.failed_by_reason[rejection.reason] += 1
                if rejection.reason in _UNUSABLE_LISTING:  # it answered, but not with a listing
                    figures.succeeded -= 1
                    figures.unsuccessful += 1
                elif not rejection.item_key.startswith(FETCH_KEY_PREFIX):  # files, records, URL list lines
                    figures.unsuccessful += 1

    def add_cleaned(self, articles: Sequence[Article], decisions: Sequence[DedupDecision]) -> None:
        """Count what cleaning and dedup made of the pages: words, dates, authors, teasers, copies."""
        with self._lock:
            for article, decision in zip(articles, decisions, strict=True):
                figures = self._of(article.source_uri)
                figures.pages_cleaned += 1
                figures.words += article.word_count
                figures.teasers += article.is_teaser
                figures.with_date += article.published_at is not None
                figures.with_author += bool(article.authors)
                figures.language_mismatches += not _same_language(article.language, article.hints.language)
                if decision.duplicate_of is None:
                    figures.articles += 1
                    self._originals[article.article_id] = figures.source.key
                else:
                    figures.duplicates += 1

    def add_quarantined(self, rejections: Sequence[Rejection]) -> None:
        """Count items quarantined at load, fetch, clean or dedup, by source."""
        with self._lock:
            for rejection in rejections:
                self._of(rejection.source_uri).quarantined += 1

    def forget_originals(self, article_ids: Iterable[str]) -> None:
        """Take back originals quarantined at extract or write (they are not articles after all)."""
        with self._lock:
            for article_id in article_ids:
                key = self._originals.pop(article_id, None)
                if key is not None:
                    self.figures[key].articles -= 1
                    self.figures[key].quarantined += 1

    def rows(self, started_at: datetime, history: Mapping[str, Sequence[Mapping[str, Any]]]) -> list[dict[str, Any]]:
        """Return one ``source_health`` row (without ``run_id``) per source, judged against ``history`` (each
        source's earlier rows, newest first)."""
        with self._lock:
            figures = sorted(self.figures.values(), key=lambda f: f.source.key)
        rows: list[dict[str, Any]] = []
        for fig in figures:
            if fig.source.kind == KIND_OTHER and not (fig.items_in or fig.requests):
                continue
            row = _row(fig, started_at)
            row["findings"] = drift_findings(row, history.get(fig.source.key, ()))
            if fig.failing:
                row["status"] = STATUS_FAILING
            elif row["findings"]:
                row["status"] = STATUS_DRIFT
            elif fig.succeeded <= 0 and fig.unsuccessful <= 0 and fig.items_in == 0:
                row["status"] = STATUS_IDLE
            rows.append(row)
        return rows


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _row(f: SourceFigures, started_at: datetime) -> dict[str, Any]:
    return {
        "source": f.source.key,
        "kind": f.source.kind,
        "name": f.source.name,
        "started_at": started_at,
        "status": STATUS_OK,
        "findings": [],
        "requests": f.requests,
        "fetched": f.fetched,
        "not_modified": f.not_modified,
        "http_4xx": f.http_4xx,
        "http_5xx": f.http_5xx,
        "failed": sum(f.failed_by_reason.values()),
        "failed_by_reason": json.dumps(dict(sorted(f.failed_by_reason.items()))),
        "listed": f.listed,
        "items_in": f.items_in,
        "pages_cleaned": f.pages_cleaned,
        "articles": f.articles,
        "teasers": f.teasers,
        "duplicates": f.duplicates,
        "quarantined": f.quarantined,
        "mean_words": round(f.words / f.pages_cleaned, 1) if f.pages_cleaned else None,
        "date_share": _share(f.with_date, f.pages_cleaned),
        "author_share": _share(f.with_author, f.pages_cleaned),
        "language_mismatches": f.language_mismatches,
    }


# -- drift --------------------------------------------------------------------------------------------------


def _baseline(history: Sequence[Mapping[str, Any]], value: Callable[[Mapping[str, Any]], float | None]) -> float | None:
    """Return the median of ``value`` over the newest :data:`DRIFT_HISTORY_RUNS` history rows that have one, or
    None with fewer than :data:`DRIFT_MIN_RUNS` of them."""
    values = [v for v in (value(row) for row in history) if v is not None][:DRIFT_HISTORY_RUNS]
    return statistics.median(values) if len(values) >= DRIFT_MIN_RUNS else None


def _pages_read(row: Mapping[str, Any]) -> int:
    return int(row["items_in"]) - int(row["failed"])


def _answered(row: Mapping[str, Any]) -> int:
    return int(row["fetched"]) + int(row["not_modified"])


def drift_findings(row: Mapping[str, Any], history: Sequence[Mapping[str, Any]]) -> list[str]:
    """Return how ``row`` departs from the source's own recent rows (``history``, newest first), one short line
    per finding; empty when it does not, or when the history is too short to say.

    Findings: words per article halved, share of pages with a date halved (for sources that usually date
    them), a feed or sitemap that answered but listed nothing after listing items before, and a rise of 4xx/5xx
    answers by :data:`DRIFT_ERROR_RISE` of the requests. Each figure is compared with its median over the last
    :data:`DRIFT_HISTORY_RUNS` runs that measured it (a run that read no page says nothing about words).
    """
    findings: list[str] = []
    if _pages_read(row) >= DRIFT_MIN_PAGES:
        words = _baseline(history, lambda h: h["mean_words"] if h.get("pages_cleaned") else None)
        current = float(row["mean_words"] or 0.0)
        if words and current < DRIFT_RATIO * words:
            findings.append(f"words per article {current:.0f}, was {words:.0f}")
        dated = _baseline(history, lambda h: h["date_share"] if h.get("pages_cleaned") else None)
        share = float(row["date_share"] or 0.0)
        if dated is not None and dated >= DRIFT_MIN_DATE_SHARE and share < DRIFT_RATIO * dated:
            findings.append(f"pages with a date {share:.0%}, was {dated:.0%}")
    listed = _baseline(history, lambda h: float(h["listed"]) if _answered(h) else None)
    if listed and _answered(row) and not int(row["listed"]):
        findings.append(f"listed no items, listed {listed:.0f} before")
    if int(row["requests"]) >= DRIFT_MIN_REQUESTS:
        errors = _baseline(
            history,
            lambda h: (int(h["http_4xx"]) + int(h["http_5xx"])) / int(h["requests"]) if h.get("requests") else None,
        )
        current_errors = (int(row["http_4xx"]) + int(row["http_5xx"])) / int(row["requests"])
        if errors is not None and current_errors - errors >= DRIFT_ERROR_RISE:
            findings.append(f"4xx/5xx answers {current_errors:.0%} of requests, was {errors:.0%}")
    return findings


# -- outcome ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a run's result means: ``kind`` (completed, degraded, failed) and a one-line ``message``."""

    kind: str
    message: str
    failing: tuple[str, ...] = ()


def _reasons(rows: Iterable[Mapping[str, Any]]) -> str:
    total: Counter[str] = Counter()
    for row in rows:
        total.update(json.loads(row.get("failed_by_reason") or "{}"))
    return ", ".join(f"{reason} {n}" for reason, n in total.most_common(_NAMED))


def _named(rows: Sequence[Mapping[str, Any]]) -> str:
    names = [str(row.get("name") or row["source"]) for row in rows[:_NAMED]]
    more = f" +{len(rows) - _NAMED}" if len(rows) > _NAMED else ""
    return ", ".join(names) + more


def decide_outcome(
    rows: Sequence[Mapping[str, Any]],
    counts: Mapping[str, int],
    unchanged: int,
    quarantine_threshold: float,
) -> Outcome:
    """Return the run's outcome from its ``source_health`` rows and its ``counts`` (``items_in``, ``articles``,
    ``duplicates``, ``quarantined``); ``unchanged`` is how many items were skipped as already processed.

    Failed when every source that was tried failed; degraded when some did, or when the share of items that
    entered and were quarantined is over ``quarantine_threshold``; completed otherwise.
    """
    failing = [row for row in rows if row["status"] == STATUS_FAILING]
    tried = [row for row in rows if row["status"] != STATUS_IDLE]
    keys = tuple(str(row["source"]) for row in failing)
    reasons = _reasons(failing)
    if failing and len(failing) == len(tried):
        what = "the source" if len(failing) == 1 else f"all {len(failing)} sources"
        return Outcome(OUTCOME_FAILED, f"every source failed: {what} ({_named(failing)}): {reasons}", keys)
    problems: list[str] = []
    if failing:
        problems.append(f"{len(failing)} of {len(tried)} sources failed ({_named(failing)}): {reasons}")
    items_in, quarantined = counts.get("items_in", 0), counts.get("quarantined", 0)
    if items_in and quarantined / items_in > quarantine_threshold:
        problems.append(
            f"{quarantined} of {items_in} items quarantined ({quarantined / items_in:.0%}, "
            f"over the {quarantine_threshold:.0%} threshold)"
        )
    if problems:
        return Outcome(OUTCOME_DEGRADED, "degraded: " + "; ".join(problems), keys)
    if not items_in:
        message = f"nothing new: {unchanged} items skipped as unchanged" if unchanged else "no items found"
        return Outcome(OUTCOME_COMPLETED, message)
    message = (
        f"{items_in} items in: {counts.get('articles', 0)} articles, {counts.get('duplicates', 0)} duplicates, "
        f"{quarantined} quarantined"
    )
    if unchanged:
        message += f"; {unchanged} unchanged items skipped"
    return Outcome(OUTCOME_COMPLETED, message)


# -- events -------------------------------------------------------------------------------------------------


# The row's columns an event carries as they are, derived from the schema so a new column reaches the events too.
# Left out: the two JSON-shaped ones (decoded below), the run id (the caller adds it with the run's name; the rows
# of :meth:`HealthTally.rows` have none yet), the start (the event's own time) and the storage schema version.
_PAYLOAD_COLUMNS = tuple(
    name
    for name in columns("source_health")
    if name not in {"run_id", "started_at", "schema_version", "failed_by_reason", "findings"}
)


def source_payload(row: Mapping[str, Any]) -> dict[str, Any]:
    """Return a source's figures as an event payload (plain JSON values)."""
    payload = {name: row[name] for name in _PAYLOAD_COLUMNS}
    payload["failed_by_reason"] = json.loads(row.get("failed_by_reason") or "{}")
    payload["findings"] = list(row.get("findings") or [])
    return payload
