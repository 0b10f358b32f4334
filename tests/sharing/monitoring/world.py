"""Call records for the monitoring tests, written through METER's row form into share_calls."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert
from sqlalchemy.orm import Session

from datapolis.orgs import service
from datapolis.orgs.models import ApiApp
from datapolis.sharing.metering import Call
from datapolis.sharing.metering.models import ShareCall
from datapolis.sharing.metering.records import to_row
from tests.conftest import City

RESOURCE = "371300-GAJ-00001"
_ids = itertools.count(1)


@dataclass(frozen=True)
class Callers:
    county_app: ApiApp  # 兰山区公安分局 calls 临沂市公安局's resource
    street_app: ApiApp  # 兰山街道 calls it too


def make_callers(session: Session, city: City) -> Callers:
    return Callers(service.create_app(session, org=city.county_dept, name="县局比对").app,
                   service.create_app(session, org=city.street, name="街道核验").app)


def add_calls(session: Session, app: ApiApp, provider_id: int, at: datetime, n: int = 1, *,
              status: int = 200, error_code: str | None = None, rows: int = 1,
              interface: str = "lookup", latency_ms: float = 10.0,
              client_ip: str = "10.1.2.3", resource: str = RESOURCE) -> None:
    rows_out = []
    for i in range(n):
        start = at + timedelta(milliseconds=i)
        call = Call(request_at=start, response_at=start + timedelta(milliseconds=latency_ms),
                    consumer_org_id=app.org_id, app_id=app.id, provider_org_id=provider_id,
                    resource_code=resource, grant_id=None, interface=interface,
                    params_hash="0" * 64, rows=rows, bytes=rows * 100, status=status,
                    error_code=error_code, latency_ms=latency_ms, client_ip=client_ip)
        rows_out.append(to_row(f"t{next(_ids):012d}", call))
    session.execute(insert(ShareCall), rows_out)


def at_city(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A city (UTC+8) clock time as UTC."""
    return datetime(year, month, day, hour, minute, tzinfo=UTC) - timedelta(hours=8)
