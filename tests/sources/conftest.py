"""Helpers for source tests: the shared real-response fixtures, fast retries, one-call runs."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

import sources.base
from index.scrape import SourceOutcome, run_source
from sources.base import RawResponse, Source

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURES = REPO_ROOT / "tests" / "fixtures"
OBSERVED = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def shared_fixture(source: str, name: str) -> Path:  # plain helper, also served as the fixture below
    """``../shared/fixtures/<source>/<name>`` beside the repo (main or a worktree), else skip."""
    for base in (REPO_ROOT.parent / "shared", Path("/work/shared")):
        path = base / "fixtures" / source / name
        if path.exists():  # a file, or a directory of files (llm-prices/data)
            return path
    pytest.skip(f"real-response fixture ../shared/fixtures/{source}/{name} absent")


def own_fixture(source: str, name: str) -> bytes:
    return (FIXTURES / source / name).read_bytes()


def raw(source: str, url: str, body: bytes | str, meta: Mapping[str, str] | None = None,
        method: str = "GET") -> RawResponse:
    data = body.encode() if isinstance(body, str) else body
    return RawResponse(source, method, url, 200, {"content-type": "application/json"}, data, OBSERVED,
                       meta=dict(meta or {}))


def run(source: Source, handler: Callable[[httpx.Request], httpx.Response]) -> SourceOutcome:
    """fetch + parse + validate through a MockTransport, as the framework runs a source."""

    async def go() -> SourceOutcome:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            return await run_source(source, client, OBSERVED, "test")

    return asyncio.run(go())


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries without the exponential backoff waits (Retry-After hints still apply)."""
    monkeypatch.setattr(sources.base, "wait_exponential", lambda *a, **k: (lambda retry_state: 0.0))


@pytest.fixture
def shared() -> Callable[[str, str], Path]:
    return shared_fixture


@pytest.fixture(name="shared_fixture")
def _shared_fixture_fixture() -> Callable[[str, str], Path]:
    """The same helper as a fixture, for tests that take it as an argument."""
    return shared_fixture
