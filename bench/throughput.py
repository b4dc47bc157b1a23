"""End-to-end throughput of the real ingest flow, against a naive baseline, on real news pages.

    python -m bench.throughput --items 2000 [--items 20000] [--naive-items 300] [--pages ../shared/data]

The corpus is built from the bench pages (``<pages>/bench/manifest.jsonl``), repeated with distinct URLs and
text varied word by word (so repeats are new articles to the dedup stage, not copies that would skip NLP).
A Prefect server is started once (as deployments have one running). For each size the ingest flow runs in a
fresh process on an empty data directory, and the harness prints articles/s, wall time per stage (from the
run's own ``counts``), the share of wall time outside stage work, the CPU used by the run's processes and the
peak RSS; then a second, unchanged run over the same input. The naive baseline (one Prefect task per
article, trafilatura defaults, the full spaCy pipeline, pandas appends) runs on the first ``--naive-items``
items of the same corpus. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import random
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO.parent / "shared" / "data"
_TEXT = re.compile(r">([^<]{20,})<")
_WORD = re.compile(r"\b[A-Za-zÄÖÜäöüßÉéèàñ]{3,}\b")


def machine() -> str:
    """Return a one-line description of this machine."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = int(
            next(x for x in Path("/proc/meminfo").read_text().splitlines() if x.startswith("MemTotal")).split()[1]
        )
    except (OSError, StopIteration, ValueError):
        mem_kb = 0
    return f"{cpu}, {os.cpu_count()} cores, {mem_kb / 1048576:.1f} GiB RAM, Python {platform.python_version()}"


def vary(html: str, rng: random.Random, rate: float = 0.5) -> str:
    """Return ``html`` with about ``rate`` of the words in text nodes swapped for other words of the same text node.

    Half the words: a repeat must be a new article to the dedup stage (a lighter variation makes it a near-copy,
    which skips extraction and flatters the figures), while its words, names and numbers stay real.
    """

    def swap_words(match: re.Match[str]) -> str:
        segment = match.group(1)
        words = _WORD.findall(segment)
        if not words:
            return match.group(0)
        pool = words[:]
        rng.shuffle(pool)
        it = iter(pool)
        return ">" + _WORD.sub(lambda w: next(it) if rng.random() < rate else w.group(0), segment) + "<"

    return _TEXT.sub(swap_words, html)


def build_corpus(pages_root: Path, n_items: int, out: Path, seed: int = 7) -> int:
    """Write ``n_items`` HTML files to ``out``; return the number written."""
    manifest = [json.loads(line) for line in (pages_root / "bench" / "manifest.jsonl").read_text().splitlines()]
    pages = [(m, gzip.decompress((pages_root / m["path"]).read_bytes()).decode("utf-8", "replace")) for m in manifest]
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    for i in range(n_items):
        rep, k = divmod(i, len(pages))
        meta, html = pages[k]
        url = f"https://bench-{rep}.example/{meta['id']}"
        if rep:
            html = vary(html, rng)
        html = re.sub(r'<link[^>]+rel="?canonical"?[^>]*>', "", html, flags=re.I)
        html = html.replace("<head>", f'<head><link rel="canonical" href="{url}">', 1)
        (out / f"r{rep:03d}-{meta['id']}.html").write_text(html, encoding="utf-8")
    return n_items


RUNNER = r"""
import json, resource, sys, time
from flows.ingest import ingest_news
start = time.perf_counter()
summary = ingest_news(sources=[sys.argv[1]], data_dir=sys.argv[2])
wall = time.perf_counter() - start
print("RESULT " + json.dumps({"summary": summary, "wall": wall,
      "rss_self_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}, default=str))
"""


def start_prefect_server(home: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Start ``prefect server start`` on 127.0.0.1, as a deployment has it running; return it and its API URL.

    Runs are measured against a running server: a run started with no server starts a temporary one, a fixed
    ten seconds or so that a scheduled run does not pay and that would hide the pipeline's own figures.
    """
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1"}
    home.mkdir(parents=True, exist_ok=True)
    log = (home / "server.log").open("wb")
    cmd = [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)]
    server = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/api"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                if response.status == 200:
                    return server, url
        except OSError:
            time.sleep(0.5)
    server.kill()
    raise RuntimeError(f"the Prefect server did not start; see {home / 'server.log'}")


def run_flow(corpus: Path, data_dir: Path, env: dict[str, str]) -> dict[str, Any]:
    """Run the ingest flow in a fresh process; return its summary, wall time and peak RSS."""
    return _run_script(RUNNER, [str(corpus), str(data_dir)], env, "flow")


def _run_script(script: str, args: list[str], env: dict[str, str], label: str) -> dict[str, Any]:
    """Run ``script`` in a fresh Python process; return the JSON it prints after ``RESULT``, with the CPU seconds
    and the peak resident memory (sampled every 0.2 s, summed over the process and its workers) of the run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", script, *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    peak = [0]
    cpu_seen: dict[int, tuple[str, float]] = {}
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.2):
            peak[0] = max(peak[0], tree_rss(proc.pid))
            cpu_seen.update(tree_cpu(proc.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = proc.communicate()
    process_wall = time.perf_counter() - started
    done.set()
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    for line in stdout.splitlines():
        if line.startswith("RESULT "):
            result: dict[str, Any] = json.loads(line[len("RESULT ") :])
            # CPU of the whole process tree (the flow process, its clean and NLP workers), start-up included.
            result["cpu"] = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
            result["process_wall"] = process_wall
            roles: dict[str, float] = {}
            for role, seconds in cpu_seen.values():  # as last sampled: a process's final 0.2 s is missed
                roles[role] = roles.get(role, 0.0) + seconds
            result["cpu_by_role"] = roles
            # A short run can peak between two samples; the process's own peak is a floor for the tree's.
            result["tree_rss_mb"] = max(peak[0] / 2**20, result.get("rss_self_mb", 0.0))
            return result
    raise RuntimeError(f"{label} failed:\n{stdout[-3000:]}\n{stderr[-3000:]}")


def _tree(root: int) -> set[int]:
    """Return process ``root`` and all its descendants (from /proc; just ``root`` elsewhere)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    tree, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        children = [c for c, p in parents.items() if p == pid]
        tree.update(children)
        frontier.extend(children)
    return tree


def tree_rss(root: int) -> int:
    """Return the resident bytes of process ``root`` and all its descendants (from /proc; 0 elsewhere)."""
    page = os.sysconf("SC_PAGE_SIZE")
    total = 0
    for pid in _tree(root):
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * page
        except (OSError, IndexError, ValueError):
            continue
    return total


def tree_cpu(root: int) -> dict[int, tuple[str, float]]:
    """Return ``{pid: (role, CPU seconds so far)}`` for ``root`` and its descendants; the role is "clean
    workers", "NLP workers" or "flow process" (from the command line)."""
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[int, tuple[str, float]] = {}
    for pid in _tree(root):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            command = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except (OSError, IndexError):
            continue
        role = "clean workers" if "tasks.clean" in command else "NLP workers" if "tasks.nlp" in command else "flow"
        out[pid] = (role, (int(fields[11]) + int(fields[12])) / tick)
    return out


NAIVE = r"""
import json, resource, sys, time
from pathlib import Path
import pandas as pd, spacy, trafilatura
from prefect import flow, task

from tasks.nlp import resolve_model

nlp = spacy.load(resolve_model(sys.argv[3]))  # the full pipeline: every component

@task
def process(path: str) -> dict:
    html = Path(path).read_text(encoding="utf-8", errors="replace")
    text = trafilatura.extract(html) or ""
    doc = nlp(text)
    return {"path": path, "text": text, "entities": [(e.text, e.label_) for e in doc.ents]}

@flow
def naive(paths: list[str], out: str) -> int:
    frame = pd.DataFrame()
    for p in paths:
        row = process(p)
        frame = pd.concat([frame, pd.DataFrame([{"path": row["path"], "text": row["text"],
                                                 "entities": json.dumps(row["entities"])}])])
    frame.to_parquet(out)
    return len(frame)

paths = sorted(str(p) for p in Path(sys.argv[1]).iterdir())[: int(sys.argv[4])]
start = time.perf_counter()
n = naive(paths, sys.argv[2])
wall = time.perf_counter() - start
print("RESULT " + json.dumps({"items": n, "wall": wall,
      "rss_self_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run_naive(corpus: Path, out: Path, model: str, n_items: int, env: dict[str, str]) -> dict[str, Any]:
    """Run the naive baseline on the first ``n_items`` files of ``corpus``."""
    return _run_script(NAIVE, [str(corpus), str(out), model, str(n_items)], env, "naive baseline")


def report_run(label: str, result: dict[str, Any]) -> float:
    """Print one run's figures; return its articles (items) per second."""
    summary = result["summary"]
    counts = json.loads(summary["counts"])
    wall = result["wall"]
    stages = counts.get("stage_seconds", {})
    inside = sum(stages.values())
    rate = summary["items_in"] / wall
    print(
        f"{label}: {summary['items_in']} items in {wall:.1f} s = {rate:.1f} items/s "
        f"({summary['articles']} articles, {summary['duplicates']} duplicates, {summary['quarantined']} quarantined)"
    )
    print("   stage wall s: " + ", ".join(f"{k} {v:.1f}" for k, v in stages.items()))
    print(
        f"   outside stage work: {wall - inside:.1f} s = {100 * (wall - inside) / wall:.1f} % of wall "
        "(flow run start and end, lock, index load/save, discovery, artifacts)"
    )
    print(
        f"   CPU: {result['cpu']:.1f} s in the run's processes over {result['process_wall']:.1f} s of process wall "
        f"(interpreter start-up included) = {result['cpu'] / result['process_wall']:.2f} of {os.cpu_count()} "
        "cores busy on average"
    )
    roles = result.get("cpu_by_role") or {}
    if roles:
        print("   CPU by process (sampled): " + ", ".join(f"{k} {v:.1f} s" for k, v in sorted(roles.items())))
    print(
        f"   peak RSS: {result['tree_rss_mb']:.0f} MB summed over the flow process and its workers "
        f"(flow process alone {result['rss_self_mb']:.0f} MB)"
    )
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, action="append", help="corpus sizes (default 2000)")
    parser.add_argument("--naive-items", type=int, default=300)
    parser.add_argument("--pages", type=Path, default=DEFAULT_DATA, help="folder holding bench/manifest.jsonl")
    parser.add_argument("--model", default="en_core_web_sm")
    parser.add_argument("--keep", action="store_true", help="keep the temporary corpus and data")
    parser.add_argument("--naive-only", action="store_true", help="build the corpus, run only the naive baseline")
    args = parser.parse_args()
    sizes = args.items or [2000]
    work = Path(tempfile.mkdtemp(prefix="mediawatch-bench-"))
    print(f"machine: {machine()}")
    server, api_url = start_prefect_server(work / "prefect")
    env = {
        **os.environ,
        "PREFECT_HOME": str(work / "prefect"),
        "PREFECT_API_URL": api_url,
        "DO_NOT_TRACK": "1",
        "PYTHONPATH": str(REPO),
    }
    print(f"Prefect server: {api_url} (started once, as for scheduled runs)")
    try:
        corpus = work / "corpus"
        built = 0
        ours_rate = 0.0
        if args.naive_only:
            build_corpus(args.pages, args.naive_items, corpus)
            sizes = []
        for size in sorted(sizes):
            t0 = time.perf_counter()
            built = build_corpus(args.pages, size, corpus) if size > built else built
            print(f"\ncorpus: {size} HTML items (built in {time.perf_counter() - t0:.0f} s)")
            sub = work / f"corpus-{size}"
            if sub.exists():
                shutil.rmtree(sub)
            sub.mkdir()
            for path in sorted(corpus.iterdir())[:size]:
                os.link(path, sub / path.name)
            data = work / f"data-{size}"
            first = run_flow(sub, data, env)
            ours_rate = report_run(f"mediawatch, first run ({size})", first)
            second = run_flow(sub, data, env)
            report_run(f"mediawatch, unchanged rerun ({size})", second)
            print(f"   rerun speed-up: {first['wall'] / second['wall']:.1f}x")
        naive = run_naive(corpus, work / "naive.parquet", args.model, args.naive_items, env)
        naive_rate = naive["items"] / naive["wall"]
        print(
            f"\nnaive baseline: {naive['items']} items in {naive['wall']:.1f} s = {naive_rate:.2f} items/s, "
            f"peak RSS {naive['tree_rss_mb']:.0f} MB"
        )
        if ours_rate:
            print(f"mediawatch / naive (largest corpus): {ours_rate / naive_rate:.1f}x")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
