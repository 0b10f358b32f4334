"""Scheduled quality checks: a table's rules checked on a schedule (trigger `schedule`) as
well as after every sync — for tables no highway job lands in (views, hand-loaded files), for
freshness rules that must fail while nothing lands, and for nightly full checks.

Schedules use the data highway's syntax and arithmetic (`ingest/schedules.py`: `every 6h`, or
a five-field cron line in Asia/Shanghai). A schedule is due at its next time after the start
of its last scheduled run (or after it was set). `QualityScheduler` ticks in `datapolis serve`
beside the highway's scheduler and runs due checks one after another on its own thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from datapolis.errors import NotFound, UserError
from datapolis.ingest.schedules import parse_schedule
from datapolis.quality.models import QualityRun, QualitySchedule
from datapolis.registry.base import utcnow
from datapolis.registry.db import Registry
from datapolis.ticker import Ticker
from datapolis.warehouse.engine import Engine, TableName

log = logging.getLogger(__name__)
TRIGGER = "schedule"


def get_schedule(session: Session, table: str) -> QualitySchedule | None:
    return session.scalar(select(QualitySchedule).where(QualitySchedule.warehouse_table == table))


def set_schedule(session: Session, table: str, text: str, *, actor: str,
                 enabled: bool = True) -> QualitySchedule:
    """Check `table` on `text` (validated: 400 with the accepted forms when it is neither)."""
    TableName.parse(table)
    schedule = parse_schedule(text)
    found = get_schedule(session, table)
    if found is None:
        found = QualitySchedule(warehouse_table=table, schedule=schedule.text,
                                enabled=enabled, updated_by=actor)
        session.add(found)
    else:
        found.schedule, found.enabled, found.updated_by = schedule.text, enabled, actor
    session.flush()
    return found


def remove_schedule(session: Session, table: str) -> None:
    found = get_schedule(session, table)
    if found is None:
        raise NotFound(f"{table} has no quality schedule")
    session.delete(found)
    session.flush()


def list_schedules(session: Session) -> list[QualitySchedule]:
    return list(session.scalars(select(QualitySchedule).order_by(QualitySchedule.warehouse_table)))


def next_due(session: Session, item: QualitySchedule) -> datetime:
    last = session.scalar(select(func.max(QualityRun.started_at)).where(
        QualityRun.warehouse_table == item.warehouse_table, QualityRun.trigger == TRIGGER))
    since = max(t for t in (last, item.updated_at) if t is not None)
    return parse_schedule(item.schedule).next_after(since)


def due(session: Session, now: datetime) -> list[str]:
    """Tables whose enabled schedule is due at `now`."""
    out = []
    for item in list_schedules(session):
        if not item.enabled:
            continue
        try:
            if next_due(session, item) <= now:
                out.append(item.warehouse_table)
        except UserError as exc:  # a schedule stored before its syntax changed
            log.error("quality schedule of %s is unusable: %s", item.warehouse_table, exc)
    return out


class QualityScheduler(Ticker):
    """Runs due scheduled checks; `tick` is the unit tests drive, `start` ticks on a thread."""

    name = "datapolis-quality-schedule"
    failure = "quality scheduler tick failed"
    every = 30.0
    stop_timeout = 30.0  # a check under way finishes first

    def __init__(self, registry: Registry, warehouse: Engine, *,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.registry, self.warehouse, self.clock = registry, warehouse, clock
        super().__init__()

    def tick(self) -> list[str]:
        """Check every due table now; returns the tables checked (failed checks included:
        their run is stored with its error, and the next time is counted from its start)."""
        from datapolis.quality.service import run_table  # service imports the issue loop

        with self.registry.session() as session:
            tables = due(session, self.clock())
        for table in tables:
            if self.stopping:
                break
            try:
                run_table(self.registry, self.warehouse, table, trigger=TRIGGER)
            except Exception as exc:  # stored on the run; the scheduler keeps going
                log.warning("scheduled quality check of %s failed: %s", table, exc)
        return tables
