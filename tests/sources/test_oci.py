"""Oracle Cloud price list: parser on our fixture, contract on the real capture, bad input, faults."""

from __future__ import annotations

import json

import httpx
import polars as pl
import pytest

from index import validate
from index.errors import SourceError
from sources.oci import SOURCE, URL
from tests.sources.conftest import OBSERVED, own_fixture, raw, run, shared_fixture

BODY = own_fixture("oci", "products.json")


def _split(body: bytes | str) -> tuple[pl.DataFrame, pl.DataFrame]:
    df = SOURCE.parse([raw("oci", URL, body)], OBSERVED)
    return validate.split(df.with_columns(dataset=pl.lit("test")), "gpu")


def _by_part(df: pl.DataFrame) -> dict[str, dict]:
    return {r["offer_id"].split(":")[0]: r for r in df.to_dicts()}


def test_parse_own_fixture() -> None:
    good, quarantine = _split(BODY)
    rows = _by_part(good)
    # AI Enterprise licence, Cloud@Customer, VMware node and OCPU rows are not GPU compute quotes
    assert set(rows) == {"B98415", "B110519", "B95909", "B92740"} and quarantine.height == 0
    h100 = rows["B98415"]
    assert (h100["offer_id"], h100["gpu_model"], h100["gpu_count"]) == ("B98415:BM.GPU.H100.8", "H100-SXM-80GB", 8)
    assert h100["price_usd_per_gpu_hour"] == 10.0 and h100["price_usd_per_hour"] == 80.0
    assert (h100["venue"], h100["venue_class"], h100["pricing_class"], h100["tier"]) == (
        "oci", "hyperscaler", "on_demand", "T3")
    assert (rows["B110519"]["gpu_model"], rows["B110519"]["price_usd_per_hour"]) == ("H200-SXM-141GB", 76.0)
    assert (rows["B95909"]["gpu_model"], rows["B95909"]["gpu_count"]) == ("A10-24GB", 1)
    assert rows["B92740"]["gpu_model"] == "unknown:Compute - GPU - E3"  # generation code, not guessed


def test_contract_real_capture() -> None:
    good, quarantine = _split(shared_fixture("oci", "cetools_products_usd_trimmed.json").read_bytes())
    assert quarantine.height == 0 and good.height > 10
    assert (good["price_usd_per_hour"] > 0).all()
    assert ((good["price_usd_per_hour"] / good["gpu_count"] - good["price_usd_per_gpu_hour"]).abs() < 1e-9).all()
    assert good["observed_at"].dtype.time_zone == "UTC"
    rows = _by_part(good)
    assert (rows["B98415"]["gpu_model"], rows["B98415"]["price_usd_per_hour"]) == ("H100-SXM-80GB", 80.0)
    assert (rows["B110519"]["gpu_model"], rows["B110519"]["price_usd_per_gpu_hour"]) == ("H200-SXM-141GB", 10.0)
    # the fences: no licence, on-premises or per-node rows got through
    assert not {"B111824", "B111830", "B110965", "B111455", "B108806", "B109493"} & set(rows)


def test_empty_list_gives_no_rows() -> None:
    assert SOURCE.parse([raw("oci", URL, '{"lastUpdated": "x", "items": []}')], OBSERVED).height == 0


def _with_first_item(**changes: object) -> str:
    doc = json.loads(BODY)
    doc["items"][0].update(changes)
    return json.dumps(doc)


def test_missing_prices_in_one_item_are_quarantined() -> None:
    good, quarantine = _split(_with_first_item(currencyCodeLocalizations=[]))
    assert good.height == 3 and "currencyCodeLocalizations missing or empty" in quarantine["reason"][0]


def test_renamed_field_names_the_field() -> None:
    with pytest.raises(SourceError, match="source oci, field 'metricName'"):
        _split(BODY.replace(b'"metricName"', b'"metric"'))


def test_string_and_zero_prices_are_quarantined() -> None:
    loc = [{"currencyCode": "USD", "prices": [{"model": "PAY_AS_YOU_GO", "value": "ten"}]}]
    _, quarantine = _split(_with_first_item(currencyCodeLocalizations=loc))
    assert "price is not a number: 'ten'" in quarantine["reason"][0]
    loc = [{"currencyCode": "USD", "prices": [{"model": "PAY_AS_YOU_GO", "value": 0}]}]
    _, quarantine = _split(_with_first_item(currencyCodeLocalizations=loc))
    assert "not offered" in quarantine["reason"][0]


def test_non_usd_price_is_quarantined() -> None:
    loc = [{"currencyCode": "EUR", "prices": [{"model": "PAY_AS_YOU_GO", "value": 9.2}]}]
    _, quarantine = _split(_with_first_item(currencyCodeLocalizations=loc))
    assert quarantine["reason"][0] == "currency is not USD and no conversion rate is recorded"


@pytest.mark.parametrize("body, message", [
    (b"<!doctype html><html><title>Maintenance</title></html>", "HTML instead of JSON"),
    (BODY[:200], "invalid JSON"),
    (b'{"lastUpdated": "x", "products": []}', "field 'items'"),
])
def test_bad_bodies_raise(body: bytes, message: str) -> None:
    with pytest.raises(SourceError, match=message):
        _split(body)


def test_fetch_asks_for_usd_and_recovers_from_429() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        if len(seen) == 1:
            return httpx.Response(429, headers={"Retry-After": "0"})
        return httpx.Response(200, content=BODY)

    outcome = run(SOURCE, handler)
    assert outcome.status == "ok" and outcome.rows_loaded == 4
    assert seen == [f"{URL}?currencyCode=USD"] * 2


def test_http_500_fails_the_source(no_backoff: None) -> None:
    outcome = run(SOURCE, lambda req: httpx.Response(500))
    assert outcome.status == "failed" and "source oci: HTTP 500" in (outcome.error or "")
