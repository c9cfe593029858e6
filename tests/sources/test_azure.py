"""Azure Retail Prices: parser on our pages, contract on the real capture, bad input, fetch faults."""

from __future__ import annotations

import json

import httpx
import polars as pl
import pytest

from index import validate
from index.errors import SourceError
from sources.azure import ARM_SKUS, SOURCE, URL, first_page_url
from tests.sources.conftest import OBSERVED, own_fixture, raw, run, shared_fixture

PAGE1 = own_fixture("azure", "nd96isr_h100_v5_page1.json")
PAGE2 = own_fixture("azure", "nd96isr_h100_v5_page2.json")
EMPTY = json.dumps({"BillingCurrency": "USD", "Items": [], "NextPageLink": None, "Count": 0}).encode()


def _split(*bodies: bytes | str) -> tuple[pl.DataFrame, pl.DataFrame]:
    df = SOURCE.parse([raw("azure", URL, b) for b in bodies], OBSERVED)
    return validate.split(df.with_columns(dataset=pl.lit("test")), "gpu")


def _one_item(**changes: object) -> str:
    item = json.loads(PAGE1)["Items"][0]
    item.update(changes)
    return json.dumps({"BillingCurrency": "USD", "Items": [item], "NextPageLink": None, "Count": 1})


def test_parse_own_pages() -> None:
    good, quarantine = _split(PAGE1, PAGE2)
    assert quarantine.height == 0
    assert good.height == 5  # Windows, Low Priority and Dev/Test rows are not quotes we index
    by = {(r["region"], r["pricing_class"]): r for r in good.to_dicts()}
    od = by[("eastus", "on_demand")]
    assert (od["gpu_model"], od["gpu_count"], od["venue"], od["venue_class"]) == ("H100-SXM-80GB", 8, "azure",
                                                                                  "hyperscaler")
    assert od["price_usd_per_hour"] == 98.32 and od["price_usd_per_gpu_hour"] == pytest.approx(12.29)
    assert by[("eastus", "spot")]["price_usd_per_gpu_hour"] == pytest.approx(3.687)
    # reservations: retailPrice is the whole term's price -> / (8760 h x years)
    assert by[("eastus", "reserved_1y")]["price_usd_per_hour"] == pytest.approx(60.0)
    assert by[("eastus", "reserved_1y")]["price_usd_per_gpu_hour"] == pytest.approx(7.5)
    assert by[("eastus", "reserved_3y")]["price_usd_per_gpu_hour"] == pytest.approx(5.625)
    assert by[("westeurope", "on_demand")]["price_usd_per_gpu_hour"] == pytest.approx(13.765)
    assert set(good["tier"]) == {"T3"}


def test_contract_real_capture() -> None:
    body = shared_fixture("azure", "retail_prices_standard_d2s_v3_eastus_spot.json").read_bytes()
    df = SOURCE.parse([raw("azure", URL, body)], OBSERVED)
    # 6 items: Windows (3) and Low Priority (2, one of them Windows) dropped -> Linux pay-as-you-go and Spot
    assert sorted(zip(df["pricing_class"], df["price_usd_per_hour"], strict=True)) == [
        ("on_demand", 0.096), ("spot", 0.018816)]
    assert (df["price_usd_per_hour"] > 0).all() and set(df["region"]) == {"eastus"}
    assert df["observed_at"].dtype.time_zone == "UTC"
    # a size without GPUs is not guessed: unknown model, quarantined for want of a GPU count
    good, quarantine = validate.split(df.with_columns(dataset=pl.lit("test")), "gpu")
    assert good.height == 0 and set(df["gpu_model"]) == {"unknown:Standard_D2s_v3"}
    assert set(quarantine["reason"]) == {"gpu_count missing or <= 0"}


def test_empty_items_gives_no_rows() -> None:
    assert SOURCE.parse([raw("azure", URL, EMPTY)], OBSERVED).height == 0


def test_missing_price_in_one_item_is_quarantined() -> None:
    item = json.loads(PAGE1)["Items"][0]
    item.pop("retailPrice")
    page = json.loads(PAGE2)
    page["Items"].append(item)
    good, quarantine = _split(json.dumps(page))
    assert good.height == 3
    assert "missing field retailPrice" in quarantine["reason"][0]


def test_renamed_field_names_the_field() -> None:
    body = PAGE1.replace(b'"retailPrice"', b'"retail_price"')
    with pytest.raises(SourceError, match="source azure, field 'retailPrice'"):
        _split(body)


def test_string_price_is_quarantined() -> None:
    good, quarantine = _split(_one_item(retailPrice="n/a"))
    assert good.height == 0 and "retailPrice is not a number: 'n/a'" in quarantine["reason"][0]


def test_zero_price_and_odd_terms_are_quarantined() -> None:
    good, quarantine = _split(_one_item(retailPrice=0))
    assert "not offered" in quarantine["reason"][0]
    good, quarantine = _split(_one_item(type="Reservation", reservationTerm="5 Years", retailPrice=2_000_000.0))
    assert quarantine["reason"][0].startswith("pricing_class not one of")


def test_multi_hour_unit_is_divided() -> None:
    good, _ = _split(_one_item(unitOfMeasure="100 Hours", retailPrice=9832.0))
    assert good["price_usd_per_hour"].to_list() == [pytest.approx(98.32)]


@pytest.mark.parametrize("body, message", [
    (b"<html><body>Service Unavailable</body></html>", "HTML instead of JSON"),
    (PAGE1[:300], "invalid JSON"),
    (b'{"BillingCurrency": "USD", "items": []}', "field 'Items'"),
])
def test_bad_bodies_raise(body: bytes, message: str) -> None:
    with pytest.raises(SourceError, match=message):
        _split(body)


def _paged_handler(seen: list[str], fail_first: bool = False):
    next_link = json.loads(PAGE1)["NextPageLink"]

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        if fail_first and len(seen) == 1:
            return httpx.Response(429, headers={"Retry-After": "0"})
        if request.url == httpx.URL(next_link):
            return httpx.Response(200, content=PAGE2)
        if request.url == httpx.URL(first_page_url("Standard_ND96isr_H100_v5")):
            return httpx.Response(200, content=PAGE1)
        return httpx.Response(200, content=EMPTY)

    return handler


def test_fetch_follows_next_page_link() -> None:
    seen: list[str] = []
    outcome = run(SOURCE, _paged_handler(seen))
    assert outcome.status == "ok" and outcome.rows_loaded == 5
    assert len(seen) == len(ARM_SKUS) + 1
    assert any("$skip=1000" in u for u in seen)
    assert all("api-version=2023-01-01-preview" in u for u in seen)


def test_fetch_recovers_from_429() -> None:
    seen: list[str] = []
    outcome = run(SOURCE, _paged_handler(seen, fail_first=True))
    assert outcome.status == "ok" and outcome.rows_loaded == 5 and len(seen) == len(ARM_SKUS) + 2


def test_http_500_fails_the_source(no_backoff: None) -> None:
    outcome = run(SOURCE, lambda req: httpx.Response(500))
    assert outcome.status == "failed" and "source azure: HTTP 500 after 4 attempts" in (outcome.error or "")


def test_next_page_link_that_is_not_https_is_an_error() -> None:
    page = json.loads(PAGE1)
    page["NextPageLink"] = "javascript:alert(1)"
    outcome = run(SOURCE, lambda req: httpx.Response(200, content=json.dumps(page).encode()))
    assert outcome.status == "failed" and "field 'NextPageLink'" in (outcome.error or "")
