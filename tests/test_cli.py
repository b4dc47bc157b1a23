"""The command line: help for every command, queries over an empty or small lake, the run history, the HTML
report, and the one-line answers to a mistyped data directory, bad SQL or a bad date."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from flows.cli import build_parser, main
from storage.lake import Lake
from storage.runs import STATE_COMPLETED, RunLedger
from tasks.records import RawItem, Rejection
from tasks.report import bar_chart_svg, render_report
from tasks.rows import quarantine_table

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
    lake = Lake(str(data_dir))
    start = datetime.now(UTC) - timedelta(hours=2)
    first = RunLedger(lake, "r1", "ingest-news", {}, run_name="ingest feeds 08:00", started_at=start)
    first.items_in, first.articles = 3, 3
    first.finish(STATE_COMPLETED, "3 items in: 3 articles, 0 duplicates, 0 quarantined")
    second = RunLedger(
        lake, "r2", "ingest-news", {}, run_name="ingest feeds 08:30", started_at=start + timedelta(minutes=30)
    )
    second.save()  # still running


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
    assert steps == [5]  # five pages fit in one cleaning step
    assert (articles, rejected) == clean_items(items, CleanOptions(workers=0))
    options = NlpOptions(n_process=1)
    steps.clear()
    assert analyze_in_steps(articles * 6, options, steps.append) == analyze_articles(articles * 6, options)
    assert steps == [25, 5]
