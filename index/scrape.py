"""Running sources: fetch concurrently, parse, validate, and hand the results to the store.

One *round* is every selected source at one observation time. Live, the time is now and
the client talks to the network (per-source timeout, per-host spacing, a user agent naming
the project); replayed, each capture of the snapshot is a round at its capture time and
the client is a ``MockTransport`` over the recorded responses. A source that fails never
stops the others: its outcome says ``failed`` with the reason.
"""

from __future__ import annotations

import asyncio
import logging
import time
import traceback
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import polars as pl

from index import plausibility, validate
from index.errors import SourceError
from index.replay import Snapshot
from index.schemas import GPU_QUOTE_SCHEMA, QUARANTINE_SCHEMA, TOKEN_PRICE_SCHEMA, empty_frame
from sources.base import USER_AGENT, RawResponse, Source

HOST_SPACING_S = 0.75  # polite gap between two requests to one host, live only
# httpx logs every request URL at INFO, query-string API keys included (GCP): warnings only
logging.getLogger("httpx").setLevel(logging.WARNING)


@dataclass
class SourceOutcome:
    """What one source produced in one round: rows, quarantine, raw bytes and a status."""

    source: str
    kind: str
    observed_at: datetime
    started_at: datetime
    finished_at: datetime
    status: str  # ok | partial | failed | skipped
    rows: pl.DataFrame
    quarantine: pl.DataFrame
    raw: list[RawResponse] = field(default_factory=list)
    error: str | None = None

    @property
    def rows_loaded(self) -> int:
        return self.rows.height

    @property
    def rows_quarantined(self) -> int:
        return self.quarantine.height


class PoliteTransport(httpx.AsyncBaseTransport):
    """Wraps the network transport: at most one request per host every ``spacing`` seconds."""

    def __init__(self, inner: httpx.AsyncBaseTransport, spacing: float = HOST_SPACING_S):
        self.inner = inner
        self.spacing = spacing
        self._next: dict[str, float] = defaultdict(float)
        self._locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        async with self._locks[host]:
            wait = self._next[host] - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            self._next[host] = time.monotonic() + self.spacing
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def live_client(timeout_s: float = 30.0) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=PoliteTransport(httpx.AsyncHTTPTransport(retries=0)),
                             headers={"User-Agent": USER_AGENT}, timeout=timeout_s, follow_redirects=True)


def _empty_rows(kind: str) -> pl.DataFrame:
    return empty_frame(GPU_QUOTE_SCHEMA if kind == "gpu" else TOKEN_PRICE_SCHEMA)


async def run_source(source: Source, client: httpx.AsyncClient, observed_at: datetime, dataset: str,
                     timeout_s: float | None = None, require_keys: bool = True) -> SourceOutcome:
    """Fetch, parse and validate one source; every failure becomes a status, never an exception.

    ``require_keys`` is False in replay: recorded responses need no credentials.
    """
    started = datetime.now(UTC)
    empty_q = empty_frame(QUARANTINE_SCHEMA)

    def outcome(status: str, rows: pl.DataFrame | None = None, q: pl.DataFrame | None = None,
                raw: list[RawResponse] | None = None, error: str | None = None) -> SourceOutcome:
        return SourceOutcome(source.name, source.kind, observed_at, started, datetime.now(UTC), status,
                             rows if rows is not None else _empty_rows(source.kind),
                             q if q is not None else empty_q, raw or [], error)

    if require_keys and source.missing_key():
        return outcome("skipped", error=source.skip_message())
    raw: list[RawResponse] = []
    try:
        raw = await asyncio.wait_for(source.fetch(client), timeout=timeout_s or source.timeout_s)
        parsed = source.parse(raw, observed_at)
    except SourceError as exc:
        return outcome("failed", raw=raw, error=str(exc))
    except TimeoutError:
        return outcome("failed", raw=raw, error=f"source {source.name}: no answer within "
                                                f"{timeout_s or source.timeout_s:.0f}s (timeout)")
    except Exception as exc:  # a plugin's bug must not stop the run: report it with where it happened
        where = traceback.extract_tb(exc.__traceback__)[-1]
        return outcome("failed", raw=raw, error=f"source {source.name}: unexpected {type(exc).__name__}: {exc} "
                                                f"(at {where.filename.rsplit('/', 1)[-1]}:{where.lineno}); "
                                                "report this to the source's maintainer")
    parsed = parsed.with_columns(observed_at=pl.lit(observed_at, dtype=pl.Datetime("us", "UTC")),
                                 dataset=pl.lit(dataset))
    rows, quarantine = validate.split(parsed, source.kind, duplicates=True)
    if rows.height == 0 and quarantine.height == 0:
        return outcome("failed", raw=raw, error=f"source {source.name}: the response held no rows")
    if rows.height == 0:
        return outcome("failed", q=quarantine, raw=raw, error=quarantine_summary(source.name, quarantine, 0))
    if quarantine.height:
        return outcome("partial", rows, quarantine, raw, error=quarantine_summary(source.name, quarantine, rows.height))
    return outcome("ok", rows, quarantine, raw)


def quarantine_summary(name: str, quarantine: pl.DataFrame, loaded: int, top: int = 3) -> str:
    """One line for a run that quarantined rows: how many of how many, the main reasons by count."""
    counts = quarantine.group_by("reason").len().sort(["len", "reason"], descending=[True, False])
    parts = [f"{n}x {r if len(r) <= 160 else r[:157] + '...'}" for r, n in counts.head(top).iter_rows()]
    more = f"; {counts.height - top} other reasons" if counts.height > top else ""
    share = f"all {quarantine.height}" if loaded == 0 else f"{quarantine.height} of {quarantine.height + loaded}"
    return f"source {name}: {share} rows quarantined ({'; '.join(parts)}{more})"


def screen(outcomes: Sequence[SourceOutcome], last_accepted: dict[str, pl.DataFrame] | None = None
           ) -> list[SourceOutcome]:
    """The per-source plausibility check (``index.plausibility``) over outcomes, round by round.

    ``last_accepted`` holds each source's stored reference (its rows at its last accepted
    observation); a run that passes becomes the reference for the next round. Sources with a
    reference are checked against it first; the others against the sources of the round not
    found implausible. A run that fails moves all its rows to quarantine with the reason and is
    marked failed; the other sources are not affected. Returns the outcomes in the order given.
    """
    last = dict(last_accepted or {})
    out: list[SourceOutcome] = list(outcomes)
    rounds: dict[datetime, list[int]] = defaultdict(list)
    for i in sorted(range(len(out)), key=lambda i: out[i].observed_at):
        rounds[out[i].observed_at].append(i)
    for _, members in sorted(rounds.items()):
        loaded = [i for i in members if out[i].status in ("ok", "partial") and out[i].rows.height]
        verdicts: dict[int, plausibility.Move] = {}
        for i in loaded:  # against its own last accepted run
            own = last.get(out[i].source)
            if own is not None:
                verdicts[i] = plausibility.check(out[i].rows, own, None, out[i].kind)
        trusted = [i for i in loaded if not (i in verdicts and verdicts[i].implausible)]
        for i in loaded:  # no own reference (or nothing matched it): against the others of the round
            if i not in verdicts or verdicts[i].ratio is None:
                others = [out[j].rows for j in trusted if j != i and out[j].kind == out[i].kind]
                verdicts[i] = plausibility.check(out[i].rows, None, pl.concat(others, how="vertical_relaxed")
                                                 if others else None, out[i].kind)
        for i in loaded:
            o = out[i]
            if not verdicts[i].implausible:
                last[o.source] = o.rows
                continue
            own = last.get(o.source)
            when = own["observed_at"].max() if own is not None and own.height else None
            why = plausibility.reason(verdicts[i], f"{when:%Y-%m-%d %H:%M}Z" if isinstance(when, datetime) else None)
            moved = validate.quarantine_rows(o.rows.with_columns(_field=pl.lit(plausibility.PRICE_FIELD[o.kind]),
                                                                 _reason=pl.lit(why)), o.kind)
            out[i] = SourceOutcome(o.source, o.kind, o.observed_at, o.started_at, o.finished_at, "failed",
                                   o.rows.clear(), pl.concat([o.quarantine, moved]), o.raw,
                                   f"source {o.source}: all {o.rows.height} rows quarantined: {why}")
    return out


async def run_round(sources: Sequence[Source], client: httpx.AsyncClient, observed_at: datetime,
                    dataset: str, require_keys: bool = True) -> list[SourceOutcome]:
    """Every source concurrently against one client at one observation time."""
    return list(await asyncio.gather(*(run_source(s, client, observed_at, dataset, require_keys=require_keys)
                                       for s in sources)))


def scrape_live(sources: Sequence[Source], client_factory: Callable[[], httpx.AsyncClient] = live_client
                ) -> list[SourceOutcome]:
    observed_at = datetime.now(UTC).replace(microsecond=0)

    async def go() -> list[SourceOutcome]:
        async with client_factory() as client:
            return await run_round(sources, client, observed_at, "live")

    return asyncio.run(go())


def scrape_replay(sources: Sequence[Source], snapshot: Snapshot) -> list[list[SourceOutcome]]:
    """One round per capture in the snapshot; a source absent from a capture is not run in it."""

    async def go() -> list[list[SourceOutcome]]:
        rounds = []
        for cap in snapshot.captures:
            present = set(cap.sources())
            chosen = [s for s in sources if s.name in present]
            if not chosen:
                continue
            async with httpx.AsyncClient(transport=cap.transport(snapshot.name),
                                         headers={"User-Agent": USER_AGENT}) as client:
                rounds.append(await run_round(chosen, client, cap.captured_at, snapshot.label, require_keys=False))
        return rounds

    return asyncio.run(go())


def new_run_id(kind: str) -> str:
    return f"{kind}-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}-{uuid.uuid4().hex[:8]}"


def summarise(outcomes: Sequence[SourceOutcome]) -> list[dict[str, Any]]:
    """Per source over all rounds: status counts, rows, quarantined, the last error."""
    by: dict[str, dict[str, Any]] = {}
    for o in outcomes:
        s = by.setdefault(o.source, {"source": o.source, "kind": o.kind, "rounds": 0, "ok": 0, "partial": 0,
                                     "failed": 0, "skipped": 0, "rows": 0, "quarantined": 0, "error": None})
        s["rounds"] += 1
        s[o.status] += 1
        s["rows"] += o.rows_loaded
        s["quarantined"] += o.rows_quarantined
        if o.error:
            s["error"] = o.error
    return list(by.values())
