"""PostgreSQL types (as `format_type` spells them) to Arrow types, kept without loss.

uuid lands as the canonical `arrow.uuid` extension (DuckDB reads it as UUID); json and jsonb
land as their text (Arrow has no JSON storage of its own); a type with no exact Arrow twin
(unconstrained numeric, intervals, arrays, ranges, geometry) is read as its text form.
"""

from __future__ import annotations

import re

import pyarrow as pa

_FIXED: dict[str, pa.DataType] = {
    "smallint": pa.int16(),
    "integer": pa.int32(),
    "bigint": pa.int64(),
    "real": pa.float32(),
    "double precision": pa.float64(),
    "boolean": pa.bool_(),
    "date": pa.date32(),
    "bytea": pa.binary(),
    "uuid": pa.uuid(),
    "text": pa.string(),
    "name": pa.string(),
    "citext": pa.string(),
    "json": pa.string(),
    "jsonb": pa.string(),
    "oid": pa.int64(),
}
_NUMERIC = re.compile(r"^numeric\((\d+),(\d+)\)$")
_STRINGS = re.compile(r"^(character varying|character|varchar|char|bpchar)(\(\d+\))?$")
_TIMESTAMP = re.compile(r"^timestamp(\(\d\))? with(out)? time zone$")
_TIME = re.compile(r"^time(\(\d\))? without time zone$")


def arrow_type(source_type: str) -> tuple[pa.DataType, bool]:
    """The Arrow type and whether the read must select the column's text (`col::text`)."""
    if source_type in _FIXED:
        return _FIXED[source_type], False
    if _STRINGS.match(source_type):
        return pa.string(), False
    if match := _NUMERIC.match(source_type):
        precision, scale = int(match[1]), int(match[2])
        if precision <= 38:
            return pa.decimal128(precision, scale), False
        return pa.decimal256(precision, scale), False
    if match := _TIMESTAMP.match(source_type):
        return pa.timestamp("us", tz=None if match[2] else "UTC"), False
    if _TIME.match(source_type):
        return pa.time64("us"), False
    return pa.string(), True


def conform(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """Cast what the driver delivered (opaque numeric text, arrow.json) to the declared types."""
    arrays = []
    for array, field in zip(batch.columns, schema, strict=True):
        if array.type != field.type:
            extension = pa.BaseExtensionType
            if isinstance(array.type, extension) and not isinstance(field.type, extension):
                array = array.storage
            if array.type != field.type:
                array = array.cast(field.type)
        arrays.append(array)
    return pa.RecordBatch.from_arrays(arrays, schema=schema)
