"""Registry records of governance: every std and base table build with its counts, and the
standardisation specs edited through the API (they override the shipped files)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from datapolis.registry.base import Base, TimestampMixin, utcnow


class GovernanceBuild(Base):
    """One build of `std.<target>` or `base.<target>`."""

    __tablename__ = "governance_builds"
    __table_args__ = (Index("ix_governance_builds_table_started", "warehouse_table",
                            "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    layer: Mapped[str] = mapped_column(String(8))  # std | base
    warehouse_table: Mapped[str] = mapped_column(String(130))
    trigger: Mapped[str] = mapped_column(String(40))  # cli | api | landing:<job> | demo
    # Who started it: a user (api, page), the operator's login (cli); None: the platform
    # (after landing, the demo) or a build from before this was recorded.
    actor: Mapped[str | None] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(12))  # running | succeeded | failed
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    seconds: Mapped[float | None] = mapped_column(Float)
    rows_in: Mapped[int | None] = mapped_column(BigInteger)
    rows_out: Mapped[int | None] = mapped_column(BigInteger)
    rows_changed: Mapped[int | None] = mapped_column(BigInteger)
    # std: {"sources": [...], "steps": [{"column", "step", "changed", "nulled"}], "deduplicated"}
    # base: {"sources": {...}, "fields": {...}, "conflicts": n, "members": n}
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)


class StoredSpec(TimestampMixin, Base):
    """A standardisation spec as edited (the JSON document, validated whole before it is
    stored); it replaces the shipped spec (or the operator's file) with the same target."""

    __tablename__ = "std_specs"

    id: Mapped[int] = mapped_column(primary_key=True)
    target: Mapped[str] = mapped_column(String(63), unique=True)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_by: Mapped[str] = mapped_column(String(128))
