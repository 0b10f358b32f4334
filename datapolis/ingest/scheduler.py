"""The scheduler inside `datapolis serve`: runs due snapshot and incremental jobs on worker
threads, one run per job at a time, retrying transient failures with backoff; keeps every
enabled cdc job streaming on a thread of its own, restarted after a transient failure."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from datapolis.errors import UserError
from datapolis.ingest import jobs, land, stream
from datapolis.ingest.errors import SourceError
from datapolis.ingest.models import Source, SourceTableChoice, SyncJob, SyncRun
from datapolis.ingest.schedules import RetryPolicy, Schedule, parse_schedule
from datapolis.registry.base import utcnow

log = logging.getLogger(__name__)


@dataclass
class _Plan:
    schedule: Schedule
    next_at: datetime
    failures: int = 0  # consecutive transient failures


@dataclass
class _Stream:
    changed_at: datetime  # when the job or its source was last changed
    stop: threading.Event
    thread: threading.Thread | None = None
    next_at: datetime | None = None  # a retry waiting for its time
    failures: int = 0  # consecutive transient failures with nothing committed in between
    halted: bool = False  # a terminal failure: waits until the job or its source changes


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
        self._streams: dict[str, _Stream] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="datapolis-job")
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def next_run(self, job_code: str) -> datetime | None:
        """When the job runs next; for a cdc job, when a failed stream is retried."""
        with self._lock:
            plan = self._plans.get(job_code)
            if plan is not None:
                return plan.next_at
            state = self._streams.get(job_code)
            return state.next_at if state else None

    def streaming(self) -> list[str]:
        """The cdc jobs whose stream thread is alive."""
        with self._lock:
            return sorted(c for c, s in self._streams.items() if s.thread is not None)

    def tick(self) -> list[str]:
        """Start every due job that is not running, and every cdc stream that should run but
        does not; returns the codes started."""
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
        return started + self._start_streams(now)

    def _start_streams(self, now: datetime) -> list[str]:
        wanted = dict(self._cdc_jobs())
        started = []
        with self._lock:
            if self._stop.is_set():
                return []
            for code, running in self._streams.items():
                if code not in wanted or wanted[code] != running.changed_at:
                    running.stop.set()  # disabled or changed: end it; a changed job restarts
            for code, changed_at in wanted.items():
                state = self._streams.get(code)
                if state is not None and state.thread is not None:
                    continue  # running (or ending, after a change): the next tick decides
                if state is None or state.changed_at != changed_at:
                    state = self._streams[code] = _Stream(changed_at, threading.Event())
                if state.halted or (state.next_at is not None and state.next_at > now):
                    continue
                state.stop = threading.Event()
                state.next_at = None
                state.thread = threading.Thread(
                    target=self._stream, args=(code, state), name=f"datapolis-stream-{code}",
                    daemon=True,
                )
                state.thread.start()
                started.append(code)
        return started

    def _cdc_jobs(self) -> list[tuple[str, datetime]]:
        with self.context.registry.session() as session:
            query = (
                select(SyncJob.code, SyncJob.updated_at, SourceTableChoice.updated_at,
                       Source.updated_at)
                .join(SyncJob.table).join(SourceTableChoice.source)
                .where(SyncJob.enabled, SyncJob.mode == "cdc")
            )
            return [(code, max(times)) for code, *times in session.execute(query)]

    def _stream(self, code: str, state: _Stream) -> None:
        def committed(_: stream.StreamStatus) -> None:
            state.failures = 0  # it streamed: a next failure starts the backoff afresh

        outcome: Exception | None = None
        try:
            stream.run_stream(self.context, code, stop_after_idle=None, progress=committed,
                              stop=state.stop)
        except Exception as exc:  # every failure is recorded on the run; keep the thread alive
            outcome = exc
        finally:
            with self._lock:
                state.thread = None
                self._after_stream(code, state, outcome)

    def _after_stream(self, code: str, state: _Stream, outcome: Exception | None) -> None:
        if outcome is None:
            return  # asked to stop: the next tick restarts it if it should still run
        if isinstance(outcome, jobs.JobBusy):  # someone runs it by hand
            state.next_at = self.clock() + self.policy.base
        elif isinstance(outcome, SourceError) and outcome.transient:
            state.failures += 1
            # A stream should always run: past the retries, keep trying at the ceiling.
            delay = self.policy.delay(state.failures) or self.policy.ceiling
            state.next_at = self.clock() + delay
            log.warning("stream %s failed (%s); retry %d in %s", code, outcome,
                        state.failures, delay)
        else:
            state.halted = True
            log.error("stream %s stopped: %s; it restarts when the job or its source is "
                      "changed, or the server restarts", code, outcome)

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

    def run_now(self, code: str) -> bool:
        """Start a snapshot or incremental job at once, off schedule; False when it is already
        running here. cdc jobs stream on their own and are not started this way."""
        with self._lock:
            if self._stop.is_set():
                raise UserError("the server is stopping; try again once it is back")
            if code in self._running:
                return False
            self._running[code] = self._pool.submit(self._run, code)
        return True

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
                plan = self._plans.get(code)  # none for a job without a schedule run by hand
                if plan is not None:
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

    def stop(self, timeout: float = 10.0) -> None:
        """Stop ticking, end every stream at its next heartbeat (about a second, between
        transactions), and wait for running jobs and streams."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self._lock:
            threads = [s.thread for s in self._streams.values() if s.thread is not None]
            for state in self._streams.values():
                state.stop.set()
        for thread in threads:
            thread.join(timeout=timeout)
        self._pool.shutdown(wait=True, cancel_futures=True)
