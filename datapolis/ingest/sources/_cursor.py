"""The lower bound of an incremental read: the cursor value minus the overlap."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from datapolis.ingest.errors import TerminalSourceError
from datapolis.ingest.sources.base import CursorFilter


def lower_bound(cursor: CursorFilter) -> Any:
    """`after - overlap`, or `after` when there is no overlap; None reads everything."""
    if cursor.after is None or cursor.overlap in (None, 0):
        return cursor.after
    return cursor.after - cursor.overlap


def filter_batch(source: str, batch: pa.RecordBatch, cursor: CursorFilter,
                 bound: Any) -> pa.RecordBatch:
    """Rows of `batch` at or past `bound` (sources that cannot filter where they read)."""
    column = batch.column(cursor.column)
    try:
        scalar = pa.scalar(bound, type=column.type)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError):
        raise TerminalSourceError(
            f"{source}: cursor value {bound!r} does not compare with column {cursor.column} "
            f"({column.type})") from None
    return batch.filter(pc.greater_equal(column, scalar))
