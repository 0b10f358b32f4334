"""Registry records of monitoring: the hourly rollup of `share_calls`, its latency histogram,
the evaluator's watermark, and the alerts.

Why a rollup: at the seeds' scale (33.8 million calls) every page would otherwise scan the call
records. One row per hour and (consumer, provider, app, resource, interface) holds the counts,
sums and extremes that every chart needs; percentiles come from a log-spaced latency histogram
per city day, resource and interface. Both are plain SQL tables, so they work the same on SQLite and
PostgreSQL; the hours are re-rolled from the call records, never patched, so a re-roll is the
repair for anything.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from datapolis.registry.base import Base


class CallHour(Base):
    __tablename__ = "share_call_hours"
    __table_args__ = (Index("ix_share_call_hours_hour_app", "hour", "app_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    hour: Mapped[datetime] = mapped_column(index=True)  # UTC, start of the hour
    consumer_org_id: Mapped[int | None] = mapped_column(Integer)
    provider_org_id: Mapped[int | None] = mapped_column(Integer)
    app_id: Mapped[int | None] = mapped_column(Integer)
    resource_code: Mapped[str | None] = mapped_column(String(64))
    interface: Mapped[str] = mapped_column(String(16))
    calls: Mapped[int] = mapped_column(BigInteger)
    refused: Mapped[int] = mapped_column(BigInteger)  # 4xx: the caller's mistake or no right
    failed: Mapped[int] = mapped_column(BigInteger)  # 5xx: the platform's failure
    rows: Mapped[int] = mapped_column(BigInteger)
    bytes: Mapped[int] = mapped_column(BigInteger)
    latency_sum: Mapped[float] = mapped_column(Float)
    latency_min: Mapped[float] = mapped_column(Float)
    latency_max: Mapped[float] = mapped_column(Float)
    last_success_at: Mapped[datetime | None]
    last_failure_at: Mapped[datetime | None]


class LatencyDay(Base):
    """Calls per latency bucket, per city day, resource and interface. Daily, not hourly: a
    histogram only compresses when many calls share its key, and an hour and interface often
    hold a handful of calls."""

    __tablename__ = "share_latency_days"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[datetime] = mapped_column(index=True)  # UTC instant of the city's midnight
    resource_code: Mapped[str | None] = mapped_column(String(64))
    interface: Mapped[str] = mapped_column(String(16))
    bucket: Mapped[int] = mapped_column(SmallInteger)
    calls: Mapped[int] = mapped_column(BigInteger)


class MonitorState(Base):
    """One row: how far the evaluator has read the call records."""

    __tablename__ = "share_monitor_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_call_id: Mapped[int] = mapped_column(BigInteger)  # highest call record rolled up
    rolled_until: Mapped[datetime | None]  # every hour before this one is rolled up
    evaluated_at: Mapped[datetime | None]


class Alert(Base):
    """One alert per kind, caller and window (`key`); later calls in the window update it."""

    __tablename__ = "share_alerts"
    __table_args__ = (Index("ix_share_alerts_kind_seen", "kind", "last_seen_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(24))  # no_grant | quota | spike | off_hours_bulk
    severity: Mapped[str] = mapped_column(String(12))  # warning | critical
    consumer_org_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id"), index=True)
    provider_org_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id"), index=True)
    app_id: Mapped[int | None] = mapped_column(ForeignKey("api_apps.id"))
    resource_code: Mapped[str | None] = mapped_column(String(64))
    error_code: Mapped[str | None] = mapped_column(String(32))
    window_start: Mapped[datetime]
    window_end: Mapped[datetime]
    calls: Mapped[int] = mapped_column(BigInteger)
    rows: Mapped[int] = mapped_column(BigInteger)
    observed: Mapped[float | None] = mapped_column(Float)  # spike: calls in the last hour
    baseline: Mapped[float | None] = mapped_column(Float)  # spike: the caller's hourly median
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(String(64))
    ack_comment: Mapped[str | None] = mapped_column(Text)
