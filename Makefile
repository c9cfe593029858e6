# Everything a fresh machine with python3 needs: the venv is built from pyproject.toml.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DB ?= data/spotindex.duckdb
REPLAY ?= data/replay/2026-11-20
KEY ?= keys/spotindex.key

.PHONY: run test lint typecheck clean replay backfill-check bench profile

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

# where the unmet targets spend their time: pyinstrument, and perf when installed (after make bench)
profile: $(STAMP)
	$(BIN)/python -m index.bench_profile --db $(BENCH_DB) --out PROFILE.md

# Regenerate the bundled replay snapshot from scripts/replay_factory (deterministic).
replay: $(STAMP)
	$(BIN)/python -m scripts.replay_factory

clean:
	rm -rf $(VENV) publish .pytest_cache .mypy_cache .ruff_cache .hypothesis
	rm -f data/*.duckdb data/*.duckdb.wal

# Hedging analytics on the real histories in ../shared/datasets (README "Hedging analytics"): imports the
# OpenRouter and LiteLLM price ledgers and the Prime Intellect GPU summary into $(HISTORY_DB), backfills
# 2024-09-01 .. 2026-07-01 (a few minutes), then runs the volatility panels and the hedges the README quotes:
# charts, JSON figures and one HTML page per series in $(HEDGE_OUT). A price the index does not use (Azure's o3,
# OpenRouter's listings) is made from the ledgers by scripts/own_price_from_ledger.py, into $(HEDGE_OUT).
HISTORY_DB ?= data/history.duckdb
DATASETS ?= ../shared/datasets
HEDGE_OUT ?= publish/hedging
EXPOSURE ?= examples/hedging/exposure_tokens_1000mtok.csv
GPU_EXPOSURE ?= examples/hedging/exposure_gpu_10000h.csv
GPU_SERIES := GPU.H100-SXM.OD.NEO GPU.H100-PCIE.OD.NEO GPU.H200.OD.NEO GPU.A100-80GB.OD.NEO GPU.B200.OD.NEO
TOK_SERIES := TOK.O3.IN TOK.O1-MINI.IN TOK.CLAUDE-3.5-HAIKU.BLEND
TOK_WINDOW := --from 2024-09-01 --to 2026-07-01
GPU_WINDOW := --from 2025-10-19 --to 2025-11-17
OR_LEDGER = $(DATASETS)/openrouter_price_ledger/openrouter_price_intervals.csv
LITELLM_LEDGER = $(DATASETS)/litellm_price_history/litellm_price_ledger.csv
OWN_PRICE = $(BIN)/python -m scripts.own_price_from_ledger
HEDGE = $(BIN)/spotindex hedge --db $(HISTORY_DB)

.PHONY: hedge-demo
hedge-demo: $(STAMP)
	@test -d $(DATASETS) || { echo "hedge-demo: $(DATASETS) not found (the real histories; set DATASETS=DIR)"; exit 1; }
	$(BIN)/spotindex import intervals $(OR_LEDGER) --db $(HISTORY_DB)
	$(BIN)/spotindex import intervals $(LITELLM_LEDGER) --db $(HISTORY_DB)
	$(BIN)/spotindex import provider-summary $(DATASETS)/primeintellect_gpu_summary_2025/snapshot_by_provider.csv \
		--source primeintellect --db $(HISTORY_DB)
	$(BIN)/spotindex backfill --from 2024-09-01 --to 2026-07-01 --db $(HISTORY_DB)
	$(BIN)/spotindex vol $(foreach s,$(GPU_SERIES) $(TOK_SERIES),--series $(s)) $(GPU_WINDOW) --db $(HISTORY_DB) \
		--chart $(HEDGE_OUT)/vol-gpu-month.png --html $(HEDGE_OUT) --json $(HEDGE_OUT)/vol-gpu-month.json
	$(BIN)/spotindex vol $(foreach s,$(TOK_SERIES),--series $(s)) $(TOK_WINDOW) --db $(HISTORY_DB) \
		--chart $(HEDGE_OUT)/vol-tokens.png --html $(HEDGE_OUT) --json $(HEDGE_OUT)/vol-tokens.json
	$(OWN_PRICE) $(LITELLM_LEDGER) --key azure/o3 $(TOK_WINDOW) --out $(HEDGE_OUT)/own-azure-o3-in.csv
	$(OWN_PRICE) $(OR_LEDGER) --key openai/o1-mini $(TOK_WINDOW) --out $(HEDGE_OUT)/own-openrouter-o1-mini-in.csv
	$(OWN_PRICE) $(OR_LEDGER) --key anthropic/claude-3.5-haiku --side blended $(TOK_WINDOW) \
		--out $(HEDGE_OUT)/own-openrouter-claude-3.5-haiku-blend.csv
	$(HEDGE) --series TOK.O3.IN --own-venue openai --exposure $(EXPOSURE) $(TOK_WINDOW) \
		--chart $(HEDGE_OUT)/hedge-o3-openai.png --json $(HEDGE_OUT)/hedge-o3-openai.json --html $(HEDGE_OUT)
	$(HEDGE) --series TOK.O3.IN --own-price $(HEDGE_OUT)/own-azure-o3-in.csv --exposure $(EXPOSURE) $(TOK_WINDOW) \
		--chart $(HEDGE_OUT)/hedge-o3-azure.png --json $(HEDGE_OUT)/hedge-o3-azure.json
	$(HEDGE) --series TOK.O1-MINI.IN --own-price $(HEDGE_OUT)/own-openrouter-o1-mini-in.csv --exposure $(EXPOSURE) \
		$(TOK_WINDOW) --chart $(HEDGE_OUT)/hedge-o1-mini-openrouter.png \
		--json $(HEDGE_OUT)/hedge-o1-mini-openrouter.json --html $(HEDGE_OUT)
	$(HEDGE) --series TOK.CLAUDE-3.5-HAIKU.BLEND --own-price $(HEDGE_OUT)/own-openrouter-claude-3.5-haiku-blend.csv \
		--exposure $(EXPOSURE) $(TOK_WINDOW) --chart $(HEDGE_OUT)/hedge-claude-3.5-haiku-openrouter.png \
		--json $(HEDGE_OUT)/hedge-claude-3.5-haiku-openrouter.json --html $(HEDGE_OUT)
	$(HEDGE) --series GPU.H100-SXM.OD.NEO --tenor 1D --own-venue lambda --exposure $(GPU_EXPOSURE) $(GPU_WINDOW) \
		--chart $(HEDGE_OUT)/hedge-h100-lambda-daily.png --json $(HEDGE_OUT)/hedge-h100-lambda-daily.json \
		--html $(HEDGE_OUT)

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
