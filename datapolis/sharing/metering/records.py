"""What one interface call leaves behind: the `Call` record and its journal/row forms.

The fields follow X-Road's operational monitoring data (requestInTs / responseOutTs, client and
service identifiers, request and response sizes, status code, fault code), narrowed to what a
bureau's sharing platform needs: the consumer organisation and app, the provider organisation,
the resource and grant, the interface kind, a hash of the parameters (never the parameters: they
may hold ID numbers), rows and bytes returned, HTTP status, error code, latency and client IP.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

from datapolis.security.crypto import sm3

INTERFACES = ("lookup", "query", "batch", "bulk", "bulk_download", "token", "openapi")


@dataclass
class Call:
    request_at: datetime  # request in, UTC
    response_at: datetime  # response out, UTC
    consumer_org_id: int | None
    app_id: int | None
    provider_org_id: int | None
    resource_code: str | None
    grant_id: int | None
    interface: str  # one of INTERFACES
    params_hash: str  # SM3 hex of the canonical request parameters (see params_hash())
    rows: int
    bytes: int
    status: int  # HTTP status answered
    error_code: str | None  # shared vocabulary: bad_signature, no_grant, quota_calls, ...
    latency_ms: float
    client_ip: str | None
    # Added after the contract (backward compatible): the caller's X-Request-Id, if it sent
    # one, so a caller can match its own log against the records (X-Road's xRequestId).
    request_id: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status < 400


_DATETIMES = ("request_at", "response_at")
_FIELDS = tuple(f.name for f in fields(Call))


def params_hash(params: Mapping[str, Any]) -> str:
    """SM3 hex of the parameters as canonical JSON (keys sorted, no whitespace, UTF-8)."""
    text = json.dumps(params, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str)
    return sm3(text.encode()).hex()


def _fields(call: Call) -> dict[str, Any]:
    # Not dataclasses.asdict: it deep-copies every value, 10x the cost on the request path.
    return {name: getattr(call, name) for name in _FIELDS}


def to_journal(record_id: str, call: Call) -> bytes:
    """One journal line: the record id and every field, times as ISO-8601 UTC."""
    data = _fields(call)
    for name in _DATETIMES:
        data[name] = data[name].astimezone(UTC).isoformat()
    data["record_id"] = record_id
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"


def from_journal(line: bytes) -> tuple[str, Call]:
    """Parse a journal line; ValueError (or KeyError/TypeError) if it is torn or foreign."""
    data = json.loads(line)
    record_id = data.pop("record_id")
    if not isinstance(record_id, str) or set(data) != set(_FIELDS):
        raise ValueError("not a call record")
    for name in _DATETIMES:
        data[name] = datetime.fromisoformat(data[name])
    return record_id, Call(**data)


def to_row(record_id: str, call: Call) -> dict[str, Any]:
    """The share_calls row of a call (column names as in models.ShareCall)."""
    row = _fields(call)
    row["record_id"] = record_id
    row["bytes_out"] = row.pop("bytes")
    row["rows_out"] = row.pop("rows")
    return row
