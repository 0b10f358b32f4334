"""What the highway last did for each ods table: for the catalog's aggregation list (汇聚清单)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from datapolis.ingest.models import Source, SourceTableChoice, SyncJob, SyncRun


@dataclass(frozen=True)
class LastSync:
    target_table: str
    source_code: str
    mode: str  # snapshot | incremental | cdc
    succeeded_at: datetime | None  # end of the newest successful run
    last_status: str | None  # status of the newest run of any outcome


def last_syncs(session: Session, target_tables: Collection[str]) -> dict[str, LastSync]:
    """The newest runs landing in each of `target_tables` (schema.table), by table."""
    if not target_tables:
        return {}
    jobs = session.execute(
        select(SyncJob.id, SyncJob.mode, SourceTableChoice.target_table,
               SourceTableChoice.source_id)
        .join(SourceTableChoice, SyncJob.table_id == SourceTableChoice.id)
        .where(SourceTableChoice.target_table.in_(list(target_tables)))
    ).all()
    if not jobs:
        return {}
    job_ids = [job.id for job in jobs]
    succeeded: dict[int, datetime | None] = {job_id: ended for job_id, ended in session.execute(
        select(SyncRun.job_id, func.max(SyncRun.ended_at))
        .where(SyncRun.job_id.in_(job_ids), SyncRun.status == "succeeded")
        .group_by(SyncRun.job_id)
    )}
    newest_ids = select(func.max(SyncRun.id)).where(SyncRun.job_id.in_(job_ids)).group_by(
        SyncRun.job_id)
    newest: dict[int, str] = {job_id: status for job_id, status in session.execute(
        select(SyncRun.job_id, SyncRun.status).where(SyncRun.id.in_(newest_ids))
    )}
    sources: dict[int, str] = {source_id: code for source_id, code in session.execute(
        select(Source.id, Source.code).where(Source.id.in_({job.source_id for job in jobs}))
    )}
    found: dict[str, LastSync] = {}
    for job in jobs:  # a table with several jobs: the one that succeeded last
        candidate = LastSync(job.target_table, sources[job.source_id], job.mode,
                             succeeded.get(job.id), newest.get(job.id))
        current = found.get(job.target_table)
        if current is None or _newer(candidate, current):
            found[job.target_table] = candidate
    return found


def _newer(a: LastSync, b: LastSync) -> bool:
    if a.succeeded_at is None:
        return False
    return b.succeeded_at is None or a.succeeded_at > b.succeeded_at
