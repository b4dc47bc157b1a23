"""Outcomes that tell the truth, scripted as a user meets them on the command line (a child process each).

* a path that does not exist: the run fails (exit 1) in one line, before any Prefect server starts;
* configuration mistakes (a malformed sources file, ``--batch-size 0``, a bad ``MEDIAWATCH_*`` value, a data
  directory that is a file): exit 2, one line, no traceback (``--debug`` shows it), no server started; and the
  flow itself, as a deployment runs it, ends Failed once, never retried;
* every feed failing: Failed, exit 1, with the reasons; the placeholder contact is warned about once;
* an empty folder: completed, "no items found"; a rerun over unchanged input: completed, "nothing new", with how
  many items were skipped as unchanged.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from storage.lake import Lake
from tests.conftest import free_port
from tests.invariants import news_text, run_cli

BAD_SOURCES = '[[source]]\nurl = "https://desk.example/feed.xml"\nkind = "newsletter"\n'


def _quiet_env(tmp_path: Path) -> dict[str, str]:
    """An environment with no Prefect server configured and an empty Prefect home: any flow would start one."""
    home = tmp_path / "prefect-home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MEDIAWATCH_", "PREFECT_API_URL"))}
    return {**env, "PREFECT_HOME": str(home)}


def _assert_one_line(stderr: str, start: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith(start), lines[0]
    return lines[0]


def _no_server_started(env: dict[str, str], stderr: str) -> None:
    assert "Starting temporary server" not in stderr
    assert not any(Path(env["PREFECT_HOME"]).iterdir()), "a Prefect database was created"


def test_a_path_that_does_not_exist_fails_in_one_line_before_any_server(tmp_path: Path) -> None:
    env = _quiet_env(tmp_path)
    missing = tmp_path / "inbox" / "todays-wires"
    started = time.monotonic()
    done = run_cli(["run", str(missing), "--data-dir", str(tmp_path / "data")], env, timeout=120)
    assert done.returncode == 1
    line = _assert_one_line(done.stderr, "mediawatch: run failed: ")
    assert line == f"mediawatch: run failed: input path {str(missing)!r} does not exist: check the path (a typo?)"
    assert done.stdout == ""
    _no_server_started(env, done.stderr)
    assert not (tmp_path / "data").exists()
    assert time.monotonic() - started < 30  # imports only: no server, no model


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("sources", "source #1: kind 'newsletter' is not one of auto, feed, sitemap, page, warc; fix it and run again"),
        ("batch-size", "setting batch_size (--batch-size or MEDIAWATCH_BATCH_SIZE): input should be greater than or"),
        ("environment", "setting host_delay_seconds (MEDIAWATCH_HOST_DELAY_SECONDS): input should be greater than"),
        ("data-dir", "is a file: pass a folder with --data-dir"),
    ],
)
def test_a_configuration_error_is_one_line_with_no_traceback_and_no_server(
    case: str, expected: str, tmp_path: Path
) -> None:
    env = _quiet_env(tmp_path)
    sources = tmp_path / "sources.toml"
    sources.write_text(BAD_SOURCES if case == "sources" else '[[source]]\nurl = "https://desk.example/feed.xml"\n')
    data_dir = tmp_path / "data"
    args = ["run", str(sources), "--data-dir", str(data_dir), "--no-progress"]
    if case == "batch-size":
        args += ["--batch-size", "0"]
    if case == "environment":
        env["MEDIAWATCH_HOST_DELAY_SECONDS"] = "-1"
    if case == "data-dir":
        data_dir.write_text("not a folder")
    done = run_cli(args, env, timeout=120)
    assert done.returncode == 2
    line = _assert_one_line(done.stderr, "mediawatch: ")
    assert expected in line
    assert "Traceback" not in done.stderr and done.stdout == ""
    _no_server_started(env, done.stderr)
    if case == "sources":  # --debug adds the traceback, the line stays the last word
        debug = run_cli([*args, "--debug"], env, timeout=120)
        assert debug.returncode == 2 and "Traceback (most recent call last)" in debug.stderr
        assert debug.stderr.rstrip().splitlines()[-1] == line


def _flow_run(flow_run_id: str) -> Any:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return client.read_flow_run(flow_run_id)  # type: ignore[arg-type]


@pytest.mark.parametrize("case", ["sources", "batch-size", "missing-path"])
def test_a_deployment_run_given_a_mistake_fails_once_and_is_not_retried(
    case: str, prefect_harness: None, tmp_path: Path
) -> None:
    from flows.ingest import ingest_news

    sources = tmp_path / "sources.toml"
    sources.write_text(BAD_SOURCES if case == "sources" else '[[source]]\nurl = "https://desk.example/feed.xml"\n')
    given = [str(tmp_path / "missing")] if case == "missing-path" else [str(sources)]
    flow = ingest_news.with_options(retry_delay_seconds=0)  # were it retried, it would be at once
    state = flow(
        sources=given,
        data_dir=str(tmp_path / "data"),
        batch_size=0 if case == "batch-size" else None,
        return_state=True,
    )
    assert state.is_failed()
    assert "\n" not in state.message
    assert {
        "sources": "kind 'newsletter' is not one of",
        "batch-size": "setting batch_size (--batch-size or MEDIAWATCH_BATCH_SIZE)",
        "missing-path": "does not exist: check the path",
    }[case] in state.message
    run = _flow_run(str(state.state_details.flow_run_id))
    assert run.run_count == 1  # one attempt: the flow's retry is for transient failures only
    assert run.state.type.value == "FAILED"
    assert not (tmp_path / "data").exists()  # refused before any work


def test_every_feed_failing_fails_the_run_and_the_contact_is_warned_about(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    closed = [f"http://127.0.0.1:{free_port()}/feed.xml" for _ in range(2)]  # nothing listens there
    sources = tmp_path / "sources.toml"
    sources.write_text("".join(f'[[source]]\nurl = "{url}"\n\n' for url in closed))
    env = {**cli_env, "MEDIAWATCH_ALLOW_NETWORKS": "127.0.0.0/8", "MEDIAWATCH_RETRIES": "0"}
    data_dir = tmp_path / "data"
    done = run_cli(["run", str(sources), "--data-dir", str(data_dir), "--no-progress"], env)
    assert done.returncode == 1, done.stderr[-3000:]
    failed = [line for line in done.stderr.splitlines() if line.startswith("mediawatch:")]
    # The fetcher asks for robots.txt first; a host that does not answer is named for what it is: unreachable.
    first, second = sorted(closed)
    assert failed == [
        f"mediawatch: run failed: every source failed: all 2 sources ({first}, {second}): connection_error 2"
    ]
    assert "Traceback" not in done.stderr
    assert sum("MEDIAWATCH_CONTACT is not set" in line for line in done.stderr.splitlines()) == 1
    assert done.stdout.splitlines()[0].endswith(": failed")
    (run,) = Lake(str(data_dir)).read("runs").to_pylist()
    assert (run["state"], run["quarantined"]) == ("failed", 2)
    assert run["state_detail"] == failed[0].removeprefix("mediawatch: run failed: ")


def _texts(folder: Path, n: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        (folder / f"wire-{i}.txt").write_text(f"Wire story {i}\n{news_text(f'unchanged-{i}')}\n")


def test_an_empty_folder_and_unchanged_input_complete_saying_so(cli_env: dict[str, str], tmp_path: Path) -> None:
    env = {**cli_env, "MEDIAWATCH_N_PROCESS": "1", "MEDIAWATCH_CLEAN_WORKERS": "0"}
    data_dir = tmp_path / "data"
    empty = tmp_path / "empty"
    empty.mkdir()
    done = run_cli(["run", str(empty), "--data-dir", str(data_dir), "--no-progress"], env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "completed: no items found" in done.stdout.splitlines()

    wires = tmp_path / "wires"
    _texts(wires, 3)
    first = run_cli(["run", str(wires), "--data-dir", str(data_dir), "--no-progress"], env)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "completed: 3 items in: 3 articles, 0 duplicates, 0 quarantined" in first.stdout.splitlines()
    again = run_cli(["run", str(wires), "--data-dir", str(data_dir), "--no-progress", "--fail-on-degraded"], env)
    assert again.returncode == 0, again.stderr[-3000:]
    lines = [line.strip() for line in again.stdout.splitlines()]
    assert "completed: nothing new: 3 items skipped as unchanged" in lines
    assert "3 unchanged files and records (processed before; --reprocess reads them)" in lines
    details = sorted(r["state_detail"] for r in Lake(str(data_dir)).read("runs").to_pylist())
    assert details == [
        "3 items in: 3 articles, 0 duplicates, 0 quarantined",
        "no items found",
        "nothing new: 3 items skipped as unchanged",
    ]
