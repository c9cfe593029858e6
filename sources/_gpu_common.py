"""Helpers shared by GPU adapters that see many providers or many spellings.

Not a source (the leading underscore keeps it out of the registry). Three jobs:
venue resolution with an explicit problem when data/venues.toml does not know the venue,
GPU resolution from a name plus a form-factor hint that the source states (never guessed),
and the mapping of reservation terms to pricing classes.
"""

from __future__ import annotations

from typing import Any

from index import canonical


def obj(value: Any) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty one (the caller reports what is missing)."""
    return value if isinstance(value, dict) else {}


def venue_fields(provider: str | None) -> tuple[str | None, str | None, str | None]:
    """(venue id, venue class, problem) for a provider name as a source writes it.

    A venue missing from data/venues.toml keeps its folded id but gets a problem text:
    the caller quarantines the row, because its class (and so its index segment) is unknown.
    """
    if provider is None or not str(provider).strip():
        return None, None, "provider name missing"
    vid = canonical.venue_id(str(provider))
    vclass = canonical.venue_class(vid)
    if vclass is None:
        return vid, None, (f"venue '{vid}' (provider {str(provider).strip()!r}) is not in data/venues.toml: "
                           "add it with its class and group")
    return vid, vclass, None


def form_factor_hint(*texts: str | None) -> str | None:
    """'SXM', 'PCIe' or 'NVL' when one of the texts states it (e.g. an instance name); else None."""
    for text in texts:
        if not text:
            continue
        key = canonical.fold(str(text))
        if "sxm" in key:
            return "SXM"
        if "pcie" in key:
            return "PCIe"
        if "nvl" in key:
            return "NVL"
    return None


def resolve_gpu(name: str | None, form_factor: str | None = None, memory_gb: float | None = None,
                raw: str | None = None) -> str:
    """Canonical GPU id from a family-style name (``H100``) and what the source states about it.

    Tries the spellings that data/gpu_models.toml lists (``H100 SXM``, ``A100 SXM4 80GB``...);
    without a stated form factor only the name itself is tried, so an ambiguous ``H100``
    stays ``unknown:H100`` instead of being guessed onto a form factor. A match that
    contradicts the stated form factor or memory (beyond 10%) is not a match.
    """
    label = raw if raw is not None else (name or "")
    if not name or not str(name).strip():
        return canonical.gpu_model(label or None)
    g = str(name).strip()
    candidates: list[str] = []
    if form_factor:
        ff = form_factor
        if memory_gb:
            mem = f"{int(memory_gb)}GB"
            candidates += [f"{g} {ff} {mem}", f"{g} {ff}4 {mem}", f"{g} {ff}5 {mem}", f"{g} {mem} {ff}"]
        candidates += [f"{g} {ff}", f"{g} {ff}5", f"{g} {ff}4"]
    candidates.append(g)
    models = canonical.gpu_models()
    for c in candidates:
        model = canonical.gpu_model(c)
        spec = models.get(model)
        if spec is None:
            continue
        if form_factor and spec.form_factor in FORM_FACTORS and spec.form_factor != form_factor:
            continue  # the spelling means another form factor than the one stated
        if memory_gb and abs(spec.memory_gb - memory_gb) > 0.1 * spec.memory_gb:
            continue  # the spelling means another memory size than the one stated
        return model
    return f"{canonical.UNKNOWN_PREFIX}{label}" if label else canonical.UNKNOWN_PREFIX


FORM_FACTORS = ("SXM", "PCIe", "NVL")


# Commitment length in hours -> reserved pricing class (a month counted as 28-31 days).
RESERVED_TERMS: tuple[tuple[float, float, str], ...] = (
    (672, 744, "reserved_1m"),
    (4032, 4416, "reserved_6m"),
    (8400, 8800, "reserved_1y"),
    (25_900, 26_400, "reserved_3y"),
)


def reserved_class(hours: float | None) -> str | None:
    """The reserved_* class for a minimum commitment in hours, or None when it is not a standard term."""
    if hours is None:
        return None
    for lo, hi, cls in RESERVED_TERMS:
        if lo <= hours <= hi:
            return cls
    return None
