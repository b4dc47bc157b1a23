"""Outages seen where people look: a real Prefect server (``prefect server start`` on 127.0.0.1), the real
``mediawatch`` command in a child process, news sites and a webhook receiver on 127.0.0.1.

* a source answering 503 to everything: the run is Failed in the API (red in the UI), with the reason as its state
  message, and not retried;
* half the sources failing: the run completes tagged ``degraded``, emits ``mediawatch.run.degraded`` and
  ``mediawatch.source.failing``, and the automation declared in ``deployments/automations.yaml`` (created by
  ``mediawatch alerts``) posts the source and its figures to the webhook.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from storage.lake import Lake
from tests.conftest import ROBOTS, SAMPLES
from tests.httpfaults import FaultServer, page, status
from tests.invariants import run_cli


class Webhook:
    """An HTTP receiver on 127.0.0.1 that keeps the JSON body of every POST."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        received = self.bodies

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                received.append(json.loads(self.rfile.read(length) or b"{}"))
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/mediawatch"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def wait_for(self, text: str, timeout: float = 90) -> dict[str, Any]:
        """Return the first body whose ``body`` field contains ``text``, waiting up to ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for body in list(self.bodies):
                if text in str(body.get("body")):
                    return body
            time.sleep(0.5)
        raise AssertionError(f"no notification mentioning {text!r} within {timeout} s: {self.bodies}")


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    receiver = Webhook()
    receiver.thread.start()
    try:
        yield receiver
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()


def _api(env: dict[str, str], path: str, body: dict[str, Any] | None = None) -> Any:
    request = urllib.request.Request(
        env["PREFECT_API_URL"] + path,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json"},
        method="POST" if body is not None else "GET",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def _events(env: dict[str, str], flow_run_id: str, wanted: set[str]) -> list[dict[str, Any]]:
    """Return the ``mediawatch.*`` events of a flow run once all ``wanted`` names are in (the server persists
    events in batches every few seconds)."""
    query = {
        "filter": {"event": {"prefix": ["mediawatch."]}, "related": {"id": [f"prefect.flow-run.{flow_run_id}"]}},
        "limit": 50,
    }
    deadline = time.monotonic() + 60
    while True:
        events: list[dict[str, Any]] = _api(env, "/events/filter", query)["events"]
        if wanted <= {e["event"] for e in events} or time.monotonic() > deadline:
            return events
        time.sleep(1)


def _site_env(env: dict[str, str]) -> dict[str, str]:
    return {
        **env,
        "MEDIAWATCH_ALLOW_NETWORKS": "127.0.0.0/8",
        "MEDIAWATCH_HOST_DELAY_SECONDS": "0",
        "MEDIAWATCH_RETRIES": "0",  # each 503 once: the client's own retries are tested in test_fetch.py
        "MEDIAWATCH_CONTACT": "mailto:desk@example.org",
    }


def test_the_automations_file_is_prefects_automation_model() -> None:
    from prefect.events.schemas.automations import AutomationCore

    from flows.alerts import (
        EVENT_RUN_DEGRADED,
        EVENT_SOURCE_DRIFT,
        EVENT_SOURCE_FAILING,
        EVENT_WATCH_FIRST,
        EVENT_WATCH_SPIKE,
        load_automations,
    )

    runs, watches = load_automations()
    expected = {
        "mediawatch-alerts": {EVENT_RUN_DEGRADED, EVENT_SOURCE_FAILING, EVENT_SOURCE_DRIFT},
        "mediawatch-watch-alerts": {EVENT_WATCH_SPIKE, EVENT_WATCH_FIRST},
    }
    for entry in (runs, watches):
        action = {k: v for k, v in entry["actions"][0].items() if k != "block"}
        automation = AutomationCore.model_validate(
            {**entry, "actions": [{**action, "block_document_id": str(uuid.uuid4())}]}
        )
        assert automation.enabled
        assert automation.trigger.expect == expected[automation.name]  # type: ignore[attr-defined]
        assert entry["actions"][0]["block"] == "custom-webhook/mediawatch-alerts"


def test_a_source_answering_503_to_everything_is_a_failed_run(cli_env: dict[str, str], tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with FaultServer() as down:
        down.route("/robots.txt", status(503))
        down.route("/feed.xml", status(503))
        feed = down.url("/feed.xml")
        done = run_cli(["run", feed, "--data-dir", str(data_dir), "--no-progress"], _site_env(cli_env))
    assert done.returncode == 1, done.stderr[-3000:]
    message = f"every source failed: the source ({feed}): robots_unavailable 1"
    assert [line for line in done.stderr.splitlines() if line.startswith("mediawatch:")] == [
        f"mediawatch: run failed: {message}"
    ]
    assert "Traceback" not in done.stderr

    (run,) = Lake(str(data_dir)).read("runs").to_pylist()
    assert (run["state"], run["state_detail"]) == ("failed", message)
    flow_run = _api(cli_env, f"/flow_runs/{run['run_id']}")
    assert (flow_run["state_type"], flow_run["state"]["message"]) == ("FAILED", message)  # red, with the reason
    assert flow_run["run_count"] == 1  # not retried: the fetcher already retried what was transient
    (health,) = Lake(str(data_dir)).read("source_health").to_pylist()
    assert (health["source"], health["status"], health["requests"]) == (feed, "failing", 1)
    assert json.loads(health["failed_by_reason"]) == {"robots_unavailable": 1}
    (event,) = _events(cli_env, run["run_id"], {"mediawatch.source.failing"})
    assert event["resource"]["prefect.resource.id"] == f"mediawatch.source.{feed}"


def test_half_the_sources_failing_degrades_the_run_and_notifies_the_webhook(
    cli_env: dict[str, str], tmp_path: Path, webhook: Webhook
) -> None:
    alerts = run_cli(["alerts", "--webhook-url", webhook.url], cli_env)
    assert alerts.returncode == 0, alerts.stderr[-3000:]
    names = ("mediawatch-alerts", "mediawatch-watch-alerts")
    assert alerts.stdout.splitlines() == [f"alerts: automation '{name}' notifies {webhook.url}" for name in names]

    data_dir = tmp_path / "data"
    with FaultServer() as good, FaultServer() as bad:
        good.route("/robots.txt", ROBOTS)
        bad.route("/robots.txt", status(404))  # no robots.txt: everything allowed
        bad.route("/rss", status(503))
        good.route("/port.html", page((SAMPLES / "pages" / "port-volumes.html").read_bytes()))
        items = f"<item><title>Port</title><link>{good.url('/port.html')}</link></item>"
        good.route("/rss", page(f"<rss version='2.0'><channel><title>Desk</title>{items}</channel></rss>".encode()))
        sources = tmp_path / "sources.toml"
        sources.write_text(
            f'[[source]]\nname = "Harbour desk"\nurl = "{good.url("/rss")}"\nkind = "feed"\n\n'
            f'[[source]]\nname = "Markets desk"\nurl = "{bad.url("/rss")}"\nkind = "feed"\n'
        )
        args = ["run", str(sources), "--data-dir", str(data_dir), "--no-progress", "--fail-on-degraded"]
        done = run_cli(args, _site_env(cli_env))
    message = "degraded: 1 of 2 sources failed (Markets desk): http_5xx 1"
    assert done.returncode == 1, done.stderr[-3000:]  # degraded, and asked to fail then
    assert f"completed, {message}" in done.stdout.splitlines()
    logged = f"- {message} | items_in 2, articles 1, duplicates 0, quarantined 1"
    assert sum(line.endswith(logged) for line in done.stderr.splitlines()) == 1  # the log says it in one line

    (run,) = Lake(str(data_dir)).read("runs").to_pylist()
    assert (run["state"], run["state_detail"], run["articles"]) == ("completed", message, 1)
    flow_run = _api(cli_env, f"/flow_runs/{run['run_id']}")
    assert (flow_run["state_type"], flow_run["state"]["message"]) == ("COMPLETED", message)
    assert "degraded" in flow_run["tags"]

    wanted = {"mediawatch.run.degraded", "mediawatch.source.failing"}
    events = {e["event"]: e for e in _events(cli_env, run["run_id"], wanted)}
    assert set(events) == wanted
    failing = events["mediawatch.source.failing"]
    assert failing["resource"]["prefect.resource.id"] == f"mediawatch.source.{bad.url('/rss')}"
    assert failing["resource"]["prefect.resource.name"] == "Markets desk"
    assert (failing["payload"]["http_5xx"], failing["payload"]["failed_by_reason"]) == (1, {"http_5xx": 1})
    degraded = events["mediawatch.run.degraded"]["payload"]
    assert (degraded["message"], degraded["failing_sources"]) == (message, [bad.url("/rss")])

    notified = webhook.wait_for(f"mediawatch.source.failing for mediawatch.source.{bad.url('/rss')}")
    assert notified["subject"] == "mediawatch: mediawatch.source.failing (Markets desk)"
    figures = json.loads(notified["body"].split(": ", 1)[1])
    assert (figures["source"], figures["name"], figures["requests"]) == (bad.url("/rss"), "Markets desk", 1)
    assert figures["failed_by_reason"] == {"http_5xx": 1} and figures["run_id"] == run["run_id"]
    assert webhook.wait_for("mediawatch.run.degraded")["subject"].startswith("mediawatch: mediawatch.run.degraded")
