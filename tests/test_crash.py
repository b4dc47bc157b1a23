"""The lake's invariants under crashes, concurrent runs and hostile input.

1. Readers never see a partial or corrupt file (every file in the lake reads, whenever the run was killed).
2. A crash at any point followed by a rerun leaves every article exactly once, with its entities, figures and
   duplicates exactly once, and every item accounted for: compared with a clean run's output.
3. Two runs at once on one data directory: one writes, the other fails with a clear message (or waits).
5. Names derived from input never leave the data directory or make odd paths.

Runs are real ``mediawatch run`` processes against a real Prefect server, killed with SIGKILL (whole process
group) at random moments. The default tier kills a few times; the slow tier at least 20 times.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from storage.query import connect
from tests.conftest import BIN, REPO

pytestmark = pytest.mark.integration

TOPICS = [
    ("Copper", "copper", "Chile", "Codelco"),
    ("Wheat", "wheat", "Ukraine", "Cargill"),
    ("Steel", "steel", "India", "Tata Steel"),
    ("Coffee", "coffee", "Brazil", "Nestle"),
    ("Lithium", "lithium", "Australia", "Albemarle"),
    ("Rice", "rice", "Vietnam", "Olam"),
]


WORDS = [
    "market",
    "trade",
    "policy",
    "shipment",
    "factory",
    "contract",
    "harbour",
    "budget",
    "tariff",
    "supplier",
    "inventory",
    "forecast",
    "demand",
    "currency",
    "investor",
    "regulator",
    "pipeline",
    "warehouse",
    "subsidy",
    "auction",
    "quota",
    "freight",
    "refinery",
    "mine",
    "plantation",
    "harvest",
    "drought",
    "strike",
    "merger",
    "lawsuit",
    "election",
    "ministry",
    "parliament",
    "summit",
    "treaty",
    "sanction",
    "loan",
    "bond",
    "deficit",
    "surplus",
    "payroll",
    "retail",
    "wholesale",
    "logistics",
    "battery",
    "semiconductor",
    "steel",
    "copper",
    "wheat",
    "coffee",
    "rice",
]


def write_corpus(folder: Path, n: int) -> Path:
    """Write ``n`` distinct short articles as JSONL, plus one exact copy under another URL and one broken line.

    Bodies are drawn word by word so no two articles are near-duplicates: these tests are about the lake's
    invariants, and ambiguous near-duplicate matches are the dedup stage's business (tests/test_dedup.py).
    """
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(11)
    lines = []
    for i in range(n):
        name, noun, country, company = TOPICS[i % len(TOPICS)]
        pct, amount, tonnes = rng.randint(2, 40), rng.randint(2, 90), rng.randint(10, 900)
        filler = " ".join(rng.choice(WORDS) for _ in range(60))
        text = (
            f"{name} exports from {country} rose {pct} per cent in the {['first', 'second', 'third'][i % 3]} quarter "
            f"of {2020 + i % 5}, officials said. {company} said it shipped {tonnes},000 tonnes of {noun} worth "
            f"US${amount} million to buyers in {['Germany', 'Japan', 'Egypt'][i % 3]}.\n\n{filler}."
        )
        lines.append(
            json.dumps(
                {
                    "id": f"c{i}",
                    "url": f"https://desk.example/{noun}/{i}",
                    "title": f"{name} {i}",
                    "text": text,
                    "published_at": f"2025-0{1 + i % 9}-1{i % 10}T08:00:00Z",
                    "source": "desk.example",
                    "language": "en",
                }
            )
        )
    copy = json.loads(lines[5])
    copy.update(id="copy-of-c5", url="https://wire.example/c5", source="wire.example")
    lines.append(json.dumps(copy))
    lines.insert(3, '{"id": "broken", "text": ')
    path = folder / "items.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return folder


def run_cli(corpus: Path, data_dir: Path, env: dict[str, str], *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            str(BIN / "mediawatch"),
            "run",
            str(corpus),
            "--data-dir",
            str(data_dir),
            "--no-progress",
            "--batch-size",
            "4",
            *extra,
        ],
        env={**env, "MEDIAWATCH_WITH_FIGURES": "true"},
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def snapshot(data_dir: Path) -> dict[str, Counter[tuple[object, ...]]]:
    """Return the lake's rows that must match a clean run's, as multisets (run ids and times left out)."""

    def rows(dataset: str, cols: list[str]) -> Counter[tuple[object, ...]]:
        path = data_dir / dataset
        if not path.exists():
            return Counter()
        frame = pd.read_parquet(path, columns=cols)
        return Counter(tuple(r) for r in frame.astype(str).itertuples(index=False))

    dups = pd.read_parquet(data_dir / "duplicates") if (data_dir / "duplicates").exists() else pd.DataFrame()
    first_dups = Counter()
    if len(dups):
        real = dups[dups["method"] != "already_ingested"]
        first_dups = Counter((r.article_id, r.duplicate_of, r.method) for r in real.itertuples())
    con = connect(str(data_dir))
    stories = Counter(con.sql("select article_id, story_id from articles").fetchall())
    stories.update(con.sql("select article_id, story_id from duplicates where method <> 'already_ingested'").fetchall())
    return {
        "stories": stories,
        "articles": rows("articles", ["article_id", "title", "text", "external_id"]),
        "entities": rows("entities", ["article_id", "start_char", "end_char", "label", "canonical"]),
        "figures": rows("figures", ["article_id", "start_char", "end_char", "kind", "value", "unit"]),
        "duplicates": first_dups,
    }


def every_file_reads(data_dir: Path) -> int:
    """Read every Parquet file in the lake; return how many (invariant 1)."""
    files = [p for p in data_dir.rglob("*.parquet") if "_staging" not in p.parts]
    for path in files:
        pq.read_table(path)
    return len(files)


def accounted(data_dir: Path, corpus: Path) -> set[str]:
    """Return the item keys of the corpus that left no trace in articles, duplicates or quarantine."""
    n_lines = sum(1 for line in (corpus / "items.jsonl").read_text().splitlines() if line.strip())
    keys = {f"{corpus / 'items.jsonl'}#L{i}" for i in range(1, n_lines + 1)}
    seen: set[str] = set()
    for dataset in ("articles", "duplicates", "quarantine"):
        if (data_dir / dataset).exists():
            seen |= set(pd.read_parquet(data_dir / dataset, columns=["item_key"])["item_key"])
    return keys - seen


@pytest.fixture(scope="module")
def clean_lake(prefect_server: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, float]:
    corpus = write_corpus(tmp_path_factory.mktemp("corpus"), 40)
    data_dir = tmp_path_factory.mktemp("clean") / "data"
    start = time.monotonic()
    proc = run_cli(corpus, data_dir, prefect_server)
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, out + err
    return corpus, data_dir, time.monotonic() - start


def kill_and_rerun(
    min_kills: int,
    kills_per_round: int,
    seed: int,
    clean_lake: tuple[Path, Path, float],
    env: dict[str, str],
    root: Path,
    max_rounds: int,
) -> tuple[int, int]:
    """Per round, on a fresh data directory: start a run and SIGKILL it, ``kills_per_round`` times in a row
    (each restart meets the previous crash's leftovers), then run to completion and compare with the clean
    run. Rounds go on until ``min_kills`` kills have landed on a live run (a run may finish before its kill
    moment on a fast machine), at most ``max_rounds``. Returns (runs killed, runs marked crashed)."""
    corpus, clean_dir, duration = clean_lake
    rng = random.Random(seed)
    survived = crashed = 0
    round_no = 0
    while survived < min_kills and round_no < max_rounds:
        round_no += 1
        data_dir = root / f"round-{round_no}"
        for kill_no in range(kills_per_round):
            proc = run_cli(corpus, data_dir, env)
            # The first kill of a round lands anywhere in a full run; the second, with less work left, earlier.
            # A run that meets leftovers can be shorter than the clean one, so the window stops short of its end.
            low, high = (0.2, 0.8) if kill_no == 0 else (0.1, 0.4)
            time.sleep(rng.uniform(low, high) * duration)
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                survived += 1
            proc.communicate(timeout=60)
            every_file_reads(data_dir)  # invariant 1 after every kill
        final = run_cli(corpus, data_dir, env)
        out, err = final.communicate(timeout=600)
        assert final.returncode == 0, out + err
        every_file_reads(data_dir)
        expected, got = snapshot(clean_dir), snapshot(data_dir)
        for dataset in expected:
            assert got[dataset] == expected[dataset], f"round {round_no}: {dataset} differs from the clean run"
        assert accounted(data_dir, corpus) == set()
        runs = pd.read_parquet(data_dir / "runs")
        # A run killed after writing its runs row is marked crashed by the next; one killed earlier left none.
        assert "running" not in set(runs["state"])
        crashed += int((runs["state"] == "crashed").sum())
    assert crashed <= survived
    return survived, crashed


def test_clean_run_accounts_for_every_item(clean_lake: tuple[Path, Path, float]) -> None:
    corpus, data_dir, _ = clean_lake
    assert accounted(data_dir, corpus) == set()
    runs = pd.read_parquet(data_dir / "runs")
    assert list(runs["items_in"]) == [42] and list(runs["quarantined"]) == [1] and list(runs["duplicates"]) == [1]


def test_a_few_kills_then_rerun_match_a_clean_run(
    clean_lake: tuple[Path, Path, float], prefect_server: dict[str, str], tmp_path: Path
) -> None:
    survived, _ = kill_and_rerun(2, 3, 1, clean_lake, prefect_server, tmp_path, max_rounds=3)
    assert survived >= 2


@pytest.mark.slow
def test_twenty_kills_then_rerun_match_a_clean_run(
    clean_lake: tuple[Path, Path, float], prefect_server: dict[str, str], tmp_path: Path
) -> None:
    survived, crashed = kill_and_rerun(20, 2, 2, clean_lake, prefect_server, tmp_path, max_rounds=30)
    assert survived >= 20
    assert crashed >= 3  # several kills landed mid-run, after batches had been committed


def test_a_run_refuses_a_lake_another_run_is_writing(
    clean_lake: tuple[Path, Path, float], prefect_server: dict[str, str], tmp_path: Path
) -> None:
    import threading

    from storage.lake import Lake

    corpus, clean_dir, _ = clean_lake
    data_dir = tmp_path / "data"
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:  # another writer, mid-run
        with Lake(str(data_dir)).write_lock():
            holding.set()
            release.wait(600)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert holding.wait(30)
        refused = run_cli(corpus, data_dir, prefect_server)
        out, err = refused.communicate(timeout=600)
        assert refused.returncode == 1, out + err
        assert "is being written by pid" in err
        assert not (data_dir / "articles").exists()  # it wrote nothing
        waiting = run_cli(corpus, data_dir, prefect_server, "--wait-lock", "600")
        time.sleep(3)
        assert waiting.poll() is None  # still waiting for the lock
    finally:
        release.set()
        holder.join(30)
    out, err = waiting.communicate(timeout=600)
    assert waiting.returncode == 0, out + err
    assert snapshot(data_dir) == snapshot(clean_dir)


def test_two_runs_started_together_write_everything_once(
    clean_lake: tuple[Path, Path, float], prefect_server: dict[str, str], tmp_path: Path
) -> None:
    corpus, clean_dir, _ = clean_lake
    data_dir = tmp_path / "data"
    runs = [run_cli(corpus, data_dir, prefect_server, "--wait-lock", "600") for _ in range(2)]
    results = [p.communicate(timeout=900) for p in runs]
    assert [p.returncode for p in runs] == [0, 0], results
    assert snapshot(data_dir) == snapshot(clean_dir)
    assert accounted(data_dir, corpus) == set()
    every_file_reads(data_dir)


def test_hostile_names_stay_inside_the_data_directory(prefect_server: dict[str, str], tmp_path: Path) -> None:
    corpus = tmp_path / "hostile"
    corpus.mkdir()
    items = [
        {
            "id": "../../../etc/passwd",
            "url": "https://evil.example/../../x?a=../../b",
            "source": "../../outside",
            "text": "Officials in Paris said exports rose 5 per cent to 3 billion euros in 2024 after talks. " * 5,
        },
        {
            "id": "a/b\\c",
            "url": "file:///etc/passwd",
            "source": "/abs/path",
            "published_at": "../../2025",
            "text": "Berlin said imports fell 2 per cent to 1 billion euros last year after new rules. " * 5,
        },
        {
            "id": "null\u0000byte",
            "source": "con\u202eevil",
            "published_at": "9999-99-99",
            "text": "Tokyo reported that sales grew 7 per cent to 4 trillion yen in the year to March. " * 5,
        },
    ]
    (corpus / "x.jsonl").write_text("\n".join(json.dumps(i) for i in items) + "\n")
    data_dir = tmp_path / "data"
    proc = run_cli(corpus, data_dir, prefect_server)
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, out + err
    allowed = re.compile(
        r"^(articles|entities|figures|duplicates|story_merges|quarantine|raw|source_health)/date=\d{4}-\d{2}-\d{2}/part-[A-Za-z0-9_-]+\.parquet$"
        r"|^runs/date=\d{4}-\d{2}-\d{2}/run-[A-Za-z0-9_-]+\.parquet$"
        r"|^_commits/[A-Za-z0-9_-]+\.json$|^_state/[A-Za-z0-9_-]+/.+$|^_lock$|^_lake\.json$"
    )
    for path in data_dir.rglob("*"):
        if path.is_file():
            rel = path.relative_to(data_dir).as_posix()
            assert allowed.match(rel), rel
    assert not (tmp_path / "outside").exists()
    assert sorted(os.listdir(tmp_path)) == ["data", "hostile"]
    runs = pd.read_parquet(data_dir / "runs").iloc[0]
    assert runs["items_in"] == 3 == runs["articles"] + runs["duplicates"] + runs["quarantined"]
