"""End-to-end: a token user's journey through the CLI on the bundled replay snapshot."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import REPLAY
from tests.test_cli import cli

TOKEN_SOURCES = ["openrouter", "litellm", "llmprices", "azure_openai", "bedrock", "deepinfra", "together"]


@pytest.fixture(scope="module")
def replayed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    tmp = tmp_path_factory.mktemp("tokens")
    db, out = tmp / "s.duckdb", tmp / "pub"
    args = [a for s in TOKEN_SOURCES for a in ("--source", s)]
    r = cli("run", "--replay", str(REPLAY), "--db", str(db), "--out", str(out), *args)
    assert r.returncode == 0, r.stderr
    return db, out, r.stdout


def test_run_prints_and_publishes_token_series_and_baskets(replayed: tuple[Path, Path, str]) -> None:
    _, out, stdout = replayed
    for sid in ("TOK.BASKET.FRONTIER.BLEND", "TOK.BASKET.OPEN-LARGE.BLEND", "TOK.BASKET.SMALL.BLEND",
                "TOK.BASKET.REASONING.BLEND", "TOK.LLAMA-3.3-70B.BLEND.LOWBIT", "TOK.GPT-6-ASTRA.BLEND"):
        assert sid in stdout
    report = json.loads((out / "2026-11-20" / "indices.json").read_text())
    entries = {e["id"]: e for e in report["indices"]}
    frontier = entries["TOK.BASKET.FRONTIER.BLEND"]
    assert frontier["status"] == "NORMAL" and frontier["n_venues"] == 5 and float(frontier["value"]) > 0
    # every member of every basket is priced on the snapshot day (a composition that holds)
    for basket in ("FRONTIER", "OPEN-LARGE", "SMALL", "REASONING"):
        assert entries[f"TOK.BASKET.{basket}.BLEND"]["status"] == "NORMAL", basket
    # the tier above 200k prompt tokens is its own series, dearer than the headline
    assert float(entries["TOK.GEMINI-2.5-PRO.BLEND.CTX200K"]["value"]) > float(entries["TOK.GEMINI-2.5-PRO.BLEND"]
                                                                               ["value"])


def test_tokens_model_shows_every_provider_against_the_index(replayed: tuple[Path, Path, str]) -> None:
    db, _, _ = replayed
    r = cli("tokens", "Llama-3.3-70B-Instruct", "--db", str(db))
    assert r.returncode == 0, r.stderr
    assert "meta-llama/llama-3.3-70b-instruct" in r.stdout and "TOK.LLAMA-3.3-70B.BLEND" in r.stdout
    assert "cross-provider median" in r.stdout and "vs index" in r.stdout
    assert "router: openrouter" in r.stdout and "low_bit" in r.stdout
    r = cli("tokens", "gpt-6-astra", "--db", str(db))
    assert r.returncode == 0 and "first-party rule" in r.stdout
    r = cli("tokens", "gemma-3-27b-it", "--db", str(db))  # LiteLLM lists Google's free tier at 0
    assert r.returncode == 0 and "refused at the edge" in r.stdout and "is 0 (free tier" in r.stdout


def test_tokens_cheapest_and_baskets(replayed: tuple[Path, Path, str]) -> None:
    db, _, _ = replayed
    r = cli("tokens", "--cheapest", "--top", "1", "--db", str(db))
    assert r.returncode == 0, r.stderr
    assert "cheapest providers" in r.stdout and "meta-llama/llama-3.3-70b-instruct" in r.stdout
    r = cli("baskets", "--db", str(db))
    assert r.returncode == 0, r.stderr
    assert "TOK.BASKET.FRONTIER.BLEND" in r.stdout and "needs 3" in r.stdout  # one valid day: no trend yet
    r = cli("baskets", "OPEN-LARGE", "--db", str(db))
    assert r.returncode == 0, r.stderr
    assert "TOK.LLAMA-3.3-70B.BLEND" in r.stdout and "below the basket's composition rule" not in r.stdout


def test_open_weight_members_are_served_by_at_least_three_providers(replayed: tuple[Path, Path, str]) -> None:
    from index import definitions, token_jobs
    from index.store import Store

    db, _, _ = replayed
    defs = definitions.load()
    m = token_jobs.basket_members(Store(db), defs, "OPEN-LARGE")
    assert m.height == 7 and (m["min_providers"] == 3).all()
    assert (m["providers"] >= 3).all(), m.filter(m["providers"] < 3)


def test_unknown_model_is_one_line_and_exit_1(replayed: tuple[Path, Path, str]) -> None:
    db, _, _ = replayed
    r = cli("tokens", "acme/imaginary-9000", "--db", str(db))
    assert r.returncode == 1 and "no token prices for model 'acme/imaginary-9000'" in r.stderr
    assert "Traceback" not in r.stderr
