"""Bad input at the CLI not covered elsewhere: malformed dates, unknown series, reversed ranges, a
missing database (refused by every command that reads one, and not created), a database of a newer
schema (refused) or of an older one (migrated, then it works). One line on stderr, exit 1, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb

from index.migrations import LATEST_VERSION, MIGRATIONS
from index.store import Store, ex

REPO = Path(__file__).resolve().parents[1]
SERIES = "GPU.H100-SXM.OD.NEO"


def cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "index", *map(str, args)], capture_output=True, text=True,
                          cwd=REPO, env={**os.environ, "COLUMNS": "200"})


def test_bad_input_fails_in_one_line(tmp_path: Path) -> None:
    ok, newer, missing = tmp_path / "ok.duckdb", tmp_path / "newer.duckdb", tmp_path / "missing.duckdb"
    Store(ok).init()
    with Store(newer).write() as con:
        ex(con, "INSERT INTO schema_version VALUES (?, now(), 'from a later spotindex')", [LATEST_VERSION + 1])
    cases = [
        (("show", "--date", "2026-02-30", "--db", ok), "not a date"),
        (("audit", SERIES, "yesterday", "--db", ok), "not a date"),
        (("history", SERIES, "--from", "2026-11-31", "--db", ok), "not a date"),
        (("audit", "GPU.NOPE", "2026-11-20", "--db", ok), "unknown series GPU.NOPE"),
        (("settle", "NOPE-CONTRACT", "--db", ok), "unknown contract NOPE-CONTRACT"),
        (("history", SERIES, "--from", "2026-11-20", "--to", "2026-11-01", "--db", ok), "[2026-11-20, 2026-11-01)"),
        (("export", tmp_path / "x", "--db", missing), "does not exist"),
        (("show", "--db", newer), "newer than this spotindex"),
        (("compute", "--db", newer), "newer than this spotindex"),
        (("history", SERIES, "--db", newer), "newer than this spotindex"),
        (("export", tmp_path / "y", "--db", newer), "newer than this spotindex"),
    ]
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda c: cli(*c[0]), cases))
    for (args, needle), r in zip(cases, results, strict=True):
        lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
        assert r.returncode == 1, (args, r.stdout, r.stderr)
        assert len(lines) == 1 and needle in lines[0] and "Traceback" not in r.stderr, (args, r.stderr)
    assert not missing.exists()


def test_a_missing_database_is_refused_and_not_created(tmp_path: Path) -> None:
    """Every command that reads the store refuses a missing file in one line and leaves no file."""
    missing = tmp_path / "typo.duckdb"
    report = tmp_path / "indices.json"
    report.write_text("{}")
    pub = tmp_path / "k.pub"
    pub.write_text("x")
    cases = [
        ("audit", SERIES, "2026-11-20"),
        ("show",),
        ("compute", "--date", "2026-11-20"),
        ("publish", "--date", "2026-11-20", "--out", tmp_path / "out"),
        ("history", SERIES),
        ("verify", report, "--key", pub),
        ("backfill", "--from", "2026-11-01", "--to", "2026-11-02"),
    ]  # hedge, vol and settle read through the same Store.read: checked by hand, not repeated here
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda c: cli(*c, "--db", missing), cases))
    for args, r in zip(cases, results, strict=True):
        lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
        assert r.returncode == 1, (args, r.stdout, r.stderr)
        assert len(lines) == 1 and "Traceback" not in r.stderr, (args, r.stderr)
        if args[0] != "verify":  # verify reads the key before the database
            assert f"no database at {missing}" in lines[0] and "spotindex run" in lines[0], (args, lines)
        assert not missing.exists() and not missing.with_name(missing.name + ".wal").exists(), args
    assert not (tmp_path / "out").exists()


def _database_at(path: Path, version: int) -> None:
    """A database as spotindex wrote it when ``version`` was the latest migration, with one quote and
    one token price in it."""
    con = duckdb.connect(str(path))
    ex(con, "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ, description VARCHAR)")
    for v, description, sql in MIGRATIONS[:version]:
        ex(con, sql)
        ex(con, "INSERT INTO schema_version VALUES (?, now(), ?)", [v, description])
    ex(con, "INSERT INTO gpu_quotes (observed_at, source, venue, venue_class, offer_id, gpu_model, gpu_count, "
            "price_usd_per_hour, price_usd_per_gpu_hour, pricing_class, tier, price_basis, currency, dataset) "
            "VALUES (TIMESTAMPTZ '2026-11-20 10:00:00+00', 'old', 'lambdalabs', 'neocloud', 'o1', 'H100-SXM-80GB', "
            "1, 2.5, 2.5, 'on_demand', 'T2', 'compute', 'USD', 'live')")
    ex(con, "INSERT INTO token_prices (observed_at, source, provider, model, source_model_id, usd_per_mtok_input, "
            "usd_per_mtok_output, currency, dataset) VALUES (TIMESTAMPTZ '2026-11-20 10:00:00+00', 'old', "
            "'openai', 'openai/gpt-4o', 'gpt-4o', 2.5, 10.0, 'USD', 'live')")
    con.close()


def test_an_older_schema_is_migrated_and_works(tmp_path: Path) -> None:
    """A database left at each earlier migration (1 .. latest-1), opened by a read command."""
    versions = list(range(1, LATEST_VERSION))
    dbs = [tmp_path / f"v{v}.duckdb" for v in versions]
    for v, db in zip(versions, dbs, strict=True):
        _database_at(db, v)
        con = duckdb.connect(str(db), read_only=True)
        assert ex(con, "SELECT max(version) FROM schema_version")[0][0] == v
        con.close()
    with ThreadPoolExecutor(2) as pool:  # audit: a read command; it migrates, then reads
        results = list(pool.map(lambda db: cli("audit", SERIES, "2026-11-20", "--db", db), dbs))
    for v, db, r in zip(versions, dbs, results, strict=True):
        assert r.returncode == 0 and "Traceback" not in r.stderr, (v, r.stdout, r.stderr)
        assert "lambdalabs" in r.stdout, (v, r.stdout)  # the quote stored under the old schema is read
        con = duckdb.connect(str(db), read_only=True)
        try:
            assert ex(con, "SELECT max(version) FROM schema_version")[0][0] == LATEST_VERSION, v
            assert ex(con, "SELECT count(*) FROM gpu_quotes")[0][0] == 1
            assert ex(con, "SELECT count(*), count(context_tier) FROM token_prices")[0] == (1, 0)
        finally:
            con.close()
