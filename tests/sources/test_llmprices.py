"""llm-prices current-v1.json: the labs' list prices; contract on the real vendor files."""

from __future__ import annotations

import json

import pytest

from index.errors import SourceError
from sources.llmprices import SOURCE, URL
from tests.sources.tokentools import always, fixture_bytes, parse_split, raw, row, run, serve


def _parse(body: bytes):
    return parse_split(SOURCE, [raw("llmprices", URL, body)])


def test_parser_on_project_fixture() -> None:
    df, good, q = _parse(fixture_bytes("llmprices", "current-v1.json"))
    assert df.height == 8  # the >200k tier of Sonnet 4.5 is a tier, not a model
    r = row(good, source_model_id="gpt-4o")
    assert (r["provider"], r["model"], r["usd_per_mtok_input"], r["usd_per_mtok_cached_input"]) == (
        "openai", "openai/gpt-4o", pytest.approx(2.5), pytest.approx(1.25))
    assert row(good, source_model_id="gpt-4o-2024-05-13")["model"] == "openai/gpt-4o-2024-05-13"
    r = row(good, source_model_id="claude-sonnet-4.5")
    assert (r["provider"], r["model"], r["usd_per_mtok_output"]) == (
        "anthropic", "anthropic/claude-sonnet-4.5", pytest.approx(15.0))
    assert row(good, source_model_id="nova-pro-v1")["provider"] == "aws"
    assert row(good, source_model_id="qwen3-max")[("provider")] == "alibaba"
    assert row(good, source_model_id="gemini-2.5-flash")["model"] == "google/gemini-2.5-flash"
    assert q.height == 1 and q["record_key"][0] == "google|gemini-exp-1206" and "is 0" in q["reason"][0]


def test_contract_on_the_real_vendor_files(shared) -> None:
    """current-v1.json is the vendor files' open-ended price_history entries, flattened (SOURCE.txt)."""
    prices = []
    data_dir = shared("llm-prices", "data")
    for path in sorted(data_dir.glob("*.json")):
        vendor = json.loads(path.read_text())
        for m in vendor["models"]:
            for h in m["price_history"]:
                if h["to_date"] is None:
                    prices.append({"id": m["id"], "vendor": vendor["vendor"], "name": m["name"], "input": h["input"],
                                   "output": h["output"], "input_cached": h["input_cached"]})
    _, good, q = _parse(json.dumps({"updated_at": "2026-08-05", "prices": prices}).encode())
    # the vendor files list some models twice with the same prices (xai's grok-4-fast): each extra
    # copy is quarantined as a duplicate, nothing else is
    seen: dict[tuple, int] = {}
    for p in prices:
        key = (p["vendor"], p["id"], p["input"], p["output"], p["input_cached"])
        seen[key] = seen.get(key, 0) + 1
    copies = sum(n - 1 for n in seen.values())
    assert good.height >= 100 and good["provider"].n_unique() >= 10
    assert q.height == copies and q["reason"].str.starts_with("duplicate:").all()
    assert (good["usd_per_mtok_input"] > 0).all() and (good["usd_per_mtok_output"] > 0).all()
    assert row(good, provider="openai", source_model_id="gpt-4o")["usd_per_mtok_input"] == pytest.approx(2.5)
    known = good.filter(good["model"].is_in(["openai/gpt-4o", "anthropic/claude-sonnet-4.5", "google/gemini-2.5-pro",
                                             "deepseek/deepseek-v4-pro", "amazon/nova-pro-v1"]))
    assert known["model"].n_unique() == 5


@pytest.mark.parametrize("body, field", [
    (b"<!DOCTYPE html><title>404</title>", None),
    (b'{"updated_at": "2026-11-18", "prices": [{"id": "gpt-4o"', None),
    (b'{"updated_at": "2026-11-18", "prices": []}', "prices"),
    (b'{"updated_at": "2026-11-18", "models": []}', "prices"),
    (b'{"prices": [{"id": "gpt-4o", "vendor": "openai", "input_price": 2.5, "output": 10}]}', "input"),
])
def test_malformed_bodies_raise_naming_the_source(body: bytes, field: str | None) -> None:
    with pytest.raises(SourceError) as err:
        _parse(body)
    assert "source llmprices" in str(err.value)
    if field:
        assert err.value.field == field


def test_a_string_where_a_number_was_is_quarantined() -> None:
    body = b'{"prices": [{"id": "gpt-4o", "vendor": "openai", "input": "2.5", "output": 10},' \
           b' {"id": "o3", "vendor": "openai", "input": "two", "output": 8}]}'
    _, good, q = _parse(body)
    assert row(good, source_model_id="gpt-4o")["usd_per_mtok_input"] == pytest.approx(2.5)
    assert q.height == 1 and "input is not a number: 'two'" in q["reason"][0]


def test_fetch_retries_a_429_then_loads() -> None:
    outcome = run(SOURCE, serve({URL: fixture_bytes("llmprices", "current-v1.json")}, first_status=429))
    assert (outcome.status, outcome.rows_loaded, outcome.rows_quarantined) == ("partial", 7, 1)


def test_fetch_500_every_time_fails_the_source() -> None:
    outcome = run(SOURCE, always(500))
    assert outcome.status == "failed" and "source llmprices" in outcome.error and "HTTP 500" in outcome.error
