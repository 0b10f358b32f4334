"""Schema drift: the ods table follows its source table's columns without losing anything.

A new source column appears (nullable); a widened type widens; a dropped column stays, filled
with nulls from then on; any other type change (narrowing, or to an unrelated type) stops the
run before anything is written. Every drift is returned for the run history.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pyarrow as pa

from datapolis.ingest.errors import TerminalSourceError
from datapolis.warehouse.engine import Engine, TableName, quote_identifier

INTEGERS = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT")
FLOATS = ("FLOAT", "DOUBLE")
INTEGER_DIGITS = {"TINYINT": 3, "SMALLINT": 5, "INTEGER": 10, "BIGINT": 19, "HUGEINT": 39}
_DECIMAL = re.compile(r"^DECIMAL\((\d+),\s*(\d+)\)$")
# Bookkeeping columns the highway adds itself; never "dropped" by the source.
OWN_COLUMNS = frozenset({"_deleted", "_deleted_at", "_synced_at"})


class IncompatibleSchema(TerminalSourceError):
    """A source column changed type in a way ods cannot follow without losing data."""


@dataclass(frozen=True)
class Drift:
    column: str
    change: str  # added | widened | dropped
    old_type: str | None
    new_type: str | None


def widens(old: str, new: str) -> bool:
    """Whether every value of DuckDB type `old` fits `new` exactly."""
    if old == new:
        return True
    if old in INTEGERS and new in INTEGERS:
        return INTEGERS.index(new) > INTEGERS.index(old)
    if old in FLOATS and new in FLOATS:
        return new == "DOUBLE"
    if old in ("TINYINT", "SMALLINT", "INTEGER") and new == "DOUBLE":
        return True
    new_decimal = _DECIMAL.match(new)
    if new_decimal is None:
        return old == "DATE" and new in ("TIMESTAMP", "TIMESTAMP WITH TIME ZONE")
    precision, scale = int(new_decimal.group(1)), int(new_decimal.group(2))
    if old in INTEGER_DIGITS:
        return precision - scale >= INTEGER_DIGITS[old]
    old_decimal = _DECIMAL.match(old)
    if old_decimal is None:
        return False
    old_precision, old_scale = int(old_decimal.group(1)), int(old_decimal.group(2))
    return scale >= old_scale and precision - scale >= old_precision - old_scale


def plan(target: str, existing: dict[str, str], arriving: dict[str, str]) -> list[Drift]:
    """The drifts from `existing` to `arriving` column types; refuses incompatible changes."""
    problems = [
        f"{name}: {existing[name]} → {new}"
        for name, new in arriving.items()
        if name in existing and not widens(existing[name], new)
    ]
    if problems:
        raise IncompatibleSchema(
            f"{target}: source column types changed incompatibly ({'; '.join(problems)}); "
            "nothing was written. Rename the column at the source, or resync into a new table."
        )
    drifts = [
        Drift(name, "added", None, new) if name not in existing
        else Drift(name, "widened", existing[name], new)
        for name, new in arriving.items()
        if existing.get(name) != new
    ]
    drifts += [
        Drift(name, "dropped", old, None)
        for name, old in existing.items()
        if name not in arriving and name not in OWN_COLUMNS
    ]
    return drifts


def apply(engine: Engine, target: str, drifts: list[Drift], *, restore_dropped: bool) -> None:
    """Alter `target` for the drifts; with `restore_dropped`, re-add dropped columns (a fresh
    snapshot lacks them) so they stay, holding nulls."""
    table = TableName.parse(target)
    for drift in drifts:
        column = quote_identifier(drift.column)
        if drift.change == "added":
            engine.execute(f"ALTER TABLE {table.sql} ADD COLUMN {column} {drift.new_type}")
        elif drift.change == "widened":
            engine.execute(f"ALTER TABLE {table.sql} ALTER COLUMN {column} TYPE {drift.new_type}")
        elif restore_dropped:
            engine.execute(f"ALTER TABLE {table.sql} ADD COLUMN {column} {drift.old_type}")


def column_types(engine: Engine, table: str) -> dict[str, str]:
    return {column.name: column.type for column in engine.columns(table)}


def reconcile(engine: Engine, target: str, incoming: pa.Schema) -> list[Drift]:
    """Bring an existing `target` in line with `incoming` rows (inside their transaction)."""
    if not engine.table_exists(target):
        return []
    drifts = plan(target, column_types(engine, target), engine.sql_types(incoming))
    apply(engine, target, drifts, restore_dropped=False)
    return drifts
