"""When jobs run: interval or cron schedules, and how failed runs are retried.

Cron lines are read in Asia/Shanghai time ("0 2 * * *" is 02:00 in the bureau, not in UTC);
everything stored and compared is UTC.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from croniter import croniter

from datapolis.errors import UserError

LOCAL_ZONE = ZoneInfo("Asia/Shanghai")
_EVERY = re.compile(r"^every\s+(\d+)\s*(s|m|h|d)$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
MIN_INTERVAL = timedelta(seconds=10)


@dataclass(frozen=True)
class Schedule:
    text: str
    interval: timedelta | None = None
    cron: str | None = None

    def next_after(self, moment: datetime) -> datetime:
        """The first time strictly after `moment` (UTC-aware) that the job is due."""
        if self.interval is not None:
            return moment + self.interval
        assert self.cron is not None
        local = moment.astimezone(LOCAL_ZONE)
        following: datetime = croniter(self.cron, local).get_next(datetime)
        return following.astimezone(UTC)


def parse_schedule(text: str) -> Schedule:
    """`every 30s|5m|2h|1d`, or a five-field cron line such as `*/15 * * * *`."""
    cleaned = " ".join(text.split())
    every = _EVERY.match(cleaned)
    if every:
        interval = timedelta(seconds=int(every.group(1)) * _UNIT_SECONDS[every.group(2).lower()])
        if interval < MIN_INTERVAL:
            raise UserError(f"schedule {text!r} is too frequent; the shortest is every 10s")
        return Schedule(text=cleaned, interval=interval)
    if len(cleaned.split(" ")) == 5 and croniter.is_valid(cleaned):
        return Schedule(text=cleaned, cron=cleaned)
    raise UserError(
        f"schedule {text!r} is neither 'every N s|m|h|d' nor a five-field cron line "
        "(minute hour day month weekday, e.g. '0 2 * * *' for 02:00 every day)"
    )


@dataclass(frozen=True)
class RetryPolicy:
    """Transient failures are retried after base, 2×base, 4×base... up to `attempts` times;
    terminal failures wait for the next scheduled time."""

    base: timedelta = timedelta(seconds=30)
    ceiling: timedelta = timedelta(minutes=30)
    attempts: int = 5

    def delay(self, failures: int) -> timedelta | None:
        """How long to wait after the `failures`-th consecutive transient failure, or None
        when the retries are used up."""
        if failures < 1 or failures > self.attempts:
            return None
        delay: timedelta = min(self.base * 2 ** (failures - 1), self.ceiling)
        return delay
