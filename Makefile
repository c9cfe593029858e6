# Everything a fresh machine with python3 needs: the venv is built from pyproject.toml.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DB ?= data/spotindex.duckdb
REPLAY ?= data/replay/2026-11-20
KEY ?= keys/spotindex.key

.PHONY: run test lint typecheck clean replay backfill-check

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

# Regenerate the bundled replay snapshot from scripts/replay_factory (deterministic).
replay: $(STAMP)
	$(BIN)/python -m scripts.replay_factory

clean:
	rm -rf $(VENV) publish .pytest_cache .mypy_cache .ruff_cache .hypothesis
	rm -f data/*.duckdb data/*.duckdb.wal

# Long reliability runs (RELIABILITY.md): 50 kill -9 trials of a full replay run (SPOTINDEX_CRASH_TRIALS,
# SPOTINDEX_CRASH_SOURCES=all or a comma list), the manipulation table, the reliability tests with more
# fuzzing examples.
.PHONY: reliability
reliability: $(STAMP)
	SPOTINDEX_CRASH_TRIALS=$${SPOTINDEX_CRASH_TRIALS:-50} SPOTINDEX_CRASH_SOURCES=$${SPOTINDEX_CRASH_SOURCES:-all} \
		$(BIN)/python -m tests.reliability.crash
	$(BIN)/python -m tests.reliability.manipulation
	SPOTINDEX_FUZZ_EXAMPLES=$${SPOTINDEX_FUZZ_EXAMPLES:-2000} $(BIN)/python -m pytest -q -n 2 \
		tests/test_reliability_manipulation.py tests/test_reliability_secrets.py tests/sources/test_fuzz_parsers.py \
		tests/sources/test_transport_faults.py
