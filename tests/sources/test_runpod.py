"""RunPod gpuTypes: parser on our fixture, contract on the real capture, bad input, fetch faults."""

from __future__ import annotations

import json
from datetime import UTC

import httpx
import polars as pl
import pytest

from index import validate
from index.errors import SourceError
from sources.runpod import QUERY, SOURCE, URL
from tests.sources.conftest import OBSERVED, own_fixture, raw, run, shared_fixture


def _parse(body: bytes | str) -> tuple[pl.DataFrame, pl.DataFrame]:
    df = SOURCE.parse([raw("runpod", URL, body, method="POST")], OBSERVED)
    return validate.split(df.with_columns(dataset=pl.lit("test")), "gpu")


def _row(df: pl.DataFrame, offer_id: str) -> dict:
    rows = df.filter(pl.col("offer_id") == offer_id).to_dicts()
    assert len(rows) == 1, offer_id
    return rows[0]


def test_parse_own_fixture() -> None:
    good, quarantine = _parse(own_fixture("runpod", "gputypes.json"))
    h100 = _row(good, "runpod:secure:NVIDIA H100 80GB HBM3")
    assert (h100["gpu_model"], h100["gpu_count"], h100["pricing_class"]) == ("H100-SXM-80GB", 1, "on_demand")
    assert h100["price_usd_per_gpu_hour"] == h100["price_usd_per_hour"] == 2.69
    assert (h100["venue"], h100["venue_class"], h100["tier"]) == ("runpod", "neocloud", "T3")
    community = _row(good, "runpod:community:NVIDIA H100 80GB HBM3")
    assert (community["pricing_class"], community["price_usd_per_gpu_hour"]) == ("marketplace", 2.19)
    assert _row(good, "runpod:secure:NVIDIA H100 80GB HBM3:spot")["price_usd_per_gpu_hour"] == 1.89
    assert _row(good, "runpod:community:NVIDIA H100 80GB HBM3:spot")["pricing_class"] == "spot"
    assert _row(good, "runpod:secure:NVIDIA H200")["gpu_model"] == "H200-SXM-141GB"
    assert _row(good, "runpod:secure:NVIDIA H100 NVL")["gpu_model"] == "H100-NVL-94GB"
    assert _row(good, "runpod:secure:NVIDIA GeForce RTX 3090")["gpu_model"] == "unknown:NVIDIA GeForce RTX 3090"
    # 0 and null are "not offered", never free: quarantined with the reason
    reasons = dict(zip(quarantine["record_key"], quarantine["reason"], strict=True))
    assert "not offered" in reasons["runpod:secure:NVIDIA A100-SXM4-40GB"]
    assert "not offered" in reasons["runpod:community:NVIDIA H200:spot"]
    assert "runpod:community:NVIDIA H100 NVL" in reasons
    assert good.height == 15 and quarantine.height == 5


def test_contract_real_capture() -> None:
    body = shared_fixture("runpod", "gputypes_graphql.json").read_bytes()
    good, quarantine = _parse(body)
    assert good.height > 0 and (good["price_usd_per_hour"] > 0).all()
    assert (good["price_usd_per_gpu_hour"] == good["price_usd_per_hour"] / good["gpu_count"]).all()
    assert good["observed_at"].dtype.time_zone == "UTC"
    assert good.filter(pl.col("offer_id").str.contains("H100|H200"))["gpu_model"].is_in(
        ["H100-SXM-80GB", "H200-SXM-141GB"]).all()
    assert _row(good, "runpod:secure:NVIDIA H100 80GB HBM3")["price_usd_per_gpu_hour"] == 3.29
    assert _row(good, "runpod:community:NVIDIA H200")["price_usd_per_gpu_hour"] == 3.59
    # A100 SXM4 40GB has no Secure Cloud capacity (securePrice 0): quarantined, not a free GPU
    assert "runpod:secure:NVIDIA A100-SXM4-40GB" in quarantine["record_key"].to_list()
    assert OBSERVED.tzinfo is UTC


def test_empty_list_gives_no_rows() -> None:
    assert SOURCE.parse([raw("runpod", URL, '{"data": {"gpuTypes": []}}')], OBSERVED).height == 0


def test_record_without_names_is_quarantined() -> None:
    body = {"data": {"gpuTypes": [{"id": "NVIDIA H200", "securePrice": 3.59, "communityPrice": 3.19},
                                  {"memoryInGb": 80, "securePrice": 2.69, "communityPrice": 2.19}]}}
    good, quarantine = _parse(json.dumps(body))
    assert set(good["gpu_model"]) == {"H200-SXM-141GB"}
    assert "gpu_model missing" in quarantine["reason"].to_list()


def test_renamed_field_names_the_field() -> None:
    body = {"data": {"gpuTypes": [{"id": "NVIDIA H200", "secure_price": 3.59, "communityPrice": 3.19}]}}
    with pytest.raises(SourceError, match="source runpod, field 'securePrice'"):
        _parse(json.dumps(body))


def test_string_price_is_quarantined() -> None:
    body = {"data": {"gpuTypes": [{"id": "NVIDIA H200", "securePrice": "call us", "communityPrice": "3.19"}]}}
    good, quarantine = _parse(json.dumps(body))
    assert good["price_usd_per_gpu_hour"].to_list() == [3.19]  # a numeric string is still a number
    assert any("not a number: 'call us'" in r for r in quarantine["reason"])


@pytest.mark.parametrize("body, message", [
    ("<!DOCTYPE html><html><body>Bad gateway</body></html>", "HTML instead of JSON"),
    ('{"data": {"gpuTypes": [{"id": "NVIDIA H1', "invalid JSON"),
    ('{"errors": [{"message": "Something went wrong"}], "data": null}', "GraphQL error"),
    ('{"data": {"gpus": []}}', "field 'gpuTypes'"),
])
def test_bad_bodies_raise(body: str, message: str) -> None:
    with pytest.raises(SourceError, match=message) as exc:
        _parse(body)
    assert exc.value.source == "runpod"


def test_fetch_posts_the_query_and_recovers_from_429(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPOTINDEX_RUNPOD_KEY", "rp-secret")
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) == 1:
            return httpx.Response(429, headers={"Retry-After": "0"})
        return httpx.Response(200, content=own_fixture("runpod", "gputypes.json"))

    outcome = run(SOURCE, handler)
    assert outcome.status == "partial" and outcome.rows_loaded == 15 and outcome.rows_quarantined == 5
    assert [r.method for r in seen] == ["POST", "POST"]
    assert json.loads(seen[-1].content) == {"query": QUERY}
    assert seen[-1].headers["authorization"] == "Bearer rp-secret"
    assert "rp-secret" not in json.dumps([dict(r.headers) for r in outcome.raw])


def test_fetch_without_key_sends_no_auth(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SPOTINDEX_RUNPOD_KEY", raising=False)
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=own_fixture("runpod", "gputypes.json"))

    assert run(SOURCE, handler).rows_loaded == 15
    assert "authorization" not in seen[0].headers


def test_http_500_fails_the_source(no_backoff: None) -> None:
    outcome = run(SOURCE, lambda req: httpx.Response(500))
    assert outcome.status == "failed" and "source runpod: HTTP 500 after 4 attempts" in (outcome.error or "")
