"""Source plugins and their registry.

Built-in sources are the modules of this package that define ``SOURCE`` (an instance of
``sources.base.Source``); third-party packages add theirs through the entry-point group
``spotindex.sources`` (the entry point names a Source subclass or instance). ``get(name)``
and ``all_sources()`` are the public API; ``get(name).parse(raw, observed_at)`` is how any
check runs a parser on recorded bytes.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from importlib.metadata import entry_points

from index.errors import SpotindexError
from sources.base import RawResponse, Source

__all__ = ["RawResponse", "Source", "all_sources", "get", "names"]

ENTRY_POINT_GROUP = "spotindex.sources"
_NOT_PLUGINS = {"base"}


def _instantiate(obj: object, origin: str) -> Source:
    inst = obj() if isinstance(obj, type) else obj
    if not isinstance(inst, Source):
        raise SpotindexError(f"{origin} does not provide a spotindex Source (got {type(inst).__name__})")
    return inst


@cache
def _registry() -> dict[str, Source]:
    found: dict[str, Source] = {}
    for mod in pkgutil.iter_modules(__path__):
        if mod.name in _NOT_PLUGINS or mod.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{mod.name}")
        if hasattr(module, "SOURCE"):
            src = _instantiate(module.SOURCE, f"sources.{mod.name}")
            found[src.name] = src
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        src = _instantiate(ep.load(), f"entry point {ep.name} ({ep.value})")
        if src.name in found:
            raise SpotindexError(f"entry point {ep.value} registers source '{src.name}', which already exists")
        found[src.name] = src
    return dict(sorted(found.items()))


def all_sources() -> dict[str, Source]:
    """Every registered source by name, built-ins and plugins."""
    return dict(_registry())


def names() -> list[str]:
    return list(_registry())


def get(name: str) -> Source:
    """The source called ``name``; an error listing the known names otherwise."""
    reg = _registry()
    if name not in reg:
        raise SpotindexError(f"unknown source '{name}'; known sources: {', '.join(reg)}")
    return reg[name]
