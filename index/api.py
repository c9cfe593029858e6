"""The read-only HTTP API (``spotindex serve``): FastAPI over the analyst snapshot.

It reads ``data/spotindex-analyst.duckdb`` (a copy the daemon replaces after each
publication, so the API never blocks the writer) through a short read-only connection per
request, and the signed reports from the publication directory. Nothing here writes.

Every JSON answer carries ``publish_time`` (the latest publication, ISO-8601 UTC) and
``stale`` (true when that is older than ``stale_after``, 26 hours by default: the daily
publication at 00:30 UTC plus two hours' grace), so a consumer can refuse a stale value
without doing date arithmetic. Errors are ``{"error": "..."}`` with a 4xx status.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import duckdb
from fastapi import FastAPI, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response

from index import __version__
from index.errors import SpotindexError
from index.store import connect, ex

DEFAULT_STALE_AFTER = timedelta(hours=26)
MAX_HISTORY_DAYS = 3660
DEFAULT_HISTORY_DAYS = 90
DateParam = Annotated[date, PathParam(description="UTC day, YYYY-MM-DD")]
VALUE_COLUMNS = ("index_id", "date", "value", "unit", "status", "p25", "p75", "conf", "n_fixings", "n_venues",
                 "n_quotes", "revision", "methodology_version", "inputs_hash")


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    """Rows as dicts, through Arrow (timestamps arrive as UTC datetimes without needing pytz)."""
    return con.sql(sql, params=params or []).pl().to_dicts()


def _iso(t: datetime | None) -> str | None:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if t is not None else None


def create_app(snapshot: Path | str, publish_dir: Path | str = Path("publish"),
               stale_after: timedelta = DEFAULT_STALE_AFTER,
               now_fn: Callable[[], datetime] = lambda: datetime.now(UTC)) -> FastAPI:
    snapshot, publish_dir = Path(snapshot), Path(publish_dir)
    app = FastAPI(title="spotindex API", version=__version__,
                  description="Read-only access to the spotindex reference indices for AI compute: latest values, "
                              "history, signed daily reports and contract settlements. Every answer carries "
                              "`publish_time` and `stale`.")

    @contextmanager
    def db() -> Iterator[duckdb.DuckDBPyConnection]:
        if not snapshot.exists():
            raise HTTPException(503, f"no data yet: the analyst snapshot {snapshot} does not exist "
                                     "(run 'spotindex publish' or the daemon first)")
        try:
            con = connect(snapshot, read_only=True, retry_seconds=2.0)
        except SpotindexError as exc:
            raise HTTPException(503, str(exc)) from None
        try:
            yield con
        finally:
            con.close()

    def freshness(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
        rows = _rows(con, "SELECT published_at FROM publications ORDER BY published_at DESC LIMIT 2")
        last = rows[0]["published_at"] if rows else None
        prev = rows[1]["published_at"] if len(rows) > 1 else None
        stale = last is None or now_fn() - last > stale_after
        return {"publish_time": _iso(last), "prev_publish_time": _iso(prev), "stale": stale}

    def known_ids(con: duckdb.DuckDBPyConnection) -> set[str]:
        return {r[0] for r in ex(con, "SELECT DISTINCT index_id FROM index_values")}

    def check_id(con: duckdb.DuckDBPyConnection, index_id: str) -> None:
        if index_id not in known_ids(con):
            raise HTTPException(404, f"unknown index '{index_id}': GET /v1/indices lists the published series")

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def bad_parameter(_: Request, exc: RequestValidationError) -> JSONResponse:
        parts = []
        for e in exc.errors():
            loc = [str(x) for x in e.get("loc", ()) if x not in ("query", "path", "body")]
            got = e.get("input")
            parts.append(f"parameter '{'.'.join(loc)}': {e.get('msg')}" + (f" (got {got!r})" if got is not None
                                                                          else ""))
        return JSONResponse({"error": "; ".join(parts) + " (dates are YYYY-MM-DD)", "detail": exc.errors()},
                            status_code=422)

    @app.get("/healthz", summary="Liveness and freshness")
    def healthz() -> dict[str, Any]:
        with db() as con:
            f = freshness(con)
            n = ex(con, "SELECT count(*) FROM latest_index_values")[0][0]
        age = now_fn().timestamp() - snapshot.stat().st_mtime
        return {"status": "stale" if f["stale"] else "ok", "snapshot": str(snapshot),
                "snapshot_age_seconds": round(age, 1), "values": n, **f}

    @app.get("/v1/indices", summary="Every published series with its latest value")
    def indices() -> dict[str, Any]:
        with db() as con:
            rows = _rows(con, """
                SELECT index_id AS id, unit, date AS latest_date, value, status, n_venues, revision
                FROM latest_index_values
                QUALIFY row_number() OVER (PARTITION BY index_id ORDER BY date DESC) = 1
                ORDER BY index_id""")
            return {**freshness(con), "indices": rows}

    @app.get("/v1/indices/{index_id}/latest", summary="A series' latest daily value with its diagnostics")
    def latest(index_id: str) -> dict[str, Any]:
        with db() as con:
            check_id(con, index_id)
            row = _rows(con, f"""
                SELECT {', '.join(VALUE_COLUMNS)} FROM latest_index_values WHERE index_id = ?
                ORDER BY date DESC LIMIT 1""", [index_id])[0]
            pub = _rows(con, "SELECT max(published_at) AS t FROM publications WHERE date = ?", [row["date"]])[0]["t"]
            return {**freshness(con), "value_publish_time": _iso(pub), "index": row}

    @app.get("/v1/indices/{index_id}/history", summary="A series' daily values between two dates")
    def history(
        index_id: str,
        from_: Annotated[date | None, Query(alias="from", description="first day, YYYY-MM-DD "
                                                                       "(default: 89 days before 'to')")] = None,
        to: Annotated[date | None, Query(description="last day, YYYY-MM-DD (default: the latest)")] = None,
    ) -> dict[str, Any]:
        with db() as con:
            check_id(con, index_id)
            if to is None:
                to = ex(con, "SELECT max(date) FROM latest_index_values WHERE index_id = ?", [index_id])[0][0]
            assert to is not None
            start = from_ or to - timedelta(days=DEFAULT_HISTORY_DAYS - 1)
            if start > to:
                raise HTTPException(400, f"'from' ({start}) is after 'to' ({to})")
            if (to - start).days >= MAX_HISTORY_DAYS:
                raise HTTPException(400, f"at most {MAX_HISTORY_DAYS} days per request; "
                                         f"asked for {(to - start).days + 1}")
            rows = _rows(con, f"""
                SELECT {', '.join(VALUE_COLUMNS)} FROM latest_index_values
                WHERE index_id = ? AND date BETWEEN ? AND ? ORDER BY date""", [index_id, start, to])
            return {**freshness(con), "id": index_id, "from": start, "to": to, "values": rows}

    def report_file(day: date, name: str) -> Path:
        path = publish_dir / day.isoformat() / name
        if not path.is_file():
            raise HTTPException(404, f"no published report for {day}" if name == "indices.json"
                                else f"the report for {day} has no {name}")
        return path

    @app.get("/v1/reports/{day}", summary="The day's report with its signature (if signed)")
    def report(day: DateParam) -> dict[str, Any]:
        import json

        raw = report_file(day, "indices.json").read_bytes()
        sig_path = publish_dir / day.isoformat() / "indices.json.sig"
        sig = sig_path.read_bytes() if sig_path.is_file() else None
        with db() as con:
            f = freshness(con)
        return {**f, "date": day, "sha256": hashlib.sha256(raw).hexdigest(), "signed": sig is not None,
                "signature_base64": base64.b64encode(sig).decode() if sig is not None else None,
                "report": json.loads(raw)}

    @app.get("/v1/reports/{day}/indices.json", summary="The report's exact bytes (what the signature covers)")
    def report_bytes(day: DateParam) -> Response:
        return Response(report_file(day, "indices.json").read_bytes(), media_type="application/json")

    @app.get("/v1/reports/{day}/indices.json.sig", summary="The report's detached signature")
    def report_sig(day: DateParam) -> Response:
        return Response(report_file(day, "indices.json.sig").read_bytes(), media_type="application/octet-stream")

    @app.get("/v1/settlements/{contract}", summary="A contract's final settlement value")
    def settlement(contract: Annotated[str, PathParam(max_length=200)]) -> dict[str, Any]:
        with db() as con:
            rows = _rows(con, "SELECT * FROM settlements WHERE contract_id = ?", [contract])
            if not rows:
                known = [r[0] for r in ex(con, "SELECT contract_id FROM settlements ORDER BY 1 LIMIT 20")]
                hint = f"; settled contracts: {', '.join(known)}" if known else "; no contract is settled yet"
                raise HTTPException(404, f"no settlement for contract '{contract}'{hint}")
            return {**freshness(con), "settlement": rows[0]}

    return app
