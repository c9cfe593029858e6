"""spotindex: reference indices for AI compute (GPU-hours and tokens).

Layers (design note §1): ``sources/`` turn HTTP responses into normalised rows,
``index.store`` keeps them in DuckDB, ``index.pipeline`` turns rows into fixings and
daily values (pure polars), ``index.publish`` writes reports, ``index.cli`` wires them.
"""

__version__ = "0.1.0"
