"""``make profile``: where the benchmark's unmet targets spend their time (issue #7 asks for a profile).

Run as ``python -m index.bench_profile [--db PATH] [--days 59] [--ingest-rows 3000000] [--out PROFILE.md]``
on the database ``make bench`` simulated. Two workloads, each profiled two ways:

- the recompute (bench part 1 on the first ``--days`` days: read, ``pipeline.run_days`` by month,
  ``Prior.advance``) and the bulk quote load (``Store.bulk_insert_gpu_quotes`` of ``--ingest-rows``
  simulated rows into a fresh store, the path of bench part 4b);
- **pyinstrument** in this process: the Python calls and how long each took (polars and DuckDB
  run their work in native threads, so a Python profiler sees the call that waits for them);
- **perf** (Linux ``perf record``, when installed: ``apt install linux-perf``) on a child process
  doing the same work: every thread's native self-time, the polars and DuckDB internals
  included, grouped into categories (``CATEGORIES``) and the top symbols.

The result is written to ``--out`` with the machine and the commands, so the figures quoted in
BENCHMARKS.md's notes can be reproduced.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from index import bench, simulate
from index.store import Store

# (category, dso pattern, symbol pattern): the first that matches a sample's dso and symbol wins
CATEGORIES: list[tuple[str, str, str]] = [
    ("kernel: page faults, memory management, scheduling", r"^\[kernel", r""),
    ("memory copy (memmove/memcpy)", r"", r"mem(move|cpy)"),
    ("byte comparison (memcmp: string and row-encoded keys)", r"", r"memcmp"),
    ("SHA-256 (OpenSSL: the inputs hash)", r"libcrypto", r""),
    ("locks (pthread mutex)", r"libc|libpthread", r"pthread_mutex|lll_lock|futex"),
    ("DuckDB: ART index (the primary key)", r"duckdb",
     r"duckdb::(ART|Node|Prefix|Leaf|FixedSize|BoundIndex|IndexStorage|Iterator)\w*|ARTKey|ARTOperator"),
    ("DuckDB: string storage and compression (FSST, dictionary)", r"duckdb",
     r"(?i)fsst|Dict\w*Compress|StringStorage|StringAppend|Compress"),
    ("DuckDB: other", r"duckdb", r""),
    ("polars: hashing and group-by", r"polars",
     r"group_?by|Grouper|hash_keys|HashKeys|hashbrown|key_rows|BytesHash|hot_groups|RawTable|hashing"),
    ("polars: sorting", r"polars", r"sort|merge"),
    ("polars: datetime and number formatting", r"polars", r"chrono|fmt|Display|zmij|to_string|format|itoa|ryu"),
    ("polars: categorical encoding", r"polars", r"Categorical"),
    ("polars: median and quantiles", r"polars", r"quantile|select_nth|median"),
    ("polars: gather, filter, concatenate, cast", r"polars", r"gather|take_|filter|concat|extend|cast|push_value"),
    ("polars: other", r"polars", r""),
    ("Python interpreter", r"libpython|python3", r""),
    ("other (libc, numpy and other libraries)", r"", r""),
]

# functions whose inclusive share (themselves and what they call) the bulk load's call-graph
# profile reports: where DuckDB's insert spends its time
INGEST_FUNCTIONS: list[tuple[str, str]] = [
    ("duckdb::ART::Append", "primary key: ART inserts at commit (LocalStorage::LocalMerge, one thread)"),
    ("duckdb::RowGroup::WriteToDisk", "row groups written to the file (compression included)"),
    ("duckdb::dict_fsst::DictFSSTCompressionState::Compress", "string compression (dictionary + FSST)"),
    ("<polars_core::series::Series>::to_arrow", "polars frame -> Arrow (string views to offsets)"),
    ("duckdb::ArrowBatchImporter::Next", "DuckDB reading the Arrow frame"),
]

_PERF_LINE = re.compile(r"^\s*([\d.]+)%\s+(\S+)\s+\[(.)\]\s+(.*?)\s*$")
_CHILDREN_LINE = re.compile(r"^\s*([\d.]+)%\s+([\d.]+)%\s+\[(.)\]\s+(.*?)\s*$")


@dataclass(frozen=True)
class Sample:
    """One line of ``perf report --sort dso,sym``: a symbol's share of all samples."""

    percent: float
    dso: str
    symbol: str


def parse_perf_report(text: str) -> list[Sample]:
    """The (percent, dso, symbol) rows of ``perf report --no-children --sort dso,sym --stdio``."""
    out = []
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        m = _PERF_LINE.match(line)
        if m:
            out.append(Sample(float(m.group(1)), m.group(2), m.group(4)))
    return out


def inclusive_shares(text: str, functions: Sequence[str]) -> dict[str, float]:
    """Each named function's inclusive share of samples, from ``perf report --children --sort sym
    -g none`` (0.0 for a function not sampled)."""
    found: dict[str, float] = {}
    for line in text.splitlines():
        m = _CHILDREN_LINE.match(line)
        if m and m.group(4) in functions:
            found[m.group(4)] = max(found.get(m.group(4), 0.0), float(m.group(1)))
    return {f: found.get(f, 0.0) for f in functions}


def category(s: Sample) -> str:
    for name, dso_re, sym_re in CATEGORIES:
        if (not dso_re or re.search(dso_re, s.dso)) and (not sym_re or re.search(sym_re, s.symbol)):
            return name
    return CATEGORIES[-1][0]


def by_category(samples: Sequence[Sample]) -> list[tuple[str, float]]:
    """Share of samples per category, largest first (categories with no sample left out)."""
    totals: dict[str, float] = {}
    for s in samples:
        totals[category(s)] = totals.get(category(s), 0.0) + s.percent
    return sorted(totals.items(), key=lambda kv: -kv[1])


def short_symbol(symbol: str, width: int = 110) -> str:
    """A Rust or C++ symbol with generic arguments nested two deep or more left out, cut to ``width``
    (``<polars::RawTable<str, u32>>::insert::<F>`` -> ``<polars::RawTable<>>::insert::<F>``)."""
    out, depth = [], 0
    for ch in symbol:
        if ch == "<":
            depth += 1
            if depth <= 2:
                out.append(ch)
        elif ch == ">":
            if depth <= 2:
                out.append(ch)
            depth = max(depth - 1, 0)
        elif depth <= 1:
            out.append(ch)
    text = re.sub(r"::\{closure#\d+\}", "::{closure}", "".join(out)).replace("|", "/")
    return text if len(text) <= width else text[:width - 3] + "..."


# ---- the two workloads ------------------------------------------------------------------------

def recompute(db: Path, days: int, series: int = 10) -> dict[str, Any]:
    """Bench part 1 on the first ``days`` days (same code path)."""
    defs = simulate.benchmark_definitions(series)
    t0 = time.perf_counter()
    fx, rows = bench.spotindex_recompute(Store(db), defs, bench.START, bench.START + timedelta(days=days))
    return {"rows": rows, "fixings": fx.height, "wall": time.perf_counter() - t0}


def ingest_frame(rows: int, path: Path) -> None:
    """``rows`` simulated quotes written to parquet (made once, outside the profiled load)."""
    bench.simulated_rows(rows).write_parquet(path)


def bulk_load(frame_path: Path, workdir: Path) -> dict[str, Any]:
    """Bench part 4b: the frame bulk-loaded into a fresh store in one transaction."""
    frame = pl.read_parquet(frame_path)
    db = workdir / "ingest-profile.duckdb"
    db.unlink(missing_ok=True)
    store = Store(db)
    store.init()
    t0 = time.perf_counter()
    with store.write() as con:
        added = store.bulk_insert_gpu_quotes(con, frame)
    wall = time.perf_counter() - t0
    db.unlink(missing_ok=True)
    return {"rows": frame.height, "added": added, "wall": wall}


# ---- profilers --------------------------------------------------------------------------------

def pyinstrument_text(fn: Any, *args: Any) -> tuple[dict[str, Any], str]:
    """Run ``fn(*args)`` under pyinstrument; its call tree (frames of 2% or more of the time)."""
    from pyinstrument import Profiler

    prof = Profiler(interval=0.002)
    prof.start()
    try:
        res = fn(*args)
    finally:
        prof.stop()
    text = prof.output_text(unicode=False, color=False, processor_options={"filter_threshold": 0.02})
    return res, text


def perf_record(cmd: list[str], workdir: Path, name: str, call_graph: bool = False
                ) -> tuple[list[Sample], str]:
    """Native self-time of ``cmd`` over all its threads (``perf record``); with ``call_graph``
    also the ``--children`` report (inclusive shares, from DWARF call graphs)."""
    data = workdir / f"{name}.perf.data"
    rec = ["perf", "record", "-o", str(data)] + (["-F", "199", "--call-graph", "dwarf,8192"] if call_graph
                                                 else ["-F", "499"])
    subprocess.run([*rec, "--", *cmd], check=True, capture_output=True, text=True)
    base = ["perf", "report", "-i", str(data), "--sort", "dso,sym", "--stdio", "--percent-limit", "0.05"]
    rep = subprocess.run([*base, "--no-children", "-g", "none"], check=True, capture_output=True, text=True)
    children = ""
    if call_graph:
        children = subprocess.run(["perf", "report", "-i", str(data), "--children", "--sort", "sym", "--stdio",
                                   "-g", "none"], check=True, capture_output=True, text=True).stdout
    data.unlink(missing_ok=True)
    return parse_perf_report(rep.stdout), children


def perf_section(samples: Sequence[Sample], top: int = 15) -> list[str]:
    lines = ["| category | share of samples |", "|---|---:|"]
    lines += [f"| {name} | {pct:.1f}% |" for name, pct in by_category(samples)]
    lines += ["", f"Top {top} symbols (self time):", "", "| share | library | symbol |", "|---:|---|---|"]
    for s in sorted(samples, key=lambda s: -s.percent)[:top]:
        lines.append(f"| {s.percent:.2f}% | {s.dso} | `{short_symbol(s.symbol)}` |")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m index.bench_profile")
    ap.add_argument("mode", nargs="?", default="all", choices=["all", "child-recompute", "child-ingest"])
    ap.add_argument("--db", default="data/bench.duckdb")
    ap.add_argument("--days", type=int, default=59, help="recompute the first N days (two months by default)")
    ap.add_argument("--ingest-rows", type=int, default=3_000_000)
    ap.add_argument("--frame", default="")
    ap.add_argument("--workdir", default="")
    ap.add_argument("--out", default="PROFILE.md")
    args = ap.parse_args(argv)
    if args.mode == "child-recompute":
        print(recompute(Path(args.db), args.days))
        return 0
    if args.mode == "child-ingest":
        print(bulk_load(Path(args.frame), Path(args.workdir)))
        return 0
    db = Path(args.db)
    if not db.exists():
        print(f"error: {db} does not exist: run 'make bench' first (it simulates the market into it)",
              file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="spotindex-profile-"))
    frame = work / "ingest.parquet"
    ingest_frame(args.ingest_rows, frame)
    me = [sys.executable, "-m", "index.bench_profile"]
    rec_cmd = [*me, "child-recompute", "--db", str(db), "--days", str(args.days)]
    ing_cmd = [*me, "child-ingest", "--frame", str(frame), "--workdir", str(work)]
    m = bench.machine()
    out = [
        "# Profiles",
        "",
        f"Written by `make profile` (`python -m index.bench_profile`) on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: "
        f"{m['cores']} cores ({m['cpu']}), {m['memory_gb']} GB; Python {m['python']}, polars {m['polars']}, "
        f"DuckDB {m['duckdb']}. Workloads: the recompute of bench part 1 on the first {args.days} days of "
        f"`{db}`, and the bulk load of bench part 4b on {args.ingest_rows:,} simulated rows into a fresh store. "
        "How the profiles are taken: the docstring of `index/bench_profile.py`.",
        "",
    ]
    print(f"pyinstrument: recompute of {args.days} days ...", flush=True)
    rec, rec_tree = pyinstrument_text(recompute, db, args.days)
    print(f"pyinstrument: bulk load of {args.ingest_rows:,} rows ...", flush=True)
    ing, ing_tree = pyinstrument_text(bulk_load, frame, work)
    for title, res, tree in ((f"Recompute, {args.days} days", rec, rec_tree), ("Bulk load", ing, ing_tree)):
        out += [f"## {title}: pyinstrument (Python calls)", "",
                f"{res['rows']:,} rows in {res['wall']:.1f} s ({res['rows'] / res['wall']:,.0f} rows/s).", "",
                "```", tree.strip(), "```", ""]
    if shutil.which("perf") is None:
        out += ["## Native profiles", "", "`perf` is not installed on this machine, so there is no native profile "
                "(on Debian: `apt install linux-perf`).", ""]
    else:
        for title, cmd, name in ((f"Recompute, {args.days} days", rec_cmd, "recompute"),
                                 ("Bulk load", ing_cmd, "ingest")):
            print(f"perf: {name} ...", flush=True)
            graph = name == "ingest"
            try:
                samples, children = perf_record(cmd, work, name, call_graph=graph)
            except subprocess.CalledProcessError as e:
                out += [f"## {title}: perf (native, all threads)", "",
                        f"`perf record` failed (exit {e.returncode}): {(e.stderr or '').strip()[-300:]}", ""]
                continue
            how = "-F 199 --call-graph dwarf" if graph else "-F 499"
            out += [f"## {title}: perf (native, all threads)", "", f"`perf record {how} -- python -m "
                    f"index.bench_profile child-{name} ...`: self time by category, over every thread of the child "
                    "process (which also starts Python and reads its input).", ""]
            out += perf_section(samples)
            if graph:
                out += ["", "Inclusive shares (the function and everything it calls), from the call graphs:", "",
                        "| share of samples | function | what it is |", "|---:|---|---|"]
                shares = inclusive_shares(children, [f for f, _ in INGEST_FUNCTIONS])
                out += [f"| {shares[f]:.1f}% | `{f}` | {what} |" for f, what in INGEST_FUNCTIONS]
            out.append("")
    text = "\n".join(out)
    Path(args.out).write_text(text)
    print(text)
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
