"""Rows of Python values (DB-API drivers, parsed files) into typed Arrow batches."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from datapolis.ingest.errors import TerminalSourceError

# pa.ArrowException covers Arrow's invalid-value, wrong-type and unsupported-conversion errors
# (the last one a value of a kind Arrow cannot convert to the column's type at all).
_CONVERSION_ERRORS = (pa.ArrowException, TypeError, ValueError, OverflowError)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", errors="replace")
    return str(value)


def to_array(values: Sequence[Any], type_: pa.DataType) -> pa.Array:
    """An array of `type_`; values the driver returned as text (dates, decimals) are parsed."""
    try:
        return pa.array(values, type=type_)
    except _CONVERSION_ERRORS:
        texts = pa.array([_text(v) for v in values], type=pa.string())
        if pa.types.is_string(type_):
            return texts
        return texts.cast(type_)


def rows_to_batch(source: str, table: str, rows: Sequence[Sequence[Any]], schema: pa.Schema,
                  first_row: int = 1) -> pa.RecordBatch:
    """Transpose rows into columns; a value that does not fit its column is a terminal error."""
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in schema]
    arrays = []
    for values, field in zip(columns, schema, strict=True):
        try:
            arrays.append(to_array(values, field.type))
        except _CONVERSION_ERRORS as exc:
            offset = _first_bad(values, field.type)
            raise TerminalSourceError(
                f"{source}: table {table}, row {first_row + offset}, column {field.name}: "
                f"value {values[offset]!r} is not a {field.type} ({exc})") from None
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def _first_bad(values: Sequence[Any], type_: pa.DataType) -> int:
    for offset, value in enumerate(values):
        try:
            to_array([value], type_)
        except _CONVERSION_ERRORS:
            return offset
    return 0
