"""A run's outcome in Prefect: its final state and message, its tag and its log line, as on the command line.

* failed: a Failed state (red in the UI) whose message is the reason, and no flow retry: the fetcher has already
  retried every transient failure, so a source that failed all of that is for the next scheduled run, and a
  mistake in what the run was given (:mod:`flows.checks`) fails the same way every time;
* degraded: a Completed state whose message says why, and a ``degraded`` tag on the flow run;
* completed: a Completed state whose message gives the counts, "nothing new: N items skipped as unchanged", or
  "no items found".

Flow retries stay for what may pass: an exception during the run (a full disk, a lost connection to the lake),
which :func:`failed_attempt` turns into a Failed state carrying it. Prefect 3 flows retry any Failed state while
retries remain; :func:`forgo_retries` spends them first for failures that must not be retried.

Every ending is a returned state, never a raised exception: a flow that returns a state after an attempt that
raised would hand a direct caller (``ingest_news(...)`` from Python) that first attempt's exception even when the
retry succeeded (Prefect 3.9 keeps the exception it caught and prefers it to a returned state).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from prefect import get_run_logger
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import State
from prefect.runtime import flow_run
from prefect.states import Completed, Failed

from flows.checks import RunRefused
from tasks.health import OUTCOME_DEGRADED, OUTCOME_FAILED, Outcome

TAG_DEGRADED = "degraded"


class RunFailed(Exception):  # noqa: N818 - the run's outcome, not a program error
    """The result of a run whose outcome is failed: its one-line message, and the run's counts as ``summary``."""

    def __init__(self, message: str, summary: Mapping[str, Any]) -> None:
        super().__init__(message)
        self.summary = dict(summary)


def forgo_retries() -> None:
    """Make the current flow run's next Failed state final: set its retries to none (the server retries a flow
    run only while its run count is within them)."""
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(flow_run.id)
        policy = run.empirical_policy
        policy.retries = 0
        client.update_flow_run(run.id, empirical_policy=policy)


def tag_flow_run(tag: str) -> None:
    """Add ``tag`` to the current flow run (the UI's run list filters by tags)."""
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(flow_run.id)
        if tag not in run.tags:
            client.update_flow_run(run.id, tags=[*run.tags, tag])


def refuse(exc: RunRefused) -> State[Any]:
    """Return the final state of a run refused before any work: Failed with the one-line reason, not retried."""
    get_run_logger().error("%s", exc)
    forgo_retries()
    return Failed(message=str(exc))


def failed_attempt(exc: Exception) -> State[Any]:
    """Return the final state of an attempt that raised: Failed, carrying ``exc`` (which a caller of the flow gets
    raised), retried while the flow's retries last."""
    get_run_logger().error("run failed: %s: %s", type(exc).__name__, exc, exc_info=exc)
    return Failed(message=f"{type(exc).__name__}: {exc}", data=exc)


def log_outcome(outcome: Outcome, summary: Mapping[str, Any]) -> None:
    """Log the outcome in one line with the counts (a warning when degraded, an error when failed)."""
    level = {OUTCOME_FAILED: logging.ERROR, OUTCOME_DEGRADED: logging.WARNING}.get(outcome.kind, logging.INFO)
    said = outcome.message if outcome.message.startswith(outcome.kind) else f"{outcome.kind}: {outcome.message}"
    get_run_logger().log(
        level,
        "%s | items_in %d, articles %d, duplicates %d, quarantined %d",
        said,
        summary["items_in"],
        summary["articles"],
        summary["duplicates"],
        summary["quarantined"],
    )


def final_state(outcome: Outcome, summary: Mapping[str, Any]) -> State[Any]:
    """Return the run's final state: Failed (not retried) carrying :class:`RunFailed` with ``summary``, or
    Completed carrying ``summary``; a degraded run is tagged so."""
    if outcome.kind == OUTCOME_FAILED:
        forgo_retries()
        return Failed(message=outcome.message, data=RunFailed(outcome.message, summary))
    if outcome.kind == OUTCOME_DEGRADED:
        tag_flow_run(TAG_DEGRADED)
    return Completed(message=outcome.message, data=dict(summary))
