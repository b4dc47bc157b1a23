"""The "nothing lost" invariant, and the inputs the fault tests feed through the pipeline.

Every item that enters a run ends as an article, a recorded copy or a quarantined record, and a rerun after
any failure leaves exactly the rows a clean run leaves. :func:`assert_matches_clean_run` checks the second
half directly: it runs the same good input into a fresh data directory and compares the two lakes dataset by
dataset, on content columns (run ids, timestamps and file layout left out), with rows as multisets so that a
row written twice is caught.

Item texts are drawn word by word from the vocabulary of ``tests/test_crash.py`` so that no two are
near-duplicates: these tests are about the lake, not about the dedup stage's judgement.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import random
import subprocess
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from storage.lake import Lake
from storage.schemas import SCHEMAS
from tests.conftest import BIN, REPO, stop_process
from tests.httpfaults import FaultServer, page
from tests.test_crash import TOPICS, WORDS, every_file_reads

CONTENT_DATASETS = ("articles", "entities", "figures", "duplicates", "quarantine", "raw")
# Columns that differ between two runs of the same input by design: who wrote the row and when.
IGNORED_COLUMNS = frozenset({"run_id", "fetched_at", "quarantined_at", "date"})
# A rerun that reads an item again records it as a copy of itself; that is a trace of the rerun, not content.
RERUN_METHOD = "already_ingested"


# -- inputs -----------------------------------------------------------------------------------------------


def news_text(seed: str, words: int = 60) -> str:
    """Return a short distinct news text (entities, figures, a filler paragraph) determined by ``seed``."""
    rng = random.Random(int(hashlib.sha256(seed.encode()).hexdigest()[:12], 16))
    name, noun, country, company = rng.choice(TOPICS)
    pct, amount, tonnes = rng.randint(2, 40), rng.randint(2, 90), rng.randint(10, 900)
    filler = " ".join(rng.choice(WORDS) for _ in range(words))
    return (
        f"{name} exports from {country} rose {pct} per cent in the second quarter, officials said. "
        f"{company} said it shipped {tonnes},000 tonnes of {noun} worth US${amount} million to buyers in "
        f"{rng.choice(['Germany', 'Japan', 'Egypt'])}.\n\n{filler}."
    )


def news_item(i: int, prefix: str = "n", **fields: Any) -> dict[str, Any]:
    """Return one JSONL news item, distinct for each ``(prefix, i)``; ``fields`` override or add keys."""
    item: dict[str, Any] = {
        "id": f"{prefix}{i}",
        "url": f"https://desk.example/{prefix}/{i}",
        "title": f"Trade desk {prefix} {i}",
        "text": news_text(f"{prefix}-{i}"),
        "published_at": "2025-03-14T08:00:00Z",
        "source": "desk.example",
        "language": "en",
    }
    item.update(fields)
    return item


def write_jsonl(path: Path, items: Iterable[Mapping[str, Any] | str]) -> Path:
    """Write ``items`` one per line (a string is written as it is, for hand-made lines); return ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [item if isinstance(item, str) else json.dumps(item) for item in items]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def news_page(seed: str, title: str | None = None, head: str = "", extra_body: str = "") -> bytes:
    """Return a distinct HTML news page (UTF-8) whose main text comes from :func:`news_text`."""
    title = title or f"Market report {seed}"
    paragraphs = "".join(f"<p>{p}</p>" for p in news_text(seed).split("\n\n"))
    return (
        f'<html><head><meta charset="utf-8"><title>{title}</title>{head}</head>'
        f"<body><article><h1>{title}</h1>{paragraphs}{extra_body}</article></body></html>"
    ).encode()


# -- runs -------------------------------------------------------------------------------------------------


def ingest(sources: Sequence[str | Path], data_dir: Path, return_state: bool = False, **kwargs: Any) -> Any:
    """Run the ingest flow in this process (under the session's Prefect harness); return its summary.

    The flow keeps its production retry, without the 30 s wait, so a failing case fails fast.
    With ``return_state`` the final Prefect state is returned instead of raising on failure.
    """
    from flows.ingest import ingest_news

    flow = ingest_news.with_options(retry_delay_seconds=0)
    return flow(sources=[str(s) for s in sources], data_dir=str(data_dir), return_state=return_state, **kwargs)


def run_cli(
    args: Sequence[str], env: Mapping[str, str], timeout: float = 600, **popen: Any
) -> subprocess.CompletedProcess[str]:
    """Run ``mediawatch ARGS`` in a child process group and return the completed process.

    ``timeout`` makes a hang fail the test (``subprocess.TimeoutExpired``, after the whole group is stopped)
    instead of blocking the suite; ``popen`` goes to :class:`subprocess.Popen` (``preexec_fn``...).
    """
    process = subprocess.Popen(
        [str(BIN / "mediawatch"), *args],
        env=dict(env),
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        **popen,
    )
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        stop_process(process)
        process.communicate()
        raise
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def run_counts(data_dir: Path, run_id: str | None = None) -> dict[str, Any]:
    """Return the ``counts`` JSON of run ``run_id`` (default: the latest run) from the ``runs`` dataset."""
    runs = pd.read_parquet(data_dir / "runs")
    row = runs[runs["run_id"] == run_id].iloc[0] if run_id else runs.sort_values("started_at").iloc[-1]
    counts: dict[str, Any] = json.loads(row["counts"] or "{}")
    return counts


def read_dataset(data_dir: Path, dataset: str) -> pd.DataFrame:
    """Return every row of ``dataset`` as a plain directory reader (pandas) sees it (no rows, the declared
    columns, when nothing was written)."""
    path = data_dir / dataset
    if not path.exists() or not any(path.rglob("*.parquet")):
        return pd.DataFrame(columns=SCHEMAS[dataset].names)
    return pd.read_parquet(path)


def files_containing(root: Path, marker: bytes) -> list[Path]:
    """Return every file under ``root`` whose bytes contain ``marker`` (databases and Parquet included)."""
    return [p for p in sorted(root.rglob("*")) if p.is_file() and not p.is_symlink() and marker in p.read_bytes()]


# -- the invariant ----------------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """Return ``value`` as a hashable, comparable plain value (lists as tuples, times as ISO text)."""
    if isinstance(value, np.ndarray | list | tuple):
        return tuple(_plain(v) for v in value)
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _without_date_header(headers: Any) -> Any:
    # The Date response header is the second the server answered: it differs between any two fetches.
    if not isinstance(headers, str):
        return headers
    pairs = [(k, v) for k, v in json.loads(headers) if str(k).lower() != "date"]
    return json.dumps(pairs)


def lake_rows(data_dir: Path, datasets: Sequence[str] = CONTENT_DATASETS) -> dict[str, Counter[tuple[Any, ...]]]:
    """Return each dataset's rows as a multiset of ``(column, value)`` tuples over its content columns."""
    out: dict[str, Counter[tuple[Any, ...]]] = {}
    for dataset in datasets:
        frame = read_dataset(data_dir, dataset)
        if len(frame) and dataset == "duplicates":
            frame = frame[frame["method"] != RERUN_METHOD]
        if len(frame) and dataset == "raw":
            frame = frame.assign(http_headers=frame["http_headers"].map(_without_date_header))
        columns = sorted(c for c in frame.columns if c not in IGNORED_COLUMNS)
        out[dataset] = Counter(
            tuple((c, _plain(v)) for c, v in zip(columns, row, strict=True))
            for row in frame[columns].itertuples(index=False, name=None)
        )
    return out


def _describe(rows: Counter[tuple[Any, ...]], limit: int = 3) -> str:
    shown = []
    for row, n in list(rows.items())[:limit]:
        brief = {c: (v if not isinstance(v, str | bytes) or len(v) < 60 else v[:57]) for c, v in row}
        key = {c: brief[c] for c in ("article_id", "item_key", "reason", "method", "text") if c in brief}
        shown.append(f"{n} x {key or brief}")
    return "; ".join(shown) + (" ..." if len(rows) > limit else "")


def assert_same_rows(
    got: Mapping[str, Counter[tuple[Any, ...]]], expected: Mapping[str, Counter[tuple[Any, ...]]]
) -> None:
    """Assert two :func:`lake_rows` results are equal, naming the rows that are missing or extra."""
    problems = []
    for dataset in expected:
        missing = expected[dataset] - got.get(dataset, Counter())
        extra = got.get(dataset, Counter()) - expected[dataset]
        if missing:
            problems.append(f"{dataset}: {sum(missing.values())} rows missing ({_describe(missing)})")
        if extra:
            problems.append(f"{dataset}: {sum(extra.values())} rows extra ({_describe(extra)})")
    assert not problems, "lake differs from a clean run: " + " | ".join(problems)


def assert_readers_agree(data_dir: Path, datasets: Sequence[str] = CONTENT_DATASETS) -> None:
    """Assert ``mediawatch query`` (DuckDB over the committed files) counts what pandas reads from each folder."""
    from storage.query import connect

    con = connect(str(data_dir))
    for dataset in datasets:
        n = con.sql(f"select count(*) from {dataset}").fetchall()[0][0]
        assert n == len(read_dataset(data_dir, dataset)), f"{dataset}: query counts {n}, the folder holds more/less"


def assert_matches_clean_run(
    data_dir: Path,
    inputs: Sequence[str | Path],
    tmp_path: Path,
    batch_size: int | None = None,
    datasets: Sequence[str] = CONTENT_DATASETS,
) -> Path:
    """Run ``inputs`` into a fresh data directory and assert ``data_dir`` holds the same rows; return it.

    Every Parquet file of both lakes must read, and both readers (pandas, ``mediawatch query``) must agree.
    Call with the session's Prefect harness running and the same ``MEDIAWATCH_*`` environment as the runs
    that filled ``data_dir``.
    """
    clean = tmp_path / f"clean-{len(list(tmp_path.glob('clean-*')))}"
    summary = ingest(inputs, clean, batch_size=batch_size)
    assert summary["state"] == "completed", summary
    every_file_reads(data_dir)
    every_file_reads(clean)
    expected = lake_rows(clean, datasets)
    assert "articles" not in expected or expected["articles"], "the clean run wrote no articles"
    assert_same_rows(lake_rows(data_dir, datasets), expected)
    assert_readers_agree(data_dir, datasets)
    return clean


# -- helpers of the fault tests ---------------------------------------------------------------------------

ENOSPC = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def serve_pages(server: FaultServer, pages: dict[str, bytes]) -> list[str]:
    """Route each path to its page; return the pages' URLs in order."""
    for path, body in pages.items():
        server.route(path, page(body))
    return [server.url(p) for p in pages]


def write_url_list(path: Path, urls: list[str]) -> Path:
    """Write a URL list (one line each, the way `mediawatch run pages.urls` reads it); return ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(urls) + "\n")
    return path


@contextlib.contextmanager
def commits_failing(monkeypatch: pytest.MonkeyPatch, calls: range) -> Iterator[list[str]]:
    """Make ``Lake.commit_batch`` raise ENOSPC on the calls numbered in ``calls`` (1-based) inside the block;
    yield the batches it was asked to commit. The real method is back after the block."""
    real = Lake.commit_batch
    seen: list[str] = []

    def commit_batch(self: Lake, *args: Any, **kwargs: Any) -> Any:
        seen.append(str(args[1] if len(args) > 1 else kwargs.get("batch")))
        if len(seen) in calls:
            raise ENOSPC
        return real(self, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(Lake, "commit_batch", commit_batch)
        yield seen


def quarantine_of(data_dir: Path, source: Path | str) -> pd.DataFrame:
    """Return the quarantine rows of items that came from ``source`` (a file, or a URL)."""
    frame = read_dataset(data_dir, "quarantine")
    if not len(frame):
        return frame
    source = str(source)
    keys = frame["item_key"].fillna("")
    return frame[(frame["source_uri"] == source) | (frame["url"] == source) | keys.str.contains(source, regex=False)]


def item_keys(data_dir: Path, *datasets: str) -> list[str]:
    """Return the item keys of the rows of ``datasets`` (with repeats)."""
    keys: list[str] = []
    for dataset in datasets:
        frame = read_dataset(data_dir, dataset)
        if len(frame):
            keys.extend(frame["item_key"])
    return keys


def query_json(data_dir: Path, sql: str, capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    """Return the rows of ``mediawatch query SQL --format json`` (run in this process)."""
    from flows.cli import main

    capsys.readouterr()
    assert main(["query", sql, "--data-dir", str(data_dir), "--format", "json"]) == 0
    rows: list[dict[str, Any]] = json.loads(capsys.readouterr().out)
    return rows


def repairs(counts: dict[str, Any]) -> dict[str, int]:
    """Return the repairs a run's counts report (``{"lone_surrogate": 1}``), none when it reports none."""
    value = counts.get("repairs") or {}
    assert isinstance(value, dict), counts
    return value
