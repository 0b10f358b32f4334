"""The monitor: one background thread in `datapolis serve` that rolls up the new call records
and evaluates the alerts, every `sharing_monitor_seconds`. `run_once` is what the thread, the
CLI (`datapolis sharing alerts --evaluate`) and the API's refresh call."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from datapolis.registry.base import utcnow
from datapolis.registry.db import Registry
from datapolis.sharing.monitoring import rollup
from datapolis.sharing.monitoring.alerts import Rules, evaluate
from datapolis.sharing.monitoring.rollup import HOUR
from datapolis.ticker import Ticker

log = logging.getLogger(__name__)
ALERT_LOOKBACK = 24 * HOUR  # a first run (or a long outage) raises alerts for one day, not years
HOURS_PER_RUN = 24 * 7  # a backfill of the rollup goes a week per run, so a run stays short


@dataclass(frozen=True)
class RunResult:
    hours_rolled: int
    alerts_touched: int


def run_once(session: Session, rules: Rules, *, now: datetime | None = None,
             max_hours: int | None = HOURS_PER_RUN) -> RunResult:
    now = now or utcnow()
    rollup.state(session, lock=True)  # one run at a time (see rollup.state)
    pending = rollup.pending_hours(session, now)
    hours = rollup.refresh(session, now, max_hours=max_hours)
    since = max(pending[0] if pending else now - HOUR, now - ALERT_LOOKBACK)
    current = rollup.state(session)
    caught_up = not rollup.pending_hours(session, now)[:-2]  # at most the last two re-rolled
    touched = evaluate(session, rules, since=since, now=now, spikes=caught_up)
    current.evaluated_at = now
    session.flush()
    return RunResult(len(hours), len(touched))


class Monitor(Ticker):
    name = "sharing-monitor"
    failure = "sharing monitor run failed"
    transient = (SQLAlchemyError,)

    def __init__(self, registry: Registry, rules: Rules) -> None:
        self.registry, self.rules = registry, rules
        super().__init__()

    def tick(self) -> RunResult:
        with self.registry.session() as session:
            return run_once(session, self.rules)
