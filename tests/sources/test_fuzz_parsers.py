"""Property-based fuzzing of every parser: arbitrary JSON and mutations of real-format bodies.

Whatever bytes arrive, ``parse`` returns rows or raises the project's own SourceError — never
a KeyError, TypeError or any other exception that would read as a crash. The bodies to mutate
are each source's responses in the bundled replay snapshot (the real wire format).
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from functools import cache
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sources
from index import replay, validate
from index.errors import SourceError
from sources.base import RawResponse
from tests.conftest import REPLAY

T = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
# make test runs a quick pass; `make reliability` raises it (SPOTINDEX_FUZZ_EXAMPLES=500).
EXAMPLES = int(os.environ.get("SPOTINDEX_FUZZ_EXAMPLES", "20"))
NAMES = sorted(sources.all_sources())

json_scalars = st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=True) | st.text(max_size=8)
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=6), inner, max_size=4), max_leaves=12)


@cache
def recorded(name: str) -> tuple[RawResponse, ...]:
    """The source's responses from the first capture of the bundled snapshot that has it."""
    snap = replay.load(REPLAY)
    for cap in snap.captures:
        rs = [r for r in cap.responses if r.source == name]
        if rs:
            return tuple(RawResponse(r.source, r.method, r.url, r.status, r.headers, r.body, cap.captured_at,
                                     r.request_body, r.meta) for r in rs)
    return ()


def check(name: str, responses: list[RawResponse]) -> None:
    src = sources.get(name)
    try:
        df = src.parse(responses, T)
    except SourceError as exc:
        assert name in str(exc)
        return
    assert isinstance(df, pl.DataFrame)
    validate.split(df, src.kind)  # and validation copes with whatever came through


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in list(node.items())[:20]:
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node[:3]):
            out += _paths(v, (*prefix, i))
    return out


def _set(node: Any, path: tuple, value: Any, delete: bool) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(node, dict) and head in node:
        if not rest and delete:
            node = dict(node)
            node.pop(head)
            return node
        return {**node, head: _set(node[head], rest, value, delete)}
    if isinstance(node, list) and isinstance(head, int) and head < len(node):
        copy = list(node)
        copy[head] = _set(node[head], rest, value, delete)
        return copy
    return node


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=json_values)
def test_arbitrary_json(name: str, data: Any) -> None:
    body = json.dumps(data, allow_nan=True).encode()
    base = recorded(name)
    url = base[0].url if base else "https://example.test/"
    meta = dict(base[0].meta) if base else {}
    check(name, [RawResponse(name, "GET", url, 200, {}, body, T, meta=meta)])


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutations_of_the_real_format(name: str, data: st.DataObject) -> None:
    base = list(recorded(name))
    if not base:
        pytest.skip(f"{name} has no response in the bundled snapshot")
    i = data.draw(st.integers(0, len(base) - 1))
    target = base[i]
    try:
        doc = json.loads(target.body)
    except (ValueError, UnicodeDecodeError):  # a non-JSON wire format (zip, CSV): mutate bytes instead
        cut = data.draw(st.integers(0, len(target.body)))
        body = target.body[:cut]
    else:
        for _ in range(data.draw(st.integers(1, 3))):
            paths = _paths(doc)
            path = data.draw(st.sampled_from(paths))
            doc = _set(doc, path, data.draw(json_values), data.draw(st.booleans()))
        body = json.dumps(doc, allow_nan=True).encode()
    base[i] = RawResponse(target.source, target.method, target.url, target.status, target.headers, body,
                          target.captured_at, target.request_body, target.meta)
    check(name, base)
