"""Registry tables of grants: who may read which items and rows of a resource, how much, until
when; and the counter every grant change bumps, so other processes notice."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from datapolis.registry.base import Base, TimestampMixin


class Grant(TimestampMixin, Base):
    __tablename__ = "share_grants"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("catalog_entries.id"), index=True)
    provider_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    consumer_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    app_id: Mapped[int] = mapped_column(ForeignKey("api_apps.id"), index=True)
    row_scope: Mapped[str | None] = mapped_column(Text)
    calls_per_day: Mapped[int | None] = mapped_column(Integer)
    rows_per_day: Mapped[int | None] = mapped_column(BigInteger)
    rate_per_second: Mapped[float | None] = mapped_column(Float)
    valid_from: Mapped[datetime]
    valid_until: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[str | None] = mapped_column(String(128))
    revoke_reason: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(128))

    items: Mapped[list[GrantItem]] = relationship(
        back_populates="grant", cascade="all, delete-orphan", order_by="GrantItem.position")


class GrantItem(Base):
    """One column a grant lets leave, with the de-identification it leaves under."""

    __tablename__ = "share_grant_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("share_grants.id", ondelete="CASCADE"),
                                          index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    column: Mapped[str] = mapped_column(String(128))
    method: Mapped[str] = mapped_column(String(32))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    grant: Mapped[Grant] = relationship(back_populates="items")


class ShareCounter(Base):
    """Named counters of the sharing slice; `grants` moves on every grant change."""

    __tablename__ = "share_counters"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)
