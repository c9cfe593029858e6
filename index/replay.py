"""Replay snapshots: recorded HTTP responses served back through ``httpx.MockTransport``.

A snapshot is a directory::

    manifest.json          {"format": "spotindex-replay/1", "name": ..., "captures": [
                              {"captured_at": ISO-8601 UTC, "responses": [
                                 {"source", "method", "url", "status", "headers", "body",
                                  "request_body_sha256", "meta"}]}]}
    bodies/<sha256>.bin    response bodies, content-addressed (identical bodies stored once);
    bodies/<sha256>.bin.gz larger bodies are kept gzip-compressed (the sha256 is of the plain bytes)

Each capture is one scrape round at one time. Replaying a capture builds a transport that
answers exactly the recorded requests (method, URL with sorted query, request-body hash), so
a source's ``fetch`` runs unchanged; anything it asks for that was not recorded gets a 404
naming the snapshot, which the source reports as a failure. URLs and headers are stored
redacted (sources.base.redact_*), and the lookup redacts the live request the same way.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from index.errors import SpotindexError
from sources.base import RawResponse, redact_body, redact_headers, redact_url

FORMAT = "spotindex-replay/1"
GZIP_ABOVE_BYTES = 4096


def _read_body(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def _iso(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> datetime:
    ts = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if ts.tzinfo is None:
        raise SpotindexError(f"time {text!r} has no timezone; snapshots use UTC ('Z')")
    return ts.astimezone(UTC)


def request_key(method: str, url: str, body: bytes | None) -> tuple[str, str, str | None]:
    """How a request is matched: method, redacted URL with its query sorted, body hash."""
    u = httpx.URL(redact_url(url))
    params = sorted(u.params.multi_items())
    norm = str(u.copy_with(params=params)) if params else str(u.copy_with(query=None))
    clean = redact_body(body)
    return method.upper(), norm, hashlib.sha256(clean).hexdigest() if clean else None


@dataclass
class RecordedResponse:
    source: str
    method: str
    url: str
    status: int
    headers: dict[str, str]
    body: bytes
    request_body: bytes | None = None
    meta: dict[str, str] = field(default_factory=dict)


@dataclass
class Capture:
    captured_at: datetime
    responses: list[RecordedResponse]

    def sources(self) -> list[str]:
        return sorted({r.source for r in self.responses})

    def transport(self, snapshot_name: str = "snapshot") -> httpx.MockTransport:
        """A transport that answers this capture's recorded requests, in recorded order."""
        table: dict[tuple[str, str, str | None], list[RecordedResponse]] = defaultdict(list)
        for r in self.responses:
            table[request_key(r.method, r.url, r.request_body)].append(r)
        by_url: dict[tuple[str, str], list[RecordedResponse]] = defaultdict(list)
        for r in self.responses:
            by_url[request_key(r.method, r.url, None)[:2]].append(r)
        served: dict[tuple[str, str, str | None], int] = defaultdict(int)

        def handler(request: httpx.Request) -> httpx.Response:
            key = request_key(request.method, str(request.url), request.content or None)
            hits = table.get(key) or by_url.get(key[:2])  # body-less match: a request body we could not match
            if not hits:
                return httpx.Response(404, text=f"not recorded in replay snapshot {snapshot_name}: "
                                                f"{key[0]} {key[1]}", request=request)
            i = served[key]
            served[key] = i + 1
            r = hits[min(i, len(hits) - 1)]  # a repeated request (a retry) gets the next recording
            headers = {k: v for k, v in r.headers.items() if k.lower() not in ("content-length", "content-encoding",
                                                                                 "transfer-encoding")}
            return httpx.Response(r.status, headers=headers, content=r.body, request=request)

        return httpx.MockTransport(handler)


@dataclass
class Snapshot:
    path: Path
    name: str
    captures: list[Capture]

    @property
    def label(self) -> str:
        return f"replay:{self.name}"


def load(path: Path | str) -> Snapshot:
    """Read a snapshot directory; a clear error if it is not one."""
    root = Path(path)
    manifest_path = root / "manifest.json"
    if not manifest_path.is_file():
        raise SpotindexError(f"{root} is not a replay snapshot: {manifest_path} is missing "
                             f"(record one with 'spotindex record {root}')")
    try:
        manifest = json.loads(manifest_path.read_text())
    except json.JSONDecodeError as exc:
        raise SpotindexError(f"{manifest_path} is not valid JSON: {exc}") from exc
    if manifest.get("format") != FORMAT:
        raise SpotindexError(f"{manifest_path}: format {manifest.get('format')!r}, expected {FORMAT!r}")
    captures = []
    for cap in manifest.get("captures", []):
        responses = []
        for r in cap["responses"]:
            body_path = root / r["body"]
            if not body_path.is_file():
                raise SpotindexError(f"{manifest_path}: body file {r['body']} is missing")
            req_body = None
            if r.get("request_body"):
                req_body = (root / r["request_body"]).read_bytes()
            responses.append(RecordedResponse(r["source"], r["method"], r["url"], int(r["status"]),
                                              dict(r.get("headers", {})), _read_body(body_path), req_body,
                                              dict(r.get("meta", {}))))
        captures.append(Capture(parse_time(cap["captured_at"]), responses))
    captures.sort(key=lambda c: c.captured_at)
    return Snapshot(root, manifest.get("name", root.name), captures)


class SnapshotWriter:
    """Builds a snapshot directory: used by ``spotindex record`` and by the fixture generator."""

    def __init__(self, path: Path | str, name: str | None = None, note: str = ""):
        self.root = Path(path)
        self.name = name or self.root.name
        self.note = note
        self._captures: dict[datetime, list[dict[str, Any]]] = defaultdict(list)

    def _store(self, data: bytes) -> str:
        compress = len(data) > GZIP_ABOVE_BYTES
        rel = f"bodies/{hashlib.sha256(data).hexdigest()}.bin" + (".gz" if compress else "")
        target = self.root / rel
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            # mtime=0: the same body always compresses to the same bytes (reproducible snapshots)
            target.write_bytes(gzip.compress(data, mtime=0) if compress else data)
        return rel

    def add(self, captured_at: datetime, resp: RawResponse | RecordedResponse) -> None:
        entry: dict[str, Any] = {
            "source": resp.source,
            "method": resp.method.upper(),
            "url": redact_url(resp.url),
            "status": resp.status,
            "headers": redact_headers({k: v for k, v in resp.headers.items()
                                       if k.lower() in ("content-type", "retry-after", "date", "link")}),
            "body": self._store(resp.body),
            "meta": dict(resp.meta),
        }
        if resp.request_body:
            entry["request_body"] = self._store(redact_body(resp.request_body) or b"")
        self._captures[captured_at.astimezone(UTC)].append(entry)

    def add_all(self, captured_at: datetime, responses: Iterable[RawResponse | RecordedResponse]) -> None:
        for r in responses:
            self.add(captured_at, r)

    def save(self) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "name": self.name,
            "note": self.note,
            "captures": [{"captured_at": _iso(ts), "responses": sorted(rs, key=lambda r: (r["source"], r["url"]))}
                         for ts, rs in sorted(self._captures.items())],
        }
        path = self.root / "manifest.json"
        path.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
        return path


def captures_between(snapshot: Snapshot, sources: Sequence[str] | None = None) -> list[Capture]:
    """The snapshot's captures, restricted to the given sources (all when None)."""
    if sources is None:
        return snapshot.captures
    wanted = set(sources)
    return [Capture(c.captured_at, [r for r in c.responses if r.source in wanted]) for c in snapshot.captures]
