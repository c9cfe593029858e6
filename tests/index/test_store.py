"""Store: migrations, idempotent loading, schema versions, lock messages."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from index import jobs
from index.errors import StoreError
from index.migrations import LATEST_VERSION
from index.store import Store, connect
from tests.conftest import REPLAY

TABLES = ("raw_responses", "gpu_quotes", "token_prices", "quarantine")


def counts(store: Store) -> dict[str, int]:
    return {t: store.count(t) for t in TABLES}


def test_loading_the_same_snapshot_twice_adds_nothing(db: Path) -> None:
    store = Store(db)
    jobs.run_scrape(store, REPLAY)
    first = counts(store)
    assert first["gpu_quotes"] > 1000 and first["token_prices"] > 50 and first["raw_responses"] > 100
    jobs.run_scrape(store, REPLAY)
    assert counts(store) == first
    # every run is still logged
    assert store.count("scrape_runs") == 2 * store.frame("SELECT DISTINCT source, observed_at FROM scrape_runs").height


def test_recompute_is_idempotent_and_a_change_is_a_new_revision(db: Path) -> None:
    store = Store(db)
    result = jobs.run_scrape(store, REPLAY)
    days = result.dates()
    jobs.compute_days(store, days)
    n_values = store.count("index_values")
    again = jobs.compute_days(store, days)
    assert again["values_new"] == 0 and store.count("index_values") == n_values
    with store.write() as con:  # the inputs change (a test device): the recompute appends revision 1
        con.execute("UPDATE gpu_quotes SET price_usd_per_hour = 1.1 * price_usd_per_hour, "
                    "price_usd_per_gpu_hour = 1.1 * price_usd_per_gpu_hour "
                    "WHERE pricing_class = 'on_demand' AND gpu_model = 'H100-SXM-80GB'").fetchall()
    out = jobs.compute_days(store, [days[-1]], ["GPU.H100-SXM.OD.NEO"])
    assert out["values_new"] == 1
    revs = store.frame("SELECT revision FROM index_values WHERE index_id = 'GPU.H100-SXM.OD.NEO' "
                       "AND date = ? ORDER BY revision", [days[-1]])["revision"].to_list()
    assert revs == [0, 1]


def test_newer_schema_is_refused(db: Path) -> None:
    Store(db).init()
    con = duckdb.connect(str(db))
    con.execute("INSERT INTO schema_version VALUES (?, now(), 'from the future')", [LATEST_VERSION + 1]).fetchall()
    con.close()
    with pytest.raises(StoreError, match="newer than this spotindex supports"):
        Store(db).init()


def test_missing_database_read_only_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        connect(tmp_path / "nope.duckdb", read_only=True)
