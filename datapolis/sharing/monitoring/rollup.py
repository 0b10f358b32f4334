"""The hourly rollup of the call records, and the daily latency histogram percentiles come from.

`refresh` re-rolls whole hours from `share_calls` (delete the hour, insert it again from one
GROUP BY), so it is idempotent and needs no date functions (the hour is a bound parameter): the
same SQL on SQLite and PostgreSQL. Each run re-rolls the hour before its watermark and every
hour holding calls it has not seen yet (ids above the last one rolled), so records a batch
writer commits late, even after a restart, still land in their hour.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

from sqlalchemy import SmallInteger, case, delete, func, insert, literal, literal_column, select
from sqlalchemy.orm import Session

from datapolis.registry.base import UTCDateTime
from datapolis.sharing.monitoring import queries
from datapolis.sharing.monitoring.models import CallHour, LatencyDay, MonitorState
from datapolis.web.render import SHOWN_ZONE

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
# Latency buckets: eighth-octave steps from 0.25 ms to beyond 10 minutes, so a percentile read
# from the histogram is within about 4.5 % of the true value.
BOUNDS: tuple[float, ...] = tuple(0.25 * 2 ** (i / 8) for i in range(172))


def floor_hour(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _bucket_sql(low: int = 0, high: int = len(BOUNDS)) -> str:
    """Bucket number of latency_ms as a nested CASE (a binary search: 8 comparisons a row).
    Bucket b holds BOUNDS[b-1] <= latency < BOUNDS[b]; the bounds are constants of this module,
    so inlining them is safe."""
    if low == high:
        return str(low)
    mid = (low + high) // 2
    return (f"CASE WHEN latency_ms < {BOUNDS[mid]!r} THEN {_bucket_sql(low, mid)} "
            f"ELSE {_bucket_sql(mid + 1, high)} END")


BUCKET_SQL = _bucket_sql()


def bucket_of(latency_ms: float) -> int:
    return bisect.bisect_right(BOUNDS, latency_ms)


def _roll_hour(session: Session, hour: datetime) -> None:
    c = queries.c
    end = hour + HOUR
    in_hour = (c.request_at >= hour, c.request_at < end)
    session.execute(delete(CallHour).where(CallHour.hour == hour))
    keys = (c.consumer_org_id, c.provider_org_id, c.app_id, c.resource_code, c.interface)
    rolled = (select(literal(hour, UTCDateTime()), *keys, func.count(),
                     func.sum(case((c.status.between(400, 499), 1), else_=0)),
                     func.sum(case((c.status >= 500, 1), else_=0)),
                     func.sum(c.rows_out), func.sum(c.bytes_out),
                     func.coalesce(func.sum(c.latency_ms), 0.0),
                     func.coalesce(func.min(c.latency_ms), 0.0),
                     func.coalesce(func.max(c.latency_ms), 0.0),
                     func.max(case((c.status < 400, c.response_at))),
                     func.max(case((c.status >= 500, c.response_at))))
              .where(*in_hour).group_by(*keys))
    session.execute(insert(CallHour).from_select(
        ["hour", "consumer_org_id", "provider_org_id", "app_id", "resource_code", "interface",
         "calls", "refused", "failed", "rows", "bytes", "latency_sum", "latency_min",
         "latency_max", "last_success_at", "last_failure_at"], rolled))


def city_day(moment: datetime) -> datetime:
    """The UTC instant of the city's midnight that starts the day `moment` falls in."""
    local = moment.astimezone(SHOWN_ZONE)
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)


def _roll_day(session: Session, day: datetime) -> None:
    c = queries.c
    session.execute(delete(LatencyDay).where(LatencyDay.day == day))
    bucket = literal_column(BUCKET_SQL, SmallInteger()).label("bucket")
    inner = (select(c.resource_code, c.interface, bucket)
             .where(c.request_at >= day, c.request_at < day + DAY).subquery())
    histogram = (select(literal(day, UTCDateTime()), inner.c.resource_code, inner.c.interface,
                        inner.c.bucket, func.count())
                 .group_by(inner.c.resource_code, inner.c.interface, inner.c.bucket))
    session.execute(insert(LatencyDay).from_select(
        ["day", "resource_code", "interface", "bucket", "calls"], histogram))


def state(session: Session, *, lock: bool = False) -> MonitorState:
    """The watermark row; `lock` holds it (PostgreSQL: FOR UPDATE) until the transaction ends,
    so two runs (the server's thread and a CLI or API run) never re-roll an hour at once and
    count it twice. SQLite serialises writers by itself."""
    found = session.get(MonitorState, 1, with_for_update=lock)
    if found is None:
        found = MonitorState(id=1, last_call_id=0, rolled_until=None, evaluated_at=None)
        session.add(found)
        session.flush()
    return found


def pending_hours(session: Session, now: datetime) -> list[datetime]:
    """The hours the next refresh re-rolls, oldest first."""
    current = state(session)
    starts: list[datetime] = []
    if current.rolled_until is not None:
        starts.append(current.rolled_until - HOUR)
    unseen = queries.first_request_at(session, after_id=current.last_call_id)
    if unseen is not None:
        starts.append(floor_hour(unseen))
    if not starts:
        return []
    hour, last = floor_hour(min(starts)), floor_hour(now)
    hours = []
    while hour <= last:
        hours.append(hour)
        hour += HOUR
    return hours


def refresh(session: Session, now: datetime, *, max_hours: int | None = None,
            progress: Callable[[int, int], None] | None = None) -> list[datetime]:
    """Roll up the hours that need it (at most `max_hours`, oldest first, for a backfill in
    steps); returns the hours rolled."""
    current = state(session, lock=True)
    seen = queries.last_call_id(session)  # read first: later calls are re-rolled next time
    hours = pending_hours(session, now)
    if max_hours is not None:
        hours = hours[:max_hours]
    days = sorted({city_day(hour) for hour in hours})
    for done, hour in enumerate(hours, 1):
        _roll_hour(session, hour)
        if progress is not None:
            progress(done, len(hours) + len(days))
    for done, day in enumerate(days, len(hours) + 1):
        _roll_day(session, day)
        if progress is not None:
            progress(done, len(hours) + len(days))
    if hours:
        current.rolled_until = max(hours[-1], current.rolled_until or hours[-1])
    current.last_call_id = max(current.last_call_id, seen)
    session.flush()
    return hours


def percentiles(histogram: Iterable[tuple[int, int]], points: Iterable[float],
                low: float, high: float) -> list[float | None]:
    """Percentiles (0 < p < 1) from (bucket, calls) pairs, interpolated geometrically within a
    bucket and kept within the observed [low, high]."""
    counts: dict[int, int] = {}
    for number, n in histogram:
        counts[number] = counts.get(number, 0) + n
    total = sum(counts.values())
    if total == 0:
        return [None for _ in points]
    ordered = sorted(counts.items())
    found: list[float | None] = []
    for p in points:
        rank, seen = p * total, 0
        for bucket, n in ordered:
            if seen + n >= rank:
                lower = BOUNDS[bucket - 1] if bucket > 0 else low
                upper = BOUNDS[bucket] if bucket < len(BOUNDS) else high
                lower, upper = max(lower, low, 1e-6), max(min(upper, high), 1e-6)
                share = (rank - seen) / n if n else 1.0
                value = lower * math.exp(math.log(upper / lower) * share) if upper > lower \
                    else upper
                found.append(min(max(value, low), high))
                break
            seen += n
    return found
