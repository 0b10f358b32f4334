"""Registry records of quality: rule definitions per warehouse table, runs, results per rule.

Results copy what the rule was when it ran (kind, columns, dimension, severity, threshold), so
a later edit or deletion of the rule never rewrites history; scores and issues read results.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from datapolis.registry.base import Base, TimestampMixin


class QualityRule(TimestampMixin, Base):
    __tablename__ = "quality_rules"
    __table_args__ = (Index("ix_quality_rules_table", "warehouse_table"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    warehouse_table: Mapped[str] = mapped_column(String(130))
    kind: Mapped[str] = mapped_column(String(32))
    columns: Mapped[list[str]] = mapped_column(JSON, default=list)
    # As entered: a code table by its code ({"code_table": "sex"}), a cycle by "catalog"; the
    # service resolves them into values the engine reads.
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    dimension: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(16))
    threshold: Mapped[float] = mapped_column(Float, default=1.0)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(128))


class QualityRun(Base):
    __tablename__ = "quality_runs"
    __table_args__ = (Index("ix_quality_runs_table_started", "warehouse_table", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    warehouse_table: Mapped[str] = mapped_column(String(130))
    trigger: Mapped[str] = mapped_column(String(16))  # sync | manual | schedule
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None] = mapped_column()
    seconds: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(12))  # running | succeeded | failed
    rows: Mapped[int | None] = mapped_column(BigInteger)
    changed_only: Mapped[bool] = mapped_column(Boolean, default=False)
    change_column: Mapped[str | None] = mapped_column(String(128))
    watermark: Mapped[str | None] = mapped_column(Text)  # tagged JSON of the column's high value
    passed: Mapped[bool | None] = mapped_column(Boolean)
    error: Mapped[str | None] = mapped_column(Text)

    results: Mapped[list[QualityResult]] = relationship(
        back_populates="run", cascade="all, delete-orphan", order_by="QualityResult.id")


class QualityResult(Base):
    __tablename__ = "quality_results"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("quality_runs.id", ondelete="CASCADE"),
                                        index=True)
    rule_id: Mapped[int | None] = mapped_column(
        ForeignKey("quality_rules.id", ondelete="SET NULL"), index=True)
    position: Mapped[int | None]  # a row rule's bit in the failure store (failing keys)
    kind: Mapped[str] = mapped_column(String(32))
    columns: Mapped[list[str]] = mapped_column(JSON, default=list)
    dimension: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(16))
    threshold: Mapped[float] = mapped_column(Float)
    checked: Mapped[int] = mapped_column(BigInteger)
    failed: Mapped[int] = mapped_column(BigInteger)
    pass_rate: Mapped[float] = mapped_column(Float)
    passed: Mapped[bool] = mapped_column(Boolean)
    sample: Mapped[list[Any]] = mapped_column(JSON, default=list)  # capped failing rows
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    run: Mapped[QualityRun] = relationship(back_populates="results")


class QualitySchedule(TimestampMixin, Base):
    """When a table's rules are checked on a schedule (trigger `schedule`), besides after
    every sync: `every 6h` or a cron line read in Asia/Shanghai (ingest/schedules.py)."""

    __tablename__ = "quality_schedules"

    id: Mapped[int] = mapped_column(primary_key=True)
    warehouse_table: Mapped[str] = mapped_column(String(130), unique=True)
    schedule: Mapped[str] = mapped_column(String(64))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_by: Mapped[str] = mapped_column(String(128))
