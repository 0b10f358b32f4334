"""The one narrow interface every warehouse engine offers (DuckDB now, Spark later).

SQL is written once in DuckDB's dialect; an engine with another dialect transpiles it with
sqlglot. Names of schemas, tables and columns pass through `quote_identifier`, values always
travel as parameters: user text never becomes SQL.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import pyarrow as pa

from datapolis.errors import UserError

Params = Sequence[Any] | Mapping[str, Any] | None
WriteMode = Literal["append", "replace", "create"]

# Letters of any script (department files name their columns in Chinese: 月保障金额（元）),
# digits, _ and the brackets and % such names carry; always double-quoted in SQL, so what could
# end a quoted name (`"`), white space and every other punctuation mark stay out.
_IDENTIFIER = re.compile(r"[^\W\d][\w（）()%]{0,62}")  # fullmatch: `$` would let "x\n" by


class WarehouseError(UserError):
    """A warehouse operation failed in a way the caller can explain (bad name, bad SQL...)."""


def is_identifier(name: str) -> bool:
    """Whether the warehouse accepts `name` for a schema, table or column."""
    return _IDENTIFIER.fullmatch(name) is not None


def check_identifier(name: str, what: str = "name") -> str:
    if not is_identifier(name):
        raise WarehouseError(
            f"invalid {what} {name!r}: use letters, digits, _, brackets and %, starting with a "
            "letter or _, at most 63 characters"
        )
    return name


def quote_identifier(name: str) -> str:
    return '"' + check_identifier(name) + '"'


@dataclass(frozen=True)
class TableName:
    schema: str
    name: str

    @classmethod
    def parse(cls, qualified: str) -> TableName:
        schema, dot, name = qualified.partition(".")
        if not dot:
            raise WarehouseError(f"table {qualified!r} must be qualified as schema.table")
        return cls(check_identifier(schema, "schema"), check_identifier(name, "table"))

    @property
    def sql(self) -> str:
        return f"{quote_identifier(self.schema)}.{quote_identifier(self.name)}"

    def __str__(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass(frozen=True)
class ColumnInfo:
    name: str
    type: str
    nullable: bool
    comment: str | None = None


@dataclass(frozen=True)
class TableInfo:
    schema: str
    name: str
    kind: str  # "table" | "view"
    rows: int | None = None  # an estimate where the engine keeps one
    comment: str | None = None


@dataclass(frozen=True)
class MergeResult:
    inserted: int
    updated: int

    @property
    def total(self) -> int:
        return self.inserted + self.updated


class Engine(Protocol):
    """What the rest of Datapolis may ask of a warehouse."""

    dialect: str

    def execute(self, sql: str, params: Params = None) -> None:
        """Run a statement that returns nothing worth reading (DDL, DML)."""

    def query(self, sql: str, params: Params = None) -> pa.Table:
        """Run a query and read the whole result as Arrow."""

    def records(self, sql: str, params: Params = None) -> list[dict[str, Any]]:
        """Run a query whose result is a few rows (a lookup, a page) and read them as dicts:
        cheaper than Arrow when planning, not the rows, is most of the cost."""

    def query_batches(
        self, sql: str, params: Params = None, batch_size: int = 65_536
    ) -> Iterator[pa.RecordBatch]:
        """Run a query and stream its result, memory flat in the result's size."""

    def write(self, table: str, data: pa.Table, mode: WriteMode = "append") -> int:
        """Write Arrow rows into `schema.table`; returns the number of rows written."""

    def merge(
        self,
        table: str,
        data: pa.Table,
        keys: Sequence[str],
        *,
        delete_keys: pa.Table | None = None,
    ) -> MergeResult:
        """Upsert `data` into `table` by `keys` (creating it when absent), atomically."""

    def arrow_schema(self, table: str) -> pa.Schema:
        """The Arrow schema rows of `table` are read with."""

    def sql_types(self, schema: pa.Schema) -> dict[str, str]:
        """The engine's column type for each Arrow field, as `columns()` would report it."""

    def transaction(self) -> AbstractContextManager[None]:
        """Group calls into one atomic commit."""

    def schemas(self) -> list[str]: ...

    def tables(self, schema: str | None = None) -> list[TableInfo]: ...

    def columns(self, table: str) -> list[ColumnInfo]: ...

    def table_exists(self, table: str) -> bool: ...

    def close(self) -> None: ...
