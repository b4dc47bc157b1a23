"""Scale-out on a real Dask cluster: a scheduler and two workers, each its own process, on 127.0.0.1.

The ingest flow joins the cluster with ``--task-runner dask --dask-address tcp://127.0.0.1:PORT`` and writes to a
lake on the S3 endpoint (the workers write batches into it under the flow's lease); every dataset must hold the
rows a run on the default thread runner writes from the same input. The per-task overhead of the cluster is
measured and printed (``pytest -s``), and bounded so a broken cluster set-up fails.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from storage.lake import Lake
from tests.conftest import BIN, REPO, SAMPLES, free_port, stop_process
from tests.test_s3 import S3, cli_s3_env, drop_caches, lake_content, s3_endpoint, s3_module, state_dir

pytestmark = [pytest.mark.slow, pytest.mark.integration]

__all__ = ["s3_endpoint", "s3_module"]  # fixtures this module uses, defined with the S3 tests

# Sequential round trips of a no-op, after a warm-up: the latency a task pays on each runner.
OVERHEAD_SCRIPT = """
import json, sys, time
from distributed import Client
from prefect import flow, task
from prefect.task_runners import ThreadPoolTaskRunner
from prefect_dask.task_runners import DaskTaskRunner

@task
def noop(i: int) -> int:
    return i

def per_task(runner, n=10):
    @flow(task_runner=runner)
    def many() -> float:
        noop.submit(-1).result()
        start = time.perf_counter()
        for i in range(n):
            noop.submit(i).result()
        return (time.perf_counter() - start) / n
    return many()

address = sys.argv[1]
with Client(address) as client:
    client.submit(abs, -1, pure=False).result()
    start = time.perf_counter()
    for i in range(1, 51):
        client.submit(abs, -i, pure=False).result()
    raw = (time.perf_counter() - start) / 50
print(json.dumps({
    "dask_round_trip": raw,
    "prefect_task_on_dask": per_task(DaskTaskRunner(address=address)),
    "prefect_task_on_threads": per_task(ThreadPoolTaskRunner(max_workers=1)),
}))
"""


def _wait_for_workers(address: str, n: int, timeout: float) -> None:
    from distributed import Client

    with Client(address, timeout=timeout) as client:
        client.wait_for_workers(n, timeout=timeout)


@pytest.fixture(scope="module")
def cluster(
    prefect_server: dict[str, str], s3_module: S3, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, dict[str, str]]]:
    """Start ``dask scheduler`` and two ``dask worker`` processes (one process, one thread each) on 127.0.0.1;
    yield the scheduler's address and the environment the flow and the workers share (Prefect API, S3)."""
    logs = tmp_path_factory.mktemp("dask")
    cli_env = {k: v for k, v in prefect_server.items() if not k.startswith("MEDIAWATCH_")}
    env = {**cli_s3_env(cli_env, s3_module, logs / "state"), "PYTHONPATH": str(REPO)}
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    worker = [str(BIN / "dask"), "worker", address, "--nworkers", "1", "--nthreads", "1", "--host", "127.0.0.1"]
    commands = [
        [str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
        *([*worker, "--no-dashboard", "--name", f"worker-{n}"] for n in range(2)),
    ]
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for n, command in enumerate(commands):
            with (logs / f"process-{n}.log").open("wb") as log:
                processes.append(
                    subprocess.Popen(
                        command, env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
                    )
                )
        _wait_for_workers(address, 2, 120)
        yield address, env
    finally:
        for process in processes:  # all at once: each takes a few seconds to close
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in reversed(processes):
            stop_process(process)


def test_ingest_on_a_dask_cluster_writes_what_the_thread_runner_writes(
    prefect_harness: None, cluster: tuple[str, dict[str, str]], s3_module: S3, tmp_path: Path
) -> None:
    from flows.ingest import ingest_news

    address, env = cluster
    on_threads, on_dask = s3_module.new_lake(), s3_module.new_lake()
    try:
        with state_dir(tmp_path / "threads"):
            default = ingest_news(sources=[str(SAMPLES)], data_dir=on_threads)
        runner = ["--task-runner", "dask", "--dask-address", address]
        started = time.monotonic()
        proc = subprocess.run(
            [str(BIN / "mediawatch"), "run", str(SAMPLES), "--data-dir", on_dask, "--no-progress", *runner],
            env={**env, "MEDIAWATCH_STATE_DIR": str(tmp_path / "dask")},
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=600,
        )
        wall = time.monotonic() - started
        assert proc.returncode == 0, proc.stdout + proc.stderr
        (run,) = Lake(on_dask).read("runs").to_pylist()
        for key in ("items_in", "articles", "duplicates", "quarantined", "entities", "figures"):
            assert run[key] == default[key], key
        assert run["state"] == "completed"
        content = lake_content(on_dask)
        assert content == lake_content(on_threads)
        assert sum(content["articles"].values()) == 4 and sum(content["entities"].values()) > 0
        print(f"\ningest of the samples on the cluster: {wall:.1f} s wall (process start included)")
    finally:
        drop_caches(on_threads)
        drop_caches(on_dask)


def test_per_task_overhead_on_the_cluster(cluster: tuple[str, dict[str, str]]) -> None:
    address, env = cluster
    proc = subprocess.run(
        [sys.executable, "-c", OVERHEAD_SCRIPT, address],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    seconds = json.loads(proc.stdout.strip().splitlines()[-1])
    print("\nper-task latency, ms: " + ", ".join(f"{k} {v * 1000:.1f}" for k, v in seconds.items()))
    assert 0 < seconds["dask_round_trip"] < 0.5
    assert 0 < seconds["prefect_task_on_threads"] < seconds["prefect_task_on_dask"] < 5.0
