"""The Meter: call records written off the request path, durably, and quotas enforced from them.

`submit` journals the record (one `write()`, see journal.py) and queues it; a writer thread
commits the queue to `share_calls` in one transaction every `flush_every` seconds, or sooner
when `batch_size` records wait. Quotas count the records in the registry plus this run's records,
flushed or not, so a call is counted from the moment it is submitted.
"""

from __future__ import annotations

import itertools
import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol, cast

from sqlalchemy import Connection, Table, and_, func, insert, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from datapolis.registry.base import utcnow
from datapolis.registry.db import Registry
from datapolis.sharing.metering.journal import Journal, read_segment
from datapolis.sharing.metering.limits import TokenBucket, day_bounds, quota_day
from datapolis.sharing.metering.models import ShareCall
from datapolis.sharing.metering.records import Call, to_journal, to_row

log = logging.getLogger(__name__)
CALLS = cast(Table, ShareCall.__table__)
CHUNK = 500  # record ids per existence check when replaying


class GrantLimits(Protocol):
    """What admit() reads of a grant (sharing.grants.service.ActiveGrant has it)."""

    @property
    def id(self) -> int: ...
    @property
    def calls_per_day(self) -> int | None: ...
    @property
    def rows_per_day(self) -> int | None: ...
    @property
    def rate_per_second(self) -> float | None: ...


@dataclass
class _Baseline:
    loaded: float  # monotonic clock
    calls: int
    rows: int


class Meter:
    def __init__(
        self,
        registry: Registry,
        journal_dir: Path | None,
        *,
        flush_every: float = 0.2,
        batch_size: int = 1000,
        rotate_bytes: int = 8 << 20,
        baseline_ttl: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.registry = registry
        self.journal = Journal(journal_dir) if journal_dir is not None else None
        self.flush_every, self.batch_size = flush_every, batch_size
        self.rotate_bytes, self.baseline_ttl, self.clock = rotate_bytes, baseline_ttl, clock
        self.run_id = secrets.token_hex(8)  # record ids are "<run><seq>", 32 hex digits
        self._seq = itertools.count(1)
        self._lock = threading.Lock()  # pending, journal appends, counters
        self._write_lock = threading.Lock()  # one flush at a time
        self._pending: list[tuple[str, Call]] = []
        self._sealed: list[Path] = []  # rotated segments to delete after the next commit
        self._open = False
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # quotas: (grant, day) -> [calls, rows] submitted by this run; registry baselines
        self._counts: dict[tuple[int, date], list[int]] = {}
        self._baselines: dict[tuple[int, date], _Baseline] = {}
        self._buckets: dict[int, TokenBucket] = {}
        self.submitted = 0
        self.committed = 0
        self.replayed = 0

    # -- life cycle ---------------------------------------------------------------------
    def start(self, *, thread: bool = True) -> None:
        """Open the journal, replay what a killed run left, start the writer thread."""
        leftovers = self.journal.open() if self.journal is not None else []
        self._open = True
        if leftovers:
            try:
                self.replayed = replay(self.registry, leftovers)
            except SQLAlchemyError as exc:  # keep the segments for the next start
                log.error("call-record journal not replayed (%s); kept for the next start",
                          exc.__class__.__name__)
            else:
                for path in leftovers:
                    path.unlink(missing_ok=True)
        if thread:
            self._thread = threading.Thread(target=self._run, name="meter-writer", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Flush everything submitted, then close; on a registry failure the journal keeps
        the records for the next start."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        with self._lock:
            self._open = False
        try:
            self.flush()
        except SQLAlchemyError as exc:
            log.error("call records not flushed at shutdown (%s); the journal keeps them",
                      exc.__class__.__name__)
        if self.journal is not None:
            with self._lock:
                done = not self._pending
            self.journal.close(remove_current=done)
            if done:
                for path in self._sealed:
                    path.unlink(missing_ok=True)

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            self._wake.wait(self.flush_every * (1 << min(failures, 5)))
            self._wake.clear()
            try:
                self.flush()
                failures = 0
            except SQLAlchemyError as exc:  # registry away for a moment: keep and retry
                failures += 1
                log.warning("call records not flushed yet (%s); retrying",
                            exc.__class__.__name__)
            except Exception:  # never let the writer die silently
                failures += 1
                log.exception("call-record writer failed; retrying")

    # -- the request path ---------------------------------------------------------------
    def submit(self, call: Call) -> None:
        """Journal and queue one record; never waits for the registry."""
        record_id = f"{self.run_id}{next(self._seq):016x}"
        line = to_journal(record_id, call) if self.journal is not None else b""
        counted = call.grant_id is not None and call.status < 400
        day = quota_day(call.request_at)
        with self._lock:
            if not self._open:
                raise RuntimeError("the meter is not running")
            if self.journal is not None:
                self.journal.append(line)
            self._pending.append((record_id, call))
            self.submitted += 1
            if counted:
                assert call.grant_id is not None
                count = self._counts.setdefault((call.grant_id, day), [0, 0])
                count[0] += 1
                count[1] += call.rows
            waiting = len(self._pending)
        if waiting >= self.batch_size:
            self._wake.set()

    def admit(self, grant: GrantLimits, *, rows: int = 0,
              now: datetime | None = None) -> str | None:
        """None if a call under `grant` may proceed, else the error code refusing it."""
        moment = now or utcnow()
        if grant.calls_per_day is not None or grant.rows_per_day is not None:
            calls, used_rows = self.usage(grant.id, quota_day(moment))
            if grant.calls_per_day is not None and calls >= grant.calls_per_day:
                return "quota_calls"
            if grant.rows_per_day is not None and (
                used_rows >= grant.rows_per_day or used_rows + rows > grant.rows_per_day
            ):
                return "quota_rows"
        if grant.rate_per_second is not None:
            tick = self.clock()
            with self._lock:
                bucket = self._buckets.get(grant.id)
                if bucket is None or bucket.rate != grant.rate_per_second:
                    bucket = self._buckets[grant.id] = TokenBucket.full(
                        grant.rate_per_second, tick)
                if not bucket.take(tick):
                    return "rate_limited"
        return None

    def usage(self, grant_id: int, day: date) -> tuple[int, int]:
        """Successful calls and rows returned under a grant on a quota day, unflushed included."""
        key = (grant_id, day)
        baseline = self._baselines.get(key)
        if baseline is None or self.clock() - baseline.loaded > self.baseline_ttl:
            baseline = self._load_baseline(grant_id, day)
            self._baselines[key] = baseline
        with self._lock:
            own = self._counts.get(key, [0, 0])
            return baseline.calls + own[0], baseline.rows + own[1]

    def _load_baseline(self, grant_id: int, day: date) -> _Baseline:
        """Records of other runs (earlier ones, other servers); this run's are counted live."""
        loaded = self.clock()
        with self.registry.engine.connect() as connection:
            calls, rows = committed_usage(connection, grant_id, day, except_run=self.run_id)
        return _Baseline(loaded=loaded, calls=calls, rows=rows)

    # -- the writer ---------------------------------------------------------------------
    def flush(self) -> None:
        """Commit every record submitted so far, in one transaction (any thread may call it)."""
        with self._write_lock:
            with self._lock:
                batch, self._pending = self._pending, []
                if self.journal is not None and self.journal.size >= self.rotate_bytes:
                    self._sealed.append(self.journal.rotate())
                sealed = list(self._sealed)
            if self.journal is not None:
                self.journal.sync()
            if batch:
                try:
                    _commit(self.registry, [to_row(rid, call) for rid, call in batch])
                except BaseException:
                    with self._lock:
                        self._pending[:0] = batch
                    raise
            self.committed += len(batch)
            for path in sealed:  # every record in them is committed now
                path.unlink(missing_ok=True)
            self._sealed = self._sealed[len(sealed):]
            self._forget_old_days()

    def _forget_old_days(self) -> None:
        oldest = quota_day(utcnow()) - timedelta(days=1)
        with self._lock:
            for key in [k for k in self._counts if k[1] < oldest]:
                del self._counts[key]
            for key in [k for k in self._baselines if k[1] < oldest]:
                del self._baselines[key]

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._pending)


def committed_usage(connection: Connection | Session, grant_id: int, day: date, *,
                    except_run: str | None = None) -> tuple[int, int]:
    """Successful calls and rows under a grant on a quota day, as committed to the registry
    (leaving out the records of run `except_run`)."""
    start, end = day_bounds(day)
    query = select(func.count(), func.coalesce(func.sum(CALLS.c.rows_out), 0)).where(
        and_(CALLS.c.grant_id == grant_id, CALLS.c.request_at >= start,
             CALLS.c.request_at < end, CALLS.c.status < 400))
    if except_run is not None:
        query = query.where(CALLS.c.record_id.not_like(f"{except_run}%"))
    calls, rows = connection.execute(query).one()
    return int(calls), int(rows)


def _commit(registry: Registry, rows: Sequence[dict[str, Any]]) -> None:
    try:
        with registry.engine.begin() as connection:
            connection.execute(insert(CALLS), list(rows))
    except IntegrityError:
        # An earlier attempt committed but its answer was lost: insert only what is missing.
        with registry.engine.begin() as connection:
            insert_missing(connection, rows)


def insert_missing(connection: Connection, rows: Sequence[dict[str, Any]]) -> int:
    """Insert the rows whose record_id is not in share_calls yet; return how many."""
    inserted = 0
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start:start + CHUNK]
        ids = [row["record_id"] for row in chunk]
        present = set(connection.scalars(
            select(CALLS.c.record_id).where(CALLS.c.record_id.in_(ids))))
        todo = [row for row in chunk if row["record_id"] not in present]
        if todo:
            connection.execute(insert(CALLS), todo)
            inserted += len(todo)
    return inserted


def replay(registry: Registry, segments: Iterable[Path]) -> int:
    """Commit the records of journal segments that the registry lacks; return how many."""
    inserted = 0
    for path in segments:
        rows = [to_row(rid, call) for rid, call in read_segment(path)]
        with registry.engine.begin() as connection:
            missing = insert_missing(connection, rows)
        inserted += missing
        if rows:
            log.info("call-record journal %s replayed: %d of %d records were missing",
                     path.name, missing, len(rows))
    return inserted
