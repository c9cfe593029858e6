"""Canonical names shared by every adapter: GPU models, venues and token models.

The tables live in ``data/`` (gpu_models.toml, venues.toml, models.toml) so that adding
an alias is a data change reviewed like any other, not a code change. Lookups are by a
folded key (lower case, alphanumerics only) so ``H100 SXM``, ``h100-sxm`` and ``H100_SXM``
meet. A name nobody listed is never guessed: GPUs become ``unknown:<raw>``.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from index.errors import ConfigError
from index.paths import data_dir

UNKNOWN_PREFIX = "unknown:"


def fold(name: str) -> str:
    """The lookup key of a name: lower case with everything but letters and digits removed."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _load(name: str) -> dict:
    path: Path = data_dir() / name
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError as exc:
        raise ConfigError(f"{path} is missing: it ships with the project; restore it from git") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from exc


@dataclass(frozen=True)
class GpuModel:
    id: str
    family: str
    form_factor: str
    memory_gb: int


@dataclass(frozen=True)
class InstanceType:
    """A cloud instance type (``p5.48xlarge``) and the GPUs it carries."""

    name: str
    gpu_model: str
    gpu_count: int


@cache
def _gpu_tables() -> tuple[dict[str, GpuModel], dict[str, str], dict[str, InstanceType]]:
    raw = _load("gpu_models.toml")
    models: dict[str, GpuModel] = {}
    aliases: dict[str, str] = {}
    for model_id, spec in raw.get("models", {}).items():
        models[model_id] = GpuModel(model_id, spec["family"], spec["form_factor"], int(spec["memory_gb"]))
        for alias in [model_id, *spec.get("aliases", [])]:
            key = fold(alias)
            if key in aliases and aliases[key] != model_id:
                raise ConfigError(f"gpu_models.toml: alias '{alias}' names both {aliases[key]} and {model_id}")
            aliases[key] = model_id
    for alias, model_id in raw.get("aliases", {}).items():  # extra spellings, one line each
        if model_id not in models:
            raise ConfigError(f"gpu_models.toml: [aliases] '{alias}' names unknown model {model_id}")
        key = fold(alias)
        if key in aliases and aliases[key] != model_id:
            raise ConfigError(f"gpu_models.toml: alias '{alias}' names both {aliases[key]} and {model_id}")
        aliases[key] = model_id
    instances: dict[str, InstanceType] = {}
    for name, spec in raw.get("instances", {}).items():
        if spec["gpu_model"] not in models:
            raise ConfigError(f"gpu_models.toml: instance {name} names unknown model {spec['gpu_model']}")
        instances[fold(name)] = InstanceType(name, spec["gpu_model"], int(spec["gpu_count"]))
    return models, aliases, instances


def gpu_model(raw_name: str | None) -> str:
    """Canonical GPU model id for a name as a venue writes it; ``unknown:<raw>`` if unlisted."""
    if raw_name is None or not str(raw_name).strip():
        return UNKNOWN_PREFIX
    _, aliases, _ = _gpu_tables()
    return aliases.get(fold(str(raw_name)), f"{UNKNOWN_PREFIX}{str(raw_name).strip()}")


def gpu_models() -> dict[str, GpuModel]:
    return dict(_gpu_tables()[0])


def instance_type(name: str) -> InstanceType | None:
    """The GPUs in a cloud instance type, or None when the type is not listed."""
    return _gpu_tables()[2].get(fold(name))


@dataclass(frozen=True)
class Venue:
    id: str
    name: str
    venue_class: str
    group: str
    first_party_source: str | None = None  # the venue's own adapter, whose quotes win over aggregators'


@cache
def _venue_table() -> tuple[dict[str, Venue], dict[str, str], dict[str, str]]:
    raw = _load("venues.toml")
    venues: dict[str, Venue] = {}
    aliases: dict[str, str] = {}
    first_party: dict[str, str] = dict(raw.get("first_party", {}))  # venue id = source, for venues listed elsewhere
    for vid, spec in raw.get("venues", {}).items():
        venues[vid] = Venue(vid, spec.get("name", vid), spec["class"], spec.get("group", spec.get("name", vid)),
                            spec.get("first_party_source"))
        if spec.get("first_party_source"):
            first_party[vid] = spec["first_party_source"]
        for alias in [vid, spec.get("name", vid), *spec.get("aliases", [])]:
            aliases[fold(alias)] = vid
    # Extra spellings (aggregators' provider names), one line each: "as the aggregator writes it" = "venue id".
    # The venue's own table may live in another part of the file; an alias never overrides a venue id.
    for alias, vid in raw.get("venue_aliases", {}).items():
        aliases.setdefault(fold(alias), vid)
    return venues, aliases, first_party


def venue_id(raw_name: str) -> str:
    """Canonical venue id for a provider name; unlisted names are folded, not dropped."""
    _, aliases, _ = _venue_table()
    key = fold(raw_name)
    return aliases.get(key, key)


def venue(vid: str) -> Venue | None:
    return _venue_table()[0].get(vid)


def venues() -> dict[str, Venue]:
    return dict(_venue_table()[0])


def venue_class(vid: str, default: str | None = None) -> str | None:
    """The class of a venue (hyperscaler / neocloud / marketplace) from venues.toml."""
    v = venue(vid)
    return v.venue_class if v else default


def first_party_sources() -> dict[str, str]:
    """Venue id -> the source that is that venue's own (first-party) API (index.precedence uses it)."""
    return dict(_venue_table()[2])


@dataclass(frozen=True)
class TokenModel:
    id: str
    family: str
    maker: str


@cache
def _model_table() -> tuple[dict[str, TokenModel], dict[str, str]]:
    raw = _load("models.toml")
    models: dict[str, TokenModel] = {}
    aliases: dict[str, str] = {}
    for mid, spec in raw.get("models", {}).items():
        models[mid] = TokenModel(mid, spec.get("family", mid.split("/")[-1]), spec.get("maker", mid.split("/")[0]))
        for alias in [mid, *spec.get("aliases", [])]:
            aliases[alias.lower()] = mid
    return models, aliases


def token_model(raw_id: str) -> str:
    """Canonical token-model id: an alias from models.toml, else the id lower-cased.

    OpenRouter-style ``maker/model`` ids are already canonical; provider spellings
    (``gpt-4o-2024-08-06``, ``azure/gpt-4o``) are aliases in models.toml.
    """
    _, aliases = _model_table()
    key = raw_id.strip().lower()
    return aliases.get(key, key)


def token_models() -> dict[str, TokenModel]:
    return dict(_model_table()[0])


def model_family(model_id: str) -> str:
    m = _model_table()[0].get(model_id)
    return m.family if m else model_id.split("/")[-1]


def clear_caches() -> None:
    """Forget loaded tables (tests that point SPOTINDEX_DATA elsewhere call this)."""
    _gpu_tables.cache_clear()
    _venue_table.cache_clear()
    _model_table.cache_clear()
