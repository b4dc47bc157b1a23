"""The ingest flow: news items in, partitioned Parquet datasets out.

The recipe, batch by batch (bounded memory, a handful of task runs per batch rather than one per article;
a batch is read while the previous one is cleaned in worker processes and the one before it is extracted in
others, so both cores stay busy):

0. check what the run was given (settings, sources, paths): a mistake ends the run at once, Failed, not retried
1. discover and load the items (local files, JSONL lines, feeds, sitemaps, pages, WARC records)
2. clean: main text and metadata
3. dedup: originals go on, copies are recorded against their original
4. extract: entities and figures from the originals
5. write: one atomic commit per batch into the lake (articles with their watch mentions), then the run's counts
6. watch: spike and first alerts of the watches on the days the run wrote to (events for new ones)
7. judge: one ``source_health`` row per source (drift against its own recent runs) and the run's outcome
8. report: counts, outcome and source health as Prefect artifacts
9. alert: events for a degraded run and for failing or drifting sources; the final state says the outcome
"""

from __future__ import annotations

import contextlib
import functools
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, TypeVar, cast

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import State
from prefect.context import FlowRunContext
from prefect.futures import PrefectFuture
from prefect.runtime import flow_run
from prefect.states import Cancelled
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner
from prefect.utilities.annotations import quote

from flows import progress
from flows.alerts import emit_run_events
from flows.checks import RunRefused, build_settings, check_data_dir, check_sources, uses_web
from flows.json_flow import json_flow
from flows.options import RunOptions, build_run_options, model_version
from flows.outcome import failed_attempt, final_state, log_outcome, refuse
from flows.report import publish_run_artifacts
from flows.settings import Settings, open_lake
from flows.watch import alert_step, detect_options, run_watches
from storage.fetch_state import FetchState
from storage.item_ledger import ItemLedger
from storage.lake import Lake, LakeLockedError, Settles, batch_stem
from storage.query import unresolved_quarantine
from storage.runs import (
    STATE_COMPLETED,
    STATE_FAILED,
    RunLedger,
    mark_crashed_runs,
    recent_source_health,
    write_source_health,
)
from storage.state import bind_state_dir
from tasks.clean import CleanOptions, clean_items, clean_items_task
from tasks.dedup import DedupIndex, check_articles_task, relabel_known_copies, relabel_same_run
from tasks.fetch import FetchClient
from tasks.health import (
    DRIFT_HISTORY_RUNS,
    OUTCOME_FAILED,
    HealthTally,
    Outcome,
    RecordingFetcher,
    SourceMap,
    decide_outcome,
    map_sources,
)
from tasks.index import open_index, persist_index, recorded_copies
from tasks.inputs import SourceBatch, SourcePlan, fetch_keys, plan_retry, plan_sources_task, read_batch_task
from tasks.nlp import Analysis, NlpOptions, analyze_articles, analyze_articles_task
from tasks.records import Article, DedupDecision, RawItem, Rejection
from tasks.watch.watches import Watch
from tasks.write import BatchCounts, write_batch_task

T = TypeVar("T")
FLOW_NAME = "ingest-news"
SKIPPED_EXAMPLES = 20
RETRY_FLOW_NAME = "retry-quarantine"
# How far back a source's own runs are read for the drift check: a month of scheduled runs is plenty to find the
# last few that read pages, and older partitions are not opened at all.
HEALTH_HISTORY_DAYS = 30
PLACEHOLDER_CONTACT = (
    "MEDIAWATCH_CONTACT is not set: requests name a placeholder contact; set it to an e-mail or URL where sites "
    "can reach you"
)


def as_is(value: T) -> T:
    """Pass ``value`` to a task without Prefect walking it.

    Prefect visits every element of a task's arguments twice (to find futures to resolve and to record
    upstream inputs); for a batch of 200 articles and their payloads that cost about an eighth of the flow
    process's CPU. Batches hold no futures, so they are passed quoted, on the default thread runner only:
    prefect-dask's runner rebuilds a quoted argument as a plain tuple when it looks for futures in it, and
    serialises every argument anyway.
    """
    context = FlowRunContext.get()
    if context is not None and isinstance(context.task_runner, ThreadPoolTaskRunner):
        return cast(T, quote(value))
    return value


def _run_name() -> str:
    params = flow_run.parameters or {}
    sources = params.get("sources") or []
    label = ", ".join(str(s).rstrip("/").rsplit("/", 1)[-1] for s in sources[:2]) or "nothing"
    if len(sources) > 2:
        label += f" +{len(sources) - 2}"
    return f"ingest {label} {datetime.now(UTC):%Y-%m-%d %H:%M}"


@dataclass(slots=True)
class Run:
    """What one run holds open: the lake (locked), its ledger, the dedup index and the fetch client and state."""

    opts: RunOptions
    lake: Lake
    ledger: RunLedger
    index: DedupIndex
    client: RecordingFetcher
    state: FetchState
    items: ItemLedger
    health: HealthTally
    seen: set[str] = field(default_factory=set)  # originals of this run, to tell a rerun from a same-URL copy
    copies: set[str] = field(default_factory=set)  # copies already in `duplicates`: recorded once, ever
    watches: tuple[Watch, ...] = ()  # matched in the write step: each article's mentions commit with it
    # Fetch-state keys of pages fetched but not yet written (discovered pages, batches in flight): a commit of
    # the fetch state leaves them pending, so a crash makes the next run fetch them again.
    unsettled: Counter[str] = field(default_factory=Counter)


@dataclass(slots=True)
class Loaded:
    """A batch that has been read and whose cleaning is under way in the background."""

    number: int
    size: int
    versions: dict[str, str]
    fetch_keys: list[str]
    items: list[RawItem]
    rejected: list[Rejection]
    cleaning: PrefectFuture[tuple[list[Article], list[Rejection]]]
    stepped: bool = False  # progress reported within the batch by the cleaning task itself


@dataclass(slots=True)
class Extracting:
    """A batch that has been cleaned and deduplicated and whose extraction is under way in the background."""

    loaded: Loaded
    articles: list[Article]
    decisions: list[DedupDecision]
    rejected: list[Rejection]
    extracting: PrefectFuture[list[Analysis]]
    merges: dict[str, str]
    stepped: int = 0  # items whose extraction progress the extraction task reported itself


@dataclass(slots=True)
class Writing:
    """A batch whose write is under way in the background, and its commit stem."""

    loaded: Loaded
    future: PrefectFuture[BatchCounts]
    stem: str


def clean_in_steps(
    items: Sequence[RawItem], options: CleanOptions, on_step: Callable[[int], None]
) -> tuple[list[Article], list[Rejection]]:
    """Return what :func:`~tasks.clean.clean_items` returns for ``items``, with ``on_step(n)`` as items finish:
    progress bars move item by item within the batch."""
    return clean_items(items, options, on_step)


def analyze_in_steps(
    articles: Sequence[Article], options: NlpOptions, on_step: Callable[[int], None]
) -> list[Analysis]:
    """Return what :func:`~tasks.nlp.analyze_articles` returns for ``articles``, analysed a few at a time with
    ``on_step(n)`` after each step: progress bars move within the batch."""
    parts = progress.in_steps(lambda chunk: analyze_articles(chunk, options), articles, progress.EXTRACT_STEP, on_step)
    return [analysis for part in parts for analysis in part]


# The same task names as the batch-at-once tasks: one task run per batch and stage either way.
clean_in_steps_task = task(name="clean", cache_policy=NO_CACHE)(clean_in_steps)
analyze_in_steps_task = task(name="extract", cache_policy=NO_CACHE)(analyze_in_steps)


def _stepwise() -> bool:
    """True when progress is shown within batches (bars on a terminal) and tasks run in this process's threads
    (a Dask worker cannot report to the bars)."""
    context = FlowRunContext.get()
    threads = context is not None and isinstance(context.task_runner, ThreadPoolTaskRunner)
    return threads and progress.current().fine


def _load_batch(number: int, batch: SourceBatch, run: Run) -> tuple[int, SourceBatch, list[RawItem], list[Rejection]]:
    """Step 1 of a batch: read it (in the flow's thread, while the workers clean and extract earlier batches)."""
    reporter, answered = progress.current(), list[int]()
    if reporter.fine:

        def on_page() -> None:  # from the fetch threads: one page answered or failed (list.append is atomic)
            answered.append(1)
            reporter.advance("load", 1)

        run.client.on_page = on_page
    try:
        with run.ledger.timer("load"):
            items, rejected = read_batch_task(as_is(batch), run.opts.sources, run.client, run.state)  # 1. load
    finally:
        run.client.on_page = None
    run.ledger.items_in += len(items) + len(rejected)
    run.health.add_fetches(run.client.drain())
    run.health.add_read(items, rejected)
    reporter.advance("load", max(0, len(batch) - len(answered)))
    return number, batch, items, rejected


def _start_cleaning(read: tuple[int, SourceBatch, list[RawItem], list[Rejection]], run: Run) -> Loaded:
    """Step 2 of a batch: start cleaning it in the clean workers, without waiting."""
    number, batch, items, rejected = read
    stepped = _stepwise()
    if stepped:
        on_step = partial(progress.current().advance, "clean")
        cleaning = clean_in_steps_task.submit(as_is(items), run.opts.clean, on_step)  # 2. clean, a few at a time
    else:
        cleaning = clean_items_task.submit(as_is(items), run.opts.clean)  # 2. clean (while the previous extracts)
    keys = fetch_keys(batch.targets, batch.items)
    return Loaded(number, len(batch), batch.versions, keys, items, rejected, cleaning, stepped)


def _finish_cleaning(loaded: Loaded, run: Run) -> tuple[Loaded, list[Article], list[Rejection]]:
    """Step 2 of a batch: wait for its cleaning."""
    with run.ledger.timer("clean"):
        articles, rejected = loaded.cleaning.result()  # 2. clean
    progress.current().advance("clean", loaded.size - (len(loaded.items) if loaded.stepped else 0))
    return loaded, articles, rejected


def _start_extracting(cleaned: tuple[Loaded, list[Article], list[Rejection]], run: Run) -> Extracting:
    """Steps 3-4 of a batch: dedup it, then start extracting its originals, without waiting."""
    loaded, articles, rejected_clean = cleaned
    with run.ledger.timer("dedup"):
        folded = run.index.cluster_aliases()
        articles, checked, rejected_dedup = check_articles_task(run.index, as_is(articles))  # 3. dedup
        merges = {k: v for k, v in run.index.cluster_aliases().items() if folded.get(k) != v}
        decided = relabel_same_run(articles, checked, run.seen)
        decisions = relabel_known_copies(decided, run.copies)
    progress.current().advance("dedup", loaded.size)
    originals = [a for a, d in zip(articles, decisions, strict=True) if d.duplicate_of is None]
    if _stepwise():
        on_step = partial(progress.current().advance, "extract")
        extracting = analyze_in_steps_task.submit(as_is(originals), run.opts.nlp, on_step)  # 4. extract, in steps
        stepped = len(originals)
    else:
        extracting = analyze_articles_task.submit(as_is(originals), run.opts.nlp)  # 4. extract (a worker if Dask)
        stepped = 0
    run.ledger.stages.update({"loaded": len(loaded.items), "cleaned": len(articles), "extracted": len(originals)})
    rejected = [*loaded.rejected, *rejected_clean, *rejected_dedup]
    run.health.add_cleaned(articles, decisions)
    run.health.add_quarantined(rejected)
    return Extracting(loaded, articles, decisions, rejected, extracting, merges, stepped)


def _start_writing(batch: Extracting, run: Run, previous: Writing | None) -> Writing:
    """Steps 4-5 of a batch: collect its extraction, then start writing it, without waiting.

    Writes stay one at a time, in order: ``previous`` is settled before this batch's write starts.
    """
    ledger, opts, loaded = run.ledger, run.opts, batch.loaded
    with ledger.timer("extract"):
        analyses = batch.extracting.result()  # 4. extract
    progress.current().advance("extract", loaded.size - batch.stepped)
    with ledger.timer("write"):
        _settle(previous, run)
        batch_name = f"b{loaded.number:05d}"
        settles = _stage(batch_stem(ledger.run_id, batch_name), loaded.versions, loaded.fetch_keys, run)
        writing = write_batch_task.submit(  # 5. write (from a worker if Dask: the lake is a filesystem URI)
            run.lake,
            ledger.run_id,
            batch_name,
            as_is(batch.articles),
            as_is(batch.decisions),
            as_is(analyses),
            as_is(batch.rejected),
            opts.max_payload_bytes,
            as_is(loaded.items if opts.keep_raw else ()),
            settles,
            batch.merges,
            run.watches,
        )
    return Writing(loaded, writing, batch_stem(ledger.run_id, batch_name))


def _stage(stem: str, versions: dict[str, str], keys: Sequence[str], run: Run) -> Settles:
    """Stage what a batch about to be written settles: its input items in the item ledger, its fetched pages
    (and listings no later batch waits for) in the fetch state, all under the batch's commit stem. Returns the
    same, for the commit marker: the marker is the truth both caches are reconciled with at the next start."""
    run.unsettled.subtract(keys)
    run.unsettled = +run.unsettled
    run.items.stage(stem, versions)
    fetched = run.state.assign(stem, keep=run.unsettled)
    return Settles(items=versions, fetched=fetched)


def _settle(writing: Writing | None, run: Run) -> None:
    """Wait for a batch's write, then count it and promote its staged fetch-state and item-ledger rows (what is
    in the lake counts as done only now; a crash in between is settled by the next start's reconciliation)."""
    if writing is None:
        return
    ledger = run.ledger
    counts = writing.future.result()
    run.index.forget(counts.unwritten)  # originals quarantined at extract or write are not in the lake
    run.health.forget_originals(counts.unwritten)
    run.state.promote([writing.stem])  # fetched URLs count as fetched only once their rows are in the lake
    run.items.promote([writing.stem])  # so do processed files
    progress.current().advance("write", writing.loaded.size)
    ledger.add_batch(counts.articles, counts.duplicates, counts.entities, counts.figures)
    for (stage, reason), k in counts.quarantined.items():
        ledger.add_quarantined(stage, reason, k)
    ledger.duplicate_methods.update(counts.duplicate_methods)
    ledger.repairs.update(counts.repairs)
    ledger.notes["mentions"] = int(ledger.notes.get("mentions", 0)) + counts.mentions
    ledger.save()


@contextlib.contextmanager
def open_run(
    settings: Settings, sources: list[str], flow_name: str, sources_map: SourceMap | None = None
) -> Iterator[Run]:
    """Lock the lake, recover from any earlier crash, open the index and the fetcher; record a failure.

    ``sources_map`` names the run's sources for the per-source counts (none: every source URI counts alone).
    """
    log = get_run_logger()
    opts = build_run_options(settings)
    lake = open_lake(settings)
    with lake.write_lock(settings.lock_wait_seconds):
        ledger = RunLedger(
            lake,
            run_id=str(flow_run.id),
            flow=flow_name,
            parameters={
                "sources": sources,
                **settings.run_parameters(),
            },
            code_version=opts.code_version,
            model_name=settings.model,
            model_version=model_version(settings.model),
            run_name=flow_run.name or "",
        )
        state_dir = settings.state_dir or str(lake.local_state_dir("fetch"))
        items_dir = settings.state_dir or str(lake.local_state_dir("items"))
        lake_id = lake.lake_id()
        for directory in dict.fromkeys((state_dir, items_dir)):
            bind_state_dir(directory, lake_id, lake.uri)  # before anything is written: a wrong state dir stops here
        for crashed in mark_crashed_runs(lake, ledger.run_id):
            log.warning("run %s had crashed; marked as crashed", crashed)
        removed = lake.sweep() + lake.rollback_run(ledger.run_id)  # a flow retry starts over
        if removed:
            log.warning("removed %d files of uncommitted batches from an earlier attempt", len(removed))
        ledger.save()
        try:
            with (
                FetchState(state_dir, on_corrupt=log.warning) as state,
                FetchClient(opts.sources.fetch) as client,
                ItemLedger(items_dir, on_corrupt=log.warning) as items,
            ):
                _reconcile(lake, items, state)
                health = HealthTally(sources_map or SourceMap())
                recording = RecordingFetcher(client)
                run = Run(opts, lake, ledger, open_index(lake, opts.dedup), recording, state, items, health)
                run.copies = recorded_copies(lake)
                yield run
        except BaseException as exc:
            ledger.save(STATE_FAILED, f"{type(exc).__name__}: {exc}")
            raise


def _reconcile(lake: Lake, items: ItemLedger, state: FetchState) -> None:
    """Bring the item ledger and the fetch state in line with the lake's commits (after sweep and rollback)."""
    committed = lake.batch_stems()
    settles = functools.cache(lake.marker_settles)  # a marker both caches need is read once
    done_items = items.reconcile(committed, lambda stem: settles(stem).items)
    done_fetch = state.reconcile(committed, lambda stem: settles(stem).fetched)
    if done_items["forgotten"] or done_fetch["forgotten"]:
        get_run_logger().warning(
            "%d items and %d fetched pages of rolled-back batches will be read again",
            done_items["forgotten"],
            done_fetch["forgotten"],
        )


def default_task_runner() -> TaskRunner[Any]:
    """Threads suffice on one machine: the CPU-heavy stages run in worker processes (cleaning) or in C (spaCy),
    and at most one batch cleans while the previous one extracts. See :func:`build_task_runner` for Dask."""
    runner: TaskRunner[Any] = ThreadPoolTaskRunner(max_workers=4)
    return runner


def build_task_runner(kind: str, dask_address: str = "", dask_workers: int = 2) -> TaskRunner[Any]:
    """Return the task runner named ``kind``: ``threads`` (default) or ``dask``.

    ``dask`` joins the cluster at ``dask_address`` when given, else starts a local cluster of ``dask_workers``
    processes. Clean, extract and write tasks then run on the workers (each loads the model once); dedup stays
    in the flow's process, which owns the index.
    """
    if kind == "threads":
        return default_task_runner()
    if kind != "dask":
        raise ValueError(f"unknown task runner {kind!r}: use threads or dask")
    from prefect_dask.task_runners import DaskTaskRunner

    if dask_address:
        runner: TaskRunner[Any] = DaskTaskRunner(address=dask_address)
    else:
        runner = DaskTaskRunner(cluster_kwargs={"n_workers": dask_workers, "threads_per_worker": 1, "processes": True})
    return runner


@json_flow(
    name=FLOW_NAME,
    flow_run_name=_run_name,
    retries=1,
    retry_delay_seconds=30,
    log_prints=True,
    task_runner=default_task_runner(),
)
def ingest_news(
    sources: list[str],
    data_dir: str | None = None,
    batch_size: int | None = None,
    refetch: bool | None = None,
    reprocess: bool | None = None,
    follow_symlinks: bool | None = None,
) -> dict[str, Any] | State[Any]:
    """Ingest news items from ``sources`` (files, directories, URLs, WARC files, a sources TOML) into the lake.

    Returns a Completed state carrying the run's counts, its message saying what they mean ("degraded: ...",
    "nothing new: ...", "no items found"); a Failed state, not retried, when every source failed (its result is a
    :class:`~flows.outcome.RunFailed` with the counts) or when what the run was given cannot work (a path that does
    not exist, a broken sources file, a bad setting); a Failed state carrying the exception, retried once, when the
    run raised; a Cancelled state (not retried) when another run holds the data directory. Settings come from
    ``MEDIAWATCH_*``; the arguments override them.
    """
    try:  # 0. check: a mistake is reported in one line, now, and never retried
        settings = build_settings(
            data_dir=data_dir,
            batch_size=batch_size,
            refetch=refetch,
            reprocess=reprocess,
            follow_symlinks=follow_symlinks,
        )
        check_sources(sources, settings.follow_symlinks)
        check_data_dir(settings)
        watches = run_watches(settings)
    except RunRefused as exc:
        return refuse(exc)
    if settings.contact_is_placeholder and uses_web(sources):
        get_run_logger().warning(PLACEHOLDER_CONTACT)
    try:
        with open_run(settings, sources, FLOW_NAME, map_sources(sources, settings.follow_symlinks)) as run:
            run.watches = watches
            plan = plan_sources_task(sources, run.opts.sources, run.client, run.state, run.items)  # 1. discover
            run.health.add_fetches(run.client.drain())
            run.health.add_listed(plan.targets)
            _run_plan(plan, run, settings.batch_size)  # 1-5. load, clean, dedup, extract, write (and match watches)
            _watch(run, settings)  # 6. watch: spikes and firsts on the days this run wrote to
            outcome, health = _judge(run, plan, settings)  # 7. judge
        state = STATE_FAILED if outcome.kind == OUTCOME_FAILED else STATE_COMPLETED
        summary = {**run.ledger.row(state, ended=True, detail=outcome.message), "outcome": outcome.kind}
        publish_run_artifacts(summary, run.lake, run.ledger.run_id, flow_run.name, health, outcome)  # 8. report
        emit_run_events(outcome, health, summary, flow_run.name)  # 9. alert
        log_outcome(outcome, summary)
        return final_state(outcome, summary)
    except LakeLockedError as exc:
        return _busy(exc)
    except Exception as exc:  # noqa: BLE001 - an attempt that raised ends Failed with it, and is retried
        return failed_attempt(exc)


@json_flow(name=RETRY_FLOW_NAME, log_prints=True, task_runner=default_task_runner())
def retry_quarantine(reason: str, stage: str | None = None, data_dir: str | None = None) -> dict[str, Any] | State[Any]:
    """Feed unresolved quarantined items with ``reason`` (and ``stage``) through the pipeline again.

    Items come back from their source when it still exists (so a fixed file or a recovered site is read
    afresh), else from their kept payload; those that fail again are quarantined again with the new reason.
    """
    settings = Settings.build(data_dir=data_dir)
    try:
        with open_run(settings, [f"quarantine:{reason}"], RETRY_FLOW_NAME) as run:
            run.watches = run_watches(settings)
            rows = unresolved_quarantine(run.lake, reason, stage)  # 1. what is still quarantined
            plan = plan_retry(rows, run.opts.sources)
            _run_plan(plan, run, settings.batch_size)  # 1-5. load, clean, dedup, extract, write
            _watch(run, settings)  # 6. watch
            persist_index(run.index, run.lake)
            run.ledger.finish()
    except LakeLockedError as exc:
        return _busy(exc)
    publish_run_artifacts(run.ledger.row("completed"), run.lake, run.ledger.run_id, flow_run.name)  # 6. report
    return run.ledger.row("completed")


def _busy(exc: LakeLockedError) -> State[Any]:
    """Return the final state of a run that found the lake locked: Cancelled, which Prefect does not retry
    (a flow retry would silently wait for the other run instead of saying so)."""
    get_run_logger().error("%s", exc)
    return Cancelled(message=str(exc))


def _run_plan(plan: SourcePlan, run: Run, batch_size: int) -> None:
    """Process every batch of ``plan`` and record what was skipped and fetched; the caller saves the dedup index
    (after its own last commit) and closes the ledger."""
    run.unsettled.update(fetch_keys(plan.targets, plan.items))  # staged when read, written batch by batch
    _quarantine(plan.rejections, "discover", run)
    progress.current().start(plan.total_items)
    cleaning: Loaded | None = None
    extracting: Extracting | None = None
    writing: Writing | None = None
    try:
        # Three batches in flight: while batch k is read here, batch k-1 cleans in the clean workers and batch
        # k-2 extracts in the NLP workers; each pool serves one batch at a time, so both cores stay busy. The
        # next batch starts cleaning before this one is deduplicated, so the cores work through the dedup too.
        for number, batch in enumerate(plan.batches(batch_size, run.opts.sources, run.items)):
            read = _load_batch(number, batch, run)  # 1. load
            if extracting is not None:
                writing = _start_writing(extracting, run, writing)  # 4-5. extract, write
                extracting = None
            cleaned = _finish_cleaning(cleaning, run) if cleaning is not None else None  # 2. clean
            cleaning = _start_cleaning(read, run)  # 2. clean, in the background
            if cleaned is not None:
                extracting = _start_extracting(cleaned, run)  # 3-4. dedup, extract in the background
        if extracting is not None:
            writing = _start_writing(extracting, run, writing)
        if cleaning is not None:
            writing = _start_writing(_start_extracting(_finish_cleaning(cleaning, run), run), run, writing)
    except BaseException:
        if writing is not None:  # the lake stays locked until the write under way has ended
            writing.future.wait()
        raise
    with run.ledger.timer("write"):
        _settle(writing, run)
    run.state.commit(keep=run.unsettled)  # listings (feeds, sitemaps) whose pages are all settled or known
    run.ledger.notes["skipped"] = len(plan.skipped)  # a count, and a few names: a folder may hold thousands
    run.ledger.notes["skipped_examples"] = plan.skipped[:SKIPPED_EXAMPLES]
    run.ledger.notes["unchanged"] = plan.unchanged
    _note_fetching(run)


def _note_fetching(run: Run) -> None:
    """Record the fetcher's counters in the run's counts, and say what a spent time budget left for later."""
    stats = run.client.stats
    run.ledger.notes["fetch"] = stats.snapshot()
    if stats.deferred_budget:  # a slow host must not hold the lake: the rest waits for the next run
        run.ledger.notes["deferred_hosts"] = stats.budget_hosts()[:SKIPPED_EXAMPLES]
        get_run_logger().warning(
            "%d URLs left for the next run: fetch time budget spent (%s)",
            stats.deferred_budget,
            ", ".join(stats.budget_hosts()[:5]) or "run budget",
        )


def _watch(run: Run, settings: Settings) -> None:
    """Step 6: judge the days this run's mentions fell on; commit and notify the alerts. A run that wrote no article
    and no copy has no mentions, so no day to judge: no task run for it."""
    if run.watches and run.ledger.articles + run.ledger.duplicates:
        with run.ledger.timer("watch"):
            new = alert_step(run.lake, run.watches, detect_options(settings), run.ledger.run_id, flow_run.name or "")
        run.ledger.notes["alerts_new"] = new


def _judge(run: Run, plan: SourcePlan, settings: Settings) -> tuple[Outcome, list[dict[str, Any]]]:
    """Step 6: the run's ``source_health`` rows (each source judged against its own recent runs) and its outcome;
    commit the rows, then save the runs row's final state. Raises ``AccountingError`` when the counts do not add
    up (the run is then recorded as failed)."""
    ledger = run.ledger
    ledger.check_balance()
    since = (ledger.started_at - timedelta(days=HEALTH_HISTORY_DAYS)).strftime("%Y-%m-%d")
    history = recent_source_health(run.lake, list(run.health.figures), ledger.run_id, 4 * DRIFT_HISTORY_RUNS, since)
    rows = run.health.rows(ledger.started_at, history)
    unchanged = plan.unchanged + run.client.stats.skipped_known
    counts = {"items_in": ledger.items_in, "articles": ledger.articles, "duplicates": ledger.duplicates}
    outcome = decide_outcome(
        rows, {**counts, "quarantined": ledger.quarantined}, unchanged, settings.degraded_quarantine_share
    )
    write_source_health(run.lake, ledger.run_id, rows, ledger.day)
    persist_index(run.index, run.lake)  # after the last commit: the index lists every commit it reflects
    ledger.notes["outcome"] = outcome.kind
    ledger.notes["skipped_known"] = run.client.stats.skipped_known
    ledger.finish(STATE_FAILED if outcome.kind == OUTCOME_FAILED else STATE_COMPLETED, outcome.message)
    return outcome, rows


def _quarantine(rejections: Sequence[Rejection], batch: str, run: Run) -> None:
    """Write rejections found outside a batch (missing paths, dead feeds) to quarantine, as their own commit."""
    if not rejections:
        return
    stem = batch_stem(run.ledger.run_id, batch)
    settles = _stage(stem, {}, (), run)
    counts = write_batch_task(
        run.lake, run.ledger.run_id, batch, [], [], [], list(rejections), run.opts.max_payload_bytes, (), settles
    )
    run.ledger.items_in += len(rejections)
    run.health.add_read([], rejections)
    run.health.add_quarantined(rejections)
    for (stage, reason), n in counts.quarantined.items():
        run.ledger.add_quarantined(stage, reason, n)
    run.state.promote([stem])
