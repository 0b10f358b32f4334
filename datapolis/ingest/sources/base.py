"""The source plugin contract: what every kind of source (database, file, HTTP API) offers.

Built-in kinds register themselves in `datapolis.ingest.sources.registry` exactly as a
third-party plugin would.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

import pyarrow as pa


@dataclass(frozen=True)
class SourceColumn:
    name: str
    source_type: str  # the type as the source declares it, e.g. "character varying(18)"
    arrow_type: pa.DataType  # what it lands as; types are kept, never widened to text
    nullable: bool = True
    comment: str | None = None  # the Chinese column comment, where the source keeps one
    primary_key: bool = False


@dataclass(frozen=True)
class SourceTable:
    name: str  # as the source addresses it: "public.czrk", "czrk", "dibao_202405.csv"
    comment: str | None = None
    rows_estimate: int | None = None
    primary_key: tuple[str, ...] = ()
    columns: tuple[SourceColumn, ...] = field(default=(), compare=False)


@dataclass(frozen=True)
class CursorFilter:
    """Incremental reads: rows whose `column` is at or after `after` minus `overlap`.

    The overlap re-reads a margin (late commits with earlier timestamps); merging on the
    primary key makes the re-read rows updates, not duplicates.
    """

    column: str
    after: Any  # None reads everything (the first run)
    overlap: Any = None  # e.g. timedelta(minutes=5) for timestamps, 0 for increasing ids


class Source(Protocol):
    kind: ClassVar[str]

    def test(self) -> str:
        """Connect and return a one-line description (server version); raise SourceError."""

    def tables(self) -> list[SourceTable]:
        """Every table the connection may read, with comments and primary keys."""

    def columns(self, table: str) -> list[SourceColumn]: ...

    def read(
        self,
        table: str,
        *,
        columns: Sequence[str] | None = None,
        cursor: CursorFilter | None = None,
        batch_rows: int = 100_000,
    ) -> Iterator[pa.RecordBatch]:
        """Stream the table (or the rows past the cursor, ordered by it) as Arrow batches."""

    def close(self) -> None: ...


@dataclass(frozen=True)
class SourceKind:
    """A registered kind: its name, a label for the UI, and how to build one from settings.

    `options` are the non-secret connection settings (host, port, database, path, url...);
    `secrets` (password, token) arrive decrypted only at connect time and are never logged.
    """

    name: str
    label: str
    open: Any  # Callable[[Mapping[str, Any], Mapping[str, str]], Source]
    option_fields: tuple[str, ...]
    secret_fields: tuple[str, ...] = ()


def redact(options: Mapping[str, Any], secret_fields: Sequence[str]) -> dict[str, Any]:
    return {k: ("••••" if k in secret_fields else v) for k, v in options.items()}
