"""The package's import-time setting: polars' allocator configuration (``index.JEMALLOC_CONF``)."""

from __future__ import annotations

import os
import subprocess
import sys

import index

PROBE = "import os, index, polars; print(os.environ.get('_RJEM_MALLOC_CONF', ''))"


def _conf_seen_by_polars(env: dict[str, str]) -> str:
    """What polars configured its allocator with, in a fresh interpreter that imports index first."""
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_importing_index_before_polars_sets_the_allocator_conf_polars_reads() -> None:
    env = {k: v for k, v in os.environ.items() if k != "_RJEM_MALLOC_CONF"}
    conf = _conf_seen_by_polars(env)
    # polars puts its own defaults first and appends ours: jemalloc applies the last of each option
    assert conf.endswith("," + index.JEMALLOC_CONF), conf
    assert "dirty_decay_ms:10000" in index.JEMALLOC_CONF and "muzzy_decay_ms:0" in index.JEMALLOC_CONF


def test_an_exported_allocator_conf_wins_over_ours() -> None:
    env = {**os.environ, "_RJEM_MALLOC_CONF": "dirty_decay_ms:250"}
    conf = _conf_seen_by_polars(env)
    assert conf.endswith(",dirty_decay_ms:250"), conf
    assert index.JEMALLOC_CONF not in conf
