"""Every registered source against broken transports: it must fail cleanly, by name, with no rows.

Each source's real ``fetch`` and ``parse`` run through ``index.scrape.run_source`` behind an
``httpx.MockTransport`` that answers every request the same broken way. Credentials are set
to dummies so that keyed sources run their authenticated path (token exchanges included)
instead of being skipped.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

import sources
from tests.sources.conftest import run

HTML = ("<!DOCTYPE html><html><head><title>Just a moment...</title></head>"
        "<body><h1>Checking your browser</h1></body></html>")

FAULTS: dict[str, Callable[[httpx.Request], httpx.Response]] = {
    "html_200": lambda req: httpx.Response(200, text=HTML, headers={"content-type": "text/html"}),
    "truncated_json": lambda req: httpx.Response(200, content=b'{"data": {"items": [{"id": "NVIDIA H100 80GB HB',
                                                 headers={"content-type": "application/json"}),
    "empty_body": lambda req: httpx.Response(200, content=b"", headers={"content-type": "application/json"}),
    "http_500": lambda req: httpx.Response(500, text="internal error"),
    "http_429": lambda req: httpx.Response(429, text="slow down", headers={"Retry-After": "0"}),
}


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
    if fault in ("http_500", "http_429"):
        assert f"HTTP {fault[-3:]}" in outcome.error
        assert len(calls) >= 2, "a retryable status must be retried"


def test_every_source_is_covered() -> None:
    assert {"vastai", "openrouter", "runpod", "azure", "aws", "oci", "lambdalabs", "verda"} <= set(sources.names())
