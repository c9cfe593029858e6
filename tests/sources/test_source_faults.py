"""Every adapter against payloads that parse but are wrong (tests/reliability/source_faults.py):
schema renamed, prices 8x or per-thousand, prices zero, offers duplicated, timestamps in the
future or years old. Driven through the real fetch, parse, validation, plausibility check and
store; the runs are shared by the module (one baseline, two rounds per fault).

For each adapter and fault: the run continues with the other sources; the adapter's run row
names the fault; no impossible row reaches gpu_quotes / token_prices (it is quarantined with its
reason); a unit switch is quarantined by the per-source plausibility check (index.plausibility).
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import sources
from index import scrape
from tests.reliability import source_faults as sf

CASES = [(f, n) for f in sf.FAULTS for n in sources.names() if sf.applies(f, n)]
# Adapters whose payload is keyed by id (a repeated key is read once) or whose parser merges
# records by key (Azure OpenAI meters by slot, GCP SKUs by machine): a duplicate never becomes a row.
COLLAPSED = {"aws", "bedrock", "lambdalabs", "litellm", "azure_openai", "gcp"}
ZERO = re.compile(r"(\bis '?0(\.0)?'?(\W|$)|<= 0)")


class Runs:
    def __init__(self, directory: Path):
        self.directory = directory
        self.base_db, self.at0, self.honest = sf.baseline(directory)

    @cache  # noqa: B019 - one instance per module
    def fault(self, fault: str) -> sf.FaultRun:
        return sf.fault_run(fault, self.base_db, self.directory)

    def stored(self, fault: str, name: str) -> dict[str, Any]:
        run = self.fault(fault)
        return sf.stored(run.db, name, run.at[name])


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    return Runs(tmp_path_factory.mktemp("faults"))


def test_the_baseline_is_clean(runs: Runs) -> None:
    """Unaltered, every adapter loads (negative control: no check fires on the recorded replay)."""
    assert all(o.status in ("ok", "partial") and o.rows_loaded for o in runs.at0.values()), {
        n: o.error for n, o in runs.at0.items() if o.status not in ("ok", "partial")}
    assert all(o.status in ("ok", "partial") for o in runs.honest.values())
    assert not [o for o in scrape.screen(list(runs.honest.values()), {}) if o.status == "failed"]


def test_reencoding_changes_nothing() -> None:
    """The harness itself: bodies decoded and encoded again parse to the same rows."""
    _, t1 = sf.times()
    for name in sources.names():
        src = sources.get(name)
        raw = [r for r in sf.run_round(sf.serve({}, [name], t1), [name], t1)[0].raw]
        again = [replace(r, body=sf.mutate(name, r.body, "reencoded", t1)) for r in raw]
        assert src.parse(raw, t1).drop("raw_sha256").equals(src.parse(again, t1).drop("raw_sha256")), name


@pytest.mark.parametrize("fault", sf.FAULTS)
def test_the_other_sources_keep_running(runs: Runs, fault: str) -> None:
    run = runs.fault(fault)
    assert len(run.controls) == 4
    for o in run.controls:
        assert o.status in ("ok", "partial") and o.rows_loaded == runs.honest[o.source].rows_loaded, (o.source, o.error)
        assert len(sf.stored(run.db, o.source, o.observed_at)["prices"]) == o.rows_loaded


@pytest.mark.parametrize(("fault", "name"), CASES)
def test_source_fault(runs: Runs, fault: str, name: str) -> None:
    run = runs.fault(fault)
    before, after, honest = run.before[name], run.after[name], runs.honest[name]
    got = runs.stored(fault, name)
    run_row = got["runs"][-1]
    assert all(p is not None and p > 0 for p in got["prices"]), "an impossible price reached the table"
    assert run_row["status"] == after.status and run_row["error"] == after.error
    assert "report this to the source's maintainer" not in (after.error or "")

    def refused(*needles: str) -> None:
        """Nothing stored; the run failed and its row says why."""
        assert after.status == "failed" and got["prices"] == [], (after.status, after.error)
        assert after.error and after.error.startswith(f"source {name}"), after.error
        assert any(n in after.error for n in needles), after.error

    def accepted() -> None:
        assert after.status in ("ok", "partial") and sorted(got["prices"]) == sorted(
            honest_prices(honest)), (after.status, after.error)

    if fault == "schema_renamed":
        refused("missing", "absent from all", "column missing")
    elif fault in ("prices_x8", "prices_per_thousand"):
        factor = sf.FACTOR[fault]
        moved = sf.move(before.rows, honest.rows, before.kind)
        assert moved is not None and abs(moved / factor - 1) < 0.01, moved  # the payload did move by the factor
        assert before.status in ("ok", "partial")  # row checks pass it: only the plausibility check stops it
        refused("implausible move")
        assert sum("implausible move" in r for r in got["reasons"]) == before.rows_loaded
    elif fault == "prices_zero":
        refused("quarantined")
        assert before.status == "failed"  # stopped by validation, before the plausibility check
        assert any(ZERO.search(r) for r in got["reasons"]), got["reasons"][:3]
    elif fault == "duplicated":
        accepted()  # the duplicate adds nothing and removes nothing
        copies = sum(r.startswith("duplicate") for r in before.quarantine["reason"])
        if name in COLLAPSED:
            assert copies == 0
        else:
            assert copies > 0 and after.status == "partial" and "duplicate" in (after.error or ""), after.error
            assert sum(r.startswith("duplicate") for r in got["reasons"]) >= 1
    else:
        kind = sf.TIMESTAMPS[name][0]
        future, old = sf.EXPECTED_TIME[kind]
        if fault == "time_future" and future:
            refused("after the observation time")
        elif fault == "time_old" and old:
            refused("stale data", "no longer offered")
        elif kind == "retired":  # retirement moved to the future: the model retired in the replay is back
            assert after.status in ("ok", "partial") and len(got["prices"]) >= honest.rows_loaded
        else:
            accepted()


def honest_prices(o: scrape.SourceOutcome) -> list[float]:
    if o.kind == "gpu":
        return o.rows["price_usd_per_gpu_hour"].to_list()
    return o.rows.select(pl.coalesce("usd_per_mtok_input", "usd_per_mtok_output"))[:, 0].to_list()


ISO_TIME = re.compile(rb"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


@pytest.mark.parametrize("name", [n for n in sources.names() if n not in sf.TIMESTAMPS])
def test_payloads_without_timestamps_carry_none(name: str) -> None:
    """The adapters left out of the timestamp faults: their recorded payloads hold no date-time."""
    for r in sf.recorded(name):
        body = r.body
        if body[:2] == b"PK":
            body = "".join(sf._zip_members(body).values()).encode()
        assert not ISO_TIME.search(body), (name, ISO_TIME.search(body))


@pytest.mark.parametrize("fault", ["prices_x8", "prices_per_thousand"])
def test_a_unit_switch_on_a_first_run_is_caught_against_the_other_sources(runs: Runs, fault: str) -> None:
    """No history of its own (a new database): the source is compared with the other sources of
    its round. Every adapter's altered run, next to every other adapter's honest run."""
    run = runs.fault(fault)
    _, t1 = sf.times()
    caught = []
    for name, bad in run.before.items():
        round_ = [o for n, o in runs.honest.items() if n != name] + [replace(bad, observed_at=t1)]
        out = {o.source: o for o in scrape.screen(round_, {})}
        assert all(o.status == runs.honest[n].status for n, o in out.items() if n != name)
        if out[name].status == "failed":
            assert "the other sources of the round" in (out[name].error or "")
            caught.append(name)
    assert sorted(caught) == sorted(run.before), sorted(set(run.before) - set(caught))


@pytest.mark.parametrize("name", ["aws", "bedrock"])
def test_a_term_not_yet_in_effect_is_quarantined(name: str) -> None:
    """Only the terms' effectiveDate in the future (the offer file's publicationDate as recorded)."""
    _, t1 = sf.times()
    later = t1 + timedelta(days=30)
    cap = sf.serve({name: lambda b: json.dumps(sf.set_times(json.loads(b), ["effectiveDate"], later)).encode()},
                   [name], t1)
    o = sf.run_round(cap, [name], t1)[0]
    assert o.status == "failed" and o.rows_loaded == 0, o.error
    assert o.quarantine["reason"].str.contains("not yet the price in effect: term effectiveDate").all()
