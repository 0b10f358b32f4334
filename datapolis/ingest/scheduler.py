"""The scheduler inside `datapolis serve`: runs due snapshot and incremental jobs on worker
threads, one run per job at a time, retrying transient failures with backoff."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from datapolis.errors import UserError
from datapolis.ingest import jobs, land
from datapolis.ingest.errors import SourceError
from datapolis.ingest.models import SyncJob, SyncRun
from datapolis.ingest.schedules import RetryPolicy, Schedule, parse_schedule
from datapolis.registry.base import utcnow

log = logging.getLogger(__name__)


@dataclass
class _Plan:
    schedule: Schedule
    next_at: datetime
    failures: int = 0  # consecutive transient failures


class Scheduler:
    def __init__(
        self,
        context: jobs.RunContext,
        *,
        policy: RetryPolicy | None = None,
        clock: Callable[[], datetime] = utcnow,
        workers: int = 2,
    ) -> None:
        self.context, self.policy, self.clock = context, policy or RetryPolicy(), clock
        # Created before any worker runs: DuckDB's catalog refuses concurrent creation.
        land.ensure_offsets(context.warehouse)
        self._plans: dict[str, _Plan] = {}
        self._running: dict[str, Future[None]] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="datapolis-job")
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def next_run(self, job_code: str) -> datetime | None:
        with self._lock:
            plan = self._plans.get(job_code)
            return plan.next_at if plan else None

    def tick(self) -> list[str]:
        """Start every due job that is not running; returns the codes started."""
        now = self.clock()
        started = []
        for code, schedule, last_start in self._scheduled_jobs():
            with self._lock:
                plan = self._plans.get(code)
                if plan is None or plan.schedule != schedule:
                    first = schedule.next_after(last_start) if last_start else now
                    plan = self._plans[code] = _Plan(schedule, first)
                if plan.next_at > now or code in self._running:
                    continue
                self._running[code] = self._pool.submit(self._run, code)
            started.append(code)
        return started

    def _scheduled_jobs(self) -> list[tuple[str, Schedule, datetime | None]]:
        found: list[tuple[str, Schedule, datetime | None]] = []
        with self.context.registry.session() as session:
            last_start = (
                select(SyncRun.started_at)
                .where(SyncRun.job_id == SyncJob.id)
                .order_by(SyncRun.started_at.desc())
                .limit(1)
                .scalar_subquery()
            )
            query = select(SyncJob.code, SyncJob.schedule, last_start).where(
                SyncJob.enabled, SyncJob.schedule.is_not(None), SyncJob.mode != "cdc"
            )
            for code, text, last in session.execute(query):
                try:
                    found.append((code, parse_schedule(text or ""), last))
                except UserError as exc:
                    log.error("job %s has an unusable schedule: %s", code, exc)
        return found

    def _run(self, code: str) -> None:
        started = self.clock()
        outcome: Exception | None = None
        try:
            jobs.run_job(self.context, code)
        except Exception as exc:  # every failure is recorded on the run; keep the thread alive
            outcome = exc
            log.warning("job %s failed: %s", code, exc)
        finally:
            with self._lock:
                self._running.pop(code, None)
                plan = self._plans[code]
                self._reschedule(plan, started, outcome)

    def _reschedule(self, plan: _Plan, started: datetime, outcome: Exception | None) -> None:
        if isinstance(outcome, jobs.JobBusy):
            plan.next_at = self.clock() + self.policy.base
            return
        if isinstance(outcome, SourceError) and outcome.transient:
            plan.failures += 1
            delay = self.policy.delay(plan.failures)
            if delay is not None:
                plan.next_at = self.clock() + delay
                return
        plan.failures = 0
        plan.next_at = plan.schedule.next_after(max(started, self.clock()))

    def wait_idle(self, timeout: float = 60.0) -> None:
        """Block until the runs started so far have finished (tests, shutdown)."""
        with self._lock:
            running = list(self._running.values())
        for future in running:
            future.result(timeout=timeout)

    def start(self, every: float = 1.0) -> None:
        def loop() -> None:
            while not self._stop.wait(every):
                try:
                    self.tick()
                except Exception:
                    log.exception("scheduler tick failed")

        self._thread = threading.Thread(target=loop, name="datapolis-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._pool.shutdown(wait=True, cancel_futures=True)
