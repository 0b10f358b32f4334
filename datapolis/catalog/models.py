"""Registry tables of the catalog: data standards, catalog entries, items and versions."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Enum, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from datapolis.catalog.enums import (
    CatalogType,
    DataType,
    EntryStatus,
    FormatClass,
    ShareType,
    UpdateCycle,
)
from datapolis.orgs.models import Organisation
from datapolis.registry.base import Base, TimestampMixin


def _enum(kind: type[enum.StrEnum], name: str) -> Enum:
    # Plain strings, no native PostgreSQL enum: adding a member needs no migration dance.
    return Enum(kind, name=name, native_enum=False, length=32,
                values_callable=lambda members: [m.value for m in members])


# --- data standards ------------------------------------------------------------------------


class CodeTable(TimestampMixin, Base):
    """A code table (码表), usually a national standard such as GB/T 2261.1."""

    __tablename__ = "code_tables"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    english_name: Mapped[str | None] = mapped_column(String(200))
    standard: Mapped[str | None] = mapped_column(String(64))  # e.g. "GB/T 2261.1-2003"
    description: Mapped[str | None] = mapped_column(Text)

    values: Mapped[list[CodeValue]] = relationship(
        back_populates="table", cascade="all, delete-orphan", order_by="CodeValue.position"
    )


class CodeValue(Base):
    __tablename__ = "code_values"
    __table_args__ = (UniqueConstraint("table_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    table_id: Mapped[int] = mapped_column(ForeignKey("code_tables.id"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    parent_code: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0)

    table: Mapped[CodeTable] = relationship(back_populates="values")


class DataElement(TimestampMixin, Base):
    """A data element (数据元): a named, defined, typed unit of data an item can map to."""

    __tablename__ = "data_elements"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    english_name: Mapped[str | None] = mapped_column(String(200))
    definition: Mapped[str | None] = mapped_column(Text)
    data_type: Mapped[DataType] = mapped_column(_enum(DataType, "data_type"))
    length: Mapped[int | None]
    format: Mapped[str | None] = mapped_column(String(64))  # representation, e.g. "c..50"
    code_table_id: Mapped[int | None] = mapped_column(ForeignKey("code_tables.id"), index=True)
    value_pattern: Mapped[str | None] = mapped_column(String(32))  # see catalog/patterns.py
    synonyms: Mapped[list[str]] = mapped_column(JSON, default=list)

    code_table: Mapped[CodeTable | None] = relationship()


# --- catalog entries -----------------------------------------------------------------------


class CatalogEntry(TimestampMixin, Base):
    """One resource in the catalog, with the metadata of the national compilation guide."""

    __tablename__ = "catalog_entries"
    __table_args__ = (UniqueConstraint("prefix", "sequence"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_code: Mapped[str] = mapped_column(String(40), unique=True)
    # Classification 类 / 项 / 目 / 细目; `prefix` is their concatenation (the 前段码).
    category: Mapped[str] = mapped_column(String(1))
    subject: Mapped[str] = mapped_column(String(2))
    heading: Mapped[str] = mapped_column(String(3))
    subheading: Mapped[str | None] = mapped_column(String(6))
    prefix: Mapped[str] = mapped_column(String(12))
    sequence: Mapped[int]
    name: Mapped[str] = mapped_column(String(200))
    provider_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    catalog_type: Mapped[CatalogType] = mapped_column(_enum(CatalogType, "catalog_type"))
    summary: Mapped[str] = mapped_column(Text, default="")
    format_class: Mapped[FormatClass] = mapped_column(_enum(FormatClass, "format_class"))
    format_detail: Mapped[str | None] = mapped_column(String(100))
    share_type: Mapped[ShareType] = mapped_column(_enum(ShareType, "share_type"))
    share_conditions: Mapped[str | None] = mapped_column(Text)
    share_methods: Mapped[list[str]] = mapped_column(JSON, default=list)
    open_to_public: Mapped[bool] = mapped_column(default=False)
    open_conditions: Mapped[str | None] = mapped_column(Text)
    update_cycle: Mapped[UpdateCycle] = mapped_column(_enum(UpdateCycle, "update_cycle"))
    publish_date: Mapped[date | None]
    related_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    classified: Mapped[bool] = mapped_column(default=False)  # 涉密
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    record_count: Mapped[int | None] = mapped_column(BigInteger)
    storage_bytes: Mapped[int | None] = mapped_column(BigInteger)
    warehouse_table: Mapped[str | None] = mapped_column(String(130), index=True)
    status: Mapped[EntryStatus] = mapped_column(_enum(EntryStatus, "entry_status"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    provider: Mapped[Organisation] = relationship()
    items: Mapped[list[InfoItem]] = relationship(
        back_populates="entry", cascade="all, delete-orphan", order_by="InfoItem.position"
    )
    versions: Mapped[list[EntryVersion]] = relationship(
        back_populates="entry", cascade="all, delete-orphan", order_by="EntryVersion.number"
    )


class InfoItem(Base):
    """An information item (信息项) of an entry: one field of the resource."""

    __tablename__ = "catalog_items"
    __table_args__ = (UniqueConstraint("entry_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("catalog_entries.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(100))
    column_name: Mapped[str | None] = mapped_column(String(128))
    data_type: Mapped[DataType] = mapped_column(_enum(DataType, "item_data_type"))
    length: Mapped[int | None]
    description: Mapped[str | None] = mapped_column(Text)
    security_grade: Mapped[str | None] = mapped_column(String(16))
    element_id: Mapped[int | None] = mapped_column(ForeignKey("data_elements.id"), index=True)
    mapped_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    mapped_by: Mapped[str | None] = mapped_column(String(64))  # who confirmed the mapping
    mapped_at: Mapped[datetime | None]

    entry: Mapped[CatalogEntry] = relationship(back_populates="items")
    element: Mapped[DataElement | None] = relationship()


class EntryVersion(Base):
    """The entry as it stood after one change: a full canonical snapshot, who, when, why."""

    __tablename__ = "catalog_entry_versions"
    __table_args__ = (UniqueConstraint("entry_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("catalog_entries.id"), index=True)
    number: Mapped[int]
    action: Mapped[str] = mapped_column(String(16))  # created | edited | submitted | ...
    status: Mapped[EntryStatus] = mapped_column(_enum(EntryStatus, "version_status"))
    comment: Mapped[str | None] = mapped_column(Text)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor: Mapped[str] = mapped_column(String(64))  # username or app key, kept if they go
    created_at: Mapped[datetime]

    entry: Mapped[CatalogEntry] = relationship(back_populates="versions")

