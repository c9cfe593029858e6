"""A store with the bundled replay scraped, computed and published, built once per test process.

Building it (25 captures, two days, two publications with their pages) takes a few seconds;
the service tests share it read-only, or copy it with ``copy_to`` when they change it.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from datetime import date
from pathlib import Path

from index import jobs
from index.store import Store
from tests.conftest import REPLAY

DAYS = (date(2026, 11, 19), date(2026, 11, 20))
_built: Path | None = None
_scraped: Path | None = None


def scraped_store(dst: Path) -> Store:
    """A private store holding the replay's rows, nothing computed or published (a daemon that was down)."""
    global _scraped
    if _scraped is None or not _scraped.exists():
        root = Path(tempfile.mkdtemp(prefix="spotindex-scraped-"))
        atexit.register(shutil.rmtree, root, True)
        jobs.run_scrape(Store(root / "s.duckdb"), REPLAY)
        _scraped = root / "s.duckdb"
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_scraped, dst)
    return Store(dst)


def published_replay() -> Path:
    """A directory with ``s.duckdb``, ``s-analyst.duckdb`` and ``pub/`` (both replay days published)."""
    global _built
    if _built is None or not (_built / "s.duckdb").exists():
        root = Path(tempfile.mkdtemp(prefix="spotindex-published-"))
        atexit.register(shutil.rmtree, root, True)
        store = Store(root / "s.duckdb")
        jobs.run_scrape(store, REPLAY)
        jobs.compute_days(store, list(DAYS))
        for day in DAYS:
            jobs.publish_day(store, day, root / "pub")
        _built = root
    return _built


def copy_to(dst: Path) -> Path:
    """A private copy (the tests that publish again or refresh the snapshot use one)."""
    shutil.copytree(published_replay(), dst, symlinks=True)
    return dst
