"""Registry tables of catalog search: each entry's segmented text, and a change counter.

Segmenting 100,000 entries takes seconds; reading their tokens back is what a restart does.
Every write of a row takes the next `seq` from the one-row counter table; a serving process
compares the counter with the last one it applied and reads only the rows after it, so several
processes (web workers, the CLI) keep their in-memory indexes current.
"""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from datapolis.registry.base import Base


class SearchDocument(Base):
    __tablename__ = "catalog_search_docs"

    # No foreign key: the row outlives a deleted entry as its tombstone.
    entry_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger, index=True)
    analyzer: Mapped[str] = mapped_column(String(120))  # analyzer.ANALYZER_VERSION
    deleted: Mapped[bool] = mapped_column(default=False)
    tokens: Mapped[dict[str, str]] = mapped_column(JSON)  # field -> tokens joined by spaces
    runs: Mapped[str] = mapped_column(Text)  # Chinese runs joined by spaces
    facets: Mapped[dict[str, str]] = mapped_column(JSON)


class SearchState(Base):
    __tablename__ = "catalog_search_state"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
