"""Registry tables of classification and grading: the scheme, entry categories, field grades."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from datapolis.registry.base import Base, TimestampMixin, utcnow


class SchemeCategory(TimestampMixin, Base):
    """A sector (行业/领域, no parent) or a business (业务, under a sector) of the scheme."""

    __tablename__ = "security_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("security_categories.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    parent: Mapped[SchemeCategory | None] = relationship(
        remote_side="SchemeCategory.id", back_populates="children")
    children: Mapped[list[SchemeCategory]] = relationship(
        back_populates="parent", cascade="all, delete-orphan", passive_deletes=True,
        order_by="SchemeCategory.position")


class EntryCategory(Base):
    """The business a catalog entry belongs to, and who assigned it when."""

    __tablename__ = "security_entry_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("catalog_entries.id", ondelete="CASCADE"), unique=True)
    category_id: Mapped[int] = mapped_column(
        ForeignKey("security_categories.id", ondelete="CASCADE"), index=True)
    assigned_by: Mapped[str] = mapped_column(String(64))
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    assigned_at: Mapped[datetime] = mapped_column(default=utcnow)

    category: Mapped[SchemeCategory] = relationship()


class FieldGrade(Base):
    """One catalog item's grade: the suggestion (kind, grade, confidence, reasons) and the grade
    a person confirmed, with who and when. The audit log keeps every earlier decision."""

    __tablename__ = "security_field_grades"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("catalog_items.id", ondelete="CASCADE"), unique=True)
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("catalog_entries.id", ondelete="CASCADE"), index=True)
    suggested_kind: Mapped[str] = mapped_column(String(32))
    suggested_grade: Mapped[str] = mapped_column(String(16))
    confidence: Mapped[float] = mapped_column(Float)
    reasons: Mapped[list[Any]] = mapped_column(JSON, default=list)
    suggested_at: Mapped[datetime] = mapped_column(default=utcnow)
    grade: Mapped[str | None] = mapped_column(String(16), index=True)  # confirmed; None: not yet
    confirmed_by: Mapped[str | None] = mapped_column(String(64))
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    confirmed_at: Mapped[datetime | None]
