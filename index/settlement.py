"""Monthly contracts (``data/contracts.toml``) and their settlement: pure, no I/O.

A contract names a series and a month. It settles on the arithmetic mean of the month's
daily values (latest revisions) whose status is in ``include_statuses``; it needs at least
``min_valid_days`` NORMAL or LOW_CONFIDENCE days, otherwise its ``fallback`` applies:
``no_settlement`` (no value: the exchange's own fallback provisions apply) or
``available_days`` (the mean of the days that have a value, flagged FALLBACK). A settlement is
final once the revision deadline of the month's last day (T+1 09:00 UTC) has passed; before
that ``spotindex settle`` prints a PROVISIONAL figure and refuses to publish.
"""

from __future__ import annotations

import calendar
import hashlib
import tomllib
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Literal

import polars as pl
from pydantic import BaseModel, Field, ValidationError, field_validator

from index import pipeline, revisions
from index.errors import ConfigError
from index.paths import data_dir

DAY_SCHEMA = pl.Schema({"date": pl.Date(), "value": pl.Float64(), "status": pl.String(),
                                      "revision": pl.Int32(), "inputs_hash": pl.String(), "carried_from": pl.Date()})


class Contract(BaseModel):
    id: str
    series: str
    month: str  # YYYY-MM
    rule: Literal["arithmetic_mean"] = "arithmetic_mean"
    min_valid_days: int = Field(20, ge=0, le=31)
    fallback: Literal["no_settlement", "available_days"] = "no_settlement"
    include_statuses: list[Literal["NORMAL", "LOW_CONFIDENCE", "CONTINGENCY"]] = [
        "NORMAL", "LOW_CONFIDENCE", "CONTINGENCY"]

    @field_validator("month")
    @classmethod
    def _month(cls, v: str) -> str:
        try:
            datetime.strptime(v, "%Y-%m")
        except ValueError:
            raise ValueError(f"month '{v}' is not YYYY-MM") from None
        return v

    def first_day(self) -> date:
        y, m = map(int, self.month.split("-"))
        return date(y, m, 1)

    def last_day(self) -> date:
        y, m = map(int, self.month.split("-"))
        return date(y, m, calendar.monthrange(y, m)[1])

    def final_at(self) -> datetime:
        """When the month's values can no longer be revised (the last day's deadline)."""
        return revisions.deadline(self.last_day())


def load_contracts(path: Path | None = None) -> dict[str, Contract]:
    path = path or data_dir() / "contracts.toml"
    try:
        raw = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path} is missing") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    defaults = raw.get("defaults", {})
    out: dict[str, Contract] = {}
    for i, entry in enumerate(raw.get("contract", [])):
        try:
            c = Contract(**{**defaults, **entry})
        except ValidationError as exc:
            first = exc.errors()[0]
            raise ConfigError(f"{path}: contract #{i + 1} ({entry.get('id', '?')}): "
                              f"{'.'.join(map(str, first['loc']))}: {first['msg']}") from None
        if c.id in out:
            raise ConfigError(f"{path}: contract {c.id} is defined twice")
        out[c.id] = c
    return out


@dataclass
class Settlement:
    contract: Contract
    value: float | None
    status: str  # FINAL, PROVISIONAL, FALLBACK, NO_SETTLEMENT
    final: bool
    n_days: int  # days whose value entered the mean
    n_valid: int  # NORMAL or LOW_CONFIDENCE days
    days: pl.DataFrame  # every day of the month: date, value, status, revision, used
    inputs_hash: str
    methodology_version: str | None
    note: str


def settle(contract: Contract, daily: pl.DataFrame, now: datetime, methodology_version: str | None = None
           ) -> Settlement:
    """Settle ``contract`` on ``daily`` (the series' latest daily values for the month)."""
    month = pl.DataFrame({"date": pl.date_range(contract.first_day(), contract.last_day(), "1d", eager=True)})
    days = (
        month.join(daily.select(list(DAY_SCHEMA)).cast(DAY_SCHEMA) if daily.height else pl.DataFrame(schema=DAY_SCHEMA),
                   on="date", how="left")
        .with_columns(status=pl.col("status").fill_null("MISSING"))
        .with_columns(used=pl.col("status").is_in(contract.include_statuses) & pl.col("value").is_not_null())
        .sort("date")
    )
    n_valid = int(days["status"].is_in(pipeline.VALID_STATUSES).sum())
    used = days.filter(pl.col("used"))
    raw_mean = used["value"].sort().mean() if used.height else None
    mean = float(raw_mean) if isinstance(raw_mean, int | float) else None
    final = now >= contract.final_at()
    if n_valid >= contract.min_valid_days and mean is not None:
        value, status = mean, "FINAL" if final else "PROVISIONAL"
        note = f"mean of {used.height} daily values ({n_valid} NORMAL/LOW_CONFIDENCE)"
    elif contract.fallback == "available_days" and mean is not None:
        value, status = mean, "FALLBACK"
        note = (f"only {n_valid} valid days (minimum {contract.min_valid_days}): fallback 'available_days', "
                f"mean of the {used.height} days with a value")
    else:
        value, status = None, "NO_SETTLEMENT"
        note = (f"only {n_valid} valid days (minimum {contract.min_valid_days}): fallback "
                f"'{contract.fallback}', no settlement value")
    if not final:
        note += f"; provisional until {contract.final_at():%Y-%m-%d %H:%M} UTC"
    lines = "\n".join(
        f"{r['date']}|{r['revision']}|{'none' if r['value'] is None else float(r['value']).hex()}|"
        f"{r['status']}|{r['inputs_hash']}" for r in days.iter_rows(named=True))
    digest = hashlib.sha256(f"contract={contract.model_dump_json()}\n{lines}".encode()).hexdigest()
    return Settlement(contract, value, status, final, used.height, n_valid, days, digest, methodology_version, note)
