"""Bad input at the CLI not covered elsewhere: malformed dates, unknown series, reversed ranges, a
missing database, a database of a newer schema. One line on stderr, exit 1, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from index.migrations import LATEST_VERSION
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
