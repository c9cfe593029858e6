"""Keys, signatures and the oracle report: Ed25519 via cryptography, canonical JSON, rounds."""

from __future__ import annotations

import base64
import json
import os
import stat
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from cryptography.hazmat.primitives import serialization

from index import jobs, oracle, publish
from index.store import Store
from tests.index import synth


def test_keygen_writes_a_0600_private_key_and_refuses_to_overwrite(tmp_path: Path) -> None:
    old = os.umask(0)  # even with a permissive umask
    try:
        key, pub = oracle.keygen(tmp_path / "k" / "signer")
    finally:
        os.umask(old)
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert key.name == "signer.key" and pub.name == "signer.pub"
    assert b"PRIVATE KEY" in key.read_bytes() and b"PUBLIC KEY" in pub.read_bytes()
    with pytest.raises(oracle.SigningError, match="refusing to overwrite"):
        oracle.keygen(tmp_path / "k" / "signer")
    oracle.keygen(tmp_path / "k" / "signer", force=True)
    assert oracle.load_private_key(key)


def test_a_private_key_others_can_read_is_refused(tmp_path: Path) -> None:
    key, _ = oracle.keygen(tmp_path / "signer")
    key.chmod(0o644)
    with pytest.raises(oracle.SigningError, match=r"mode 0644.*chmod 600"):
        oracle.load_private_key(key)
    with pytest.raises(oracle.SigningError, match="does not exist"):
        oracle.load_private_key(tmp_path / "nope.key")


def test_sign_and_verify_and_one_changed_byte_fails(tmp_path: Path) -> None:
    key, pub = oracle.keygen(tmp_path / "signer")
    private, public = oracle.load_private_key(key), oracle.load_public_key(pub)
    data = publish.canonical_json({"b": 1, "a": [1, 2], "v": "1.234567"})
    assert data == b'{"a":[1,2],"b":1,"v":"1.234567"}'
    sig = oracle.sign(data, private)
    oracle.verify(data, sig, public)
    for i in range(len(data)):
        tampered = bytearray(data)
        tampered[i] ^= 0x01
        with pytest.raises(oracle.VerificationError, match="signature check FAILED"):
            oracle.verify(bytes(tampered), sig, public)
    other = oracle.load_public_key(oracle.keygen(tmp_path / "other")[1])
    with pytest.raises(oracle.VerificationError, match="signed by another key"):
        oracle.verify(data, sig, other)
    with pytest.raises(oracle.VerificationError, match="not base64"):
        oracle.verify(data, b"%%%", public)


def test_a_bare_base64_or_hex_public_key_is_accepted(tmp_path: Path) -> None:
    _, pub = oracle.keygen(tmp_path / "signer")
    raw = oracle.load_public_key(pub).public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    (tmp_path / "b64").write_text(base64.b64encode(raw).decode())
    (tmp_path / "hex").write_text(raw.hex())
    kid = oracle.key_id(oracle.load_public_key(pub))
    assert oracle.key_id(oracle.load_public_key(tmp_path / "b64")) == kid
    assert oracle.key_id(oracle.load_public_key(tmp_path / "hex")) == kid
    (tmp_path / "junk").write_text("not a key")
    with pytest.raises(oracle.VerificationError, match="not an Ed25519 public key"):
        oracle.load_public_key(tmp_path / "junk")


def test_decimal_and_fixed_point() -> None:
    assert publish.decimal_string(2.0841234567) == "2.084123"
    assert publish.decimal_string(0.0000005) == "0.000000"  # half-even at the 6th place
    assert publish.fixed_point(2.0841234567) == 2084123 and publish.fixed_point(None) is None


def test_publish_report_fields_rounds_and_signature(db: Path, tmp_path: Path) -> None:
    store = Store(db)
    with store.write() as con:  # five venues for a series the shipped definitions define
        Store.insert_frame(con, "gpu_quotes", synth.quote_frame(synth.hourly({v: 2.0 + i / 10 for i, v in
                                                                             enumerate("abcde")})))
    jobs.compute_days(store, [synth.DAY])
    key, pub = oracle.keygen(tmp_path / "signer")
    t1 = datetime(2026, 11, 21, 0, 5, tzinfo=UTC)
    path, report = jobs.publish_day(store, synth.DAY, tmp_path / "out", key, now=t1)
    body = (path / "indices.json").read_bytes()
    assert body == publish.canonical_json(json.loads(body))
    oracle.verify(body, (path / "indices.json.sig").read_bytes(), oracle.load_public_key(pub))
    assert report["key_id"] == oracle.key_id(oracle.load_public_key(pub))
    entry = next(e for e in report["indices"] if e["id"] == "GPU.H100-SXM.OD.NEO")
    design_fields = {"id", "date", "value", "value_fixed", "exponent", "conf", "p25", "p75", "n_venues", "n_quotes",
                     "status", "methodology_version", "inputs_hash", "round_id", "publish_time", "prev_publish_time"}
    assert design_fields <= set(entry)
    assert entry["value"] == "2.200000" and entry["value_fixed"] == 2_200_000 and entry["exponent"] == -6
    assert entry["status"] == "NORMAL" and entry["round_id"] == 1 and entry["prev_publish_time"] is None
    assert entry["publish_time"] == "2026-11-21T00:05:00.000000Z"
    ids = {e["id"] for e in report["indices"]}
    assert "GPU.H100-SXM.OD.NEO.CAPW" not in ids  # publish = false: computed, not in the report
    # a second publication: the next round, pointing at the previous publish time
    _, again = jobs.publish_day(store, synth.DAY, tmp_path / "out", key, now=t1 + timedelta(hours=1))
    entry2 = next(e for e in again["indices"] if e["id"] == "GPU.H100-SXM.OD.NEO")
    assert entry2["round_id"] == 2 and entry2["prev_publish_time"] == "2026-11-21T00:05:00.000000Z"
    rounds = store.frame("SELECT round_id FROM report_rounds WHERE index_id = 'GPU.H100-SXM.OD.NEO' ORDER BY 1")
    assert rounds["round_id"].to_list() == [1, 2]
    # unsigned when no key is given
    _, unsigned = jobs.publish_day(store, synth.DAY, tmp_path / "plain", None)
    assert unsigned["key_id"] is None and not (tmp_path / "plain" / "2026-11-20" / "indices.json.sig").exists()


def test_verify_report_and_recompute_find_a_mismatch(db: Path, tmp_path: Path) -> None:
    store = Store(db)
    with store.write() as con:
        Store.insert_frame(con, "gpu_quotes", synth.quote_frame(synth.hourly({v: 2.0 + i / 10 for i, v in
                                                                             enumerate("abcde")})))
    jobs.compute_days(store, [synth.DAY])
    key, pub = oracle.keygen(tmp_path / "signer")
    path, _ = jobs.publish_day(store, synth.DAY, tmp_path / "out", key)
    report = jobs.verify_report(path / "indices.json", pub)
    assert jobs.recompute_report(store, report).height == 0
    with store.write() as con:
        con.execute("UPDATE gpu_quotes SET price_usd_per_gpu_hour = 2.25, price_usd_per_hour = 2.25 "
                    "WHERE venue = 'b'").fetchall()  # medians 2.0 2.2 2.25 2.3 2.4: the value moves to 2.25
    problems = jobs.recompute_report(store, report)
    bad = problems.filter(pl.col("id") == "GPU.H100-SXM.OD.NEO")
    assert set(bad["field"]) >= {"value", "inputs_hash"}
    assert bad.filter(pl.col("field") == "value")["reported"][0] == "2.200000"


def test_unsigned_report_cannot_be_verified(db: Path, tmp_path: Path) -> None:
    report = tmp_path / "indices.json"
    report.write_bytes(publish.canonical_json({"date": str(date(2026, 11, 20)), "indices": []}))
    _, pub = oracle.keygen(tmp_path / "signer")
    with pytest.raises(oracle.VerificationError, match="unsigned"):
        jobs.verify_report(report, pub)


def test_signing_key_comes_from_the_option_or_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(oracle.KEY_ENV, raising=False)
    assert oracle.signing_key_path(None) is None
    monkeypatch.setenv(oracle.KEY_ENV, "/keys/env.key")
    assert oracle.signing_key_path(None) == Path("/keys/env.key")
    assert oracle.signing_key_path(Path("/keys/opt.key")) == Path("/keys/opt.key")
