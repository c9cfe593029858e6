"""Revision policy: published values are revised only before T+1 09:00 UTC and above max(0.5%, $0.01);
otherwise they stand and the difference goes to the errors log. Never an update in place."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from index import jobs, ledger, revisions
from index.store import Store, ex
from tests.index import synth
from tests.index.synth import DAY, SERIES, hourly

DEFS = synth.defs()
DEADLINE = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
BEFORE, AFTER = DEADLINE - timedelta(hours=1), DEADLINE + timedelta(minutes=1)
FIVE = {"a": 1.9, "b": 2.0, "c": 2.0, "d": 2.1, "e": 2.2}


def test_deadline_is_t_plus_one_0900_utc() -> None:
    assert revisions.deadline(DAY) == DEADLINE


def frame(rows: list[tuple], schema: pl.Schema) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=schema, orient="row")


def test_decide_covers_every_case() -> None:
    new_schema = pl.Schema({"index_id": pl.String(), "date": pl.Date(), "value": pl.Float64(), "status": pl.String(),
                            "inputs_hash": pl.String()})
    d = DAY
    new = frame([("fresh", d, 2.0, "NORMAL", "h"), ("same", d, 2.0, "NORMAL", "h"),
                 ("unpub", d, 3.0, "NORMAL", "h2"), ("big", d, 2.02, "NORMAL", "h2"),
                 ("small", d, 2.009, "NORMAL", "h2"), ("gone", d, None, "SUSPENDED", "h2"),
                 ("pct", d, 1010.0, "NORMAL", "h2"), ("pct_small", d, 1004.0, "NORMAL", "h2")], new_schema)
    stored = frame([(i, d, 0, v, "NORMAL", "h") for i, v in (("same", 2.0), ("unpub", 2.0), ("big", 2.0),
                                                              ("small", 2.0), ("gone", 2.0), ("pct", 1000.0),
                                                              ("pct_small", 1000.0))], revisions.STORED_SCHEMA)
    published = pl.DataFrame({"index_id": ["same", "big", "small", "gone", "pct", "pct_small"], "date": [d] * 6})
    before = {r["index_id"]: (r["action"], r["kind"]) for r in
              revisions.decide(new, stored, published, BEFORE).iter_rows(named=True)}
    assert before == {
        "fresh": ("write", None), "same": ("skip", None), "unpub": ("write", None),
        "big": ("write", None),  # 0.02 > max(0.5% of 2 = 0.01, 0.01)
        "small": ("keep", "below_threshold"),  # 0.009 <= 0.01
        "gone": ("write", None),  # a value disappearing is material
        "pct": ("write", None),  # 10 > 0.5% of 1000 = 5
        "pct_small": ("keep", "below_threshold"),  # 4 <= 5
    }
    after = {r["index_id"]: (r["action"], r["kind"]) for r in
             revisions.decide(new, stored, published, AFTER).iter_rows(named=True)}
    assert after["big"] == ("keep", "after_deadline") and after["unpub"] == ("write", None)
    assert after["fresh"] == ("write", None) and after["same"] == ("skip", None)


def load(store: Store, rows: list[dict]) -> None:
    with store.write() as con:
        Store.insert_frame(con, "gpu_quotes", synth.quote_frame(rows))


def reprice(store: Store, venue: str, factor: float) -> None:
    with store.write() as con:
        ex(con, "UPDATE gpu_quotes SET price_usd_per_hour = price_usd_per_hour * ?, "
                "price_usd_per_gpu_hour = price_usd_per_gpu_hour * ? WHERE venue = ?", [factor, factor, venue])


def publish_marker(store: Store, day: date, revision: int) -> None:
    ledger.record_publication(store, day, "test", "sha", [{"id": SERIES, "revision": revision, "round_id": 1}],
                              datetime(2026, 11, 21, 0, 5, tzinfo=UTC))


def revs(store: Store, day: date = DAY) -> list[tuple[int, float, str]]:
    df = ledger.value_revisions(store, SERIES, day)
    return [(r["revision"], r["value"], r["reason"]) for r in df.iter_rows(named=True)]


@pytest.fixture
def published(db: Path) -> Store:
    store = Store(db)
    load(store, hourly(FIVE))
    jobs.compute_days(store, [DAY], defs=DEFS, now=BEFORE)
    publish_marker(store, DAY, 0)
    assert [r[:2] for r in revs(store)] == [(0, pytest.approx(2.0))]
    return store


def test_material_change_before_the_deadline_is_a_new_revision_with_its_reason(published: Store) -> None:
    n_fixings = published.count("fixings")
    reprice(published, "c", 1.1)  # the median venue moves to 2.2: the value to 2.1 (median of 1.9 2.0 2.1 2.2 2.2)
    out = jobs.compute_days(published, [DAY], defs=DEFS, now=BEFORE)
    assert out["revised"] == 1 and out["values_new"] == 1
    history = revs(published)
    assert [r[0] for r in history] == [0, 1] and history[1][1] == pytest.approx(2.1)
    assert history[1][2].startswith("revision before the T+1 09:00 UTC deadline: value 2.0 -> 2.1")
    assert history[0][1] == pytest.approx(2.0)  # revision 0 is untouched
    assert published.count("fixings") == n_fixings + 24  # the day's fixings are revised with it


def test_small_change_keeps_the_published_value_and_logs_it(published: Store) -> None:
    reprice(published, "c", 1.002)  # 2.0 -> 2.004: below max(0.5%, $0.01)
    out = jobs.compute_days(published, [DAY], defs=DEFS, now=BEFORE)
    assert out["kept"] == 1 and out["values_new"] == 0 and out["fixings_new"] == 0
    assert [r[0] for r in revs(published)] == [0]
    log = ledger.errors_log(published, SERIES).row(0, named=True)
    assert log["kind"] == "below_threshold" and log["published_value"] == pytest.approx(2.0)
    assert log["recomputed_value"] == pytest.approx(2.004)
    jobs.compute_days(published, [DAY], defs=DEFS, now=BEFORE)  # the same finding is logged once
    assert ledger.errors_log(published, SERIES).height == 1


def test_after_the_deadline_errors_go_to_the_errors_log(published: Store) -> None:
    reprice(published, "c", 1.1)
    out = jobs.compute_days(published, [DAY], defs=DEFS, now=AFTER)
    assert out["values_new"] == 0 and out["errors_new"] == 1
    assert [r[0] for r in revs(published)] == [0]
    log = ledger.errors_log(published, SERIES).row(0, named=True)
    assert log["kind"] == "after_deadline" and log["recomputed_value"] == pytest.approx(2.1)
    assert "after the T+1 09:00 UTC deadline" in log["detail"]


def test_never_published_values_may_be_recomputed_any_time(db: Path) -> None:
    store = Store(db)
    load(store, hourly(FIVE))
    jobs.compute_days(store, [DAY], defs=DEFS, now=AFTER)
    reprice(store, "c", 1.1)
    out = jobs.compute_days(store, [DAY], defs=DEFS, now=AFTER + timedelta(days=30))
    assert out["values_new"] == 1
    assert revs(store)[1][2].startswith("recomputed before publication")


def test_carry_forward_follows_from_the_stored_previous_day(db: Path) -> None:
    store = Store(db)
    load(store, hourly(FIVE))  # data on DAY only
    days = [DAY + timedelta(days=i) for i in range(5)]
    jobs.compute_days(store, days, defs=DEFS, now=AFTER)
    got = store.frame("SELECT date, status, value, carried_from FROM latest_index_values ORDER BY date")
    assert got["status"].to_list() == ["NORMAL", "CONTINGENCY", "CONTINGENCY", "CONTINGENCY", "SUSPENDED"]
    assert got["value"].to_list()[:4] == pytest.approx([2.0] * 4) and got["value"][4] is None
    assert got["carried_from"].to_list()[1:4] == [DAY] * 3


def test_a_publication_recorded_without_rounds_also_counts(db: Path) -> None:
    store = Store(db)
    load(store, hourly(FIVE))
    jobs.compute_days(store, [DAY], defs=DEFS, now=BEFORE)
    store.record_publication(DAY, "legacy", "sha", [{"index_id": SERIES, "revision": 0}])  # no report_rounds row
    reprice(store, "c", 1.1)
    out = jobs.compute_days(store, [DAY], defs=DEFS, now=AFTER)
    assert out["values_new"] == 0 and ledger.errors_log(store, SERIES)["kind"].to_list() == ["after_deadline"]
