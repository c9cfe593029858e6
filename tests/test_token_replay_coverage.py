"""The token side of the bundled replay: what the factory writes, the adapters read back.

Runs every token generator of scripts/replay_factory at the first capture time through its
source (fetch over the recorded responses, parse, validate), without touching data/replay.
"""

from __future__ import annotations

import asyncio
import importlib

import httpx
import polars as pl
import pytest

import sources
from index.replay import Capture
from index.scrape import SourceOutcome, run_source
from scripts.replay_factory import capture_times, rng_for
from scripts.replay_factory._token_catalog import models as catalogue

TOKEN_GENERATORS = ("openrouter", "litellm", "llmprices", "azure_openai", "bedrock", "deepinfra", "together")


@pytest.fixture(scope="module")
def outcomes() -> dict[str, SourceOutcome]:
    ts = capture_times()[0]

    async def go() -> dict[str, SourceOutcome]:
        out = {}
        for name in TOKEN_GENERATORS:
            gen = importlib.import_module(f"scripts.replay_factory.{name}")
            cap = Capture(ts, gen.generate(ts, rng_for(gen.SOURCE, ts)))
            async with httpx.AsyncClient(transport=cap.transport("test")) as client:
                out[name] = await run_source(sources.get(gen.SOURCE), client, ts, "replay:test", require_keys=False)
        return out

    return asyncio.run(go())


def test_every_token_source_loads(outcomes: dict[str, SourceOutcome]) -> None:
    for name, o in outcomes.items():
        assert o.status in ("ok", "partial"), f"{name}: {o.error}"
        assert o.rows_loaded > 50, name
        # the store's key (source, provider, source_model_id, observed_at) holds within a source
        assert o.rows.select("provider", "source_model_id").is_duplicated().sum() == 0, name


def test_coverage_of_the_snapshot(outcomes: dict[str, SourceOutcome]) -> None:
    rows = pl.concat([o.rows for o in outcomes.values()])
    assert rows["model"].n_unique() >= 300
    assert rows["provider"].n_unique() >= 20
    # one canonical id per catalogue model: no model is counted twice under two spellings
    assert rows["model"].n_unique() == len(catalogue())
    assert set(rows["model"].to_list()) == {m.id for m in catalogue()}
    assert (rows["usd_per_mtok_input"].drop_nulls() > 0).all()


def test_one_model_every_provider(outcomes: dict[str, SourceOutcome]) -> None:
    rows = pl.concat([o.rows for o in outcomes.values()])
    sonnet = rows.filter(pl.col("model") == "anthropic/claude-sonnet-4.5")
    assert {"anthropic", "aws", "gcp", "openrouter"} <= set(sonnet["provider"].to_list())
    assert {"openrouter", "litellm", "llmprices", "bedrock"} <= set(sonnet["source"].to_list())
    gpt4o = rows.filter(pl.col("model") == "openai/gpt-4o")
    assert {"openai", "azure"} <= set(gpt4o["provider"].to_list())
    assert {"azure_openai", "litellm", "llmprices", "openrouter"} <= set(gpt4o["source"].to_list())
    llama = rows.filter(pl.col("model") == "meta-llama/llama-3.3-70b-instruct")
    assert llama["provider"].n_unique() >= 10
    assert {"deepinfra", "together", "bedrock", "openrouter", "litellm"} <= set(llama["source"].to_list())


def test_quarantine_has_reasons(outcomes: dict[str, SourceOutcome]) -> None:
    q = pl.concat([o.quarantine for o in outcomes.values()])
    assert q.height > 0 and q["reason"].is_not_null().all()
    assert q.filter(pl.col("reason").str.contains("free tier")).height >= 5
    assert q.filter(pl.col("reason").str.contains("variable router price")).height == 1
