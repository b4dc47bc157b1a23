"""The ingest flow end to end on the bundled samples: real Prefect, real spaCy model, real Parquet."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from tests.conftest import SAMPLES

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def demo_run(prefect_harness: None, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    from flows.ingest import ingest_news

    data_dir = tmp_path_factory.mktemp("lake") / "data"
    summary = ingest_news(sources=[str(SAMPLES)], data_dir=str(data_dir))
    return data_dir, summary


def test_counts_add_up(demo_run: tuple[Path, dict[str, Any]]) -> None:
    data_dir, summary = demo_run
    assert summary["state"] == "completed"
    assert (summary["items_in"], summary["articles"], summary["duplicates"], summary["quarantined"]) == (
        8,
        4,
        2,
        2,
    )
    runs = pd.read_parquet(data_dir / "runs")
    assert len(runs) == 1
    run = runs.iloc[0]
    assert run["items_in"] == run["articles"] + run["duplicates"] + run["quarantined"]
    assert run["state"] == "completed"
    counts = json.loads(run["counts"])
    assert counts["quarantine_reasons"] == {"load:invalid_json": 1, "load:missing_content": 1}
    assert counts["skipped"] == 1
    assert counts["skipped_examples"] == [str(SAMPLES / "README.md")]


def test_articles_readable_by_pandas_and_duckdb(demo_run: tuple[Path, dict[str, Any]]) -> None:
    data_dir, summary = demo_run
    frame = pd.read_parquet(data_dir / "articles")
    assert len(frame) == 4
    assert frame["article_id"].is_unique
    n, ids = duckdb.sql(
        f"select count(*), count(distinct article_id) from "
        f"read_parquet('{data_dir}/articles/**/*.parquet', hive_partitioning=true)"
    ).fetchall()[0]
    assert (n, ids) == (4, 4)
    port = frame[frame["title"] == "Rotterdam port volumes slip as Asia trade cools"].iloc[0]
    assert "Container throughput at the Port of Rotterdam fell 4.2 per cent" in port["text"]
    assert "We use cookies" not in port["text"]
    assert "Related stories" not in port["text"]
    assert port["source"] == "harbour-ledger.example"
    assert str(port["published_at"]) == "2025-11-20 08:30:00+00:00"
    assert port["canonical_url"] == "https://harbour-ledger.example/business/2025/11/20/rotterdam-port-volumes-slip"
    assert list(port["authors"]) == ["Marieke de Vries"]
    assert port["language"] == "en"
    jsonl = frame[frame["external_id"] == "ext-001"].iloc[0]
    assert jsonl["source"] == "continental-monitor.example"
    assert str(jsonl["published_at"]) == "2025-11-24 15:40:00+00:00"
    seed = frame[frame["source"] == "local"].iloc[0]
    assert seed["title"].startswith("China pitches closer ties to Germany")
    assert set(frame["run_id"]) == {summary["run_id"]}


def test_duplicates_and_quarantine_are_recorded(demo_run: tuple[Path, dict[str, Any]]) -> None:
    data_dir, _ = demo_run
    articles = pd.read_parquet(data_dir / "articles").set_index("article_id")
    dups = pd.read_parquet(data_dir / "duplicates")
    assert len(dups) == 2
    assert set(dups["duplicate_of"]) <= set(articles.index)
    copy = dups[dups["source_uri"].str.endswith("port-volumes-copy.html")].iloc[0]
    assert articles.loc[copy["duplicate_of"], "source"] == "harbour-ledger.example"
    wire = dups[dups["external_id"] == "ext-002"].iloc[0]
    assert articles.loc[wire["duplicate_of"], "source"] == "prairie-business.example"
    assert wire["method"] == "canonical_url"  # same URL as a page of this run: not a rerun
    assert copy["method"] in {"minhash", "content_hash"} and copy["similarity"] > 0.8
    quarantine = pd.read_parquet(data_dir / "quarantine")
    assert sorted(quarantine["reason"]) == ["invalid_json", "missing_content"]
    broken = quarantine[quarantine["reason"] == "invalid_json"].iloc[0]
    assert b"Copper hits record" in broken["payload"]


def test_seed_entities_and_figures(demo_run: tuple[Path, dict[str, Any]]) -> None:
    data_dir, _ = demo_run
    articles = pd.read_parquet(data_dir / "articles")
    seed_id = articles[articles["source"] == "local"]["article_id"].iloc[0]
    text = articles[articles["article_id"] == seed_id]["text"].iloc[0]
    entities = pd.read_parquet(data_dir / "entities")
    seed_entities = entities[entities["article_id"] == seed_id]
    labels = {(r.canonical, r.label) for r in seed_entities.itertuples()}
    for expected in [
        ("Li Qiang", "PERSON"),
        ("Friedrich Merz", "PERSON"),
        ("Germany", "GPE"),
        ("Beijing", "GPE"),
    ]:
        assert expected in labels
    for row in seed_entities.itertuples():
        assert text[row.start_char : row.end_char] == row.text
    figures = pd.read_parquet(data_dir / "figures")
    seed_figures = figures[figures["article_id"] == seed_id]
    by_text = {r.text: r for r in seed_figures.itertuples()}
    money = by_text["US$95 billion"]
    assert (money.kind, money.value, money.unit, money.object) == ("money", 9.5e10, "USD", "German goods")
    share = by_text["12 per cent"]
    assert (share.kind, share.value, share.unit, bool(share.approximate)) == (
        "percent",
        12.0,
        "percent",
        True,
    )
    assert by_text["US$6.6 billion"].value == 6.6e9
    assert (by_text["45 per cent"].kind, by_text["45 per cent"].value) == ("percent", 45.0)
    for row in seed_figures.itertuples():
        assert text[row.start_char : row.end_char] == row.text


def test_external_id_travels_to_derived_rows(demo_run: tuple[Path, dict[str, Any]]) -> None:
    data_dir, _ = demo_run
    entities = pd.read_parquet(data_dir / "entities")
    ext = entities[entities["external_id"] == "ext-001"]
    assert {"BYD", "SAIC"} & set(ext["canonical"])


def test_rerun_is_idempotent(demo_run: tuple[Path, dict[str, Any]]) -> None:
    from flows.ingest import ingest_news

    data_dir, _ = demo_run
    # Unchanged files are not read again: nothing enters, nothing is written.
    second = ingest_news(sources=[str(SAMPLES)], data_dir=str(data_dir))
    counts = (second["items_in"], second["articles"], second["duplicates"], second["quarantined"])
    assert counts == (0, 0, 0, 0)
    assert json.loads(second["counts"])["unchanged"] == 8
    # Forced to read them again, every item is recognised: originals as already ingested, copies as copies.
    third = ingest_news(sources=[str(SAMPLES)], data_dir=str(data_dir), reprocess=True)
    counts = (third["items_in"], third["articles"], third["duplicates"], third["quarantined"])
    assert counts == (8, 0, 6, 2)
    assert len(pd.read_parquet(data_dir / "articles")) == 4
    dups = pd.read_parquet(data_dir / "duplicates")
    again = dups[dups["run_id"] == third["run_id"]]
    assert set(again["method"]) >= {"already_ingested"}
    assert len(pd.read_parquet(data_dir / "runs")) == 3


def test_quarantined_items_can_be_retried_after_a_fix(prefect_harness: None, tmp_path: Path) -> None:
    from flows.ingest import ingest_news, retry_quarantine
    from storage.query import unresolved_quarantine

    corpus = tmp_path / "in"
    corpus.mkdir()
    good = {"id": "a1", "title": "Grain deal", "text": "Egypt bought 240,000 tonnes of wheat from Russia. " * 8}
    (corpus / "items.jsonl").write_text(json.dumps(good) + '\n{"id": "a2", "text": "cut off\n')
    data_dir = tmp_path / "data"
    first = ingest_news(sources=[str(corpus)], data_dir=str(data_dir))
    assert (first["articles"], first["quarantined"]) == (1, 1)
    assert [r["reason"] for r in unresolved_quarantine(str(data_dir))] == ["invalid_json"]
    # The user fixes the broken line, then retries that reason only.
    fixed = {"id": "a2", "title": "Fuel prices", "text": "Diesel prices in Kenya rose 4 per cent in May. " * 8}
    (corpus / "items.jsonl").write_text(json.dumps(good) + "\n" + json.dumps(fixed) + "\n")
    retried = retry_quarantine(reason="invalid_json", data_dir=str(data_dir))
    assert (retried["items_in"], retried["articles"], retried["quarantined"]) == (1, 1, 0)
    assert unresolved_quarantine(str(data_dir)) == []
    articles = pd.read_parquet(data_dir / "articles")
    assert sorted(articles["external_id"]) == ["a1", "a2"]


def test_replay_replaces_derived_rows_in_place(demo_run: tuple[Path, dict[str, Any]]) -> None:
    from flows.replay import replay_raw

    data_dir, _ = demo_run
    before = pd.read_parquet(data_dir / "articles")
    entities_before = len(pd.read_parquet(data_dir / "entities"))
    raw = pd.read_parquet(data_dir / "raw")
    assert set(raw["article_id"]) == set(before["article_id"])
    summary = replay_raw(data_dir=str(data_dir))
    assert (summary["items_in"], summary["articles"], summary["quarantined"]) == (4, 4, 0)
    after = pd.read_parquet(data_dir / "articles")
    assert sorted(after["article_id"]) == sorted(before["article_id"])  # same ids, each once
    assert set(after["run_id"]) == {summary["run_id"]}
    assert dict(zip(after["article_id"], after["cluster_id"], strict=True)) == dict(
        zip(before["article_id"], before["cluster_id"], strict=True)
    )
    entities = pd.read_parquet(data_dir / "entities")
    assert len(entities) == entities_before
    assert set(entities["run_id"]) == {summary["run_id"]}
