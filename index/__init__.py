"""spotindex: reference indices for AI compute (GPU-hours and tokens).

Layers (design note §1): ``sources/`` turn HTTP responses into normalised rows,
``index.store`` keeps them in DuckDB, ``index.pipeline`` turns rows into fixings and
daily values (pure polars), ``index.publish`` writes reports, ``index.cli`` wires them.
"""

import os

__version__ = "0.1.0"

# polars' allocator (jemalloc) returns freed pages to the kernel after 0.5 s (dirty) and 1 s
# (muzzy, MADV_FREE) by default. A recompute allocates and frees gigabytes a second, so pages
# went back and were faulted in again: perf put 30% of a month's recompute in the kernel, mostly
# page handling (BENCHMARKS.md). Freed pages kept 10 s and then returned at once: 14-24%, and
# 16-17% faster on four simulated months (19.2-20.0 s -> 16.3-16.5 s, peak RSS 2.8 -> 3.4 GB).
# polars reads this when it is first imported, so it is set here, before any module of ours
# imports polars; a value the user exported wins (polars appends it to its own defaults).
JEMALLOC_CONF = "dirty_decay_ms:10000,muzzy_decay_ms:0"
os.environ.setdefault("_RJEM_MALLOC_CONF", JEMALLOC_CONF)
