"""How fresh each warehouse table the highway feeds is: when rows last arrived there."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from datapolis.ingest.models import SourceTableChoice, SyncJob, SyncMinute, SyncRun


def landed_by_table(session: Session) -> dict[str, datetime | None]:
    """Every warehouse table a job lands in, with when rows last arrived there (None: never).

    A batch run counts when it succeeded (its end); a stream, whose run never ends, counts by
    the newest minute in which it landed rows.
    """
    jobs = select(SourceTableChoice.target_table).join(
        SyncJob, SyncJob.table_id == SourceTableChoice.id)
    landed: dict[str, datetime | None] = dict.fromkeys(session.scalars(jobs))
    runs = (select(SourceTableChoice.target_table, func.max(SyncRun.ended_at))
            .join(SyncJob, SyncJob.table_id == SourceTableChoice.id)
            .join(SyncRun, SyncRun.job_id == SyncJob.id)
            .where(SyncRun.status == "succeeded").group_by(SourceTableChoice.target_table))
    minutes = (select(SourceTableChoice.target_table, func.max(SyncMinute.minute))
               .join(SyncJob, SyncJob.table_id == SourceTableChoice.id)
               .join(SyncMinute, SyncMinute.job_id == SyncJob.id)
               .where(SyncMinute.rows > 0).group_by(SourceTableChoice.target_table))
    for table, moment in [*session.execute(runs), *session.execute(minutes)]:
        current = landed.get(table)
        if moment is not None and (current is None or moment > current):
            landed[table] = moment
    return landed
