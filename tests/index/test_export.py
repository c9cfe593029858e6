"""Parquet export: hive-partitioned by day, readable by DuckDB and polars, complete."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
import pytest

from index import export
from index.errors import SpotindexError
from tests.index.published import published_replay


def test_export_writes_hive_partitions_that_read_back_whole(tmp_path: Path) -> None:
    db = published_replay() / "s.duckdb"
    out = tmp_path / "ds"
    counts = export.export(db, out)
    assert set(counts) == set(export.TABLES)
    assert sorted(p.name for p in (out / "gpu_quotes").iterdir()) == ["date=2026-11-19", "date=2026-11-20"]
    con = duckdb.connect(str(db), read_only=True)
    try:
        for table in ("gpu_quotes", "token_prices", "fixings", "index_values"):
            n = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # type: ignore[index]
            assert counts[table] == n > 0
            lf = pl.scan_parquet(out / table / "**" / "*.parquet", hive_partitioning=True)
            assert lf.select(pl.len()).collect().item() == n
        per_day = dict(con.execute("SELECT CAST(observed_at AS DATE)::VARCHAR, count(*) FROM gpu_quotes "
                                   "GROUP BY 1").fetchall())
    finally:
        con.close()
    got = duckdb.sql(f"SELECT date::VARCHAR, count(*) FROM read_parquet('{out}/gpu_quotes/*/*.parquet', "
                     "hive_partitioning = true) GROUP BY 1").fetchall()
    assert dict(got) == per_day
    # running it again replaces each table (no doubled rows)
    export.export(db, out, tables=["gpu_quotes"])
    again = pl.scan_parquet(out / "gpu_quotes" / "**" / "*.parquet", hive_partitioning=True)
    assert again.select(pl.len()).collect().item() == sum(per_day.values())
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_bad_format_or_table_is_a_clear_error(tmp_path: Path) -> None:
    db = published_replay() / "s.duckdb"
    with pytest.raises(SpotindexError, match="unknown export format 'csv'"):
        export.export(db, tmp_path, "csv")
    with pytest.raises(SpotindexError, match="exportable tables are"):
        export.export(db, tmp_path, tables=["nope"])
