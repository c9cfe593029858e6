"""End-to-end: the oracle's journeys through the CLI (keygen, signed run, verify, audit, show, settle)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import duckdb

from index import oracle
from tests.conftest import REPLAY
from tests.test_cli import cli


def test_signed_report_verify_tamper_mismatch_audit_show_settle(tmp_path: Path) -> None:
    db, out, keys = tmp_path / "s.duckdb", tmp_path / "pub", tmp_path / "keys" / "signer"
    r = cli("keygen", "--out", str(keys))
    assert r.returncode == 0, r.stderr
    key, pub = Path(f"{keys}.key"), Path(f"{keys}.pub")
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    r = cli("run", "--replay", str(REPLAY), "--db", str(db), "--out", str(out), "--key", str(key))
    assert r.returncode == 0, r.stderr
    assert "signed by key" in r.stdout and "fixings" in r.stdout and "conf" in r.stdout
    report = out / "2026-11-20" / "indices.json"
    assert (out / "2026-11-20" / "indices.json.sig").exists()

    ok = cli("verify", str(report), "--key", str(pub), "--db", str(db))
    assert ok.returncode == 0, ok.stderr + ok.stdout
    assert "signature OK" in ok.stdout and "database check OK" in ok.stdout

    tampered = tmp_path / "tampered" / "indices.json"
    tampered.parent.mkdir()
    body = bytearray(report.read_bytes())
    i = body.index(b'"value":"') + len(b'"value":"')  # the first published value's first digit
    body[i] = ord("7") if body[i] != ord("7") else ord("8")
    tampered.write_bytes(bytes(body))
    (tampered.parent / "indices.json.sig").write_bytes((out / "2026-11-20" / "indices.json.sig").read_bytes())
    bad = cli("verify", str(tampered), "--key", str(pub))
    assert bad.returncode == 1 and "signature check FAILED" in bad.stderr and "Traceback" not in bad.stderr

    entries = json.loads(report.read_bytes())["indices"]
    token = next(e for e in entries if e["id"] == "TOK.LLAMA-3.3-70B.OUT")
    con = duckdb.connect(str(db))  # the stored rows change under the published report
    con.execute("UPDATE token_prices SET usd_per_mtok_output = usd_per_mtok_output * 3").fetchall()
    con.close()
    mismatch = cli("verify", str(report), "--key", str(pub), "--db", str(db))
    assert mismatch.returncode == 1 and "do not match the database" in mismatch.stderr
    assert "TOK.LLAMA-3.3-70B.OUT" in mismatch.stdout and token["inputs_hash"] in mismatch.stdout

    audit = cli("audit", "TOK.LLAMA-3.3-70B.OUT", "2026-11-20", "--db", str(db), "--fixing", "12")
    assert audit.returncode == 0, audit.stderr
    assert "DIFFERS from the stored value" in audit.stdout  # the rows changed after computing
    assert "hourly fixings" in audit.stdout and "venue medians at fixing 2026-11-20 12:00 UTC" in audit.stdout
    assert "quotes at fixing" in audit.stdout

    show = cli("show", "--db", str(db))
    assert show.returncode == 0 and "TOK.LLAMA-3.3-70B.OUT" in show.stdout and "p25–p75" in show.stdout

    settle = cli("settle", "LLAMA-3.3-70B-BLEND-2026-11", "--db", str(db))
    assert settle.returncode == 0, settle.stderr
    assert "2026-11-20" in settle.stdout and "computed settlement:" in settle.stdout


def test_key_errors_are_one_line(tmp_path: Path) -> None:
    keys = tmp_path / "signer"
    oracle.keygen(keys)  # keygen's own refusals are unit-tested in tests/index/test_oracle.py
    key = Path(f"{keys}.key")
    key.chmod(0o644)
    r = cli("publish", "--db", str(tmp_path / "s.duckdb"), "--date", "2026-11-20", "--key", str(key))
    assert r.returncode == 1 and "chmod 600" in r.stderr and "Traceback" not in r.stderr
    missing = cli("verify", str(tmp_path / "nope.json"), "--key", f"{keys}.pub")
    assert missing.returncode == 1 and "does not exist" in missing.stderr
