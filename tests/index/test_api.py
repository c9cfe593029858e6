"""The read-only HTTP API: every route, freshness flags, and 4xx answers with a message."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from fastapi.testclient import TestClient

from index.api import create_app
from tests.index.published import copy_to

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
H100 = "GPU.H100-SXM.OD.NEO"


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = copy_to(tmp_path_factory.mktemp("api") / "w")
    con = duckdb.connect(str(root / "s-analyst.duckdb"))
    con.execute("INSERT INTO settlements (contract_id, series, month, value, n_days, status, methodology_version, "
                "inputs_hash, settled_at) VALUES ('H100-OD-2026-11', ?, '2026-11', 2.15, 30, 'FINAL', '0.1.0', "
                "'ab', '2026-12-01 09:00:00+00')", [H100])
    con.close()
    (root / "pub" / "2026-11-20" / "indices.json.sig").write_bytes(b"\x01" * 64)
    return root


def client(root: Path, now: datetime = NOW) -> TestClient:
    # publications happened "now" in wall time; the API's clock is injected to test freshness
    con = duckdb.connect(str(root / "s-analyst.duckdb"), read_only=True)
    last = con.sql("SELECT max(published_at) FROM publications").pl().item()
    con.close()
    return TestClient(create_app(root / "s-analyst.duckdb", root / "pub", now_fn=lambda: last + (now - NOW)))


def test_healthz_and_openapi(root: Path) -> None:
    c = client(root)
    r = c.get("/healthz")
    assert r.status_code == 200
    body = r.json()
    from index import definitions

    defs = definitions.load()
    # every GPU and token series has a value row on both days of the snapshot; a basket starts on the
    # first day a member is priced (METHODOLOGY.md §14 "Token indices", T5: no member has a token price
    # on 2026-11-19, the replay's list prices are observed on 2026-11-20), so it has one row
    n_series, n_baskets = len(defs.indices) - len(defs.baskets()), len(defs.baskets())
    assert n_baskets > 0
    assert body["status"] == "ok" and body["stale"] is False and body["values"] == 2 * n_series + n_baskets
    assert body["publish_time"].endswith("Z")
    spec = c.get("/openapi.json").json()
    assert {"/v1/indices", "/v1/indices/{index_id}/latest", "/v1/indices/{index_id}/history", "/v1/reports/{day}",
            "/v1/settlements/{contract}", "/healthz"} <= set(spec["paths"])


def test_stale_flag_after_the_heartbeat(root: Path) -> None:
    from datetime import timedelta

    c = client(root, NOW + timedelta(hours=27))
    assert c.get("/healthz").json()["status"] == "stale"
    assert c.get("/v1/indices").json()["stale"] is True
    assert client(root, NOW + timedelta(hours=25)).get("/v1/indices").json()["stale"] is False


def test_indices_lists_each_series_latest_value(root: Path) -> None:
    r = client(root).get("/v1/indices")
    assert r.status_code == 200
    body = r.json()
    ids = [i["id"] for i in body["indices"]]
    from index import definitions

    publishable = {d.id for d in definitions.load().indices if d.publish}
    assert H100 in ids and len(ids) == len(set(ids)) and set(ids) <= {d.id for d in definitions.load().indices}
    assert publishable <= set(ids)
    assert all(i["latest_date"] == "2026-11-20" for i in body["indices"])
    report = json.loads((root / "pub" / "2026-11-20" / "indices.json").read_text())
    want = {e["id"]: float(e["value"]) if e["value"] is not None else None for e in report["indices"]}
    got = {i["id"]: round(i["value"], 6) if i["value"] is not None else None for i in body["indices"]}
    assert {k: got[k] for k in want} == want


def test_latest_value_carries_diagnostics_and_publish_time(root: Path) -> None:
    body = client(root).get(f"/v1/indices/{H100}/latest").json()
    v = body["index"]
    assert v["index_id"] == H100 and v["date"] == "2026-11-20" and v["n_fixings"] == 24
    assert {"p25", "p75", "conf", "status", "inputs_hash", "revision"} <= set(v)
    assert body["value_publish_time"] and body["publish_time"] and body["stale"] is False


def test_history_range_and_defaults(root: Path) -> None:
    c = client(root)
    both = c.get(f"/v1/indices/{H100}/history", params={"from": "2026-11-01", "to": "2026-11-30"}).json()
    assert [v["date"] for v in both["values"]] == ["2026-11-19", "2026-11-20"]
    one = c.get(f"/v1/indices/{H100}/history", params={"from": "2026-11-20"}).json()
    assert [v["date"] for v in one["values"]] == ["2026-11-20"] and one["to"] == "2026-11-20"
    default = c.get(f"/v1/indices/{H100}/history").json()
    assert default["from"] == "2026-08-23" and len(default["values"]) == 2


@pytest.mark.parametrize(("url", "params", "status", "needle"), [
    (f"/v1/indices/{H100}/history", {"from": "2026-13-01"}, 422, "parameter 'from'"),
    (f"/v1/indices/{H100}/history", {"from": "2026-11-20", "to": "2026-11-01"}, 400, "is after"),
    (f"/v1/indices/{H100}/history", {"from": "2000-01-01", "to": "2026-11-20"}, 400, "at most"),
    ("/v1/indices/NOPE/latest", {}, 404, "unknown index 'NOPE'"),
    ("/v1/indices/NOPE/history", {}, 404, "unknown index"),
    ("/v1/reports/2026-11-02", {}, 404, "no published report for 2026-11-02"),
    ("/v1/reports/yesterday", {}, 422, "parameter 'day'"),
    ("/v1/reports/2026-11-19/indices.json.sig", {}, 404, "has no indices.json.sig"),
    ("/v1/settlements/NOPE-2026-11", {}, 404, "settled contracts: H100-OD-2026-11"),
])
def test_bad_parameters_get_a_4xx_with_a_message(root: Path, url: str, params: dict, status: int,
                                                 needle: str) -> None:
    r = client(root).get(url, params=params)
    assert r.status_code == status
    assert needle in r.json()["error"]


def test_report_envelope_bytes_and_signature(root: Path) -> None:
    c = client(root)
    raw = (root / "pub" / "2026-11-20" / "indices.json").read_bytes()
    body = c.get("/v1/reports/2026-11-20").json()
    assert body["report"] == json.loads(raw) and body["sha256"] == hashlib.sha256(raw).hexdigest()
    assert body["signed"] is True and base64.b64decode(body["signature_base64"]) == b"\x01" * 64
    assert body["publish_time"] and body["stale"] is False
    assert c.get("/v1/reports/2026-11-20/indices.json").content == raw
    assert c.get("/v1/reports/2026-11-20/indices.json.sig").content == b"\x01" * 64
    unsigned = c.get("/v1/reports/2026-11-19").json()
    assert unsigned["signed"] is False and unsigned["signature_base64"] is None


def test_settlement(root: Path) -> None:
    body = client(root).get("/v1/settlements/H100-OD-2026-11").json()
    s = body["settlement"]
    assert s["contract_id"] == "H100-OD-2026-11" and s["value"] == 2.15 and s["series"] == H100
    assert "publish_time" in body and "stale" in body


def test_missing_snapshot_is_503_with_what_to_do(tmp_path: Path) -> None:
    c = TestClient(create_app(tmp_path / "none.duckdb", tmp_path))
    r = c.get("/v1/indices")
    assert r.status_code == 503 and "spotindex publish" in r.json()["error"]
