"""Stored profiles: one row per profiled warehouse table, one per column, replaced each time.

Counts (rows, storage) are refreshed on every landing; the column figures only when the table
is profiled again (see autoregister.py for how often).
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
    Integer,
    String,
    Text,
    UniqueConstraint,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship, selectinload

from datapolis.catalog.profiling import TableStats
from datapolis.registry.base import Base, utcnow


class TableProfile(Base):
    __tablename__ = "catalog_table_profiles"

    id: Mapped[int] = mapped_column(primary_key=True)
    warehouse_table: Mapped[str] = mapped_column(String(130), unique=True)
    row_count: Mapped[int] = mapped_column(BigInteger)
    storage_bytes: Mapped[int | None] = mapped_column(BigInteger)
    profiled_at: Mapped[datetime]  # the column figures
    counted_at: Mapped[datetime]  # rows and storage
    seconds: Mapped[float] = mapped_column(Float)  # what the profile took

    columns: Mapped[list[ColumnProfile]] = relationship(
        back_populates="table", cascade="all, delete-orphan", order_by="ColumnProfile.position"
    )

    def column(self, name: str | None) -> ColumnProfile | None:
        return next((c for c in self.columns if c.column_name == name), None)


class ColumnProfile(Base):
    __tablename__ = "catalog_column_profiles"
    __table_args__ = (UniqueConstraint("table_id", "column_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    table_id: Mapped[int] = mapped_column(ForeignKey("catalog_table_profiles.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    column_name: Mapped[str] = mapped_column(String(128))
    data_type: Mapped[str] = mapped_column(String(64))  # as the warehouse declares it
    present: Mapped[int] = mapped_column(BigInteger)  # non-null values
    distinct_count: Mapped[int | None] = mapped_column(BigInteger)
    distinct_exact: Mapped[bool] = mapped_column(Boolean)
    min_value: Mapped[str | None] = mapped_column(Text)
    max_value: Mapped[str | None] = mapped_column(Text)
    min_length: Mapped[int | None]
    max_length: Mapped[int | None]
    top_values: Mapped[list[Any]] = mapped_column(JSON, default=list)  # [[value, count], ...]
    patterns: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    masked: Mapped[bool] = mapped_column(Boolean)  # identifying values shown masked
    # Data elements suggested from the name and the (unstored) sample values:
    # [{"element_code", "element_name", "score", "reasons": [[kind, detail], ...]}, ...]
    suggestions: Mapped[list[Any]] = mapped_column(JSON, default=list)

    table: Mapped[TableProfile] = relationship(back_populates="columns")

    def null_share(self) -> float:
        rows = self.table.row_count
        return (rows - self.present) / rows if rows else 0.0

    def pattern_shares(self) -> dict[str, float]:
        return {name: count / self.present for name, count in self.patterns.items()
                if self.present}


def get_profile(session: Session, table: str) -> TableProfile | None:
    return session.scalar(
        select(TableProfile).where(TableProfile.warehouse_table == table)
        .options(selectinload(TableProfile.columns))
    )


def save_profile(
    session: Session, stats: TableStats, *, storage: int | None,
    suggestions: dict[str, list[Any]] | None = None,
) -> TableProfile:
    """Replace the stored profile of `stats.table` with `stats`."""
    now = utcnow()
    profile = get_profile(session, stats.table)
    if profile is None:
        profile = TableProfile(warehouse_table=stats.table)
        session.add(profile)
    profile.row_count, profile.storage_bytes = stats.rows, storage
    profile.profiled_at = profile.counted_at = now
    profile.seconds = round(stats.seconds, 3)
    profile.columns.clear()
    session.flush()
    profile.columns.extend(
        ColumnProfile(
            position=position, column_name=c.name, data_type=c.sql_type[:64], present=c.present,
            distinct_count=c.distinct, distinct_exact=c.distinct_exact, min_value=c.min_value,
            max_value=c.max_value, min_length=c.min_length, max_length=c.max_length,
            top_values=[[value, count] for value, count in c.top_values],
            patterns=dict(c.patterns), masked=c.masked,
            suggestions=(suggestions or {}).get(c.name, []),
        )
        for position, c in enumerate(stats.columns)
    )
    session.flush()
    return profile


def save_counts(session: Session, table: str, *, rows: int, storage: int | None) -> None:
    """Refresh only the counts of a stored profile (a landing between two profiles)."""
    profile = get_profile(session, table)
    if profile is not None:
        profile.row_count, profile.storage_bytes, profile.counted_at = rows, storage, utcnow()
