"""Shared test helpers for source adapters."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def shared_fixture_path(source: str, name: str) -> Path:
    """A real recorded response from ../shared/fixtures (skips the test when absent)."""
    for root in (REPO_ROOT.parent / "shared", Path("/work/shared")):
        path = root / "fixtures" / source / name
        if path.is_file():
            return path
    pytest.skip(f"../shared/fixtures/{source}/{name} absent")


@pytest.fixture
def shared_fixture() -> Callable[[str, str], Path]:
    return shared_fixture_path
