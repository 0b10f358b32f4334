"""Registry tables of field encryption: protected columns, the field keyring, index keys.

Key material is stored wrapped (SM4-GCM under the platform's secrets keyring, derived from
DATAPOLIS_SECRET_KEY): the registry alone, a backup of it, or a log never reveals a key.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from datapolis.registry.base import Base, utcnow

# States of a protected column: `encrypting` (designated, the existing rows being encrypted;
# new rows already land encrypted), `protected` (every row encrypted), `unprotecting`.
ENCRYPTING, PROTECTED, UNPROTECTING = "encrypting", "protected", "unprotecting"
# States of a field key: `current` (new writes), `active` (read only), `retired` (gone).
CURRENT, ACTIVE, RETIRED = "current", "active", "retired"


class ProtectedColumn(Base):
    __tablename__ = "field_protections"
    __table_args__ = (UniqueConstraint("table_name", "column_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    table_name: Mapped[str] = mapped_column(String(130), index=True)  # schema.table
    column_name: Mapped[str] = mapped_column(String(64))
    family: Mapped[str] = mapped_column(String(40))  # shares the blind-index key
    plain_type: Mapped[str] = mapped_column(String(64))  # the warehouse type before protection
    state: Mapped[str] = mapped_column(String(16), default=ENCRYPTING)
    since: Mapped[datetime] = mapped_column(default=utcnow)
    by: Mapped[str] = mapped_column(String(128))
    finished_at: Mapped[datetime | None] = mapped_column()
    rows_encrypted: Mapped[int] = mapped_column(BigInteger, default=0)


class FieldKey(Base):
    __tablename__ = "field_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_id: Mapped[str] = mapped_column(String(16), unique=True)
    wrapped: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default=CURRENT)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(128))
    retired_at: Mapped[datetime | None] = mapped_column()
    retired_by: Mapped[str | None] = mapped_column(String(128))


class BlindIndexKey(Base):
    __tablename__ = "field_index_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    family: Mapped[str] = mapped_column(String(40), unique=True)
    wrapped: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(128))
