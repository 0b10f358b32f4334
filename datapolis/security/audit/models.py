"""Registry tables of the audit log: logs (hash and right edge), events, signed checkpoints."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from datapolis.registry.base import Base, utcnow


class AuditLog(Base):
    """One Merkle log. `frontier` (hex roots of the complete subtrees) makes appends O(log n)."""

    __tablename__ = "audit_logs"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    hash: Mapped[str] = mapped_column(String(16))  # "sm3" or "sha256", fixed at creation
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    frontier: Mapped[list[str]] = mapped_column(JSON, default=list)
    last_leaf: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (UniqueConstraint("log_id", "seq"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True
    )
    log_id: Mapped[int] = mapped_column(ForeignKey("audit_logs.id"))
    seq: Mapped[int] = mapped_column(BigInteger)  # leaf index, from 0
    recorded_at: Mapped[datetime] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(64), index=True)
    actor: Mapped[str] = mapped_column(String(128), index=True)
    org: Mapped[str | None] = mapped_column(String(64), index=True)
    canonical: Mapped[str] = mapped_column(Text)  # the exact bytes that were hashed (UTF-8)
    leaf_hash: Mapped[str] = mapped_column(String(64))


class AuditCheckpoint(Base):
    __tablename__ = "audit_checkpoints"
    __table_args__ = (UniqueConstraint("log_id", "size"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    log_id: Mapped[int] = mapped_column(ForeignKey("audit_logs.id"))
    size: Mapped[int] = mapped_column(BigInteger)
    root: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[datetime] = mapped_column()
    key_id: Mapped[str] = mapped_column(String(16))
    signature: Mapped[str] = mapped_column(String(128))  # base64 Ed25519 over the checkpoint note
