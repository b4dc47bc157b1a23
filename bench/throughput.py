"""End-to-end throughput of the real ingest flow, against a naive baseline doing the same work, on real news pages.

    python -m bench.throughput --items 2000 [--items 20000] [--naive-items 300] [--pages ../shared/data]
    python -m bench.throughput --items 300 --items 1000 --naive-items 300 --naive-items 1000 [--timeline 2]

The corpus is built from the bench pages (``<pages>/bench/manifest.jsonl``) in a seeded random order, so any
first N items are spread over the whole set (its sources and languages) rather than the first pages by name;
past the 1,022 pages they repeat with distinct URLs and text varied word by word (so repeats are new articles to
the dedup stage, not copies that would skip NLP). A Prefect server is started once (as deployments have one
running). For each size the ingest flow runs in a fresh process on an empty data directory, and the harness
prints articles/s (originals: duplicates and quarantined items are not articles), wall time per stage (from the
run's own ``counts``), the share of wall time outside stage work, the CPU used by the run's processes and the
peak RSS; then a second, unchanged run over the same input.

The naive baseline keeps its nature (one Prefect task per article, trafilatura's defaults, spaCy's full pipeline
per text, pandas appends, one process) but does mediawatch's work on mediawatch's items: the first
``--naive-items`` items of the same corpus, the English pipeline only on text in English (or of no known
language) as mediawatch decides it, and main text, entities and figures for every page. The like-for-like ratio
compares the two on exactly those items (mediawatch is run on them too if no ``--items`` size equals
``--naive-items``): the same originals over each one's wall time, and the work each did (main texts, articles
the English pipeline ran on, entities, figures). Several ``--naive-items`` sizes compare at each: at a few hundred
items the fixed costs (worker start-up, model loading, the flow's start and end) weigh far more than on more
items, so a ratio on 1,000 items says more about the pipelines than one on 300. ``--timeline S`` prints each
run's cores busy by process (flow, clean workers, NLP workers) every S seconds: where a run leaves cores idle.
Figures are printed, never asserted.
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
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from flows.local_server import free_port

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


def corpus_order(n_pages: int, seed: int = 7) -> list[int]:
    """Return the order the corpus takes the manifest's pages in: a seeded shuffle, so that any first N items are
    a random sample of the whole set (the manifest is sorted by source and name: its first 200 pages are 21 %
    English against 43 % overall)."""
    order = list(range(n_pages))
    random.Random(seed).shuffle(order)
    return order


def build_corpus(pages_root: Path, n_items: int, out: Path, seed: int = 7) -> int:
    """Write ``n_items`` HTML files to ``out``, named so that sorting by name gives the corpus order (any first N
    files are the corpus of N items); return the number written."""
    manifest = [json.loads(line) for line in (pages_root / "bench" / "manifest.jsonl").read_text().splitlines()]
    order = corpus_order(len(manifest), seed)
    pages: dict[int, str] = {}
    rng = random.Random(seed + 1)  # the word swaps of repeats, drawn in corpus order
    out.mkdir(parents=True, exist_ok=True)
    for i in range(n_items):
        rep, k = divmod(i, len(manifest))
        meta = manifest[order[k]]
        if order[k] not in pages:
            pages[order[k]] = gzip.decompress((pages_root / meta["path"]).read_bytes()).decode("utf-8", "replace")
        html = pages[order[k]]
        url = f"https://bench-{rep}.example/{meta['id']}"
        if rep:
            html = vary(html, rng)
        html = re.sub(r'<link[^>]+rel="?canonical"?[^>]*>', "", html, flags=re.I)
        html = html.replace("<head>", f'<head><link rel="canonical" href="{url}">', 1)
        (out / f"{i:06d}-r{rep:03d}-{meta['id']}.html").write_text(html, encoding="utf-8")
    return n_items


def sub_corpus(corpus: Path, size: int, out: Path) -> Path:
    """Return ``out`` holding (hard links to) the first ``size`` items of ``corpus``."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir()
    for path in sorted(corpus.iterdir())[:size]:
        os.link(path, out / path.name)
    return out


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
    port = free_port()
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


def run_flow(corpus: Path, data_dir: Path | str, env: dict[str, str]) -> dict[str, Any]:
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
    timeline: list[tuple[float, dict[str, float]]] = []  # (seconds since start, CPU seconds so far by role)
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.2):
            peak[0] = max(peak[0], tree_rss(proc.pid))
            cpu_seen.update(tree_cpu(proc.pid))
            timeline.append((time.perf_counter() - started, _by_role(cpu_seen)))

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
            result["cpu_by_role"] = _by_role(cpu_seen)  # as last sampled: a process's final 0.2 s is missed
            result["timeline"] = timeline
            # A short run can peak between two samples; the process's own peak is a floor for the tree's.
            result["tree_rss_mb"] = max(peak[0] / 2**20, result.get("rss_self_mb", 0.0))
            return result
    raise RuntimeError(f"{label} failed:\n{stdout[-3000:]}\n{stderr[-3000:]}")


def _by_role(cpu_seen: dict[int, tuple[str, float]]) -> dict[str, float]:
    """Return the CPU seconds of ``cpu_seen`` (``{pid: (role, seconds)}``) summed by role."""
    roles: dict[str, float] = {}
    for role, seconds in cpu_seen.values():
        roles[role] = roles.get(role, 0.0) + seconds
    return roles


def busy_timeline(timeline: list[tuple[float, dict[str, float]]], step: float) -> list[str]:
    """Return lines of cores busy by role in each ``step`` seconds of a run (from the 0.2 s CPU samples): where a
    run leaves cores idle (start-up, a stage waiting for the one before it, the end of the run)."""
    if not timeline:
        return []
    roles = sorted({role for _, by_role in timeline for role in by_role})
    lines, last_t, last = [], 0.0, dict.fromkeys(roles, 0.0)
    edge = step
    for t, by_role in timeline:
        if t < edge and t != timeline[-1][0]:
            continue
        span = max(t - last_t, 1e-9)
        busy = {role: (by_role.get(role, 0.0) - last[role]) / span for role in roles}
        cells = "  ".join(f"{role} {busy[role]:4.2f}" for role in roles)
        lines.append(f"{last_t:6.1f}-{t:6.1f} s: {sum(busy.values()):4.2f} cores busy ({cells})")
        last_t, last = t, {role: by_role.get(role, 0.0) for role in roles}
        edge = t + step
    return lines


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
        if not command:  # an exited worker not yet reaped: its role is unknown now, its last sample stands
            continue
        role = "clean workers" if "tasks.clean" in command else "NLP workers" if "tasks.nlp" in command else "flow"
        out[pid] = (role, (int(fields[11]) + int(fields[12])) / tick)
    return out


NAIVE = r"""
import json, re, resource, sys, time
from pathlib import Path
start = time.perf_counter()  # model loading counts, as it does in the flow's wall time
import pandas as pd, spacy, trafilatura
from prefect import flow, task

from tasks.figures import attach_objects, figures_by_sentence, make_context
from tasks.language import resolve_language
from tasks.nlp import resolve_model

nlp = spacy.load(resolve_model(sys.argv[3]))  # the full pipeline: every component
nlp.max_length = 500_000  # mediawatch's longest text (MEDIAWATCH_MAX_TEXT_CHARS)
DECLARED = re.compile(r"<html[^>]*?\slang=[\"']?([A-Za-z_-]+)", re.I)

@task
def process(path: str) -> dict:
    html = Path(path).read_text(encoding="utf-8", errors="replace")
    text = trafilatura.extract(html) or ""
    declared = DECLARED.search(html)
    language = resolve_language(text, declared.group(1) if declared else None).language
    entities, figures = [], []
    english = bool(text.strip()) and (language or "en") == "en"
    if english:  # mediawatch's rule: the English model on English text (or of no known language) only
        doc = nlp(text)
        entities = [(e.text, e.label_, e.start_char, e.end_char) for e in doc.ents]
        spans = [(e.start_char, e.end_char, e.text) for e in doc.ents]
        found = figures_by_sentence(text, make_context(text), [(s.start_char, s.end_char) for s in doc.sents])
        for window, figs in found:
            if window is not None:  # objects from the full pipeline's own parse of the whole text
                figs = attach_objects(figs, doc, entity_spans=spans)
            figures += [(f.text, f.kind, f.value, f.unit, f.object) for f in figs]
    return {"path": path, "text": text, "language": language, "english": english, "entities": entities,
            "figures": figures}

@flow
def naive(paths: list[str], out: str) -> dict:
    articles, entities, figures = pd.DataFrame(), pd.DataFrame(), pd.DataFrame()
    english = 0
    for p in paths:
        row = process(p)
        articles = pd.concat([articles, pd.DataFrame([{"path": row["path"], "text": row["text"],
                                                       "language": row["language"]}])])
        entities = pd.concat([entities, pd.DataFrame(
            [{"path": p, "text": t, "label": l, "start": s, "end": e} for t, l, s, e in row["entities"]])])
        figures = pd.concat([figures, pd.DataFrame(
            [{"path": p, "text": t, "kind": k, "value": v, "unit": u, "object": o}
             for t, k, v, u, o in row["figures"]])])
        english += row["english"]
    articles.to_parquet(out + "-articles.parquet")
    entities.to_parquet(out + "-entities.parquet")
    figures.to_parquet(out + "-figures.parquet")
    return {"items": len(paths), "texts": int((articles["text"].str.strip() != "").sum()), "english": english,
            "entities": len(entities), "figures": len(figures)}

paths = sorted(str(p) for p in Path(sys.argv[1]).iterdir())[: int(sys.argv[4])]
counts = naive(paths, sys.argv[2])
wall = time.perf_counter() - start
print("RESULT " + json.dumps({**counts, "wall": wall,
      "rss_self_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run_naive(corpus: Path, out: Path, model: str, n_items: int, env: dict[str, str]) -> dict[str, Any]:
    """Run the naive baseline on the first ``n_items`` files of ``corpus`` (the corpus of ``n_items`` items)."""
    return _run_script(NAIVE, [str(corpus), str(out), model, str(n_items)], env, "naive baseline")


def report_run(label: str, result: dict[str, Any], timeline_step: float = 0.0) -> float:
    """Print one run's figures (with ``timeline_step``, its cores busy by process role every that many seconds);
    return its articles (originals) per second."""
    summary = result["summary"]
    counts = json.loads(summary["counts"])
    wall = result["wall"]
    stages = counts.get("stage_seconds", {})
    inside = sum(stages.values())
    rate: float = summary["articles"] / wall
    print(
        f"{label}: {summary['items_in']} items in {wall:.1f} s = {rate:.1f} articles/s "
        f"({summary['articles']} articles, {summary['duplicates']} duplicates, {summary['quarantined']} quarantined; "
        f"{summary['items_in'] / wall:.1f} items/s)"
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
    if timeline_step and result.get("timeline"):
        print(f"   cores busy every {timeline_step:g} s (process start = 0; the flow starts after its imports):")
        for line in busy_timeline(result["timeline"], timeline_step):
            print("      " + line)
    print(
        f"   peak RSS: {result['tree_rss_mb']:.0f} MB summed over the flow process and its workers "
        f"(flow process alone {result['rss_self_mb']:.0f} MB)"
    )
    return rate


_REQUEST = re.compile(r'"(GET|PUT|POST|DELETE|HEAD) (\S+) HTTP/[\d.]+" (\d{3})')


def count_requests(log_lines: list[str]) -> dict[str, int]:
    """Return the S3 requests in moto's access log lines by kind: LIST (a GET with ``list-type``), GET, HEAD, PUT,
    POST, DELETE; a 4xx answer (a conditional write refused, a key not there) counts as well, as a store bills it."""
    kinds: dict[str, int] = {}
    for line in log_lines:
        match = _REQUEST.search(line)
        if match:
            method, target = match.group(1), match.group(2)
            kind = "LIST" if method == "GET" and "list-type=" in target else method
            kinds[kind] = kinds.get(kind, 0) + 1
    return kinds


def s3_requests(corpus: Path, n_items: int, work: Path, env: dict[str, str], batch_size: int) -> None:
    """Run the ingest flow (and an unchanged rerun) on a lake on moto's S3 server on 127.0.0.1 and print the
    requests each sent to the store, by kind, per batch and per million articles."""
    import boto3

    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    log_path = work / "moto.log"
    with log_path.open("wb") as log:
        moto = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_http(f"{endpoint}/moto-api/", 60)
        keys = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_REGION": "us-east-1"}
        boto3.client(
            "s3", endpoint_url=endpoint, **{k.lower(): v for k, v in keys.items() if "KEY" in k}
        ).create_bucket(Bucket="bench")
        s3_env = {
            **env,
            **keys,
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_EC2_METADATA_DISABLED": "true",
            "MEDIAWATCH_STATE_DIR": str(work / "s3-state"),
            "MEDIAWATCH_CACHE_DIR": str(work / "s3-cache"),
            "MEDIAWATCH_BATCH_SIZE": str(batch_size),
        }
        sub = sub_corpus(corpus, n_items, work / f"corpus-s3-{n_items}")
        print(f"\nS3 requests: ingest of {n_items} items on s3://bench/news (moto's server, batches of {batch_size})")
        for label in ("first run", "unchanged rerun"):
            before = len(log_path.read_text(errors="replace").splitlines())
            result = run_flow(sub, "s3://bench/news", s3_env)
            kinds = count_requests(log_path.read_text(errors="replace").splitlines()[before:])
            total = sum(kinds.values())
            summary = result["summary"]
            batches = max(1, -(-summary["items_in"] // batch_size))
            articles = summary["articles"]
            by_kind = ", ".join(f"{k} {v}" for k, v in sorted(kinds.items()))
            per_million = f", {total / articles * 1e6:,.0f} per million articles" if articles else ""
            print(
                f"   {label}: {total} requests in {result['wall']:.1f} s ({by_kind}); {articles} articles in "
                f"{batches} batches: {total / batches:.0f} requests per batch{per_million}"
            )
    finally:
        os.killpg(moto.pid, signal.SIGTERM)
        moto.wait(30)


def _wait_http(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def english_share(data_dir: Path) -> tuple[int, int]:
    """Return (articles in English or of no known language, articles) of the lake at ``data_dir``: the articles
    mediawatch runs the English model on."""
    from storage.lake import Lake

    languages = Lake(str(data_dir)).read("articles", ["language"])["language"].to_pylist()
    return sum(1 for lang in languages if (lang or "en").split("-")[0] == "en"), len(languages)


def work_done(data_dir: Path) -> dict[str, int]:
    """Return what mediawatch produced in the lake at ``data_dir``: articles (originals), those with a main text,
    those the English model ran on, entity and figure rows; the naive baseline reports the same counts."""
    from storage.lake import Lake

    lake = Lake(str(data_dir))
    english, articles = english_share(data_dir)
    texts = lake.read("articles", ["text"])["text"].to_pylist()
    return {
        "articles": articles,
        "texts": sum(1 for t in texts if (t or "").strip()),
        "english": english,
        "entities": lake.read("entities", ["article_id"]).num_rows,
        "figures": lake.read("figures", ["article_id"]).num_rows,
    }


def like_for_like(n: int, ours: dict[str, Any], naive: dict[str, Any], data_dir: Path) -> float:
    """Print the comparison of the two pipelines on the same ``n`` items (the work each did, articles per second
    of wall, CPU); return mediawatch's ratio over the naive baseline in articles per second."""
    done = work_done(data_dir)
    originals = ours["summary"]["articles"]
    print(
        f"   the same {n} items: {originals} originals ({done['english']} of {done['articles']} in English or of no "
        "known language: the English model runs on those in both pipelines)"
    )
    print(
        f"   work done: main text mediawatch {done['texts']} of {originals} originals, naive {naive['texts']} of "
        f"{naive['items']} items; English pipeline mediawatch {done['english']}, naive {naive['english']}; entities "
        f"mediawatch {done['entities']} (mentions of names: people, organisations, places...; resolved), naive "
        f"{naive['entities']} (every doc.ents span, numbers and dates included); figures mediawatch "
        f"{done['figures']}, naive {naive['figures']}"
    )
    ours_rate, naive_rate = originals / ours["wall"], originals / naive["wall"]
    print(
        f"   mediawatch {ours_rate:.2f} articles/s ({ours['wall']:.1f} s), naive {naive_rate:.2f} articles/s "
        f"({naive['wall']:.1f} s): the same {originals} originals over each one's wall time"
    )
    print(
        f"   CPU (interpreter start-up included): mediawatch {ours['cpu']:.1f} s in {ours['process_wall']:.1f} s "
        f"of process wall ({ours['cpu'] / originals:.3f} s per article), naive {naive['cpu']:.1f} s in "
        f"{naive['process_wall']:.1f} s ({naive['cpu'] / originals:.3f} s per article): "
        f"{naive['cpu'] / ours['cpu']:.2f}x the CPU per article for the naive pipeline (robust to other load)"
    )
    ratio: float = ours_rate / naive_rate
    print(f"mediawatch / naive, like for like on {n} items: {ratio:.2f}x (load average {load_average()})")
    return ratio


def load_average() -> str:
    """Return the 1, 5 and 15 minute load averages of the machine (other jobs slow the wall-time figures)."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, action="append", help="corpus sizes (default 2000)")
    parser.add_argument(
        "--naive-items",
        type=int,
        action="append",
        help="like-for-like sizes: the naive baseline and mediawatch on the same first N items (default 300; "
        "repeat for several, e.g. --naive-items 300 --naive-items 1000)",
    )
    parser.add_argument("--pages", type=Path, default=DEFAULT_DATA, help="folder holding bench/manifest.jsonl")
    parser.add_argument("--model", default="en_core_web_sm")
    parser.add_argument("--keep", action="store_true", help="keep the temporary corpus and data")
    parser.add_argument("--naive-only", action="store_true", help="build the corpus, run only the naive baseline")
    parser.add_argument(
        "--s3-items",
        type=int,
        default=0,
        help="also ingest this many items into a lake on moto's S3 server and count "
        "the requests sent to the store (0: skip)",
    )
    parser.add_argument("--s3-batch-size", type=int, default=200, help="batch size of the S3 run (default 200)")
    parser.add_argument(
        "--timeline",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="print each run's cores busy by process role every SECONDS (0: no timeline)",
    )
    args = parser.parse_args()
    sizes = args.items or [2000]
    naive_sizes = sorted(set(args.naive_items or [300]))
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
        runs: dict[int, dict[str, Any]] = {}
        built = build_corpus(args.pages, max([*sizes, *naive_sizes, args.s3_items]), corpus)
        if args.naive_only:
            sizes = []
        for size in sorted(sizes):
            print(f"\ncorpus: {size} HTML items (the first {size} of a seeded random order of the pages)")
            sub = sub_corpus(corpus, size, work / f"corpus-{size}")
            data = work / f"data-{size}"
            first = run_flow(sub, data, env)
            report_run(f"mediawatch, first run ({size})", first, args.timeline)
            runs[size] = first
            second = run_flow(sub, data, env)
            report_run(f"mediawatch, unchanged rerun ({size})", second)
            print(f"   rerun speed-up: {first['wall'] / second['wall']:.1f}x")
        ratios: dict[int, float] = {}
        for n in naive_sizes:
            same = sub_corpus(corpus, n, work / f"corpus-{n}")
            print(f"\nlike for like: the first {n} of {built} items, both pipelines (load average {load_average()})")
            naive = run_naive(same, work / f"naive-{n}", args.model, n, env)
            print(
                f"naive baseline: {naive['items']} items in {naive['wall']:.1f} s (model load included), "
                f"main text for {naive['texts']}, the English pipeline on {naive['english']}, "
                f"{naive['entities']} entities, {naive['figures']} figures; peak RSS {naive['tree_rss_mb']:.0f} MB"
            )
            if args.naive_only:
                continue
            if n not in runs:
                runs[n] = run_flow(same, work / f"data-{n}", env)
                report_run(f"mediawatch, first run ({n}, the baseline's items)", runs[n], args.timeline)
            ratios[n] = like_for_like(n, runs[n], naive, work / f"data-{n}")
        if len(ratios) > 1:
            print("\nlike for like: " + ", ".join(f"{r:.2f}x on {n} items" for n, r in sorted(ratios.items())))
        if args.s3_items:
            s3_requests(corpus, args.s3_items, work, env, args.s3_batch_size)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
