"""The monitor: one background thread in `datapolis serve` that rolls up the new call records
and evaluates the alerts, every `sharing_monitor_seconds`. `run_once` is what the thread, the
CLI (`datapolis sharing alerts --evaluate`) and the API's refresh call."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from datapolis.registry.base import utcnow
from datapolis.registry.db import Registry
from datapolis.sharing.monitoring import rollup
from datapolis.sharing.monitoring.alerts import Rules, evaluate
from datapolis.sharing.monitoring.rollup import HOUR

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


class Monitor:
    def __init__(self, registry: Registry, rules: Rules) -> None:
        self.registry, self.rules = registry, rules
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self) -> RunResult:
        with self.registry.session() as session:
            return run_once(session, self.rules)

    def start(self, every: float) -> None:
        def loop() -> None:
            while not self._stop.wait(every):
                try:
                    self.tick()
                except SQLAlchemyError as exc:  # registry away for a moment: try next time
                    log.warning("sharing monitor run failed: %s", exc.__class__.__name__)

        self._thread = threading.Thread(target=loop, name="sharing-monitor", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
