"""The command line: help for every command, queries over an empty or small lake (and one on an S3 store reached
through mediawatch's own settings), the run history, the HTML report, the one-line answers to a mistyped data
directory, bad SQL or a bad date, and the local Prefect server that later runs report to."""

from __future__ import annotations

import json
import os
import pickle
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from flows.cli import build_parser, main
from storage.lake import Lake
from storage.runs import STATE_COMPLETED, RunLedger
from tasks.records import RawItem, Rejection
from tasks.report import bar_chart_svg, render_report
from tasks.rows import quarantine_table
from tests.conftest import BIN, SAMPLES
from tests.test_s3 import s3_endpoint as moto_s3

# moto's standalone S3 server on 127.0.0.1 for the session, started as tests/test_s3.py starts it.
s3_endpoint = moto_s3

COMMANDS = ("run", "query", "runs", "quarantine", "compact", "report", "serve", "replay", "alerts")


def test_help_explains_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for command in COMMANDS:
        assert command in out
    for command in COMMANDS:
        with pytest.raises(SystemExit):
            main([command, "--help"])
        assert "--data-dir" in capsys.readouterr().out


def test_console_script_help_runs_without_prefect_server() -> None:
    result = subprocess.run([sys.executable, "-m", "flows.cli", "--help"], capture_output=True, text=True, check=True)
    assert "Media-monitoring ETL" in result.stdout


def test_the_run_command_imports_no_nlp_library_until_a_run_analyses_text() -> None:
    """An unchanged rerun analyses nothing: importing the flow and naming the model of the run (``model_version``,
    in the runs row) must not import spaCy, thinc or the figure rules, half a second of every ad-hoc run."""
    code = (
        "import sys, flows.cli, flows.ingest\n"
        "from flows.options import model_version\n"
        "print(model_version('en_core_web_sm'))\n"
        "print(sorted(m for m in ('spacy', 'thinc', 'tasks.figures') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    named, loaded = result.stdout.splitlines()
    assert loaded == "[]"
    import spacy

    package = sorted(m for m in spacy.util.get_installed_models() if m.startswith("en_core_web_sm"))[0]
    assert named == f"{package} {spacy.util.get_package_version(package)}"  # what spaCy itself says


def test_version_names_the_package(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == "mediawatch 0.1.0"


def test_query_on_an_empty_lake_has_typed_empty_views(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    Lake(str(tmp_path)).lake_id()  # a lake no run has written to yet
    assert main(["query", "select count(*) as n from figures", "--data-dir", str(tmp_path), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == [{"n": 0}]
    assert main(["query", "select * from source_health", "--data-dir", str(tmp_path)]) == 0
    assert capsys.readouterr().out.startswith("(no rows; columns: run_id, source, kind")


@pytest.mark.parametrize("command", ["query", "runs"])
def test_a_mistyped_data_directory_is_named_in_one_line(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "data").mkdir()  # the lake is ./data; the user typed ./dta, or named the folder above it
    for wrong in (tmp_path / "dta", tmp_path):
        assert main([*(["query", "select 1"] if command == "query" else ["runs"]), "--data-dir", str(wrong)]) == 2
        out, err = capsys.readouterr()
        assert out == ""
        assert err == (
            f"mediawatch: no mediawatch data in {str(wrong)!r}: check --data-dir (or MEDIAWATCH_DATA_DIR); "
            "`mediawatch run` creates it\n"
        )


def _two_runs(data_dir: Path) -> None:
    _two_runs_on(Lake(str(data_dir)))


def test_runs_lists_name_flow_state_duration_and_counts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _two_runs(tmp_path)
    assert main(["runs", "--data-dir", str(tmp_path), "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["name"], r["flow"], r["state"]) for r in rows] == [
        ("ingest feeds 08:30", "ingest-news", "running"),
        ("ingest feeds 08:00", "ingest-news", "completed"),
    ]
    assert rows[1]["state_detail"] == "3 items in: 3 articles, 0 duplicates, 0 quarantined"
    assert rows[1]["items_in"] == rows[1]["articles"] == 3
    assert 7190 <= rows[1]["seconds"] < 7300  # started two hours ago, ended when it was saved
    assert 5390 <= rows[0]["seconds"] < 5500  # started 90 minutes ago and still running: its duration runs to now
    assert main(["runs", "--data-dir", str(tmp_path)]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:6] == ["name", "flow", "state", "state_detail", "started_at", "seconds"]
    assert "Empty DataFrame" not in "\n".join(table)


def test_bad_sql_is_one_line_naming_the_views(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _two_runs(tmp_path)
    assert main(["query", "selec * from runs", "--data-dir", str(tmp_path)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert err.startswith('mediawatch: query failed: Parser Error: syntax error at or near "selec"')
    assert main(["query", "select * from run", "--data-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Table with name run does not exist" in err and "source_health" in err


def test_report_defaults_to_the_last_30_days_and_refuses_a_bad_date(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _two_runs(tmp_path)
    output = tmp_path / "report.html"
    assert main(["report", "--data-dir", str(tmp_path), "--output", str(output)]) == 0
    since = (datetime.now(UTC) - timedelta(days=30)).strftime("%Y-%m-%d")
    assert capsys.readouterr().out == f"report written to {output} (partitions since {since})\n"
    assert output.read_text().startswith("<!DOCTYPE html>")
    for bad in ("2025-13-01", "last week"):
        assert main(["report", "--since", bad, "--data-dir", str(tmp_path), "--output", str(output)]) == 2
        assert capsys.readouterr().err == (
            f"mediawatch: --since {bad!r} is not a day: write it YYYY-MM-DD, e.g. 2025-11-01\n"
        )


def test_a_bad_setting_is_one_line_even_for_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _two_runs(tmp_path)
    monkeypatch.setenv("MEDIAWATCH_BATCH_SIZE", "two hundred")
    assert main(["runs", "--data-dir", str(tmp_path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        "mediawatch: setting batch_size (--batch-size or MEDIAWATCH_BATCH_SIZE): input should be a valid integer, "
        "unable to parse string as an integer, got 'two hundred'; fix it and run again\n"
    )
    assert main(["--debug", "runs", "--data-dir", str(tmp_path)]) == 2
    assert "Traceback (most recent call last)" in capsys.readouterr().err


def test_quarantine_listing_groups_by_reason(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lake = Lake(str(tmp_path))
    rejections = [
        Rejection(f"k{i}", "/in/x.jsonl", "load", "invalid_json" if i % 2 else "missing_content", "d", b"{")
        for i in range(5)
    ]
    lake.commit_batch("r1", "b0", {"quarantine": quarantine_table(rejections, "r1", 100)})
    assert main(["quarantine", "--data-dir", str(tmp_path), "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["stage"], r["reason"], r["items"]) for r in rows] == [
        ("load", "missing_content", 3),
        ("load", "invalid_json", 2),
    ]


def test_report_is_self_contained_and_escaped() -> None:
    data = {
        "articles_per_day": [{"day": "2025-11-23", "n": 3}],
        "articles_per_source": [{"source": "<script>alert(1)</script>", "n": 2}, {"source": "b.example", "n": 1}],
        "top_entities": [],
        "figures_by_kind": [{"kind": "money", "n": 5}],
        "duplicates_per_cluster": [],
        "money": [{"text": "US$95 billion", "value": 9.5e10, "unit": "USD", "object": "German goods"}],
        "runs": [],
    }
    document = render_report(data, "2025-11-01", datetime(2025, 11, 24, tzinfo=UTC))
    assert "<script>" not in document
    assert "&lt;script&gt;" in document
    assert "http://" not in document and "https://" not in document
    assert document.count("<rect") == 4  # 1 day, 2 sources, 1 kind
    assert "95,000,000,000" in document
    assert bar_chart_svg([], "x", "n").startswith('<p class="empty">')


def test_parser_requires_a_command() -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args([])


def test_bars_move_within_a_batch_with_log_lines_above_them() -> None:
    import io
    import logging
    from functools import partial

    from prefect.logging.handlers import PrefectConsoleHandler
    from rich.console import Console

    from flows import progress

    screen = io.StringIO()
    reporter = progress.BarReporter(Console(file=screen, force_terminal=True, width=100))
    handler = PrefectConsoleHandler(stream=io.StringIO())
    own_console = handler.console
    logger = logging.getLogger("prefect.tests.progress")
    logger.addHandler(handler)
    try:
        reporter.start(10)
        assert handler.console is reporter.console  # Prefect's lines go through the bars' console, above them
        logger.warning("batch 1 of 3 written")
        sums = progress.in_steps(sum, list(range(10)), 4, partial(reporter.advance, "clean"))
        assert sums == [0 + 1 + 2 + 3, 4 + 5 + 6 + 7, 8 + 9]
        clean = next(t for t in reporter.progress.tasks if t.description == "clean")
        assert (clean.completed, clean.total) == (10, 10)
        reporter.start(10)  # a flow retry starts the same bars over
        assert len(reporter.progress.tasks) == len(progress.STAGES) and clean.completed == 0
    finally:
        reporter.close()
        logger.removeHandler(handler)
    assert handler.console is own_console
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen.getvalue())  # without colours and cursor moves
    assert "batch 1 of 3 written" in plain


def test_stepwise_cleaning_and_extraction_give_what_one_call_gives() -> None:
    from flows.ingest import analyze_in_steps, clean_in_steps
    from tasks.clean import CleanOptions, clean_items
    from tasks.nlp import NlpOptions, analyze_articles
    from tests.invariants import news_page

    items = [
        RawItem(f"/in/{i}.html", f"/in/{i}.html", news_page(f"step-{i}"), "html", datetime(2025, 11, 23, tzinfo=UTC))
        for i in range(5)
    ]
    steps: list[int] = []
    articles, rejected = clean_in_steps(items, CleanOptions(workers=0), steps.append)
    assert steps == [1, 1, 1, 1, 1]  # cleaning reports page by page
    assert (articles, rejected) == clean_items(items, CleanOptions(workers=0))
    steps.clear()  # the same from the worker pool: one report per page, in whatever groups results arrive
    assert clean_in_steps(items, CleanOptions(workers=2), steps.append) == (articles, rejected)
    assert sum(steps) == 5 and all(n >= 1 for n in steps)
    options = NlpOptions(n_process=1)
    steps.clear()
    assert analyze_in_steps(articles * 6, options, steps.append) == analyze_articles(articles * 6, options)
    assert steps == [25, 5]


# ---------------------------------------------------------------------------------------- a lake on an S3 store


@pytest.mark.slow
def test_query_reaches_an_s3_lake_through_the_object_store_settings(
    s3_endpoint: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import boto3

    from tests.test_s3 import _FOREIGN_AWS

    bucket = f"lake-{uuid.uuid4().hex[:20]}"
    boto3.client(
        "s3", endpoint_url=s3_endpoint, aws_access_key_id="key", aws_secret_access_key="s3cr3t", region_name="us-east-1"
    ).create_bucket(Bucket=bucket)
    uri = f"s3://{bucket}/news"
    writer = Lake(uri, s3_endpoint=s3_endpoint, s3_region="us-east-1", s3_access_key="key", s3_secret_key="s3cr3t")
    with writer.write_lock():
        _two_runs_on(writer)
    # Nothing in the standard AWS variables reaches the store: its address and keys come from mediawatch's settings.
    for name in (*_FOREIGN_AWS, "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # never ask an instance metadata service
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    settings = {
        "MEDIAWATCH_S3_ENDPOINT": s3_endpoint,
        "MEDIAWATCH_S3_REGION": "us-east-1",
        "MEDIAWATCH_S3_ACCESS_KEY": "key",
        "MEDIAWATCH_S3_SECRET_KEY": "s3cr3t",
    }
    for name, value in settings.items():
        monkeypatch.setenv(name, value)

    sql = "select run_name, state, articles from runs order by started_at"
    assert main(["query", sql, "--data-dir", uri, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == [
        {"run_name": "ingest feeds 08:00", "state": "completed", "articles": 3},
        {"run_name": "ingest feeds 08:30", "state": "running", "articles": 0},
    ]
    assert main(["runs", "--data-dir", uri, "--format", "json"]) == 0
    assert [r["name"] for r in json.loads(capsys.readouterr().out)] == ["ingest feeds 08:30", "ingest feeds 08:00"]
    assert main(["--debug", "query", "select 1", "--data-dir", f"s3://{bucket}/elsewhere"]) == 2
    assert "no mediawatch data in" in capsys.readouterr().err  # the store answered: that prefix holds nothing

    monkeypatch.delenv("MEDIAWATCH_S3_ENDPOINT")
    with pytest.raises(OSError):
        main(["query", sql, "--data-dir", uri])  # the endpoint of the AWS variables: nothing there


def _two_runs_on(lake: Lake) -> None:
    start = datetime.now(UTC) - timedelta(hours=2)
    first = RunLedger(lake, "r1", "ingest-news", {}, run_name="ingest feeds 08:00", started_at=start)
    first.items_in, first.articles = 3, 3
    first.finish(STATE_COMPLETED, "3 items in: 3 articles, 0 duplicates, 0 quarantined")
    second = RunLedger(
        lake, "r2", "ingest-news", {}, run_name="ingest feeds 08:30", started_at=start + timedelta(minutes=30)
    )
    second.save()  # still running


def test_object_store_keys_stay_out_of_a_runs_parameters(monkeypatch: pytest.MonkeyPatch) -> None:
    from flows.settings import Settings, open_lake

    monkeypatch.setenv("MEDIAWATCH_S3_ACCESS_KEY", "AKIDEXAMPLE")
    monkeypatch.setenv("MEDIAWATCH_S3_SECRET_KEY", "wJalrXUtnFEMI")
    settings = Settings.build(data_dir="s3://bucket/news", s3_endpoint="http://127.0.0.1:9", s3_region="eu-west-3")
    recorded = json.dumps(settings.run_parameters(), default=str)
    assert "AKIDEXAMPLE" not in recorded and "wJalrXUtnFEMI" not in recorded
    assert "wJalrXUtnFEMI" not in repr(settings) and "wJalrXUtnFEMI" not in str(settings.model_dump())
    assert settings.run_parameters()["s3_endpoint"] == "http://127.0.0.1:9"
    lake = open_lake(settings)
    assert (lake.uri, lake.is_local) == ("s3://bucket/news", False)
    assert pickle.loads(pickle.dumps(lake)).uri == "s3://bucket/news"  # what a Dask worker gets


# ------------------------------------------------------------------------------------- the local Prefect server


def _env_without_a_server(home: Path) -> dict[str, str]:
    """Return the environment of a ``mediawatch`` child: Prefect home ``home``, no PREFECT_API_URL, no
    MEDIAWATCH_ knobs but cleaning and NLP in the run's own process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIAWATCH_") and k != "PREFECT_API_URL"}
    return {**env, "PREFECT_HOME": str(home), "MEDIAWATCH_CLEAN_WORKERS": "0", "MEDIAWATCH_N_PROCESS": "1"}


def _flow_runs(api_url: str) -> list[dict[str, object]]:
    request = urllib.request.Request(
        f"{api_url}/flow_runs/filter", data=b"{}", headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        runs: list[dict[str, object]] = json.loads(response.read())
        return runs


def _dead_pid() -> int:
    """Return the pid of a process that has exited (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.mark.slow
def test_a_second_run_reports_to_the_local_server_the_first_one_used(tmp_path: Path) -> None:
    from flows.local_server import SERVER_FILE

    env = _env_without_a_server(tmp_path / "prefect")
    mediawatch = [str(BIN / "mediawatch")]
    started = subprocess.run([*mediawatch, "server", "start"], env=env, capture_output=True, text=True, timeout=400)
    assert started.returncode == 0, started.stderr
    record = json.loads((tmp_path / "prefect" / SERVER_FILE).read_text())
    api_url, pid = record["api_url"], record["pid"]
    try:
        for _ in range(2):
            run = [*mediawatch, "run", str(SAMPLES), "--data-dir", str(tmp_path / "data"), "--no-progress"]
            result = subprocess.run(run, env=env, capture_output=True, text=True, timeout=600)
            assert result.returncode == 0, result.stderr[-3000:]
            assert f"using the local Prefect server at {api_url.removesuffix('/api')} (pid {pid};" in result.stderr
            assert "Starting temporary server" not in result.stdout + result.stderr
        runs = _flow_runs(api_url)  # both runs are in the one server's history
        assert sorted(str(r["state_type"]) for r in runs) == ["COMPLETED", "COMPLETED"]
        assert json.loads((tmp_path / "prefect" / SERVER_FILE).read_text())["pid"] == pid
        status = subprocess.run([*mediawatch, "server"], env=env, capture_output=True, text=True, timeout=60)
        assert status.stdout.startswith(f"local Prefect server: {api_url.removesuffix('/api')} (pid {pid},")
    finally:
        stopped = subprocess.run([*mediawatch, "server", "stop"], env=env, capture_output=True, text=True, timeout=60)
    assert stopped.stdout == f"stopped the local Prefect server at {api_url.removesuffix('/api')} (pid {pid})\n"
    assert not (tmp_path / "prefect" / SERVER_FILE).exists()
    with pytest.raises(urllib.error.URLError):
        _flow_runs(api_url)


def test_a_server_record_whose_process_is_gone_is_ignored_and_removed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.local_server import SERVER_FILE, LocalServer, find_local_server
    from flows.local_server import use_local_server as _local_server

    monkeypatch.setenv("PREFECT_HOME", str(tmp_path))
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    record = tmp_path / SERVER_FILE
    with socket.socket() as sock:  # a port nothing listens on once closed
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/api"
    record.write_text(json.dumps({"api_url": url, "pid": _dead_pid()}))
    assert _local_server() is None  # a command goes on with a temporary server of its own
    assert not record.exists()
    assert capsys.readouterr().err == ""

    record.write_text(json.dumps({"api_url": url, "pid": os.getpid()}))  # alive, but no server answers there
    started = time.monotonic()
    assert find_local_server(tmp_path) is None
    assert time.monotonic() - started < 5
    assert record.exists()  # a live process is not ours to forget: `server stop` or `server start` deals with it
    assert main(["server", "status"]) == 0
    ui = url.removesuffix("/api")
    assert capsys.readouterr().out == f"the local Prefect server recorded at {ui} (pid {os.getpid()}) does not answer\n"
    record.write_text("{not json")
    assert find_local_server(tmp_path) is None
    assert main(["server"]) == 0
    assert capsys.readouterr().out.startswith("no local Prefect server running: each command starts a temporary one")
    assert LocalServer("http://127.0.0.1:4200/api", 1).ui_url == "http://127.0.0.1:4200"


def test_a_mistake_is_reported_before_any_server_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.local_server import SERVER_FILE

    monkeypatch.setenv("PREFECT_HOME", str(tmp_path))
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    assert main(["run", str(tmp_path / "no-such-folder"), "--keep-server", "--data-dir", str(tmp_path / "d")]) == 1
    assert "does not exist" in capsys.readouterr().err
    assert not (tmp_path / SERVER_FILE).exists() and not (tmp_path / "mediawatch-server.log").exists()
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")
    assert main(["server", "start"]) == 2
    assert "PREFECT_API_URL is set (http://127.0.0.1:9/api)" in capsys.readouterr().err


def test_ad_hoc_runs_send_no_heartbeats_unless_the_environment_asks(monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect.settings import get_current_settings

    from flows.local_server import reporting_to

    monkeypatch.delenv("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", raising=False)
    monkeypatch.delenv("PREFECT_RUNNER_HEARTBEAT_FREQUENCY", raising=False)
    before = get_current_settings().flows.heartbeat_frequency
    with reporting_to(None):
        assert get_current_settings().flows.heartbeat_frequency is None
    assert get_current_settings().flows.heartbeat_frequency == before
    monkeypatch.setenv("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", "60")
    with reporting_to(None):
        assert get_current_settings().flows.heartbeat_frequency == before
