"""Read-only queries over METER's call records (`share_calls`), the only place monitoring
reads them. Everything else reads the hourly rollup (rollup.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from datapolis.sharing.metering.models import ShareCall

c = ShareCall  # the columns, by their ORM names


def last_call_id(session: Session) -> int:
    return int(session.scalar(select(func.coalesce(func.max(c.id), 0))) or 0)


def first_request_at(session: Session, *, after_id: int = 0) -> datetime | None:
    """When the earliest call with an id above `after_id` came in (None: no such call)."""
    found: datetime | None = session.scalar(
        select(func.min(c.request_at)).where(c.id > after_id))
    return found


@dataclass(frozen=True)
class RefusedGroup:
    app_id: int | None
    consumer_org_id: int | None
    provider_org_id: int | None
    resource_code: str | None
    error_code: str
    calls: int
    first_at: datetime
    last_at: datetime


def refused(session: Session, *, start: datetime, end: datetime, codes: Sequence[str]
            ) -> list[RefusedGroup]:
    """Calls refused with one of `codes` in [start, end), per caller, resource and code."""
    keys = (c.app_id, c.consumer_org_id, c.provider_org_id, c.resource_code, c.error_code)
    query = (select(*keys, func.count(), func.min(c.request_at), func.max(c.request_at))
             .where(c.request_at >= start, c.request_at < end, c.error_code.in_(codes))
             .group_by(*keys))
    return [RefusedGroup(*row) for row in session.execute(query)]  # type: ignore[arg-type]


@dataclass(frozen=True)
class BulkCall:
    request_at: datetime
    app_id: int | None
    consumer_org_id: int | None
    provider_org_id: int | None
    resource_code: str | None
    interface: str
    rows: int


def bulk_calls(session: Session, *, start: datetime, end: datetime, min_rows: int,
               interfaces: Sequence[str]) -> list[BulkCall]:
    """Accepted calls in [start, end) that are bulk deliveries or returned `min_rows` or more."""
    query = (select(c.request_at, c.app_id, c.consumer_org_id, c.provider_org_id,
                    c.resource_code, c.interface, c.rows_out)
             .where(c.request_at >= start, c.request_at < end, c.status < 400,
                    or_(c.interface.in_(interfaces), c.rows_out >= min_rows))
             .order_by(c.request_at))
    return [BulkCall(*row) for row in session.execute(query)]


def calls_per_app(session: Session, *, start: datetime, end: datetime
                  ) -> list[tuple[int, int | None, int]]:
    """(app_id, consumer_org_id, calls) of every app that called in [start, end)."""
    query = (select(c.app_id, func.max(c.consumer_org_id), func.count())
             .where(and_(c.request_at >= start, c.request_at < end, c.app_id.is_not(None)))
             .group_by(c.app_id))
    return [(int(a), o, int(n)) for a, o, n in session.execute(query) if a is not None]
