"""Progress per stage: bars on a terminal, plain log lines otherwise.

The flow reports ``advance(stage, n)`` as work is done; the CLI decides how that is shown by installing a
reporter for the duration of a run. Scheduled runs (no CLI) get the log-line reporter, so the Prefect UI's
logs show the same progress a terminal user sees, one line per batch and stage.

Bars move within a batch (:attr:`Reporter.fine`): fetched pages one by one, cleaning and extraction in small
steps (:func:`in_steps`), while log lines, Prefect's included, are printed above the bars instead of through them.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar
from typing import Any, Protocol, TypeVar

STAGES = ("load", "clean", "dedup", "extract", "write")
# Steps within a batch when bars are shown. Cleaning reports page by page (the worker pool tells each result as it
# arrives); extraction spreads each call over the NLP workers in several chunks, so a step must be large enough
# for every worker to get a few texts (25 pages, a few seconds on two cores).
EXTRACT_STEP = 25

T = TypeVar("T")
R = TypeVar("R")


class Reporter(Protocol):
    """Receives stage progress. ``fine`` reporters want updates within a batch."""

    fine: bool

    def start(self, total: int) -> None: ...

    def advance(self, stage: str, n: int) -> None: ...

    def close(self) -> None: ...


class LogReporter:
    """Logs one line per stage step; used when output is not a terminal."""

    fine = False

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self.logger = logger or logging.getLogger("mediawatch")
        self.done: dict[str, int] = dict.fromkeys(STAGES, 0)
        self.total = 0

    def start(self, total: int) -> None:
        self.total = total
        self.done = dict.fromkeys(STAGES, 0)
        self.logger.info("%d items to process", total)

    def advance(self, stage: str, n: int) -> None:
        self.done[stage] = self.done.get(stage, 0) + n
        self.logger.info("%-7s %d/%d", stage, self.done[stage], self.total)

    def close(self) -> None:
        return None


def _console_handlers() -> list[logging.Handler]:
    """Return the handlers that print Prefect's (and the root logger's) records on the terminal."""
    from prefect.logging.handlers import PrefectConsoleHandler

    loggers: list[Any] = [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]
    found: dict[int, logging.Handler] = {}
    for logger in loggers:
        for handler in getattr(logger, "handlers", ()):
            if isinstance(handler, PrefectConsoleHandler):
                found[id(handler)] = handler
    return list(found.values())


class BarReporter:
    """Shows one progress bar per stage with rich, on standard error, with log lines printed above the bars."""

    fine = True

    def __init__(self, console: Any = None) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.console = console or Console(stderr=True)
        self.progress = Progress(
            TextColumn("{task.description:<8}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.console,
        )
        self.ids: dict[str, int] = {}
        self._swapped: list[tuple[Any, Any]] = []

    def start(self, total: int) -> None:
        if self.ids:  # a flow retry starts over: the same bars, from zero
            for task_id in self.ids.values():
                self.progress.reset(task_id, total=total)  # type: ignore[arg-type]
            return
        # Prefect's console handler holds its own rich Console on the real stderr, so its lines would be drawn
        # through the bars; while they are shown it prints through the bars' console, which keeps them above.
        for handler in _console_handlers():
            self._swapped.append((handler, handler.console))  # type: ignore[attr-defined]
            handler.console = self.console  # type: ignore[attr-defined]
        self.progress.start()
        for stage in STAGES:
            self.ids[stage] = self.progress.add_task(stage, total=total)

    def advance(self, stage: str, n: int) -> None:
        if stage in self.ids and n:
            self.progress.advance(self.ids[stage], n)  # type: ignore[arg-type]

    def close(self) -> None:
        self.progress.stop()
        for handler, console in self._swapped:
            handler.console = console
        self._swapped.clear()


def in_steps(
    work: Callable[[Sequence[T]], R], items: Sequence[T], step: int, on_step: Callable[[int], None]
) -> list[R]:
    """Return ``work`` applied to ``items`` in consecutive slices of ``step``, calling ``on_step(len(slice))``
    after each: the same results as one call, with progress within a batch."""
    results: list[R] = []
    for start in range(0, len(items), max(1, step)):
        chunk = items[start : start + step]
        results.append(work(chunk))
        on_step(len(chunk))
    return results


_current: ContextVar[Reporter | None] = ContextVar("mediawatch_progress", default=None)


def current() -> Reporter:
    """Return the reporter installed by the caller, else this context's log-line reporter (installed on first
    use, so its counts carry from one batch to the next)."""
    reporter = _current.get()
    if reporter is None:
        reporter = LogReporter()
        _current.set(reporter)
    return reporter


@contextlib.contextmanager
def reporting(interactive: bool | None = None) -> Iterator[Reporter]:
    """Install a bar reporter on a terminal (or a log reporter) for the duration of the block."""
    if interactive is None:
        interactive = sys.stderr.isatty()
    reporter: Reporter = BarReporter() if interactive else LogReporter()
    token = _current.set(reporter)
    try:
        yield reporter
    finally:
        reporter.close()
        _current.reset(token)
