"""Registry tables of the data highway."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from datapolis.orgs.models import Organisation
from datapolis.registry.base import Base, TimestampMixin


class Source(TimestampMixin, Base):
    """A department business system (or file drop, or HTTP API) the highway reads from."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # SM4-GCM ciphertext of the JSON secrets (password, token), bound to this source's code.
    secrets_encrypted: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    org: Mapped[Organisation] = relationship()
    tables: Mapped[list[SourceTableChoice]] = relationship(
        back_populates="source", cascade="all, delete-orphan", order_by="SourceTableChoice.name"
    )


class SourceTableChoice(TimestampMixin, Base):
    """A source table chosen for the highway, and the ods table it lands in."""

    __tablename__ = "source_tables"
    __table_args__ = (UniqueConstraint("source_id", "name"), UniqueConstraint("target_table"))

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    target_table: Mapped[str] = mapped_column(String(130))  # ods_<org>.<table>
    comment: Mapped[str | None] = mapped_column(Text)
    primary_key: Mapped[list[str]] = mapped_column(JSON, default=list)

    source: Mapped[Source] = relationship(back_populates="tables")
