"""Reading call records one by one: the call log (调用记录) an operator or a department
searches, newest first, and exports. Aggregates for the monitoring pages live in
sharing/monitoring (its hourly rollup reads `share_calls` through monitoring/queries.py)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from datapolis.errors import UserError
from datapolis.sharing.metering.models import ShareCall
from datapolis.sharing.metering.records import INTERFACES

Outcome = Literal["ok", "refused", "failed"]
OUTCOMES: tuple[Outcome, ...] = ("ok", "refused", "failed")
MAX_PAGE = 500


@dataclass(frozen=True)
class CallFilter:
    """Which records; every field narrows, None leaves it open."""

    start: datetime | None = None  # request in at or after
    end: datetime | None = None  # request in before
    org_id: int | None = None  # the organisation as consumer or provider (a department's view)
    consumer_org_id: int | None = None
    provider_org_id: int | None = None
    app_id: int | None = None
    grant_id: int | None = None
    resource_code: str | None = None
    interface: str | None = None
    outcome: Outcome | None = None  # ok: < 400, refused: 4xx, failed: 5xx
    error_code: str | None = None

    def checked(self) -> CallFilter:
        if self.interface is not None and self.interface not in INTERFACES:
            raise UserError(f"unknown interface {self.interface!r}; one of "
                            f"{', '.join(INTERFACES)}")
        if self.outcome is not None and self.outcome not in OUTCOMES:
            raise UserError(f"unknown outcome {self.outcome!r}; one of {', '.join(OUTCOMES)}")
        if self.start is not None and self.end is not None and self.start >= self.end:
            raise UserError("the period's start must be before its end")
        for moment in (self.start, self.end):
            if moment is not None and moment.tzinfo is None:
                raise UserError("give times with their zone, e.g. 2026-11-24T08:00:00+08:00")
        return self


def _where(query: Select[Any], flt: CallFilter) -> Select[Any]:
    c = ShareCall
    if flt.start is not None:
        query = query.where(c.request_at >= flt.start)
    if flt.end is not None:
        query = query.where(c.request_at < flt.end)
    if flt.org_id is not None:
        query = query.where(or_(c.consumer_org_id == flt.org_id, c.provider_org_id == flt.org_id))
    for column, value in ((c.consumer_org_id, flt.consumer_org_id),
                          (c.provider_org_id, flt.provider_org_id), (c.app_id, flt.app_id),
                          (c.grant_id, flt.grant_id), (c.resource_code, flt.resource_code),
                          (c.interface, flt.interface), (c.error_code, flt.error_code)):
        if value is not None:
            query = query.where(column == value)
    if flt.outcome == "ok":
        query = query.where(c.status < 400)
    elif flt.outcome == "refused":
        query = query.where(c.status >= 400, c.status < 500)
    elif flt.outcome == "failed":
        query = query.where(c.status >= 500)
    return query


def list_calls(session: Session, flt: CallFilter, *, before_id: int | None = None,
               limit: int = 100) -> list[ShareCall]:
    """One page, newest first; the next page is `before_id=<last id of this one>`."""
    if not 1 <= limit <= MAX_PAGE:
        raise UserError(f"limit must be 1-{MAX_PAGE}")
    query = _where(select(ShareCall), flt.checked())
    if before_id is not None:
        query = query.where(ShareCall.id < before_id)
    return list(session.scalars(query.order_by(ShareCall.id.desc()).limit(limit)))


def iter_calls(session: Session, flt: CallFilter, *, chunk: int = 5000) -> Iterator[ShareCall]:
    """Every matching record, oldest first, read in chunks (for exports)."""
    flt.checked()
    last = 0
    while True:
        rows = list(session.scalars(_where(select(ShareCall), flt)
                                    .where(ShareCall.id > last)
                                    .order_by(ShareCall.id).limit(chunk)))
        yield from rows
        if len(rows) < chunk:
            return
        last = rows[-1].id


def count_calls(session: Session, flt: CallFilter) -> int:
    query = _where(select(func.count()).select_from(ShareCall), flt.checked())
    return int(session.scalar(query) or 0)
