"""Rows per minute and lag per job: recorded as runs report, summed for the live charts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from datapolis.ingest import throughput
from datapolis.ingest.models import Source, SourceTableChoice, SyncJob, SyncMinute
from datapolis.orgs.models import Organisation, OrgKind
from datapolis.registry.db import Registry

NOW = datetime(2026, 11, 24, 7, 30, 41, tzinfo=UTC)


def make_jobs(registry: Registry, count: int) -> list[int]:
    with registry.session() as session:
        org = Organisation(code="371300_gaj", name="公安局", kind=OrgKind.DEPARTMENT,
                           division_code="371300")
        source = Source(code="src", name="户籍", kind="sqlite", org=org, options={})
        session.add_all([org, source])
        ids = []
        for n in range(count):
            table = SourceTableChoice(source=source, name=f"t{n}", target_table=f"ods_x.t{n}")
            job = SyncJob(code=f"src.t{n}", table=table, mode="cdc")
            session.add(job)
            session.flush()
            ids.append(job.id)
        return ids


def test_reports_add_up_per_minute_and_jobs_sum(registry: Registry) -> None:
    one, two = make_jobs(registry, 2)
    with registry.session() as session:
        throughput.record(session, job_id=one, at=NOW, rows=100, lag_seconds=0.4)
        throughput.record(session, job_id=one, at=NOW + timedelta(seconds=10), rows=50,
                          lag_seconds=1.5)
        throughput.record(session, job_id=one, at=NOW - timedelta(minutes=2), rows=7,
                          lag_seconds=None)
        throughput.record(session, job_id=two, at=NOW, rows=3, lag_seconds=0.2)
        throughput.record(session, job_id=two, at=NOW, rows=-5, lag_seconds=None)  # never less
    with registry.session() as session:
        both = throughput.last_minutes(session, job_ids=None, now=NOW, minutes=5)
        assert both.rows == [0, 0, 7, 0, 153]
        assert both.lag_max == [None, None, None, None, 1.5]
        assert both.minutes[-1] == NOW.replace(second=0) and len(both.minutes) == 5
        alone = throughput.last_minutes(session, job_ids=[two], now=NOW, minutes=5)
        assert alone.rows == [0, 0, 0, 0, 3] and alone.lag_max[-1] == 0.2
        assert throughput.last_minutes(session, job_ids=[], now=NOW, minutes=2).rows == [0, 0]


def test_old_minutes_are_dropped_when_a_new_one_opens(registry: Registry) -> None:
    (job,) = make_jobs(registry, 1)
    old = NOW - throughput.KEEP - timedelta(minutes=5)
    with registry.session() as session:
        throughput.record(session, job_id=job, at=old, rows=1, lag_seconds=None)
        throughput.record(session, job_id=job, at=NOW - timedelta(days=1), rows=1,
                          lag_seconds=None)
    with registry.session() as session:
        throughput.record(session, job_id=job, at=NOW, rows=1, lag_seconds=None)
    with registry.session() as session:
        kept = session.scalars(select(SyncMinute.minute).order_by(SyncMinute.minute)).all()
        assert kept == [(NOW - timedelta(days=1)).replace(second=0), NOW.replace(second=0)]
        assert session.scalar(select(func.count()).select_from(SyncMinute)) == 2
