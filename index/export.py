"""``spotindex export --format parquet DIR``: the store as a hive-partitioned Parquet dataset.

``DIR/<table>/date=YYYY-MM-DD/data_0.parquet``: one folder per table and UTC day (of
``observed_at``, ``fixing_time`` or the table's own ``date``), the layout DuckDB, polars,
Spark and Trino read as one table with a ``date`` partition column. This is the hand-off to a
distributed engine (design note §6): the pipeline's lazy frames run unchanged on it.

Each table is written by DuckDB's ``COPY ... (FORMAT parquet, PARTITION_BY (date))`` into a
temporary folder that then replaces ``DIR/<table>``, so a reader of the dataset sees a whole
table, old or new. Raw response bodies are not exported (they stay in the store for audit).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from index.errors import SpotindexError
from index.migrations import LATEST_VERSION
from index.store import connect, ex, scalar, schema_version

# table -> the column its date partition comes from (None: the table has a DATE column 'date';
# "" : too small to partition, one file)
TABLES: dict[str, str | None] = {
    "gpu_quotes": "observed_at",
    "token_prices": "observed_at",
    "scrape_runs": "observed_at",
    "quarantine": "observed_at",
    "fixings": "fixing_time",
    "fixing_venues": "fixing_time",
    "index_values": None,
    "publications": None,
    "settlements": "",
}
FORMATS = ("parquet",)


def export(db: Path | str, out_dir: Path | str, fmt: str = "parquet", tables: list[str] | None = None
           ) -> dict[str, int]:
    """Write the tables as hive-partitioned Parquet; returns rows written per table."""
    if fmt not in FORMATS:
        raise SpotindexError(f"unknown export format {fmt!r}: use one of {', '.join(FORMATS)}")
    chosen = tables or list(TABLES)
    unknown = [t for t in chosen if t not in TABLES]
    if unknown:
        raise SpotindexError(f"cannot export {', '.join(unknown)}: exportable tables are {', '.join(TABLES)}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    if not Path(db).exists():
        raise SpotindexError(f"database {db} does not exist")
    con = connect(db, read_only=True)
    try:
        if schema_version(con) > LATEST_VERSION:
            raise SpotindexError(f"database {db} has schema version {schema_version(con)}, newer than this "
                                 f"spotindex supports ({LATEST_VERSION}); upgrade spotindex")
        present = {r[0] for r in ex(con, "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'")}
        for table in chosen:
            if table not in present:
                raise SpotindexError(f"{db} has no table {table}: is it a spotindex database?")
            src = TABLES[table]
            final = out / table
            tmp = out / f".{table}.tmp-{os.getpid()}"
            if tmp.exists():
                shutil.rmtree(tmp)
            tmp.mkdir()
            n = int(scalar(con, f"SELECT count(*) FROM {table}"))
            if src == "":
                ex(con, f"COPY {table} TO '{(tmp / 'data_0.parquet').as_posix()}' (FORMAT parquet)")
            elif n:
                select = f"SELECT * FROM {table}" if src is None else \
                    f"SELECT *, CAST({src} AS DATE) AS date FROM {table}"
                ex(con, f"COPY ({select}) TO '{tmp.as_posix()}' "
                        "(FORMAT parquet, PARTITION_BY (date), OVERWRITE_OR_IGNORE)")
            old = out / f".{table}.old-{os.getpid()}"
            if final.exists():
                final.rename(old)
            tmp.rename(final)
            if old.exists():
                shutil.rmtree(old)
            counts[table] = n
    finally:
        con.close()
    return counts
