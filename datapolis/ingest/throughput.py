"""Rows landed per minute and lag, per job: what the highway's live charts draw.

A run reports its running totals (streams every second, batch runs at their end); the rows
added since its last report go to the current minute's bucket. One row per job and minute, so a
stream costs 1,440 registry rows a day; buckets older than `KEEP` are dropped as new ones open.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from datapolis.ingest.models import SyncMinute

KEEP = timedelta(days=30)


def minute_of(at: datetime) -> datetime:
    return at.replace(second=0, microsecond=0)


def record(session: Session, *, job_id: int, at: datetime, rows: int,
           lag_seconds: float | None) -> None:
    """Add `rows` (landed since the run's last report) and the lag seen `at` to its minute."""
    minute = minute_of(at)
    bucket = session.scalar(select(SyncMinute).where(SyncMinute.job_id == job_id,
                                                     SyncMinute.minute == minute))
    if bucket is None:
        session.execute(delete(SyncMinute).where(SyncMinute.job_id == job_id,
                                                 SyncMinute.minute < minute - KEEP))
        bucket = SyncMinute(job_id=job_id, minute=minute, rows=0, lag_max=None)
        session.add(bucket)
    bucket.rows += max(rows, 0)
    if lag_seconds is not None:
        bucket.lag_max = max(bucket.lag_max or 0.0, lag_seconds)


@dataclass(frozen=True)
class Series:
    """One value per minute from `start`, oldest first; minutes without a report are 0 rows
    and no lag."""

    start: datetime
    rows: list[int]
    lag_max: list[float | None]

    @property
    def minutes(self) -> list[datetime]:
        return [self.start + timedelta(minutes=n) for n in range(len(self.rows))]


def last_minutes(session: Session, *, job_ids: Collection[int] | None, now: datetime,
                 minutes: int = 60) -> Series:
    """Rows per minute summed over `job_ids` (None: every job), and the worst lag among them,
    for the `minutes` minutes up to and including `now`'s."""
    start = minute_of(now) - timedelta(minutes=minutes - 1)
    query = (select(SyncMinute.minute, func.sum(SyncMinute.rows), func.max(SyncMinute.lag_max))
             .where(SyncMinute.minute >= start).group_by(SyncMinute.minute))
    if job_ids is not None:
        query = query.where(SyncMinute.job_id.in_(job_ids))
    rows: list[int] = [0] * minutes
    lags: list[float | None] = [None] * minutes
    for minute, total, lag in session.execute(query):
        index = int((minute - start).total_seconds() // 60)
        if 0 <= index < minutes:
            rows[index], lags[index] = int(total or 0), lag
    return Series(start, rows, lags)

