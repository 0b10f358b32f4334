"""Excel workbooks (.xlsx, .xls, .ods) through python-calamine; one table per sheet.

A table is `<file>#<sheet>`; the first row holds the column names. Excel keeps numbers as
doubles: a column whose numbers are all whole lands as int64, otherwise float64. Text cells
(ID numbers, codes with leading zeros) stay text; a column mixing kinds lands as text.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import Any, ClassVar

import pyarrow as pa
from python_calamine import CalamineError, CalamineWorkbook

from datapolis.ingest.errors import TerminalSourceError
from datapolis.ingest.sources._arrow import to_array
from datapolis.ingest.sources._cursor import filter_batch, lower_bound
from datapolis.ingest.sources._files import FileSet
from datapolis.ingest.sources._identifiers import check_cursor_column, choose_columns
from datapolis.ingest.sources.base import CursorFilter, SourceColumn, SourceKind, SourceTable
from datapolis.ingest.sources.registry import register_kind


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "int" if float(value).is_integer() and abs(value) < 2**53 else "float"
    if isinstance(value, datetime):
        return "timestamp"
    if isinstance(value, date):
        return "date"
    return "string"


def _arrow(kinds: set[str]) -> pa.DataType:
    if kinds <= {"int"}:
        return pa.int64() if kinds else pa.string()
    if kinds <= {"int", "float"}:
        return pa.float64()
    if kinds <= {"date", "timestamp"}:
        return pa.date32() if kinds == {"date"} else pa.timestamp("us")
    if kinds == {"bool"}:
        return pa.bool_()
    return pa.string()


def _cell(value: Any, type_: pa.DataType) -> Any:
    if value == "" or value is None:
        return None
    if pa.types.is_string(type_) and not isinstance(value, str):
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return value.isoformat(sep=" ") if isinstance(value, datetime) else str(value)
    if pa.types.is_integer(type_):
        return int(value)
    return value


class XlsxSource:
    kind: ClassVar[str] = "xlsx"

    def __init__(self, options: Mapping[str, Any], secrets: Mapping[str, str]) -> None:
        self.files = FileSet("xlsx", options, (".xlsx", ".xlsm", ".xls", ".ods"))
        self.label = self.files.label

    def __repr__(self) -> str:
        return f"<XlsxSource {self.files.root}>"

    def test(self) -> str:
        return f"{len(self.files.names())} workbook(s) under {self.files.root}"

    def _workbook(self, name: str) -> Any:
        try:
            return CalamineWorkbook.from_path(str(self.files.path(name)))
        except CalamineError as exc:
            raise TerminalSourceError(f"file {name}: not a readable workbook ({exc})") from None

    def _rows(self, table: str) -> Iterator[list[Any]]:
        name, hash_, sheet = table.rpartition("#")
        if not hash_:
            raise TerminalSourceError(f"{self.label}: table {table!r} must be <file>#<sheet>")
        workbook = self._workbook(name)
        if sheet not in workbook.sheet_names:
            raise TerminalSourceError(f"{self.label}: workbook {name} has no sheet {sheet}")
        yield from workbook.get_sheet_by_name(sheet).iter_rows()

    def tables(self) -> list[SourceTable]:
        found = []
        for name in self.files.names():
            for sheet in self._workbook(name).sheet_names:
                table = f"{name}#{sheet}"
                columns, rows = self._profile(table)
                found.append(SourceTable(name=table, comment=f"{name} / {sheet}",
                                         rows_estimate=rows, columns=tuple(columns)))
        return found

    def _profile(self, table: str) -> tuple[list[SourceColumn], int]:
        rows = self._rows(table)
        header = [str(h).strip() or f"column_{i + 1}" for i, h in enumerate(next(rows, []))]
        kinds: list[set[str]] = [set() for _ in header]
        count = 0
        for row in rows:
            count += 1
            for seen, value in zip(kinds, row, strict=False):
                if value != "" and value is not None:
                    seen.add(_kind(value))
        return [SourceColumn(name=name, source_type="excel " + "/".join(sorted(seen)),
                             arrow_type=_arrow(seen))
                for name, seen in zip(header, kinds, strict=True)], count

    def columns(self, table: str) -> list[SourceColumn]:
        return self._profile(table)[0]

    def read(self, table: str, *, columns: Sequence[str] | None = None,
             cursor: CursorFilter | None = None,
             batch_rows: int = 100_000) -> Iterator[pa.RecordBatch]:
        known = self.columns(table)
        names = [c.name for c in known]
        chosen = choose_columns(self.label, table, names, columns)
        if cursor is not None:
            check_cursor_column(self.label, table, names, cursor.column)
        wanted = list(dict.fromkeys([*chosen, *([cursor.column] if cursor else [])]))
        schema = pa.schema([pa.field(n, known[names.index(n)].arrow_type) for n in wanted])
        positions = [names.index(n) for n in wanted]
        bound = lower_bound(cursor) if cursor is not None else None
        rows = self._rows(table)
        next(rows, None)
        buffer: list[list[Any]] = []
        for row in rows:
            buffer.append(row)
            if len(buffer) >= batch_rows:
                yield self._batch(buffer, positions, schema, cursor, bound, chosen)
                buffer = []
        if buffer:
            yield self._batch(buffer, positions, schema, cursor, bound, chosen)

    def _batch(self, rows: list[list[Any]], positions: list[int], schema: pa.Schema,
               cursor: CursorFilter | None, bound: Any, chosen: list[str]) -> pa.RecordBatch:
        arrays = [to_array([_cell(row[p] if p < len(row) else None, f.type) for row in rows],
                           f.type) for p, f in zip(positions, schema, strict=True)]
        batch = pa.RecordBatch.from_arrays(arrays, schema=schema)
        if cursor is not None and bound is not None:
            batch = filter_batch(self.label, batch, cursor, bound)
        return batch.select(chosen)

    def close(self) -> None:
        return None


KIND = register_kind(SourceKind(name="xlsx", label="Excel workbooks", open=XlsxSource,
                                option_fields=("path",)))
