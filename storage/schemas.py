"""The datasets' schemas: the one place where a column is declared.

Every Parquet file mediawatch writes uses one of these explicit schemas (never an inferred one, so an all-null
batch still writes typed columns and readers agree across files). The schema version travels in each file's
metadata (``mediawatch.schema_version``) and in a ``schema_version`` column, so a reader can tell which
contract a row was written under. Versions only ever add nullable columns; old files stay readable.

Partitioning: every dataset is Hive-partitioned by ``date=YYYY-MM-DD``. For ``articles`` and the rows derived
from an article (``entities``, ``figures``) that is the article's publication day in UTC, falling back to
the fetch day when the page gives no date, so "what was published on day X" prunes to one folder. For
``duplicates``, ``quarantine``, ``runs`` and ``raw`` it is the day the run saw (fetched) the item; for
``story_merges`` the day of the merge; for ``source_health`` the day the run started.
"""

from __future__ import annotations

import pyarrow as pa

# 1: first release. 2: ``articles`` gains ``outlet``, ``outlet_name`` and ``captured_url``.
# 3: ``entities`` gains ``entity_key`` (the alias-resolved identity that ``entity_id`` hashes); ``duplicates``
# gains ``outlet``; the ``story_merges`` dataset. 4: the ``mentions`` and ``alerts`` datasets (watchlists).
SCHEMA_VERSION = 4
SCHEMA_VERSION_KEY = b"mediawatch.schema_version"
DATASET_KEY = b"mediawatch.dataset"
PARTITION_COLUMN = "date"

_TS = pa.timestamp("us", tz="UTC")
_STR_LIST = pa.list_(pa.string())

ARTICLES = pa.schema(
    [
        pa.field("article_id", pa.string(), nullable=False),
        pa.field("external_id", pa.string()),
        pa.field("url", pa.string()),
        pa.field("canonical_url", pa.string()),
        pa.field("source", pa.string(), nullable=False),
        pa.field("source_uri", pa.string(), nullable=False),
        pa.field("title", pa.string()),
        pa.field("text", pa.string(), nullable=False),
        pa.field("authors", _STR_LIST),
        pa.field("published_at", _TS),
        pa.field("published_tz_known", pa.bool_()),
        pa.field("modified_at", _TS),
        pa.field("language", pa.string()),
        pa.field("site_name", pa.string()),
        pa.field("top_image", pa.string()),
        pa.field("section", pa.string()),
        pa.field("keywords", _STR_LIST),
        pa.field("description", pa.string()),
        pa.field("word_count", pa.int32()),
        pa.field("is_teaser", pa.bool_()),
        pa.field("teaser_reason", pa.string()),
        pa.field("title_source", pa.string()),
        pa.field("published_at_source", pa.string()),
        pa.field("authors_source", pa.string()),
        pa.field("language_source", pa.string()),
        pa.field("canonical_url_source", pa.string()),
        pa.field("site_name_source", pa.string()),
        pa.field("extractor", pa.string()),
        pa.field("extractor_version", pa.string()),
        pa.field("fetched_at", _TS, nullable=False),
        pa.field("content_hash", pa.string(), nullable=False),
        pa.field("cluster_id", pa.string()),
        pa.field("item_key", pa.string()),
        pa.field("run_id", pa.string(), nullable=False),
        # Schema version 2: the publisher as data (tasks/outlets.py). Null in files written before.
        pa.field("outlet", pa.string()),
        pa.field("outlet_name", pa.string()),
        pa.field("captured_url", pa.string()),
        pa.field("schema_version", pa.int16(), nullable=False),
    ]
)

# Metadata fields whose provenance gets a ``<field>_source`` column in ``articles``.
PROVENANCE_FIELDS = ("title", "published_at", "authors", "language", "canonical_url", "site_name")

ENTITIES = pa.schema(
    [
        pa.field("article_id", pa.string(), nullable=False),
        pa.field("external_id", pa.string()),
        pa.field("entity_id", pa.string(), nullable=False),
        pa.field("text", pa.string(), nullable=False),
        pa.field("label", pa.string(), nullable=False),
        pa.field("canonical", pa.string(), nullable=False),
        pa.field("start_char", pa.int32(), nullable=False),
        pa.field("end_char", pa.int32(), nullable=False),
        pa.field("sentence_id", pa.int32()),
        pa.field("mention_count", pa.int32()),
        pa.field("run_id", pa.string(), nullable=False),
        # Schema version 3: "GPE:united states" for "US", "U.S." and "America" alike (tasks/entities.py); the
        # entity_id is its hash. Null in files written before.
        pa.field("entity_key", pa.string()),
        pa.field("schema_version", pa.int16(), nullable=False),
    ]
)

FIGURES = pa.schema(
    [
        pa.field("article_id", pa.string(), nullable=False),
        pa.field("external_id", pa.string()),
        pa.field("text", pa.string(), nullable=False),
        pa.field("kind", pa.string(), nullable=False),
        pa.field("value", pa.float64()),
        pa.field("date_value", pa.string()),
        pa.field("low", pa.float64()),
        pa.field("high", pa.float64()),
        pa.field("unit", pa.string()),
        pa.field("scale", pa.float64()),
        pa.field("currency_ambiguous", pa.bool_()),
        pa.field("approximate", pa.bool_(), nullable=False),
        pa.field("modifier", pa.string()),
        pa.field("bound", pa.string()),
        pa.field("role", pa.string()),
        pa.field("relative", pa.bool_()),
        pa.field("object", pa.string()),
        pa.field("object_entity", pa.string()),
        pa.field("start_char", pa.int32(), nullable=False),
        pa.field("end_char", pa.int32(), nullable=False),
        pa.field("sentence_id", pa.int32()),
        pa.field("sentence", pa.string()),
        pa.field("run_id", pa.string(), nullable=False),
        # Schema version 3 (tasks/figures/): where a money figure's currency came from (``symbol``,
        # ``outlet_country``, ``text``, ``text_places``, ``default``; ``currency_ambiguous`` only for ``default``),
        # and whether the figure was read from a table row or a list of short numeric lines rather than prose
        # (its ``object`` then holds the row's and column's labels). Null in files written before.
        pa.field("currency_source", pa.string()),
        pa.field("in_table", pa.bool_()),
        pa.field("schema_version", pa.int16(), nullable=False),
    ]
)

DUPLICATES = pa.schema(
    [
        pa.field("article_id", pa.string(), nullable=False),
        pa.field("duplicate_of", pa.string(), nullable=False),
        pa.field("cluster_id", pa.string(), nullable=False),
        pa.field("method", pa.string(), nullable=False),
        pa.field("similarity", pa.float64()),
        pa.field("external_id", pa.string()),
        pa.field("source_uri", pa.string(), nullable=False),
        pa.field("url", pa.string()),
        pa.field("source", pa.string()),
        pa.field("title", pa.string()),
        pa.field("published_at", _TS),
        pa.field("item_key", pa.string()),
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("outlet", pa.string()),
        pa.field("schema_version", pa.int16(), nullable=False),
    ]
)

# Stories that turned out to be one: the cluster ``cluster_id`` was folded into ``into_cluster_id`` (the earlier
# one) when an article matched both. Written in the batch commit that made the merge; a view resolves chains.
STORY_MERGES = pa.schema(
    [
        pa.field("cluster_id", pa.string(), nullable=False),
        pa.field("into_cluster_id", pa.string(), nullable=False),
        pa.field("merged_at", _TS, nullable=False),
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("schema_version", pa.int16(), nullable=False),
    ]
)

QUARANTINE = pa.schema(
    [
        pa.field("source_uri", pa.string(), nullable=False),
        pa.field("external_id", pa.string()),
        pa.field("url", pa.string()),
        pa.field("stage", pa.string(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("detail", pa.string()),
        pa.field("payload", pa.binary()),
        pa.field("payload_bytes", pa.int64()),
        pa.field("payload_truncated", pa.bool_()),
        pa.field("item_key", pa.string()),
        pa.field("quarantined_at", _TS, nullable=False),
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("schema_version", pa.int16(), nullable=False),
    ]
)

RUNS = pa.schema(
    [
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("flow", pa.string(), nullable=False),
        pa.field("started_at", _TS, nullable=False),
        pa.field("ended_at", _TS),
        pa.field("state", pa.string(), nullable=False),
        pa.field("parameters", pa.string()),
        pa.field("items_in", pa.int64(), nullable=False),
        pa.field("articles", pa.int64(), nullable=False),
        pa.field("duplicates", pa.int64(), nullable=False),
        pa.field("quarantined", pa.int64(), nullable=False),
        pa.field("entities", pa.int64(), nullable=False),
        pa.field("figures", pa.int64(), nullable=False),
        pa.field("counts", pa.string()),
        pa.field("error", pa.string()),
        pa.field("code_version", pa.string()),
        pa.field("model_name", pa.string()),
        pa.field("model_version", pa.string()),
        pa.field("schema_version", pa.int16(), nullable=False),
        # What the final state means, in one line ("degraded: 2 of 4 sources failed ...", "nothing new: 200 items
        # skipped as unchanged"), and the run's name in the Prefect UI. Null in files written before.
        pa.field("state_detail", pa.string()),
        pa.field("run_name", pa.string()),
    ]
)

# One row per source per ingest run: how the source behaved (requests, failures by reason, what its pages
# yielded) and whether it drifted from its own recent runs (tasks/health.py). A source is one entry of a sources
# file, one feed, sitemap or page URL, or one input path given on the command line. Written in the run's last
# commit (``<run>-health``), so a crash leaves none and a flow retry rewrites them.
SOURCE_HEALTH = pa.schema(
    [
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("kind", pa.string(), nullable=False),
        pa.field("name", pa.string()),
        pa.field("started_at", _TS, nullable=False),
        pa.field("status", pa.string(), nullable=False),
        pa.field("findings", _STR_LIST),
        pa.field("requests", pa.int64(), nullable=False),
        pa.field("fetched", pa.int64(), nullable=False),
        pa.field("not_modified", pa.int64(), nullable=False),
        pa.field("http_4xx", pa.int64(), nullable=False),
        pa.field("http_5xx", pa.int64(), nullable=False),
        pa.field("failed", pa.int64(), nullable=False),
        pa.field("failed_by_reason", pa.string()),
        pa.field("listed", pa.int64(), nullable=False),
        pa.field("items_in", pa.int64(), nullable=False),
        pa.field("pages_cleaned", pa.int64(), nullable=False),
        pa.field("articles", pa.int64(), nullable=False),
        pa.field("teasers", pa.int64(), nullable=False),
        pa.field("duplicates", pa.int64(), nullable=False),
        pa.field("quarantined", pa.int64(), nullable=False),
        pa.field("mean_words", pa.float64()),
        pa.field("date_share", pa.float64()),
        pa.field("author_share", pa.float64()),
        pa.field("language_mismatches", pa.int64(), nullable=False),
        pa.field("schema_version", pa.int16(), nullable=False),
    ]
)

# One row per watch per article it matched (flows/watch.py, tasks/watch/): written in the batch commit of the
# article, so a crash, a rerun or a replay leaves exactly the rows a clean run writes; ``mediawatch watch
# backfill`` replaces one watch's rows in one commit. The partition is the article's (its publication day). The
# story is resolved at read time (the ``mentions`` view's ``story_id``), so story merges rewrite nothing.
MENTIONS = pa.schema(
    [
        pa.field("watch", pa.string(), nullable=False),
        pa.field("watch_fingerprint", pa.string(), nullable=False),
        pa.field("article_id", pa.string(), nullable=False),
        pa.field("external_id", pa.string()),
        pa.field("source", pa.string()),
        pa.field("outlet", pa.string()),
        pa.field("language", pa.string()),
        pa.field("published_at", _TS),
        pa.field("matched_terms", _STR_LIST),
        pa.field("evidence", pa.string()),
        pa.field("evidence_kind", pa.string()),
        pa.field("figure_text", pa.string()),
        pa.field("figure_kind", pa.string()),
        pa.field("figure_value", pa.float64()),
        pa.field("figure_unit", pa.string()),
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("schema_version", pa.int16(), nullable=False),
    ]
)

# Spike and first alerts of the watches. Append-only: a later run on the same day writes a new row for the same
# ``alert_key`` (the observed count and score moved) and the ``alerts`` view keeps the latest; an alert is
# notified (a Prefect event) only when its key is new. Partitioned by the day the alert is about.
ALERTS = pa.schema(
    [
        pa.field("alert_key", pa.string(), nullable=False),
        pa.field("kind", pa.string(), nullable=False),
        pa.field("watch", pa.string(), nullable=False),
        pa.field("watch_fingerprint", pa.string(), nullable=False),
        pa.field("day", pa.date32(), nullable=False),
        pa.field("observed", pa.int64(), nullable=False),
        pa.field("expected", pa.float64()),
        pa.field("score", pa.float64()),
        pa.field("entity_id", pa.string()),
        pa.field("entity_name", pa.string()),
        pa.field("entity_label", pa.string()),
        pa.field("top_stories", _STR_LIST),
        pa.field("top_titles", _STR_LIST),
        pa.field("detail", pa.string()),
        pa.field("detected_at", _TS, nullable=False),
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("schema_version", pa.int16(), nullable=False),
    ]
)

# The page as it arrived, for replay: everything the clean stage needs to run again without the network.
RAW = pa.schema(
    [
        pa.field("article_id", pa.string(), nullable=False),
        pa.field("item_key", pa.string(), nullable=False),
        pa.field("source_uri", pa.string(), nullable=False),
        pa.field("kind", pa.string(), nullable=False),
        pa.field("fetched_at", _TS, nullable=False),
        pa.field("url", pa.string()),
        pa.field("external_id", pa.string()),
        pa.field("title", pa.string()),
        pa.field("published_at", pa.string()),
        pa.field("published_at_source", pa.string()),
        pa.field("authors", _STR_LIST),
        pa.field("source", pa.string()),
        pa.field("language", pa.string()),
        pa.field("http_headers", pa.string()),
        pa.field("hints", pa.string()),
        pa.field("payload", pa.binary(), nullable=False),
        pa.field("payload_bytes", pa.int64(), nullable=False),
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("schema_version", pa.int16(), nullable=False),
    ]
)

SCHEMAS: dict[str, pa.Schema] = {
    "articles": ARTICLES,
    "entities": ENTITIES,
    "figures": FIGURES,
    "duplicates": DUPLICATES,
    "story_merges": STORY_MERGES,
    "quarantine": QUARANTINE,
    "runs": RUNS,
    "raw": RAW,
    "source_health": SOURCE_HEALTH,
    "mentions": MENTIONS,
    "alerts": ALERTS,
}

DATASETS: tuple[str, ...] = tuple(SCHEMAS)


def columns(dataset: str) -> list[str]:
    """Return the column names of ``dataset`` in schema order (derived, never retyped)."""
    return list(SCHEMAS[dataset].names)


def schema_with_metadata(dataset: str) -> pa.Schema:
    """Return the schema of ``dataset`` carrying the dataset name and schema version in its metadata."""
    return SCHEMAS[dataset].with_metadata(
        {SCHEMA_VERSION_KEY: str(SCHEMA_VERSION).encode(), DATASET_KEY: dataset.encode()}
    )
