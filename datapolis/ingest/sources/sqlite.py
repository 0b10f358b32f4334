"""SQLite files: comments ride in the CREATE TABLE text kept by sqlite_master (`-- 注释`)."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import pyarrow as pa

from datapolis.ingest.errors import TerminalSourceError
from datapolis.ingest.sources._arrow import rows_to_batch
from datapolis.ingest.sources._cursor import lower_bound
from datapolis.ingest.sources._errors import classify
from datapolis.ingest.sources._identifiers import check_cursor_column, choose_columns, quote
from datapolis.ingest.sources.base import CursorFilter, SourceColumn, SourceKind, SourceTable
from datapolis.ingest.sources.registry import register_kind

_DECIMAL = re.compile(r"^(DECIMAL|NUMERIC)\s*\(\s*(\d+)\s*,\s*(\d+)\s*\)$", re.IGNORECASE)
_NAME = re.compile(r'^\s*(?:"((?:[^"]|"")+)"|`([^`]+)`|\[([^\]]+)\]|([^\s,(]+))')


def arrow_type(declared: str) -> pa.DataType:
    """SQLite's declared type (its affinity rules, plus dates and decimals) as an Arrow type."""
    upper = declared.upper().strip()
    if match := _DECIMAL.match(upper):
        return pa.decimal128(int(match[2]), int(match[3]))
    if "INT" in upper:
        return pa.int64()
    if upper.startswith("DATETIME") or upper.startswith("TIMESTAMP"):
        return pa.timestamp("us")
    if upper == "DATE":
        return pa.date32()
    if upper in ("BOOLEAN", "BOOL"):
        return pa.bool_()
    if any(word in upper for word in ("CHAR", "CLOB", "TEXT")):
        return pa.string()
    if upper == "BLOB":
        return pa.binary()
    if any(word in upper for word in ("REAL", "FLOA", "DOUB")):
        return pa.float64()
    return pa.string()  # NUMERIC affinity or no type: values of any kind, kept as their text


def parse_comments(create_sql: str) -> tuple[str | None, dict[str, str]]:
    """The table comment (first line) and each column's `-- comment` from a CREATE TABLE."""
    table_comment: str | None = None
    columns: dict[str, str] = {}
    for number, line in enumerate(create_sql.splitlines()):
        code, dashes, comment = line.partition("--")
        if not dashes or not comment.strip():
            continue
        if number == 0:
            table_comment = comment.strip()
            continue
        if match := _NAME.match(code):
            name = next(group for group in match.groups() if group).replace('""', '"')
            if name.upper() not in ("PRIMARY", "UNIQUE", "CHECK", "FOREIGN", "CONSTRAINT"):
                columns[name] = comment.strip()
    return table_comment, columns


class SqliteSource:
    kind: ClassVar[str] = "sqlite"

    def __init__(self, options: Mapping[str, Any], secrets: Mapping[str, str]) -> None:
        if not options.get("path"):
            raise TerminalSourceError("sqlite source: option path is required")
        self.path = Path(str(options["path"]))
        self.label = f"sqlite source {self.path.name}"
        self._connection: sqlite3.Connection | None = None

    def __repr__(self) -> str:
        return f"<SqliteSource {self.path}>"

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None:
            if not self.path.is_file():
                raise TerminalSourceError(f"{self.label}: file {self.path} does not exist")
            try:
                self._connection = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro",
                                                   uri=True, check_same_thread=False)
            except sqlite3.Error as exc:
                raise classify(self.label, exc, {}, transient=False) from None
        return self._connection

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            return self._connect().execute(sql, tuple(params)).fetchall()
        except sqlite3.OperationalError as exc:
            transient = "locked" in str(exc) or "busy" in str(exc)
            raise classify(self.label, exc, {}, transient=transient) from None
        except sqlite3.DatabaseError as exc:
            raise classify(self.label, exc, {}, transient=False) from None

    def test(self) -> str:
        ((version,),) = self._rows("SELECT sqlite_version()")
        count = len(self._rows("SELECT name FROM sqlite_master WHERE type = 'table'"))
        return f"SQLite {version}, {self.path.name}, {count} tables"

    def _create_sql(self, table: str) -> str:
        rows = self._rows("SELECT sql FROM sqlite_master WHERE type IN ('table', 'view') "
                          "AND name = ?", [table])
        if not rows:
            raise TerminalSourceError(f"{self.label}: table {table} does not exist")
        return str(rows[0][0] or "")

    def tables(self) -> list[SourceTable]:
        found = []
        for (name,) in self._rows("SELECT name FROM sqlite_master WHERE type IN "
                                  "('table', 'view') AND name NOT LIKE 'sqlite_%' ORDER BY name"):
            table_comment, _ = parse_comments(self._create_sql(name))
            columns = tuple(self.columns(name))
            ((count,),) = self._rows(f"SELECT count(*) FROM {quote(name)}")  # noqa: S608
            found.append(SourceTable(
                name=name, comment=table_comment, rows_estimate=int(count), columns=columns,
                primary_key=tuple(c.name for c in columns if c.primary_key)))
        return found

    def columns(self, table: str) -> list[SourceColumn]:
        _, comments = parse_comments(self._create_sql(table))
        info = self._rows(f"PRAGMA table_info({quote(table)})")
        keys = sorted((pk, name) for _, name, _, _, _, pk in info if pk)
        key_names = {name for _, name in keys}
        return [SourceColumn(name=name, source_type=declared or "", nullable=not notnull,
                             arrow_type=arrow_type(declared or ""), comment=comments.get(name),
                             primary_key=name in key_names)
                for _, name, declared, notnull, _, _ in info]

    def read(self, table: str, *, columns: Sequence[str] | None = None,
             cursor: CursorFilter | None = None,
             batch_rows: int = 100_000) -> Iterator[pa.RecordBatch]:
        known = {c.name: c for c in self.columns(table)}
        chosen = choose_columns(self.label, table, list(known), columns)
        schema = pa.schema([pa.field(n, known[n].arrow_type) for n in chosen])
        sql = (f"SELECT {', '.join(quote(n) for n in chosen)} "  # noqa: S608
               f"FROM {quote(table)}")
        params: list[Any] = []
        if cursor is not None:
            check_cursor_column(self.label, table, list(known), cursor.column)
            bound = lower_bound(cursor)
            if bound is not None:
                sql += f" WHERE {quote(cursor.column)} >= ?"
                params.append(_sqlite_value(bound))
            sql += f" ORDER BY {quote(cursor.column)}"
        try:
            result = self._connect().execute(sql, params)
        except sqlite3.Error as exc:
            raise classify(self.label, exc, {}, transient="locked" in str(exc)) from None
        seen = 0
        while rows := result.fetchmany(batch_rows):
            yield rows_to_batch(self.label, table, rows, schema, first_row=seen + 1)
            seen += len(rows)

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def _sqlite_value(value: Any) -> Any:
    """Dates compare as the ISO text SQLite stores them as (`2024-05-01 08:00:00`)."""
    if hasattr(value, "isoformat") and not isinstance(value, int | float | str):
        text: str = value.isoformat(sep=" ") if hasattr(value, "hour") else value.isoformat()
        return text
    return value


KIND = register_kind(SourceKind(name="sqlite", label="SQLite file", open=SqliteSource,
                                option_fields=("path",)))
