"""Shared test helpers: paths to the project's fixtures and to ../shared (real recorded data)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sources.base import RawResponse

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"
SHARED = Path(os.environ.get("SPOTINDEX_SHARED", REPO.parent / "shared"))  # real recorded data beside the repo
REPLAY = REPO / "data" / "replay" / "2026-11-20"
T0 = datetime(2026, 11, 20, 12, 30, tzinfo=UTC)


def shared_file(*parts: str) -> Path:
    """A file under ../shared, or skip the test saying what is missing."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real recorded data not available: {path} is absent (../shared is only beside the repo "
                    "on the project's machines)")
    return path


def raw(source: str, body: bytes | str, url: str = "https://example.test/api", meta: dict | None = None,
        status: int = 200) -> RawResponse:
    """A recorded response as a parser receives it."""
    data = body.encode() if isinstance(body, str) else body
    return RawResponse(source, "GET", url, status, {"content-type": "application/json"}, data, T0, meta=meta or {})


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "test.duckdb"


# The longest test files (measured with --durations, about 25-45 s each on one worker) go first:
# make test hands whole files to two workers in collection order (--dist loadfile), and a long file
# collected last would run alone at the end.
LONG_FILES = ("test_daemon.py", "test_cli.py", "test_cli_oracle.py", "test_schedule.py", "test_cli_history.py",
              "test_html_page.py", "test_api.py", "test_store.py", "test_reliability_cli.py", "test_oracle.py",
              "test_reliability_crash.py", "test_cli_hedge.py", "test_backfill_real.py", "test_cli_tokens.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(LONG_FILES)}
    items.sort(key=lambda item: rank.get(item.path.name, len(LONG_FILES)))  # stable: order within a file kept
