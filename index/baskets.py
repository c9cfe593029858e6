"""Token baskets (``data/baskets.toml``): composition, generated series and the chain-linked level.

A basket is a versioned list of canonical models (data/models.toml) with optional usage
weights and effective dates. Loading it generates the series the baskets need: for every
member model one series per price side (``TOK.<MODEL>.<SIDE>``, the model's headline: full
precision, shortest context tier), a low-bit series where the basket asks for it, and the
basket series themselves (``TOK.BASKET.<ID>.<SIDE>``, and ``...<SIDE>.USAGE`` for the
usage-weighted variant).

The level (METHODOLOGY.md, "Token indices", T5) is chain-linked, so that a change of membership
never moves it. With S_t(C) = sum of w_i * p_i,t over a set C of members and C_t the
composition in force on day t restricted to the members priced on day t and on day t-1:

    level_t = S_t(C_t) / D_t,    D_t = S_{t-1}(C_t) / level_{t-1}

so level_t = level_{t-1} * S_t(C_t) / S_{t-1}(C_t). The divisor D is the one under which
yesterday's prices of today's members give yesterday's level: it stays the same while the
member set does, and changes exactly on a day the set changes (a member added, retired or
replaced, or one without a price), by the ratio that leaves the level where it was. On the
first day, D = sum of w over the priced members: the level is their weighted mean price in USD
per million tokens.
Pure functions: polars in, polars out.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from index import canonical
from index.errors import ConfigError

if TYPE_CHECKING:
    from index.definitions import IndexDefinition, TokenRules

SIDES = ("input", "output", "cached_input", "blended")
SIDE_CODE = {"input": "IN", "output": "OUT", "cached_input": "CACHED", "blended": "BLEND"}
VALID = ("NORMAL", "LOW_CONFIDENCE")
STALE_DAYS = 3  # a member without a value carries its last one at most this many days
LOW_CONFIDENCE_SHARE = 2 / 3  # weight share of members with a fresh valid value for LOW_CONFIDENCE
_BASKET_ID = re.compile(r"^[A-Z0-9][A-Z0-9-]*$")
UNIT = "USD/Mtok"


@dataclass(frozen=True)
class Member:
    model: str
    weight: float | None = None
    start: date | None = None  # first day in the basket (inclusive); None = from the start
    end: date | None = None  # first day out of the basket (exclusive); None = still in

    def active(self, day: date) -> bool:
        return (self.start is None or self.start <= day) and (self.end is None or day < self.end)


@dataclass(frozen=True)
class Basket:
    id: str
    name: str
    members: tuple[Member, ...]
    sides: tuple[str, ...] = ("blended",)
    usage_weighted: bool = False
    low_bit_series: bool = False  # also generate each member's low-bit series (open-weight baskets)
    min_providers: int | None = None  # composition rule: members served by at least this many providers
    description: str = ""


@dataclass(frozen=True)
class BasketFile:
    version: str
    baskets: tuple[Basket, ...]
    path: Path | None = None

    def by_id(self) -> dict[str, Basket]:
        return {b.id: b for b in self.baskets}


# ---- series ids ------------------------------------------------------------------------------

def model_slug(model: str) -> str:
    """``meta-llama/llama-3.3-70b-instruct`` -> ``LLAMA-3.3-70B-INSTRUCT``."""
    return model.split("/")[-1].upper()


def token_series_id(model: str, side: str, segment: str = "full", context_tier: int = 0,
                    slug: str | None = None) -> str:
    sid = f"TOK.{slug or model_slug(model)}.{SIDE_CODE[side]}"
    if segment == "low_bit":
        sid += ".LOWBIT"
    if context_tier:
        sid += f".CTX{context_tier // 1000}K" if context_tier % 1000 == 0 else f".CTX{context_tier}"
    return sid


def basket_series_id(basket: str, side: str, weighting: str = "equal") -> str:
    sid = f"TOK.BASKET.{basket}.{SIDE_CODE[side]}"
    return sid + ".USAGE" if weighting == "usage" else sid


# ---- the file --------------------------------------------------------------------------------

def _date(value: Any, where: str) -> date | None:
    if value is None:
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(f"{where}: '{value}' is not a date (YYYY-MM-DD)") from None


def _unknown_model(path: Path | str, basket: str, model: str) -> ConfigError:
    guess = canonical.token_model(model) if model else ""
    hint = (f"; data/models.toml knows it as '{guess}': write that id" if guess and guess != model
            and canonical.is_known_model(guess) else "; add it to data/models.toml or fix the spelling")
    return ConfigError(f"{path}: basket {basket} names unknown model '{model}' (not a canonical id in "
                       f"data/models.toml){hint}")


def parse(raw: dict[str, Any], path: Path | str = "baskets.toml") -> BasketFile:
    """Validate a basket file's content; every error names the basket and the member."""
    version = raw.get("version")
    if not version:
        raise ConfigError(f"{path}: 'version' is missing (a basket file is versioned)")
    baskets: list[Basket] = []
    seen: set[str] = set()
    for i, b in enumerate(raw.get("basket", [])):
        bid = str(b.get("id", ""))
        where = f"{path}: basket {bid or f'#{i + 1}'}"
        if not _BASKET_ID.match(bid):
            raise ConfigError(f"{where}: id must be upper-case letters, digits and '-'")
        if bid in seen:
            raise ConfigError(f"{where}: defined twice")
        seen.add(bid)
        sides = tuple(b.get("sides", ["blended"]))
        bad_sides = [s for s in sides if s not in SIDES]
        if bad_sides or not sides:
            raise ConfigError(f"{where}: sides {bad_sides or '[]'} not among {', '.join(SIDES)}")
        usage = bool(b.get("usage_weighted", False))
        members: list[Member] = []
        for entry in b.get("members", []):
            m: dict[str, Any] = {"model": entry} if isinstance(entry, str) else dict(entry)
            model = str(m.get("model", ""))
            if not canonical.is_known_model(model):
                raise _unknown_model(path, bid, model)
            weight = m.get("weight")
            if weight is not None and not (isinstance(weight, int | float) and weight > 0):
                raise ConfigError(f"{where}: member {model}: weight must be a positive number, got {weight!r}")
            if usage and weight is None:
                raise ConfigError(f"{where}: member {model} has no weight, but the basket is usage_weighted "
                                  "(every member needs one)")
            start = _date(m.get("from"), f"{where}: member {model}: from")
            end = _date(m.get("until"), f"{where}: member {model}: until")
            if start and end and end <= start:
                raise ConfigError(f"{where}: member {model}: until {end} is not after from {start}")
            for other in members:
                if other.model == model and _overlap(other, start, end):
                    raise ConfigError(f"{where}: member {model} is listed twice for overlapping dates")
            members.append(Member(model, float(weight) if weight is not None else None, start, end))
        if not members:
            raise ConfigError(f"{where}: no members")
        min_providers = b.get("min_providers")
        baskets.append(Basket(bid, str(b.get("name", bid)), tuple(members), sides, usage,
                              bool(b.get("low_bit_series", False)),
                              int(min_providers) if min_providers is not None else None,
                              str(b.get("description", ""))))
    slugs: dict[str, str] = {}
    for basket in baskets:
        for member in basket.members:
            first = slugs.setdefault(model_slug(member.model), member.model)
            if first != member.model:
                raise ConfigError(f"{path}: basket {basket.id}: models {first} and {member.model} would share the "
                                  f"series id TOK.{model_slug(member.model)}: define one of them explicitly in "
                                  "indices.toml")
    return BasketFile(str(version), tuple(baskets), Path(path))


def _overlap(m: Member, start: date | None, end: date | None) -> bool:
    lo = max(m.start or date.min, start or date.min)
    hi = min(m.end or date.max, end or date.max)
    return lo < hi


def load(path: Path) -> BasketFile:
    try:
        raw = tomllib.loads(path.read_text())
    except FileNotFoundError as exc:
        raise ConfigError(f"{path} is missing (named by [tokens] baskets in indices.toml)") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
    return parse(raw, path)


# ---- generated definitions -------------------------------------------------------------------

def _key(entry: dict[str, Any]) -> tuple[Any, ...]:
    return (entry.get("model"), entry.get("price"), entry.get("segment", "full"), int(entry.get("context_tier", 0)))


def generated_entries(bf: BasketFile, explicit: list[dict[str, Any]], rules: TokenRules) -> list[dict[str, Any]]:
    """indices.toml-style entries for the series the baskets need and the basket series.

    A member's series is reused when indices.toml already defines one for the same model, side,
    segment and tier (with the default first-party rule); otherwise ``TOK.<MODEL>.<SIDE>`` is
    generated. Order is deterministic (file order).
    """
    ids: dict[tuple[Any, ...], str] = {
        _key(e): e["id"] for e in explicit
        if e.get("kind") == "token" and e.get("first_party", "auto") == "auto" and "id" in e}
    # a model that already has a series named TOK.<SLUG>.<SIDE> keeps that slug for its other series
    slugs: dict[str, str] = {}
    for e in explicit:
        parts = str(e.get("id", "")).split(".")
        if e.get("kind") == "token" and e.get("model") and parts[0] == "TOK" and len(parts) >= 3 \
                and parts[-1] == SIDE_CODE.get(str(e.get("price")), "?"):
            slugs.setdefault(str(e["model"]), ".".join(parts[1:-1]))
    out: list[dict[str, Any]] = []
    needed: dict[tuple[str, str], list[str]] = {}
    for b in bf.baskets:
        for m in b.members:
            full = needed.setdefault((m.model, "full"), [])
            for side in [*rules.sides, *b.sides]:
                if side not in full:
                    full.append(side)
            if b.low_bit_series:
                low = needed.setdefault((m.model, "low_bit"), [])
                for side in ["blended", *b.sides]:
                    if side not in low:
                        low.append(side)
    for (model, segment), sides in needed.items():
        for side in sorted(sides, key=SIDES.index):
            key = (model, side, segment, 0)
            if key in ids:
                continue
            sid = token_series_id(model, side, segment, slug=slugs.get(model))
            ids[key] = sid
            out.append({"id": sid, "kind": "token", "model": model, "price": side, "segment": segment,
                        "unit": UNIT, "description": f"{model}, {side}" + (", low-bit" if segment == "low_bit"
                                                                             else "")})
    for b in bf.baskets:
        for side in b.sides:
            for weighting in ["equal", *(["usage"] if b.usage_weighted else [])]:
                members = [{"series": ids[(m.model, side, "full", 0)], "model": m.model,
                            "weight": (m.weight if weighting == "usage" else 1.0),
                            "start": m.start.isoformat() if m.start else None,
                            "end": m.end.isoformat() if m.end else None} for m in b.members]
                out.append({"id": basket_series_id(b.id, side, weighting), "kind": "basket", "basket": b.id,
                            "price": side, "weighting": weighting, "members": members,
                            "basket_version": bf.version, "min_providers": b.min_providers, "unit": UNIT,
                            "description": f"{b.name} ({weighting}-weighted, {side}, chain-linked)"})
    return out


# ---- the chain-linked level --------------------------------------------------------------------

MEMBER_SCHEMA = pl.Schema({"index_id": pl.String(), "series": pl.String(), "weight": pl.Float64(),
                           "start": pl.Date(), "end": pl.Date(), "basket_version": pl.String()})
INPUT_SCHEMA = pl.Schema({"series": pl.String(), "date": pl.Date(), "value": pl.Float64(), "p25": pl.Float64(),
                          "p75": pl.Float64(), "n_quotes": pl.Int32(), "status": pl.String(),
                          "inputs_hash": pl.String()})
VALUE_COLUMNS = ["index_id", "date", "value", "unit", "p25", "p75", "conf", "n_fixings", "n_venues", "n_quotes",
                 "status", "methodology_version", "inputs_hash"]


def members_table(defs: list[IndexDefinition]) -> pl.DataFrame:
    """One row per (basket series, member series) with its weight and effective dates."""
    rows = [{"index_id": d.id, "series": m["series"], "weight": float(m["weight"]),
             "start": date.fromisoformat(m["start"]) if m.get("start") else None,
             "end": date.fromisoformat(m["end"]) if m.get("end") else None,
             "basket_version": getattr(d, "basket_version", None) or ""}
            for d in defs for m in getattr(d, "members", [])]
    return pl.DataFrame(rows, schema=MEMBER_SCHEMA)


def _sha256(expr: pl.Expr) -> pl.Expr:
    return expr.map_batches(lambda s: pl.Series([hashlib.sha256(v.encode()).hexdigest() for v in s]),
                            return_dtype=pl.String)


def _num(expr: pl.Expr) -> pl.Expr:
    return expr.cast(pl.Float64).cast(pl.String).fill_null("none")


def member_prices(values: pl.DataFrame, series: list[str], first: date, last: date) -> pl.DataFrame:
    """Each member series' price on every day of [first, last]: its value that day, else its last
    value within STALE_DAYS (carried, not fresh); with the previous day's price beside it. A
    member without any value is still there, unpriced (it counts in the status, not the level)."""
    vals = values.cast(dict(INPUT_SCHEMA)).filter(pl.col("value").is_not_null() & (pl.col("date") <= last))  # type: ignore[arg-type]
    series_df = pl.DataFrame({"series": series}, schema={"series": pl.String})
    lo = vals["date"].min()
    grid = series_df.join(pl.DataFrame({"date": pl.date_range(min(first, lo) if isinstance(lo, date) else first,
                                                              last, "1d", eager=True)}), how="cross")
    by = "series"
    framed = (
        grid.join(vals, on=["series", "date"], how="left")
        .sort("series", "date")
        .with_columns(src_date=pl.when(pl.col("value").is_not_null()).then(pl.col("date")))
        .with_columns(pl.col(c).forward_fill().over(by) for c in
                      ("value", "p25", "p75", "src_date", "status", "inputs_hash"))
        .with_columns(stale=(pl.col("date") - pl.col("src_date")).dt.total_days())
        .with_columns(usable=pl.col("value").is_not_null() & (pl.col("stale") <= STALE_DAYS))
        .with_columns(
            price=pl.when(pl.col("usable")).then(pl.col("value")),
            fresh=pl.col("usable") & (pl.col("stale") == 0) & pl.col("status").is_in(VALID),
            n_quotes=pl.when(pl.col("stale") == 0).then(pl.col("n_quotes")).otherwise(0),
        )
        .with_columns(price_prev=pl.col("price").shift(1).over(by))
    )
    return framed.filter(pl.col("date") >= first)


def levels(members: pl.DataFrame, values: pl.DataFrame, last: date, methodology_version: str,
           first: date | None = None) -> pl.DataFrame:
    """Chain-linked levels of every basket series in ``members`` for each day up to ``last``.

    ``values`` are the members' daily values (series, date, value, p25, p75, n_quotes, status,
    inputs_hash): the latest revision of each. Each basket starts on the first day any member
    has a value (or ``first``, if later); its level is a pure function of these rows.
    """
    if members.height == 0 or values.height == 0:
        return pl.DataFrame(schema={c: _VALUE_DTYPES[c] for c in VALUE_COLUMNS})
    values = values.filter(pl.col("series").is_in(members["series"].unique().to_list()))
    if values.filter(pl.col("value").is_not_null()).height == 0:
        return pl.DataFrame(schema={c: _VALUE_DTYPES[c] for c in VALUE_COLUMNS})
    start = values.filter(pl.col("value").is_not_null())["date"].min()
    assert isinstance(start, date)
    prices = member_prices(values, members["series"].unique().sort().to_list(), start, last)
    day = pl.col("date")
    md = (
        members.lazy().join(prices.lazy(), on="series", how="inner")
        .filter((pl.col("start").is_null() | (pl.col("start") <= day))
                & (pl.col("end").is_null() | (day < pl.col("end"))))
        .with_columns(in_link=pl.col("price").is_not_null() & pl.col("price_prev").is_not_null(),
                      priced=pl.col("price").is_not_null())
    )
    w = pl.col("weight")
    line = pl.format("{}|w={}|p={}|prev={}|from={}|{}", "series", _num(w), _num(pl.col("price")),
                     _num(pl.col("price_prev")), pl.col("src_date").cast(pl.String).fill_null("none"),
                     pl.col("inputs_hash").fill_null("none"))
    per_day = (
        # sorted first: sums over members in a fixed order give the same bits on every run
        md.sort("index_id", "date", "series").group_by("index_id", "date", maintain_order=True)
        .agg(
            s_now=(w * pl.col("price")).filter(pl.col("in_link")).sum(),
            s_prev=(w * pl.col("price_prev")).filter(pl.col("in_link")).sum(),
            n_link=pl.col("in_link").sum(),
            a_now=(w * pl.col("price")).filter(pl.col("priced")).sum(),
            w_now=w.filter(pl.col("priced")).sum(),
            p25_link=(w * pl.coalesce("p25", "price")).filter(pl.col("in_link")).sum(),
            p75_link=(w * pl.coalesce("p75", "price")).filter(pl.col("in_link")).sum(),
            p25_all=(w * pl.coalesce("p25", "price")).filter(pl.col("priced")).sum(),
            p75_all=(w * pl.coalesce("p75", "price")).filter(pl.col("priced")).sum(),
            n_priced=pl.col("priced").sum().cast(pl.Int32),
            n_quotes=pl.col("n_quotes").filter(pl.col("priced")).sum().cast(pl.Int32),
            w_active=w.sum(),
            w_fresh=w.filter(pl.col("fresh")).sum(),
            _lines=line.sort().str.join("\n"),
            basket_version=pl.col("basket_version").first(),
        )
        .sort("index_id", "date")
        # the basket starts on its first day with a priced member
        .with_columns(_started=(pl.col("n_priced") > 0).cum_max().over("index_id", order_by="date"))
        .filter(pl.col("_started"))
        .with_columns(_first=pl.col("date") == pl.col("date").min().over("index_id"))
        .with_columns(
            link=pl.when(pl.col("n_link") > 0).then(pl.col("s_now") / pl.col("s_prev")),
        )
        .with_columns(
            factor=pl.when(pl.col("_first")).then(pl.col("a_now") / pl.col("w_now"))
            .otherwise(pl.col("link").fill_null(1.0)),
        )
        .with_columns(value=pl.col("factor").cum_prod().over("index_id", order_by="date"))
        .with_columns(prev_level=pl.col("value").shift(1).over("index_id", order_by="date"))
    )
    share = pl.col("w_fresh") / pl.col("w_active")
    broken = ~pl.col("_first") & pl.col("link").is_null()
    band = pl.when(pl.col("_first")).then(pl.col("value") / pl.col("a_now"))
    out = per_day.with_columns(
        p25=pl.when(pl.col("_first")).then(band * pl.col("p25_all"))
        .when(pl.col("n_link") > 0).then(pl.col("value") * pl.col("p25_link") / pl.col("s_now")),
        p75=pl.when(pl.col("_first")).then(band * pl.col("p75_all"))
        .when(pl.col("n_link") > 0).then(pl.col("value") * pl.col("p75_link") / pl.col("s_now")),
        status=pl.when(broken | (pl.col("n_priced") == 0)).then(pl.lit("CONTINGENCY"))
        .when(share >= 1 - 1e-9).then(pl.lit("NORMAL"))
        .when(share >= LOW_CONFIDENCE_SHARE).then(pl.lit("LOW_CONFIDENCE"))
        .otherwise(pl.lit("CONTINGENCY")),
        n_venues=pl.col("n_priced"),
        n_fixings=pl.lit(None, dtype=pl.Int32),
        unit=pl.lit(UNIT),
        methodology_version=pl.lit(methodology_version),
    ).with_columns(
        conf=pl.max_horizontal(pl.col("value") - pl.col("p25"), pl.col("p75") - pl.col("value")),
        inputs_hash=_sha256(pl.format("basket={};date={};basket_version={};methodology={};prev_level={}\n{}",
                                      "index_id", pl.col("date").cast(pl.String), "basket_version",
                                      pl.lit(methodology_version), _num(pl.col("prev_level")), "_lines")),
    )
    if first is not None:
        out = out.filter(pl.col("date") >= first)
    return out.select([pl.col(c).cast(_VALUE_DTYPES[c]) for c in VALUE_COLUMNS]).collect().sort("index_id", "date")


_VALUE_DTYPES: dict[str, pl.DataType] = {
    "index_id": pl.String(), "date": pl.Date(), "value": pl.Float64(), "unit": pl.String(), "p25": pl.Float64(),
    "p75": pl.Float64(), "conf": pl.Float64(), "n_fixings": pl.Int32(), "n_venues": pl.Int32(),
    "n_quotes": pl.Int32(), "status": pl.String(), "methodology_version": pl.String(), "inputs_hash": pl.String(),
}
