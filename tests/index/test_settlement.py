"""Monthly settlement: arithmetic mean of daily values, minimum valid days, fallback, immutability."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from index import jobs, ledger, settlement
from index.errors import ConfigError, SpotindexError
from index.store import Store
from tests.index import synth

FEB = settlement.Contract(id="T-2025-02", series=synth.SERIES, month="2025-02", min_valid_days=20)
AFTER_FEB = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)  # the last day's revision deadline


def month(statuses: list[str], values: list[float | None]) -> pl.DataFrame:
    days = [date(2025, 2, 1) + timedelta(days=i) for i in range(len(statuses))]
    return pl.DataFrame({"date": days, "value": values, "status": statuses, "revision": [0] * len(days),
                         "inputs_hash": ["h"] * len(days), "carried_from": [None] * len(days)},
                        schema=settlement.DAY_SCHEMA)


def test_final_settlement_is_the_mean_of_the_daily_values() -> None:
    values = [2.0 + i / 100 for i in range(28)]
    s = settlement.settle(FEB, month(["NORMAL"] * 27 + ["LOW_CONFIDENCE"], values), AFTER_FEB)
    assert s.status == "FINAL" and s.final and s.n_days == 28 and s.n_valid == 28
    assert s.value == pytest.approx(sum(values) / 28)


def test_carried_days_count_suspended_and_missing_days_do_not() -> None:
    statuses = ["NORMAL"] * 22 + ["CONTINGENCY", "SUSPENDED"]
    values: list[float | None] = [2.0] * 22 + [2.0, None]
    s = settlement.settle(FEB, month(statuses, values), AFTER_FEB)
    assert s.n_valid == 22 and s.n_days == 23 and s.value == pytest.approx(2.0)  # 4 days missing: no rows
    assert s.days.filter(pl.col("status") == "MISSING").height == 4


def test_too_few_valid_days_falls_back() -> None:
    data = month(["NORMAL"] * 10 + ["SUSPENDED"] * 18, [3.0] * 10 + [None] * 18)
    none = settlement.settle(FEB, data, AFTER_FEB)
    assert none.status == "NO_SETTLEMENT" and none.value is None and "only 10 valid days" in none.note
    avail = settlement.settle(FEB.model_copy(update={"fallback": "available_days"}), data, AFTER_FEB)
    assert avail.status == "FALLBACK" and avail.value == pytest.approx(3.0)


def test_before_the_deadline_it_is_provisional() -> None:
    s = settlement.settle(FEB, month(["NORMAL"] * 28, [2.0] * 28), AFTER_FEB - timedelta(minutes=1))
    assert s.status == "PROVISIONAL" and not s.final and "provisional until 2025-03-01 09:00 UTC" in s.note


def test_contracts_file_is_validated(tmp_path: Path) -> None:
    shipped = settlement.load_contracts()
    assert all(c.series for c in shipped.values()) and "H100-SXM-OD-NEO-2026-11" in shipped
    bad = tmp_path / "c.toml"
    bad.write_text('[[contract]]\nid = "X"\nseries = "S"\nmonth = "2025-13"\n')
    with pytest.raises(ConfigError, match="month '2025-13' is not YYYY-MM"):
        settlement.load_contracts(bad)
    bad.write_text('[[contract]]\nid = "X"\nseries = "S"\nmonth = "2025-01"\nfallback = "guess"\n')
    with pytest.raises(ConfigError, match="fallback"):
        settlement.load_contracts(bad)


def write_contracts(path: Path) -> Path:
    path.write_text(f'version = "t"\n[[contract]]\nid = "{FEB.id}"\nseries = "{synth.SERIES}"\nmonth = "2025-02"\n'
                    'min_valid_days = 20\n')
    return path


@pytest.mark.slow
def test_a_simulated_month_settles_and_the_settlement_is_immutable(db: Path, tmp_path: Path) -> None:
    store = Store(db)
    first = date(2025, 2, 1)
    # five venues, hourly, all February; venue c (the median) drifts up a cent a day
    rows = [{**q, "price": q["price"] + (0.01 * ((q["observed_at"].date() - first).days) if q["venue"] == "c" else 0)}
            for q in synth.hourly({"a": 1.8, "b": 1.9, "c": 2.0, "d": 2.5, "e": 2.6}, hours=range(-1, 24 * 28),
                                  day=first)]
    with store.write() as con:
        Store.insert_frame(con, "gpu_quotes", synth.quote_frame(rows))
    days = [first + timedelta(days=i) for i in range(28)]
    jobs.compute_days(store, days, defs=synth.defs(), now=AFTER_FEB)
    contracts = write_contracts(tmp_path / "contracts.toml")
    s, stored = jobs.settle_contract(store, FEB.id, publish_it=True, now=AFTER_FEB, contracts_path=contracts)
    assert stored is not None and s.status == "FINAL" and s.n_days == 28
    daily = ledger.month_values(store, synth.SERIES, first, date(2025, 2, 28))
    assert (daily["status"] == "NORMAL").all()
    assert s.value == pytest.approx(daily["value"].mean()) and stored["value"] == s.value
    # the median venue's price: 2.0 + 0.01 d; the fixing at 00:00 still sees the previous day's 23:30 quote
    assert daily["value"][27] == pytest.approx(2.27 - 0.01 / 24)
    with pytest.raises(ledger.SettlementExists, match="immutable"):
        ledger.insert_settlement(store, {"contract_id": FEB.id, "series": "x", "month": "2025-02"})
    # republishing returns the stored settlement untouched
    _, again = jobs.settle_contract(store, FEB.id, publish_it=True, now=AFTER_FEB + timedelta(days=1),
                                    contracts_path=contracts)
    assert again is not None and again["settled_at"] == stored["settled_at"]


def test_publishing_before_the_month_is_final_is_refused(db: Path, tmp_path: Path) -> None:
    contracts = write_contracts(tmp_path / "contracts.toml")
    Store(db).init()  # an empty database (a missing one is refused before any rule is applied)
    with pytest.raises(SpotindexError, match="cannot be published before 2025-03-01 09:00 UTC"):
        jobs.settle_contract(Store(db), FEB.id, publish_it=True, now=AFTER_FEB - timedelta(hours=1),
                             contracts_path=contracts)
    with pytest.raises(SpotindexError, match="unknown contract"):
        jobs.settle_contract(Store(db), "NOPE", contracts_path=contracts)
