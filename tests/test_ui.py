"""The Prefect UI as a team sees it: a real server, a served deployment whose schedule fires on its own, and
headless Chromium reading the flow run's artifacts and the HTML report. Screenshots land in tests/output/."""

from __future__ import annotations

import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import BIN, REPO, SAMPLES, stop_process

pytestmark = [pytest.mark.slow, pytest.mark.integration]

OUTPUT = REPO / "tests" / "output"


def _browser() -> object:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    assert chromium and driver, "Debian packages chromium and chromium-driver must be installed (see .ci/run)"
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1400,1000",
    ):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(executable_path=driver), options=options)


def _api(env: dict[str, str], path: str, body: dict[str, object]) -> object:
    import json

    request = urllib.request.Request(
        env["PREFECT_API_URL"] + path,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_scheduled_ingest_fires_and_its_artifacts_render(prefect_server: dict[str, str], tmp_path: Path) -> None:
    server = prefect_server
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    data_dir = tmp_path / "data"
    serve_log = (tmp_path / "serve.log").open("wb")
    serving = subprocess.Popen(
        [str(BIN / "mediawatch"), "serve", str(SAMPLES), "--data-dir", str(data_dir), "--ingest-interval", "20"],
        env=server,
        cwd=REPO,
        stdout=serve_log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        # The first slot of a 20-second interval schedule: wait for it to fire and finish, triggering nothing.
        deadline = time.monotonic() + 300
        run: dict[str, object] | None = None
        while time.monotonic() < deadline:
            query = {
                "deployments": {"name": {"any_": ["ingest"]}},
                "flow_runs": {"state": {"type": {"any_": ["COMPLETED", "FAILED", "CRASHED"]}}},
                "limit": 5,
            }
            finished = _api(server, "/flow_runs/filter", query)
            assert isinstance(finished, list)
            if finished:
                run = finished[0]
                break
            time.sleep(2)
        assert run is not None, "no scheduled run finished within 5 minutes"
        assert run["state_type"] == "COMPLETED", run
        assert run["deployment_id"] is not None
        assert str(run["name"]).startswith("ingest samples")
        assert (data_dir / "articles").is_dir()

        base = server["PREFECT_API_URL"].removesuffix("/api")
        browser = _browser()
        try:
            browser.get(f"{base}/v2/runs/flow-run/{run['id']}?tab=Artifacts")  # type: ignore[attr-defined]
            wait = WebDriverWait(browser, 60)
            wait.until(lambda b: "ingest-summary" in b.find_element(By.TAG_NAME, "body").text)
            page = browser.find_element(By.TAG_NAME, "body").text  # type: ignore[attr-defined]
            for key in ("ingest-summary", "ingest-counts", "ingest-charts", "top-entities", "notable-figures"):
                assert key in page, f"artifact {key} not shown"
            assert "Completed" in page
            OUTPUT.mkdir(exist_ok=True)
            browser.save_screenshot(str(OUTPUT / "ui-flow-run-artifacts.png"))  # type: ignore[attr-defined]

            artifacts = _api(server, "/artifacts/filter", {"artifacts": {"flow_run_id": {"any_": [run["id"]]}}})
            assert isinstance(artifacts, list)
            summary = next(a for a in artifacts if a["key"] == "ingest-summary")
            assert "items in = articles + duplicates + quarantined: **holds**" in summary["data"]
            browser.get(f"{base}/v2/artifacts/artifact/{summary['id']}")  # type: ignore[attr-defined]
            wait.until(lambda b: "Ingest run" in b.find_element(By.TAG_NAME, "body").text)
            headings = [h.text for h in browser.find_elements(By.CSS_SELECTOR, "h1, h2")]  # type: ignore[attr-defined]
            assert any(h.startswith("Ingest run") for h in headings), headings  # markdown rendered, not raw
            browser.save_screenshot(str(OUTPUT / "ui-summary-artifact.png"))  # type: ignore[attr-defined]

            report = tmp_path / "report.html"
            subprocess.run(
                [
                    str(BIN / "mediawatch"),
                    "report",
                    "--since",
                    "2000-01-01",
                    "--data-dir",
                    str(data_dir),
                    "--output",
                    str(report),
                ],
                check=True,
                env=server,
            )
            browser.get(report.as_uri())  # type: ignore[attr-defined]
            titles = [h.text for h in browser.find_elements(By.TAG_NAME, "h2")]  # type: ignore[attr-defined]
            assert titles[:4] == ["Articles per day", "Articles per source", "Top entities", "Figures by kind"]
            bars = browser.find_elements(By.CSS_SELECTOR, "#chart-articles-per-source rect")  # type: ignore[attr-defined]
            assert len(bars) == 4
            browser.save_screenshot(str(OUTPUT / "report.png"))  # type: ignore[attr-defined]
        finally:
            browser.quit()  # type: ignore[attr-defined]
    finally:
        stop_process(serving)
        serve_log.close()


def test_deployments_file_deploys(prefect_server: dict[str, str]) -> None:
    server = prefect_server
    env = {**server, "REPO_ROOT": str(REPO)}
    subprocess.run(
        [str(BIN / "prefect"), "work-pool", "create", "process", "--type", "process"],
        env=env,
        check=True,
        capture_output=True,
    )
    deployed = subprocess.run(
        [str(BIN / "prefect"), "--no-prompt", "deploy", "--all", "--prefect-file", "deployments/prefect.yaml"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    listing = _api(server, "/deployments/filter", {})
    assert isinstance(listing, list)
    by_name = {d["name"]: d for d in listing}
    assert {"ingest", "backfill", "compact", "report", "watch-detect", "watch-backfill"} <= set(by_name)
    assert by_name["watch-detect"]["schedules"][0]["schedule"]["cron"] == "30 5 * * *"
    ingest_schedules = [s["schedule"] for s in by_name["ingest"]["schedules"]]
    assert ingest_schedules[0]["cron"] == "*/30 * * * *"
    assert by_name["backfill"]["schedules"] == []


def test_watch_alerts_artifact_and_report_timeline_render(prefect_server: dict[str, str], tmp_path: Path) -> None:
    """An ad-hoc ingest of a 30-day stream of real articles raises spike alerts: the run's ``watch-alerts`` table
    artifact renders in the UI, and the HTML report draws the watch's timeline with its spikes marked."""
    import json

    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from bench.watch_pool import POOL_PATH, load_pool
    from bench.watch_stream import build_stream
    from storage.lake import Lake

    stream = build_stream(load_pool(POOL_PATH), days=30)
    source = tmp_path / "stream.jsonl"
    source.write_text("".join(json.dumps(item) + "\n" for item in stream.items), encoding="utf-8")
    watches = tmp_path / "watches.toml"
    truth = stream.truth
    watches.write_text(f"[[watch]]\nname = \"{truth.burst_watch}\"\nquery = '{truth.burst_query}'\n", encoding="utf-8")
    env = {**prefect_server, "MEDIAWATCH_WATCHES_FILE": str(watches), "MEDIAWATCH_WATCH_WARMUP_DAYS": "7"}
    data_dir = tmp_path / "data"
    subprocess.run(
        [str(BIN / "mediawatch"), "run", str(source), "--data-dir", str(data_dir), "--no-progress"],
        check=True,
        env=env,
        cwd=REPO,
        capture_output=True,
    )
    (run,) = Lake(str(data_dir)).read("runs").to_pylist()
    artifacts = _api(prefect_server, "/artifacts/filter", {"artifacts": {"flow_run_id": {"any_": [run["run_id"]]}}})
    assert isinstance(artifacts, list)
    alerts = next(a for a in artifacts if a["key"] == "watch-alerts")
    rows = json.loads(alerts["data"]) if isinstance(alerts["data"], str) else alerts["data"]
    spiked = sorted(r["day"] for r in rows if r["kind"] == "spike")
    assert spiked and set(spiked) <= set(truth.burst_days)

    base = prefect_server["PREFECT_API_URL"].removesuffix("/api")
    browser = _browser()
    try:
        browser.get(f"{base}/v2/artifacts/artifact/{alerts['id']}")  # type: ignore[attr-defined]
        wait = WebDriverWait(browser, 60)
        wait.until(lambda b: spiked[0] in b.find_element(By.TAG_NAME, "body").text)
        page = browser.find_element(By.TAG_NAME, "body").text  # type: ignore[attr-defined]
        assert truth.burst_watch in page and "spike" in page
        OUTPUT.mkdir(exist_ok=True)
        browser.save_screenshot(str(OUTPUT / "ui-watch-alerts.png"))  # type: ignore[attr-defined]

        report = tmp_path / "report.html"
        args = ["report", "--since", "2000-01-01", "--data-dir", str(data_dir), "--output", str(report)]
        subprocess.run(
            [str(BIN / "mediawatch"), *args],
            check=True,
            env=env,
            cwd=REPO,
        )
        browser.get(report.as_uri())  # type: ignore[attr-defined]
        spikes = browser.find_elements(By.CSS_SELECTOR, ".bar.spike")  # type: ignore[attr-defined]
        assert len(spikes) == len(spiked)
        section = spikes[0].find_element(By.XPATH, "./ancestor::section[1]")
        browser.execute_script("arguments[0].scrollIntoView();", section)  # type: ignore[attr-defined]
        section.screenshot(str(OUTPUT / "report-watch-timeline.png"))
    finally:
        browser.quit()  # type: ignore[attr-defined]
