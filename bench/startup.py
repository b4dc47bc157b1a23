"""Start-up cost of an ad-hoc run: an unchanged rerun of the demo input, with a local Prefect server running and
with none.

    python -m bench.startup [--repeat 3] [--input samples]

Everything runs in a throwaway ``PREFECT_HOME`` and data directory, with ``PREFECT_API_URL`` unset, as a user's
first ``mediawatch run`` would, and with Python's bytecode cache on (``PYTHONDONTWRITEBYTECODE`` removed, the
cache kept under the temporary directory through ``PYTHONPYCACHEPREFIX``): an installed mediawatch has its
modules compiled, while a shell that forbids the cache makes every command compile mediawatch's 80-odd modules
from source again (installed packages keep the bytecode pip wrote; printed as a floor of its own).

One run ingests the input (and migrates Prefect's new database); then the same command runs again over the
unchanged input ``--repeat`` times with no server (each run starts Prefect's temporary server and stops it at
exit), and after ``mediawatch server start`` once more than ``--repeat`` times: the first run a new server
serves is printed on its own line (the server loads code paths and caches on demand), the others make the
median. The harness prints each wall time (the whole ``mediawatch`` process, interpreter start-up included), the
time ``mediawatch server start`` took, and the floors no run goes below: the interpreter with mediawatch's
imports (with and without the bytecode cache), and ``mediawatch --help``. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.throughput import machine

REPO = Path(__file__).resolve().parent.parent
MEDIAWATCH = Path(sys.executable).parent / "mediawatch"


def timed(command: list[str], env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    """Run ``command`` from the repository root; return its wall time in seconds and the finished process."""
    started = time.perf_counter()
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} exited {done.returncode}:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
        )
    return wall, done


def describe(label: str, walls: list[float]) -> None:
    """Print a line of wall times: each one, then the median and the fastest."""
    each = ", ".join(f"{w:.1f}" for w in walls)
    print(f"{label:<44} median {statistics.median(walls):5.1f} s, fastest {min(walls):5.1f} s  ({each})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="reruns measured in each setting (default 3)")
    parser.add_argument("--input", default=str(REPO / "samples"), help="what the runs ingest (default: samples/)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary Prefect home and data directory")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="mediawatch-startup-"))
    unset = ("PREFECT_API_URL", "PYTHONDONTWRITEBYTECODE")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIAWATCH_") and k not in unset}
    env.update(
        {
            "PREFECT_HOME": str(work / "prefect"),
            "DO_NOT_TRACK": "1",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PYTHONPYCACHEPREFIX": str(work / "pycache"),
        }
    )
    run = [str(MEDIAWATCH), "run", args.input, "--data-dir", str(work / "data"), "--no-progress"]
    print(f"machine: {machine()}")
    print(f"command: {' '.join(run[:2])} {args.input} --data-dir DATA --no-progress")
    print("(PREFECT_API_URL unset, Python's bytecode cache on)\n")
    try:
        first, _ = timed(run, env)
        print(f"{'first run (fresh Prefect database, new lake)':<44} {first:5.1f} s")
        without = [timed(run, env)[0] for _ in range(args.repeat)]
        describe("unchanged rerun, no server running", without)
        start, started = timed([str(MEDIAWATCH), "server", "start"], env)
        print(f"{'mediawatch server start':<44} {start:5.1f} s  ({started.stdout.splitlines()[0]})")
        try:
            reused = []
            for n in range(args.repeat + 1):
                wall, done = timed(run, env)
                if "using the local Prefect server" not in done.stderr:
                    raise RuntimeError(f"the rerun did not report to the local server:\n{done.stderr[-2000:]}")
                if n == 0:  # the server's first flow run: it loads its own code paths and caches on demand
                    print(f"{'first rerun after server start':<44} {wall:5.1f} s  (not in the median below)")
                else:
                    reused.append(wall)
            describe("unchanged rerun, local server running", reused)
        finally:
            timed([str(MEDIAWATCH), "server", "stop"], env)
        imports = [timed([sys.executable, "-c", "import flows.ingest"], env)[0] for _ in range(args.repeat)]
        describe("floor: python -c 'import flows.ingest'", imports)
        uncached = {k: v for k, v in env.items() if k != "PYTHONPYCACHEPREFIX"} | {"PYTHONDONTWRITEBYTECODE": "1"}
        compiling = [timed([sys.executable, "-c", "import flows.ingest"], uncached)[0] for _ in range(args.repeat)]
        describe("the same without a bytecode cache", compiling)
        helps = [timed([str(MEDIAWATCH), "--help"], env)[0] for _ in range(args.repeat)]
        describe("floor: mediawatch --help", helps)
        print(
            f"\nlocal server running / none: {statistics.median(reused):.1f} s against "
            f"{statistics.median(without):.1f} s per unchanged rerun (medians)"
        )
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
