"""A database locked by another process: bounded wait with backoff, then a message naming the holder."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from index.errors import StoreError
from index.store import Store

HOLD = """
import duckdb, sys, time
con = duckdb.connect(sys.argv[1], read_only=True)
con.execute("SELECT count(*) FROM schema_version").fetchall()
print("holding", flush=True)
time.sleep(float(sys.argv[2]))
"""


def hold(db: Path, seconds: float) -> subprocess.Popen[str]:
    """A 'notebook': another process with a read-only connection open on ``db``."""
    p = subprocess.Popen([sys.executable, "-c", HOLD, str(db), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert p.stdout is not None and p.stdout.readline().strip() == "holding"
    return p


def test_writer_gives_up_after_the_bound_naming_the_holder_and_what_to_do(db: Path) -> None:
    Store(db).init()
    holder = hold(db, 30)
    try:
        t0 = time.monotonic()
        with pytest.raises(StoreError) as err, Store(db, retry_seconds=0.6).write():
            pass
        waited = time.monotonic() - t0
    finally:
        holder.kill()
        holder.wait()
    msg = str(err.value)
    assert 0.6 <= waited < 5
    assert f"locked by PID {holder.pid}" in msg and "python" in msg  # the holder's command line
    assert "test-analyst.duckdb" in msg and f"kill -TERM {holder.pid}" in msg


def test_writer_waits_with_backoff_and_succeeds_when_the_lock_is_released(db: Path) -> None:
    Store(db).init()
    holder = hold(db, 0.8)
    t0 = time.monotonic()
    with Store(db, retry_seconds=20).write() as con:
        con.execute("SELECT 1").fetchall()
    waited = time.monotonic() - t0
    holder.wait()
    assert 0.3 < waited < 10


def test_cli_prints_one_line_naming_the_holder(db: Path) -> None:
    Store(db).init()
    holder = hold(db, 30)
    try:
        r = subprocess.run([sys.executable, "-m", "index", "compute", "--db", str(db), "--date", "2026-11-20"],
                           capture_output=True, text=True, timeout=120,
                           env={**os.environ, "SPOTINDEX_LOCK_WAIT": "0.5"})
    finally:
        holder.kill()
        holder.wait()
    assert r.returncode == 1 and "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert f"PID {holder.pid}" in r.stderr and "analyst" in r.stderr
