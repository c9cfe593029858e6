"""Verda (ex-DataCrunch): parser on our fixtures, contract on gpuhunt's Verda fixtures, OAuth, faults."""

from __future__ import annotations

import asyncio
import json

import httpx
import polars as pl
import pytest

from index import validate
from index.errors import SourceError
from index.scrape import run_source
from sources.verda import AVAILABILITY_URL, SOURCE, TOKEN_URL, TYPES_URL
from tests.sources.conftest import OBSERVED, own_fixture, raw, run, shared_fixture

TYPES = own_fixture("verda", "instance_types.json")
AVAIL = own_fixture("verda", "availability.json")
AVAIL_SPOT = own_fixture("verda", "availability_spot.json")
SPOT_URL = f"{AVAILABILITY_URL}?is_spot=true"


def _raws(types: bytes | str = TYPES, avail: bytes | str | None = AVAIL, spot: bytes | str | None = AVAIL_SPOT):
    out = [raw("verda", TYPES_URL, types, {"kind": "instance-types"})]
    if avail is not None:
        out.append(raw("verda", AVAILABILITY_URL, avail, {"kind": "availability", "spot": "false"}))
    if spot is not None:
        out.append(raw("verda", SPOT_URL, spot, {"kind": "availability", "spot": "true"}))
    return out


def _split(*args, **kwargs) -> tuple[pl.DataFrame, pl.DataFrame]:
    df = SOURCE.parse(_raws(*args, **kwargs), OBSERVED)
    return validate.split(df.with_columns(dataset=pl.lit("test")), "gpu")


def _types_with(**changes: object) -> str:
    doc = json.loads(TYPES)
    doc[0].update(changes)
    return json.dumps(doc)


def test_parse_own_fixtures() -> None:
    good, quarantine = _split()
    rows = {r["offer_id"]: r for r in good.to_dicts()}
    od = rows["8H100.80S.176V@FIN-01"]
    assert (od["gpu_model"], od["gpu_count"], od["pricing_class"], od["region"]) == ("H100-SXM-80GB", 8,
                                                                                      "on_demand", "FIN-01")
    assert od["price_usd_per_hour"] == 18.32 and od["price_usd_per_gpu_hour"] == pytest.approx(2.29)
    assert (od["venue"], od["venue_class"], od["tier"], od["available_units"]) == ("verda", "neocloud", "T2", 8)
    assert rows["8H100.80S.176V:spot@FIN-02"]["price_usd_per_gpu_hour"] == pytest.approx(1.10)
    assert rows["8H100.80S.176V:spot@FIN-01"]["pricing_class"] == "spot"
    h200 = rows["1H200.141S.44V"]  # on-demand available nowhere right now: list price, 0 units, T3
    assert (h200["gpu_model"], h200["region"], h200["available_units"], h200["tier"]) == (
        "H200-SXM-141GB", None, 0, "T3")
    assert not any(k.startswith("CPU") for k in rows)  # CPU nodes are not GPU offers
    assert quarantine["record_key"].to_list() == ["1H200.141S.44V:spot@FIN-02"]
    assert "spot_price is '0.00': not offered" in quarantine["reason"][0]
    assert good.height == 4


def test_contract_gpuhunt_fixtures() -> None:
    types = shared_fixture("verda", "instance_types_gpuhunt_fixture.json").read_bytes()
    spot = shared_fixture("verda", "instance_availability_spot_gpuhunt_fixture.json").read_bytes()
    good, quarantine = _split(types, avail=None, spot=spot)
    assert quarantine.height == 0 and (good["price_usd_per_hour"] > 0).all()
    assert ((good["price_usd_per_hour"] / good["gpu_count"] - good["price_usd_per_gpu_hour"]).abs() < 1e-9).all()
    assert good["observed_at"].dtype.time_zone == "UTC"
    rows = {r["offer_id"]: r for r in good.to_dicts()}
    h100 = rows["1H100.80S.30V"]
    assert (h100["gpu_model"], h100["price_usd_per_gpu_hour"]) == ("H100-SXM-80GB", 3.95)
    assert h100["available_units"] is None  # on-demand availability was not recorded: unknown, not zero
    assert rows["1H100.80S.30V:spot"]["price_usd_per_gpu_hour"] == 1.70
    assert rows["2A6000.20V"]["price_usd_per_gpu_hour"] == pytest.approx(0.99)
    assert rows["2A6000.20V:spot@FIN-01"]["available_units"] == 2
    assert rows["1V100.6V"]["gpu_model"] == "V100-16GB"
    assert not any(k.startswith("CPU") for k in rows)


def test_empty_list_gives_no_rows() -> None:
    assert SOURCE.parse(_raws(types="[]"), OBSERVED).height == 0


def test_missing_price_in_one_type_is_quarantined() -> None:
    doc = json.loads(TYPES)
    doc[0]["price_per_hour"] = None
    good, quarantine = _split(json.dumps(doc))
    assert "price_per_hour is None: not offered" in quarantine["reason"][0]
    assert good.filter(pl.col("offer_id").str.starts_with("8H100"))["pricing_class"].unique().to_list() == ["spot"]


def test_renamed_field_names_the_field() -> None:
    with pytest.raises(SourceError, match="source verda, field 'price_per_hour'"):
        _split(TYPES.replace(b'"price_per_hour"', b'"hourly_price"'))


def test_string_price_and_foreign_currency_are_quarantined() -> None:
    _, quarantine = _split(_types_with(price_per_hour="eighteen"))
    assert any("price_per_hour is not a number: 'eighteen'" in r for r in quarantine["reason"])
    _, quarantine = _split(_types_with(currency="eur"))
    assert set(quarantine.filter(pl.col("record_key").str.starts_with("8H100"))["reason"]) == {
        "currency is not USD and no conversion rate is recorded"}


@pytest.mark.parametrize("types, message", [
    (b"<html><body>502 Bad Gateway</body></html>", "HTML instead of JSON"),
    (TYPES[:120], "invalid JSON"),
    (b'{"code": "unauthorized_request", "message": "Access token is missing"}', "expected a list"),
])
def test_bad_bodies_raise(types: bytes, message: str) -> None:
    with pytest.raises(SourceError, match=message):
        _split(types)


def _api(seen: list[httpx.Request], token_failures: int = 0):
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        url = str(request.url)
        if url == TOKEN_URL:
            if sum(str(r.url) == TOKEN_URL for r in seen) <= token_failures:
                return httpx.Response(429, headers={"Retry-After": "0"})
            return httpx.Response(200, json={"access_token": "tok-123", "refresh_token": "ref-456",
                                             "scope": "cloud-api-v1", "token_type": "Bearer", "expires_in": 3600})
        if url == TYPES_URL:
            return httpx.Response(200, content=TYPES)
        if url == SPOT_URL:
            return httpx.Response(200, content=AVAIL_SPOT)
        if url == AVAILABILITY_URL:
            return httpx.Response(200, content=AVAIL)
        return httpx.Response(404)

    return handler


def test_fetch_with_client_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPOTINDEX_VERDA_CLIENT_ID", "cid-789")
    monkeypatch.setenv("SPOTINDEX_VERDA_CLIENT_SECRET", "csecret-000")
    seen: list[httpx.Request] = []
    outcome = run(SOURCE, _api(seen, token_failures=1))
    assert outcome.status == "partial" and outcome.rows_loaded == 4
    token_req = [r for r in seen if str(r.url) == TOKEN_URL]
    assert len(token_req) == 2 and token_req[-1].method == "POST"
    assert json.loads(token_req[-1].content) == {"grant_type": "client_credentials", "client_id": "cid-789",
                                                 "client_secret": "csecret-000"}
    gets = [r for r in seen if r.method == "GET"]
    assert {r.headers["authorization"] for r in gets} == {"Bearer tok-123"}
    # neither the token nor the credentials reach what is stored
    assert [r.meta["kind"] for r in outcome.raw] == ["instance-types", "availability", "availability"]
    stored = repr([(r.url, dict(r.headers), r.body, r.request_body) for r in outcome.raw])
    assert not any(s in stored for s in ("tok-123", "csecret-000", "cid-789"))


def test_skipped_unless_both_credentials_are_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPOTINDEX_VERDA_CLIENT_ID", "cid")
    monkeypatch.delenv("SPOTINDEX_VERDA_CLIENT_SECRET", raising=False)
    assert SOURCE.missing_key()
    outcome = run(SOURCE, _api([]))
    assert outcome.status == "skipped" and "SPOTINDEX_VERDA_CLIENT_SECRET" in (outcome.error or "")


def test_replay_without_credentials_asks_no_token(monkeypatch: pytest.MonkeyPatch) -> None:
    for env in SOURCE.key_envs:
        monkeypatch.delenv(env, raising=False)
    seen: list[httpx.Request] = []

    async def go():
        async with httpx.AsyncClient(transport=httpx.MockTransport(_api(seen))) as client:
            return await run_source(SOURCE, client, OBSERVED, "replay:test", require_keys=False)

    outcome = asyncio.run(go())
    assert outcome.rows_loaded == 4 and TOKEN_URL not in [str(r.url) for r in seen]
    assert all("authorization" not in r.headers for r in seen)


def test_token_response_without_access_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPOTINDEX_VERDA_CLIENT_ID", "cid")
    monkeypatch.setenv("SPOTINDEX_VERDA_CLIENT_SECRET", "secret")
    outcome = run(SOURCE, lambda req: httpx.Response(200, json={"error": "invalid_client"}))
    assert outcome.status == "failed" and "source verda, field 'access_token'" in (outcome.error or "")


def test_http_500_fails_the_source(monkeypatch: pytest.MonkeyPatch, no_backoff: None) -> None:
    monkeypatch.setenv("SPOTINDEX_VERDA_CLIENT_ID", "cid")
    monkeypatch.setenv("SPOTINDEX_VERDA_CLIENT_SECRET", "secret")
    outcome = run(SOURCE, lambda req: httpx.Response(500))
    assert outcome.status == "failed" and "source verda: HTTP 500" in (outcome.error or "")
