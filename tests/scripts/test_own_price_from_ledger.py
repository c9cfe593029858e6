"""A company's own monthly price from a price ledger (scripts/own_price_from_ledger.py): synthetic ledgers only."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest

from index.hedging_data import read_month_prices
from scripts.own_price_from_ledger import LedgerError, as_of, intervals, main, monthly_prices

LITELLM_HEADER = ("model,litellm_provider,mode,input_usd_per_mtok,output_usd_per_mtok,cache_read_usd_per_mtok,"
                  "cache_write_usd_per_mtok,valid_from,valid_to,from_commit,to_commit,change_at_end\n")
OPENROUTER_HEADER = ("model_id,name,valid_from,valid_to,prompt_usd_per_mtok,completion_usd_per_mtok,first_seen,"
                     "last_seen,present_now\n")


def litellm(tmp_path: Path, rows: str) -> Path:
    p = tmp_path / "litellm.csv"
    p.write_text(LITELLM_HEADER + rows)
    return p


def read(path: Path) -> pl.DataFrame:
    return pl.read_csv(path, infer_schema=False)


def test_a_price_cut_inside_a_month_is_weighted_by_the_time_in_force(tmp_path: Path) -> None:
    ledger = read(litellm(tmp_path, (
        "azure/o3,azure,chat,10.0,40.0,2.5,,2025-04-20T00:00:00Z,2025-06-21T06:00:00Z,a,b,\n"
        "azure/o3,azure,chat,2.0,8.0,0.5,,2025-06-21T06:00:00Z,,b,,\n"
        "other,azure,chat,1.0,1.0,,,2025-01-01T00:00:00Z,2025-09-15T00:00:00Z,a,b,\n")))
    iv = intervals(ledger, "azure/o3", "input")
    assert iv["price"].to_list() == [10.0, 2.0] and iv["valid_to"][1] is None
    last = as_of(ledger)
    assert last == datetime(2025, 9, 15, tzinfo=UTC)  # the ledger's last date: where open intervals end
    kept, short = monthly_prices(iv, date(2025, 4, 1), date(2025, 10, 1), last)
    june = (20.25 * 10.0 + 9.75 * 2.0) / 30  # 10 until 21 June 06:00, then 2
    assert kept["month"].to_list() == [date(2025, 5, 1), date(2025, 6, 1), date(2025, 7, 1), date(2025, 8, 1)]
    assert kept["price"].to_list() == pytest.approx([10.0, june, 2.0, 2.0])
    # April: 11 days from the 20th; September: 14 days until the ledger ends
    assert short["month"].to_list() == [date(2025, 4, 1), date(2025, 9, 1)]
    assert short["days"].to_list() == pytest.approx([11.0, 14.0])
    blended = intervals(ledger, "azure/o3", "blended")["price"].to_list()
    assert blended == pytest.approx([(3 * 10 + 40) / 4, (3 * 2 + 8) / 4])


def test_openrouter_ledger_with_dates_only(tmp_path: Path) -> None:
    p = tmp_path / "or.csv"
    p.write_text(OPENROUTER_HEADER
                 + "openai/o1-mini,o1,2024-09-21,2025-02-01,3.0,12.0,2024-09-21,2025-10-27,False\n"
                 + "openai/o1-mini,o1,2025-02-01,2025-03-01,1.1,4.4,2024-09-21,2025-10-27,False\n"
                 + "openai/o1-mini,o1,2025-03-01,2025-03-01,9.9,9.9,2024-09-21,2025-10-27,False\n")  # empty: ignored
    ledger = read(p)
    kept, _ = monthly_prices(intervals(ledger, "openai/o1-mini", "output"), date(2025, 1, 1), date(2025, 4, 1),
                             as_of(ledger))
    assert kept["price"].to_list() == pytest.approx([12.0, 4.4])  # March: the ledger has no price
    with pytest.raises(LedgerError, match="no provider column"):
        intervals(ledger, "openai/o1-mini", "input", provider="openai")


def test_overlapping_prices_unknown_keys_and_providers_are_refused(tmp_path: Path) -> None:
    ledger = read(litellm(tmp_path, (
        "gpt-x,openai,chat,1.0,2.0,,,2025-01-01T00:00:00Z,,a,,\n"
        "gpt-x,azure,chat,1.5,2.0,,,2025-01-10T00:00:00Z,,a,,\n"
        "gpt-x-mini,openai,chat,0.1,0.2,,,2025-01-01T00:00:00Z,2025-03-01T00:00:00Z,a,b,\n")))
    with pytest.raises(LedgerError, match=r"overlap with different prices .*give --provider"):
        monthly_prices(intervals(ledger, "gpt-x", "input"), date(2025, 1, 1), date(2025, 3, 1), as_of(ledger))
    kept, _ = monthly_prices(intervals(ledger, "gpt-x", "input", provider="azure"), date(2025, 2, 1),
                             date(2025, 3, 1), datetime(2025, 3, 1, tzinfo=UTC))
    assert kept["price"].to_list() == [1.5]
    with pytest.raises(LedgerError, match=r"no rows for key 'gpt' .*keys containing 'gpt': gpt-x, gpt-x-mini"):
        intervals(ledger, "gpt", "input")
    with pytest.raises(LedgerError, match="not a LiteLLM or OpenRouter price ledger"):
        intervals(pl.DataFrame({"a": ["1"]}), "gpt-x", "input")


def test_the_file_written_is_what_hedge_reads(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = litellm(tmp_path, "m,p,chat,4.0,8.0,,,2025-01-01T00:00:00Z,2025-02-15T00:00:00Z,a,b,\n"
                             "m,p,chat,2.0,8.0,,,2025-02-15T00:00:00Z,2025-04-01T00:00:00Z,b,c,\n")
    out = tmp_path / "own.csv"
    assert main([str(path), "--key", "m", "--from", "2025-01", "--to", "2025-04", "--out", str(out)]) == 0
    prices = read_month_prices(out)
    assert prices["month"].to_list() == [date(2025, 1, 1), date(2025, 2, 1), date(2025, 3, 1)]
    assert prices["price"].to_list() == pytest.approx([4.0, 3.0, 2.0])
    assert main([str(path), "--key", "m", "--from", "2025-05", "--to", "2025-04", "--out", str(out)]) == 1
    assert "error: --from 2025-05-01 is not before --to 2025-04-01" in capsys.readouterr().err
    assert main([str(tmp_path / "nope.csv"), "--key", "m", "--from", "2025-01", "--to", "2025-04",
                 "--out", str(out)]) == 1
    assert "nope.csv: file not found" in capsys.readouterr().err
