"""Start-up cost of an ad-hoc run: an unchanged rerun of the demo input, with a local Prefect server running and
with none.

    python -m bench.startup [--repeat 3] [--input samples]

Everything runs in a throwaway ``PREFECT_HOME`` and data directory, with ``PREFECT_API_URL`` unset, as a user's
first ``mediawatch run`` would. One run ingests the input (and migrates Prefect's new database); then the same
command runs again over the unchanged input ``--repeat`` times with no server (each run starts Prefect's
temporary server and stops it at exit), and ``--repeat`` times after ``mediawatch server start`` (each reports to
that server). The harness prints each wall time (the whole ``mediawatch`` process, interpreter start-up
included), the time ``mediawatch server start`` took, and two floors no run goes below: the interpreter with
mediawatch's imports, and ``mediawatch --help``. Figures are printed, never asserted.
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
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIAWATCH_") and k != "PREFECT_API_URL"}
    env.update(
        {"PREFECT_HOME": str(work / "prefect"), "DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    )
    run = [str(MEDIAWATCH), "run", args.input, "--data-dir", str(work / "data"), "--no-progress"]
    print(f"machine: {machine()}")
    print(f"command: {' '.join(run[:2])} {args.input} --data-dir DATA --no-progress (PREFECT_API_URL unset)\n")
    try:
        first, _ = timed(run, env)
        print(f"{'first run (fresh Prefect database, new lake)':<44} {first:5.1f} s")
        without = [timed(run, env)[0] for _ in range(args.repeat)]
        describe("unchanged rerun, no server running", without)
        start, started = timed([str(MEDIAWATCH), "server", "start"], env)
        print(f"{'mediawatch server start':<44} {start:5.1f} s  ({started.stdout.splitlines()[0]})")
        try:
            reused = []
            for _ in range(args.repeat):
                wall, done = timed(run, env)
                if "using the local Prefect server" not in done.stderr:
                    raise RuntimeError(f"the rerun did not report to the local server:\n{done.stderr[-2000:]}")
                reused.append(wall)
            describe("unchanged rerun, local server running", reused)
        finally:
            timed([str(MEDIAWATCH), "server", "stop"], env)
        imports = [timed([sys.executable, "-c", "import flows.ingest"], env)[0] for _ in range(args.repeat)]
        describe("floor: python -c 'import flows.ingest'", imports)
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
