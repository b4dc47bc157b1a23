"""How much the fetcher may ask of one host, and for how long it may fetch: politeness and time budgets.

:class:`HostLimiter` keeps one request in flight per host with a minimum gap between them (what a site owes
nothing and a crawler owes the site); :class:`FetchBudget` bounds the time a host and the whole run may spend
fetching, so one slow host cannot hold a run for hours. Both are shared by the worker threads of one
:class:`~tasks.fetch.FetchClient`; both take a clock (and the limiter a sleep) so tests can drive them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Literal


class HostLimiter:
    """Per-host politeness: one request at a time per host, and a minimum gap between its requests.

    Thread-safe. The gap runs from the end of one request to the start of the next; :meth:`defer` pushes a
    host's next slot out (Retry-After), for every thread.
    """

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._meta = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self._next: dict[str, float] = {}

    def _lock_for(self, host: str) -> threading.Lock:
        with self._meta:
            return self._locks.setdefault(host, threading.Lock())

    def defer(self, host: str, seconds: float) -> None:
        """Make the next request to ``host`` wait at least ``seconds`` from now."""
        with self._meta:
            self._next[host] = max(self._next.get(host, 0.0), self._clock() + seconds)

    @contextmanager
    def slot(self, host: str, delay: float) -> Iterator[None]:
        """Hold ``host``'s single slot for one request, waiting for its turn; ``delay`` follows it."""
        with self._lock_for(host):
            while True:
                with self._meta:
                    wait = self._next.get(host, 0.0) - self._clock()
                if wait <= 0:
                    break
                self._sleep(wait)
            try:
                yield
            finally:
                self.defer(host, delay)


class FetchBudget:
    """How much time one run may spend fetching: per host and in all. Thread-safe.

    A host's time is what its requests took (connection to last byte) and the backoff waited after its
    failures; the politeness gap between its requests is not its fault and is not counted. The run's time is
    the wall time during which any request was under way: time spent cleaning or writing between batches does
    not count. A request is given no more time than is left (:meth:`remaining`), and when one is cut short by
    the budget, :meth:`use_up` marks that budget spent even if the clocks say a few milliseconds remain.
    """

    def __init__(self, host_seconds: float, run_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        if host_seconds <= 0 or run_seconds <= 0:
            raise ValueError("time budgets must be positive")
        self._host_seconds = host_seconds
        self._run_seconds = run_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._host_used: dict[str, float] = {}
        self._spent_hosts: set[str] = set()
        self._run_used = 0.0
        self._run_spent = False
        self._active = 0
        self._busy_since = 0.0

    def _left(self, host: str) -> tuple[float, float]:
        """Return (host seconds left, run seconds left); the caller holds the lock."""
        host_left = 0.0 if host in self._spent_hosts else self._host_seconds - self._host_used.get(host, 0.0)
        busy = self._clock() - self._busy_since if self._active else 0.0
        run_left = 0.0 if self._run_spent else self._run_seconds - self._run_used - busy
        return host_left, run_left

    def remaining(self, host: str) -> float:
        """Return the seconds a request to ``host`` may still take (0 when either budget is spent)."""
        with self._lock:
            return max(0.0, min(self._left(host)))

    def spent_by(self, host: str) -> Literal["host", "run"] | None:
        """Return which budget leaves ``host`` no time: ``run`` (checked first), ``host``, or None."""
        with self._lock:
            host_left, run_left = self._left(host)
        if run_left <= 0:
            return "run"
        return "host" if host_left <= 0 else None

    def use_up(self, host: str) -> None:
        """Mark spent whichever budget cut a request to ``host`` short: the host's, or the run's."""
        with self._lock:
            host_left, run_left = self._left(host)
            if host_left <= run_left:
                self._spent_hosts.add(host)
            else:
                self._run_spent = True

    @contextmanager
    def running(self) -> Iterator[None]:
        """Count the wall time of the block against the run (overlapping blocks of several threads once)."""
        with self._lock:
            if self._active == 0:
                self._busy_since = self._clock()
            self._active += 1
        try:
            yield
        finally:
            with self._lock:
                self._active -= 1
                if self._active == 0:
                    self._run_used += self._clock() - self._busy_since

    @contextmanager
    def charge(self, host: str) -> Iterator[None]:
        """Count the time the block takes against ``host``."""
        start = self._clock()
        try:
            yield
        finally:
            with self._lock:
                self._host_used[host] = self._host_used.get(host, 0.0) + self._clock() - start
