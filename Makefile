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
