"""The lower bound of an incremental read: the cursor value minus the overlap."""

from __future__ import annotations

from typing import Any

from datapolis.ingest.sources.base import CursorFilter


def lower_bound(cursor: CursorFilter) -> Any:
    """`after - overlap`, or `after` when there is no overlap; None reads everything."""
    if cursor.after is None or cursor.overlap in (None, 0):
        return cursor.after
    return cursor.after - cursor.overlap
