"""The analyst snapshot: a faithful copy, swapped atomically, that never blocks the writer."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

from index import analyst, jobs
from index.store import Store
from tests.index.published import copy_to, published_replay

TABLES = ("gpu_quotes", "token_prices", "scrape_runs", "fixings", "fixing_venues", "index_values", "publications",
          "raw_responses")
VIEWS = ("latest_index_values", "daily_index", "latest_fixings", "venue_medians", "source_health")


def _counts(path: Path, names: tuple[str, ...]) -> dict[str, int]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in names}  # type: ignore[index]
    finally:
        con.close()


def test_snapshot_path_sits_beside_the_database() -> None:
    assert analyst.analyst_path(Path("data/spotindex.duckdb")) == Path("data/spotindex-analyst.duckdb")


def test_snapshot_has_every_table_and_view_but_no_raw_bodies() -> None:
    root = published_replay()
    main, snap = root / "s.duckdb", root / "s-analyst.duckdb"
    assert snap.is_file() and not Path(f"{snap}.wal").exists()
    assert _counts(snap, TABLES + VIEWS) == _counts(main, TABLES + VIEWS)
    con = duckdb.connect(str(snap), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM raw_responses WHERE body IS NOT NULL").fetchone() == (0,)
    finally:
        con.close()


def test_publication_succeeds_while_a_notebook_holds_the_snapshot(tmp_path: Path) -> None:
    root = copy_to(tmp_path / "w")
    store, snap = Store(root / "s.duckdb"), root / "s-analyst.duckdb"
    notebook = duckdb.connect(str(snap), read_only=True)  # held open across the publication
    try:
        before = notebook.execute("SELECT count(*) FROM publications").fetchone()
        jobs.publish_day(store, date(2026, 11, 20), root / "pub")  # writes the store, replaces the snapshot
        # the notebook keeps its consistent (old) view; a new connection sees the new publication
        assert notebook.execute("SELECT count(*) FROM publications").fetchone() == before
        assert notebook.execute("SELECT count(*) FROM daily_index").fetchone()[0] > 0  # type: ignore[index]
    finally:
        notebook.close()
    assert before is not None
    assert _counts(snap, ("publications",))["publications"] == before[0] + 1
    assert not [p for p in snap.parent.iterdir() if ".tmp-" in p.name]
