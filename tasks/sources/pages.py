"""Fetching pages: fetch targets in, one raw HTML item or one rejection per page out.

Hosts are fetched in parallel, each host's pages in sequence (:func:`per_host`); pages an earlier run
delivered are skipped (or asked for conditionally with ``refetch``), and every fetched page is staged in the
fetch state for the caller to commit once its items are written.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

from prefect import Task, task
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import State, TaskRun

from storage.fetch_state import FetchState
from tasks.fetch import (
    BudgetExhaustedError,
    Fetcher,
    FetchError,
    FetchOptions,
    FetchResponse,
    headers_with_charset,
    is_transient,
)
from tasks.records import RawItem, Rejection
from tasks.sources.targets import (
    FETCH_KEY_PREFIX,
    REASON_INTERNAL_ERROR,
    FetchTarget,
    fetch_rejection,
    source_rejection,
)
from tasks.urls import site_of

_T = TypeVar("_T")
_R = TypeVar("_R")


def per_host(items: Sequence[_T], url_of: Callable[[_T], str], work: Callable[[_T], _R], workers: int) -> list[_R]:
    """Return ``work(item)`` for every item, in input order: items of one host in sequence (the host limiter
    would serialise them anyway), different hosts in parallel on up to ``workers`` threads."""
    groups: dict[str, list[int]] = defaultdict(list)
    for index, item in enumerate(items):
        try:
            host = urlsplit(url_of(item)).netloc.lower()
        except ValueError:
            host = ""
        groups[host].append(index)
    results: list[_R | None] = [None] * len(items)

    def run_group(indexes: list[int]) -> None:
        for index in indexes:
            results[index] = work(items[index])

    if len(groups) <= 1 or workers <= 1:
        for indexes in groups.values():
            run_group(indexes)
    else:
        with ThreadPoolExecutor(max_workers=min(workers, len(groups)), thread_name_prefix="fetch") as pool:
            for future in [pool.submit(run_group, indexes) for indexes in groups.values()]:
                future.result()
    return [r for r in results if r is not None]


def fetch_targets(
    targets: Sequence[FetchTarget],
    client: Fetcher,
    state: FetchState,
    options: FetchOptions,
) -> tuple[list[RawItem], list[Rejection]]:
    """Return ``(items, rejections)`` for the targets: one HTML :class:`RawItem` per page fetched, one
    :class:`Rejection` (stage ``fetch``) per page that failed, with the fetch reason code.

    Incremental: pages delivered by an earlier run (committed in ``state``) are skipped unless
    ``options.refetch``; with refetch they are asked for conditionally and a 304 yields nothing. Skips and
    304s are counted in ``client.stats``. Each fetched page is staged in ``state``; the caller commits it once
    the items are written. ``http_headers`` carry a Content-Type naming the charset the page really uses.

    Time budgets (``options.host_budget_seconds``, ``options.run_budget_seconds``): once a host's budget is
    spent its remaining pages are not asked for, and once the run's is spent no page is. Such pages yield
    neither an item nor a rejection and are not staged: they are counted in ``client.stats.deferred_budget``
    and fetched by the next run.
    """
    unique: dict[str, FetchTarget] = {}
    for target in targets:
        unique.setdefault(target.key, target)
    todo = list(unique.values())
    if not options.refetch:
        known = state.known(unique)
        if known:
            client.stats.add("skipped_known", len(known))
            todo = [t for t in todo if t.key not in known]

    # What ran out of time in this call: hosts, and "*" for the whole run. Each host's pages run in one
    # thread, so a host is only ever added by the thread that reads it; "*" may come from any thread.
    spent: set[str] = set()

    def work(target: FetchTarget) -> RawItem | Rejection | None:
        host = _netloc(target.url)
        if "*" in spent or host in spent:
            client.stats.add("deferred_budget")
            return None
        try:
            return _fetch_one(target, client, state, options)
        except BudgetExhaustedError as exc:
            client.stats.add("deferred_budget")
            if exc.scope is not None:
                spent.add("*" if exc.scope == "run" else host)
            return None
        except Exception as exc:  # noqa: BLE001 (one page's unexpected failure must not lose the batch)
            return source_rejection(
                target.url,
                target.source_uri,
                REASON_INTERNAL_ERROR,
                repr(exc),
                external_id=target.external_id,
            )

    results = per_host(todo, lambda t: t.url, lambda t: (work(t),), options.max_workers)
    items: list[RawItem] = []
    rejections: list[Rejection] = []
    for (result,) in results:
        if isinstance(result, RawItem):
            items.append(result)
        elif isinstance(result, Rejection):
            rejections.append(result)
    return items, rejections


def _netloc(url: str) -> str:
    try:
        return urlsplit(url).netloc.lower()
    except ValueError:
        return ""


def _fetch_one(
    target: FetchTarget, client: Fetcher, state: FetchState, options: FetchOptions
) -> RawItem | Rejection | None:
    """Return the page as an item, a rejection, or None for a 304. Raises
    :class:`~tasks.fetch.BudgetExhaustedError` when there is no time left to fetch it."""
    prior = state.get(target.key) if options.refetch else None
    try:
        response = client.get(
            target.url,
            accept="html",
            etag=prior.etag if prior else None,
            last_modified=prior.last_modified if prior else None,
        )
    except BudgetExhaustedError:
        raise
    except FetchError as exc:
        return fetch_rejection(exc, target.url, target.source_uri, target.external_id)
    if response.not_modified:
        return None
    return item_from_response(target, response, state)


def item_from_response(target: FetchTarget, response: FetchResponse, state: FetchState) -> RawItem:
    """Stage ``target`` as fetched in ``state`` and return the page as a :class:`RawItem`."""
    state.record(
        target.key,
        status=response.status,
        etag=response.header("etag"),
        last_modified=response.header("last-modified"),
    )
    return RawItem(
        item_key=f"{FETCH_KEY_PREFIX}{target.key}",
        source_uri=target.source_uri,
        payload=response.body,
        kind="html",
        fetched_at=datetime.now(UTC),
        url=response.final_url,
        external_id=target.external_id,
        title=target.title,
        published_at=target.published_at,
        published_at_source=target.published_at_source,
        authors=target.authors,
        source=target.hints.name or site_of(response.final_url),
        language=target.language,
        http_headers=headers_with_charset(response.body, response.headers),
        hints=target.hints,
    )


def retry_on_transient(task: Task[..., Any], task_run: TaskRun, state: State[Any]) -> bool:
    """Prefect ``retry_condition_fn``: retry the batch task only when it failed for a transient reason."""
    try:
        state.result()
    except Exception as exc:  # noqa: BLE001 (the failure is what we classify)
        # A locked fetch-state database (another run finishing) clears up; so do network-level errors.
        return is_transient(exc) or isinstance(exc, TimeoutError | sqlite3.OperationalError)
    return False


fetch_targets_task = task(
    name="fetch-targets",
    retries=2,
    retry_delay_seconds=30,
    retry_condition_fn=retry_on_transient,
    cache_policy=NO_CACHE,
)(fetch_targets)
