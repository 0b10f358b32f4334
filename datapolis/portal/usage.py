"""Usage counting: views, downloads and API calls per dataset and day.

Counting must cost a request next to nothing, so hits go into an in-process tally and are
written in batches: when `FLUSH_EVERY` hits are pending, when the oldest pending one is
`FLUSH_SECONDS` old, and when the server stops. A flush adds each pending count to its row
(`count = count + n`), so several serving processes may flush into the same rows.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from datetime import UTC, date, datetime
from typing import Literal

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import InstrumentedAttribute, Session

from datapolis.errors import UserError
from datapolis.portal.models import DatasetUsage
from datapolis.registry.db import Registry

log = logging.getLogger(__name__)

Kind = Literal["view", "download", "api"]
KINDS: tuple[Kind, ...] = ("view", "download", "api")
FLUSH_EVERY = 200
FLUSH_SECONDS = 10.0


_Key = tuple[str, str, date, str]


class UsageCounter:
    """The process's pending counts; `record` is what routes call."""

    def __init__(self, registry: Registry, *, flush_every: int = FLUSH_EVERY,
                 flush_seconds: float = FLUSH_SECONDS) -> None:
        self.registry = registry
        self.flush_every = flush_every
        self.flush_seconds = flush_seconds
        self._pending: Counter[_Key] = Counter()
        self._since: float | None = None
        self._lock = threading.Lock()

    def record(self, dataset_code: str, org_code: str, kind: Kind, n: int = 1) -> None:
        if kind not in KINDS:
            raise UserError(f"unknown usage kind {kind!r}; known: {', '.join(KINDS)}")
        with self._lock:
            self._pending[(dataset_code, org_code, datetime.now(UTC).date(), kind)] += n
            if self._since is None:
                self._since = time.monotonic()
            due = (sum(self._pending.values()) >= self.flush_every
                   or time.monotonic() - self._since >= self.flush_seconds)
        if due:
            self.flush()

    @property
    def pending(self) -> int:
        with self._lock:
            return sum(self._pending.values())

    def flush(self) -> int:
        """Write every pending count; returns how many hits were written. A failed write
        keeps the counts pending for the next flush."""
        with self._lock:
            batch, self._pending, self._since = self._pending, Counter(), None
        if not batch:
            return 0
        try:
            with self.registry.session() as session:
                add_counts(session, batch)
        except SQLAlchemyError as exc:
            log.warning("usage counts not written yet: %s", exc.__class__.__name__)
            with self._lock:
                self._pending.update(batch)
                self._since = self._since or time.monotonic()
            return 0
        return sum(batch.values())


def add_counts(session: Session, counts: Counter[_Key]) -> None:
    for (code, org, day, kind), n in sorted(counts.items()):
        where = (DatasetUsage.dataset_code == code, DatasetUsage.day == day,
                 DatasetUsage.kind == kind)
        changed = session.execute(update(DatasetUsage).where(*where)
                                  .values(count=DatasetUsage.count + n)
                                  .returning(DatasetUsage.id)).first()
        if changed is not None:
            continue
        try:
            with session.begin_nested():
                session.add(DatasetUsage(dataset_code=code, org_code=org, day=day, kind=kind,
                                         count=n))
        except IntegrityError:  # another process inserted the row first
            session.execute(update(DatasetUsage).where(*where)
                            .values(count=DatasetUsage.count + n))


def _totals(session: Session, column: InstrumentedAttribute[str], since: date | None
            ) -> dict[str, dict[str, int]]:
    query = select(column, DatasetUsage.kind, func.sum(DatasetUsage.count)).group_by(
        column, DatasetUsage.kind)
    if since is not None:
        query = query.where(DatasetUsage.day >= since)
    totals: dict[str, dict[str, int]] = {}
    for key, kind, count in session.execute(query):
        totals.setdefault(str(key), dict.fromkeys(KINDS, 0))[kind] = int(count or 0)
    return totals


def by_dataset(session: Session, since: date | None = None) -> dict[str, dict[str, int]]:
    """Dataset code -> kind -> count (from `since` on, or ever)."""
    return _totals(session, DatasetUsage.dataset_code, since)


def by_organisation(session: Session, since: date | None = None
                    ) -> dict[str, dict[str, int]]:
    return _totals(session, DatasetUsage.org_code, since)


def daily(session: Session, dataset_code: str) -> list[tuple[date, str, int]]:
    """(day, kind, count) of one dataset, oldest first: what a chart draws."""
    rows = session.execute(
        select(DatasetUsage.day, DatasetUsage.kind, DatasetUsage.count)
        .where(DatasetUsage.dataset_code == dataset_code)
        .order_by(DatasetUsage.day, DatasetUsage.kind))
    return [(day, kind, int(count)) for day, kind, count in rows]
