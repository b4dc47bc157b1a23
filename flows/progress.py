"""Progress per stage: bars on a terminal, plain log lines otherwise.

The flow reports ``advance(stage, n)`` after each batch; the CLI decides how that is shown by installing a
reporter for the duration of a run. Scheduled runs (no CLI) get the log-line reporter, so the Prefect UI's
logs show the same progress a terminal user sees.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Protocol

STAGES = ("load", "clean", "dedup", "extract", "write")


class Reporter(Protocol):
    """Receives stage progress."""

    def start(self, total: int) -> None: ...

    def advance(self, stage: str, n: int) -> None: ...

    def close(self) -> None: ...


class LogReporter:
    """Logs one line per stage step; used when output is not a terminal."""

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self.logger = logger or logging.getLogger("mediawatch")
        self.done: dict[str, int] = dict.fromkeys(STAGES, 0)
        self.total = 0

    def start(self, total: int) -> None:
        self.total = total
        self.logger.info("%d items to process", total)

    def advance(self, stage: str, n: int) -> None:
        self.done[stage] = self.done.get(stage, 0) + n
        self.logger.info("%-7s %d/%d", stage, self.done[stage], self.total)

    def close(self) -> None:
        return None


class BarReporter:
    """Shows one progress bar per stage with rich."""

    def __init__(self) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.progress = Progress(
            TextColumn("{task.description:<8}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()
        )
        self.ids: dict[str, int] = {}

    def start(self, total: int) -> None:
        self.progress.start()
        for stage in STAGES:
            self.ids[stage] = self.progress.add_task(stage, total=total)

    def advance(self, stage: str, n: int) -> None:
        if stage in self.ids:
            self.progress.advance(self.ids[stage], n)  # type: ignore[arg-type]

    def close(self) -> None:
        self.progress.stop()


_current: ContextVar[Reporter | None] = ContextVar("mediawatch_progress", default=None)


def current() -> Reporter:
    """Return the reporter installed by the caller, or a log-line reporter."""
    return _current.get() or LogReporter()


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
