"""Table specifications of the department systems and their DDL in three dialects."""

from __future__ import annotations

import enum
from dataclasses import dataclass

import pyarrow as pa


class DataKind(enum.StrEnum):
    """What a column truly holds, for scoring the PII classifier later."""

    RESIDENT_ID = "resident_id"
    CREDIT_CODE = "credit_code"
    MOBILE = "mobile"
    LANDLINE = "landline"
    BANK_CARD = "bank_card"
    EMAIL = "email"
    PERSON_NAME = "person_name"
    ADDRESS = "address"
    LICENCE_PLATE = "licence_plate"
    PASSPORT = "passport"
    NONE = "none"


class Dirt(enum.StrEnum):
    CHECK_DIGIT = "check_digit"
    LEGACY_ID15 = "legacy_id15"
    FULLWIDTH = "fullwidth"
    DATE_FORMAT = "date_format"
    BLANK = "blank"
    STALE = "stale"
    CONFLICT = "conflict"
    EXACT_DUPLICATE = "exact_duplicate"
    NEAR_DUPLICATE = "near_duplicate"


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # int | str:<n> | text | date | datetime | money | real
    comment: str
    kind: DataKind = DataKind.NONE
    dirt: tuple[Dirt, ...] = ()

    @property
    def arrow_type(self) -> pa.DataType:
        base = self.type.split(":")[0]
        return {"int": pa.int64(), "str": pa.string(), "text": pa.string(),
                "date": pa.date32(), "datetime": pa.timestamp("s"), "money": pa.float64(),
                "real": pa.float64()}[base]


@dataclass(frozen=True)
class Table:
    name: str
    comment: str
    columns: tuple[Column, ...]
    duplicates: bool = False  # eligible for exact/near duplicate rows (needs an int pk)

    @property
    def pk(self) -> str:
        return self.columns[0].name

    @property
    def schema(self) -> pa.Schema:
        return pa.schema([(c.name, c.arrow_type) for c in self.columns])


def col(name: str, type_: str, comment: str, kind: DataKind = DataKind.NONE,
        *dirt: Dirt) -> Column:
    return Column(name, type_, comment, kind, tuple(dirt))


def _sql_type(column: Column, dialect: str) -> str:
    base, _, size = column.type.partition(":")
    if base == "int":
        return "INTEGER" if dialect == "sqlite" else "BIGINT"
    if base == "str":
        return f"VARCHAR({size})"
    if base == "text":
        return "TEXT"
    if base == "date":
        return "DATE"
    if base == "datetime":
        return {"sqlite": "DATETIME", "postgresql": "TIMESTAMP", "mysql": "DATETIME"}[dialect]
    if base == "money":
        return "DECIMAL(14,2)"
    if base == "real":
        return "DOUBLE PRECISION" if dialect == "postgresql" else "DOUBLE"
    raise ValueError(column.type)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def ddl(table: Table, dialect: str) -> list[str]:
    """CREATE TABLE (and COMMENT) statements carrying every Chinese comment.

    SQLite has no COMMENT, but keeps the original CREATE text in sqlite_master, so the
    comments ride along as `--` comments inside the statement.
    """
    if dialect == "sqlite":
        lines = [f"CREATE TABLE {table.name} ( -- {table.comment}"]
        for i, c in enumerate(table.columns):
            pk = " NOT NULL PRIMARY KEY" if i == 0 else ""
            comma = "," if i < len(table.columns) - 1 else ""
            lines.append(f"  {c.name} {_sql_type(c, dialect)}{pk}{comma} -- {c.comment}")
        return ["\n".join(lines) + "\n)"]
    if dialect == "postgresql":
        cols = [f"{c.name} {_sql_type(c, dialect)}" for c in table.columns]
        cols.append(f"PRIMARY KEY ({table.pk})")
        out = [f"CREATE TABLE {table.name} (\n  " + ",\n  ".join(cols) + "\n)",
               f"COMMENT ON TABLE {table.name} IS {_quote(table.comment)}"]
        out += [f"COMMENT ON COLUMN {table.name}.{c.name} IS {_quote(c.comment)}"
                for c in table.columns]
        return out
    if dialect == "mysql":
        cols = [f"`{c.name}` {_sql_type(c, dialect)} COMMENT {_quote(c.comment)}"
                for c in table.columns]
        cols.append(f"PRIMARY KEY (`{table.pk}`)")
        return [f"CREATE TABLE `{table.name}` (\n  " + ",\n  ".join(cols)
                + f"\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COMMENT={_quote(table.comment)}"]
    raise ValueError(dialect)


def conform(table: Table, columns: dict[str, pa.Array]) -> pa.Table:
    """Arrange generated columns in spec order and types; extra `_`-columns ride along."""
    arrays = [pa.array(columns[c.name]).cast(c.arrow_type) for c in table.columns]
    names = [c.name for c in table.columns]
    for key, value in columns.items():
        if key.startswith("_"):
            arrays.append(pa.array(value))
            names.append(key)
    return pa.Table.from_arrays(arrays, names=names)
