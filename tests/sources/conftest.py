"""Shared test helpers for source adapters: where the real recorded responses live."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def shared_fixture(source: str, name: str) -> Path:
    """``../shared/fixtures/<source>/<name>`` beside the repo root (a worktree falls back to
    /work/shared), else skip the test."""
    for shared in (REPO_ROOT.parent / "shared", Path("/work/shared")):
        path = shared / "fixtures" / source / name
        if path.exists():
            return path
    pytest.skip(f"real response ../shared/fixtures/{source}/{name} absent")


@pytest.fixture
def shared() -> Callable[[str, str], Path]:
    return shared_fixture
