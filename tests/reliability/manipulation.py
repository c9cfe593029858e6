"""Manipulation scenarios on generated frames through the real pipeline (pure, no I/O).

Each scenario runs the same market twice: honest venues only, then honest venues plus the
manipulator(s). It reports how far the published daily value moved, whether the day's
``excluded`` (or the venue table) named the manipulator, and the §10 bound for every fixing.
``python -m tests.reliability.manipulation`` prints the table RELIABILITY.md holds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import polars as pl

from index import pipeline
from tests.index import synth
from tests.index.synth import NO_TOKENS

MARKET = 2.50
DEFS = synth.defs()
HOURS = range(-2, 24)


def honest_prices(n: int, seed: int) -> dict[str, float]:
    """n honest venues spread +-10% around the market (fixed per venue)."""
    rng = np.random.default_rng(seed)
    return {f"honest{i:02d}": float(MARKET * (1 + rng.uniform(-0.10, 0.10))) for i in range(n)}


def rows_for_day(prices: dict[str, float | list[float]], day: date, hours: range = HOURS) -> list[dict[str, Any]]:
    return synth.hourly(prices, hours=hours, day=day)


def history(prices: dict[str, float], day: date, days: int = 7) -> list[dict[str, Any]]:
    """One observation a day per honest venue over the 7 days before ``day`` (the gross reference)."""
    out: list[dict[str, Any]] = []
    for k in range(days, 0, -1):
        out += synth.hourly(prices, hours=[12], day=day - timedelta(days=k))
    return out


@dataclass
class DayOutcome:
    value: float | None
    status: str
    excluded: list[str]
    bound_ok: bool
    worst_margin: float  # smallest distance inside the §10 bound over the fixings (negative: broken)


@dataclass
class Scenario:
    name: str
    honest_value: float
    manipulated_value: float
    flagged: bool
    bound_ok: bool
    status_honest: str
    status_manipulated: str
    notes: str = ""
    per_day: list[tuple[date, float, float, bool]] = field(default_factory=list)

    @property
    def move(self) -> float:
        return self.manipulated_value - self.honest_value

    @property
    def move_pct(self) -> float:
        return 100.0 * self.move / self.honest_value


def run(rows: list[dict[str, Any]], day: date, prior: pipeline.Prior | None = None,
        extra: pl.DataFrame | None = None) -> pipeline.DayResult:
    frame = synth.quote_frame(rows)
    if extra is not None:
        frame = pl.concat([frame, extra])
    return pipeline.run_day(frame.lazy(), NO_TOKENS, DEFS, day, prior)


def flood_frame(venue: str, price: float, n: int, day: date) -> pl.DataFrame:
    """n listings of one venue at one price, each observed every hour (built in polars: 260k rows)."""
    one = synth.quote_frame(rows_for_day({venue: price}, day))
    ids = pl.DataFrame({"offer_id": [f"{venue}-{i}" for i in range(n)]})
    return one.drop("offer_id").join(ids, how="cross").select(one.columns)


def outcome(r: pipeline.DayResult, honest: set[str], manipulators: set[str]) -> DayOutcome:
    """The day's value and flags, and the §10 bound checked at every valid fixing:
    value in [min honest venue median - 3s, max honest + 3s]."""
    d = r.values.row(0, named=True)
    excluded = sorted({e["venue"] for e in json.loads(d["excluded"] or "[]")} & manipulators)
    v = r.venues.filter(pl.col("venue").is_in(list(honest))).group_by("fixing_time").agg(
        lo=pl.col("venue_median").min(), hi=pl.col("venue_median").max())
    fx = r.fixings.filter(pl.col("status").is_in(pipeline.VALID_STATUSES)).join(v, on="fixing_time")
    margin = fx.select(pl.min_horizontal(pl.col("value") - (pl.col("lo") - 3 * pl.col("scale")),
                                         (pl.col("hi") + 3 * pl.col("scale")) - pl.col("value")).min()).item()
    margin = float("inf") if margin is None else float(margin)
    return DayOutcome(d["value"], d["status"], excluded, margin >= -1e-12, margin)


def flood(n_listings: int = 10_000, seed: int = 1) -> Scenario:
    """One venue floods n listings at a tenth of the market price, every hour of the day."""
    day = synth.DAY
    honest = honest_prices(9, seed)
    base = history(honest, day)
    clean = run(base + rows_for_day(dict(honest), day), day)
    flooded = run(base + rows_for_day(dict(honest), day), day, extra=flood_frame("flood", MARKET / 10, n_listings, day))
    n_flood = flooded.venues.filter(pl.col("venue") == "flood")["n_quotes"].max()
    h, m = outcome(clean, set(honest), set()), outcome(flooded, set(honest), {"flood"})
    assert h.value is not None and m.value is not None
    return Scenario(f"one venue floods {n_listings:,} listings at 0.1x market (9 honest)", h.value, m.value,
                    m.excluded == ["flood"], m.bound_ok, h.status, m.status,
                    notes=f"{_reasons(flooded, 'flood')}; the venue counted once ({n_flood} quotes per fixing)")


def collusion(n_venues: int = 10, n_colluding: int = 2, factor: float = 3.0, seed: int = 2) -> Scenario:
    day = synth.DAY
    honest = honest_prices(n_venues - n_colluding, seed)
    colluders = {f"colluder{i}": MARKET * factor for i in range(n_colluding)}
    base = history(honest, day)
    clean = run(base + rows_for_day(dict(honest), day), day)
    bad = run(base + rows_for_day({**honest, **colluders}, day), day)
    h, m = outcome(clean, set(honest), set()), outcome(bad, set(honest), set(colluders))
    assert h.value is not None and m.value is not None
    return Scenario(f"{n_colluding} of {n_venues} venues collude at {factor:g}x market", h.value, m.value,
                    m.excluded == sorted(colluders), m.bound_ok, h.status, m.status,
                    notes=_reasons(bad, "colluder0"))


def _reasons(r: pipeline.DayResult, venue: str) -> str:
    codes = r.venues.filter(pl.col("venue") == venue)["exclusion_reason"].drop_nulls()
    return ", ".join(sorted({c.split(":")[0] for c in codes})) or "none"


def _days(prices_by_day: list[dict[str, float]], start: date, honest: set[str], manipulators: set[str]
          ) -> list[tuple[date, DayOutcome]]:
    """Run consecutive days, carrying the prior state day to day like the daily job."""
    rows = history({k: v for k, v in prices_by_day[0].items() if k in honest}, start)
    prior = pipeline.Prior.empty()
    out = []
    for i, prices in enumerate(prices_by_day):
        day = start + timedelta(days=i)
        rows += rows_for_day(dict(prices), day)
        r = run(rows, day, prior)
        out.append((day, outcome(r, honest, manipulators)))
        prior = prior.advance(r.fixings, r.venues, r.values, DEFS, day + timedelta(days=1))
    return out


def drift(days: int = 14, rate: float = 0.02, seed: int = 3) -> Scenario:
    """One venue of ten, honest on day 0, then +rate a day (compounded) for ``days`` days."""
    start = synth.DAY - timedelta(days=days)
    honest = honest_prices(9, seed)
    drifter0 = MARKET
    manip = [{**honest, "drifter": drifter0 * (1 + rate) ** k} for k in range(days + 1)]
    clean = [{**honest, "drifter": drifter0} for _ in range(days + 1)]  # the venue had it stayed honest
    m = _days(manip, start, set(honest), {"drifter"})
    h = _days(clean, start, set(honest), set())
    per_day = [(d, hv.value or 0.0, mv.value or 0.0, bool(mv.excluded)) for (d, hv), (_, mv) in zip(h, m, strict=True)]
    worst = max(per_day, key=lambda t: abs(t[2] - t[1]))
    first_flag = next((k for k, t in enumerate(per_day) if t[3]), None)
    unflagged = [abs(t[2] - t[1]) / t[1] for t in per_day if not t[3]]
    return Scenario(f"one venue of ten drifts +{rate:.0%}/day for {days} days", worst[1], worst[2],
                    first_flag is not None, all(mv.bound_ok for _, mv in m), h[-1][1].status, m[-1][1].status,
                    notes=(f"largest move on day {(worst[0] - start).days}; first flagged on day {first_flag} "
                           f"(venue at {(1 + rate) ** (first_flag or 0):.3f}x its start); largest move while "
                           f"not flagged {100 * max(unflagged):.2f}%"), per_day=per_day)


def stale(move: float = -0.10, seed: int = 4) -> Scenario:
    """The market moves by ``move`` overnight; one venue of ten keeps sending yesterday's prices
    with fresh timestamps (a stuck feed the scraper cannot tell from a quiet one)."""
    start = synth.DAY - timedelta(days=1)
    honest = honest_prices(10, seed)
    today = {k: v * (1 + move) for k, v in honest.items()}
    stuck = {**today, "honest00": honest["honest00"]}
    names = set(honest) - {"honest00"}
    m = _days([honest, stuck], start, names, {"honest00"})
    h = _days([honest, today], start, names, set())  # the venue had its feed moved with the market
    hv, mv = h[-1][1], m[-1][1]
    assert hv.value is not None and mv.value is not None
    return Scenario(f"stale feed: 1 of 10 repeats yesterday's prices after a {move:+.0%} market move",
                    hv.value, mv.value, bool(mv.excluded), mv.bound_ok, hv.status, mv.status,
                    notes="within the venue filter's band, so not excluded" if not mv.excluded else "excluded")


def stale_timestamps(seed: int = 5) -> Scenario:
    """A feed replays yesterday's observations with their old timestamps: not eligible (§4.1)."""
    day = synth.DAY
    honest = honest_prices(10, seed)
    names = set(honest) - {"honest00"}
    base = history(honest, day)
    yesterday = rows_for_day({"honest00": honest["honest00"] * 1.5}, day - timedelta(days=1), range(0, 22))
    clean = run(base + rows_for_day({k: v for k, v in honest.items() if k in names}, day), day)
    bad = run(base + yesterday + rows_for_day({k: v for k, v in honest.items() if k in names}, day), day)
    h, m = outcome(clean, names, set()), outcome(bad, names, set())
    assert h.value is not None and m.value is not None
    seen = bad.venues.filter(pl.col("venue") == "honest00").height
    return Scenario("stale feed: 1 of 10 repeats yesterday's observations (old timestamps, 1.5x)", h.value, m.value,
                    False, m.bound_ok, h.status, m.status,
                    notes=f"{seen} fixings saw the stale venue (not eligible after 2 h)")


def all_scenarios(flood_listings: int = 10_000) -> list[Scenario]:
    return [flood(flood_listings), collusion(), drift(), stale(), stale_timestamps()]


def table(scenarios: list[Scenario]) -> str:
    lines = ["| scenario | honest value | published value | move | flagged (excluded) | §10 bound held | "
             "status | notes |", "|---|---|---|---|---|---|---|---|"]
    for s in scenarios:
        lines.append(f"| {s.name} | {s.honest_value:.4f} | {s.manipulated_value:.4f} | {s.move:+.4f} "
                     f"({s.move_pct:+.2f}%) | {'yes' if s.flagged else 'no'} | {'yes' if s.bound_ok else 'NO'} | "
                     f"{s.status_manipulated} | {s.notes} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(table(all_scenarios()))
