"""Registry tables of supply–demand docking: demands and the history of each."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Enum, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from datapolis.catalog.models import CatalogEntry
from datapolis.orgs.models import Organisation
from datapolis.registry.base import Base, TimestampMixin
from datapolis.web.i18n import N_


class DemandStatus(enum.StrEnum):
    REGISTERED = "registered"  # 已登记
    MATCHED = "matched"  # 已匹配: a supplying entry is confirmed
    IN_PROGRESS = "in_progress"  # 对接中: e.g. applied for sharing (the sharing capability)
    FULFILLED = "fulfilled"  # 已满足
    CLOSED = "closed"  # 已关闭: cannot be met (or withdrawn), with the reason


class Urgency(enum.StrEnum):
    NORMAL = "normal"  # 一般
    URGENT = "urgent"  # 紧急
    CRITICAL = "critical"  # 特急


DEMAND_LABELS: dict[enum.StrEnum, str] = {
    DemandStatus.REGISTERED: N_("Registered"),
    DemandStatus.MATCHED: N_("Matched"),
    DemandStatus.IN_PROGRESS: N_("In progress"),
    DemandStatus.FULFILLED: N_("Fulfilled"),
    DemandStatus.CLOSED: N_("Closed"),
    Urgency.NORMAL: N_("Normal"),
    Urgency.URGENT: N_("Urgent"),
    Urgency.CRITICAL: N_("Critical"),
}


def _enum(kind: type[enum.StrEnum], name: str) -> Enum:
    return Enum(kind, name=name, native_enum=False, length=32,
                values_callable=lambda members: [m.value for m in members])


class DataDemand(TimestampMixin, Base):
    """A department's demand for data (数据需求) and how far it has come."""

    __tablename__ = "catalog_demands"
    __table_args__ = (UniqueConstraint("year", "sequence"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)  # XQ2026000001
    year: Mapped[int]
    sequence: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))  # what data (需求名称)
    description: Mapped[str] = mapped_column(Text, default="")
    purpose: Mapped[str] = mapped_column(Text)  # 用途 / application scenario
    fields: Mapped[list[str]] = mapped_column(JSON, default=list)  # information items wanted
    urgency: Mapped[Urgency] = mapped_column(_enum(Urgency, "demand_urgency"))
    status: Mapped[DemandStatus] = mapped_column(_enum(DemandStatus, "demand_status"),
                                                 index=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    provider_hint_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("catalog_entries.id"), index=True)
    sharing_reference: Mapped[str | None] = mapped_column(String(64))  # the sharing application
    close_reason: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    requester: Mapped[Organisation] = relationship(foreign_keys=[requester_id])
    provider_hint: Mapped[Organisation | None] = relationship(foreign_keys=[provider_hint_id])
    entry: Mapped[CatalogEntry | None] = relationship()
    events: Mapped[list[DemandEvent]] = relationship(
        back_populates="demand", cascade="all, delete-orphan", order_by="DemandEvent.number"
    )


class DemandEvent(Base):
    """One step of a demand: who moved it from which status to which, and why."""

    __tablename__ = "catalog_demand_events"
    __table_args__ = (UniqueConstraint("demand_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    demand_id: Mapped[int] = mapped_column(ForeignKey("catalog_demands.id"), index=True)
    number: Mapped[int]
    action: Mapped[str] = mapped_column(String(16))  # registered | matched | started | ...
    from_status: Mapped[DemandStatus | None] = mapped_column(
        _enum(DemandStatus, "demand_event_from"))
    to_status: Mapped[DemandStatus] = mapped_column(_enum(DemandStatus, "demand_event_to"))
    entry_code: Mapped[str | None] = mapped_column(String(40))  # the entry matched, as it read
    comment: Mapped[str | None] = mapped_column(Text)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]

    demand: Mapped[DataDemand] = relationship(back_populates="events")
