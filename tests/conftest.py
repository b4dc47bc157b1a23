"""Shared test set-up: no network but loopback, a throwaway Prefect home, one Prefect test server per session."""

from __future__ import annotations

import ipaddress
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from tests.httpfaults import FaultServer, page

_PREFECT_HOME = tempfile.mkdtemp(prefix="mediawatch-prefect-")
os.environ["PREFECT_HOME"] = _PREFECT_HOME
os.environ["DO_NOT_TRACK"] = "1"
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ.pop("PREFECT_API_URL", None)
for _name in list(os.environ):
    if _name.startswith("MEDIAWATCH_"):
        del os.environ[_name]

# Hypothesis (tests/test_fuzz.py). ``default``, what `make test` runs: the same examples on every run and machine
# (derandomize), nothing written to an example database in the tree, no per-example deadline (a busy CI core is
# not a bug); 200 examples per property keep the fuzz file under a minute on two cores. ``fuzz``, chosen with
# HYPOTHESIS_PROFILE=fuzz (and used by `make fuzz`): random examples, many of them.
settings.register_profile("default", derandomize=True, database=None, deadline=None, max_examples=200)
settings.register_profile("fuzz", derandomize=False, database=None, deadline=None, max_examples=2_000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "samples"
BIN = Path(sys.executable).parent

_real_connect = socket.socket.connect


def _guarded_connect(self: socket.socket, address: object) -> None:
    """Refuse any connection that is not to loopback or a local socket: tests must not touch the network."""
    if self.family in (socket.AF_INET, socket.AF_INET6) and isinstance(address, tuple):
        host = str(address[0])
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = host == "localhost"
        if not loopback:
            raise ConnectionRefusedError(f"tests may only connect to loopback, not {host}")
    _real_connect(self, address)  # type: ignore[arg-type]


socket.socket.connect = _guarded_connect  # type: ignore[method-assign]


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """Start one Prefect test server (fresh temporary SQLite) for the whole session."""
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    with (
        prefect_test_harness(server_startup_timeout=120),
        temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}),
    ):
        yield


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """Return an empty data directory."""
    path = tmp_path / "data"
    path.mkdir()
    return path


def free_port() -> int:
    """Return a free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_http(url: str, timeout: float) -> None:
    """Wait until ``url`` answers 200, or raise ``TimeoutError``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """Stop a process started with ``start_new_session=True`` and its children (TERM, then KILL)."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Start ``prefect server start`` on 127.0.0.1 (analytics off); yield an environment pointing at it."""
    home = tmp_path_factory.mktemp("prefect-server-home")
    port = free_port()
    env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT": "false",
    }
    with (home / "server.log").open("wb") as log:
        process = subprocess.Popen(
            [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port), "--analytics-off"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_http(f"http://127.0.0.1:{port}/api/health", 180)
            yield env
        finally:
            stop_process(process)


# -- web sources and the mediawatch command, for fault tests ----------------------------------------------

ROBOTS = page(b"User-agent: *\nAllow: /\n", "text/plain")


@pytest.fixture
def web(monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultServer]:
    """A news site on 127.0.0.1 that fetching may reach, with no delay between requests."""
    monkeypatch.setenv("MEDIAWATCH_ALLOW_NETWORKS", "127.0.0.0/8")
    monkeypatch.setenv("MEDIAWATCH_HOST_DELAY_SECONDS", "0")
    with FaultServer() as server:
        server.route("/robots.txt", ROBOTS)
        yield server


@pytest.fixture
def cli_env(prefect_server: dict[str, str]) -> dict[str, str]:
    """The environment of a ``mediawatch`` child process: the session's Prefect server, no MEDIAWATCH_ knobs."""
    return {k: v for k, v in prefect_server.items() if not k.startswith("MEDIAWATCH_")}
