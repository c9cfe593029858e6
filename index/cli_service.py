"""Commands of the publication service: ``daemon``, ``status``, ``export``, ``serve``."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from index import analyst, schedule
from index.cli import DEFAULT_DB, DbOpt, ReplayOpt, SourceOpt, app, out
from index.errors import SpotindexError
from index.store import Store

OutOpt = Annotated[Path, typer.Option("--out", help="Publication directory.")]


@app.command()
def daemon(
    db: DbOpt = DEFAULT_DB,
    out_dir: OutOpt = Path("publish"),
    replay: ReplayOpt = None,
    source: SourceOpt = None,
    tick: Annotated[float | None, typer.Option(
        "--tick", help="Run every job every TICK seconds instead of the hourly/daily UTC times (tests, demos).",
        min=0.05)] = None,
    scrape_minute: Annotated[int, typer.Option(help="Minute past each hour of the scrape.", min=0, max=59)] = 5,
    fixings_minute: Annotated[int, typer.Option(help="Minute past each hour of the fixings.", min=0, max=59)] = 10,
    publish_at: Annotated[str, typer.Option(help="UTC time HH:MM of the daily publication of the previous "
                                                 "day.")] = "00:30",
    replay_step: Annotated[float, typer.Option(
        help="With --replay: hours the replay clock advances per scrape tick.", min=0.25, max=24)] = 1.0,
    stop_when_done: Annotated[bool, typer.Option(
        "--stop-when-done", help="With --replay: stop once the snapshot is loaded and its last day published.")
    ] = False,
) -> None:
    """Run the service: hourly scrape and fixings, daily publication, catch-up on start; SIGTERM stops it."""
    try:
        hh, mm = (int(x) for x in publish_at.split(":"))
        if not (0 <= hh < 24 and 0 <= mm < 60):
            raise ValueError
    except ValueError:
        raise SpotindexError(f"--publish-at '{publish_at}' is not a UTC time HH:MM") from None
    if stop_when_done and replay is None:
        raise SpotindexError("--stop-when-done needs --replay (a live daemon runs until it is stopped)")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # with --tick, jobs often outlast the tick and APScheduler says so on every skip: keep errors only
    logging.getLogger("apscheduler").setLevel(logging.ERROR if tick else logging.WARNING)
    config = schedule.ScheduleConfig(scrape_minute=scrape_minute, fixings_minute=fixings_minute, publish_hour=hh,
                                     publish_minute=mm, tick_seconds=tick)
    d = schedule.Daemon(Store(db), out_dir, sources=source, replay_dir=replay, config=config,
                        replay_step=timedelta(hours=replay_step), stop_when_done=stop_when_done)
    d.serve_forever()


def _ago(t: datetime | None, now: datetime) -> str:
    if t is None:
        return "never"
    s = int((now - t).total_seconds())
    span = f"{s}s" if abs(s) < 120 else f"{s // 60}m" if abs(s) < 7200 else f"{s // 3600}h{(s % 3600) // 60:02d}m"
    return f"{t.astimezone(UTC):%Y-%m-%d %H:%M:%S}Z ({span} ago)"


@app.command()
def status(db: DbOpt = DEFAULT_DB) -> None:
    """Is the daemon running; each job's last run and next run; each source's last status."""
    now = datetime.now(UTC)
    pid = schedule.daemon_running(db)
    state = schedule.read_state(db) if pid else None
    if pid:
        mode = f"replay {state['replay']}" if state and state.get("replay") else "live"
        out.print(f"daemon: running, PID {pid} ({mode}), since {state['started_at'] if state else '?'}")
        nxt = {k: datetime.fromisoformat(v) if v else None for k, v in (state or {}).get("next_run", {}).items()}
    else:
        out.print("daemon: not running (start it with 'spotindex daemon'); next runs below are what a daemon "
                  "started now would do")
        nxt = schedule.next_runs(schedule.ScheduleConfig(), now)
    if not db.exists():
        raise SpotindexError(f"database {db} does not exist: run 'spotindex run' or 'spotindex daemon' first")
    store = Store(db)
    jobs_df = store.frame("SELECT * FROM job_status ORDER BY job")
    t = Table(title="jobs")
    for col in ("job", "last run", "status", "finished", "last ok", "runs", "failed", "interrupted", "next run",
                "last error"):
        t.add_column(col)
    by_job = {r["job"]: r for r in jobs_df.iter_rows(named=True)}
    for job in schedule.JOBS:
        r = by_job.get(job, {})
        n = nxt.get(job)
        t.add_row(job, _ago(r.get("last_started_at"), now), r.get("last_status") or "-",
                  _ago(r.get("last_finished_at"), now) if r else "-", _ago(r.get("last_ok_at"), now) if r else "-",
                  str(r.get("runs", 0)), str(r.get("failed_runs", 0)), str(r.get("interrupted_runs", 0)),
                  f"{n.astimezone(UTC):%Y-%m-%d %H:%M:%S}Z" if n else "-", (r.get("last_error") or "")[:80])
    out.print(t)
    health = store.frame("SELECT * FROM source_health ORDER BY source")
    s = Table(title="sources")
    for col in ("source", "last observed", "last status", "rows", "quarantined", "failed runs", "runs",
                "last error"):
        s.add_column(col)
    for r in health.iter_rows(named=True):
        s.add_row(r["source"], _ago(r["last_observed_at"], now), r["last_status"], str(r["last_rows_loaded"]),
                  str(r["last_rows_quarantined"]), str(r["failed_runs"]), str(r["runs"]), (r["last_error"] or "")[:80])
    out.print(s)
    pubs = store.frame("SELECT date, max(published_at) AS at, count(*) AS n FROM publications GROUP BY date "
                       "ORDER BY date DESC LIMIT 1")
    if pubs.height:
        r = pubs.row(0, named=True)
        out.print(f"last publication: {r['date']} at {_ago(r['at'], now)}")
    else:
        out.print("last publication: none yet")
    snap = analyst.analyst_path(db)
    age = analyst.snapshot_age(snap)
    out.print(f"analyst snapshot: {snap} " + (f"(replaced {timedelta(seconds=int(age))} ago)" if age is not None
                                              else "(not written yet)"))


@app.command()
def export(
    directory: Annotated[Path, typer.Argument(help="Output directory (one folder per table).")],
    db: DbOpt = DEFAULT_DB,
    fmt: Annotated[str, typer.Option("--format", help="Output format (parquet).")] = "parquet",
    table: Annotated[list[str] | None, typer.Option("--table", help="Only these tables (repeatable).")] = None,
) -> None:
    """Write the store as hive-partitioned Parquet: DIR/<table>/date=YYYY-MM-DD/."""
    from index import export as export_mod

    counts = export_mod.export(db, directory, fmt, table)
    for name, n in counts.items():
        out.print(f"{name}: {n} rows -> {directory / name}/")


@app.command()
def serve(
    db: DbOpt = DEFAULT_DB,
    snapshot: Annotated[Path | None, typer.Option(help="Database to read (default: the analyst snapshot beside "
                                                       "--db).")] = None,
    out_dir: OutOpt = Path("publish"),
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.", min=1, max=65535)] = 8000,
    stale_after_hours: Annotated[float, typer.Option(help="Flag answers stale when the latest publication is "
                                                          "older than this.", min=0.0)] = 26.0,
) -> None:
    """Serve the read-only HTTP API (OpenAPI at /docs and /openapi.json)."""
    import uvicorn

    from index.api import create_app

    path = snapshot or analyst.analyst_path(db)
    if not path.exists():
        raise SpotindexError(f"{path} does not exist: run 'spotindex publish' (or the daemon) to write the analyst "
                             "snapshot, or pass --snapshot")
    uvicorn.run(create_app(path, out_dir, timedelta(hours=stale_after_hours)), host=host, port=port)
