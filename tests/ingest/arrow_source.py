"""A source plugin over an in-memory Arrow table: the test stand-in for a database."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import ClassVar

import pyarrow as pa
import pyarrow.compute as pc

from datapolis.ingest.errors import TransientSourceError
from datapolis.ingest.sources.base import CursorFilter, SourceColumn, SourceTable


class ArrowSource:
    """A source plugin over an in-memory Arrow table (the test stand-in for a database).

    `fail_after` batches, it raises a transient error, like a database vanishing mid-sync.
    """

    kind: ClassVar[str] = "arrow"

    def __init__(self, data: pa.Table, batch_rows: int = 2, fail_after: int | None = None):
        self.data, self.batch_rows, self.fail_after = data, batch_rows, fail_after

    def test(self) -> str:
        return "arrow"

    def tables(self) -> list[SourceTable]:
        return [SourceTable("t", primary_key=("id",))]

    def columns(self, table: str) -> list[SourceColumn]:
        return [SourceColumn(f.name, str(f.type), f.type) for f in self.data.schema]

    def read(
        self,
        table: str,
        *,
        columns: Sequence[str] | None = None,
        cursor: CursorFilter | None = None,
        batch_rows: int = 100_000,
    ) -> Iterator[pa.RecordBatch]:
        rows = self.data
        if cursor is not None:
            if cursor.after is not None:
                start = cursor.after - cursor.overlap if cursor.overlap else cursor.after
                rows = rows.filter(pc.greater_equal(rows.column(cursor.column), start))
            rows = rows.sort_by(cursor.column)
        for number, batch in enumerate(rows.to_batches(max_chunksize=self.batch_rows)):
            if self.fail_after is not None and number >= self.fail_after:
                raise TransientSourceError("source vanished mid-sync")
            yield batch

    def close(self) -> None:
        pass
