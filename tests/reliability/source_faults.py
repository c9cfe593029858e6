"""Source faults in the payload, for every adapter, through the real fetch, parse, validation,
plausibility check and store.

Each adapter's recorded responses (the first capture of the bundled replay, which holds every
source) are served back through ``httpx.MockTransport`` with their bodies altered one way:

- ``schema_renamed``: every JSON key (every CSV column) renamed;
- ``prices_x8``: every price field x8 (a unit switch, per-GPU to per-instance);
- ``prices_per_thousand``: token prices /1000 (per-million to per-thousand), token sources only;
- ``prices_zero``: every price field 0;
- ``duplicated``: every record of the main record list (object) twice;
- ``time_future`` / ``time_old``: every timestamp the payload carries 400 days ahead / 3 years back
  (only the sources whose payload carries one, see ``TIMESTAMPS``).

A fault's run is two rounds one hour after a baseline (every source unaltered, stored first so
that each source has a last accepted run): the altered half of the adapters next to the other
half unaltered, then the other way round. Each round is screened (``jobs.screen_outcomes``) and
stored (``Store.write_scrape``) exactly as ``spotindex scrape`` does. ``python -m
tests.reliability.source_faults`` prints the counts RELIABILITY.md holds.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
import shutil
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import polars as pl

import sources
from index import jobs, plausibility, replay, scrape
from index.store import Store, ex

REPO = Path(__file__).resolve().parents[2]
REPLAY = REPO / "data" / "replay" / "2026-11-20"
DATASET = "test:faults"

# Price fields per adapter: key -> the key of the object holding it (None: anywhere).
PRICES: dict[str, dict[str, str | None]] = {
    "aws": {"USD": "pricePerUnit"},
    "azure": {"retailPrice": None, "unitPrice": None},
    "azure_openai": {"retailPrice": None, "unitPrice": None},
    "bedrock": {"USD": "pricePerUnit"},
    "computepulse": {"price_per_gpu_hour": None, "price_native": None},
    "deepinfra": {"cents_per_input_token": "pricing", "cents_per_output_token": "pricing"},
    "gcp": {"unitPrice": None},  # {units, nanos}
    "gpuhunt": {"price": None},  # CSV column
    "hyperbolic": {"costPerHourCents": None},
    "hyperstack": {"value": None, "original_value": None},
    "lambdalabs": {"price_cents_per_hour": None},
    "litellm": {"input_cost_per_token*": None, "output_cost_per_token*": None,  # *: long-context tiers too
                "cache_read_input_token_cost*": None},
    "llmprices": {"input": "prices", "output": "prices", "input_cached": "prices"},
    "oci": {"value": "prices"},
    "openrouter": {"prompt": "pricing", "completion": "pricing", "input_cache_read": "pricing"},
    "runpod": {"securePrice": None, "communityPrice": None, "secureSpotPrice": None, "communitySpotPrice": None},
    "shadeform": {"hourly_price": None},
    "together": {"input": "pricing", "output": "pricing", "cached_input": "pricing"},
    "vastai": {"dph_base": None, "dph_total": None, "min_bid": None},
    "verda": {"price_per_hour": None, "spot_price": None},
    "voltagepark": {"gpu_price_ethernet": None, "gpu_price_infiniband": None},
    "vultr": {"hourly_cost": None, "monthly_cost": None, "hourly_cost_preemptible": None},
}

# Timestamps the payloads carry, and what the adapter makes of them:
#   as_of     the data's own as-of time: in the future or too old, the rows are quarantined
#   effective a price's effective-from time: in the future it is not yet the price (quarantined);
#             years old it is still the price (accepted)
#   retired   a model's retirement time: in the past the model is no longer offered (quarantined)
#   not_read  a time that says nothing about the price (a model's release, a query stamp)
TIMESTAMPS: dict[str, tuple[str, tuple[str, ...]]] = {
    "aws": ("as_of", ("publicationDate", "effectiveDate")),
    "bedrock": ("as_of", ("publicationDate", "effectiveDate")),
    "oci": ("as_of", ("lastUpdated",)),
    "llmprices": ("as_of", ("updated_at",)),
    "computepulse": ("as_of", ("fetched_at", "freshest_observation", "source_updated_at")),
    "azure": ("effective", ("effectiveStartDate",)),
    "azure_openai": ("effective", ("effectiveStartDate",)),
    "hyperstack": ("effective", ("start_time",)),
    "deepinfra": ("retired", ("deprecated",)),
    "gcp": ("not_read", ("effectiveTime",)),
    "openrouter": ("not_read", ("created", "expiration_date")),
    "together": ("not_read", ("created",)),
}
EXPECTED_TIME = {  # class -> (future quarantined?, old quarantined?)
    "as_of": (True, True), "effective": (True, False), "retired": (False, True), "not_read": (False, False),
}

FAULTS = ("schema_renamed", "prices_x8", "prices_per_thousand", "prices_zero", "duplicated", "time_future",
          "time_old")


def applies(fault: str, name: str) -> bool:
    if fault == "prices_per_thousand":
        return sources.get(name).kind == "token"
    if fault.startswith("time_"):
        return name in TIMESTAMPS
    return True


# ---- body mutations ------------------------------------------------------------------------

def _num(value: Any, factor: float) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        scaled = value * factor
        return int(scaled) if isinstance(value, int) and float(scaled).is_integer() else scaled
    if isinstance(value, str):
        try:
            return f"{float(value) * factor:.12g}"
        except ValueError:
            return value
    return value


def scale(doc: Any, keys: dict[str, str | None], factor: float, parent: str | None = None) -> Any:
    """``doc`` with every price field (``keys``: name -> holding object's key) times ``factor``."""
    if isinstance(doc, list):
        return [scale(x, keys, factor, parent) for x in doc]
    if not isinstance(doc, dict):
        return doc
    out = {}
    for k, v in doc.items():
        match = keys.get(k, "") if k in keys else next(
            (p for f, p in keys.items() if f.endswith("*") and k.startswith(f[:-1])), "")
        if match in (None, parent):
            if isinstance(v, dict) and "units" in v:  # GCP Money: units + nanos
                total = (float(v.get("units") or 0) + float(v.get("nanos") or 0) / 1e9) * factor
                units = int(total)
                out[k] = {**v, "units": str(units), "nanos": round((total - units) * 1e9)}
            else:
                out[k] = _num(v, factor)
        else:
            out[k] = scale(v, keys, factor, k)
    return out


def rename_keys(doc: Any) -> Any:
    if isinstance(doc, list):
        return [rename_keys(x) for x in doc]
    if isinstance(doc, dict):
        return {f"{k}_v2": rename_keys(v) for k, v in doc.items()}
    return doc


def _records(doc: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], int]]:
    """(path, size) of every list of objects and every object of objects in ``doc``."""
    found: list[tuple[tuple[Any, ...], int]] = []
    if isinstance(doc, list):
        if doc and all(isinstance(x, dict) for x in doc):
            found.append((path, len(doc)))
        for i, x in enumerate(doc):
            found += _records(x, (*path, i))
    elif isinstance(doc, dict):
        if len(doc) > 1 and all(isinstance(x, dict) for x in doc.values()):
            found.append((path, len(doc)))
        for k, x in doc.items():
            found += _records(x, (*path, k))
    return found


SENTINEL = "\x00duplicated\x00"


def duplicate(doc: Any) -> bytes:
    """The largest record container of ``doc`` with every record twice. A list gets each element
    again; an object keyed by id (JSON keys are unique) is written with each key twice in the text."""
    found = _records(doc)
    if not found:
        return json.dumps(doc).encode()
    path = max(found, key=lambda p: (p[1], -len(p[0])))[0]
    holder, container = None, doc
    for step in path:
        holder, container = container, container[step]
    if isinstance(container, list):
        copy = container + [json.loads(json.dumps(x)) for x in container]
        if holder is None:
            return json.dumps(copy).encode()
        holder[path[-1]] = copy
        return json.dumps(doc).encode()
    twice = [*container.items(), *container.items()]
    text = "{" + ", ".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in twice) + "}"
    if holder is None:
        return text.encode()
    holder[path[-1]] = SENTINEL
    return json.dumps(doc).replace(json.dumps(SENTINEL), text).encode()


def set_times(doc: Any, keys: Sequence[str], when: datetime) -> Any:
    """Every timestamp field in ``keys`` moved to ``when``, in the field's own format."""
    if isinstance(doc, list):
        return [set_times(x, keys, when) for x in doc]
    if not isinstance(doc, dict):
        return doc
    out = {}
    for k, v in doc.items():
        if k in keys:
            if isinstance(v, int | float) and not isinstance(v, bool):
                out[k] = int(when.timestamp())
            elif isinstance(v, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", v):
                out[k] = when.strftime("%Y-%m-%d")
            else:  # ISO-8601 (or null: the field is there, the value is given)
                out[k] = when.strftime("%Y-%m-%dT%H:%M:%SZ") if k != "deprecated" else int(when.timestamp())
        else:
            out[k] = set_times(v, keys, when)
    return out


def _zip_members(body: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(body)) as z:
        return {n: z.read(n).decode() for n in z.namelist()}


def _zip(members: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for n, text in members.items():
            z.writestr(n, text)
    return buf.getvalue()


def _csv_mutation(text: str, fault: str, factor: float) -> str:
    rows = list(csv.reader(io.StringIO(text)))
    header, body = rows[0], rows[1:]
    if fault == "schema_renamed":
        header = [f"{h}_v2" for h in header]
    elif fault == "duplicated":
        body = body + body
    elif fault.startswith("prices_"):
        i = header.index("price")
        body = [[_num(c, factor) if j == i else c for j, c in enumerate(r)] for r in body]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *body])
    return out.getvalue()


FACTOR = {"prices_x8": 8.0, "prices_per_thousand": 0.001, "prices_zero": 0.0}


def mutate(name: str, body: bytes, fault: str, observed: datetime) -> bytes:
    """``body`` of adapter ``name`` with ``fault`` applied ("reencoded": decoded and encoded again)."""
    factor = FACTOR.get(fault, 1.0)
    if body[:2] == b"PK":  # gpuhunt: a zip of CSV files
        members = _zip_members(body)
        return _zip({n: _csv_mutation(t, fault, factor) if n.endswith(".csv") else t for n, t in members.items()})
    try:
        doc = json.loads(body)
    except ValueError:
        return body  # not JSON (gpuhunt's version file): left as it is
    if not isinstance(doc, dict | list):
        return body
    if fault == "schema_renamed":
        doc = rename_keys(doc)
    elif fault in FACTOR:
        doc = scale(doc, PRICES[name], factor)
    elif fault == "duplicated":
        return duplicate(doc)
    elif fault in ("time_future", "time_old"):
        when = observed + timedelta(days=400) if fault == "time_future" else observed - timedelta(days=3 * 365)
        doc = set_times(doc, TIMESTAMPS[name][1], when)
    return json.dumps(doc).encode()


# ---- runs ----------------------------------------------------------------------------------

@cache
def capture() -> replay.Capture:
    """The first capture of the bundled replay: every adapter's responses."""
    return replay.load(REPLAY).captures[0]


def times() -> tuple[datetime, datetime]:
    t0 = capture().captured_at
    return t0, t0 + timedelta(hours=1)


def recorded(name: str) -> list[replay.RecordedResponse]:
    return [r for r in capture().responses if r.source == name]


def serve(bodies: dict[str, Callable[[bytes], bytes]], names: Sequence[str], at: datetime) -> replay.Capture:
    """A capture of ``names`` whose bodies pass through the given mutation (identity if none)."""
    out = []
    for name in names:
        change = bodies.get(name)
        out += [replace(r, body=change(r.body)) if change else r for r in recorded(name)]
    return replay.Capture(at, out)


def run_round(cap: replay.Capture, names: Sequence[str], at: datetime) -> list[scrape.SourceOutcome]:
    chosen = [sources.get(n) for n in names]

    async def go() -> list[scrape.SourceOutcome]:
        async with httpx.AsyncClient(transport=cap.transport("faults")) as client:
            return await scrape.run_round(chosen, client, at, DATASET, require_keys=False)

    return asyncio.run(go())


def store_round(store: Store, outcomes: list[scrape.SourceOutcome]) -> list[scrape.SourceOutcome]:
    """Screened and stored as ``jobs.run_scrape`` does."""
    screened = jobs.screen_outcomes(store, outcomes)
    store.write_scrape(scrape.new_run_id("scrape"), datetime.now(UTC), DATASET, screened)
    return screened


def baseline(directory: Path) -> tuple[Path, dict[str, scrape.SourceOutcome], dict[str, scrape.SourceOutcome]]:
    """A database holding every adapter's unaltered run at T0; the unaltered outcomes at T0 and T1."""
    t0, t1 = times()
    names = sources.names()
    db = directory / "baseline.duckdb"
    at_t0 = store_round(Store(db), run_round(serve({}, names, t0), names, t0))
    at_t1 = run_round(serve({}, names, t1), names, t1)
    return db, {o.source: o for o in at_t0}, {o.source: o for o in at_t1}


@dataclass
class FaultRun:
    fault: str
    db: Path
    at: dict[str, datetime]  # adapter -> the time of the round it was altered in
    before: dict[str, scrape.SourceOutcome]  # the altered adapters' outcomes before screening
    after: dict[str, scrape.SourceOutcome]  # the altered adapters' outcomes as stored
    controls: list[scrape.SourceOutcome]  # the unaltered adapters' outcomes, both rounds


def fault_run(fault: str, base_db: Path, directory: Path) -> FaultRun:
    """The fault applied to half the adapters next to two unaltered ones (a GPU and a token
    source), an hour after the baseline; then to the other half an hour later."""
    _, t1 = times()
    names = sources.names()
    db = directory / f"{fault}.duckdb"
    shutil.copy(base_db, db)
    store = Store(db)
    targets = [n for n in names if applies(fault, n)]
    run = FaultRun(fault, db, {}, {}, {}, [])
    for k, half in enumerate((targets[0::2], targets[1::2])):
        at = t1 + timedelta(hours=k)
        controls = [next(n for n in names if n not in half and sources.get(n).kind == k) for k in ("gpu", "token")]
        chosen = sorted([*half, *controls])
        cap = serve({n: (lambda b, n=n, at=at: mutate(n, b, fault, at)) for n in half}, chosen, at)
        outcomes = run_round(cap, chosen, at)
        run.before.update({o.source: o for o in outcomes if o.source in half})
        for o in store_round(store, outcomes):
            if o.source in half:
                run.after[o.source], run.at[o.source] = o, at
            else:
                run.controls.append(o)
    return run


def stored(db: Path, name: str, at: datetime) -> dict[str, Any]:
    """What the store holds for one adapter at one time: prices, quarantine reasons, the run rows."""
    table = "gpu_quotes" if sources.get(name).kind == "gpu" else "token_prices"
    price = "price_usd_per_gpu_hour" if table == "gpu_quotes" else "coalesce(usd_per_mtok_input, usd_per_mtok_output)"
    with Store(db).read() as con:
        prices = ex(con, f"SELECT {price} FROM {table} WHERE source = ? AND observed_at = ? ORDER BY 1", [name, at])
        reasons = ex(con, "SELECT reason FROM quarantine WHERE source = ? AND observed_at = ?", [name, at])
        runs = ex(con, "SELECT status, error, rows_loaded, rows_quarantined FROM scrape_runs WHERE source = ? "
                       "AND observed_at = ? ORDER BY finished_at", [name, at])
    return {"prices": [p for (p,) in prices], "reasons": [r for (r,) in reasons],
            "runs": [dict(zip(("status", "error", "rows_loaded", "rows_quarantined"), r, strict=True)) for r in runs]}


def move(a: pl.DataFrame, b: pl.DataFrame, kind: str) -> float | None:
    return plausibility.move(a, b, kind, "own").ratio




# ---- the table RELIABILITY.md holds --------------------------------------------------------

NEEDLES = {  # what a run row says when it names the fault
    "schema_renamed": ("missing", "absent from all", "column missing"), "prices_x8": ("implausible move",),
    "prices_per_thousand": ("implausible move",), "prices_zero": ("is 0", "<= 0", "is '0'"),
    "duplicated": ("duplicate",), "time_future": ("after the observation time",),
    "time_old": ("stale data", "no longer offered"),
}

def table(directory: Path) -> list[dict[str, Any]]:
    """Per fault: adapters altered, how many were refused (nothing stored), accepted unchanged,
    quarantined rows, rows that reached the quote tables, run rows naming the fault, and whether
    the unaltered adapters of the rounds loaded as usual."""
    base_db, _, honest = baseline(directory)
    out = []
    for fault in FAULTS:
        run = fault_run(fault, base_db, directory)
        got = {n: stored(run.db, n, run.at[n]) for n in run.after}
        refused = [n for n in run.after if not got[n]["prices"]]
        same = [n for n in run.after if sorted(got[n]["prices"]) == sorted(_prices(honest[n]))]
        named = [n for n in run.after if got[n]["runs"][-1]["error"] == run.after[n].error
                 and any(k in (run.after[n].error or "") for k in NEEDLES[fault])]
        dup = sum(sum(r.startswith("duplicate") for r in run.before[n].quarantine["reason"]) for n in run.after)
        out.append({
            "fault": fault, "adapters": len(run.after), "refused": len(refused), "accepted_unchanged": len(same),
            "rows_quarantined": sum(run.after[n].rows_quarantined for n in run.after),
            "rows_stored": sum(len(got[n]["prices"]) for n in run.after),
            "impossible_stored": sum(1 for n in run.after for p in got[n]["prices"] if p is None or p <= 0),
            "run_row_names_it": len(named),
            "duplicate_copies_quarantined": dup if fault == "duplicated" else None,
            "controls_ok": f"{sum(o.status in ('ok', 'partial') for o in run.controls)}/{len(run.controls)}",
            "first_run_caught": _first_run(run, honest) if fault in ("prices_x8", "prices_per_thousand") else None,
        })
    return out


def _prices(o: scrape.SourceOutcome) -> list[float]:
    col = o.rows["price_usd_per_gpu_hour"] if o.kind == "gpu" else o.rows.select(
        pl.coalesce("usd_per_mtok_input", "usd_per_mtok_output"))[:, 0]
    return col.to_list()


def _first_run(run: FaultRun, honest: dict[str, scrape.SourceOutcome]) -> str:
    """The altered run as a first run (no history): caught against the other sources of the round?"""
    _, t1 = times()
    caught = 0
    for name, bad in run.before.items():
        round_ = [o for n, o in honest.items() if n != name] + [replace(bad, observed_at=t1)]
        caught += {o.source: o for o in scrape.screen(round_, {})}[name].status == "failed"
    return f"{caught}/{len(run.before)}"


if __name__ == "__main__":
    import tempfile
    import time

    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        lines = table(Path(tmp))
    cols = list(lines[0])
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for line in lines:
        print("| " + " | ".join("-" if line[c] is None else str(line[c]) for c in cols) + " |")
    print(f"({time.perf_counter() - start:.1f} s)")
    if any(line["impossible_stored"] or not line["controls_ok"].startswith("4/") for line in lines):
        raise SystemExit(1)
