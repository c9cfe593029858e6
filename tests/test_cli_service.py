"""End-to-end: the service commands' faces (export, serve, daemon options) and their one-line errors."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from tests.index.published import published_replay
from tests.test_cli import cli


def test_help_lists_service_commands() -> None:
    r = cli("--help")
    assert r.returncode == 0
    for cmd in ("daemon", "status", "export", "serve"):
        assert cmd in r.stdout


def test_export_parquet_command(tmp_path: Path) -> None:
    db = published_replay() / "s.duckdb"
    r = cli("export", "--format", "parquet", str(tmp_path / "ds"), "--db", str(db), "--table", "index_values",
            "--table", "gpu_quotes")
    assert r.returncode == 0, r.stderr
    con = duckdb.connect(str(db), read_only=True)
    n = con.execute("SELECT count(*) FROM index_values").fetchone()[0]  # type: ignore[index]
    con.close()
    assert f"index_values: {n} rows" in r.stdout
    assert sorted(p.name for p in (tmp_path / "ds").iterdir()) == ["gpu_quotes", "index_values"]
    df = pl.read_parquet(tmp_path / "ds" / "index_values" / "**" / "*.parquet", hive_partitioning=True)
    assert sorted(str(d) for d in df["date"].unique()) == ["2026-11-19", "2026-11-20"]


def test_service_commands_fail_in_one_line(tmp_path: Path) -> None:
    cases = [
        (("export", "--format", "csv", str(tmp_path / "x"), "--db", str(published_replay() / "s.duckdb")),
         "unknown export format"),
        (("serve", "--db", str(tmp_path / "none.duckdb")), "does not exist"),
        (("daemon", "--db", str(tmp_path / "d.duckdb"), "--stop-when-done"), "needs --replay"),
        (("daemon", "--db", str(tmp_path / "d.duckdb"), "--publish-at", "25:00"), "not a UTC time"),
    ]
    for args, needle in cases:
        r = cli(*args)
        assert r.returncode == 1, (args, r.stdout, r.stderr)
        assert needle in r.stderr and "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
