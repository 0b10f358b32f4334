"""PostgreSQL text output → Python values, by type OID.

Logical replication (pgoutput, text mode) and the initial snapshot both receive values in
PostgreSQL's text format; both convert them here, so a row reads the same whichever way it
arrived. The session must run with `DateStyle=ISO`, `TimeZone=UTC`, `bytea_output=hex` and
`extra_float_digits=3` (see `SESSION_OPTIONS`), which fixes the text formats parsed below.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

SESSION_OPTIONS = (
    "-c client_encoding=UTF8 -c DateStyle=ISO -c TimeZone=UTC -c bytea_output=hex"
    " -c extra_float_digits=3 -c IntervalStyle=postgres"
)

BOOL, BYTEA, CHAR, NAME, INT8, INT2, INT4, TEXT, OID = 16, 17, 18, 19, 20, 21, 23, 25, 26
JSON, FLOAT4, FLOAT8, BPCHAR, VARCHAR, DATE, TIME = 114, 700, 701, 1042, 1043, 1082, 1083
TIMESTAMP, TIMESTAMPTZ, TIMETZ, NUMERIC, UUID, JSONB = 1114, 1184, 1266, 1700, 2950, 3802


def _parse_date(text: str) -> date:
    if text == "infinity":
        return date.max
    if text == "-infinity":
        return date.min
    return date.fromisoformat(text)


def _offset_to_iso(text: str) -> str:
    # PostgreSQL prints offsets as "+08", "+05:30" or "+05:30:15"; fromisoformat wants ±HH:MM.
    for index in range(len(text) - 1, 9, -1):
        if text[index] in "+-":
            offset = text[index + 1 :]
            if ":" not in offset:
                return f"{text[: index + 1]}{offset}:00"
            return text
    return text


def _parse_timestamp(text: str) -> datetime:
    """timestamp and timestamptz → aware UTC (a zone-less timestamp is taken as UTC)."""
    if text == "infinity":
        return datetime.max.replace(tzinfo=UTC)
    if text == "-infinity":
        return datetime.min.replace(tzinfo=UTC)
    value = datetime.fromisoformat(_offset_to_iso(text))
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _parse_timetz(text: str) -> time:
    return time.fromisoformat(_offset_to_iso("0000-00-00" + text)[10:])


def _parse_bytea(text: str) -> bytes:
    return bytes.fromhex(text[2:]) if text.startswith("\\x") else text.encode()


_PARSERS: dict[int, Callable[[str], Any]] = {
    BOOL: lambda text: text == "t",
    BYTEA: _parse_bytea,
    INT2: int,
    INT4: int,
    INT8: int,
    OID: int,
    FLOAT4: float,
    FLOAT8: float,
    NUMERIC: Decimal,
    DATE: _parse_date,
    TIME: time.fromisoformat,
    TIMETZ: _parse_timetz,
    TIMESTAMP: _parse_timestamp,
    TIMESTAMPTZ: _parse_timestamp,
    UUID: uuid.UUID,
}


class UnreadableValue(ValueError):
    """A value Python cannot hold as its type (a date before year 1 or after 9999)."""


def parse_text(type_oid: int, text: str | None) -> Any:
    """One value from its text form; types without a parser (json, arrays, ranges) stay str."""
    if text is None:
        return None
    parser = _PARSERS.get(type_oid)
    if parser is None:
        return text
    try:
        return parser(text)
    except (ValueError, ArithmeticError):
        raise UnreadableValue(
            f"value {text[:40]!r} of type oid {type_oid} is out of range"
        ) from None
