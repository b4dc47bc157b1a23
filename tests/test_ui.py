"""The Prefect UI as a team sees it: a real server, a served deployment whose schedule fires on its own, and
headless Chromium reading the flow run's artifacts and the HTML report. Screenshots land in tests/output/."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO, SAMPLES

pytestmark = [pytest.mark.slow, pytest.mark.integration]

OUTPUT = REPO / "tests" / "output"
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_http(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Start ``prefect server start`` on 127.0.0.1 with analytics off; yield the environment that points at it."""
    home = tmp_path_factory.mktemp("prefect-home")
    port = _free_port()
    env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT": "false",
    }
    log = (home / "server.log").open("wb")
    process = subprocess.Popen(
        [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port), "--analytics-off"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        _wait_http(f"http://127.0.0.1:{port}/api/health", 120)
        yield env
    finally:
        _stop(process)
        log.close()


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


def test_scheduled_ingest_fires_and_its_artifacts_render(server: dict[str, str], tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    data_dir = tmp_path / "data"
    serve_log = (tmp_path / "serve.log").open("wb")
    serving = subprocess.Popen(
        [str(BIN / "mediawatch"), "serve", str(SAMPLES), "--data-dir", str(data_dir), "--ingest-interval", "3600"],
        env=server,
        cwd=REPO,
        stdout=serve_log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        # An interval schedule's first run is due at once: wait for it to finish without triggering anything.
        deadline = time.monotonic() + 300
        run: dict[str, object] | None = None
        while time.monotonic() < deadline:
            runs = _api(server, "/flow_runs/filter", {"sort": "START_TIME_DESC", "limit": 20})
            assert isinstance(runs, list)
            finished = [r for r in runs if r["state_type"] in ("COMPLETED", "FAILED", "CRASHED")]
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
            for key in ("ingest-summary", "ingest-counts", "top-entities", "notable-figures"):
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
        _stop(serving)
        serve_log.close()


def test_deployments_file_deploys(server: dict[str, str]) -> None:
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
    assert {"ingest", "backfill", "compact", "report"} <= set(by_name)
    ingest_schedules = [s["schedule"] for s in by_name["ingest"]["schedules"]]
    assert ingest_schedules[0]["cron"] == "*/30 * * * *"
    assert by_name["backfill"]["schedules"] == []
