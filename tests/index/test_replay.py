"""Replay snapshots: write, load, serve through MockTransport; unrecorded requests get a 404."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import httpx

from index import replay
from index.replay import RecordedResponse

T = datetime(2026, 11, 20, 10, 30, tzinfo=UTC)


def test_roundtrip_and_matching_ignores_query_order_and_redacts(tmp_path: Path) -> None:
    w = replay.SnapshotWriter(tmp_path / "snap")
    w.add(T, RecordedResponse("x", "GET", "https://api.test/a?b=2&a=1&api_key=SECRET", 200,
                              {"content-type": "application/json", "Authorization": "Bearer SECRET"}, b'{"ok": 1}'))
    w.add(T, RecordedResponse("x", "POST", "https://api.test/token", 200, {}, b'{"t": 1}' * 1000,
                              request_body=b"grant_type=client_credentials&client_secret=SECRET"))
    w.save()
    text = "".join(p.read_text(errors="replace") for p in (tmp_path / "snap").rglob("*") if p.is_file()
                   and not p.name.endswith(".gz"))
    assert "SECRET" not in text
    snap = replay.load(tmp_path / "snap")
    assert len(snap.captures) == 1 and snap.captures[0].captured_at == T

    async def go() -> list[httpx.Response]:
        async with httpx.AsyncClient(transport=snap.captures[0].transport()) as c:
            return [await c.get("https://api.test/a", params={"a": "1", "b": "2", "api_key": "OTHER"}),
                    await c.post("https://api.test/token", data={"grant_type": "client_credentials",
                                                                  "client_secret": "ANY"}),
                    await c.get("https://api.test/missing")]

    a, token, missing = asyncio.run(go())
    assert a.status_code == 200 and a.json() == {"ok": 1}
    assert token.status_code == 200 and len(token.content) == 8000  # gzip-stored body served plain
    assert missing.status_code == 404 and "not recorded" in missing.text


def test_bundled_snapshot_loads() -> None:
    snap = replay.load(Path(__file__).resolve().parents[2] / "data" / "replay" / "2026-11-20")
    assert len(snap.captures) == 25
    assert {"vastai", "openrouter"} <= {s for c in snap.captures for s in c.sources()}
