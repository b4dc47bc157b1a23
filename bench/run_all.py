"""Run every benchmark in turn (``make bench``); each prints its own figures.

python -m bench.run_all [--quick]
"""

from __future__ import annotations

import argparse
import subprocess
import sys

from bench import SHARED_DATA


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    quick = parser.parse_args().quick
    runs = [
        ["bench.extraction_eval", "--limit", "50" if quick else "300"],
        ["bench.figures_eval"],
        ["bench.nlp_throughput", "--limit", "50" if quick else "200"],
        ["bench.dedup_eval", str(SHARED_DATA / "dedup")],
        ["bench.dedup_throughput", "--sizes", *(["10000"] if quick else ["100000", "1000000"])],
        ["bench.fetch_mirror"],
        ["bench.throughput", "--items", "300" if quick else "2000", "--naive-items", "50" if quick else "300"],
    ]
    for module, *args in runs:
        print(f"\n===== python -m {module} {' '.join(args)}", flush=True)
        subprocess.run([sys.executable, "-m", module, *args], check=False)


if __name__ == "__main__":
    main()
