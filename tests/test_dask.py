"""Scale-out: the ingest flow on a local Dask cluster of two worker processes writes the same datasets."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import SAMPLES

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def _content(data_dir: Path) -> dict[str, list[tuple[object, ...]]]:
    def rows(dataset: str, cols: list[str]) -> list[tuple[object, ...]]:
        frame = pd.read_parquet(data_dir / dataset, columns=cols).astype(str)
        return sorted(tuple(r) for r in frame.itertuples(index=False))

    return {
        "articles": rows("articles", ["article_id", "title", "text", "published_at", "cluster_id"]),
        "entities": rows("entities", ["article_id", "start_char", "end_char", "label", "canonical"]),
        "figures": rows("figures", ["article_id", "start_char", "end_char", "kind", "value", "unit", "object"]),
        "duplicates": rows("duplicates", ["article_id", "duplicate_of", "method"]),
        "quarantine": rows("quarantine", ["item_key", "stage", "reason"]),
    }


def test_dask_runner_matches_the_default_runner(prefect_harness: None, tmp_path: Path) -> None:
    from flows.ingest import build_task_runner, ingest_news

    threads_dir, dask_dir = tmp_path / "threads", tmp_path / "dask"
    default = ingest_news(sources=[str(SAMPLES)], data_dir=str(threads_dir))
    on_dask = ingest_news.with_options(task_runner=build_task_runner("dask", dask_workers=2))(
        sources=[str(SAMPLES)], data_dir=str(dask_dir)
    )
    for key in ("items_in", "articles", "duplicates", "quarantined", "entities", "figures"):
        assert on_dask[key] == default[key], key
    assert _content(dask_dir) == _content(threads_dir)
