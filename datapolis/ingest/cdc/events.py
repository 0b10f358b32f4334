"""What every change-capture reader yields, whatever the database underneath."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any


class Op(enum.StrEnum):
    INSERT = "insert"
    UPDATE = "update"
    DELETE = "delete"
    TRUNCATE = "truncate"  # every row of the table is gone; `row` is empty (PostgreSQL only)


@dataclass(frozen=True)
class Change:
    """One row change, in commit order.

    `row` holds the new values (insert, update) or the old key values at least (delete).
    An update's row may be partial: a column left out keeps its previous value (PostgreSQL
    does not resend an unchanged TOASTed value), so consumers merge it column by column.
    `position` is the reader's opaque, persistable resume point *after* this change's
    transaction (PostgreSQL: the commit LSN as text; MySQL: "file:pos" or a GTID set); it is
    stored only once the warehouse has committed the change.
    """

    table: str  # "schema.table" (PostgreSQL) or "database.table" (MySQL)
    op: Op
    row: dict[str, Any]
    key: tuple[str, ...]  # primary-key column names
    committed_at: datetime  # source commit time, UTC-aware: lag = warehouse commit - this
    position: str
    transaction_end: bool = False  # the last change of its source transaction


@dataclass(frozen=True)
class Heartbeat:
    """No change, but the stream is alive at `position` (lets lag and offsets move on)."""

    position: str
    at: datetime
