"""DuckDB over the lake: every dataset as a view named after it, and the stories.

Views read the lake's committed Parquet files with Hive partitioning and ``union_by_name`` (files written
under an older schema version simply lack the newer columns: their rows read null there, and a column that no
file has yet is added, null, from the declared schema). A dataset with no files yet is an empty view
with its declared columns, so queries never fail just because, say, nothing was quarantined. In every view the
partition column ``date`` is a DATE, whether it was read from folder names, from a remote lake's table or
declared for an empty view, so ``where date >= ?`` with a date works on any lake.

Besides the datasets, ``entity_labels`` is a view over ``entities``: one row per ``entity_id`` with its lake-wide
majority label (see :data:`ENTITY_LABELS_VIEW`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa

from storage.lake import Lake
from storage.schemas import DATASETS, PARTITION_COLUMN, SCHEMAS

if TYPE_CHECKING:  # imported by connect(): a run that reads nothing through DuckDB does not load it
    import duckdb


def _empty(name: str) -> pa.Table:
    """Return an empty table of dataset ``name`` with its declared columns and a DATE partition column."""
    return SCHEMAS[name].append(pa.field(PARTITION_COLUMN, pa.date32())).empty_table()


def connect(lake: Lake | str) -> duckdb.DuckDBPyConnection:
    """Return an in-memory DuckDB connection with one view per dataset of ``lake`` (a :class:`Lake`, or the path
    or URI of one), plus the story views (:data:`STORY_VIEWS`): ``story_id`` on ``articles``, ``duplicates``,
    ``entities`` and ``figures``, ``story_map`` and ``stories``.

    Pass a :class:`Lake` for a lake on an object store: a remote lake's files are read through the lake's own
    filesystem (its endpoint, region and keys) into Arrow tables, so DuckDB itself never reaches the store and
    needs no credentials of its own.
    """
    import duckdb

    lake = Lake(lake) if isinstance(lake, str) else lake
    con = duckdb.connect()
    for name in DATASETS:
        view = f"{name}_files" if name in _WITH_STORY else name
        files = lake.files(name)
        if files and lake.is_local:
            # An explicit file list, not a glob: readers see committed files only (see Lake.files).
            listed = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
            files_sql = (
                f"select * from read_parquet([{listed}], "  # noqa: S608 - names from the lake
                f"hive_partitioning = true, hive_types = {{'{PARTITION_COLUMN}': DATE}}, union_by_name = true)"
            )
            missing = set(SCHEMAS[name].names) - set(con.sql(files_sql).columns)
            if missing:
                # Every file predates a column (none has it): add it, typed and null, from the declared schema.
                con.register(f"{name}_declared", _empty(name))
                files_sql += f" union all by name select * from {name}_declared"  # noqa: S608 - fixed names
            con.sql(f"create view {view} as {files_sql}")
        elif files:
            table = lake.read(name)  # the partition column comes as a string here
            con.register(f"{name}_arrow", table)
            con.sql(
                f"create view {view} as select * replace (cast({PARTITION_COLUMN} as date) as {PARTITION_COLUMN}) "  # noqa: S608 - fixed names
                f"from {name}_arrow"
            )
        else:
            con.register(f"{name}_empty", _empty(name))
            con.sql(f"create view {view} as select * from {name}_empty")  # noqa: S608 - fixed names
    for sql in STORY_VIEWS:
        con.sql(sql)
    con.sql(f"create view entity_labels as {ENTITY_LABELS_VIEW}")
    for sql in WATCH_VIEWS:
        con.sql(sql)
    return con


# One row per entity: the label most of its articles give it, how many articles and mentions it has, its most
# written canonical form (``name``) and its ``entity_key``. The model may label one entity differently in
# different articles (GPE here, LOC there; ORG or PRODUCT); within an article an entity has one label, so the
# majority counts articles, then mentions, then takes the first label alphabetically, and the answer never depends
# on the order files were written in. It is computed when queried, never written into rows: a new article can
# change it.
ENTITY_LABELS_VIEW = """
with by_label as (
    select entity_id, label, count(distinct article_id) as articles, count(*) as mentions
    from entities group by entity_id, label
),
top_label as (
    select entity_id, label from (
        select entity_id, label,
               row_number() over (partition by entity_id order by articles desc, mentions desc, label) as rn
        from by_label
    ) where rn = 1
),
by_name as (
    select entity_id, canonical, count(*) as n from entities group by entity_id, canonical
),
top_name as (
    select entity_id, canonical as name from (
        select entity_id, canonical, row_number() over (partition by entity_id order by n desc, canonical) as rn
        from by_name
    ) where rn = 1
),
totals as (
    select entity_id, count(distinct article_id) as articles, count(*) as mentions,
           count(distinct label) as labels, max(entity_key) as entity_key
    from entities group by entity_id
)
select t.entity_id, l.label, t.articles, t.mentions, t.labels, n.name, t.entity_key
from totals t join top_label l using (entity_id) join top_name n using (entity_id)
"""


# Datasets whose raw files are the view ``<name>_files``, under a view of the same name that adds to them (a
# ``story_id``, or the latest row per key).
_WITH_STORY = ("articles", "duplicates", "entities", "figures", "mentions", "alerts")

# Stories, resolved at read time so that no file is ever rewritten when two stories merge.
# ``story_map``: every folded cluster and the story it ended in, following chains of merges (a cluster folded
# into one that was itself folded later); a cluster never folded is its own story. ``stories``: one row per
# story with its articles (distinct article ids: the same page seen again at its URL is one article), how many
# of them are copies, distinct outlets (the registrable domain, or the site for
# rows written before outlets existed), first and last time seen, last partition day and the first original's
# title.
STORY_VIEWS = (
    """
    create view story_map as
    with recursive chain(cluster_id, story_id, depth) as (
        select distinct cluster_id, into_cluster_id, 1 from story_merges
        union all
        select c.cluster_id, m.into_cluster_id, c.depth + 1
        from chain c join (select distinct cluster_id, into_cluster_id from story_merges) m
            on m.cluster_id = c.story_id
        where c.depth < 64
    )
    select cluster_id, arg_max(story_id, depth) as story_id from chain group by cluster_id
    """,
    """
    create view articles as
    select a.*, coalesce(m.story_id, a.cluster_id, a.article_id) as story_id
    from articles_files a left join story_map m on m.cluster_id = a.cluster_id
    """,
    """
    create view duplicates as
    select d.*, coalesce(m.story_id, d.cluster_id) as story_id
    from duplicates_files d left join story_map m on m.cluster_id = d.cluster_id
    """,
    """
    create view article_stories as
    select article_id, any_value(story_id) as story_id from articles group by article_id
    """,
    """
    create view entities as
    select e.*, s.story_id from entities_files e left join article_stories s on s.article_id = e.article_id
    """,
    """
    create view figures as
    select f.*, s.story_id from figures_files f left join article_stories s on s.article_id = f.article_id
    """,
    """
    create view mentions as
    select m.*, s.story_id from mentions_files m left join article_stories s on s.article_id = m.article_id
    """,
    """
    create view stories as
    with members as (
        select story_id, article_id, coalesce(outlet, source) as outlet, false as is_copy,
               coalesce(published_at, fetched_at) as seen, date
        from articles
        union all
        select story_id, article_id, coalesce(outlet, source) as outlet, true as is_copy, published_at as seen, date
        from duplicates
    )
    select m.story_id, any_value(a.title) as title,
           count(distinct m.article_id) as articles,
           count(distinct m.article_id) - count(distinct m.article_id) filter (where not m.is_copy) as copies,
           count(distinct m.outlet) as outlets,
           min(m.seen) as first_seen, max(m.seen) as last_seen, max(m.date) as last_date
    from members m left join articles a on a.article_id = m.story_id
    group by m.story_id
    """,
)


# Watches (flows/watch.py). ``alerts``: the latest row of each alert (a later run on the same day rewrites the
# observed count and score under the same key). ``watch_members``: every article of a watch, the matched
# originals and the recorded copies of their stories (on the day the copy was published, UTC, as an article's
# partition is; a copy's own partition is the day it was seen). ``lake_daily``: the lake's articles
# and distinct stories per day, the volume a watch's share and baseline are taken against. ``watch_daily``:
# attention per watch per day (a syndicated story counts once in ``stories``; ``outlets`` counts every outlet
# that ran it). ``watch_outlets`` and ``watch_entities``: top outlets and co-occurring entities of a watch, per day
# so any window can be summed; ``watch_figures``: the figures of the matched articles.
WATCH_VIEWS = (
    """
    create view alerts as
    select * exclude (rn) from (
        select a.*, row_number() over (partition by alert_key order by detected_at desc, run_id desc) as rn
        from alerts_files a
    ) where rn = 1
    """,
    """
    create view watch_members as
    select m.watch, m.article_id, m.story_id, coalesce(m.outlet, m.source) as outlet, m.date as day,
           false as is_copy
    from mentions m
    union all
    select w.watch, d.article_id, d.story_id, coalesce(d.outlet, d.source) as outlet,
           coalesce(cast(timezone('UTC', d.published_at) as date), d.date) as day, true as is_copy
    from duplicates d join (select distinct watch, story_id from mentions) w on w.story_id = d.story_id
    """,
    """
    create view lake_daily as
    select day, count(distinct article_id) as articles, count(distinct story_id) as stories
    from (
        select article_id, story_id, date as day from articles
        union all
        select article_id, story_id, coalesce(cast(timezone('UTC', published_at) as date), date) as day from duplicates
    )
    group by day
    """,
    """
    create view watch_daily as
    select w.watch, w.day, count(distinct w.article_id) as articles, count(distinct w.story_id) as stories,
           count(distinct w.outlet) as outlets, count(distinct w.article_id) filter (where w.is_copy) as copies,
           any_value(l.articles) as lake_articles, any_value(l.stories) as lake_stories,
           count(distinct w.article_id) / any_value(l.articles) as share
    from watch_members w left join lake_daily l on l.day = w.day
    group by w.watch, w.day
    """,
    """
    create view watch_outlets as
    select watch, day, outlet, count(distinct article_id) as articles, count(distinct story_id) as stories
    from watch_members group by watch, day, outlet
    """,
    """
    create view watch_entities as
    select m.watch, m.date as day, e.entity_id, l.name, l.label, count(distinct m.story_id) as stories,
           count(distinct m.article_id) as articles, count(*) as mentions
    from mentions m join entities_files e on e.article_id = m.article_id
    join entity_labels l on l.entity_id = e.entity_id
    group by m.watch, m.date, e.entity_id, l.name, l.label
    """,
    """
    create view watch_figures as
    select m.watch, f.* from mentions m join figures f on f.article_id = m.article_id
    """,
)


# The latest quarantine row of each item that has not since become an article or a duplicate.
UNRESOLVED_QUARANTINE = """
select * exclude (rn) from (
    select q.*, row_number() over (partition by q.item_key order by q.quarantined_at desc) as rn
    from quarantine q
    where q.item_key not in (select item_key from articles where item_key is not null)
      and q.item_key not in (select item_key from duplicates where item_key is not null)
) where rn = 1
"""


def unresolved_quarantine(
    lake: Lake | str, reason: str | None = None, stage: str | None = None
) -> list[dict[str, object]]:
    """Return the unresolved quarantined items (latest row per item), optionally of one reason and stage."""
    con = connect(lake)
    sql = f"select * from ({UNRESOLVED_QUARANTINE}) where (? is null or reason = ?) and (? is null or stage = ?)"  # noqa: S608
    rel = con.execute(sql, [reason, reason, stage, stage])
    names = [c[0] for c in rel.description]
    return [dict(zip(names, row, strict=True)) for row in rel.fetchall()]
