"""Every registered source against broken transports: it must fail cleanly, by name, with no rows.

Faults: HTML with status 200, truncated JSON, an empty body, HTTP 500, a 429 storm (every call
answered 429), 503 with Retry-After, a read timeout, connection refused, and a server that never
answers (the source's own deadline). Bodies that parse but carry the wrong data (schema renamed,
prices 8x, zero, duplicated, timestamps) are in test_source_faults.py.

Each source's real ``fetch`` and ``parse`` run through ``index.scrape.run_source`` behind an
``httpx.MockTransport`` that answers every request the same broken way. Credentials are set
to dummies so that keyed sources run their authenticated path (token exchanges included)
instead of being skipped.
"""

from __future__ import annotations

import asyncio
import email.utils
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest

import sources
from index.scrape import SourceOutcome, run_source
from sources.base import RawResponse, request
from tests.sources.conftest import OBSERVED, run

HTML = ("<!DOCTYPE html><html><head><title>Just a moment...</title></head>"
        "<body><h1>Checking your browser</h1></body></html>")

FAULTS: dict[str, Callable[[httpx.Request], httpx.Response]] = {
    "html_200": lambda req: httpx.Response(200, text=HTML, headers={"content-type": "text/html"}),
    "truncated_json": lambda req: httpx.Response(200, content=b'{"data": {"items": [{"id": "NVIDIA H100 80GB HB',
                                                 headers={"content-type": "application/json"}),
    "empty_body": lambda req: httpx.Response(200, content=b"", headers={"content-type": "application/json"}),
    "http_500": lambda req: httpx.Response(500, text="internal error"),
    "http_429": lambda req: httpx.Response(429, text="slow down", headers={"Retry-After": "0"}),  # a storm: every call
    "http_503_retry_after": lambda req: httpx.Response(503, text="maintenance", headers={"Retry-After": "0.01"}),
    "timeout": lambda req: _raise(httpx.ReadTimeout("timed out", request=req)),
    "connection_refused": lambda req: _raise(httpx.ConnectError("[Errno 111] Connection refused", request=req)),
}
RETRIED = {"http_500": "HTTP 500", "http_429": "HTTP 429", "http_503_retry_after": "HTTP 503",
           "timeout": "timed out", "connection_refused": "Connection refused"}


def _raise(exc: Exception) -> httpx.Response:
    raise exc


def _key_envs(src: sources.Source) -> tuple[str, ...]:
    names = tuple(getattr(src, "key_envs", ()) or ())
    return names + ((src.key_env,) if src.key_env else ())


@pytest.mark.parametrize("keys", ["with_keys", "without_keys"])
@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("name", sources.names())
def test_source_fails_cleanly(name: str, fault: str, keys: str, monkeypatch: pytest.MonkeyPatch,
                              no_backoff: None) -> None:
    src = sources.get(name)
    for env in _key_envs(src):
        if keys == "with_keys":
            monkeypatch.setenv(env, "test-credential")
        else:
            monkeypatch.delenv(env, raising=False)
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(str(request.url))
        return FAULTS[fault](request)

    outcome = run(src, handler)
    if keys == "without_keys" and src.missing_key():
        assert outcome.status == "skipped" and not calls, (outcome.status, calls)
        assert outcome.error and src.key_env and src.key_env in outcome.error
        return
    assert calls, f"{name} made no request"
    assert outcome.status == "failed", (outcome.status, outcome.error)
    assert outcome.error and f"source {name}" in outcome.error, outcome.error
    assert "report this to the source's maintainer" not in outcome.error, f"{name} crashed: {outcome.error}"
    assert outcome.rows_loaded == 0
    if fault in RETRIED:
        assert RETRIED[fault] in outcome.error, outcome.error
        assert "4 attempts" in outcome.error, outcome.error
        assert len(calls) >= 2, "a retryable fault must be retried"
        assert len(calls) <= 4 * 20, "retries are bounded"  # 4 attempts per request; no source pages 20 deep here


@pytest.mark.parametrize("name", sources.names())
def test_a_source_that_never_answers_times_out(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A server that accepts the request and never answers: the source's own deadline ends it."""
    src = sources.get(name)
    for env in _key_envs(src):
        monkeypatch.setenv(env, "test-credential")

    async def hang(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    async def go() -> SourceOutcome:
        async with httpx.AsyncClient(transport=httpx.MockTransport(hang)) as client:
            return await run_source(src, client, OBSERVED, "test", timeout_s=0.05)

    outcome = asyncio.run(go())
    assert outcome.status == "failed" and outcome.rows_loaded == 0
    assert outcome.error and f"source {name}" in outcome.error and "(timeout)" in outcome.error, outcome.error


@pytest.mark.parametrize(("header", "expected"), [("7", 7.0), ("120", 30.0), ("soon", None)])
def test_retry_after_is_honoured_and_capped(header: str, expected: float | None,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """503 with Retry-After: the wait between attempts is the hint (capped at 30 s), else the backoff."""
    waits: list[float] = []

    async def no_sleep(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(asyncio, "sleep", no_sleep)
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) < 3:
            return httpx.Response(503, text="maintenance", headers={"Retry-After": header})
        return httpx.Response(200, json={"ok": True})

    async def go() -> RawResponse:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            return await request(client, "demo", "GET", "https://api.example.test/prices")

    resp = asyncio.run(go())
    assert resp.status == 200 and len(calls) == 3 and len(waits) == 2
    if expected is None:  # not a number nor an HTTP date: exponential backoff
        assert all(0 < w <= 30 for w in waits), waits
    else:
        assert waits == [expected, expected], waits


def test_retry_after_as_an_http_date(monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []

    async def no_sleep(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(asyncio, "sleep", no_sleep)
    when = email.utils.format_datetime(datetime.now(UTC) + timedelta(seconds=20), usegmt=True)
    answers = [httpx.Response(429, headers={"Retry-After": when}), httpx.Response(200, json={})]

    async def go() -> RawResponse:
        async with httpx.AsyncClient(transport=httpx.MockTransport(lambda r: answers.pop(0))) as client:
            return await request(client, "demo", "GET", "https://api.example.test/prices")

    assert asyncio.run(go()).status == 200
    assert len(waits) == 1 and 15 <= waits[0] <= 20, waits


def test_every_source_is_covered() -> None:
    assert {"vastai", "openrouter", "runpod", "azure", "aws", "oci", "lambdalabs", "verda"} <= set(sources.names())
