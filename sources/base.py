"""The source plugin interface and the HTTP helper every adapter shares.

A source knows one API. ``fetch`` talks HTTP through the ``httpx.AsyncClient`` it is
handed (live, or a replay snapshot behind ``httpx.MockTransport``: the code cannot tell)
and returns the raw responses; ``parse`` is a pure function from those recorded bytes to
normalised rows. The framework (``index.scrape``) stores the bytes, validates the rows
and quarantines what is impossible; a source never touches the store.

Aggregators (one venue per underlying provider) write that provider's venue id on each row
and need no other marker: a venue's own adapter is named in data/venues.toml
(``first_party_source``), and ``index.precedence.dedupe_first_party`` keeps the aggregator's
rows only as the fallback where that adapter has no quote.
"""

from __future__ import annotations

import email.utils
import functools
import hashlib
import json
import os
import traceback
from abc import ABC, abstractmethod
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Literal

import httpx
import polars as pl
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential

from index.errors import SourceError

USER_AGENT = "spotindex/0.1 (+https://github.com/spotindex/spotindex; reference index for AI compute)"
SECRET_HEADERS = frozenset({"authorization", "x-api-key", "api-key", "api_key", "cookie", "set-cookie",
                            "proxy-authorization"})
REDACTED = "<redacted>"


@dataclass(frozen=True)
class RawResponse:
    """One HTTP exchange as recorded: what ``parse`` reads and the store keeps by hash."""

    source: str
    method: str
    url: str
    status: int
    headers: Mapping[str, str]
    body: bytes
    captured_at: datetime
    request_body: bytes | None = None
    meta: Mapping[str, str] = field(default_factory=dict)  # e.g. which query a response answers

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.body).hexdigest()

    def json(self) -> Any:
        """The body as JSON, or a SourceError that says what came back instead."""
        text_head = self.body[:200].decode("utf-8", "replace").strip()
        if not self.body.strip():
            raise SourceError(self.source, "empty response body", url=self.url)
        try:
            return json.loads(self.body)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            what = "HTML instead of JSON" if text_head.lower().startswith(("<!doctype", "<html")) else "invalid JSON"
            raise SourceError(self.source, f"{what} ({exc.__class__.__name__}: {exc}); body starts {text_head[:80]!r}",
                              url=self.url) from None


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Headers safe to store: credentials replaced, whatever the casing."""
    return {k: (REDACTED if k.lower() in SECRET_HEADERS else v) for k, v in headers.items()}


SECRET_PARAMS = ("key", "api_key", "apikey", "token", "access_token")


def redact_url(url: str, secret_params: Sequence[str] = SECRET_PARAMS) -> str:
    """A URL safe to store: secret query parameters replaced."""
    u = httpx.URL(url)
    params = [(k, REDACTED if k.lower() in secret_params else v) for k, v in u.params.multi_items()]
    return str(u.copy_with(params=params)) if params else str(u)


SECRET_FIELD_HINTS = ("secret", "password", "token", "api_key", "apikey", "client_id", "authorization")


def redact_body(body: bytes | None) -> bytes | None:
    """A request body safe to store: values of secret-looking fields (JSON or form) replaced.

    OAuth token requests carry client secrets in the body; snapshots and the store keep
    request bodies only in this redacted form, and replay matches on it.
    """
    if not body:
        return body
    try:
        payload = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        payload = None
    if isinstance(payload, dict):
        clean = {k: (REDACTED if any(h in k.lower() for h in SECRET_FIELD_HINTS) else v) for k, v in payload.items()}
        return json.dumps(clean, sort_keys=True).encode()
    text = body.decode("utf-8", "replace")
    if "=" in text and " " not in text.strip():
        pairs = [kv.split("=", 1) for kv in text.split("&") if kv]
        return "&".join(k + "=" + (REDACTED if any(h in k.lower() for h in SECRET_FIELD_HINTS) else (v[0] if v else ""))
                        for k, *v in pairs).encode()
    return body


def sent_secrets(request: httpx.Request) -> list[bytes]:
    """The credential values a request carried (secret headers, query parameters, body fields),
    longest first: a server that echoes them (error pages often do) must not get them stored."""
    values = [v for k, v in request.headers.items() if k.lower() in SECRET_HEADERS]
    values += [v.split(" ", 1)[1] for v in values if " " in v]  # "Bearer <token>": the token alone too
    values += [v for k, v in request.url.params.multi_items() if k.lower() in SECRET_PARAMS]
    try:
        payload = json.loads(request.content) if request.content else None
    except (json.JSONDecodeError, UnicodeDecodeError):
        payload = None
    if isinstance(payload, dict):
        values += [v for k, v in payload.items()
                   if isinstance(v, str) and any(h in k.lower() for h in SECRET_FIELD_HINTS)]
    return sorted({v.encode() for v in values if len(v) >= 6 and v != REDACTED}, key=len, reverse=True)


def scrub(data: bytes, secrets: Sequence[bytes]) -> bytes:
    for secret in secrets:
        data = data.replace(secret, REDACTED.encode())
    return data


class RetryableStatus(Exception):
    def __init__(self, response: httpx.Response):
        self.response = response
        super().__init__(f"HTTP {response.status_code}")


def _retry_after_seconds(response: httpx.Response, cap: float) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return min(cap, max(0.0, float(value)))
    except ValueError:
        try:
            parsed = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):  # neither seconds nor an HTTP date ("soon"): back off instead
            return None
        if parsed is None:
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return min(cap, max(0.0, (parsed - datetime.now(UTC)).total_seconds()))


async def request(
    client: httpx.AsyncClient,
    source: str,
    method: str,
    url: str,
    *,
    params: Mapping[str, Any] | None = None,
    json_body: Any = None,
    headers: Mapping[str, str] | None = None,
    attempts: int = 4,
    max_wait: float = 30.0,
    meta: Mapping[str, str] | None = None,
    accept_status: Collection[int] = (),
) -> RawResponse:
    """One request with retries on 429/5xx (honouring ``Retry-After``) and transport errors.

    Returns the response as a RawResponse with secret headers and query parameters
    redacted; a final non-2xx status raises SourceError naming the source and URL, unless
    it is in ``accept_status`` (e.g. 404 for one item of a listing: the caller records it).
    """
    backoff = wait_exponential(multiplier=0.5, max=max_wait)

    def wait(retry_state: Any) -> float:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(exc, RetryableStatus):
            hinted = _retry_after_seconds(exc.response, max_wait)
            if hinted is not None:
                return hinted
        return float(backoff(retry_state))

    last: httpx.Response | None = None
    retrying = AsyncRetrying(
        stop=stop_after_attempt(attempts),
        wait=wait,
        retry=retry_if_exception(lambda e: isinstance(e, RetryableStatus | httpx.TransportError)),
        reraise=True,
    )
    try:
        async for attempt in retrying:
            with attempt:
                resp = await client.request(method, url, params=params, json=json_body, headers=headers)
                last = resp
                if resp.status_code == 429 or resp.status_code >= 500:
                    raise RetryableStatus(resp)
    except RetryableStatus as exc:
        raise SourceError(source, f"HTTP {exc.response.status_code} after {attempts} attempts",
                          url=redact_url(str(exc.response.request.url))) from None
    except httpx.TimeoutException as exc:
        raise SourceError(source, f"timed out after {attempts} attempts ({exc.__class__.__name__})",
                          url=redact_url(url)) from None
    except httpx.TransportError as exc:
        raise SourceError(source, f"connection failed after {attempts} attempts: {exc}", url=redact_url(url)) from None
    assert last is not None
    secrets = sent_secrets(last.request)
    body = scrub(last.content, secrets)
    if last.status_code >= 400 and last.status_code not in accept_status:
        text = body.decode(last.encoding or "utf-8", "replace")
        raise SourceError(source, f"HTTP {last.status_code}: {text[:120]!r}", url=redact_url(str(last.request.url)))
    req_body = redact_body(last.request.content) if last.request.content else None
    return RawResponse(
        source=source,
        method=method.upper(),
        url=redact_url(str(last.request.url)),
        status=last.status_code,
        headers=redact_headers(dict(last.headers)),
        body=body,
        captured_at=datetime.now(UTC),
        request_body=req_body,
        meta=dict(meta or {}),
    )


Kind = Literal["gpu", "token"]


class Source(ABC):
    """A scraper plugin. Subclass, set the class attributes, implement fetch and parse.

    Register a third-party source with an entry point in the group ``spotindex.sources``
    pointing at the subclass; built-in modules in ``sources/`` expose ``SOURCE``.
    """

    name: ClassVar[str]
    kind: ClassVar[Kind]
    description: ClassVar[str] = ""
    key_env: ClassVar[str | None] = None  # environment variable holding the API key, if one is needed
    key_optional: ClassVar[bool] = False  # True: the source runs without the key, with less data
    venues: ClassVar[tuple[str, ...]] = ()  # venues it reports (documentation; aggregators list many)
    parser_checked: ClassVar[str] = ""  # ISO date the parser was last checked against a real response
    enabled_by_default: ClassVar[bool] = True
    timeout_s: ClassVar[float] = 30.0

    def api_key(self) -> str | None:
        return os.environ.get(self.key_env) if self.key_env else None

    def required_envs(self) -> tuple[str, ...]:
        """Every environment variable the source needs (``key_envs`` when it has several)."""
        several = getattr(self, "key_envs", None)
        if several:
            return tuple(several)
        return (self.key_env,) if self.key_env else ()

    def skip_message(self) -> str:
        """What the operator must do when credentials are missing: name each variable unset."""
        unset = [e for e in self.required_envs() if not os.environ.get(e)] or list(self.required_envs())
        return "skipped: set " + " and ".join(unset)

    def missing_key(self) -> bool:
        """True when the source needs a key that the environment does not provide."""
        return bool(self.key_env) and not self.key_optional and not self.api_key()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Every parser keeps the contract 'rows or SourceError', whatever the bytes.

        A response of an unexpected shape (a bool where an object was, a list where a string
        was) would otherwise surface as a TypeError or KeyError from deep inside a parser. The
        wrapper turns any such error into a SourceError naming the source, the error and the
        parser line, so the run reports it as that source's failure.
        """
        super().__init_subclass__(**kwargs)
        parse = cls.__dict__.get("parse")
        if parse is None or getattr(parse, "_contract_wrapped", False):
            return

        @functools.wraps(parse)
        def guarded(self: Source, raw: Sequence[RawResponse], observed_at: datetime) -> pl.DataFrame:
            try:
                return parse(self, raw, observed_at)
            except SourceError:
                raise
            except Exception as exc:
                tb = traceback.extract_tb(exc.__traceback__)[-1]
                raise SourceError(self.name, f"response has an unexpected shape: {type(exc).__name__}: "
                                             f"{str(exc)[:160]} (at {tb.filename.rsplit('/', 1)[-1]}:{tb.lineno}); "
                                             "the API may have changed") from exc

        guarded._contract_wrapped = True  # type: ignore[attr-defined]
        cls.parse = guarded  # type: ignore[method-assign]

    @abstractmethod
    async def fetch(self, client: httpx.AsyncClient) -> list[RawResponse]:
        """Perform the requests (pagination, auth) and return the raw responses."""

    @abstractmethod
    def parse(self, raw: Sequence[RawResponse], observed_at: datetime) -> pl.DataFrame:
        """Pure: recorded responses to normalised rows (index.schemas). Raise SourceError on bad shape."""


def as_float(value: Any) -> float | None:
    """A number from JSON that may be a number, a numeric string, null or junk (-> None)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


# Timestamps a payload carries about its own prices (METHODOLOGY.md §3.2). A time after the
# observation (beyond clock skew) is a clock or feed error; an "as of" time older than the limit
# means the source serves a frozen copy. Effective-from dates are only checked for the future:
# a price in effect since 2019 is still the price.
FUTURE_SLACK = timedelta(hours=1)
CATALOG_MAX_AGE = timedelta(days=365)  # a price list's publication / last-update date
OBSERVATION_MAX_AGE = timedelta(days=7)  # an aggregator's own observation time (§4.1's list-price window)


def as_instant(value: Any) -> datetime | None:
    """An ISO-8601 time (``Z`` or offset; a bare date is its midnight UTC) or epoch seconds, else None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        try:
            return datetime.fromtimestamp(float(value), UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        ts = datetime.fromisoformat(text)
    except ValueError:
        return None
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def time_problem(value: Any, observed_at: datetime, what: str, max_age: timedelta | None,
                 future: str = "clock or feed error") -> str | None:
    """Why a payload timestamp makes its prices unusable, or None (also None when unreadable).
    ``future`` says what a time after the observation means for this field."""
    ts = as_instant(value)
    if ts is None:
        return None
    date_only = isinstance(value, str) and len(value.strip()) == 10
    slack = timedelta(days=1) if date_only else FUTURE_SLACK  # a bare date may be another time zone's today
    if ts > observed_at + slack:
        return f"{future}: {what} {str(value)[:32]} is after the observation time {observed_at:%Y-%m-%dT%H:%MZ}"
    if max_age is not None and ts < observed_at - max_age:
        return (f"stale data: {what} {str(value)[:32]} is {(observed_at - ts).days} days before the observation "
                f"(limit {max_age.days})")
    return None


def with_reason(rows: list[dict[str, Any]], reason: str | None) -> list[dict[str, Any]]:
    """``rows`` with ``reason`` added to each row's quarantine_reason (unchanged when None)."""
    if not reason:
        return rows
    return [{**r, "quarantine_reason": "; ".join(x for x in (r.get("quarantine_reason"), reason) if x)} for r in rows]


def number_repeats(rows: list[dict[str, Any]], field: str, sep: str, scope: Sequence[str] = ()) -> list[dict[str, Any]]:
    """Rows whose ``(scope..., field)`` repeats an earlier row's: a row that differs gets
    ``<field><sep><n>`` (two offers the response does not tell apart by id: both kept); an identical
    copy keeps its key, so validation quarantines it as a duplicate (index.validate)."""
    seen: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    out = []
    for row in rows:
        prior = seen.setdefault(tuple(row.get(c) for c in (*scope, field)), [])
        numbered = row if not prior or row in prior else {**row, field: f"{row[field]}{sep}{len(prior) + 1}"}
        prior.append(row)
        out.append(numbered)
    return out


def require_list(source: str, payload: Any, key: str | None, url: str | None = None) -> list[Any]:
    """``payload[key]`` as a list, or a SourceError naming the missing or mistyped field."""
    value = payload
    if key is not None:
        if not isinstance(payload, dict) or key not in payload:
            found = sorted(payload)[:8] if isinstance(payload, dict) else type(payload).__name__
            raise SourceError(source, f"missing; response has {found}", field=key, url=url)
        value = payload[key]
    if not isinstance(value, list):
        raise SourceError(source, f"expected a list, got {type(value).__name__}", field=key or "<body>", url=url)
    return value


def require_field_somewhere(source: str, records: Sequence[Mapping[str, Any]], fields: Sequence[str],
                            url: str | None = None) -> None:
    """A field absent from every record is a schema change (renamed field), not a bad row."""
    dicts = [r for r in records if isinstance(r, Mapping)]
    if not dicts:
        return
    for name in fields:
        if all(name not in r for r in dicts):
            raise SourceError(source, f"absent from all {len(dicts)} records: the API schema changed?",
                              field=name, url=url)
