"""Registry tables of applications (共享申请) and the steps each went through."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from datapolis.registry.base import Base, TimestampMixin


class State(enum.StrEnum):
    PROVIDER_REVIEW = "provider_review"  # waiting for the provider's organisation admin
    BUREAU_REVIEW = "bureau_review"  # the provider agreed; waiting for the bureau
    GRANTED = "granted"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


OPEN_STATES = frozenset({State.PROVIDER_REVIEW, State.BUREAU_REVIEW})


class Application(TimestampMixin, Base):
    __tablename__ = "share_applications"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("catalog_entries.id"), index=True)
    provider_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    consumer_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    app_id: Mapped[int] = mapped_column(ForeignKey("api_apps.id"), index=True)
    applicant_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    applicant: Mapped[str] = mapped_column(String(128))
    purpose: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str] = mapped_column(Text)
    scenario: Mapped[str] = mapped_column(Text)
    columns: Mapped[list[str]] = mapped_column(JSON, default=list)  # requested items
    valid_from: Mapped[datetime]
    valid_until: Mapped[datetime | None]
    state: Mapped[State] = mapped_column(
        Enum(State, name="share_application_state", native_enum=False, length=32,
             values_callable=lambda members: [m.value for m in members]), index=True)
    terms: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the provider's, for the bureau
    grant_id: Mapped[int | None] = mapped_column(ForeignKey("share_grants.id"))
    decided_at: Mapped[datetime | None]

    steps: Mapped[list[Step]] = relationship(
        back_populates="application", cascade="all, delete-orphan", order_by="Step.id")


class Step(Base):
    """One thing that happened to an application: submitted, approved, rejected, granted…"""

    __tablename__ = "share_application_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("share_applications.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(32))
    to_state: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(128))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    comment: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime]

    application: Mapped[Application] = relationship(back_populates="steps")
