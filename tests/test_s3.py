"""The lake on an S3-compatible object store: a real S3 endpoint (moto's standalone server) on 127.0.0.1.

1. The write lease: of two writers exactly one holds the lake; a writer that lost its lease never commits, in a
   fixed interleaving of two writers; a lease is renewed while held, taken over once expired or once its holder
   is a dead process of this machine, and of two takers exactly one wins.
2. The flows on ``s3://bucket/prefix``: ingest writes what a local lake gets, a rerun writes nothing new, a query,
   compaction, replay and a quarantine retry work on it, a ``kill -9`` then a rerun leaves exactly a clean run's
   rows, and a second run is refused (or waits) while one writes.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

import storage.lake
from storage.lake import Lake, LakeError, LakeLeaseLostError, LakeLockedError, Settles
from storage.objectstore import _ObjectStore
from storage.schemas import DATASETS
from tasks.rows import quarantine_table
from tests.conftest import BIN, REPO, SAMPLES, free_port, stop_process, wait_http
from tests.test_lake import NOW, _rejections

pytestmark = pytest.mark.slow

# Cleaning and NLP in the run's own process: the same rows without starting worker pools (and loading the model
# in them) for every run; what these tests are about is the lake.
IN_PROCESS = {"MEDIAWATCH_CLEAN_WORKERS": "0", "MEDIAWATCH_N_PROCESS": "1"}
# Columns that differ between two runs of the same input by nature: who wrote a row and when.
RUN_COLUMNS = {"run_id", "fetched_at", "quarantined_at", "merged_at", "started_at", "ended_at"}


# ------------------------------------------------------------------------------------------------ the endpoint


def s3_environment(endpoint: str) -> dict[str, str]:
    """Return the standard AWS variables that point the SDKs at ``endpoint`` and at nothing else."""
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",  # never ask an instance metadata service for credentials
        "AWS_CONFIG_FILE": os.devnull,  # nor read this machine's profiles
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }


# Variables that would point the SDKs elsewhere if the machine running the tests had them set.
_FOREIGN_AWS = ("AWS_ENDPOINT_URL_S3", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_SESSION_TOKEN")


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start moto's standalone S3 server on 127.0.0.1 for the session; yield its URL."""
    port = free_port()
    log_path = tmp_path_factory.mktemp("moto") / "moto.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_http(f"http://127.0.0.1:{port}/moto-api/", 60)
            yield f"http://127.0.0.1:{port}"
        finally:
            stop_process(process)


@dataclass
class S3:
    """The S3 endpoint of a test: its environment (set in this process too) and fresh lakes on it."""

    endpoint: str
    env: dict[str, str]
    client: Any

    def new_lake(self) -> str:
        """Return the URI of a lake in a new, empty bucket."""
        bucket = f"lake-{uuid.uuid4().hex[:20]}"
        self.client.create_bucket(Bucket=bucket)
        return f"s3://{bucket}/news"

    def keys(self, uri: str) -> list[str]:
        """Return the keys of the objects under the lake ``uri`` (relative to it), directory markers left out."""
        bucket, _, prefix = uri.removeprefix("s3://").partition("/")
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{prefix}/")
        keys = [o["Key"] for page in pages for o in page.get("Contents", [])]
        return sorted(k.removeprefix(f"{prefix}/") for k in keys if not k.endswith("/"))

    def put(self, uri: str, name: str, body: bytes) -> None:
        bucket, _, prefix = uri.removeprefix("s3://").partition("/")
        self.client.put_object(Bucket=bucket, Key=f"{prefix}/{name}", Body=body)


def _s3(endpoint: str, patch: pytest.MonkeyPatch) -> S3:
    import boto3

    env = s3_environment(endpoint)
    for name in _FOREIGN_AWS:
        patch.delenv(name, raising=False)
    for name, value in env.items():
        patch.setenv(name, value)
    return S3(endpoint, env, boto3.client("s3", endpoint_url=endpoint))


@pytest.fixture
def s3(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> S3:
    """The session's S3 endpoint, with this process's AWS variables pointing at it for the test."""
    return _s3(s3_endpoint, monkeypatch)


def quarantine_rows(run: str, n: int) -> pa.Table:
    return quarantine_table(_rejections(n), run, 100, NOW)


# ------------------------------------------------------------------------------------------------ the lease


def test_a_lake_on_s3_commits_reads_and_compacts_under_its_lease(s3: S3) -> None:
    import pickle

    from tasks.maintenance import compact_lake

    uri = s3.new_lake()
    lake = Lake(uri)
    assert not lake.is_local
    with pytest.raises(LakeError, match="needs its write lock"):
        lake.commit_batch("r0", "b0", {"quarantine": quarantine_rows("r0", 1)})
    with lake.write_lock():
        assert "_lock" in s3.keys(uri)
        assert lake.sweep() == [f"{lake.root}/quarantine/date=2025-11-23/part-r0-b0.parquet"]  # the refused write
        lake.commit_batch("r1", "b0", {"quarantine": quarantine_rows("r1", 2)}, Settles(items={"a#L1": "v1"}))
        copy = pickle.loads(pickle.dumps(lake))  # what a Dask worker gets: it commits under the same lease
        copy.commit_batch("r2", "b0", {"quarantine": quarantine_rows("r2", 3)})
        assert lake.committed_stems() == {"r1-b0", "r2-b0"}
        assert lake.marker_settles("r1-b0").items == {"a#L1": "v1"}
        marker = lake.read_marker("r2-b0") or {}
        assert marker["lease"] == json.loads(s3.client.get_object(**_where(uri, "_lock"))["Body"].read())["token"]
        assert lake.read("quarantine").num_rows == 5
        assert compact_lake(lake)["quarantine"] == 2
        assert lake.read("quarantine").num_rows == 5
        assert len(lake.files("quarantine")) == 1
        assert lake.sweep() == []
    assert "_lock" not in s3.keys(uri)  # released
    assert not [k for k in s3.keys(uri) if k.startswith(("_intents/", "_staging/"))]
    assert Lake(uri).read("quarantine").num_rows == 5  # a reader needs no lock


def _where(uri: str, name: str) -> dict[str, str]:
    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    return {"Bucket": bucket, "Key": f"{prefix}/{name}"}


def test_a_second_writer_is_refused_naming_the_holder_or_waits_for_it(s3: S3) -> None:
    uri = s3.new_lake()
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with Lake(uri).write_lock():
            holding.set()
            release.wait(60)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert holding.wait(30)
        with pytest.raises(LakeLockedError, match=f"is being written by pid {os.getpid()} on "), Lake(uri).write_lock():
            pass
        threading.Timer(1.5, release.set).start()
        started = time.monotonic()
        second = Lake(uri)
        with second.write_lock(wait_seconds=30):
            waited = time.monotonic() - started
            second.commit_batch("r2", "b0", {"quarantine": quarantine_rows("r2", 1)})
    finally:
        release.set()
        holder.join(30)
    assert 1.0 < waited < 20
    assert Lake(uri).committed_stems() == {"r2-b0"}


def _first_call_per_thread_waits(barrier: threading.Barrier, wanted: Callable[[str, dict[str, Any]], bool]) -> Any:
    """Return a stand-in for ``_ObjectStore.put`` whose first ``wanted`` request per thread waits at ``barrier``:
    both writers' requests are then sent only once both are ready (a fixed interleaving)."""
    real = _ObjectStore.put
    waited: set[int] = set()

    def put(self: _ObjectStore, key: str, data: bytes, **conditions: Any) -> str | None:
        if wanted(key, conditions) and threading.get_ident() not in waited:
            waited.add(threading.get_ident())
            barrier.wait()
        return real(self, key, data, **conditions)

    return put


def _two_writers(uri: str) -> tuple[list[str], list[str]]:
    """Start two writers at once; each, once it holds the lake, commits a batch and keeps the lake until the
    other has finished trying. Returns (who committed, why the others were refused)."""
    committed: list[str] = []
    refused: list[str] = []
    tried = threading.Event()

    def writer(name: str) -> None:
        lake = Lake(uri)
        try:
            with lake.write_lock():
                lake.commit_batch(name, "b0", {"quarantine": quarantine_rows(name, 1)})
                committed.append(name)
                tried.wait(30)
        except LakeLockedError as exc:
            refused.append(str(exc))
            tried.set()

    threads = [threading.Thread(target=writer, args=(name,)) for name in ("run-a", "run-b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return committed, refused


def test_of_two_writers_starting_together_exactly_one_commits(s3: S3, monkeypatch: pytest.MonkeyPatch) -> None:
    uri = s3.new_lake()
    both_ready = threading.Barrier(2, timeout=30)
    creating = _first_call_per_thread_waits(both_ready, lambda key, c: key.endswith("/_lock") and "if_none_match" in c)
    monkeypatch.setattr(_ObjectStore, "put", creating)
    committed, refused = _two_writers(uri)
    assert len(committed) == 1 and len(refused) == 1, (committed, refused)
    assert "is being written by pid" in refused[0]
    assert Lake(uri).committed_stems() == {f"{committed[0]}-b0"}


def test_of_two_writers_taking_over_one_expired_lease_exactly_one_commits(
    s3: S3, monkeypatch: pytest.MonkeyPatch
) -> None:
    uri = s3.new_lake()
    expired = {"token": "t0", "holder": "pid 1 on elsewhere", "machine": "x", "pid": 1, "expires_at": time.time() - 90}
    s3.put(uri, "_lock", json.dumps(expired).encode())
    both_ready = threading.Barrier(2, timeout=30)
    taking = _first_call_per_thread_waits(both_ready, lambda key, c: key.endswith("/_lock") and "if_match" in c)
    monkeypatch.setattr(_ObjectStore, "put", taking)
    committed, refused = _two_writers(uri)
    assert len(committed) == 1 and len(refused) == 1, (committed, refused)
    assert Lake(uri).committed_stems() == {f"{committed[0]}-b0"}


def test_a_writer_that_lost_its_lease_never_commits(s3: S3) -> None:
    """A fixed interleaving: writer A commits one batch and publishes a second batch's files, then stops right
    before that batch's marker (a process paused: its lease renewals stop too); its lease expires, B takes the
    lake over, sweeps A's uncommitted files and commits; then A goes on to its marker, and is refused."""
    uri = s3.new_lake()
    a = Lake(uri, lease_seconds=2.0)
    real_check, real_renew = a.check_lease, a._renew_lease
    checks = 0
    at_marker, b_done = threading.Event(), threading.Event()

    def check_lease() -> None:
        nonlocal checks
        checks += 1
        if checks == 2:  # A's second batch: its files are published, its marker is next
            at_marker.set()
            b_done.wait(60)
        real_check()

    def renew_lease(lease: Any) -> None:
        if not at_marker.is_set():  # paused: no renewal lands any more
            real_renew(lease)

    a.check_lease = check_lease  # type: ignore[method-assign]
    a._renew_lease = renew_lease  # type: ignore[method-assign]
    errors: list[BaseException] = []
    tokens: list[str | None] = []

    def write_a() -> None:
        try:
            with a.write_lock():
                tokens.append(a._lease_token)
                a.commit_batch("run-a", "b0", {"quarantine": quarantine_rows("run-a", 1)})
                a.commit_batch("run-a", "b1", {"quarantine": quarantine_rows("run-a", 2)})
        except LakeLeaseLostError as exc:
            errors.append(exc)

    thread_a = threading.Thread(target=write_a)
    thread_a.start()
    assert at_marker.wait(30)
    assert "quarantine/date=2025-11-23/part-run-a-b1.parquet" in s3.keys(uri)  # A's files are there, uncommitted
    b = Lake(uri)
    with b.write_lock(wait_seconds=30):  # A's lease expires two seconds after it was taken: B takes it over
        removed = b.sweep()
        assert removed == [f"{b.root}/quarantine/date=2025-11-23/part-run-a-b1.parquet"]
        b.commit_batch("run-b", "b0", {"quarantine": quarantine_rows("run-b", 3)})
        b_done.set()
        thread_a.join(30)
        assert len(errors) == 1 and "passed to pid" in str(errors[0]), errors
        b.commit_batch("run-b", "b1", {"quarantine": quarantine_rows("run-b", 4)})  # A's exit left B's lease alone
    assert b.committed_stems() == {"run-a-b0", "run-b-b0", "run-b-b1"}
    assert Counter(b.read("quarantine")["run_id"].to_pylist()) == {"run-a": 1, "run-b": 7}
    assert not [k for k in s3.keys(uri) if "run-a-b1" in k]
    worker = Lake(uri)  # what a Dask worker of A's run holds: a copy of A's lake, with A's lease token
    worker._lease_token = tokens[0]
    with pytest.raises(LakeLeaseLostError, match="passed to nobody"):  # B is done: its lease is gone too
        worker.sweep()
    with pytest.raises(LakeLeaseLostError, match="passed to nobody"):
        worker.commit_batch("run-a", "b2", {"quarantine": quarantine_rows("run-a", 1)})


def test_a_lease_is_renewed_while_its_holder_works(s3: S3) -> None:
    uri = s3.new_lake()
    lake = Lake(uri, lease_seconds=2.0)
    with lake.write_lock():
        first = json.loads(s3.client.get_object(**_where(uri, "_lock"))["Body"].read())
        time.sleep(4.5)  # more than two leases
        with pytest.raises(LakeLockedError, match="is being written by"), Lake(uri).write_lock():
            pass
        lake.commit_batch("r1", "b0", {"quarantine": quarantine_rows("r1", 1)})
        last = json.loads(s3.client.get_object(**_where(uri, "_lock"))["Body"].read())
    assert last["token"] == first["token"] and last["expires_at"] > first["expires_at"] + 3
    assert lake.committed_stems() == {"r1-b0"}


def test_the_lease_of_a_dead_process_of_this_machine_is_taken_over_at_once(
    s3: S3, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    uri = s3.new_lake()
    script = (
        "import sys, time\n"
        "from storage.lake import Lake\n"
        "lock = Lake(sys.argv[1]).write_lock()\n"
        "lock.__enter__()\n"
        "print('holding', flush=True)\n"
        "time.sleep(600)\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", script, uri],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        with pytest.raises(LakeLockedError, match=f"pid {holder.pid} on "), Lake(uri).write_lock():
            pass  # alive: its lease stands
    finally:
        os.killpg(holder.pid, signal.SIGKILL)
        holder.wait(30)
    monkeypatch.setattr(storage.lake, "TAKEOVER_PAUSE_SECONDS", 0.1)
    lake = Lake(uri)
    with caplog.at_level("WARNING", logger="storage.lake"), lake.write_lock():  # no wait: taken over at once
        lake.commit_batch("r1", "b0", {"quarantine": quarantine_rows("r1", 1)})
    assert f"holder pid {holder.pid} is gone" in caplog.text
    assert lake.committed_stems() == {"r1-b0"}


def test_a_stem_is_committed_once(s3: S3) -> None:
    uri = s3.new_lake()
    lake = Lake(uri)
    with lake.write_lock():
        lake.commit_batch("r1", "b0", {"quarantine": quarantine_rows("r1", 1)})
        marker = {k: v for k, v in (lake.read_marker("r1-b0") or {}).items() if k != "lease"}
        lake._commit("r1-b0", marker)  # the same marker again (a request retried after its answer was lost)
        with pytest.raises(LakeError, match="committed by another writer"):
            lake._commit("r1-b0", {**marker, "rows": {"quarantine": 99}})
    assert Lake(uri).read("quarantine").num_rows == 1


def test_options_given_to_the_lake_win_over_the_environment(s3: S3, monkeypatch: pytest.MonkeyPatch) -> None:
    uri = s3.new_lake()
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("AWS_REGION", "eu-west-3")
    lake = Lake(uri, s3_endpoint=s3.endpoint, s3_region="us-east-1")
    with lake.write_lock():
        lake.commit_batch("r1", "b0", {"quarantine": quarantine_rows("r1", 2)})
    assert lake.read("quarantine").num_rows == 2
    with pytest.raises(OSError):
        Lake(uri).read("quarantine")  # the environment's endpoint: unreachable


# ------------------------------------------------------------------------------------------------ the flows


def lake_content(uri: str) -> dict[str, Counter[tuple[str, ...]]]:
    """Return every dataset of a lake (runs left out) as multisets of rows, run ids and times left out."""
    lake = Lake(uri)
    content: dict[str, Counter[tuple[str, ...]]] = {}
    for name in DATASETS:
        if name == "runs":
            continue
        table = lake.read(name)
        frame = table.select([c for c in table.column_names if c not in RUN_COLUMNS]).to_pandas().astype(str)
        content[name] = Counter(tuple(row) for row in frame.itertuples(index=False))
    return content


def snapshot(uri: str) -> dict[str, Counter[tuple[object, ...]]]:
    """Return the rows a crash and a rerun must leave as a clean run does (see tests/test_crash.py: copies
    recorded again as ``already_ingested`` by a rerun are left out)."""
    lake = Lake(uri)

    def rows(dataset: str, cols: list[str]) -> Counter[tuple[object, ...]]:
        frame = lake.read(dataset, cols).to_pandas().astype(str)
        return Counter(tuple(r) for r in frame.itertuples(index=False))

    dups = lake.read("duplicates", ["article_id", "duplicate_of", "method"]).to_pylist()
    return {
        "articles": rows("articles", ["article_id", "title", "text", "external_id"]),
        "entities": rows("entities", ["article_id", "start_char", "end_char", "label", "canonical"]),
        "figures": rows("figures", ["article_id", "start_char", "end_char", "kind", "value", "unit"]),
        "duplicates": Counter(
            (d["article_id"], d["duplicate_of"], d["method"]) for d in dups if d["method"] != "already_ingested"
        ),
    }


def drop_caches(uri: str) -> None:
    """Remove the local cache directory of a remote lake (its dedup index, in the system's temp directory)."""
    import shutil

    shutil.rmtree(Path(Lake(uri).state_dir("dedup")).parent, ignore_errors=True)


@contextlib.contextmanager
def state_dir(path: Path) -> Iterator[None]:
    """Give in-process runs ``path`` as their state directory (a remote lake's fetch state and item ledger)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MEDIAWATCH_STATE_DIR", str(path))
        yield


@pytest.fixture(scope="module")
def s3_module(s3_endpoint: str) -> Iterator[S3]:
    """The session's S3 endpoint, with this process's AWS variables pointing at it for the module, and runs that
    clean and extract in their own process (see :data:`IN_PROCESS`)."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in IN_PROCESS.items():
            patch.setenv(name, value)
        yield _s3(s3_endpoint, patch)


@dataclass
class Samples:
    """The samples ingested in this process into a lake on S3 and into a local one."""

    uri: str
    state: Path
    local: Path
    summary: dict[str, Any]


@pytest.fixture(scope="module")
def samples(prefect_harness: None, s3_module: S3, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Samples]:
    from flows.ingest import ingest_news

    uri, root = s3_module.new_lake(), tmp_path_factory.mktemp("samples")
    with state_dir(root / "state"):
        summary = ingest_news(sources=[str(SAMPLES)], data_dir=uri)
    ingest_news(sources=[str(SAMPLES)], data_dir=str(root / "local"))
    yield Samples(uri, root / "state", root / "local", summary)
    drop_caches(uri)


@pytest.mark.integration
def test_ingest_on_s3_writes_what_a_local_lake_gets(samples: Samples, s3_module: S3) -> None:
    summary = samples.summary
    assert summary["state"] == "completed"
    assert (summary["items_in"], summary["articles"], summary["duplicates"], summary["quarantined"]) == (8, 4, 2, 2)
    assert lake_content(samples.uri) == lake_content(str(samples.local))
    keys = s3_module.keys(samples.uri)
    assert "_lake.json" in keys and "_lock" not in keys  # the lease was released
    assert not [k for k in keys if k.startswith(("_intents/", "_staging/", "_state/"))]
    assert {k.split("/", 1)[0] for k in keys} <= {*DATASETS, "_commits", "_lake.json"}
    assert json.loads((samples.state / "lake.json").read_text())["uri"] == samples.uri  # the state is bound to it
    bucket = samples.uri.removeprefix("s3://").split("/", 1)[0]
    assert not (REPO / bucket).exists()  # no cache went to a path relative to the working directory


@pytest.mark.integration
def test_query_reads_a_lake_on_s3(samples: Samples) -> None:
    from storage.query import connect, unresolved_quarantine

    remote, here = connect(samples.uri), connect(str(samples.local))
    for sql in (
        "select count(*), count(distinct article_id) from articles",
        "select count(*) from entities where date >= date '2000-01-01'",
        "select count(*), sum(articles) from stories",
        "select label, count(*) from entity_labels group by label order by label",
    ):
        assert remote.sql(sql).fetchall() == here.sql(sql).fetchall(), sql
    assert remote.sql("select count(*) from articles").fetchall() == [(4,)]
    assert sorted(r["reason"] for r in unresolved_quarantine(samples.uri)) == ["invalid_json", "missing_content"]


@pytest.mark.integration
def test_a_rerun_on_s3_writes_nothing_new(samples: Samples) -> None:
    from flows.ingest import ingest_news

    before = lake_content(samples.uri)
    with state_dir(samples.state):
        second = ingest_news(sources=[str(SAMPLES)], data_dir=samples.uri)
        third = ingest_news(sources=[str(SAMPLES)], data_dir=samples.uri, reprocess=True)
    assert (second["items_in"], second["articles"], second["duplicates"], second["quarantined"]) == (0, 0, 0, 0)
    assert (third["items_in"], third["articles"], third["duplicates"], third["quarantined"]) == (8, 0, 6, 2)
    after = lake_content(samples.uri)
    for dataset in ("articles", "entities", "figures", "raw"):
        assert after[dataset] == before[dataset], dataset
    assert Lake(samples.uri).read("runs").num_rows == 3


@pytest.mark.integration
def test_compaction_and_replay_on_s3_keep_every_row(samples: Samples) -> None:
    from flows.maintenance import compact_lake
    from flows.replay import replay_raw

    lake = Lake(samples.uri)
    before = lake_content(samples.uri)
    ids = sorted(lake.read("articles", ["article_id"])["article_id"].to_pylist())
    replaced = compact_lake(data_dir=samples.uri)
    assert replaced["duplicates"] >= 2  # the rerun's copies beside the first run's
    for dataset in ("articles", "entities", "duplicates"):
        assert all(len(files) == 1 for files in lake.partitions(dataset).values()), dataset
    assert lake_content(samples.uri) == before
    with state_dir(samples.state):
        summary = replay_raw(data_dir=samples.uri)
    assert (summary["items_in"], summary["articles"], summary["quarantined"]) == (4, 4, 0)
    assert sorted(lake.read("articles", ["article_id"])["article_id"].to_pylist()) == ids
    assert set(lake.read("entities", ["run_id"])["run_id"].to_pylist()) == {summary["run_id"]}
    assert lake_content(samples.uri) == before  # the same code extracts the same rows
    assert not [k for k in lake.committed_stems() if not Lake(samples.uri).read_marker(k)]


@pytest.mark.integration
def test_quarantined_items_on_s3_can_be_retried_after_a_fix(
    prefect_harness: None, s3_module: S3, tmp_path: Path
) -> None:
    from flows.ingest import ingest_news, retry_quarantine
    from storage.query import unresolved_quarantine

    corpus = tmp_path / "in"
    corpus.mkdir()
    good = {"id": "a1", "title": "Grain deal", "text": "Egypt bought 240,000 tonnes of wheat from Russia. " * 8}
    (corpus / "items.jsonl").write_text(json.dumps(good) + '\n{"id": "a2", "text": "cut off\n')
    uri = s3_module.new_lake()
    try:
        with state_dir(tmp_path / "state"):
            first = ingest_news(sources=[str(corpus)], data_dir=uri)
            assert (first["articles"], first["quarantined"]) == (1, 1)
            assert [r["reason"] for r in unresolved_quarantine(uri)] == ["invalid_json"]
            fixed = {"id": "a2", "title": "Fuel prices", "text": "Diesel prices in Kenya rose 4 per cent in May. " * 8}
            (corpus / "items.jsonl").write_text(json.dumps(good) + "\n" + json.dumps(fixed) + "\n")
            retried = retry_quarantine(reason="invalid_json", data_dir=uri)
        assert (retried["items_in"], retried["articles"], retried["quarantined"]) == (1, 1, 0)
        assert unresolved_quarantine(uri) == []
        assert sorted(Lake(uri).read("articles", ["external_id"])["external_id"].to_pylist()) == ["a1", "a2"]
    finally:
        drop_caches(uri)


# -- runs as processes: a kill -9, and a second run while one writes ---------------------------------------------


def run_cli(corpus: Path, uri: str, env: dict[str, str], *extra: str) -> subprocess.Popen[str]:
    """Start ``mediawatch run`` on ``corpus`` into ``uri`` in batches of 4 (many commits), as its own process group."""
    return subprocess.Popen(
        [str(BIN / "mediawatch"), "run", str(corpus), "--data-dir", uri, "--no-progress", "--batch-size", "4", *extra],
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


@pytest.fixture(scope="module")
def corpus(
    prefect_harness: None, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, Counter[tuple[object, ...]]]]:
    """A corpus of 24 distinct articles (plus a copy and a broken line) and a clean local run's rows of it."""
    from flows.ingest import ingest_news
    from tests.test_crash import write_corpus

    folder = write_corpus(tmp_path_factory.mktemp("corpus"), 24)
    clean = tmp_path_factory.mktemp("clean") / "data"
    ingest_news(sources=[str(folder)], data_dir=str(clean), batch_size=4)
    return folder, snapshot(str(clean))


def cli_s3_env(cli_env: dict[str, str], s3: S3, state: Path) -> dict[str, str]:
    """Return the environment of a ``mediawatch`` process on the S3 endpoint with its own state directory."""
    env = {k: v for k, v in cli_env.items() if k not in _FOREIGN_AWS}
    return {**env, **s3.env, **IN_PROCESS, "MEDIAWATCH_STATE_DIR": str(state)}


@pytest.mark.integration
def test_a_run_killed_on_s3_then_rerun_leaves_exactly_a_clean_runs_rows(
    corpus: tuple[Path, dict[str, Counter[tuple[object, ...]]]], cli_env: dict[str, str], s3_module: S3, tmp_path: Path
) -> None:
    from flows.ingest import ingest_news

    folder, clean = corpus
    uri = s3_module.new_lake()
    try:
        run = run_cli(folder, uri, cli_s3_env(cli_env, s3_module, tmp_path / "state"))
        deadline = time.monotonic() + 300
        while not any(k.startswith("_commits/") for k in s3_module.keys(uri)):  # a batch is in
            assert run.poll() is None, run.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(random.Random(5).uniform(0.0, 0.5))  # then anywhere in the next batches
        assert run.poll() is None, "the run ended before it could be killed"
        os.killpg(run.pid, signal.SIGKILL)
        run.communicate(timeout=60)
        assert "_lock" in s3_module.keys(uri)  # the dead run's lease is still there
        # No lock wait: the lease of a dead process of this machine is taken over at once (the pause after the
        # takeover, for write tasks of the dead run still on their way, is cut short: this run had none).
        with state_dir(tmp_path / "state"), pytest.MonkeyPatch.context() as patch:
            patch.setattr(storage.lake, "TAKEOVER_PAUSE_SECONDS", 0.2)
            summary = ingest_news(sources=[str(folder)], data_dir=uri, batch_size=4)
        assert summary["state"] == "completed"
        assert snapshot(uri) == clean
        runs = Lake(uri).read("runs", ["state"])["state"].to_pylist()
        assert sorted(runs) in (["completed"], ["completed", "crashed"])  # crashed if its runs row was written
        assert not [k for k in s3_module.keys(uri) if k.startswith("_intents/")]
    finally:
        drop_caches(uri)


@pytest.mark.integration
def test_a_second_run_on_an_s3_lake_is_refused_or_waits(
    corpus: tuple[Path, dict[str, Counter[tuple[object, ...]]]], s3_module: S3, tmp_path: Path
) -> None:
    from flows.ingest import ingest_news

    folder, clean = corpus
    uri = s3_module.new_lake()
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:  # another writer, mid-run
        with Lake(uri).write_lock():
            holding.set()
            release.wait(600)

    holder = threading.Thread(target=hold)
    holder.start()
    waited: list[dict[str, Any]] = []
    try:
        assert holding.wait(30)
        with state_dir(tmp_path / "state"):
            refused = ingest_news(sources=[str(folder)], data_dir=uri, batch_size=4, return_state=True)
        assert refused.is_cancelled()
        assert f"is being written by pid {os.getpid()} on " in str(refused.message)
        assert s3_module.keys(uri) == ["_lock"]  # it wrote nothing

        def wait_and_run() -> None:
            with state_dir(tmp_path / "state"), pytest.MonkeyPatch.context() as patch:
                patch.setenv("MEDIAWATCH_LOCK_WAIT_SECONDS", "600")
                waited.append(ingest_news(sources=[str(folder)], data_dir=uri, batch_size=4))

        waiting = threading.Thread(target=wait_and_run)
        waiting.start()
        time.sleep(3)
        assert waiting.is_alive() and s3_module.keys(uri) == ["_lock"]  # still waiting for the lease
    finally:
        release.set()
        holder.join(30)
    try:
        waiting.join(600)
        assert len(waited) == 1 and waited[0]["state"] == "completed"
        assert snapshot(uri) == clean
    finally:
        drop_caches(uri)
