"""Long-lived worker processes for the CPU-bound stages (cleaning, NLP), talking over two pipes.

A worker is a fresh interpreter started as ``python -c "from <module> import <function>; <function>()" R W``:
importing by name keeps the caller's ``__main__`` out of the worker (unlike multiprocessing's spawn and
forkserver, which re-import it), and a fresh interpreter is safe where ``fork`` from a threaded process (Prefect
runs tasks in threads) is not. The first message to a worker is its setup (the stage's options); it answers
``"ready"`` once warmed up (models loaded), then ``(index, result)`` for every ``(index, job)``; None ends it.
A job whose handler raises is answered with a :class:`JobFailed` and the worker goes on to the next: one bad
item must not cost the worker its loaded model, nor the batch its other items.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import os
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from tasks.records import describe_error

READY = "ready"
# Thread-count variables of the BLAS and OpenMP libraries the workers' numpy and spaCy may use; set to 1 for
# workers unless the user set them.
ONE_THREAD = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS")


@dataclass(frozen=True, slots=True)
class JobFailed:
    """A worker's answer to a job whose handler raised: the exception, on one line."""

    detail: str


def serve(handle: Callable[[Any, Any], Any], warm_up: Callable[[Any], None], argv: list[str] | None = None) -> None:
    """Worker side: receive the setup, warm up, then answer ``(index, handle(setup, job))`` until None or EOF;
    a job whose handler raises is answered ``(index, JobFailed(...))``."""
    args = list(sys.argv[1:] if argv is None else argv)
    inbox = Connection(int(args[0]), writable=False)
    outbox = Connection(int(args[1]), readable=False)
    setup = inbox.recv()
    warm_up(setup)
    gc.freeze()  # the imports and the loaded model live as long as the worker: later collections skip them
    outbox.send(READY)
    while True:
        try:
            message = inbox.recv()
        except (EOFError, OSError, KeyboardInterrupt):
            return
        if message is None:
            return
        index, job = message
        try:
            result = handle(setup, job)
        except Exception as exc:  # noqa: BLE001 - one job's failure is the caller's to handle, not the worker's end
            result = JobFailed(describe_error(exc))
        outbox.send((index, result))


class WorkerProcess:
    """One worker process and the two pipes to it; ``ready`` once it has answered its setup."""

    def __init__(self, entry: str, setup: object, start_seconds: float) -> None:
        """Start ``entry`` (``"module:function"``, a function calling :func:`serve`) and send it ``setup``."""
        module, function = entry.split(":")
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        root = str(Path(__file__).resolve().parent.parent)
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p))
        for name in ONE_THREAD:  # a pool already fills the cores: threads inside each worker would only contend
            env.setdefault(name, "1")
        code = f"from {module} import {function}; {function}()"
        self.process = subprocess.Popen(
            [sys.executable, "-c", code, str(to_child_r), str(from_child_w)],
            pass_fds=(to_child_r, from_child_w),
            stdin=subprocess.DEVNULL,
            env=env,
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self.inbox = Connection(from_child_r, writable=False)
        self.outbox = Connection(to_child_w, readable=False)
        self.outbox.send(setup)
        self.ready = False
        self.start_deadline = time.monotonic() + start_seconds

    def stop(self, *, kill: bool) -> None:
        """Ask the worker to end (or kill it) and close the pipes."""
        if not kill:
            with contextlib.suppress(OSError):
                self.outbox.send(None)
            try:
                self.process.wait(timeout=2)
            except subprocess.TimeoutExpired:
                kill = True
        if kill:
            self.process.kill()
            self.process.wait()
        self.inbox.close()
        self.outbox.close()


@dataclass(frozen=True, slots=True)
class JobLost:
    """Why a job got no answer from a worker: it ran past the time limit (``timeout``), its worker died or could
    not be reached (``died``), or its handler raised (``raised``); ``detail`` says it in one line."""

    kind: str
    detail: str


class WorkerPool:
    """A fixed number of worker processes answering jobs in parallel, optionally each under a hard time limit.

    Workers start on first use and are reused by every call. A job that gets no answer (see :class:`JobLost`)
    is handed to ``on_lost`` (default: run it in the calling process with ``fallback``); a worker that overran
    ``timeout_seconds`` is killed and replaced while the others go on, as is one that died. If a worker cannot
    start within ``start_seconds``, every job left runs in the calling process with ``fallback``: a broken
    environment makes the stage slower, never loses its output. Calls are serialised (one caller at a time).
    """

    def __init__(
        self,
        entry: str,
        setup: object,
        size: int,
        fallback: Callable[[Any], Any],
        start_seconds: float = 60.0,
        *,
        timeout_seconds: float | None = None,
        on_lost: Callable[[Any, JobLost], Any] | None = None,
    ) -> None:
        self.entry, self.setup, self.size, self.fallback = entry, setup, max(1, size), fallback
        self.start_seconds, self.timeout_seconds = start_seconds, timeout_seconds
        self.on_lost: Callable[[Any, JobLost], Any] = on_lost or (lambda job, _lost: fallback(job))
        self._workers: list[WorkerProcess] = []
        self._broken = False
        self._lock = threading.Lock()
        atexit.register(self.close)

    def start(self) -> None:
        """Start the workers now (they load their models while the caller does other work)."""
        with self._lock:
            self._fill()

    def _fill(self) -> None:
        if not self._broken:
            while len(self._workers) < self.size:
                self._workers.append(WorkerProcess(self.entry, self.setup, self.start_seconds))

    def map(self, jobs: Sequence[Any], on_done: Callable[[int], None] | None = None) -> list[Any]:
        """Return one result per job, in order; ``on_done(n)`` is called (in this thread) as ``n`` more jobs have
        their result, so a progress bar moves job by job."""
        reported = 0

        def report(results: dict[int, Any]) -> None:
            nonlocal reported
            if on_done is not None and len(results) > reported:
                on_done(len(results) - reported)
                reported = len(results)

        with self._lock:
            self._fill()
            results: dict[int, Any] = {}
            pending = deque(range(len(jobs)))
            busy: dict[int, tuple[int, float]] = {}  # worker slot -> (job index, deadline)
            limit = self.timeout_seconds if self.timeout_seconds is not None else float("inf")
            while (pending or busy) and not self._broken:
                for slot, worker in enumerate(self._workers):
                    if pending and worker.ready and slot not in busy:
                        index = pending.popleft()
                        try:
                            worker.outbox.send((index, jobs[index]))
                        except OSError:
                            self._replace(slot)
                            results[index] = self.on_lost(jobs[index], JobLost("died", "worker process unreachable"))
                            continue
                        busy[slot] = (index, time.monotonic() + limit)
                deadlines = [d for _, d in busy.values()] + [w.start_deadline for w in self._workers if not w.ready]
                timeout = max(0.0, min(deadlines) - time.monotonic()) if deadlines else None
                watched = {w.inbox: slot for slot, w in enumerate(self._workers) if slot in busy or not w.ready}
                for conn in wait(list(watched), timeout=None if timeout == float("inf") else timeout):
                    self._receive(watched[conn], busy, jobs, results)  # type: ignore[index]
                self._enforce_deadlines(busy, jobs, results)
                report(results)
            for index in range(len(jobs)):  # broken pool: what is left runs here
                if index not in results:
                    results[index] = self.fallback(jobs[index])
                    report(results)
            return [results[i] for i in range(len(jobs))]

    def _enforce_deadlines(
        self, busy: dict[int, tuple[int, float]], jobs: Sequence[Any], results: dict[int, Any]
    ) -> None:
        now = time.monotonic()
        for slot, worker in enumerate(self._workers):
            if slot in busy and busy[slot][1] <= now:
                index, _ = busy.pop(slot)
                self._replace(slot)
                detail = f"exceeded timeout_seconds={self.timeout_seconds}"
                results[index] = self.on_lost(jobs[index], JobLost("timeout", detail))
            elif not worker.ready and worker.start_deadline <= now:
                self._break()
                return

    def _receive(
        self, slot: int, busy: dict[int, tuple[int, float]], jobs: Sequence[Any], results: dict[int, Any]
    ) -> None:
        worker = self._workers[slot]
        try:
            message = worker.inbox.recv()
        except (EOFError, OSError):
            code = worker.process.poll()
            if slot not in busy:  # died while starting: the environment cannot run workers
                self._break()
                return
            index, _ = busy.pop(slot)
            self._replace(slot)
            results[index] = self.on_lost(jobs[index], JobLost("died", f"worker died (exit code {code})"))
            return
        if message == READY:
            worker.ready = True
            return
        index, _ = busy.pop(slot)
        answer = message[1]
        lost = isinstance(answer, JobFailed)
        results[index] = self.on_lost(jobs[index], JobLost("raised", answer.detail)) if lost else answer

    def _replace(self, slot: int) -> None:
        self._workers[slot].stop(kill=True)
        self._workers[slot] = WorkerProcess(self.entry, self.setup, self.start_seconds)

    def _break(self) -> None:
        for worker in self._workers:
            worker.stop(kill=True)
        self._workers = []
        self._broken = True

    def close(self) -> None:
        """Stop the worker processes."""
        with self._lock:
            for worker in self._workers:
                worker.stop(kill=False)
            self._workers = []
