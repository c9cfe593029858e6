"""Crash consistency: kill -9 ``python -m index run`` at seeded random points and check what is left.

After each kill: the database opens (or was never created), it holds the whole scrape run or
none of it (scrape_runs, runs, gpu_quotes and token_prices agree), a re-run completes it, and
every published day directory is complete and verifies with the publisher's key, or is absent.
``python -m tests.reliability.crash`` runs SPOTINDEX_CRASH_TRIALS trials (default 50) and
prints the counts RELIABILITY.md holds.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from index import jobs, oracle
from index.store import Store, scalar

REPO = Path(__file__).resolve().parents[2]
REPLAY = REPO / "data" / "replay" / "2026-11-20"


def index_cmd(*args: str | Path) -> list[str]:
    return [sys.executable, "-m", "index", *[str(a) for a in args]]


# make test: two small sources present in every capture and five GPU series they feed, so that a
# run takes seconds and its three commits (scrape, computation, publication) each take a share of
# it; make reliability (SPOTINDEX_CRASH_SOURCES=all): every source and every series of data/.
FAST_SOURCES = ("hyperbolic", "lambdalabs")
FAST_SERIES = ("GPU.H100-SXM.OD.NEO", "GPU.H100-PCIE.OD.NEO", "GPU.H200.OD.NEO", "GPU.B200.OD.NEO",
               "GPU.A100-80GB.OD.NEO")


def chosen_sources() -> tuple[str, ...]:
    names = os.environ.get("SPOTINDEX_CRASH_SOURCES", ",".join(FAST_SOURCES))
    return () if names == "all" else tuple(n for n in names.split(",") if n)


def run_cmd(db: Path, out: Path, key: Path) -> list[str]:
    picks = [a for n in chosen_sources() for a in ("--source", n)]
    return index_cmd("run", "--replay", REPLAY, "--db", db, "--out", out, "--key", key, *picks)


def fast_data_dir(directory: Path, series: tuple[str, ...] = FAST_SERIES) -> Path:
    """data/ with indices.toml cut down to ``series`` (header and defaults kept, no token section)."""
    target = directory / "data"
    target.mkdir(exist_ok=True)
    for f in (REPO / "data").glob("*.toml"):
        shutil.copy(f, target / f.name)
    head, *blocks = (REPO / "data" / "indices.toml").read_text().split("[[index]]\n")
    kept = []
    for block in blocks:
        lines = block.splitlines()
        end = next((i for i, ln in enumerate(lines) if ln.startswith(("[", "# ----"))), len(lines))
        if any(f'id = "{s}"' in ln for s in series for ln in lines[:end]):
            kept.append("[[index]]\n" + "\n".join(lines[:end]).rstrip() + "\n")
    assert len(kept) == len(series), f"series not found in data/indices.toml: {series}"
    (target / "indices.toml").write_text(head.split("\n# ----")[0] + "\n" + "\n".join(kept))
    return target


DATA: Path | None = None  # set by trials(): the data directory the runs use (None: the repository's)


def env() -> dict[str, str]:
    e = {k: v for k, v in os.environ.items() if not k.startswith("SPOTINDEX_")}
    return {**e, "PYTHONPATH": str(REPO), "COLUMNS": "200", **({"SPOTINDEX_DATA": str(DATA)} if DATA else {})}


@dataclass
class State:
    scrape_runs: int
    runs: int
    gpu_quotes: int
    token_prices: int
    values: int
    days: dict[str, set[str]]  # published day -> its files

    @property
    def phase(self) -> str:
        if self.days:
            return "published"
        if self.values:
            return "computed"
        if self.scrape_runs:
            return "scraped"
        return "nothing"


def read_state(db: Path, out: Path) -> State:
    counts = {"scrape_runs": 0, "runs": 0, "gpu_quotes": 0, "token_prices": 0, "index_values": 0}
    if db.exists():
        store = Store(db)  # must open: DuckDB replays or discards its WAL
        with store.read() as con:
            for t in counts:
                counts[t] = int(scalar(con, f"SELECT count(*) FROM {t}"))  # noqa: S608
            counts["runs"] = int(scalar(con, "SELECT count(*) FROM runs WHERE kind = 'scrape'"))
    days = {}
    if out.exists():
        for d in sorted(out.iterdir()):
            if d.is_dir() and not d.name.startswith(".") and d.name != "latest":
                days[d.name] = {f.name for f in d.iterdir()}
    return State(counts["scrape_runs"], counts["runs"], counts["gpu_quotes"], counts["token_prices"],
                 counts["index_values"], days)


def check(state: State, full: State, out: Path, pub: Path) -> list[str]:
    """Problems with a state left by a kill, against one completed run's state ``full``.

    Runs before the kill may have completed (a chain of kills on one database): each scrape
    run adds the same scrape_runs rows and a runs row, and its quotes are the same rows
    (same keys), so a whole run leaves (k x runs rows, k runs, all quotes) and a partial one
    anything else.
    """
    problems = []
    per_run = full.scrape_runs // full.runs
    k = state.runs
    rows = (state.gpu_quotes, state.token_prices)
    whole = (full.gpu_quotes, full.token_prices) if k else (0, 0)
    if state.scrape_runs != k * per_run or rows != whole:
        problems.append(f"partial scrape run: {k} runs, {state.scrape_runs} scrape_runs rows (whole: "
                        f"{per_run} per run), quotes {rows} (whole: {whole})")
    return problems + check_days(state, full, out, pub)


def check_days(state: State, full: State, out: Path, pub: Path) -> list[str]:
    problems = []
    for day, files in state.days.items():
        if files != full.days[day]:
            problems.append(f"day {day} incomplete: {sorted(full.days[day] - files)} missing")
            continue
        try:
            jobs.verify_report(out / day / "indices.json", pub, None)
        except Exception as exc:  # noqa: BLE001 - any failure is the finding
            problems.append(f"day {day} does not verify: {exc}")
    return problems


def keypair(directory: Path) -> tuple[Path, Path]:
    """The publisher's key pair (``oracle.keygen``, what ``spotindex keygen`` runs), made in this process."""
    return oracle.keygen(directory / "k")


def full_run(work: Path, key: Path) -> tuple[State, float]:
    db, out = work / "full.duckdb", work / "full_out"
    t0 = time.monotonic()
    p = subprocess.run(run_cmd(db, out, key), env=env(), capture_output=True, text=True, cwd=REPO)
    elapsed = time.monotonic() - t0
    assert p.returncode == 0, p.stderr[-2000:]
    return read_state(db, out), elapsed


@dataclass
class Trial:
    delay: float
    phase: str
    problems: list[str]


@dataclass
class Chain:
    trials: list[Trial]
    rerun_ok: bool
    rerun_problem: str


def chain(work: Path, c: int, delays: list[float], key: Path, pub: Path, full: State) -> Chain:
    """Kill a run on one database after each delay in turn, checking what each kill left, then
    let a last run finish and check that it completed everything."""
    db, out = work / f"c{c}.duckdb", work / f"c{c}_out"
    trials = []
    for delay in delays:
        proc = subprocess.Popen(run_cmd(db, out, key), env=env(), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, cwd=REPO)
        time.sleep(delay)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        try:
            state = read_state(db, out)
        except Exception as exc:  # noqa: BLE001 - a database that does not open is the finding
            trials.append(Trial(delay, "unreadable", [f"database does not open: {exc}"]))
            continue
        trials.append(Trial(delay, state.phase, check(state, full, out, pub)))
    p = subprocess.run(run_cmd(db, out, key), env=env(), capture_output=True, text=True, cwd=REPO)
    problem = f"rc={p.returncode} {p.stderr[-500:]}" if p.returncode else ""
    if not problem:
        after = read_state(db, out)
        problems = check(after, full, out, pub)
        if (after.gpu_quotes, after.token_prices) != (full.gpu_quotes, full.token_prices) or set(after.days) != set(
                full.days):
            problems.append(f"incomplete after the re-run: {after}")
        problem = "; ".join(problems)
    for f in [db, db.with_name(db.name + ".wal")]:
        f.unlink(missing_ok=True)
    return Chain(trials, not problem, problem)


def trials(work: Path, n: int, per_chain: int = 5, seed: int = 20261120) -> tuple[list[Chain], float]:
    global DATA
    DATA = fast_data_dir(work) if chosen_sources() else None
    key, pub = keypair(work)
    full, elapsed = full_run(work, key)
    rng = random.Random(seed)
    # each kill lands anywhere from start-up to the end of a run (the run's own measured length),
    # stratified: the k-th of n in the k-th n-th of the run, so few trials still cover every phase
    delays = [0.3 + (elapsed - 0.3) * (k + rng.random()) / n for k in range(n)]
    rng.shuffle(delays)
    chunks = [delays[i:i + per_chain] for i in range(0, n, per_chain)]
    return [chain(work, c, d, key, pub, full) for c, d in enumerate(chunks)], elapsed


def main() -> None:
    import tempfile

    n = int(os.environ.get("SPOTINDEX_CRASH_TRIALS", "50"))
    with tempfile.TemporaryDirectory() as d:
        chains, elapsed = trials(Path(d), n)
    results = [t for c in chains for t in c.trials]
    phases = Counter(t.phase for t in results)
    bad = [t for t in results if t.problems]
    srcs = (f"{','.join(chosen_sources())}; series {','.join(FAST_SERIES)}" if chosen_sources()
            else "all sources, all series")
    print(f"{n} kill -9 trials in {len(chains)} chains ({srcs}); an uninterrupted run took {elapsed:.1f} s")
    print("state at the kill: " + ", ".join(f"{k} {v}" for k, v in sorted(phases.items())))
    print(f"consistent after the kill: {n - len(bad)}/{n}; "
          f"re-run completed: {sum(c.rerun_ok for c in chains)}/{len(chains)} chains")
    for t in bad:
        print(f"  delay {t.delay:.2f}s ({t.phase}): {'; '.join(t.problems)}")
    for c in chains:
        if not c.rerun_ok:
            print(f"  re-run failed: {c.rerun_problem}")
    if bad or not all(c.rerun_ok for c in chains):
        sys.exit(1)


if __name__ == "__main__":
    main()
