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
def _venue_table() -> tuple[dict[str, Venue], dict[str, str], dict[str, str | list[str]]]:
    raw = _load("venues.toml")
    venues: dict[str, Venue] = {}
    aliases: dict[str, str] = {}
    # venue id = source (or a list of sources: a venue's GPU and token APIs), for venues listed elsewhere
    first_party: dict[str, str | list[str]] = dict(raw.get("first_party", {}))
    for vid, spec in raw.get("venues", {}).items():
        venues[vid] = Venue(vid, spec.get("name", vid), spec["class"], spec.get("group", spec.get("name", vid)),
                            spec.get("first_party_source"))
        if spec.get("first_party_source") and vid not in first_party:
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
    """Venue id -> the (first) source that is that venue's own API (index.precedence uses it)."""
    return {v: (s if isinstance(s, str) else s[0]) for v, s in _venue_table()[2].items()}


def first_party_source_sets() -> dict[str, tuple[str, ...]]:
    """Venue id -> every source that is that venue's own API (its GPU and token APIs, its ledger)."""
    return {v: ((s,) if isinstance(s, str) else tuple(s)) for v, s in _venue_table()[2].items()}


@dataclass(frozen=True)
class TokenModel:
    id: str
    family: str
    maker: str


# ---- token models -------------------------------------------------------------------------------
#
# One model, many spellings: OpenRouter writes ``anthropic/claude-sonnet-4.5``, Anthropic
# ``claude-sonnet-4-5-20250929``, Bedrock ``us.anthropic.claude-sonnet-4-5-20250929-v1:0``,
# LiteLLM ``vertex_ai/claude-sonnet-4-5@20250929``. ``token_model`` maps a spelling to the
# canonical id by one deterministic rule (documented on the function) and the alias table in
# data/models.toml; it never guesses that two different names are one model: dated snapshots,
# sizes and versions only meet when models.toml lists them as aliases.

# Prefixes that say who routes or serves a model (LiteLLM provider keys, API path segments),
# never which model it is. Longest first.
ROUTE_PREFIXES: tuple[str, ...] = (
    "fireworks_ai/accounts/fireworks/models/", "fireworks_ai/accounts/fireworks/routers/",
    "accounts/fireworks/models/", "accounts/fireworks/routers/", "fireworks_ai/",
    "bedrock_converse/", "bedrock_mantle/", "bedrock/", "sagemaker/",
    "vertex_ai_beta/", "vertex_ai/", "gemini/", "azure_ai/", "azure_text/", "azure/",
    "together_ai/", "deepinfra/", "groq/", "cerebras/", "nebius/", "lambda_ai/", "hyperbolic/",
    "sambanova/", "novita/", "nscale/", "crusoe/", "friendliai/", "gmi/", "baseten/", "scaleway/",
    "ovhcloud/", "replicate/", "wandb/", "watsonx/", "oci/", "snowflake/", "databricks/",
    "vercel_ai_gateway/", "openrouter/", "anyscale/", "cloudflare/@cf/", "cloudflare/@hf/", "cloudflare/",
    "@cf/", "@hf/", "text-completion-openai/", "text-completion-codestral/", "codestral/", "cohere_chat/",
    "dashscope/",
)
# A prefix that is also a router's own namespace (``openrouter/auto``) is a route only before maker/model.
_ROUTE_NEEDS_SLASH = frozenset({"openrouter/"})
# Region, data-zone and tier segments after a route prefix (``azure/eu/``, ``bedrock/us-east-1/``).
_REGION_SEGMENT = re.compile(r"^(?:us|eu|apac|global|global-standard|us-gov|datazone|claude_platform|invoke|\*|"
                             r"\d+-month-commitment|[a-z]{2}(?:-gov)?-[a-z]+-\d)/")
# Bedrock ids: optional geo prefix of a cross-region inference profile, then ``maker.model``.
_BEDROCK_GEO = re.compile(r"^(?:us|eu|apac|au|jp|ca|in|global|us-gov)\.(?=[a-z0-9-]+\.)")
BEDROCK_MAKERS = ("anthropic", "meta", "amazon", "mistral", "cohere", "ai21", "deepseek", "qwen", "openai", "writer",
                  "moonshotai", "moonshot", "minimax", "google", "nvidia", "zai", "xai", "twelvelabs")
_BEDROCK_ID = re.compile(r"^(" + "|".join(BEDROCK_MAKERS) + r")\.([a-z0-9].*)$")
# Bedrock's own version of a model (``-v1:0``, ``-v2:0``, ``-1:0``, ``-v1``): not part of the model's name.
# ``-v0:2`` is not stripped: Mistral 7B v0.2 is spelled that way.
_BEDROCK_VERSION = re.compile(r"(?:-v\d+:0|-\d+:0|-v\d+)$")
# Serving variants that do not change the weights' identity (quantization goes in its own column).
_QUANT_SUFFIX = re.compile(r"-(?:fp8|fp4|nvfp4|int4|int8|awq|gptq|bf16|fp16)$")
_VERTEX_SUFFIX = re.compile(r"(?:@default|-maas)$")


@cache
def _model_table() -> tuple[dict[str, TokenModel], dict[str, str], dict[str, str], dict[str, str], dict[str, str]]:
    """(models, aliases by lower-cased spelling, aliases by folded spelling, maker synonyms,
    maker by model-name prefix)."""
    raw = _load("models.toml")
    models: dict[str, TokenModel] = {}
    exact: dict[str, str] = {}
    folded: dict[str, str] = {}

    def add(alias: str, mid: str, strict: bool = True) -> None:
        for table, key in ((exact, alias.lower()), (folded, fold(alias))):
            if not key:
                continue
            if key in table and table[key] != mid:
                if strict:
                    raise ConfigError(f"models.toml: alias '{alias}' names both {table[key]} and {mid}")
                continue
            table[key] = mid

    bare_seen: dict[str, set[str]] = {}
    for mid, spec in raw.get("models", {}).items():
        models[mid] = TokenModel(mid, spec.get("family", mid.split("/")[-1]), spec.get("maker", mid.split("/")[0]))
        for alias in [mid, *spec.get("aliases", [])]:
            add(alias, mid)
        bare_seen.setdefault(fold(mid.split("/")[-1]), set()).add(mid)
    # The bare name of a canonical id (``claude-sonnet-4.5``) is an alias too, unless two
    # canonical ids share it (then neither gets it: a guess is worse than no match).
    for key, mids in bare_seen.items():
        if len(mids) == 1 and key not in folded:
            folded[key] = next(iter(mids))
    makers = {k.lower(): v.lower() for k, v in raw.get("makers", {}).items()}
    families = {k.lower(): v.lower() for k, v in raw.get("families", {}).items()}
    return models, exact, folded, makers, families


def _lookup(key: str) -> str | None:
    _, exact, folded, _, _ = _model_table()
    hit = exact.get(key) or folded.get(fold(key))
    if hit is None and "/" in key:
        hit = exact.get(key.rsplit("/", 1)[1]) or folded.get(fold(key.rsplit("/", 1)[1]))
    return hit


def token_model_exact(raw_id: str) -> str | None:
    """The canonical id only when the spelling is listed verbatim (case aside) in models.toml.

    Historical ledgers keep retired spellings with stale prices; importers use this strict
    lookup so that a retired id is never folded into a live model by the normalisation rule.
    """
    key = raw_id.strip().lower()
    models, exact, _, _, _ = _model_table()
    if key in models:
        return key
    return exact.get(key)


def _strip_route(key: str) -> tuple[str, str | None]:
    """Remove routing prefixes and region segments; returns (rest, first route stripped)."""
    first: str | None = None
    changed = True
    while changed:
        changed = False
        for prefix in ROUTE_PREFIXES:
            if key.startswith(prefix) and len(key) > len(prefix) and (
                    prefix not in _ROUTE_NEEDS_SLASH or "/" in key[len(prefix):]):
                first = first or prefix
                key = key[len(prefix):]
                changed = True
                break
        m = _REGION_SEGMENT.match(key)
        if m and first is not None and len(key) > m.end():
            key = key[m.end():]
            changed = True
    return key, first


def family_maker(name: str) -> str | None:
    """The maker of a bare model name by its family prefix in models.toml (``glm-5`` -> ``z-ai``)."""
    families = _model_table()[4]
    low = name.strip().lower()
    for prefix in sorted(families, key=len, reverse=True):
        if low.startswith(prefix):
            return families[prefix]
    return None


def _with_maker(key: str) -> str:
    """``deepseek-ai/x`` -> ``deepseek/x``: the maker namespace as OpenRouter writes it; a bare
    ``glm-5.3-flash`` gets the maker of its family prefix (``[families]``), when one is listed."""
    makers = _model_table()[3]
    if "/" in key:
        maker, rest = key.split("/", 1)
        return f"{makers.get(maker, maker)}/{rest}"
    family = family_maker(key)
    return f"{family}/{key}" if family else key


def _candidates(raw_id: str) -> list[str]:
    """The spellings tried in order; the last one is the fallback canonical id."""
    key = raw_id.strip().lower()
    out = [key]
    rest, route = _strip_route(key)
    if route and route.startswith(("fireworks_ai", "accounts/fireworks")):
        rest = re.sub(r"(\d)p(\d)", r"\1.\2", rest)  # fireworks writes 3.3 as 3p3
        rest = re.sub(r"^llama-v(\d)", r"llama-\1", rest)
    out.append(rest)
    geo = _BEDROCK_GEO.sub("", rest)
    m = _BEDROCK_ID.match(geo)
    if m:
        out.append(f"{m.group(1)}.{m.group(2)}")
        rest = f"{m.group(1)}/{_BEDROCK_VERSION.sub('', m.group(2))}"
        out.append(rest)
    if "@" in rest:
        rest = _VERTEX_SUFFIX.sub("", rest).replace("@", "-")
    rest = _VERTEX_SUFFIX.sub("", rest)
    out.append(rest)
    rest = _QUANT_SUFFIX.sub("", rest)
    out.append(rest)
    out.append(_with_maker(rest))
    seen: list[str] = []
    for k in out:
        if k and k not in seen:
            seen.append(k)
    return seen


def token_model(raw_id: str) -> str:
    """Canonical token-model id for a provider's spelling.

    The rule, in order (each step's result is looked up in models.toml before the next):
      1. the id lower-cased;
      2. routing prefixes removed (``together_ai/``, ``bedrock/``, ``azure/``, ``vertex_ai/``,
         ``fireworks_ai/accounts/fireworks/models/``... see ``ROUTE_PREFIXES``) with the region
         or tier segment that follows them (``azure/eu/``, ``bedrock/us-east-1/``); Fireworks'
         ``3p3`` is ``3.3``;
      3. Bedrock ids: the cross-region geo prefix (``us.``, ``eu.``, ``global.``...) removed, then
         ``maker.model-v1:0`` read as ``maker/model`` without Bedrock's version suffix;
      4. Vertex suffixes (``@default``, ``-maas``) removed, ``@20250929`` read as ``-20250929``;
      5. a quantization suffix (``-fp8``, ``-int4``...) removed: the weights are the same model;
      6. the maker namespace rewritten as OpenRouter writes it (``deepseek-ai`` -> ``deepseek``,
         ``[makers]`` in models.toml); a bare name gets the maker of its family prefix
         (``glm-`` -> ``z-ai``, ``[families]``).
    A lookup matches an alias exactly (case-insensitive), then with punctuation ignored
    (``llama3-3-70b`` meets ``llama-3.3-70b``), then by the name after the maker
    (``meta-llama/llama-3.3-70b-instruct`` is also ``llama-3.3-70b-instruct``). Nothing else
    is stripped: dates, sizes and versions are part of a model's identity. An id that matches
    nothing becomes the result of step 6: unknown, but spelled the same way by every source.
    """
    if not raw_id or not raw_id.strip():
        return ""
    cands = _candidates(raw_id)
    for key in cands:
        hit = _lookup(key)
        if hit:
            return hit
    return cands[-1]


_QUANT_HINT = re.compile(r"[-_/](fp8|fp4|nvfp4|int4|int8|awq|gptq|bf16|fp16)(?:$|[-_/])")


def quantization_hint(raw_id: str) -> str | None:
    """The quantization a provider writes into a model id (``GLM-4.5-Air-FP8`` -> ``fp8``), or None."""
    m = _QUANT_HINT.search(raw_id.lower())
    return m.group(1) if m else None


def token_models() -> dict[str, TokenModel]:
    return dict(_model_table()[0])


def is_known_model(model_id: str) -> bool:
    """True when ``model_id`` is a canonical id listed in models.toml."""
    return model_id in _model_table()[0]


def model_family(model_id: str) -> str:
    m = _model_table()[0].get(model_id)
    return m.family if m else model_id.split("/")[-1]


def clear_caches() -> None:
    """Forget loaded tables (tests that point SPOTINDEX_DATA elsewhere call this)."""
    _gpu_tables.cache_clear()
    _venue_table.cache_clear()
    _model_table.cache_clear()
