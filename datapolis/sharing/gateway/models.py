"""Registry tables of the gateway: apps' signing secrets and bulk deliveries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from datapolis.registry.base import Base, utcnow


class SigningSecret(Base):
    """An app's secret, sealed (SM4-GCM under the secrets keyring) so signatures can be checked.

    `secret_hash` is the app's argon2 hash when the secret was sealed: once the app's secret
    is rotated elsewhere the two differ and the sealed secret no longer signs anything.
    """

    __tablename__ = "share_signing_secrets"

    app_id: Mapped[int] = mapped_column(ForeignKey("api_apps.id"), primary_key=True)
    algorithm: Mapped[str] = mapped_column(String(16))  # "hmac-sm3" | "hmac-sha256"
    sealed: Mapped[str] = mapped_column(String(255))
    secret_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Export(Base):
    """A bulk delivery: the granted rows matching a filter, written to a CSV or Parquet file."""

    __tablename__ = "share_exports"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    app_id: Mapped[int] = mapped_column(ForeignKey("api_apps.id"), index=True)
    grant_id: Mapped[int]
    resource_code: Mapped[str] = mapped_column(String(40))
    format: Mapped[str] = mapped_column(String(8))  # "csv" | "parquet"
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(12), default="queued")  # queued|running|done|failed
    rows: Mapped[int | None] = mapped_column(BigInteger)
    bytes: Mapped[int | None] = mapped_column(BigInteger)
    path: Mapped[str | None] = mapped_column(String(500))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
