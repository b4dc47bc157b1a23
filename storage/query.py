"""DuckDB over the lake: every dataset as a view named after it.

Views read the lake's committed Parquet files with Hive partitioning and ``union_by_name`` (files written
under an older schema version simply lack the newer columns). A dataset with no files yet is an empty view
with its declared columns, so queries never fail just because, say, nothing was quarantined.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from storage.lake import Lake
from storage.schemas import DATASETS, PARTITION_COLUMN, SCHEMAS


def connect(data_dir: str) -> duckdb.DuckDBPyConnection:
    """Return an in-memory DuckDB connection with one view per dataset of the lake at ``data_dir``."""
    lake = Lake(data_dir)
    con = duckdb.connect()
    for name in DATASETS:
        files = lake.files(name)
        if files and lake.is_local:
            # An explicit file list, not a glob: readers see committed files only (see Lake.files).
            listed = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
            con.sql(
                f"create view {name} as select * from read_parquet([{listed}], "  # noqa: S608 - names from the lake
                "hive_partitioning = true, union_by_name = true)"
            )
        elif files:
            table = lake.read(name)
            con.register(f"{name}_arrow", table)
            con.sql(f"create view {name} as select * from {name}_arrow")  # noqa: S608 - fixed names
        else:
            empty = SCHEMAS[name].append(pa.field(PARTITION_COLUMN, pa.string())).empty_table()
            con.register(f"{name}_empty", empty)
            con.sql(f"create view {name} as select * from {name}_empty")  # noqa: S608 - fixed names
    return con
