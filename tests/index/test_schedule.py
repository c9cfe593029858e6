"""The daemon's jobs without the process: schedule options, catch-up, fixings cut-off, replay clock, job records."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from index import analyst, replay, schedule
from index.errors import SpotindexError
from index.store import Store, ex
from tests.conftest import REPLAY
from tests.index.published import scraped_store


def test_jobs_have_explicit_misfire_grace_coalesce_and_one_instance(tmp_path: Path) -> None:
    config = schedule.ScheduleConfig()
    d = schedule.Daemon(Store(tmp_path / "s.duckdb"), tmp_path / "pub", config=config)
    sched = d.build_scheduler(datetime(2026, 11, 20, 12, 0, tzinfo=UTC))
    by_id = {j.id: j for j in sched.get_jobs()}
    assert set(by_id) == {"catch_up", *schedule.JOBS}
    for job in schedule.JOBS:
        assert by_id[job].misfire_grace_time == config.misfire_grace[job]
        assert by_id[job].coalesce is True and by_id[job].max_instances == 1
    at = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    nxt = schedule.next_runs(config, at)
    assert nxt["scrape"] == at.replace(minute=5) and nxt["fixings"] == at.replace(minute=10)
    assert nxt["publish"] == datetime(2026, 11, 21, 0, 30, tzinfo=UTC)


def test_due_days_start_at_the_publication_time_of_the_next_day() -> None:
    first, offset = date(2026, 11, 19), timedelta(minutes=30)
    assert schedule.due_days(first, datetime(2026, 11, 21, 0, 29, tzinfo=UTC), offset) == [first]
    assert schedule.due_days(first, datetime(2026, 11, 21, 0, 30, tzinfo=UTC), offset) == [first, date(2026, 11, 20)]
    assert schedule.due_days(first, datetime(2026, 11, 19, 23, 0, tzinfo=UTC), offset) == []


def _hours_with_inputs(day: date, window: timedelta) -> int:
    """Fixing hours of ``day`` with at least one capture in (H - window, H]: what the data allows."""
    caps = [c.captured_at for c in replay.load(REPLAY).captures]
    hours = [datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(hours=h) for h in range(24)]
    return sum(any(h - window < c <= h for c in caps) for h in hours)


def test_catch_up_publishes_every_complete_unpublished_day_once_and_invents_nothing(tmp_path: Path) -> None:
    store = scraped_store(tmp_path / "s.duckdb")  # the daemon was down: rows are stored, nothing computed or published
    before = {t: store.count(t) for t in ("gpu_quotes", "token_prices", "scrape_runs")}
    now = datetime(2026, 11, 21, 0, 30, tzinfo=UTC)
    d = schedule.Daemon(store, tmp_path / "pub", now_fn=lambda: now)
    out = d.publish_due(now)
    assert out["published"] == [date(2026, 11, 19), date(2026, 11, 20)]
    assert os.readlink(tmp_path / "pub" / "latest") == "2026-11-20"
    assert analyst.analyst_path(store.path).is_file()
    assert d.publish_due(now)["published"] == [], "a published day is not published again"
    assert {t: store.count(t) for t in before} == before, "no scrape is invented"
    # 2026-11-19 only has the captures of its last hours: its valid fixings are those hours and no more
    # (methodology v1 records all 24 fixings of a day; the hours without inputs are not valid)
    gpu = store.frame("SELECT n_valid FROM latest_index_values WHERE index_id = 'GPU.H100-SXM.OD.NEO' "
                      "ORDER BY date")["n_valid"].to_list()
    assert gpu == [_hours_with_inputs(date(2026, 11, 19), timedelta(hours=2)), 24]
    assert gpu[0] < 24


def test_catch_up_redoes_a_day_whose_files_are_missing(tmp_path: Path) -> None:
    store = scraped_store(tmp_path / "s.duckdb")
    now = datetime(2026, 11, 21, 1, 0, tzinfo=UTC)
    d = schedule.Daemon(store, tmp_path / "pub", now_fn=lambda: now)
    d.publish_due(now)
    import shutil

    shutil.rmtree(tmp_path / "pub" / "2026-11-19")  # e.g. killed between rename and record, or deleted
    assert d.publish_due(now)["published"] == [date(2026, 11, 19)]
    assert (tmp_path / "pub" / "2026-11-19" / "indices.json").is_file()


def test_hourly_fixings_stop_at_the_past_hour_and_write_no_daily_value(tmp_path: Path) -> None:
    store = scraped_store(tmp_path / "s.duckdb")
    now = datetime(2026, 11, 20, 12, 10, tzinfo=UTC)
    d = schedule.Daemon(store, tmp_path / "pub", now_fn=lambda: now)
    detail, _ = d.fixings_job()
    assert detail["fixings_new"] > 0
    last = store.frame("SELECT max(fixing_time) AS t FROM fixings")["t"][0]
    assert last == datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    assert store.count("index_values") == 0
    # an hour later only the new hour is added; nothing is revised
    now = datetime(2026, 11, 20, 13, 10, tzinfo=UTC)
    d.fixings_job()
    assert store.frame("SELECT max(revision) AS r FROM fixings")["r"][0] == 0
    assert store.frame("SELECT count(DISTINCT fixing_time) AS n FROM fixings WHERE fixing_time > "
                       "'2026-11-20 12:00:00+00'")["n"][0] == 1


def test_replay_clock_advances_one_step_per_scrape_and_loads_due_captures(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.duckdb")
    store.init()
    d = schedule.Daemon(store, tmp_path / "pub", replay_dir=REPLAY)
    caps = [c.captured_at for c in replay.load(REPLAY).captures]
    assert d.now() is None
    d.run_job("fixings")  # nothing to do before the first scrape
    d.run_job("scrape")
    assert d.now() == caps[0]
    d.run_job("scrape")
    assert d.now() == caps[0] + timedelta(hours=1)
    loaded = store.frame("SELECT DISTINCT observed_at FROM scrape_runs ORDER BY 1")["observed_at"].to_list()
    assert loaded == caps[:2]
    runs = store.frame("SELECT job, status FROM job_runs ORDER BY started_at")
    assert runs.rows() == [("fixings", "ok"), ("scrape", "ok"), ("scrape", "ok")]


def test_a_failing_job_is_recorded_and_does_not_raise(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store(tmp_path / "s.duckdb")
    store.init()
    d = schedule.Daemon(store, tmp_path / "pub", now_fn=lambda: datetime(2026, 11, 21, 1, 0, tzinfo=UTC))

    def boom(now: datetime) -> dict:
        raise SpotindexError("the disk is full")

    monkeypatch.setattr(d, "publish_due", boom)
    d.run_job("publish")
    row = store.frame("SELECT status, error, finished_at FROM job_runs WHERE job = 'publish'").row(0, named=True)
    assert row["status"] == "failed" and row["error"] == "the disk is full" and row["finished_at"] is not None


def test_runs_left_running_by_a_dead_daemon_are_marked_interrupted(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.duckdb")
    store.init()
    schedule.start_run(store, "publish", None)
    assert schedule.mark_interrupted(store) == 1
    assert store.frame("SELECT status FROM job_runs")["status"].to_list() == ["interrupted"]


def test_one_daemon_per_database(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    assert schedule.daemon_running(db) is None
    lock = schedule.acquire_lock(db)
    try:
        assert schedule.daemon_running(db) == os.getpid()
        with pytest.raises(SpotindexError, match=f"another spotindex daemon \\(PID {os.getpid()}\\)"):
            schedule.acquire_lock(db)
    finally:
        lock.close()
    assert schedule.daemon_running(db) is None


def _scrape_run(store: Store, at: datetime, status: str) -> None:
    with store.write() as con:
        ex(con, "INSERT INTO job_runs (run_id, job, started_at, finished_at, status) VALUES (?, 'scrape', ?, ?, ?)",
           [f"scrape-{at.isoformat()}", at, at, status])


def test_a_missed_or_killed_scrape_of_this_hour_is_run_on_start_but_past_hours_are_not(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.duckdb")
    store.init()
    d = schedule.Daemon(store, tmp_path / "pub")
    at = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    assert d.scrape_due_on_start(at.replace(minute=20)), "no scrape yet, 15 min after the 12:05 slot"
    assert not d.scrape_due_on_start(at.replace(minute=58)), "past the 50 min grace: wait for 13:05"
    assert not d.scrape_due_on_start(at.replace(minute=2)), "11:05 is 57 min ago: too late, 12:05 is to come"
    _scrape_run(store, at.replace(hour=11, minute=5), "ok")
    _scrape_run(store, at.replace(minute=5), "interrupted")  # killed in the middle of the 12:05 scrape
    assert d.scrape_due_on_start(at.replace(minute=20))
    _scrape_run(store, at.replace(minute=6), "ok")
    assert not d.scrape_due_on_start(at.replace(minute=20))
    # a replay daemon never scrapes on start: its clock does, at the next tick
    assert not schedule.Daemon(store, tmp_path / "pub", replay_dir=REPLAY).scrape_due_on_start(at.replace(minute=20))
