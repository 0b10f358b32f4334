"""Column types of text files: ints, decimals, dates and timestamps, decided over every value.

A value with a leading zero (`0012`) or 11 digits or more (ID numbers, phone numbers, bank
cards) keeps its column a string: those are codes, not numbers.
"""

from __future__ import annotations

import re
from datetime import date

import pyarrow as pa

_INT = re.compile(r"^[+-]?(0|[1-9]\d{0,9})$")
_DECIMAL = re.compile(r"^[+-]?(0|[1-9]\d*)\.(\d+)$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?$")
KINDS = ("int", "decimal", "date", "timestamp")


class ColumnGuess:
    """Narrows the possible kinds of one column as values arrive."""

    def __init__(self) -> None:
        self.kinds = set(KINDS)
        self.integer_digits = 1
        self.scale = 0
        self.seen = False

    def add(self, value: str) -> None:
        if not value or not self.kinds:
            return
        self.seen = True
        if "int" in self.kinds and not _INT.match(value):
            self.kinds.discard("int")
        if "decimal" in self.kinds:
            self._decimal(value)
        if "date" in self.kinds and not _is_date(value):
            self.kinds.discard("date")
        if "timestamp" in self.kinds and not (_TIMESTAMP.match(value) or _is_date(value)):
            self.kinds.discard("timestamp")

    def _decimal(self, value: str) -> None:
        if match := _DECIMAL.match(value):
            whole, fraction = match[1], match[2]
        elif _INT.match(value):
            whole, fraction = value.lstrip("+-"), ""
        else:
            self.kinds.discard("decimal")
            return
        self.integer_digits = max(self.integer_digits, len(whole))
        self.scale = max(self.scale, len(fraction))
        if self.integer_digits + self.scale > 38:
            self.kinds.discard("decimal")

    def arrow_type(self) -> pa.DataType:
        if not self.seen:
            return pa.string()
        for kind in KINDS:  # the narrowest first
            if kind in self.kinds:
                if kind == "int":
                    return pa.int64()
                if kind == "decimal":
                    return pa.decimal128(self.integer_digits + self.scale, self.scale)
                return pa.date32() if kind == "date" else pa.timestamp("us")
        return pa.string()


def _is_date(value: str) -> bool:
    if not _DATE.match(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True
