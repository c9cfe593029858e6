"""AWS: offer-file parser and trimming on our fixture, contract on botocore's examples, spot with
SigV4 (checked against the published signature test suite), bad input and fetch faults."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import polars as pl
import pytest

from index import validate
from index.errors import SourceError
from sources.aws import (
    SOURCE,
    _spot_records,
    _trim_offer_file,
    offer_url,
    price_dimensions,
    sigv4_headers,
    trimmed,
)
from tests.sources.conftest import OBSERVED, own_fixture, raw, run, shared_fixture

OFFER = own_fixture("aws", "offer_us-east-1.json")
SPOT = own_fixture("aws", "spot_us-east-1.xml")
URL = offer_url("us-east-1")


def _split(*raws) -> tuple[pl.DataFrame, pl.DataFrame]:
    df = SOURCE.parse(list(raws), OBSERVED)
    return validate.split(df.with_columns(dataset=pl.lit("test")), "gpu")


def _offer(body: bytes | str = OFFER):
    return raw("aws", URL, body, {"kind": "offer", "region": "us-east-1"})


def _doc_with(sku: str = "3D4V8UAYEMB38GU2", usd: str | None = None, drop_terms: bool = False) -> str:
    doc = json.loads(OFFER)
    if usd is not None:
        term = next(iter(doc["terms"]["OnDemand"][sku].values()))
        next(iter(term["priceDimensions"].values()))["pricePerUnit"]["USD"] = usd
    if drop_terms:
        del doc["terms"]["OnDemand"][sku]
    return json.dumps(doc)


def test_parse_own_offer_file() -> None:
    good, quarantine = _split(_offer())
    assert quarantine.height == 0
    rows = {r["gpu_model"]: r for r in good.to_dicts()}
    assert set(rows) == {"H100-SXM-80GB", "A100-SXM-40GB"}  # Dedicated, Windows, reservation lines, m7i: out
    p5 = rows["H100-SXM-80GB"]
    assert p5["offer_id"] == "3D4V8UAYEMB38GU2.JRTCKXETXF.6YS6EN2CT7"
    assert (p5["price_usd_per_hour"], p5["gpu_count"], p5["price_usd_per_gpu_hour"]) == (55.04, 8, 6.88)
    assert (p5["venue"], p5["venue_class"], p5["pricing_class"], p5["tier"], p5["region"]) == (
        "aws", "hyperscaler", "on_demand", "T3", "us-east-1")
    assert rows["A100-SXM-40GB"]["price_usd_per_gpu_hour"] == pytest.approx(2.745)


def test_trimming_keeps_only_our_linux_products_and_is_idempotent() -> None:
    small = _trim_offer_file(OFFER)
    assert small is not None and _trim_offer_file(small) == small
    doc = json.loads(small)
    assert doc["version"] == "20261118190511" and doc["offerCode"] == "AmazonEC2"
    assert set(doc["terms"]) == {"OnDemand"}
    assert sorted(doc["products"]) == ["3D4V8UAYEMB38GU2", "E9MN4QZ7XW2BC6FV", "K5RD8TB3NP6YH2QC",
                                       "Q7XK2MB4VNA3T9PD"]
    assert sorted(doc["terms"]["OnDemand"]) == sorted(doc["products"])
    resp = trimmed(_offer())
    assert resp.meta["trimmed_from_bytes"] == str(len(OFFER)) and len(resp.body) < len(OFFER)
    assert SOURCE.parse([resp], OBSERVED).height == 2
    assert _trim_offer_file(b"<html>nope</html>") is None
    assert _trim_offer_file(OFFER[: len(OFFER) // 2]) is None  # truncated: left for parse to report


def test_spot_rows_from_xml() -> None:
    resp = raw("aws", "https://ec2.us-east-1.amazonaws.com/?Action=DescribeSpotPriceHistory", SPOT,
               {"kind": "spot", "region": "us-east-1"})
    good, quarantine = _split(resp)
    rows = {r["offer_id"]: r for r in good.to_dicts()}
    assert quarantine.height == 0 and len(rows) == 3
    a = rows["p5.48xlarge@us-east-1a:spot"]  # the latest of the two prices in that zone
    assert (a["price_usd_per_hour"], a["price_usd_per_gpu_hour"]) == (18.3012, pytest.approx(2.28765))
    assert (a["pricing_class"], a["tier"], a["region"], a["gpu_model"]) == ("spot", "T2", "us-east-1",
                                                                            "H100-SXM-80GB")
    assert rows["p4d.24xlarge@us-east-1c:spot"]["price_usd_per_gpu_hour"] == pytest.approx(0.9375)


def test_contract_botocore_examples() -> None:
    pricing = json.loads(shared_fixture("aws", "botocore_pricing_2017-10-15_examples-1.json").read_text())
    item = json.loads(pricing["examples"]["GetProducts"][0]["output"]["PriceList"][0])  # a JSON string in a list
    sku = item["product"]["sku"]
    assert price_dimensions(item["terms"]["OnDemand"]) == [
        ("WQGC34PB2AWS8R4U.JRTCKXETXF.6YS6EN2CT7", "GB-Mo", "0.1380000000")]
    offer = {"formatVersion": "v1.0", "offerCode": item["serviceCode"], "version": item["version"],
             "products": {sku: item["product"]}, "terms": {"OnDemand": {sku: item["terms"]["OnDemand"]}}}
    assert SOURCE.parse([_offer(json.dumps(offer))], OBSERVED).height == 0  # EBS storage: not an instance
    spot = json.loads(shared_fixture("aws", "botocore_ec2_describe_spot_price_history_example.json").read_text())
    records = spot["examples"]["DescribeSpotPriceHistory"][0]["output"]["SpotPriceHistory"]
    df = pl.DataFrame(SOURCE.spot_rows(records, "us-west-1", _offer(), OBSERVED))
    assert df["price_usd_per_hour"].to_list() == [0.08, 0.08]
    assert set(df["gpu_model"]) == {"unknown:m1.xlarge"} and df["gpu_count"].null_count() == 2
    assert sorted(df["offer_id"]) == ["m1.xlarge@us-west-1a:spot", "m1.xlarge@us-west-1c:spot"]


def test_sigv4_matches_published_test_vector() -> None:
    headers = sigv4_headers("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "us-east-1",
                            "example.amazonaws.com", {"Param2": "value2", "Param1": "value1"},
                            datetime(2015, 8, 30, 12, 36, tzinfo=UTC), service="service")
    assert headers["x-amz-date"] == "20150830T123600Z"
    assert headers["Authorization"] == (
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500")


def test_empty_products_give_no_rows() -> None:
    body = '{"formatVersion": "v1.0", "products": {}, "terms": {"OnDemand": {}}}'
    assert SOURCE.parse([_offer(body)], OBSERVED).height == 0


def test_missing_term_and_bad_prices_are_quarantined() -> None:
    _, quarantine = _split(_offer(_doc_with(drop_terms=True)))
    assert quarantine["reason"].to_list() == ["no OnDemand term for this product"]
    _, quarantine = _split(_offer(_doc_with(usd="55,04")))
    assert quarantine["reason"].to_list() == ["pricePerUnit.USD is not a number: '55,04'"]
    _, quarantine = _split(_offer(_doc_with(usd="0.0000000000")))
    assert "not offered" in quarantine["reason"][0]


def test_renamed_field_names_the_field() -> None:
    with pytest.raises(SourceError, match="source aws, field 'attributes.instanceType'"):
        _split(_offer(OFFER.replace(b'"instanceType"', b'"instance_type"')))
    with pytest.raises(SourceError, match="source aws, field 'terms'"):
        _split(_offer(OFFER.replace(b'"terms"', b'"prices"')))


@pytest.mark.parametrize("body, message", [
    (b"<!DOCTYPE html><html><body>AccessDenied</body></html>", "HTML instead of JSON"),
    (OFFER[:400], "invalid JSON"),
    (b"[]", "not an object"),
])
def test_bad_bodies_raise(body: bytes, message: str) -> None:
    with pytest.raises(SourceError, match=message):
        _split(_offer(body))


def test_bad_spot_answer_raises() -> None:
    bad = raw("aws", "https://ec2.us-east-1.amazonaws.com/", b"<Response><Errors><Error><Code>AuthFailure</Code>"
              b"</Error></Errors></Response>", {"kind": "spot", "region": "us-east-1"})
    with pytest.raises(SourceError, match="field 'spotPriceHistorySet'"):
        _spot_records("aws", bad)


def _api(seen: list[httpx.Request], fail_first: bool = False):
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if fail_first and len(seen) == 1:
            return httpx.Response(429, headers={"Retry-After": "0"})
        if request.url.host.startswith("ec2."):
            return httpx.Response(200, content=SPOT, headers={"content-type": "text/xml"})
        return httpx.Response(200, content=OFFER)

    return handler


def test_fetch_on_demand_only_without_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for env in ("SPOTINDEX_AWS_ACCESS_KEY_ID", "SPOTINDEX_AWS_SECRET_ACCESS_KEY", "SPOTINDEX_AWS_REGIONS"):
        monkeypatch.delenv(env, raising=False)
    seen: list[httpx.Request] = []
    outcome = run(SOURCE, _api(seen, fail_first=True))
    assert [str(r.url) for r in seen[1:]] == [offer_url(r) for r in ("us-east-1", "us-east-2", "us-west-2")]
    assert all(len(r.body) < len(OFFER) and "trimmed_from_sha256" in r.meta for r in outcome.raw)
    # the same offer file answers all three regions: its 2 rows load once, the 4 copies are duplicates
    assert outcome.status == "partial" and outcome.rows_quarantined == 4
    assert outcome.quarantine["reason"].str.starts_with("duplicate").all()
    assert outcome.rows_loaded == 2 and set(outcome.rows["pricing_class"]) == {"on_demand"}


def test_fetch_signs_spot_requests_with_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPOTINDEX_AWS_ACCESS_KEY_ID", "AKIATESTKEY")
    monkeypatch.setenv("SPOTINDEX_AWS_SECRET_ACCESS_KEY", "secret-test-key")
    monkeypatch.setenv("SPOTINDEX_AWS_REGIONS", "us-east-1")
    seen: list[httpx.Request] = []
    outcome = run(SOURCE, _api(seen))
    spot_req = [r for r in seen if r.url.host == "ec2.us-east-1.amazonaws.com"]
    assert len(spot_req) == 1
    params = dict(spot_req[0].url.params)
    assert params["Action"] == "DescribeSpotPriceHistory" and params["ProductDescription.1"] == "Linux/UNIX"
    assert params["StartTime"] == params["EndTime"] and "p5.48xlarge" in params.values()
    auth = spot_req[0].headers["authorization"]
    assert auth.startswith("AWS4-HMAC-SHA256 Credential=AKIATESTKEY/") and "/us-east-1/ec2/aws4_request" in auth
    assert outcome.status == "ok" and set(outcome.rows["pricing_class"]) == {"on_demand", "spot"}
    assert outcome.rows.filter(pl.col("pricing_class") == "spot").height == 3
    assert "secret-test-key" not in repr([(r.url, dict(r.headers), r.meta) for r in outcome.raw])


def test_http_500_fails_the_source(no_backoff: None) -> None:
    outcome = run(SOURCE, lambda req: httpx.Response(500))
    assert outcome.status == "failed" and "source aws: HTTP 500 after 4 attempts" in (outcome.error or "")
