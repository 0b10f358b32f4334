"""Registry records of the rectification loop (问题工单): one issue per table and subject, and
every state change with who, when and why.

The subject says what failed: `rule:<id>` for a quality rule, `baselib:<library>.<field>:<source>`
for a base library's conflicts with one source. A subject keeps its one issue for good: a
verified issue that fails again is reopened, never duplicated, so a department's history with
a rule stays in one place.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from datapolis.orgs.models import Organisation
from datapolis.registry.base import Base


class QualityIssue(Base):
    __tablename__ = "quality_issues"
    __table_args__ = (UniqueConstraint("warehouse_table", "subject"),
                      Index("ix_quality_issues_org_state", "org_id", "state"))

    id: Mapped[int] = mapped_column(primary_key=True)
    warehouse_table: Mapped[str] = mapped_column(String(130))
    subject: Mapped[str] = mapped_column(String(200))
    origin: Mapped[str] = mapped_column(String(12))  # rule | baselib
    rule_id: Mapped[int | None] = mapped_column(
        ForeignKey("quality_rules.id", ondelete="SET NULL"), index=True)
    # The provider organisation the issue is assigned to; None when no provider is known.
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    columns: Mapped[list[str]] = mapped_column(JSON, default=list)
    dimension: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    checked: Mapped[int] = mapped_column(BigInteger, default=0)
    failed: Mapped[int] = mapped_column(BigInteger, default=0)
    sample: Mapped[list[Any]] = mapped_column(JSON, default=list)  # whole; masked on the way out
    last_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("quality_runs.id", ondelete="SET NULL"))
    opened_at: Mapped[datetime]
    due_at: Mapped[datetime]
    state_changed_at: Mapped[datetime]
    submitted_at: Mapped[datetime | None]
    verified_at: Mapped[datetime | None]

    org: Mapped[Organisation | None] = relationship()
    events: Mapped[list[QualityIssueEvent]] = relationship(
        back_populates="issue", cascade="all, delete-orphan", order_by="QualityIssueEvent.id")


class QualityIssueEvent(Base):
    __tablename__ = "quality_issue_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(
        ForeignKey("quality_issues.id", ondelete="CASCADE"), index=True)
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime]
    comment: Mapped[str | None] = mapped_column(Text)
    failed: Mapped[int | None] = mapped_column(BigInteger)  # the count when it changed

    issue: Mapped[QualityIssue] = relationship(back_populates="events")
