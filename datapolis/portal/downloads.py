"""Download writers: Arrow batches in, bytes out, one batch at a time.

Each format is a small plugin in `WRITERS` (keyed by file extension, matching
`datasets.DOWNLOAD_FORMATS`). A writer never holds more than one batch of rows: CSV, JSON and
Parquet bytes go out as each batch is encoded; XLSX, a zip that can only be finished at the end,
is written by openpyxl's write-only mode into a temporary file that is then sent in chunks and
removed. So the server's memory stays flat in the size of the data.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from io import BytesIO
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from datapolis.errors import NotFound, UserError
from datapolis.portal.datasets import DOWNLOAD_FORMATS, DownloadFormat
from datapolis.warehouse.engine import WarehouseError

BOM = "\ufeff".encode()
CHUNK = 1 << 16
JSON_SLICE = 8192
XLSX_MAX_ROWS = 1_048_575  # a sheet holds 1,048,576 rows, one of them the header


Writer = Callable[[list[str], Iterable[pa.RecordBatch]], Iterator[bytes]]


@dataclass(frozen=True)
class Download:
    format: DownloadFormat
    write: Writer


def _csv(labels: list[str], batches: Iterable[pa.RecordBatch]) -> Iterator[bytes]:
    """UTF-8 with a byte-order mark, so Excel opens Chinese text correctly."""
    yield BOM
    header = BytesIO()
    pa_csv.write_csv(pa.table([pa.array([], pa.null()) for _ in labels], names=labels), header)
    yield header.getvalue()
    options = pa_csv.WriteOptions(include_header=False)
    for batch in batches:
        out = BytesIO()
        pa_csv.write_csv(batch, out, options)
        yield out.getvalue()


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def _json(labels: list[str], batches: Iterable[pa.RecordBatch]) -> Iterator[bytes]:
    """One JSON array of row objects keyed by column, written a batch at a time."""
    del labels
    yield b"["
    first = True
    for batch in batches:
        # Python objects cost ~10x the Arrow bytes: convert a slice of a batch at a time.
        for offset in range(0, batch.num_rows, JSON_SLICE):
            rows = batch.slice(offset, JSON_SLICE).to_pylist()
            text = ",\n".join(json.dumps(row, ensure_ascii=False, default=_plain)
                               for row in rows)
            yield ((b"\n" if first else b",\n") + text.encode())
            first = False
    yield b"\n]\n"


class _Drain:
    """A write-only file for ParquetWriter whose bytes are taken out after every row group."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._position = 0
        self.closed = False

    def write(self, data: bytes) -> int:
        chunk = bytes(data)
        self._parts.append(chunk)
        self._position += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self._position

    def flush(self) -> None:
        return None

    def close(self) -> None:
        self.closed = True

    def writable(self) -> bool:
        return True

    def take(self) -> bytes:
        data, self._parts = b"".join(self._parts), []
        return data


def _parquet(labels: list[str], batches: Iterable[pa.RecordBatch]) -> Iterator[bytes]:
    del labels
    sink = _Drain()
    writer: pq.ParquetWriter | None = None
    for batch in batches:
        if writer is None:
            writer = pq.ParquetWriter(sink, batch.schema, compression="zstd")
        writer.write_batch(batch)
        yield sink.take()
    if writer is None:  # no batch at all: an empty file still needs a schema
        writer = pq.ParquetWriter(sink, pa.schema([]))
    writer.close()
    yield sink.take()


def _cell(value: Any) -> Any:
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)  # Excel has no time zones; values are UTC
    if isinstance(value, date | time | int | float | Decimal | bool) or value is None:
        return value
    return _plain(value)


def _rows(batches: Iterable[pa.RecordBatch]) -> Iterator[tuple[Any, ...]]:
    for batch in batches:
        for offset in range(0, batch.num_rows, JSON_SLICE):
            part = batch.slice(offset, JSON_SLICE)
            yield from zip(*(column.to_pylist() for column in part.columns), strict=True)


def _xlsx(labels: list[str], batches: Iterable[pa.RecordBatch]) -> Iterator[bytes]:
    """openpyxl's write-only workbook (rows go to temporary files as they come), a new sheet
    every `XLSX_MAX_ROWS` rows; the finished file is sent in chunks and removed."""
    book = Workbook(write_only=True)
    sheet = None
    rows_in_sheet = 0
    for row in _rows(batches):
        if sheet is None or rows_in_sheet >= XLSX_MAX_ROWS:
            sheet = book.create_sheet(f"data{len(book.worksheets) + 1}")
            sheet.append(labels)
            rows_in_sheet = 0
        sheet.append([_cell(value) for value in row])
        rows_in_sheet += 1
    if sheet is None:
        book.create_sheet("data1").append(labels)
    handle, path = tempfile.mkstemp(prefix="datapolis-", suffix=".xlsx")
    os.close(handle)
    try:
        book.save(path)
        with open(path, "rb") as source:
            while chunk := source.read(CHUNK):
                yield chunk
    finally:
        os.unlink(path)


_BY_EXTENSION = {fmt.extension: fmt for fmt in DOWNLOAD_FORMATS}
WRITERS: dict[str, Download] = {
    "csv": Download(_BY_EXTENSION["csv"], _csv),
    "xlsx": Download(_BY_EXTENSION["xlsx"], _xlsx),
    "json": Download(_BY_EXTENSION["json"], _json),
    "parquet": Download(_BY_EXTENSION["parquet"], _parquet),
}


def started(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """The batches with the first one already read, so a query that fails (a type mismatch in
    a filter, say) fails before the response starts: a clear 400, not a cut-off body."""
    try:
        first = next(batches)
    except StopIteration:
        return iter(())
    except WarehouseError as exc:
        raise UserError(str(exc)) from None
    except Exception as exc:
        # The embedded engine raises its own errors while a reader is consumed (a value that
        # does not convert in a filter): the caller's query, so a 400 with its first line.
        if not type(exc).__module__.lstrip("_").startswith("duckdb"):
            raise
        raise UserError(f"the query failed: {str(exc).splitlines()[0]}") from None

    def chained() -> Iterator[pa.RecordBatch]:
        yield first
        yield from batches

    return chained()


def writer_for(extension: str) -> Download:
    found = WRITERS.get(extension.lower())
    if found is None:
        raise NotFound(f"no download format {extension!r}; formats: {', '.join(WRITERS)}")
    return found


def media_type(download: Download) -> str:
    if download.format.extension in ("csv", "json"):
        return f"{download.format.media_type}; charset=utf-8"
    return download.format.media_type
