"""The call records table, `share_calls`: one row per interface call, accepted or refused."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, Index, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from datapolis.registry.base import Base

# SQLite only auto-increments an INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class ShareCall(Base):
    """A call record. No foreign keys on purpose: a record is history and must outlive the
    app, grant or organisation it names (and inserts stay cheap)."""

    __tablename__ = "share_calls"
    __table_args__ = (
        Index("ix_share_calls_request_at", "request_at"),
        Index("ix_share_calls_app_time", "app_id", "request_at"),
        Index("ix_share_calls_consumer_time", "consumer_org_id", "request_at"),
        Index("ix_share_calls_provider_time", "provider_org_id", "request_at"),
        Index("ix_share_calls_resource_time", "resource_code", "request_at"),
        Index("ix_share_calls_grant_time", "grant_id", "request_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # "<run><seq>": unique, so replaying the journal after a crash never duplicates a record.
    record_id: Mapped[str] = mapped_column(String(32), unique=True)
    request_at: Mapped[datetime]
    response_at: Mapped[datetime]
    consumer_org_id: Mapped[int | None]
    app_id: Mapped[int | None]
    provider_org_id: Mapped[int | None]
    resource_code: Mapped[str | None] = mapped_column(String(64))
    grant_id: Mapped[int | None]
    interface: Mapped[str] = mapped_column(String(16))
    params_hash: Mapped[str] = mapped_column(String(64))
    rows_out: Mapped[int] = mapped_column(BigInteger)
    bytes_out: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[int] = mapped_column(SmallInteger)
    error_code: Mapped[str | None] = mapped_column(String(32))
    latency_ms: Mapped[float] = mapped_column(Float)
    client_ip: Mapped[str | None] = mapped_column(String(45))
    request_id: Mapped[str | None] = mapped_column(String(64))
