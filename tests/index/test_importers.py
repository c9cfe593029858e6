"""Importers on the project's own small fixtures: formats, idempotency, dataset tagging, bad input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from index.importers import ImportFileError, ImportOptions, load_venue_map, run_import
from index.importers.intervals import expand
from index.importers.provider_summary import summary_gpu_model
from index.store import Store
from tests.conftest import FIXTURES

IMP = FIXTURES / "imports"
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def opts(**kw: object) -> ImportOptions:
    return ImportOptions(now=NOW, **kw)  # type: ignore[arg-type]


def messages(result, path: Path) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Reason -> its one-line message, in line order."""
    return {r.reason: r.message(path) for r in sorted(result.reasons.values(), key=lambda r: r.line)}


def test_quotes_gpu_normalised_loads_tags_and_is_idempotent(db: Path) -> None:
    store = Store(db)
    path = IMP / "gpu_quotes.csv"
    r = run_import(store, "quotes", path, opts())
    assert (r.kind, r.rows_read, r.rows_loaded, r.rows_new) == ("gpu", 10, 4, 4)
    assert r.skipped == {"duplicate row (same key, same price)": 1}
    rows = store.frame("SELECT * FROM gpu_quotes ORDER BY offer_id")
    assert set(rows["dataset"]) == {"import:gpu_quotes"} and set(rows["source"]) == {"desk"}
    assert set(rows["gpu_model"]) == {"H100-SXM-80GB"}
    assert rows.filter(pl.col("offer_id") == "r-1")["price_usd_per_gpu_hour"].to_list() == [2.69]  # first wins
    assert len(set(rows["raw_sha256"])) == 1 and len(rows["raw_sha256"][0]) == 64
    again = run_import(store, "quotes", path, opts())
    assert (again.rows_loaded, again.rows_new, again.quarantine_new) == (4, 0, 0)
    assert store.count("gpu_quotes") == 4 and store.count("quarantine") == 5
    imports = store.frame("SELECT rows_new, rows_quarantined FROM imports ORDER BY started_at")
    assert imports.rows() == [(4, 5), (0, 5)]


def test_quotes_bad_cells_name_file_line_and_column(db: Path) -> None:
    path = IMP / "gpu_quotes.csv"
    r = run_import(Store(db), "quotes", path, opts())
    got = list(messages(r, path).values())
    expected_fragments = [
        (":6: column 'price_usd_per_hour': not a number", "'$2.40'"),
        (":7: column 'venue': a number in a text column", "'2.49'"),
        (":8: column 'observed_at': in the future", "2099-01-01"),
        (":9: column 'price_usd_per_gpu_hour': duplicate of line 3 with a different price", "'2.79'"),
        (":11: column 'price_usd_per_hour': price_usd_per_hour <= 0", "'-1.0'"),
    ]
    assert len(got) == len(expected_fragments)
    for (where, value), msg in zip(expected_fragments, got, strict=True):
        assert msg.startswith(str(path)) and where in msg and value in msg and "\n" not in msg
    q = Store(db).frame("SELECT record_key, field, reason, dataset FROM quarantine ORDER BY record_key")
    assert q["record_key"].to_list()[0] == "gpu_quotes.csv:11" and set(q["dataset"]) == {"import:gpu_quotes"}


def test_quotes_any_csv_with_map_and_set(db: Path) -> None:
    store = Store(db)
    r = run_import(store, "quotes", IMP / "foreign_gpu.csv", opts(
        maps={"observed_at": "as_of_date", "venue": "source_name", "gpu_model": "gpu", "price_usd_per_gpu_hour":
              "hourly"}, sets={"pricing_class": "on_demand", "venue_class": "neocloud"}, ignore_unknown=True,
        source="desk"))
    assert (r.rows_loaded, r.quarantined) == (3, 0)
    rows = store.frame("SELECT observed_at, venue, gpu_model, price_usd_per_hour, gpu_count, tier FROM gpu_quotes "
                       "ORDER BY observed_at, venue")
    assert rows["venue"].to_list() == ["lambda", "runpod", "lambda"]
    assert set(rows["gpu_model"]) == {"H100-SXM-80GB"} and set(rows["gpu_count"]) == {1}
    assert rows["observed_at"][2] == datetime(2025, 3, 2, tzinfo=UTC)
    assert rows["price_usd_per_hour"].to_list() == [2.99, 2.69, 2.49]


def test_quotes_parquet_tokens(db: Path, tmp_path: Path) -> None:
    path = tmp_path / "tokens.parquet"
    pl.DataFrame({
        "observed_at": [datetime(2025, 6, 1, tzinfo=UTC)] * 3,
        "provider": ["DeepInfra", "together", "acme"],
        "model": ["meta-llama/Llama-3.3-70B-Instruct", "llama-3.3-70b-instruct", "acme/x"],
        "usd_per_mtok_input": [0.23, 0.88, None], "usd_per_mtok_output": [0.4, 0.88, None],
    }).write_parquet(path)
    store = Store(db)
    r = run_import(store, "quotes", path, opts(source="archive"))
    assert (r.kind, r.rows_loaded, r.quarantined) == ("token", 2, 1)
    assert next(iter(r.reasons.values())).message(path).startswith(f"{path}:3: column 'usd_per_mtok_input'")
    rows = store.frame("SELECT provider, model, dataset FROM token_prices ORDER BY provider")
    assert rows.rows() == [("deepinfra", "meta-llama/llama-3.3-70b-instruct", "import:tokens"),
                           ("together", "meta-llama/llama-3.3-70b-instruct", "import:tokens")]


def test_unknown_column_refuses_the_file_with_line_and_column(db: Path) -> None:
    path = IMP / "unknown_column.csv"
    with pytest.raises(ImportFileError, match=r"unknown_column\.csv:1: column 'price_usd_per_gpu_hr': unknown column"):
        run_import(Store(db), "quotes", path, opts())
    r = run_import(Store(db), "quotes", path, opts(ignore_unknown=True))
    assert r.rows_loaded == 0 and r.quarantined == 1  # venue 'nosuchcloud' has no class: quarantined, told why
    assert "venue_class unknown" in next(iter(r.reasons.values())).reason


def test_missing_required_column_and_bad_map(db: Path) -> None:
    with pytest.raises(ImportFileError, match="column 'pricing_class': required column missing"):
        run_import(Store(db), "quotes", IMP / "foreign_gpu.csv", opts(
            maps={"observed_at": "as_of_date", "venue": "source_name", "gpu_model": "gpu",
                  "price_usd_per_gpu_hour": "hourly"}, ignore_unknown=True))
    with pytest.raises(ImportFileError, match="column 'nope': --map price_usd_per_gpu_hour=nope"):
        run_import(Store(db), "quotes", IMP / "foreign_gpu.csv", opts(maps={"price_usd_per_gpu_hour": "nope"}))


def test_intervals_openrouter_shape_expands_daily_from_valid_from(db: Path) -> None:
    store = Store(db)
    r = run_import(store, "intervals", IMP / "ledger_openrouter.csv", opts())
    assert r.source == "openrouter-ledger" and r.skipped == {
        "empty interval (valid_to = valid_from): nothing to sample": 1}
    assert [x.reason for x in r.reasons.values()] == ["usd_per_mtok_input is NaN, infinite, zero or negative"]
    o3 = store.frame("SELECT observed_at, usd_per_mtok_input AS p, provider, model FROM token_prices "
                     "WHERE source_model_id = 'openai/o3' ORDER BY observed_at")
    assert set(o3["provider"]) == {"openrouter"} and set(o3["model"]) == {"openai/o3"}
    times = o3["observed_at"].to_list()
    assert times[0] == datetime(2025, 4, 17, tzinfo=UTC)
    assert all(b - a == timedelta(days=1) for a, b in zip(times, times[1:], strict=False))
    assert times[-1] == datetime(2025, 6, 30, tzinfo=UTC)  # open interval: until the ledger's last date (07-01)
    cut = o3.filter(pl.col("observed_at") == datetime(2025, 6, 11, tzinfo=UTC))["p"].to_list()
    assert cut == [2.0]  # the change point itself carries the new price (the old interval stops before)
    assert o3.filter(pl.col("observed_at") < datetime(2025, 6, 11, tzinfo=UTC))["p"].unique().to_list() == [10.0]


def test_intervals_litellm_sub_daily_change_and_aliases(db: Path) -> None:
    store = Store(db)
    r = run_import(store, "intervals", IMP / "ledger_litellm.csv", opts())
    assert r.source == "litellm" and r.quarantined == 1
    rows = store.frame("SELECT observed_at, provider, model, source_model_id, usd_per_mtok_input AS p, "
                       "usd_per_mtok_cached_input AS c FROM token_prices ORDER BY observed_at")
    assert set(rows["model"]) == {"openai/o3"}  # "o3" and "azure/o3" via data/import_aliases.toml
    assert set(rows["provider"]) == {"openai", "azure"}
    change = rows.filter(pl.col("observed_at") == datetime(2025, 6, 11, 0, 35, 23, tzinfo=UTC))
    assert change.rows() == [(datetime(2025, 6, 11, 0, 35, 23, tzinfo=UTC), "openai", "openai/o3", "o3", 2.0, 0.5)]
    day = rows.filter(pl.col("observed_at") == datetime(2025, 6, 11, tzinfo=UTC))
    assert sorted(day["p"].to_list()) == [10.0, 10.0]  # 00:00 sample: both still at the old price


def test_intervals_llm_prices_and_llmrates_shapes(db: Path) -> None:
    store = Store(db)
    r = run_import(store, "intervals", IMP / "ledger_llm_prices.csv", opts())
    assert r.source == "llm-prices" and "valid_from missing" in next(iter(r.reasons.values())).reason
    first = store.frame("SELECT min(observed_at) AS t FROM token_prices WHERE source_model_id='deepseek-chat'")
    assert first["t"][0] == datetime(2025, 2, 8, tzinfo=UTC)
    r2 = run_import(store, "intervals", IMP / "ledger_llmrates.csv", opts())
    assert r2.source == "llmrates" and r2.rows_loaded == 2 and r2.quarantined == 1  # CNY refused
    models = store.frame("SELECT model FROM token_prices WHERE source = 'llmrates' ORDER BY 1")["model"].to_list()
    assert models == ["o3@batch", "openai/o3"]  # a batch tier never shares the model id of the standard price


def test_intervals_bad_input_each_has_a_defined_outcome(db: Path) -> None:
    path = IMP / "ledger_bad.csv"
    r = run_import(Store(db), "intervals", path, opts())
    msgs = sorted(m for m in messages(r, path).values())
    assert any(":3: column 'usd_per_mtok_input': interval overlaps line 2" in m and "different price" in m
               for m in msgs)
    assert any(":4: column 'valid_to': valid_to is before valid_from (reversed)" in m for m in msgs)
    assert any(":7: column 'usd_per_mtok_input': not a number" in m and "'USD 1.00'" in m for m in msgs)
    assert any(":8: column 'valid_from': valid_from in the future" in m for m in msgs)
    assert any(":9: column 'valid_from': not a date" in m and "2025-13-45" in m for m in msgs)
    assert any(":10: column 'model': a number in a text column" in m for m in msgs)
    assert r.skipped == {"duplicate interval (overlaps one with the same price)": 1}
    stored = Store(db).frame("SELECT DISTINCT model FROM token_prices ORDER BY 1")["model"].to_list()
    assert stored == ["acme/a", "acme/c"]
    # the future row does not stretch open intervals into the future: the as-of is the latest real date
    assert Store(db).frame("SELECT max(observed_at) AS t FROM token_prices")["t"][0] <= datetime(2025, 3, 1,
                                                                                                 tzinfo=UTC)


def test_provider_summary_venue_is_provider_offer_per_provider_and_tier(db: Path) -> None:
    store = Store(db)
    r = run_import(store, "provider-summary", IMP / "provider_summary.csv",
                   opts(source="primeintellect", venue_map=load_venue_map(IMP / "venue_map.csv")))
    assert (r.rows_loaded, r.quarantined, r.notes["tier"]) == (10, 0, "T2")
    rows = store.frame("SELECT venue, venue_class, gpu_model, offer_id, price_usd_per_gpu_hour AS p, tier "
                       "FROM gpu_quotes ORDER BY observed_at, venue")
    assert set(rows["gpu_model"]) == {"H100-SXM-80GB", "H200-SXM-141GB"}
    assert set(rows["venue"]) == {"runpod", "lambda", "nebius", "hyperstack", "primeintellect-dc"}
    assert rows.filter(pl.col("venue") == "runpod")["offer_id"].unique().to_list() == [
        "summary|runpod|H100_80GB|SXM5"]
    assert rows.filter(pl.col("venue") == "runpod")["p"].to_list() == [2.59, 2.49, 2.49]  # the provider's average
    r_min = run_import(Store(db.with_name("min.duckdb")), "provider-summary", IMP / "provider_summary.csv",
                       opts(price="min"))
    assert r_min.rows_loaded == 10


def test_provider_summary_sparse_snapshots_are_list_prices(db: Path, tmp_path: Path) -> None:
    text = (IMP / "provider_summary.csv").read_text().replace("T21:31", "T23:31").replace("T22:01", "T23:59")
    daily = tmp_path / "daily.csv"
    lines = text.splitlines()
    daily.write_text("\n".join([lines[0]] + [ln.replace("2025-10-19T21", "2025-10-18T21") for ln in lines[1:5]]
                               + lines[5:]) + "\n")
    r = run_import(Store(db), "provider-summary", daily, opts())
    assert r.notes["tier"] == "T3"


@pytest.mark.parametrize(("name", "model"), [
    ("H100_80GB|SXM5", "H100-SXM-80GB"), ("H100_80GB|PCIe", "H100-PCIE-80GB"), ("H200_141GB|", "H200-SXM-141GB"),
    ("A100_80GB|SXM4", "A100-SXM-80GB"), ("A100_80GB|PCIe", "A100-PCIE-80GB"), ("B200_180GB|", "B200-SXM-180GB"),
    ("GH200_96GB|", "GH200-96GB"), ("H100|", "unknown:H100"),
])
def test_summary_gpu_names(name: str, model: str) -> None:
    assert summary_gpu_model(name) == model


def test_streamed_in_bounded_batches(db: Path, tmp_path: Path) -> None:
    n = 30_000
    path = tmp_path / "big.csv"
    pl.DataFrame({
        "observed_at": [f"2025-01-{1 + i % 28:02d}T{i % 24:02d}:00:00Z" for i in range(n)],
        "venue": ["vastai"] * n, "offer_id": [f"o{i}" for i in range(n)], "gpu_model": ["H100 SXM"] * n,
        "price_usd_per_gpu_hour": [2.0 + (i % 100) / 100 for i in range(n)], "pricing_class": ["on_demand"] * n,
    }).write_csv(path)
    r = run_import(Store(db), "quotes", path, opts(batch_rows=4_000))
    assert r.rows_loaded == n and r.rows_new == n and r.quarantined == 0
    assert r.batches >= n // 4_000 and r.max_batch_rows <= 4_000


def test_bad_csv_is_one_error(db: Path, tmp_path: Path) -> None:
    path = tmp_path / "ragged.csv"
    path.write_text("observed_at,venue,gpu_model,price_usd_per_gpu_hour,pricing_class\n"
                    "2025-01-01,vastai,H100 SXM,2.0,on_demand,EXTRA,MORE\n")
    with pytest.raises(ImportFileError, match="ragged.csv"):
        run_import(Store(db), "quotes", path, opts(venue_map={}))
    with pytest.raises(ImportFileError, match="no such file"):
        run_import(Store(db), "quotes", tmp_path / "absent.csv", opts())


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 24 * 60), st.integers(1, 24 * 40), st.floats(0.1, 100)), min_size=1,
                max_size=6), st.sampled_from([1, 6, 24, 72]))
def test_expansion_keeps_the_price_in_force_at_every_fixing(spans: list[tuple[int, int, float]], step_h: int) -> None:
    """As-of correctness of the interval join: at every hourly fixing inside an interval, the latest
    observation at or before it carries that interval's price and lies within the 7-day list-price window."""
    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    # contiguous intervals (a ledger's change points), each starting where the previous ended
    starts, cursor = [], t0
    for gap_min, _, _ in spans:
        cursor = cursor + timedelta(minutes=gap_min)
        starts.append(cursor)
    ends = starts[1:] + [starts[-1] + timedelta(hours=spans[-1][1])]
    frame = pl.DataFrame({"source": "s", "provider": "p", "source_model_id": "m", "_line": range(len(spans)),
                          "price": [s[2] for s in spans], "valid_from": starts, "valid_to": ends},
                         schema_overrides={"valid_from": pl.Datetime("us", "UTC"),
                                           "valid_to": pl.Datetime("us", "UTC")})
    frame = frame.filter(pl.col("valid_to") > pl.col("valid_from"))
    if frame.height == 0:
        return
    obs = expand(frame, timedelta(hours=step_h), ends[-1], ["source", "provider", "source_model_id"]).sort(
        "observed_at")
    assert obs.height > 0
    for row in frame.iter_rows(named=True):
        h = row["valid_from"].replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        while h < row["valid_to"]:
            before = obs.filter(pl.col("observed_at") <= h)
            assert before.height, h
            last = before.row(-1, named=True)
            assert last["price"] == row["price"]
            assert h - last["observed_at"] < timedelta(hours=168)
            h += timedelta(hours=max(1, step_h // 2))
