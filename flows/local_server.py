"""The local Prefect server mediawatch keeps for later commands (``mediawatch server start``, ``run --keep-server``).

A Prefect command with no PREFECT_API_URL would start a temporary server (about 7-10 s on two cores with a migrated
database, 14-17 s on a fresh one) and stop it at exit. Instead one can be left running in the background and
recorded in PREFECT_HOME; later commands with no PREFECT_API_URL report to it when its process is alive and it
answers its health check. A record whose process is gone is removed and ignored.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from flows.checks import EXIT_FAILED, RunRefused


def quiet_prefect_defaults() -> None:
    """Turn Prefect's outbound analytics off unless the user chose otherwise."""
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT", "false")
    # The first run on a fresh machine migrates the local database; on a busy 2-core machine that can take
    # longer than Prefect's default 20 s wait for the temporary server.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")


# The record of the background server, under PREFECT_HOME (next to the database it serves).
SERVER_FILE = "mediawatch-server.json"
SERVER_LOG = "mediawatch-server.log"
# A recorded server must answer /api/health within this long to be used: a live one answers in milliseconds, and
# a hung or stopped one must not hold a run up for longer than a second before the temporary server takes over.
SERVER_HEALTH_TIMEOUT = 1.0
# A fresh database is migrated at start: 10-17 s measured on two cores; a busy machine needs more.
SERVER_START_TIMEOUT = 180.0
# `prefect server start` stops in about a second on SIGTERM; past this it is killed.
SERVER_STOP_TIMEOUT = 20.0


class ServerNotStarted(RunRefused):
    """The background Prefect server did not come up: the command fails (exit code 1)."""

    exit_code = EXIT_FAILED


@dataclass(frozen=True, slots=True)
class LocalServer:
    """A Prefect server on this machine that a mediawatch command started and left running."""

    api_url: str
    pid: int

    @property
    def ui_url(self) -> str:
        """Return the address of the server's UI."""
        return self.api_url.removesuffix("/api")


def prefect_home() -> Path:
    """Return Prefect's home directory: ``PREFECT_HOME``, else Prefect's default ``~/.prefect``."""
    return Path(os.environ.get("PREFECT_HOME") or "~/.prefect").expanduser()


def _process_alive(pid: int) -> bool:
    """Return True when process ``pid`` exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive, and not ours to use (the health check decides)
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True  # no /proc (not Linux): os.kill said it exists
    return state != "Z"


def _answers_health(api_url: str, timeout: float = SERVER_HEALTH_TIMEOUT) -> bool:
    """Return True when the Prefect API at ``api_url`` answers its health check within ``timeout`` seconds."""
    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=timeout) as response:  # noqa: S310 - loopback URL we wrote
            return bool(response.status == 200)
    except (OSError, ValueError):
        return False


def read_server_record(home: Path) -> LocalServer | None:
    """Return the server recorded under ``home``, or None when there is no record or it cannot be read."""
    try:
        data = json.loads((home / SERVER_FILE).read_text(encoding="utf-8"))
        return LocalServer(api_url=str(data["api_url"]), pid=int(data["pid"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def find_local_server(home: Path) -> LocalServer | None:
    """Return the server recorded under ``home`` if it can be used now: its process is alive and it answers its
    health check within :data:`SERVER_HEALTH_TIMEOUT`. A record whose process is gone (a reboot, a kill) is
    removed; one whose process lives but does not answer is left alone and passed over."""
    server = read_server_record(home)
    if server is None:
        return None
    if not _process_alive(server.pid):
        (home / SERVER_FILE).unlink(missing_ok=True)
        return None
    return server if _answers_health(server.api_url) else None


def free_port() -> int:
    """Return a free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def _server_lock(home: Path) -> Iterator[None]:
    """Hold an exclusive lock on the server record: two commands starting together start one server."""
    import fcntl

    home.mkdir(parents=True, exist_ok=True)
    with (home / f"{SERVER_FILE}.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def start_local_server(home: Path, timeout: float = SERVER_START_TIMEOUT) -> tuple[LocalServer, bool]:
    """Return the usable server recorded under ``home``, else start ``prefect server start`` on a free port of
    127.0.0.1 in the background (its own session, so it outlives this command), wait until it answers, record it;
    the flag says whether it was started now. Raise :class:`ServerNotStarted` if it does not come up (the message names
    its log)."""
    quiet_prefect_defaults()
    with _server_lock(home):
        running = find_local_server(home)
        if running is not None:
            return running, False
        port = free_port()
        log_path = home / SERVER_LOG
        command = [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)]
        env = {**os.environ, "PREFECT_HOME": str(home)}
        env.pop("PREFECT_API_URL", None)
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                [*command, "--analytics-off"],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )
        server = LocalServer(api_url=f"http://127.0.0.1:{port}/api", pid=process.pid)
        deadline = time.monotonic() + timeout
        while not _answers_health(server.api_url):
            if process.poll() is not None or time.monotonic() > deadline:
                _stop_process_group(process.pid)
                raise ServerNotStarted(f"the Prefect server did not start within {timeout:.0f} s; see {log_path}")
            time.sleep(0.3)
        record = {"api_url": server.api_url, "pid": server.pid, "started_at": datetime.now(UTC).isoformat()}
        staged = home / f"{SERVER_FILE}.tmp"
        staged.write_text(json.dumps(record), encoding="utf-8")
        staged.replace(home / SERVER_FILE)
        return server, True


def _is_prefect_server(pid: int) -> bool:
    """Return True unless /proc says process ``pid`` is something other than a Prefect server (a reused pid)."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return True
    return b"prefect" in b" ".join(command) and b"server" in command


def _stop_process_group(pid: int, timeout: float = SERVER_STOP_TIMEOUT) -> None:
    """Stop the process group ``pid`` leads (the server and its children): SIGTERM, then SIGKILL after
    ``timeout`` seconds."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _process_alive(pid) and time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # reap it when this process started it
        time.sleep(0.2)
    if _process_alive(pid):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)


def stop_local_server(home: Path) -> LocalServer | None:
    """Stop the server recorded under ``home`` and remove its record; return it, or None when none was running."""
    with _server_lock(home):
        server = read_server_record(home)
        (home / SERVER_FILE).unlink(missing_ok=True)
        if server is None or not _process_alive(server.pid) or not _is_prefect_server(server.pid):
            return None
        _stop_process_group(server.pid)
        return server


def use_local_server(keep: bool = False) -> LocalServer | None:
    """Return the local server the command should report to: none when ``PREFECT_API_URL`` names one (Prefect
    uses it) or when none is running (a temporary server then runs for the command), unless ``keep`` asks to
    start one that stays. Said on standard error, so the command's output stays its own."""
    if os.environ.get("PREFECT_API_URL"):
        return None
    home = prefect_home()
    if keep:
        server, started = start_local_server(home)
        what = "started" if started else "using"
    else:
        found = find_local_server(home)
        if found is None:
            return None
        server, what = found, "using"
    print(
        f"mediawatch: {what} the local Prefect server at {server.ui_url} (pid {server.pid}; "
        "`mediawatch server stop` stops it)",
        file=sys.stderr,
    )
    return server


def heartbeats_asked() -> bool:
    """Return True when the environment sets a heartbeat frequency (then an ad-hoc run keeps Prefect's)."""
    return any(k in os.environ for k in ("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", "PREFECT_RUNNER_HEARTBEAT_FREQUENCY"))


@contextlib.contextmanager
def reporting_to(server: LocalServer | None) -> Iterator[None]:
    """Point Prefect (in this process, and in processes it starts) at ``server`` while the ad-hoc flow run of a
    command runs, and turn its flow-run heartbeats off unless the environment asks for them.

    Heartbeats are events an automation can watch to call a silent run crashed; mediawatch ships none that
    does (a killed run is marked crashed by the next run, from the lake's ``runs`` ledger), and Prefect's
    heartbeat thread sleeps in one-second steps that the end of every run waits out: half a second on average of
    a short ad-hoc run. Deployments keep Prefect's default. Both changes are made in one settings context:
    Prefect rebuilds its settings for each, some 50 ms.
    """
    from prefect.settings import PREFECT_API_URL, PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
    from prefect.settings.legacy import Setting

    updates: dict[Setting, object] = {}
    if not heartbeats_asked():
        updates[PREFECT_FLOWS_HEARTBEAT_FREQUENCY] = None
    if server is not None:
        updates[PREFECT_API_URL] = server.api_url
    if not updates:
        yield
        return
    previous = os.environ.get("PREFECT_API_URL")
    if server is not None:
        os.environ["PREFECT_API_URL"] = server.api_url  # read by processes started inside (Dask workers)
    try:
        with temporary_settings(updates=updates):
            yield
    finally:
        if previous is None:
            os.environ.pop("PREFECT_API_URL", None)
        else:
            os.environ["PREFECT_API_URL"] = previous
