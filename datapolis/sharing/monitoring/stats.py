"""What the monitoring pages show, read from the hourly rollup: call volume over time, top
consumers and providers, flows between organisations, latency and errors per interface, and
their stability. `org_id` narrows everything to the calls an organisation made or served (None:
the bureau's view of all calls)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from datapolis.errors import UserError
from datapolis.orgs.models import Organisation
from datapolis.registry.base import utcnow
from datapolis.sharing.monitoring.models import CallHour, LatencyDay
from datapolis.sharing.monitoring.rollup import HOUR, city_day, floor_hour, percentiles
from datapolis.web.render import SHOWN_ZONE

Interval = Literal["hour", "day"]
PERIODS = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30),
           "90d": timedelta(days=90)}
INTERVALS: tuple[Interval, ...] = ("hour", "day")
MAX_HOUR_POINTS = 24 * 31  # an hourly series longer than a month is unreadable and slow


@dataclass(frozen=True)
class Window:
    start: datetime  # UTC, start of an hour
    end: datetime  # UTC, exclusive
    interval: Interval


def window(period: str = "24h", interval: str = "hour", *, now: datetime | None = None
           ) -> Window:
    if period not in PERIODS:
        raise UserError(f"unknown period {period!r}; one of {', '.join(PERIODS)}")
    if interval not in INTERVALS:
        raise UserError(f"unknown interval {interval!r}; one of {', '.join(INTERVALS)}")
    end = floor_hour(now or utcnow()) + HOUR
    start = end - PERIODS[period]
    if interval == "hour" and PERIODS[period] > timedelta(hours=MAX_HOUR_POINTS):
        raise UserError(f"hourly points over {period} are too many; choose interval=day")
    return Window(start, end, interval)


def _where(w: Window, org_id: int | None) -> list[ColumnElement[bool]]:
    found = [CallHour.hour >= w.start, CallHour.hour < w.end]
    if org_id is not None:
        found.append(or_(CallHour.consumer_org_id == org_id, CallHour.provider_org_id == org_id))
    return found


def bucket_start(hour: datetime, interval: Interval) -> datetime:
    """The start (city time) of the interval an hour falls in."""
    local = hour.astimezone(SHOWN_ZONE)
    return local.replace(hour=0) if interval == "day" else local


def buckets(w: Window) -> list[datetime]:
    seen: list[datetime] = []
    hour = w.start
    while hour < w.end:
        start = bucket_start(hour, w.interval)
        if not seen or seen[-1] != start:
            seen.append(start)
        hour += HOUR
    return seen


@dataclass
class VolumePoint:
    start: datetime  # city time
    calls: int = 0
    refused: int = 0
    failed: int = 0
    rows: int = 0

    @property
    def label(self) -> str:
        return self.start.strftime("%m-%d %H:00" if self.start.hour or self.start.minute
                                   else "%m-%d")


def volume(session: Session, w: Window, *, org_id: int | None = None) -> list[VolumePoint]:
    points = {start: VolumePoint(start) for start in buckets(w)}
    query = (select(CallHour.hour, func.sum(CallHour.calls), func.sum(CallHour.refused),
                           func.sum(CallHour.failed), func.sum(CallHour.rows))
                    .group_by(CallHour.hour)).where(*_where(w, org_id))
    for hour, calls, refused, failed, rows in session.execute(query):
        point = points[bucket_start(hour, w.interval)]
        point.calls += int(calls)
        point.refused += int(refused)
        point.failed += int(failed)
        point.rows += int(rows)
    return list(points.values())


@dataclass(frozen=True)
class OrgTotal:
    org_id: int | None
    name: str
    calls: int
    rows: int
    bytes: int
    errors: int


def org_names(session: Session, ids: Iterable[int | None]) -> dict[int, Organisation]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {o.id: o for o in session.scalars(
        select(Organisation).where(Organisation.id.in_(wanted)))}


def _name(orgs: dict[int, Organisation], org_id: int | None) -> str:
    return orgs[org_id].name if org_id is not None and org_id in orgs else "—"


def top(session: Session, w: Window, side: Literal["consumer", "provider"], *,
        org_id: int | None = None, limit: int = 10) -> list[OrgTotal]:
    key = CallHour.consumer_org_id if side == "consumer" else CallHour.provider_org_id
    calls = func.sum(CallHour.calls)
    query = (select(key, calls, func.sum(CallHour.rows), func.sum(CallHour.bytes),
                           func.sum(CallHour.refused + CallHour.failed))
                     .where(*_where(w, org_id))
                     .group_by(key).order_by(calls.desc(), key).limit(limit))
    found = list(session.execute(query))
    orgs = org_names(session, (r[0] for r in found))
    return [OrgTotal(i, _name(orgs, i), int(n), int(r), int(b), int(e))
            for i, n, r, b, e in found]


@dataclass(frozen=True)
class Flow:
    provider_id: int | None
    provider: str
    consumer_id: int | None
    consumer: str
    calls: int
    rows: int
    bytes: int


def flows(session: Session, w: Window, *, org_id: int | None = None, limit: int = 60
          ) -> list[Flow]:
    """Data flowing from providers to consumers (accepted and refused calls alike)."""
    keys = (CallHour.provider_org_id, CallHour.consumer_org_id)
    rows = func.sum(CallHour.rows)
    query = (select(*keys, func.sum(CallHour.calls), rows, func.sum(CallHour.bytes))
                    .group_by(*keys).order_by(rows.desc(), func.sum(CallHour.calls).desc())
                    .limit(limit)).where(*_where(w, org_id))
    found = list(session.execute(query))
    orgs = org_names(session, (i for r in found for i in r[:2]))
    return [Flow(p, _name(orgs, p), c, _name(orgs, c), int(n), int(r), int(b))
            for p, c, n, r, b in found]


@dataclass(frozen=True)
class InterfaceStats:
    resource_code: str | None
    interface: str
    calls: int
    refused: int
    failed: int
    p50: float | None
    p95: float | None
    p99: float | None
    min_ms: float
    avg_ms: float
    max_ms: float
    last_success_at: datetime | None
    last_failure_at: datetime | None

    @property
    def error_rate(self) -> float:
        return (self.refused + self.failed) / self.calls if self.calls else 0.0


def interfaces(session: Session, w: Window, *, org_id: int | None = None) -> list[InterfaceStats]:
    """Per resource and interface kind. Counts are the organisation's own calls; percentiles
    are over every caller of the interface (the histogram is not kept per caller) and over the
    whole city days the window touches (the histogram is daily)."""
    keys = (CallHour.resource_code, CallHour.interface)
    query = (select(*keys, func.sum(CallHour.calls), func.sum(CallHour.refused),
                           func.sum(CallHour.failed), func.min(CallHour.latency_min),
                           func.sum(CallHour.latency_sum), func.max(CallHour.latency_max),
                           func.max(CallHour.last_success_at), func.max(CallHour.last_failure_at))
                    .group_by(*keys).order_by(*keys)).where(*_where(w, org_id))
    found = list(session.execute(query))
    histograms: dict[tuple[str | None, str], list[tuple[int, int]]] = defaultdict(list)
    hq = (select(LatencyDay.resource_code, LatencyDay.interface, LatencyDay.bucket,
                 func.sum(LatencyDay.calls))
          .where(LatencyDay.day >= city_day(w.start), LatencyDay.day < w.end)
          .group_by(LatencyDay.resource_code, LatencyDay.interface, LatencyDay.bucket))
    if org_id is not None:
        hq = hq.where(LatencyDay.resource_code.in_({r[0] for r in found if r[0] is not None}))
    for code, kind, bucket, n in session.execute(hq):
        histograms[(code, kind)].append((int(bucket), int(n)))
    stats = []
    for code, kind, calls, refused, failed, low, total, high, ok_at, bad_at in found:
        p50, p95, p99 = percentiles(histograms[(code, kind)], (0.5, 0.95, 0.99),
                                    float(low), float(high))
        stats.append(InterfaceStats(code, kind, int(calls), int(refused), int(failed),
                                    p50, p95, p99, float(low), float(total) / int(calls),
                                    float(high), ok_at, bad_at))
    return stats
