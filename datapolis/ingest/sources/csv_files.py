"""CSV files: encoding detected by strict decoding, column types inferred over every value."""

from __future__ import annotations

import csv
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import pyarrow as pa

from datapolis.ingest.errors import TerminalSourceError
from datapolis.ingest.sources._cursor import filter_batch, lower_bound
from datapolis.ingest.sources._encoding import detect
from datapolis.ingest.sources._files import FileSet
from datapolis.ingest.sources._identifiers import check_cursor_column, choose_columns
from datapolis.ingest.sources._infer import ColumnGuess
from datapolis.ingest.sources.base import CursorFilter, SourceColumn, SourceKind, SourceTable
from datapolis.ingest.sources.registry import register_kind


def _header(names: list[str]) -> list[str]:
    """Blank headers get `column_N`; a repeated header gets `_2`, `_3`."""
    seen: dict[str, int] = {}
    out = []
    for number, raw in enumerate(names, start=1):
        name = raw.strip() or f"column_{number}"
        if name in seen:
            seen[name] += 1
            name = f"{name}_{seen[name]}"
        else:
            seen[name] = 1
        out.append(name)
    return out


class CsvSource:
    kind: ClassVar[str] = "csv"

    def __init__(self, options: Mapping[str, Any], secrets: Mapping[str, str]) -> None:
        self.files = FileSet("csv", options, (".csv", ".txt"))
        self.label = self.files.label
        self.delimiter = str(options.get("delimiter", ","))
        self.forced_encoding: str | None = options.get("encoding")
        self._profiles: dict[str, tuple[tuple[float, int], str, list[SourceColumn], int]] = {}

    def __repr__(self) -> str:
        return f"<CsvSource {self.files.root}>"

    def test(self) -> str:
        return f"{len(self.files.names())} CSV file(s) under {self.files.root}"

    def _profile(self, name: str) -> tuple[str, list[SourceColumn], int]:
        """Encoding, columns and row count of a file; one full pass, cached until it changes."""
        path = self.files.path(name)
        stat = path.stat()
        stamp = (stat.st_mtime, stat.st_size)
        cached = self._profiles.get(name)
        if cached and cached[0] == stamp:
            return cached[1], cached[2], cached[3]
        encoding = self.forced_encoding or detect(path, delimiter=self.delimiter)
        rows = 0
        with self._open(path, encoding) as stream:
            reader = csv.reader(stream, delimiter=self.delimiter)
            header = _header(next(reader, []))
            guesses = [ColumnGuess() for _ in header]
            for row in reader:
                rows += 1
                self._check_width(name, rows, header, row)
                for guess, value in zip(guesses, row, strict=True):
                    guess.add(value.strip())
        columns = [SourceColumn(name=column, source_type=f"text ({encoding})",
                                arrow_type=guess.arrow_type())
                   for column, guess in zip(header, guesses, strict=True)]
        self._profiles[name] = (stamp, encoding, columns, rows)
        return encoding, columns, rows

    def _open(self, path: Path, encoding: str) -> Any:
        try:
            return path.open("r", encoding=encoding, newline="")
        except LookupError:
            raise TerminalSourceError(f"{self.label}: unknown encoding {encoding!r}") from None

    def _check_width(self, name: str, row: int, header: list[str], values: list[str]) -> None:
        if len(values) != len(header):
            raise TerminalSourceError(
                f"file {name}: row {row} has {len(values)} fields, the header has {len(header)}")

    def tables(self) -> list[SourceTable]:
        found = []
        for name in self.files.names():
            encoding, columns, rows = self._profile(name)
            found.append(SourceTable(name=name, comment=f"CSV, {encoding}", rows_estimate=rows,
                                     columns=tuple(columns)))
        return found

    def columns(self, table: str) -> list[SourceColumn]:
        return self._profile(table)[1]

    def read(self, table: str, *, columns: Sequence[str] | None = None,
             cursor: CursorFilter | None = None,
             batch_rows: int = 100_000) -> Iterator[pa.RecordBatch]:
        encoding, known, _ = self._profile(table)
        names = [c.name for c in known]
        chosen = choose_columns(self.label, table, names, columns)
        if cursor is not None:
            check_cursor_column(self.label, table, names, cursor.column)
        wanted = list(dict.fromkeys([*chosen, *([cursor.column] if cursor else [])]))
        positions = [names.index(n) for n in wanted]
        schema = pa.schema([pa.field(n, known[names.index(n)].arrow_type) for n in wanted])
        bound = lower_bound(cursor) if cursor is not None else None
        with self._open(self.files.path(table), encoding) as stream:
            reader = csv.reader(stream, delimiter=self.delimiter)
            header = next(reader, [])
            buffer: list[list[str]] = []
            for number, row in enumerate(reader, start=1):
                self._check_width(table, number, header, row)
                buffer.append(row)
                if len(buffer) >= batch_rows:
                    yield self._batch(buffer, positions, schema, cursor, bound, chosen)
                    buffer = []
            if buffer:
                yield self._batch(buffer, positions, schema, cursor, bound, chosen)

    def _batch(self, rows: list[list[str]], positions: list[int], schema: pa.Schema,
               cursor: CursorFilter | None, bound: Any, chosen: list[str]) -> pa.RecordBatch:
        arrays = []
        for position, field in zip(positions, schema, strict=True):
            if pa.types.is_string(field.type):  # text lands as written; typed values trimmed
                values = [row[position] or None for row in rows]
            else:
                values = [row[position].strip() or None for row in rows]
            arrays.append(pa.array(values, pa.string()).cast(field.type))
        batch = pa.RecordBatch.from_arrays(arrays, schema=schema)
        if cursor is not None and bound is not None:
            batch = filter_batch(self.label, batch, cursor, bound)
        return batch.select(chosen)

    def close(self) -> None:
        return None


KIND = register_kind(SourceKind(name="csv", label="CSV files", open=CsvSource,
                                option_fields=("path", "delimiter", "encoding")))
