"""The daemon: hourly scrape, hourly fixings, daily publication, catch-up after downtime.

``spotindex daemon`` is one process around an APScheduler 3 ``BackgroundScheduler`` with a
single worker thread, so jobs never overlap (the store has one writer at a time anyway):

| job | when (UTC) | misfire grace | what |
|---|---|---|---|
| ``scrape`` | every hour at HH:05 | 50 min | every enabled source, stored in one transaction |
| ``fixings`` | every hour at HH:10 | 50 min | fixings up to HH:00 of today (and yesterday); no daily value |
| ``publish`` | every day at 00:30 | 23 h | every complete day not yet published: compute, publish, switch ``latest/`` |

All jobs have ``coalesce=True`` and ``max_instances=1``: after a stall, one run, not a burst.

**Catch-up.** On start the daemon cleans what a killed publication left in the publication
directory, marks job runs of a dead daemon ``interrupted``, scrapes at once if this hour's
scrape was missed (killed, or down at HH:05) and its grace has not run out, then runs the
fixings and publication jobs: every day with observations that is complete and not yet published
is computed and published. Scrapes that were missed are not invented: those hours have no
quotes and the methodology's sufficiency rules decide the status.

**Crash safety.** Each store write is one transaction and the day directory is renamed into
place, so a ``SIGKILL`` at any point leaves either the old state or the new one; whatever was
not finished (publication) is redone by the catch-up. ``SIGTERM``/``SIGINT`` stop the daemon
between jobs: a running job finishes, no queued job starts.

**Replay.** With ``--replay DIR`` the scrape reads a recorded snapshot and time is the
*replay clock*: each scrape tick advances it by ``replay_step`` (one hour) from the first
capture and loads the captures at or before it; fixings and publication run at the replay
clock's time. The clock is the ``data_time`` of the last successful scrape in ``job_runs``, so
a restarted daemon resumes where it stopped. With ``tick_seconds`` every job runs on a short
interval instead of the cron times (tests, demos); ``stop_when_done`` stops the daemon once
the snapshot is loaded and its last day is published.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import signal
import threading
import traceback
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from index import analyst, artefacts, jobs, replay, scrape
from index.errors import SpotindexError
from index.store import Store, ex, scalar

log = logging.getLogger("spotindex.daemon")
JOBS = ("scrape", "fixings", "publish")


@dataclass
class ScheduleConfig:
    """When the jobs run. Cron times are UTC; ``tick_seconds`` replaces them by a short interval."""

    scrape_minute: int = 5
    fixings_minute: int = 10
    publish_hour: int = 0
    publish_minute: int = 30
    misfire_grace: dict[str, int] = field(default_factory=lambda: {"scrape": 50 * 60, "fixings": 50 * 60,
                                                                    "publish": 23 * 3600})
    tick_seconds: float | None = None

    @property
    def publish_offset(self) -> timedelta:
        """How long after midnight UTC the previous day is published."""
        return timedelta(hours=self.publish_hour, minutes=self.publish_minute)

    def triggers(self, start: datetime) -> dict[str, Any]:
        if self.tick_seconds:
            t = self.tick_seconds
            return {job: IntervalTrigger(seconds=t, start_date=start + timedelta(seconds=t * (1 + i) / 3),
                                         timezone=UTC) for i, job in enumerate(JOBS)}
        return {
            "scrape": CronTrigger(minute=self.scrape_minute, timezone=UTC),
            "fixings": CronTrigger(minute=self.fixings_minute, timezone=UTC),
            "publish": CronTrigger(hour=self.publish_hour, minute=self.publish_minute, timezone=UTC),
        }

    def grace(self, job: str) -> int:
        return 60 if self.tick_seconds else self.misfire_grace[job]


def state_path(db: Path) -> Path:
    """``data/spotindex.duckdb`` -> ``data/spotindex.daemon.json`` (what ``status`` reads)."""
    return db.with_suffix(".daemon.json")


def lock_path(db: Path) -> Path:
    return db.with_suffix(".daemon.lock")


def floor_hour(t: datetime) -> datetime:
    return t.replace(minute=0, second=0, microsecond=0)


def due_days(first: date, now: datetime, offset: timedelta) -> list[date]:
    """Days from ``first`` whose publication time (next midnight + offset) is at or before ``now``."""
    last = (now - offset).date() - timedelta(days=1)
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


# ---- job_runs -------------------------------------------------------------------------------------

def start_run(store: Store, job: str, data_time: datetime | None) -> str:
    run_id = f"{job}-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
    with store.write() as con:
        ex(con, "INSERT INTO job_runs (run_id, job, started_at, status, data_time, pid) VALUES (?, ?, ?, ?, ?, ?)",
           [run_id, job, datetime.now(UTC), "running", data_time, os.getpid()])
    return run_id


def finish_run(store: Store, run_id: str, status: str, detail: dict[str, Any] | None = None,
               error: str | None = None, data_time: datetime | None = None) -> None:
    with store.write() as con:
        ex(con, "UPDATE job_runs SET finished_at = ?, status = ?, detail = ?, error = ?, "
                "data_time = coalesce(?, data_time) WHERE run_id = ?",
           [datetime.now(UTC), status, json.dumps(detail or {}, default=str), error, data_time, run_id])


def mark_interrupted(store: Store) -> int:
    """Runs left 'running' by a daemon that is gone (the daemon lock guarantees it is gone)."""
    with store.write() as con:
        n = int(scalar(con, "SELECT count(*) FROM job_runs WHERE status = 'running'"))
        ex(con, "UPDATE job_runs SET status = 'interrupted', error = 'the daemon stopped during this job "
                "(killed or crashed); redone by the catch-up on restart' WHERE status = 'running'")
    return n


# ---- the daemon ------------------------------------------------------------------------------------

@dataclass
class Daemon:
    store: Store
    out_dir: Path
    sources: list[str] | None = None
    replay_dir: Path | None = None
    config: ScheduleConfig = field(default_factory=ScheduleConfig)
    replay_step: timedelta = timedelta(hours=1)
    stop_when_done: bool = False
    now_fn: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self._snapshot = replay.load(self.replay_dir) if self.replay_dir is not None else None
        self._scheduler: BackgroundScheduler | None = None
        self._started_at = datetime.now(UTC)

    # -- time --
    @property
    def dataset(self) -> str | None:
        return self._snapshot.label if self._snapshot else None

    def now(self) -> datetime | None:
        """Wall time live; in replay, the replay clock (None before the first scrape)."""
        if self._snapshot is None:
            return self.now_fn()
        df = self.store.frame("SELECT max(data_time) AS t FROM job_runs WHERE job = 'scrape' AND status = 'ok' "
                              "AND detail->>'dataset' = ?", [self.dataset])
        t = df["t"][0]
        return t.astimezone(UTC) if t is not None else None

    # -- jobs (each returns a detail dict and its data time) --
    def scrape_job(self) -> tuple[dict[str, Any], datetime | None]:
        if self._snapshot is None:
            result = jobs.run_scrape(self.store, None, self.sources)
            return ({"run_id": result.run_id, **result.totals,
                     "sources": {o.source: o.status for o in result.outcomes}}, self.now_fn())
        snap = self._snapshot
        prev = self.now()
        clock = snap.captures[0].captured_at if prev is None else prev + self.replay_step
        loaded = set(self.store.frame("SELECT DISTINCT observed_at FROM scrape_runs WHERE dataset = ?",
                                      [snap.label])["observed_at"].to_list())
        loaded = {t.astimezone(UTC) for t in loaded}
        due = [c for c in snap.captures if c.captured_at <= clock and c.captured_at not in loaded]
        detail: dict[str, Any] = {"dataset": snap.label, "captures": [c.captured_at for c in due]}
        if due:
            chosen = jobs.select_sources(self.sources)
            part = replay.Snapshot(snap.path, snap.name, due)
            outcomes = jobs.screen_outcomes(self.store, [o for rnd in scrape.scrape_replay(chosen, part) for o in rnd])
            run_id = scrape.new_run_id("scrape")
            detail.update(self.store.write_scrape(run_id, datetime.now(UTC), snap.label, outcomes))
            detail["run_id"] = run_id
            detail["sources"] = {o.source: o.status for o in outcomes}
        return detail, clock

    def fixings_job(self) -> tuple[dict[str, Any], datetime | None]:
        now = self.now()
        if now is None:
            return {"skipped": "no scrape yet"}, None
        until = floor_hour(now)
        back = max(self.replay_step if self._snapshot else timedelta(0), timedelta(hours=1))
        first = (until - back).date()
        days = [first + timedelta(days=i) for i in range((until.date() - first).days + 1)]
        totals = jobs.compute_days(self.store, days, until=until)
        return {"until": until, **totals}, now

    def publish_job(self) -> tuple[dict[str, Any], datetime | None]:
        now = self.now()
        if now is None:
            return {"skipped": "no scrape yet"}, None
        detail = self.publish_due(now)
        if self.stop_when_done and self._replay_done(now):
            log.info("replay finished and its last day is published: stopping")
            self.stop.set()
        return detail, now

    def publish_due(self, now: datetime) -> dict[str, Any]:
        """Compute and publish every complete day not yet published (the catch-up)."""
        observed = self.store.observed_dates()
        if not observed:
            return {"published": [], "skipped": []}
        published = set(self.store.frame("SELECT DISTINCT date FROM publications")["date"].to_list())
        todo = [d for d in due_days(observed[0], now, self.config.publish_offset)
                if not (d in published and artefacts.is_published(self.out_dir, d))]
        done, skipped = [], []
        for day in todo:
            if self.stop.is_set():
                break
            log.info("publishing %s", day)
            jobs.compute_days(self.store, [day])
            try:
                jobs.publish_day(self.store, day, self.out_dir, refresh_analyst=False)
            except SpotindexError as exc:  # nothing computed for a day without inputs
                skipped.append({"date": day, "reason": str(exc)})
                continue
            done.append(day)
        if done:
            analyst.refresh(self.store.path, retry_seconds=self.store.retry_seconds)
        return {"published": done, "skipped": skipped}

    def _replay_done(self, now: datetime) -> bool:
        assert self._snapshot is not None
        last = self._snapshot.captures[-1].captured_at
        if now < last:
            return False
        final_day = last.date()
        return bool(now >= datetime(final_day.year, final_day.month, final_day.day, tzinfo=UTC)
                    + timedelta(days=1) + self.config.publish_offset and artefacts.is_published(self.out_dir,
                                                                                                final_day))

    def run_job(self, job: str) -> None:
        """Run one job with its job_runs record; errors are recorded and logged, never raised."""
        if self.stop.is_set():
            return
        fn = {"scrape": self.scrape_job, "fixings": self.fixings_job, "publish": self.publish_job}[job]
        try:
            run_id = start_run(self.store, job, None)
        except SpotindexError as exc:
            log.error("job %s not started: %s", job, exc)
            return
        log.info("job %s started", job)
        try:
            detail, data_time = fn()
        except SpotindexError as exc:
            finish_run(self.store, run_id, "failed", error=str(exc))
            log.error("job %s failed: %s", job, exc)
            return
        except Exception as exc:
            finish_run(self.store, run_id, "failed", error=f"{type(exc).__name__}: {exc}")
            log.error("job %s failed with an unexpected error:\n%s", job, traceback.format_exc())
            return
        if self.dataset:
            detail.setdefault("dataset", self.dataset)
        finish_run(self.store, run_id, "ok", detail, data_time=data_time)
        log.info("job %s ok: %s", job, json.dumps(detail, default=str)[:300])

    def repair(self) -> None:
        """Before any job: clean what a killed run left (temp dirs, 'running' rows, latest/, snapshot)."""
        for line in artefacts.recover(self.out_dir):
            log.warning("publication directory: %s", line)
        n = mark_interrupted(self.store)
        if n:
            log.warning("%d job run(s) of a previous daemon were interrupted; redoing them", n)
        published = [d for d in self.store.frame("SELECT DISTINCT date FROM publications ORDER BY date")["date"]
                     .to_list() if artefacts.is_published(self.out_dir, d)]
        if published:  # a kill between publication and the switch left latest/ behind
            artefacts.switch_latest(self.out_dir, published[-1])
            if not analyst.analyst_path(self.store.path).exists():
                analyst.refresh(self.store.path, retry_seconds=self.store.retry_seconds)

    def scrape_due_on_start(self, now: datetime) -> bool:
        """Live: this hour's scrape time has passed within its grace and no scrape ran since (down or killed).

        Scraping now observes the market now, which is real; hours that passed while the daemon
        was down stay empty (nothing is back-filled or invented).
        """
        if self._snapshot is not None:
            return False  # the replay clock re-runs its scrape at the next tick
        slot = floor_hour(now) + timedelta(minutes=self.config.scrape_minute)
        if slot > now:
            slot -= timedelta(hours=1)
        if (now - slot).total_seconds() > self.config.grace("scrape"):
            return False
        last = self.store.frame("SELECT max(started_at) AS t FROM job_runs WHERE job = 'scrape' AND status = 'ok'")
        t = last["t"][0]
        return t is None or t.astimezone(UTC) < slot

    def catch_up(self) -> None:
        """On start: this hour's scrape if it was missed, the fixings, and every complete day not yet published."""
        if self.scrape_due_on_start(self.now_fn()):
            self.run_job("scrape")
        self.run_job("fixings")
        self.run_job("publish")

    # -- the process --
    def write_state(self) -> None:
        sched = self._scheduler
        nxt = {}
        if sched is not None:
            for j in sched.get_jobs():
                nxt[j.id] = j.next_run_time.astimezone(UTC).isoformat() if j.next_run_time else None
        state = {"pid": os.getpid(), "started_at": self._started_at.isoformat(), "db": str(self.store.path),
                 "out_dir": str(self.out_dir), "replay": str(self.replay_dir) if self.replay_dir else None,
                 "schedule": asdict(self.config), "next_run": nxt, "updated_at": datetime.now(UTC).isoformat()}
        path = state_path(self.store.path)
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        tmp.write_text(json.dumps(state, indent=1, default=str))
        os.replace(tmp, path)

    def build_scheduler(self, start: datetime) -> BackgroundScheduler:
        """One worker thread (jobs never overlap); the catch-up first, then the three jobs."""
        sched = BackgroundScheduler(timezone=UTC, executors={"default": ThreadPoolExecutor(1)},
                                    job_defaults={"coalesce": True, "max_instances": 1})
        self._scheduler = sched
        sched.add_job(self.catch_up, "date", run_date=start, id="catch_up", misfire_grace_time=3600)
        for job, trigger in self.config.triggers(start).items():
            sched.add_job(self.run_job, trigger, args=[job], id=job, misfire_grace_time=self.config.grace(job),
                          coalesce=True, max_instances=1)
        return sched

    def serve_forever(self, install_signals: bool = True) -> None:
        """Take the daemon lock, catch up, schedule the jobs and run until SIGTERM/SIGINT."""
        lock = acquire_lock(self.store.path)
        try:
            if install_signals:
                for sig in (signal.SIGTERM, signal.SIGINT):
                    signal.signal(sig, lambda *_: self.stop.set())
            self.store.init()
            self.repair()
            sched = self.build_scheduler(datetime.now(UTC))
            sched.start()
            log.info("daemon started (pid %d, %s)", os.getpid(),
                     f"replay {self.replay_dir}" if self.replay_dir else "live")
            while not self.stop.wait(0.5):
                self.write_state()
            log.info("stopping: waiting for the running job to finish")
            sched.shutdown(wait=True)
            self.write_state()
            log.info("daemon stopped")
        finally:
            state_path(self.store.path).unlink(missing_ok=True)
            lock.close()


def acquire_lock(db: Path) -> Any:
    """One daemon per database: an exclusive lock on ``<db>.daemon.lock`` held for the process's life."""
    path = lock_path(db)
    path.parent.mkdir(parents=True, exist_ok=True)
    fh = open(path, "a+")  # noqa: SIM115  held open for the life of the process
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.seek(0)
        holder = fh.read().strip() or "?"
        fh.close()
        raise SpotindexError(f"another spotindex daemon (PID {holder}) is running on {db}: stop it first "
                             f"(kill -TERM {holder}) or use another --db") from None
    fh.seek(0)
    fh.truncate()
    fh.write(str(os.getpid()))
    fh.flush()
    return fh


def daemon_running(db: Path) -> int | None:
    """The PID of the daemon holding ``db``'s lock, or None."""
    path = lock_path(db)
    if not path.exists():
        return None
    with open(path, "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            text = fh.read().strip()
            return int(text) if text.isdigit() else -1
        fcntl.flock(fh, fcntl.LOCK_UN)
    return None


def read_state(db: Path) -> dict[str, Any] | None:
    try:
        return dict(json.loads(state_path(db).read_text()))
    except (FileNotFoundError, ValueError):
        return None


def next_runs(config: ScheduleConfig, now: datetime) -> dict[str, datetime | None]:
    """When each job would next run under ``config`` (for ``status`` when no daemon runs)."""
    return {job: trig.get_next_fire_time(None, now) for job, trig in config.triggers(now).items()}
