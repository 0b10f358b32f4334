"""Helpers for the metering tests: realistic call records and a grant's limits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from datapolis.sharing.metering import Call, params_hash


@dataclass(frozen=True)
class Limits:
    """The quota fields of a grant, as sharing.grants.service.ActiveGrant carries them."""

    id: int
    calls_per_day: int | None = None
    rows_per_day: int | None = None
    rate_per_second: float | None = None


def make_call(
    n: int = 0,
    *,
    grant_id: int | None = 7,
    status: int = 200,
    rows: int = 1,
    at: datetime | None = None,
    interface: str = "lookup",
    error_code: str | None = None,
) -> Call:
    start = at or datetime.now(UTC)
    return Call(
        request_at=start,
        response_at=start + timedelta(milliseconds=12),
        consumer_org_id=2,
        app_id=5,
        provider_org_id=4,
        resource_code="371300-GAJ-00001",
        grant_id=grant_id,
        interface=interface,
        params_hash=params_hash({"id_number": f"37130219800101{n:04d}"}),
        rows=rows,
        bytes=200 * rows,
        status=status,
        error_code=error_code,
        latency_ms=12.0 + n % 7,
        client_ip="10.0.0.8",
        request_id=f"req-{n}",
    )
