"""Registry tables of the portal: usage counts per dataset and day."""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Date, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from datapolis.registry.base import Base


class DatasetUsage(Base):
    """How often one dataset was viewed, downloaded or called through the API on one day."""

    __tablename__ = "portal_usage"
    __table_args__ = (UniqueConstraint("dataset_code", "day", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dataset_code: Mapped[str] = mapped_column(String(40), index=True)  # the resource code
    org_code: Mapped[str] = mapped_column(String(64), index=True)  # its provider, then
    day: Mapped[date] = mapped_column(Date, index=True)  # UTC day
    kind: Mapped[str] = mapped_column(String(16))
    count: Mapped[int] = mapped_column(BigInteger, default=0)
