"""Watches end to end, on a stream of real articles (``bench/watch_stream.py``): 60 days of background news with a
topic bursting on three days, a steady topic, and one story run by thirteen outlets on one day.

The real ``mediawatch`` command ingests the stream with a real Prefect server (the session's) that has the
project's automations, notifying a webhook receiver on 127.0.0.1. Checked: every burst day gets a spike alert and
no other day does, the steady topic never spikes, the syndicated story counts once, an alert reaches the webhook
once (a later run on the same day updates the row without notifying again), a backfill writes exactly the rows
incremental matching wrote, and an unchanged rerun writes no alert.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow.compute as pc
import pytest

from bench.watch_pool import POOL_PATH, load_pool
from bench.watch_stream import StreamTruth, build_stream
from storage.lake import Lake
from storage.query import connect
from tests.invariants import run_cli
from tests.test_events import Webhook

# Columns a backfill writes differently by design: the run that wrote the row.
_RUN_COLUMNS = ("run_id",)


@dataclass
class StreamLake:
    data_dir: Path
    env: dict[str, str]
    truth: StreamTruth
    items: list[dict[str, Any]]
    webhook: Webhook
    source: Path


def _watches_file(path: Path, truth: StreamTruth) -> Path:
    path.write_text(
        f"[[watch]]\nname = \"{truth.burst_watch}\"\nquery = '{truth.burst_query}'\n\n"
        f"[[watch]]\nname = \"{truth.steady_watch}\"\nquery = '{truth.steady_query}'\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture(scope="module")
def stream_lake(prefect_server: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[StreamLake]:
    root = tmp_path_factory.mktemp("watch-stream")
    stream = build_stream(load_pool(POOL_PATH))
    source = root / "stream.jsonl"
    source.write_text("".join(json.dumps(item) + "\n" for item in stream.items), encoding="utf-8")
    env = {k: v for k, v in prefect_server.items() if not k.startswith("MEDIAWATCH_")}
    env["MEDIAWATCH_WATCHES_FILE"] = str(_watches_file(root / "watches.toml", stream.truth))
    webhook = Webhook()
    webhook.thread.start()
    try:
        alerts = run_cli(["alerts", "--webhook-url", webhook.url], env)
        assert alerts.returncode == 0, alerts.stderr[-3000:]
        data_dir = root / "data"
        done = run_cli(["run", str(source), "--data-dir", str(data_dir), "--no-progress"], env, timeout=900)
        assert done.returncode == 0, done.stderr[-5000:]
        yield StreamLake(data_dir, env, stream.truth, stream.items, webhook, source)
    finally:
        webhook.server.shutdown()
        webhook.server.server_close()


def _spikes(data_dir: Path) -> dict[str, dict[str, dict[str, Any]]]:
    rows = connect(str(data_dir)).sql("select * from alerts where kind = 'spike' order by day").df().to_dict("records")
    found: dict[str, dict[str, dict[str, Any]]] = {}
    for row in rows:
        found.setdefault(row["watch"], {})[str(row["day"])[:10]] = row
    return found


def test_every_burst_day_spikes_and_no_other_day_does(stream_lake: StreamLake) -> None:
    truth, data_dir = stream_lake.truth, stream_lake.data_dir
    con = connect(str(data_dir))
    daily = {
        (w, str(d)[:10]): (a, s, o)
        for w, d, a, s, o in con.sql("select watch, day, articles, stories, outlets from watch_daily").fetchall()
    }
    spikes = _spikes(data_dir)
    print("\nday         burst: stories alert (expected, score)   steady: stories alert")
    for row in truth.daily:
        day = row["day"]
        burst = spikes.get(truth.burst_watch, {}).get(day)
        steady = spikes.get(truth.steady_watch, {}).get(day)
        b = daily.get((truth.burst_watch, day), (0, 0, 0))[1]
        s = daily.get((truth.steady_watch, day), (0, 0, 0))[1]
        mark = "BURST " if day in truth.burst_days else ("SYNDIC" if day == truth.syndication_day else "      ")
        b_alert = f"SPIKE ({burst['expected']:.2f}, {burst['score']:.1f})" if burst else ""
        print(f"{day} {mark} {b:>3} {b_alert:<24} {s:>3} {'SPIKE' if steady else ''}")
    for row in truth.daily:  # the watches see exactly the topic's stories, day by day
        assert daily.get((truth.burst_watch, row["day"]), (0, 0, 0))[1] == row["burst_articles"]
        assert daily.get((truth.steady_watch, row["day"]), (0, 0, 0))[1] == row["steady_stories"]
    assert set(spikes.get(truth.burst_watch, {})) == set(truth.burst_days)
    assert truth.steady_watch not in spikes  # a steady topic never spikes, the syndication day included
    for day in truth.burst_days:
        alert = spikes[truth.burst_watch][day]
        assert alert["observed"] == daily[(truth.burst_watch, day)][1] >= 8
        assert alert["top_stories"] is not None and len(alert["top_stories"]) == 5


def test_a_syndicated_story_counts_once(stream_lake: StreamLake) -> None:
    truth = stream_lake.truth
    con = connect(str(stream_lake.data_dir))
    articles, stories, outlets, copies = con.execute(
        "select articles, stories, outlets, copies from watch_daily where watch = ? and day = ?",
        [truth.steady_watch, date.fromisoformat(truth.syndication_day)],
    ).fetchone()
    assert (stories, copies) == (1, 12) and articles == 13 and outlets == 13
    (run,) = Lake(str(stream_lake.data_dir)).read("runs").to_pylist()
    assert run["items_in"] == len(stream_lake.items) == run["articles"] + run["duplicates"] + run["quarantined"]
    assert run["duplicates"] == 12


def test_a_spike_reaches_the_webhook_once_and_a_later_run_updates_it(stream_lake: StreamLake, tmp_path: Path) -> None:
    truth, data_dir = stream_lake.truth, stream_lake.data_dir
    last = truth.burst_days[-1]
    notified = stream_lake.webhook.wait_for(f"on {last}")
    assert notified["subject"] == f"mediawatch: mediawatch.watch.spike ({truth.burst_watch})"
    before = _spikes(data_dir)[truth.burst_watch][last]

    # Two more stories of the burst topic published that day, from a later run: the row moves, no new notification.
    # They are pool texts the stream left unused (so new stories, not copies), with one sentence on the topic.
    used = {i["text"] for i in stream_lake.items}
    unused = [t for t in load_pool(POOL_PATH) if t.text not in used and t.language == "en"][:2]
    late = [
        {
            "id": f"late-{n}",
            "url": f"https://late-desk.example/{n}",
            "title": text.title,
            "text": f"{text.text}\n\nThe {truth.burst_term} reaction kept growing late in the day.",
            "published_at": f"{last}T20:30:00+00:00",
            "outlet": "late-desk.example",
            "language": "en",
        }
        for n, text in enumerate(unused)
    ]
    assert len(late) == 2
    source = tmp_path / "late.jsonl"
    source.write_text("".join(json.dumps(i) + "\n" for i in late), encoding="utf-8")
    done = run_cli(["run", str(source), "--data-dir", str(data_dir), "--no-progress"], stream_lake.env)
    assert done.returncode == 0, done.stderr[-3000:]
    after = _spikes(data_dir)[truth.burst_watch][last]
    assert after["alert_key"] == before["alert_key"] and after["observed"] > before["observed"]
    raw = Lake(str(data_dir)).read("alerts", filter=pc.field("alert_key") == before["alert_key"])
    assert raw.num_rows == 2  # the first verdict and the update, the view keeps the latest
    time.sleep(8)  # the server persists events and runs automations every few seconds
    assert sum(f"on {last}" in str(b.get("body")) for b in stream_lake.webhook.bodies) == 1


def test_backfill_writes_the_rows_incremental_matching_wrote(stream_lake: StreamLake) -> None:
    data_dir, watch = stream_lake.data_dir, stream_lake.truth.steady_watch

    def rows() -> list[dict[str, Any]]:
        table = Lake(str(data_dir)).read("mentions", filter=pc.field("watch") == watch)
        table = table.drop_columns(list(_RUN_COLUMNS))
        return sorted(table.to_pylist(), key=lambda r: r["article_id"])

    incremental = rows()
    assert len(incremental) >= sum(row["steady_stories"] for row in stream_lake.truth.daily)
    done = run_cli(["watch", "backfill", watch, "--data-dir", str(data_dir)], stream_lake.env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert rows() == incremental


def test_reading_the_stream_again_writes_no_alert(stream_lake: StreamLake) -> None:
    lake = Lake(str(stream_lake.data_dir))
    before = (lake.read("alerts").num_rows, lake.read("mentions").num_rows)
    args = ["run", str(stream_lake.source), "--reprocess", "--data-dir", str(stream_lake.data_dir), "--no-progress"]
    done = run_cli(args, stream_lake.env, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (lake.read("alerts").num_rows, lake.read("mentions").num_rows) == before


def test_watch_test_shows_what_a_query_matches(stream_lake: StreamLake) -> None:
    truth = stream_lake.truth
    args = ["watch", "test", truth.burst_query, "--since", truth.burst_days[0], "--data-dir"]
    done = run_cli([*args, str(stream_lake.data_dir)], stream_lake.env)
    assert done.returncode == 0, done.stderr[-3000:]
    print(done.stdout)
    (expected,) = (
        connect(str(stream_lake.data_dir))
        .execute(  # what ingest matched, the late run's stories included
            "select count(distinct article_id) from mentions where watch = ? and date >= ?",
            [truth.burst_watch, date.fromisoformat(truth.burst_days[0])],
        )
        .fetchone()
    )
    summary = done.stdout.splitlines()[-1]
    assert summary.startswith(f"{expected} articles on"), summary
    bad = run_cli(["watch", "test", "tariff AND (steel", "--data-dir", str(stream_lake.data_dir)], stream_lake.env)
    assert bad.returncode == 2
    (line,) = [x for x in bad.stderr.splitlines() if x.startswith("mediawatch:")]
    assert "line 1, column" in line and "Traceback" not in bad.stderr


def test_the_daily_detector_writes_the_report_and_links_it(stream_lake: StreamLake) -> None:
    done = run_cli(["watch", "detect", "--data-dir", str(stream_lake.data_dir)], stream_lake.env)
    assert done.returncode == 0, done.stderr[-3000:]
    report = next(line.split()[-1] for line in done.stdout.splitlines() if line.strip().startswith("report"))
    assert Path(report).is_file() and "<svg" in Path(report).read_text(encoding="utf-8")
    run = _api_runs(stream_lake.env, "watch-detect")[0]  # the newest: the session's server may hold others
    artifacts = _api(stream_lake.env, "/artifacts/filter", {"artifacts": {"flow_run_id": {"any_": [run["id"]]}}})
    link = next(a for a in artifacts if a["key"] == "watch-report")
    assert Path(report).resolve().as_uri() in link["data"]


def _api(env: dict[str, str], path: str, body: dict[str, Any]) -> Any:
    import urllib.request

    request = urllib.request.Request(
        env["PREFECT_API_URL"] + path,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def _api_runs(env: dict[str, str], flow: str) -> list[dict[str, Any]]:
    query = {
        "flows": {"name": {"any_": [flow]}},
        "flow_runs": {"state": {"type": {"any_": ["COMPLETED"]}}},  # not the runs a served schedule has queued
        "sort": "START_TIME_DESC",
        "limit": 5,
    }
    runs: list[dict[str, Any]] = _api(env, "/flow_runs/filter", query)
    return runs
