"""kill -9 during ingest and publication (tests/reliability/crash.py): 5 kills here, 50 in make reliability."""

from __future__ import annotations

import os
from pathlib import Path

from tests.reliability import crash


def test_kill_9_leaves_whole_runs_or_nothing_and_a_rerun_completes(tmp_path: Path) -> None:
    n = int(os.environ.get("SPOTINDEX_CRASH_TRIALS_FAST", "5"))
    chains, _ = crash.trials(tmp_path, n, per_chain=n)
    problems = [f"{t.delay:.2f}s/{t.phase}: {p}" for c in chains for t in c.trials for p in t.problems]
    assert problems == []
    assert all(c.rerun_ok for c in chains), [c.rerun_problem for c in chains]


def test_the_check_sees_a_partial_run_and_a_broken_day(tmp_path: Path) -> None:
    full = crash.State(scrape_runs=10, runs=1, gpu_quotes=100, token_prices=50, values=5,
                       days={"2026-11-20": {"indices.json", "indices.json.sig", "indices.csv"}})
    partial = crash.State(10, 1, 40, 50, 0, {})
    assert crash.check(partial, full, tmp_path, tmp_path / "k.pub")
    half_day = crash.State(10, 1, 100, 50, 5, {"2026-11-20": {"indices.json"}})
    assert any("incomplete" in p for p in crash.check(half_day, full, tmp_path, tmp_path / "k.pub"))
    assert crash.check(crash.State(0, 0, 0, 0, 0, {}), full, tmp_path, tmp_path / "k.pub") == []
    assert crash.check(crash.State(20, 2, 100, 50, 5, {}), full, tmp_path, tmp_path / "k.pub") == []
