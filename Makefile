# Everything a fresh machine with python3 needs: the venv is built from pyproject.toml.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DB ?= data/spotindex.duckdb
REPLAY ?= data/replay/2026-11-20
KEY ?= keys/spotindex.key

.PHONY: run test lint typecheck clean replay backfill-check bench

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Signs the report with a local key (made on first use; keys/ is git-ignored).
run: $(STAMP)
	@test -f $(KEY) || $(BIN)/spotindex keygen --out $(basename $(KEY))
	$(BIN)/spotindex run --replay $(REPLAY) --db $(DB) --out publish --key $(KEY)

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check index sources tests scripts
	$(BIN)/mypy index

# Real-data acceptance of imports and backfill (needs ../shared/datasets; SPOTINDEX_SHARED overrides):
# the two-year token backfill (2024-09-01 .. 2026-07-01) and the Prime Intellect GPU month.
backfill-check: $(STAMP)
	SPOTINDEX_BACKFILL_CHECK=1 $(BIN)/python -m pytest -q tests/test_backfill_real.py

# Benchmark (not part of test): simulates a year (about 50M quotes) into $(BENCH_DB) on first use, then
# spotindex vs pandas vs DuckDB SQL, ingest, scrape; writes BENCHMARKS.md. Delete $(BENCH_DB) to regenerate.
BENCH_DB ?= data/bench.duckdb
bench: $(STAMP)
	$(BIN)/python -m index.bench --db $(BENCH_DB) --out BENCHMARKS.md

# Regenerate the bundled replay snapshot from scripts/replay_factory (deterministic).
replay: $(STAMP)
	$(BIN)/python -m scripts.replay_factory

clean:
	rm -rf $(VENV) publish .pytest_cache .mypy_cache .ruff_cache .hypothesis
	rm -f data/*.duckdb data/*.duckdb.wal

# Hedging analytics on the real histories in ../shared/datasets (README "Hedging analytics").
# Needs `spotindex import` and `spotindex backfill` (issue 6); stops with a message if they are absent.
HISTORY_DB ?= data/history.duckdb
DATASETS ?= ../shared/datasets
HEDGE_OUT ?= publish/hedging
EXPOSURE ?= examples/hedging/exposure_tokens_1000mtok.csv
GPU_SERIES := GPU.H100-SXM.OD.NEO GPU.H100-PCIE.OD.NEO GPU.H200.OD.NEO GPU.A100-80GB.OD.NEO
TOK_SERIES := TOK.LLAMA-3.3-70B.BLEND TOK.O3.IN TOK.O1-MINI.IN TOK.CLAUDE-3.5-HAIKU.BLEND
.PHONY: hedge-demo
hedge-demo: $(STAMP)
	$(BIN)/spotindex import intervals $(DATASETS)/openrouter_price_ledger/openrouter_price_intervals.csv --db $(HISTORY_DB)
	$(BIN)/spotindex import intervals $(DATASETS)/litellm_price_history/litellm_price_ledger.csv --db $(HISTORY_DB)
	$(BIN)/spotindex import provider-summary $(DATASETS)/primeintellect_gpu_summary_2025/snapshot_by_provider.csv \
		--source primeintellect --db $(HISTORY_DB)
	$(BIN)/spotindex backfill --from 2024-09-01 --to 2026-07-01 --db $(HISTORY_DB)
	$(BIN)/spotindex vol $(foreach s,$(GPU_SERIES) $(TOK_SERIES),--series $(s)) --from 2025-10-19 --to 2025-11-17 \
		--db $(HISTORY_DB) --chart $(HEDGE_OUT)/vol-gpu-month.png
	$(BIN)/spotindex vol $(foreach s,$(TOK_SERIES),--series $(s)) --from 2024-09-01 --to 2026-07-01 \
		--db $(HISTORY_DB) --chart $(HEDGE_OUT)/vol-tokens.png --html $(HEDGE_OUT)
	$(BIN)/spotindex hedge --series TOK.O1-MINI.IN --own-venue openai --exposure $(EXPOSURE) \
		--from 2024-09-01 --to 2026-07-01 --db $(HISTORY_DB) --chart $(HEDGE_OUT)/hedge-o1-mini-openai.png \
		--html $(HEDGE_OUT)
	$(BIN)/spotindex hedge --series TOK.O3.IN --own-venue azure --exposure $(EXPOSURE) \
		--from 2024-09-01 --to 2026-07-01 --db $(HISTORY_DB) --chart $(HEDGE_OUT)/hedge-o3-azure.png
	$(BIN)/spotindex hedge --series TOK.LLAMA-3.3-70B.BLEND --own-venue openrouter --exposure $(EXPOSURE) \
		--from 2024-09-01 --to 2026-07-01 --db $(HISTORY_DB) --chart $(HEDGE_OUT)/hedge-llama-openrouter.png
	$(BIN)/spotindex hedge --series TOK.CLAUDE-3.5-HAIKU.BLEND --own-venue anthropic --exposure $(EXPOSURE) \
		--from 2024-09-01 --to 2026-07-01 --db $(HISTORY_DB)

# Long reliability runs (RELIABILITY.md): 50 kill -9 trials of a full replay run (SPOTINDEX_CRASH_TRIALS,
# SPOTINDEX_CRASH_SOURCES=all or a comma list), the manipulation table, the source-fault table, the
# reliability tests with more fuzzing examples.
.PHONY: reliability
reliability: $(STAMP)
	SPOTINDEX_CRASH_TRIALS=$${SPOTINDEX_CRASH_TRIALS:-50} SPOTINDEX_CRASH_SOURCES=$${SPOTINDEX_CRASH_SOURCES:-all} \
		$(BIN)/python -m tests.reliability.crash
	$(BIN)/python -m tests.reliability.manipulation
	$(BIN)/python -m tests.reliability.source_faults
	SPOTINDEX_FUZZ_EXAMPLES=$${SPOTINDEX_FUZZ_EXAMPLES:-2000} $(BIN)/python -m pytest -q -n 2 \
		tests/test_reliability_manipulation.py tests/test_reliability_secrets.py tests/sources/test_fuzz_parsers.py \
		tests/sources/test_transport_faults.py
