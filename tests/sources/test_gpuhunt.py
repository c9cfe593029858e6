"""dstack gpuhunt catalog: parser on a small catalog.zip, identity rules, bad input, fetch."""

from __future__ import annotations

import asyncio
import io
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import httpx
import polars as pl
import pytest

from index.errors import SourceError
from index.scrape import run_source
from sources.base import RawResponse
from sources.gpuhunt import SOURCE, VERSION_URL, _model, catalog_url

T = datetime(2026, 11, 20, 10, 30, tzinfo=UTC)
CATALOG = Path(__file__).resolve().parents[1] / "fixtures" / "gpuhunt" / "catalog"
HEADER = ("instance_name,location,price,cpu,memory,gpu_count,gpu_name,gpu_memory,spot,disk_size,gpu_vendor,flags,"
          "cpu_arch,provider_data\n")


def make_zip(files: dict[str, str] | None = None) -> bytes:
    files = files if files is not None else {p.name: p.read_text() for p in sorted(CATALOG.iterdir())}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in files.items():
            zf.writestr(zipfile.ZipInfo(name, (2026, 11, 20, 1, 20, 0)), text)
    return buf.getvalue()


def parse(body: bytes) -> pl.DataFrame:
    ver = RawResponse("gpuhunt", "GET", VERSION_URL, 200, {}, b"20261120\n", T, meta={"part": "version"})
    cat = RawResponse("gpuhunt", "GET", catalog_url("20261120"), 200, {}, body, T, meta={"part": "catalog"})
    return SOURCE.parse([ver, cat], T)


def run(handler):
    async def go():
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            return await run_source(SOURCE, client, T, "test", require_keys=False)
    return asyncio.run(go())


def serve(catalog: bytes, version: bytes = b"20261120\n"):
    def handler(req: httpx.Request) -> httpx.Response:
        if str(req.url) == VERSION_URL:
            return httpx.Response(200, content=version)
        if str(req.url) == catalog_url("20261120"):
            return httpx.Response(200, content=catalog)
        return httpx.Response(404)
    return handler


def test_parser_on_own_catalog():
    df = parse(make_zip())
    assert df.height == 9  # the CPU row is not a GPU quote
    gcp = df.filter((pl.col("venue") == "gcp") & (pl.col("offer_id").str.contains("a3-highgpu-8g")))
    od = gcp.filter(pl.col("pricing_class") == "on_demand").row(0, named=True)
    assert (od["gpu_model"], od["gpu_count"], od["venue_class"], od["tier"]) == ("H100-SXM-80GB", 8, "hyperscaler",
                                                                                "T3")
    assert od["price_usd_per_hour"] == pytest.approx(88.25)
    assert od["price_usd_per_gpu_hour"] == pytest.approx(11.03125)
    assert od["region"] == "us-central1-a" and od["available_units"] is None
    spot = gcp.filter(pl.col("pricing_class") == "spot").row(0, named=True)
    assert spot["price_usd_per_gpu_hour"] == pytest.approx(3.90)
    a100 = df.filter(pl.col("offer_id").str.contains("a2-ultragpu-8g")).row(0, named=True)
    assert a100["gpu_model"] == "A100-SXM-80GB"
    assert df.filter(pl.col("offer_id").str.contains("g2-standard-48"))["quarantine_reason"].to_list() == [
        "price is not a number: 'abc'"]
    neb = df.filter(pl.col("venue") == "nebius")
    assert dict(zip(neb["offer_id"].str.split(":").list.get(1), neb["gpu_model"], strict=True)) == {
        "gpu-h100-sxm": "H100-SXM-80GB", "gpu-h200-sxm": "H200-SXM-141GB", "standard-v3-h100-pcie": "H100-PCIE-80GB"}
    assert neb.filter(pl.col("gpu_model") == "H200-SXM-141GB")["price_usd_per_gpu_hour"][0] == pytest.approx(3.5)
    rift = df.filter(pl.col("venue") == "cloudrift").row(0, named=True)
    assert (rift["gpu_model"], rift["venue_class"]) == ("RTX4090-24GB", "marketplace")
    assert "not in data/venues.toml" in df.filter(pl.col("venue") == "mysterycloud")["quarantine_reason"][0]


@pytest.mark.parametrize("provider, row, expected", [
    ("aws", {"instance_name": "p5.48xlarge", "gpu_name": "H100"}, "H100-SXM-80GB"),  # instance type table
    ("runpod", {"instance_name": "NVIDIA H100 80GB HBM3", "gpu_name": "H100"}, "H100-SXM-80GB"),  # a GPU spelling
    ("runpod", {"instance_name": "NVIDIA H100 PCIe", "gpu_name": "H100"}, "H100-PCIE-80GB"),
    ("lambdalabs", {"instance_name": "gpu_8x_h100_sxm5", "gpu_name": "H100"}, "H100-SXM-80GB"),  # sxm token
    ("verda", {"instance_name": "8H100.80S.176V", "gpu_name": "H100", "gpu_memory": "80.0"}, "H100-SXM-80GB"),
    ("verda", {"instance_name": "1A100.40S.22V", "gpu_name": "A100", "gpu_memory": "40.0"}, "A100-SXM-40GB"),
    ("somecloud", {"instance_name": "big-gpu-box", "gpu_name": "H100"}, "unknown:H100"),  # never guessed
    ("azure", {"instance_name": "Standard_NC40ads_H100_v5", "gpu_name": "H100NVL"}, "H100-NVL-94GB"),
])
def test_gpu_identity_rules(provider, row, expected):
    assert _model(provider, row, None)[0] == expected


def test_instance_type_contradicting_the_count_is_flagged():
    model, problem = _model("aws", {"instance_name": "p5.48xlarge", "gpu_name": "H100"}, 4)
    assert model == "H100-SXM-80GB" and "contradicts instance type" in problem


def test_fetch_reads_version_then_catalog():
    seen = []
    body = make_zip()

    def handler(req):
        seen.append(str(req.url))
        return serve(body)(req)

    out = run(handler)
    assert seen == [VERSION_URL, catalog_url("20261120")]
    assert out.status == "partial" and out.rows_loaded == 7 and out.rows_quarantined == 2


@pytest.mark.parametrize("files, field", [
    ({"gcp.csv": HEADER.replace("price,", "price_usd,") + "a3-highgpu-8g,us,88.25,208,1872,8,H100,80,False,,,,,{}\n"},
     "price"),  # renamed column
    ({"gcp.csv": HEADER.replace(",spot", "") + "a3-highgpu-8g,us,88.25,208,1872,8,H100,80,,,,{}\n"}, "spot"),
    ({"version": "20261120\n"}, "catalog.zip"),  # no provider CSV at all
])
def test_schema_changes_raise_naming_the_field(files, field):
    with pytest.raises(SourceError) as err:
        parse(make_zip(files))
    assert err.value.source == "gpuhunt" and err.value.field == field


@pytest.mark.parametrize("body", [b"<?xml version='1.0'?><Error><Code>AccessDenied</Code></Error>",
                                  b"<html><body>Not found</body></html>", b"", b"not a zip at all"])
def test_html_or_garbage_instead_of_zip_raises(body):
    with pytest.raises(SourceError, match="gpuhunt") as err:
        parse(body)
    assert err.value.field == "catalog.zip"


def test_truncated_zip_raises():
    body = make_zip()
    with pytest.raises(SourceError, match="not a readable zip archive"):
        parse(body[: len(body) // 2])


def test_bad_version_fails_the_fetch():
    out = run(serve(make_zip(), version=b"<html>oops</html>"))
    assert out.status == "failed" and "field 'version'" in out.error


def test_string_where_a_number_was_is_quarantined():
    df = parse(make_zip({"gcp.csv": HEADER + "a3-highgpu-8g,us-east4-b,88.25,208,1872,eight,H100,80,False,,,,,{}\n"}))
    assert df["quarantine_reason"].to_list() == ["gpu_count is not a whole number: 'eight'"]


def test_empty_catalog_fails_the_source_without_rows():
    out = run(serve(make_zip({"gcp.csv": HEADER})))
    assert out.status == "failed" and "held no rows" in out.error


def test_fetch_retries_429_then_succeeds():
    calls = []
    body = make_zip()

    def handler(req):
        calls.append(req)
        if len(calls) == 1:
            return httpx.Response(429, headers={"Retry-After": "0"})
        return serve(body)(req)

    out = run(handler)
    assert len(calls) == 3 and out.rows_loaded == 7


def test_fetch_http_500_fails():
    out = run(lambda req: httpx.Response(500, headers={"Retry-After": "0"}))
    assert out.status == "failed" and "gpuhunt" in out.error and "HTTP 500" in out.error
