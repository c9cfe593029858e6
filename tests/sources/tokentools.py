"""Helpers for the token-source tests: recorded responses, a mock transport, one framework run."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import httpx
import polars as pl

from index import validate
from index.scrape import SourceOutcome, run_source
from sources.base import RawResponse, Source

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def fixture_bytes(source: str, name: str) -> bytes:
    return (FIXTURES / source / name).read_bytes()


def raw(source: str, url: str, body: bytes, status: int = 200, meta: dict[str, str] | None = None) -> RawResponse:
    return RawResponse(source, "GET", url, status, {"content-type": "application/json"}, body, T0, meta=meta or {})


def parse_split(src: Source, responses: Sequence[RawResponse]) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(parsed frame, rows that load, quarantine) as the framework would split them."""
    df = src.parse(responses, T0)
    good, quarantine = validate.split(df.with_columns(dataset=pl.lit("test")), "token", duplicates=True)
    return df, good, quarantine


def run(src: Source, handler: Callable[[httpx.Request], httpx.Response]) -> SourceOutcome:
    """fetch + parse + validate through index.scrape.run_source over a MockTransport."""

    async def go() -> SourceOutcome:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            return await run_source(src, client, T0, "test", require_keys=False)

    return asyncio.run(go())


def serve(routes: dict[str, bytes], first_status: int | None = None) -> Callable[[httpx.Request], httpx.Response]:
    """A handler answering each URL prefix with its body; optionally a first answer of ``first_status``."""
    state = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        state["n"] += 1
        if first_status is not None and state["n"] == 1:
            return httpx.Response(first_status, headers={"Retry-After": "0"}, text="slow down")
        url = str(request.url)
        for prefix, body in routes.items():
            if url.startswith(prefix):
                return httpx.Response(200, content=body, headers={"content-type": "application/json"})
        return httpx.Response(404, text=f"no route for {url}")

    return handler


def always(status: int) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: httpx.Response(status, text="boom")


def row(df: pl.DataFrame, **eq: object) -> dict[str, object]:
    """The one row of ``df`` matching all ``column == value``."""
    hit = df
    for col, value in eq.items():
        hit = hit.filter(pl.col(col) == value)
    assert hit.height == 1, f"{hit.height} rows match {eq}"
    return hit.row(0, named=True)
