"""Secrets: with a fake value in every key variable the sources name, no artefact of a run holds one.

Two runs: ``python -m index run`` on the bundled replay snapshot (subprocess: database, publish
directory, stdout, stderr), and a live scrape through a mock transport that echoes each
request (headers, URL, body) back in its response, recorded as a replay snapshot with
``jobs.record_snapshot`` and then scraped into a database from that snapshot.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import duckdb
import httpx
import pytest

import sources
from index import jobs
from index.store import Store

REPO = Path(__file__).resolve().parents[1]
REPLAY = REPO / "data" / "replay" / "2026-11-20"


def fake_keys() -> dict[str, str]:
    """A distinct fake value for every variable named by a source's ``required_envs()``."""
    envs = sorted({e for s in sources.all_sources().values() for e in s.required_envs()})
    return {e: f"FAKEKEY{i:02d}x{e.lower().replace('_', '')}Qz9" for i, e in enumerate(envs)}


def leaks(paths: list[Path], texts: dict[str, str], secrets: dict[str, str]) -> list[str]:
    """Every (artefact, variable) where the secret's bytes appear."""
    found = []
    for root in paths:
        files = [root] if root.is_file() else [f for f in root.rglob("*") if f.is_file()]
        for f in files:
            data = f.read_bytes()
            found += [f"{f}: {env}" for env, value in secrets.items() if value.encode() in data]
    for name, text in texts.items():
        found += [f"{name}: {env}" for env, value in secrets.items() if value in text]
    return found


def test_every_key_variable_gets_a_fake_value() -> None:
    keys = fake_keys()
    assert len(keys) >= 3  # the registry names key variables; an empty set would make this file vacuous
    assert all(e.startswith("SPOTINDEX_") for e in keys)


def test_replay_run_of_the_keyed_sources_with_keys_set_leaves_no_key_anywhere(tmp_path: Path) -> None:
    keys = fake_keys()
    db, out = tmp_path / "s.duckdb", tmp_path / "publish"
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "COLUMNS": "200", "HOME": str(tmp_path), **keys}
    keyed = [a for n, src in sources.all_sources().items() if src.required_envs() and n != "openrouter"
             for a in ("--source", n)]  # openrouter (360 responses, slow here) is covered by the live test below
    p = subprocess.run([sys.executable, "-m", "index", "run", "--replay", str(REPLAY), "--db", str(db),
                        "--out", str(out), *keyed], env=env, capture_output=True, text=True, cwd=REPO)
    assert p.returncode == 0, p.stderr[-2000:]
    assert db.exists() and any(out.iterdir())
    assert leaks([tmp_path], {"stdout": p.stdout, "stderr": p.stderr}, keys) == []
    # the probe itself can fail: a key written into the database is found
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE probe (v VARCHAR)")
    con.execute("INSERT INTO probe VALUES (?)", [next(iter(keys.values()))])
    con.close()
    assert leaks([tmp_path], {}, keys) != []


def echo(request: httpx.Request) -> httpx.Response:
    """A server that answers every request with the request: headers, URL and body (200, JSON)."""
    body = {"echo": {"method": request.method, "url": str(request.url), "headers": dict(request.headers),
                     "body": request.content.decode("utf-8", "replace")}}
    return httpx.Response(200, json=body)


def test_live_run_against_an_echoing_server_stores_no_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str],
                                                           caplog: pytest.LogCaptureFixture) -> None:
    keys = fake_keys()
    for k, v in keys.items():
        monkeypatch.setenv(k, v)
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return echo(request)

    caplog.set_level(logging.DEBUG)
    snap = tmp_path / "snap"
    names = list(sources.all_sources())
    outcomes = jobs.record_snapshot(snap, names, lambda: httpx.AsyncClient(transport=httpx.MockTransport(handler)))
    # the fake keys really went out (so the check below is not vacuous)
    wire = "\n".join(json.dumps(dict(r.headers)) + str(r.url) + r.content.decode("utf-8", "replace") for r in sent)
    assert [e for e, v in keys.items() if v in wire], "no source sent a key: the probe would prove nothing"
    errors = "\n".join(f"{o.source}: {o.status}: {o.error}" for o in outcomes)
    db = tmp_path / "live.duckdb"
    jobs.run_scrape(Store(db), replay_dir=snap, names=names)
    captured = capsys.readouterr()
    texts = {"errors": errors, "stdout": captured.out, "stderr": captured.err, "log": caplog.text}
    found = leaks([tmp_path], texts, keys)
    print("\n".join(found))
    assert found == []
