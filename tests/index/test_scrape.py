"""The scrape framework: one bad source never stops the others; statuses name the fault."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import httpx
import polars as pl

import sources
from index import scrape
from sources.vastai import GPU_NAMES
from tests.conftest import FIXTURES

T = datetime(2026, 11, 20, 10, 30, tzinfo=UTC)


def run(handler, names=("vastai", "openrouter")) -> dict[str, scrape.SourceOutcome]:  # type: ignore[no-untyped-def]
    async def go() -> list[scrape.SourceOutcome]:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            return await scrape.run_round([sources.get(n) for n in names], client, T, "test")

    return {o.source: o for o in asyncio.run(go())}


def vast_ok(request: httpx.Request) -> httpx.Response | None:
    if request.url.host == "console.vast.ai":
        return httpx.Response(200, content=(FIXTURES / "vastai" / "bundles_small.json").read_bytes())
    return None


def test_html_from_one_source_does_not_stop_the_other() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return vast_ok(request) or httpx.Response(200, text="<!DOCTYPE html><html>maintenance</html>")

    out = run(handler)
    assert out["vastai"].status == "partial"  # loads, with the zero-price offer quarantined
    # the fixture answers each GPU query: 4 on-demand + 4 spot rows good, 1 zero-price row quarantined per
    # answer; the same offers in the other answers are duplicates, quarantined (the first copy is kept)
    assert out["vastai"].rows_loaded == 8
    assert out["vastai"].rows_quarantined == len(GPU_NAMES) + 8 * (len(GPU_NAMES) - 1)
    copies = out["vastai"].quarantine.filter(pl.col("reason").str.starts_with("duplicate"))
    assert copies.height == 8 * (len(GPU_NAMES) - 1)
    assert out["openrouter"].status == "failed"
    assert "openrouter" in out["openrouter"].error and "HTML instead of JSON" in out["openrouter"].error


def test_empty_response_is_failed_with_reason() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"offers": []})

    out = run(handler, ("vastai",))
    assert out["vastai"].status == "failed" and "held no rows" in out["vastai"].error


def test_429_then_success_is_retried() -> None:
    calls = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] == 1:
            return httpx.Response(429, headers={"Retry-After": "0"}, text="slow down")
        return vast_ok(request)  # type: ignore[return-value]

    out = run(handler, ("vastai",))
    assert out["vastai"].status == "partial" and out["vastai"].rows_loaded > 0


def test_plugin_bug_becomes_a_failed_status(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    vast = sources.get("vastai")

    def boom(raw, observed_at) -> pl.DataFrame:  # type: ignore[no-untyped-def]
        raise KeyError("surprise")

    monkeypatch.setattr(vast, "parse", boom)
    out = run(lambda r: vast_ok(r) or httpx.Response(404), ("vastai",))
    assert out["vastai"].status == "failed" and "unexpected KeyError" in out["vastai"].error


def test_missing_key_is_skipped_not_failed(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    vast = sources.get("vastai")
    monkeypatch.setattr(type(vast), "key_env", "SPOTINDEX_TEST_KEY")
    monkeypatch.delenv("SPOTINDEX_TEST_KEY", raising=False)
    out = run(lambda r: httpx.Response(500), ("vastai",))
    assert out["vastai"].status == "skipped" and out["vastai"].error == "skipped: set SPOTINDEX_TEST_KEY"
