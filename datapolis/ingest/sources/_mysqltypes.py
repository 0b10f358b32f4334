"""MySQL/MariaDB column types (information_schema COLUMN_TYPE) to Arrow types, without loss."""

from __future__ import annotations

import re

import pyarrow as pa

_INTS = {"tinyint": 8, "smallint": 16, "mediumint": 32, "int": 32, "integer": 32, "bigint": 64}
_DECIMAL = re.compile(r"^(decimal|numeric)\((\d+),(\d+)\)")
_INT = re.compile(r"^(tinyint|smallint|mediumint|int|integer|bigint)\b")


def arrow_type(column_type: str) -> pa.DataType:
    """DATETIME is wall time (no zone); TIMESTAMP is an instant, read with the session in UTC."""
    t = column_type.lower().strip()
    if match := _INT.match(t):
        bits = _INTS[match[1]]
        unsigned = "unsigned" in t
        return {8: pa.uint8(), 16: pa.uint16(), 32: pa.uint32(), 64: pa.uint64()}[bits] \
            if unsigned else {8: pa.int8(), 16: pa.int16(), 32: pa.int32(), 64: pa.int64()}[bits]
    if match := _DECIMAL.match(t):
        precision, scale = int(match[2]), int(match[3])
        return pa.decimal128(precision, scale) if precision <= 38 else pa.decimal256(
            precision, scale)
    if t.startswith("float"):
        return pa.float32()
    if t.startswith(("double", "real")):
        return pa.float64()
    if t == "date":
        return pa.date32()
    if t.startswith("datetime"):
        return pa.timestamp("us")
    if t.startswith("timestamp"):
        return pa.timestamp("us", tz="UTC")
    if t.startswith("time"):
        return pa.duration("us")
    if t.startswith("year"):
        return pa.int16()
    if t.startswith(("binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob",
                     "bit")):
        return pa.binary()
    return pa.string()  # char, varchar, text, enum, set, json (its text), uuid (MariaDB)
