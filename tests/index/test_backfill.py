"""Backfill on the project's fixtures: half-open ranges, marking, idempotency, resume, published values."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest

from index import backfill, definitions, jobs, pipeline, store_history
from index.errors import SpotindexError
from index.importers import ImportOptions, run_import
from index.store import Store
from tests.conftest import FIXTURES

IMP = FIXTURES / "imports"
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
O3 = ["TOK.O3.IN", "TOK.O3.OUT"]


def loaded(db: Path) -> Store:
    store = Store(db)
    for name in ("ledger_openrouter.csv", "ledger_litellm.csv"):
        run_import(store, "intervals", IMP / name, ImportOptions(now=NOW))
    return store


def values(store: Store) -> pl.DataFrame:
    return store.frame("SELECT index_id, date, value, status, inputs_hash, revision, reason FROM latest_index_values "
                       "ORDER BY index_id, date")


def test_backfill_half_open_marked_and_idempotent(db: Path) -> None:
    store = loaded(db)
    r = backfill.run_backfill(store, date(2025, 6, 8), date(2025, 6, 14), O3, now=NOW)
    assert (r.days_total, r.days_computed, r.days_resumed, r.attempt) == (6, 6, 0, 1)
    v = values(store)
    assert v["date"].min() == date(2025, 6, 8) and v["date"].max() == date(2025, 6, 13)  # --to excluded
    assert v.height == 12 and set(v["reason"]) == {"backfill"}
    series = v.filter(pl.col("index_id") == "TOK.O3.IN")
    by_day = dict(zip(series["date"], series["value"], strict=True))
    # venues openrouter (cut at 06-11 00:00), openai (00:35), azure (06-21): the median falls at the 01:00 fixing
    assert by_day[date(2025, 6, 10)] == pytest.approx(10.0)
    assert by_day[date(2025, 6, 11)] == pytest.approx((10.0 + 23 * 2.0) / 24)
    assert by_day[date(2025, 6, 12)] == pytest.approx(2.0)
    runs = store.frame("SELECT kind FROM runs WHERE run_id = ?", [r.run_id])
    assert runs["kind"].to_list() == ["backfill"]
    again = backfill.run_backfill(store, date(2025, 6, 8), date(2025, 6, 14), O3, now=NOW)
    assert (again.values_new, again.fixings_new, again.attempt) == (0, 0, 2)
    assert values(store).equals(v)


def test_interrupted_backfill_resumes_and_ends_like_an_uninterrupted_one(db: Path, tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    clean = loaded(tmp_path / "clean.duckdb")
    backfill.run_backfill(clean, date(2025, 6, 8), date(2025, 6, 16), O3, now=NOW, chunk_days=2)
    store = loaded(db)
    real = pipeline.compute_day
    calls = {"n": 0}

    def flaky(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 6:  # the second day of the third chunk of two days
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "compute_day", flaky)
    with pytest.raises(KeyboardInterrupt):
        backfill.run_backfill(store, date(2025, 6, 8), date(2025, 6, 16), O3, now=NOW, chunk_days=2)
    monkeypatch.setattr(pipeline, "compute_day", real)
    seen: list[tuple[int, int]] = []
    r = backfill.run_backfill(store, date(2025, 6, 8), date(2025, 6, 16), O3, now=NOW, chunk_days=2,
                              on_start=lambda total, done: seen.append((total, done)))
    assert (r.days_resumed, r.days_computed, r.attempt) == (4, 4, 1)
    assert seen == [(8 * 2, 4 * 2)]  # the progress bar starts where the interrupted run stopped
    cols = ["index_id", "date", "value", "status", "inputs_hash"]
    assert values(store).select(cols).equals(values(clean).select(cols))
    assert store.count("index_values") == clean.count("index_values")  # nothing written twice


def test_published_value_is_never_overwritten(db: Path, tmp_path: Path) -> None:
    store = loaded(db)
    backfill.run_backfill(store, date(2025, 6, 9), date(2025, 6, 12), ["TOK.O3.IN"], now=NOW)
    jobs.publish_day(store, date(2025, 6, 10), tmp_path / "pub")
    published = values(store).filter(pl.col("date") == date(2025, 6, 10))
    # a later import moves the recomputed value of that published day: a late list price of the maker.
    # (METHODOLOGY.md §14 "Token indices", T3.6: OpenAI sells o3, so its own list price is the model price
    # and resellers' quotes are left out; three more reseller venues would not move the value.)
    extra = tmp_path / "late.csv"
    extra.write_text("observed_at,provider,model,usd_per_mtok_input,usd_per_mtok_output\n"
                     "2025-06-09T12:00:00Z,openai,openai/o3,4.0,16.0\n")
    run_import(store, "quotes", extra, ImportOptions(now=NOW))
    r = backfill.run_backfill(store, date(2025, 6, 9), date(2025, 6, 12), ["TOK.O3.IN"], now=NOW)
    assert r.values_published_kept == 1 and r.recomputed_new == 1 and r.revisions_allowed == 0
    after = values(store)
    assert after.filter(pl.col("date") == date(2025, 6, 10)).equals(published)  # untouched
    day11 = after.filter(pl.col("date") == date(2025, 6, 11))
    assert day11["revision"].to_list() == [1] and day11["reason"].to_list() == ["backfill"]  # unpublished: revised
    kept = store.frame("SELECT date, value, reason FROM recomputed_values")
    assert kept["date"].to_list() == [date(2025, 6, 10)]
    assert kept["value"][0] != pytest.approx(published["value"][0])
    assert "published value kept" in kept["reason"][0]
    hist = store_history.history(store, "TOK.O3.IN", date(2025, 6, 10), date(2025, 6, 11), revisions=True)
    assert hist["stored_in"].to_list() == ["index_values", "recomputed_values"]
    assert hist["published_at"][0] is not None and hist["published_at"][1] is None
    again = backfill.run_backfill(store, date(2025, 6, 9), date(2025, 6, 12), ["TOK.O3.IN"], now=NOW)
    assert again.recomputed_new == 0 and again.values_new == 0  # idempotent on the kept-apart values too


def test_published_value_revised_only_within_the_window(db: Path, tmp_path: Path) -> None:
    store = loaded(db)
    early = datetime(2025, 6, 11, 8, 0, tzinfo=UTC)  # before T+1 09:00 for 2025-06-10
    backfill.run_backfill(store, date(2025, 6, 10), date(2025, 6, 11), ["TOK.O3.IN"], now=early)
    jobs.publish_day(store, date(2025, 6, 10), tmp_path / "pub")
    extra = tmp_path / "late.csv"  # a late list price of the maker (first-party rule, METHODOLOGY.md §14 T3.6)
    extra.write_text("observed_at,provider,model,usd_per_mtok_input,usd_per_mtok_output\n"
                     "2025-06-09T12:00:00Z,openai,openai/o3,4.0,16.0\n")
    run_import(store, "quotes", extra, ImportOptions(now=NOW))
    r = backfill.run_backfill(store, date(2025, 6, 10), date(2025, 6, 11), ["TOK.O3.IN"], now=early)
    assert r.revisions_allowed == 1 and r.values_published_kept == 0
    latest = values(store)
    assert latest["revision"].to_list() == [1] and latest["reason"].to_list() == ["backfill: revision within window"]


def test_revision_rule() -> None:
    d = date(2025, 6, 10)
    inside, after = datetime(2025, 6, 11, 8, 59, tzinfo=UTC), datetime(2025, 6, 11, 9, 1, tzinfo=UTC)
    assert backfill.revision_allowed(d, inside, 10.0, 10.1)
    assert not backfill.revision_allowed(d, inside, 10.0, 10.04)  # below 0.5%
    assert not backfill.revision_allowed(d, inside, 1.0, 1.009)  # below $0.01
    assert not backfill.revision_allowed(d, after, 10.0, 20.0)  # window closed


def test_bad_ranges_and_methodology(db: Path) -> None:
    store = loaded(db)
    with pytest.raises(SpotindexError, match="empty range"):
        backfill.run_backfill(store, date(2025, 6, 10), date(2025, 6, 10), O3, now=NOW)
    with pytest.raises(SpotindexError, match="in the future"):
        backfill.run_backfill(store, date(2027, 1, 1), date(2027, 2, 1), O3, now=NOW)
    with pytest.raises(SpotindexError, match="cannot recompute under 9.9.9"):
        backfill.run_backfill(store, date(2025, 6, 10), date(2025, 6, 11), O3, methodology="9.9.9", now=NOW)
    with pytest.raises(SpotindexError, match="unknown series"):
        backfill.run_backfill(store, date(2025, 6, 10), date(2025, 6, 11), ["TOK.NOPE"], now=NOW)


def test_days_without_data_are_reported_not_invented(db: Path) -> None:
    store = loaded(db)
    r = backfill.run_backfill(store, date(2025, 3, 1), date(2025, 3, 4), O3, now=NOW)
    assert r.days_without_values == [date(2025, 3, 1), date(2025, 3, 2), date(2025, 3, 3)]
    # methodology v1 records each day's status (no inputs, nothing to carry: SUSPENDED), never a value
    rows = store.frame("SELECT value, status FROM latest_index_values WHERE date BETWEEN '2025-03-01' AND '2025-03-03'")
    assert rows["value"].null_count() == rows.height and set(rows["status"]) <= {"SUSPENDED", "CONTINGENCY"}


def test_other_methodology_published_is_kept_and_recomputation_shown_apart(db: Path, tmp_path: Path) -> None:
    store = loaded(db)
    backfill.run_backfill(store, date(2025, 6, 10), date(2025, 6, 12), ["TOK.O3.IN"], now=NOW)
    jobs.publish_day(store, date(2025, 6, 11), tmp_path / "pub")
    with store.write() as con:  # as if 06-11 had been published under an older methodology
        con.execute("UPDATE index_values SET methodology_version = '0.0.9' WHERE date = '2025-06-11'").fetchall()
    r = backfill.run_backfill(store, date(2025, 6, 10), date(2025, 6, 12), ["TOK.O3.IN"], now=NOW)
    assert r.values_published_kept == 1 and r.recomputed_new == 1
    published = store_history.history(store, "TOK.O3.IN", date(2025, 6, 11), date(2025, 6, 12), revisions=False)
    assert published["methodology_version"].to_list() == ["0.0.9"]
    version = definitions.load().methodology
    current = store_history.history(store, "TOK.O3.IN", date(2025, 6, 10), date(2025, 6, 12), revisions=False,
                                    methodology=version)
    assert current["stored_in"].to_list() == ["index_values", "recomputed_values"]
    assert f"methodology {version}" in current["reason"][1]
