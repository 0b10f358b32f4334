"""Registry tables of the data highway."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from datapolis.orgs.models import Organisation
from datapolis.registry.base import Base, TimestampMixin


class Source(TimestampMixin, Base):
    """A department business system (or file drop, or HTTP API) the highway reads from."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # SM4-GCM ciphertext of the JSON secrets (password, token), bound to this source's code.
    secrets_encrypted: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    org: Mapped[Organisation] = relationship()
    tables: Mapped[list[SourceTableChoice]] = relationship(
        back_populates="source", cascade="all, delete-orphan", order_by="SourceTableChoice.name"
    )


class SourceTableChoice(TimestampMixin, Base):
    """A source table chosen for the highway, and the ods table it lands in."""

    __tablename__ = "source_tables"
    __table_args__ = (UniqueConstraint("source_id", "name"), UniqueConstraint("target_table"))

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    target_table: Mapped[str] = mapped_column(String(130))  # ods_<org>.<table>
    comment: Mapped[str | None] = mapped_column(Text)
    primary_key: Mapped[list[str]] = mapped_column(JSON, default=list)

    source: Mapped[Source] = relationship(back_populates="tables")


class SyncJob(TimestampMixin, Base):
    """How one chosen source table reaches ods: its mode, cursor, deletes and schedule."""

    __tablename__ = "sync_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(100), unique=True)
    table_id: Mapped[int] = mapped_column(ForeignKey("source_tables.id"), index=True)
    mode: Mapped[str] = mapped_column(String(16))  # snapshot | incremental | cdc
    cursor_column: Mapped[str | None] = mapped_column(String(128))
    overlap_seconds: Mapped[int] = mapped_column(default=0)
    delete_mode: Mapped[str] = mapped_column(String(8), default="soft")  # soft | hard
    schedule: Mapped[str | None] = mapped_column(String(64))  # "every 5m" or a cron line
    enabled: Mapped[bool] = mapped_column(default=True)

    table: Mapped[SourceTableChoice] = relationship()
    runs: Mapped[list[SyncRun]] = relationship(
        back_populates="job", order_by="SyncRun.id.desc()", cascade="all, delete-orphan"
    )


class SyncRun(Base):
    """One run of a job: what it moved, how long it took, how far behind, how it ended."""

    __tablename__ = "sync_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("sync_jobs.id"), index=True)
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16))  # running | succeeded | failed
    rows_read: Mapped[int] = mapped_column(default=0)
    inserted: Mapped[int] = mapped_column(default=0)
    updated: Mapped[int] = mapped_column(default=0)
    deleted: Mapped[int] = mapped_column(default=0)
    bytes_read: Mapped[int] = mapped_column(default=0)
    lag_seconds: Mapped[float | None]  # newest source commit -> warehouse commit
    offset: Mapped[str | None] = mapped_column(Text)  # copy of the warehouse's, for display
    error: Mapped[str | None] = mapped_column(Text)
    error_kind: Mapped[str | None] = mapped_column(String(16))  # transient | terminal

    job: Mapped[SyncJob] = relationship(back_populates="runs")


class SchemaChange(Base):
    """A column of a source table that appeared, widened or disappeared, seen by a run."""

    __tablename__ = "schema_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("sync_jobs.id"), index=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("sync_runs.id"), index=True)
    column: Mapped[str] = mapped_column(String(128))
    change: Mapped[str] = mapped_column(String(16))  # added | widened | dropped
    old_type: Mapped[str | None] = mapped_column(String(64))
    new_type: Mapped[str | None] = mapped_column(String(64))
    seen_at: Mapped[datetime]


class SyncMinute(Base):
    """What a job landed in one minute (UTC, truncated): the rows per minute and lag charts of
    the highway pages, for streams as much as for batch runs. Kept for `throughput.KEEP`."""

    __tablename__ = "sync_minutes"
    __table_args__ = (UniqueConstraint("job_id", "minute"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("sync_jobs.id"))
    minute: Mapped[datetime]
    rows: Mapped[int] = mapped_column(default=0)
    lag_max: Mapped[float | None]  # seconds, the worst lag reported in the minute
