"""Where the project's files live: data/ beside the packages, overridable for tests."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def data_dir() -> Path:
    """The folder with index definitions and canonical tables (``SPOTINDEX_DATA`` overrides)."""
    return Path(os.environ.get("SPOTINDEX_DATA", PROJECT_ROOT / "data"))


def default_db() -> Path:
    return data_dir() / "spotindex.duckdb"
