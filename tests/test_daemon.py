"""End-to-end: the daemon as an operator runs it, against the replay snapshot with a short tick.

One uninterrupted run is the reference. Another run is SIGKILLed twice (once in the middle of
a publication, once in the middle of the hourly jobs) and restarted; the result must equal the
reference with no duplicate rows. A third is stopped with SIGTERM and must exit cleanly.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pytest

from tests.conftest import REPLAY
from tests.reliability.crash import fast_data_dir

ARGS = ["--replay", str(REPLAY), "--tick", "0.1", "--replay-step", "4"]
TIMEOUT = 120
# The reference and the kill/restart runs: three sources and five GPU series (data/ cut down as in
# the crash trials), so a run takes seconds; every job (scrape, fixings, publication) still runs,
# and on 2026-11-20 the five series have values (NORMAL and LOW_CONFIDENCE) to compare.
FAST = ["--source", "shadeform", "--source", "hyperbolic", "--source", "lambdalabs"]


STARTED: list[subprocess.Popen[str]] = []


@pytest.fixture(autouse=True)
def _no_daemon_left_behind() -> Iterator[None]:
    """A failed assertion must not leave a daemon running: kill the ones this module started."""
    yield
    for p in STARTED:
        if p.poll() is None:
            p.kill()
            p.wait(timeout=30)


class DaemonProcess:
    """``spotindex daemon`` in a subprocess, its log lines read as they come."""

    def __init__(self, root: Path, *extra: str, data: Path | None = None):
        self.root = root
        cmd = [sys.executable, "-m", "index", "daemon", "--db", str(root / "s.duckdb"), "--out", str(root / "pub"),
               *ARGS, *extra]
        env = {**os.environ, "SPOTINDEX_DATA": str(data)} if data else None
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
        STARTED.append(self.proc)
        self.lines: list[str] = []
        self._q: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self._q.put(line)
        self._q.put(None)

    def wait_for(self, pred: Callable[[str], bool], count: int = 1) -> None:
        """Read the log until ``count`` lines matched ``pred`` (fails on exit or timeout)."""
        seen = sum(pred(x) for x in self.lines)
        deadline = time.monotonic() + TIMEOUT
        while seen < count:
            line = self._q.get(timeout=max(0.1, deadline - time.monotonic()))
            assert line is not None, "daemon exited early:\n" + "".join(self.lines[-30:])
            self.lines.append(line)
            seen += pred(line)

    def finish(self) -> int:
        rc = self.proc.wait(timeout=TIMEOUT)
        while (line := self._q.get(timeout=10)) is not None:
            self.lines.append(line)
        return rc

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)


def query(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def outcome(root: Path) -> dict[str, object]:
    """What a run leaves: stored rows, the published values and reports (publish times aside)."""
    db = root / "s.duckdb"
    last_day = "2026-11-21 00:00:00+00"  # fixings of the published days; later ones depend on where it stopped
    reports = {}
    for day in ("2026-11-19", "2026-11-20"):
        r = json.loads((root / "pub" / day / "indices.json").read_text())
        top = {k: v for k, v in r.items() if k not in ("publish_time", "prev_publish_time", "indices")}
        # per series: publish times differ between runs; round ids count publications and so are compared
        top["indices"] = [{k: v for k, v in e.items() if k not in ("publish_time", "prev_publish_time")}
                          for e in r["indices"]]
        reports[day] = top
    return {
        "counts": {t: query(db, f"SELECT count(*) FROM {t}")[0][0] for t in
                   ("gpu_quotes", "token_prices", "raw_responses", "quarantine", "scrape_runs", "index_values",
                    "publications")},
        # values to 12 significant digits: polars' mean of the same sorted fixings may differ in the last bit
        # with the memory layout of the frame (reported; the published 6-decimal strings are compared exactly)
        "fixings": sorted(query(db, "SELECT index_id, fixing_time::VARCHAR, revision, round(value, 12), status, "
                                    f"inputs_hash FROM fixings WHERE fixing_time < '{last_day}'")),
        "values": sorted(query(db, "SELECT index_id, date::VARCHAR, revision, round(value, 12), status, n_fixings, "
                                   "inputs_hash FROM index_values")),
        "reports": reports,
        "latest": os.readlink(root / "pub" / "latest"),
        "leftovers": sorted(p.name for p in (root / "pub").iterdir() if p.name.startswith(".")),
    }


def no_duplicates(db: Path) -> None:
    assert query(db, "SELECT source, observed_at, count(*) FROM scrape_runs GROUP BY ALL HAVING count(*) > 1") == []
    assert query(db, "SELECT max(revision) FROM fixings") == [(0,)]
    assert query(db, "SELECT max(revision) FROM index_values") == [(0,)]
    assert query(db, "SELECT date, count(*) FROM publications GROUP BY ALL HAVING count(*) > 1") == []


@pytest.fixture(scope="module")
def fast_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fast_data_dir(tmp_path_factory.mktemp("daemon-data"))


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory, fast_data: Path) -> tuple[Path, list[str], dict[str, object]]:
    """An uninterrupted run; a 'notebook' holds the analyst snapshot open while the second day is published."""
    root = tmp_path_factory.mktemp("daemon-ref")
    d = DaemonProcess(root, "--stop-when-done", *FAST, data=fast_data)
    d.wait_for(lambda x: "job publish ok" in x and "2026-11-19" in x)
    notebook = duckdb.connect(str(root / "s-analyst.duckdb"), read_only=True)
    seen: dict[str, object] = {"before": notebook.execute("SELECT count(*) FROM publications").fetchone()}
    try:
        rc = d.finish()
        seen["after"] = notebook.execute("SELECT count(*) FROM publications").fetchone()
    finally:
        notebook.close()
    assert rc == 0, "".join(d.lines[-30:])
    return root, d.lines, seen


def test_daemon_scrapes_fixes_and_publishes(reference: tuple[Path, list[str], dict[str, object]]) -> None:
    root, lines, _ = reference
    db = root / "s.duckdb"
    ok = dict(query(db, "SELECT job, count(*) FROM job_runs WHERE status = 'ok' GROUP BY job"))
    assert ok["scrape"] >= 7 and ok["fixings"] >= 7 and ok["publish"] >= 7
    assert query(db, "SELECT count(*) FROM job_runs WHERE status <> 'ok'") == [(0,)]
    n_captures = len(json.loads((REPLAY / "manifest.json").read_text())["captures"])
    assert query(db, "SELECT count(DISTINCT observed_at) FROM scrape_runs") == [(n_captures,)]
    assert query(db, "SELECT count(*) FROM fixings")[0][0] > 24 * 10
    assert [r[0].isoformat() for r in query(db, "SELECT date FROM publications ORDER BY date")] == \
        ["2026-11-19", "2026-11-20"]
    assert os.readlink(root / "pub" / "latest") == "2026-11-20"
    assert (root / "pub" / "latest" / "index.html").is_file()
    assert any("replay finished" in x for x in lines) and lines[-1].rstrip().endswith("daemon stopped")
    no_duplicates(db)


def test_publication_succeeds_while_a_notebook_holds_the_snapshot(
        reference: tuple[Path, list[str], dict[str, object]]) -> None:
    root, _, seen = reference
    # the notebook kept its view (one publication) while the daemon published the second day and swapped the copy
    assert seen["before"] == seen["after"] == (1,)
    assert query(root / "s-analyst.duckdb", "SELECT count(*) FROM publications") == [(2,)]


def test_killed_twice_and_restarted_equals_the_uninterrupted_run(
        reference: tuple[Path, list[str], dict[str, object]], tmp_path: Path, fast_data: Path) -> None:
    ref_root = reference[0]
    assert query(ref_root / "s.duckdb", "SELECT count(value) FROM index_values WHERE date = '2026-11-20'") == [(5,)]
    first = DaemonProcess(tmp_path, "--stop-when-done", *FAST, data=fast_data)
    first.wait_for(lambda x: "publishing 2026-11-19" in x)  # in the middle of a publication
    first.kill()
    second = DaemonProcess(tmp_path, "--stop-when-done", *FAST, data=fast_data)
    second.wait_for(lambda x: "job scrape ok" in x, count=2)  # in the middle of the hourly jobs
    second.kill()
    third = DaemonProcess(tmp_path, "--stop-when-done", *FAST, data=fast_data)
    assert third.finish() == 0, "".join(third.lines[-30:])
    assert outcome(tmp_path) == outcome(ref_root)
    no_duplicates(tmp_path / "s.duckdb")
    # the interrupted runs are on record, and were redone
    statuses = dict(query(tmp_path / "s.duckdb", "SELECT status, count(*) FROM job_runs GROUP BY status"))
    assert statuses.get("interrupted", 0) >= 1 and "running" not in statuses


def test_sigterm_stops_cleanly_between_jobs_and_status_reports_it(tmp_path: Path) -> None:
    d = DaemonProcess(tmp_path)
    d.wait_for(lambda x: "job scrape ok" in x)
    status = subprocess.run([sys.executable, "-m", "index", "status", "--db", str(tmp_path / "s.duckdb")],
                            capture_output=True, text=True, timeout=60)
    assert status.returncode == 0, status.stderr
    assert f"running, PID {d.proc.pid}" in status.stdout and "replay" in status.stdout
    t0 = time.monotonic()
    d.proc.send_signal(signal.SIGTERM)
    assert d.finish() == 0
    assert time.monotonic() - t0 < 30
    assert d.lines[-1].rstrip().endswith("daemon stopped")
    db = tmp_path / "s.duckdb"
    assert query(db, "SELECT count(*) FROM job_runs WHERE status NOT IN ('ok')") == [(0,)]
    assert not (tmp_path / "s.daemon.json").exists()
    after = subprocess.run([sys.executable, "-m", "index", "status", "--db", str(db)], capture_output=True, text=True,
                           timeout=60)
    assert after.returncode == 0 and "daemon: not running" in after.stdout
    for word in ("scrape", "fixings", "publish", "openrouter", "vastai"):
        assert word in after.stdout
