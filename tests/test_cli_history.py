"""End-to-end: an analyst imports price histories, backfills, and reads a series back (CLI)."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from index.store import Store
from tests.conftest import FIXTURES
from tests.test_cli import cli

IMP = FIXTURES / "imports"


def test_import_backfill_history_journey(tmp_path: Path) -> None:
    db = str(tmp_path / "s.duckdb")
    r = cli("import", "intervals", str(IMP / "ledger_openrouter.csv"), "--db", db)
    assert r.returncode == 0, r.stderr
    assert "import:ledger_openrouter" in r.stdout and "openrouter-ledger" in r.stdout
    assert "ledger_openrouter.csv:6: column 'usd_per_mtok_input'" in r.stdout  # the free row, named
    r = cli("import", "intervals", str(IMP / "ledger_litellm.csv"), "--db", db)
    assert r.returncode == 0, r.stderr
    again = cli("import", "intervals", str(IMP / "ledger_litellm.csv"), "--db", db)
    assert again.returncode == 0 and " 0 │" in again.stdout  # nothing new the second time
    r = cli("backfill", "--from", "2025-06-08", "--to", "2025-06-14", "--series", "TOK.O3.IN", "--db", db)
    assert r.returncode == 0, r.stderr
    assert "series×days" in r.stderr and "6/6" in r.stderr  # the progress bar, on stderr
    assert "backfilled 1 series × 6 day(s) [2025-06-08, 2025-06-14)" in r.stdout
    table = cli("history", "TOK.O3.IN", "--from", "2025-06-10", "--to", "2025-06-13", "--db", db)
    assert table.returncode == 0, table.stderr
    assert "2025-06-11" in table.stdout and "2025-06-13" not in table.stdout and "backfill" in table.stdout
    out_json = cli("history", "TOK.O3.IN", "--format", "json", "--db", db)
    rows = json.loads(out_json.stdout)
    assert [r["date"] for r in rows][:2] == ["2025-06-08", "2025-06-09"] and len(rows) == 6
    pq, png = tmp_path / "o3.parquet", tmp_path / "o3.png"
    r = cli("history", "TOK.O3.IN", "--format", "parquet", "--output", str(pq), "--chart", str(png), "--db", db)
    assert r.returncode == 0, r.stderr
    assert pl.read_parquet(pq).height == 6 and png.stat().st_size > 1000
    revs = cli("history", "TOK.O3.IN", "--revisions", "--format", "csv", "--db", db)
    assert revs.returncode == 0 and revs.stdout.splitlines()[0].startswith("index_id,date,revision,value,status,reason")


def test_gpu_provider_summary_journey(tmp_path: Path) -> None:
    db = str(tmp_path / "s.duckdb")
    r = cli("import", "provider-summary", str(IMP / "provider_summary.csv"), "--source", "primeintellect",
            "--venue-map", str(IMP / "venue_map.csv"), "--db", db)
    assert r.returncode == 0, r.stderr
    assert "tier T2" in r.stdout and "10 │" in r.stdout
    r = cli("backfill", "--from", "2025-10-19", "--to", "2025-10-20", "--series", "GPU.H100-SXM.OD.NEO", "--db", db)
    assert r.returncode == 0, r.stderr
    csv = cli("history", "GPU.H100-SXM.OD.NEO", "--format", "csv", "--db", db)
    df = pl.read_csv(csv.stdout.encode())
    # fixings 22:00 (runpod 2.49, lambda 2.99, nebius 2.95) and 23:00 (+ primeintellect-dc 1.99) are the day's
    # only determined ones: 2 valid fixings of 24 is below methodology v1's 12, so the day has no value
    assert df["n_fixings"].to_list() == [24] and df["value"][0] is None
    assert df["status"][0] in ("SUSPENDED", "CONTINGENCY")
    fx = Store(db).frame("SELECT fixing_time, value FROM latest_fixings WHERE index_id = 'GPU.H100-SXM.OD.NEO' "
                         "AND n_quotes > 0 ORDER BY fixing_time")
    assert fx["value"].to_list() == pytest.approx([2.95, (2.49 + 2.95) / 2])


def test_bad_input_is_one_line_exit_1(tmp_path: Path) -> None:
    db = str(tmp_path / "s.duckdb")
    Store(db).init()  # an empty store: each refusal below is about the arguments, not a missing file
    for args, text in [
        (("import", "quotes", str(IMP / "unknown_column.csv")), "unknown_column.csv:1: column 'price_usd_per_gpu_hr'"),
        (("import", "nope", str(IMP / "gpu_quotes.csv")), "unknown format 'nope'"),
        (("import", "intervals", str(tmp_path / "absent.csv")), "absent.csv: no such file"),
        (("backfill", "--from", "2025-06-10", "--to", "2025-06-01"), "empty range"),
        (("backfill", "--from", "2025-06-10", "--to", "2025-06-11", "--methodology", "9.9.9"), "9.9.9"),
        (("history", "TOK.NOPE"), "unknown series 'TOK.NOPE'"),
        (("history", "TOK.O3.IN", "--chart", str(tmp_path / "x.gif")), "no values for TOK.O3.IN"),
    ]:
        r = cli(*args, "--db", db)
        assert r.returncode == 1, (args, r.stdout, r.stderr)
        lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1 and text in lines[0] and "Traceback" not in r.stderr, (args, r.stderr)
