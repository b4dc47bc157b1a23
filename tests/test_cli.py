"""The command line: help for every command, queries over an empty or small lake, the HTML report."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from flows.cli import build_parser, main
from storage.lake import Lake
from tasks.records import Rejection
from tasks.report import bar_chart_svg, render_report
from tasks.rows import quarantine_table

COMMANDS = ("run", "query", "runs", "quarantine", "compact", "report", "serve", "replay")


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


def test_query_on_an_empty_lake_has_typed_empty_views(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", "select count(*) as n from figures", "--data-dir", str(tmp_path), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == [{"n": 0}]


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
