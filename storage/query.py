"""DuckDB over the lake: every dataset as a view named after it.

Views read the Parquet files with Hive partitioning and ``union_by_name`` (files written under an older schema
version simply lack the newer columns). A dataset with no files yet is an empty view with its declared
columns, so queries never fail just because, say, nothing was quarantined.
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
        if lake.exists(name) and lake.is_local:
            pattern = f"{lake.dataset_path(name)}/**/*.parquet".replace("'", "''")
            con.sql(
                f"create view {name} as select * from read_parquet('{pattern}', "
                "hive_partitioning = true, union_by_name = true)"
            )
        elif lake.exists(name):
            table = lake.read(name)
            con.register(f"{name}_arrow", table)
            con.sql(f"create view {name} as select * from {name}_arrow")
        else:
            empty = SCHEMAS[name].append(pa.field(PARTITION_COLUMN, pa.string())).empty_table()
            con.register(f"{name}_empty", empty)
            con.sql(f"create view {name} as select * from {name}_empty")
    return con
