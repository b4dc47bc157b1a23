"""DuckDB over the lake: every dataset as a view named after it.

Views read the lake's committed Parquet files with Hive partitioning and ``union_by_name`` (files written
under an older schema version simply lack the newer columns: their rows read null there, and a column that no
file has yet is added, null, from the declared schema). A dataset with no files yet is an empty view
with its declared columns, so queries never fail just because, say, nothing was quarantined. In every view the
partition column ``date`` is a DATE, whether it was read from folder names, from a remote lake's table or
declared for an empty view, so ``where date >= ?`` with a date works on any lake.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from storage.lake import Lake
from storage.schemas import DATASETS, PARTITION_COLUMN, SCHEMAS


def _empty(name: str) -> pa.Table:
    """Return an empty table of dataset ``name`` with its declared columns and a DATE partition column."""
    return SCHEMAS[name].append(pa.field(PARTITION_COLUMN, pa.date32())).empty_table()


def connect(data_dir: str) -> duckdb.DuckDBPyConnection:
    """Return an in-memory DuckDB connection with one view per dataset of the lake at ``data_dir``."""
    lake = Lake(data_dir)
    con = duckdb.connect()
    for name in DATASETS:
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
            con.sql(f"create view {name} as {files_sql}")
        elif files:
            table = lake.read(name)  # the partition column comes as a string here
            con.register(f"{name}_arrow", table)
            con.sql(
                f"create view {name} as select * replace (cast({PARTITION_COLUMN} as date) as {PARTITION_COLUMN}) "  # noqa: S608 - fixed names
                f"from {name}_arrow"
            )
        else:
            con.register(f"{name}_empty", _empty(name))
            con.sql(f"create view {name} as select * from {name}_empty")  # noqa: S608 - fixed names
    return con


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
    data_dir: str, reason: str | None = None, stage: str | None = None
) -> list[dict[str, object]]:
    """Return the unresolved quarantined items (latest row per item), optionally of one reason and stage."""
    con = connect(data_dir)
    sql = f"select * from ({UNRESOLVED_QUARANTINE}) where (? is null or reason = ?) and (? is null or stage = ?)"  # noqa: S608
    rel = con.execute(sql, [reason, reason, stage, stage])
    names = [c[0] for c in rel.description]
    return [dict(zip(names, row, strict=True)) for row in rel.fetchall()]
