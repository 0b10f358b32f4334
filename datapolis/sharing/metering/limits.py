"""Rate limits: one token bucket per grant, and the quota day (Asia/Shanghai)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

QUOTA_ZONE = ZoneInfo("Asia/Shanghai")  # a day's quota resets at midnight in the city


def quota_day(moment: datetime) -> date:
    return moment.astimezone(QUOTA_ZONE).date()


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC instants a quota day starts and ends (half-open)."""
    start = datetime.combine(day, time(0), tzinfo=QUOTA_ZONE).astimezone(UTC)
    return start, start + timedelta(days=1)


@dataclass
class TokenBucket:
    """`rate` tokens a second, holding at most `capacity` (the burst a caller may make)."""

    rate: float
    capacity: float
    tokens: float
    stamp: float

    @classmethod
    def full(cls, rate: float, now: float) -> TokenBucket:
        capacity = max(1.0, rate)
        return cls(rate=rate, capacity=capacity, tokens=capacity, stamp=now)

    def take(self, now: float) -> bool:
        if now > self.stamp:
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False
