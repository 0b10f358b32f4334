"""MySQL and MariaDB through PyMySQL: comments from information_schema, rows streamed
unbuffered (SSCursor) so memory stays flat whatever the table size."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC
from typing import Any, ClassVar

import pyarrow as pa
import pymysql
import pymysql.cursors

from datapolis.ingest.errors import SourceError, TerminalSourceError
from datapolis.ingest.sources._arrow import rows_to_batch
from datapolis.ingest.sources._cursor import lower_bound
from datapolis.ingest.sources._errors import classify
from datapolis.ingest.sources._identifiers import check_cursor_column, choose_columns, quote
from datapolis.ingest.sources._mysqltypes import arrow_type
from datapolis.ingest.sources.base import CursorFilter, SourceColumn, SourceKind, SourceTable
from datapolis.ingest.sources.registry import register_kind

# Server and client error codes worth a retry: unreachable, gone away, lost, too many
# connections, lock wait timeout, deadlock, server shutting down.
_TRANSIENT_CODES = {2002, 2003, 2006, 2013, 1040, 1205, 1213, 1053}

_TABLES = """
SELECT TABLE_NAME, TABLE_COMMENT, TABLE_ROWS FROM information_schema.TABLES
WHERE TABLE_SCHEMA = %s ORDER BY TABLE_NAME
"""
_COLUMNS = """
SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_COMMENT, COLUMN_KEY
FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s
ORDER BY ORDINAL_POSITION
"""
_KEYS = """
SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE
WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s AND CONSTRAINT_NAME = 'PRIMARY'
ORDER BY ORDINAL_POSITION
"""


class MysqlSource:
    kind: ClassVar[str] = "mysql"

    def __init__(self, options: Mapping[str, Any], secrets: Mapping[str, str]) -> None:
        self._options = dict(options)
        self._secrets = dict(secrets)
        if not options.get("database"):
            raise TerminalSourceError("mysql source: option database is required")
        self.database = str(options["database"])
        host, port = options.get("host", "127.0.0.1"), int(options.get("port", 3306))
        self.label = f"mysql source {self.database}@{host}:{port}"
        self._connection: pymysql.connections.Connection[Any] | None = None

    def __repr__(self) -> str:
        return f"<MysqlSource {self.label}>"

    def _connect(self) -> pymysql.connections.Connection[Any]:
        if self._connection is None:
            o = self._options
            try:
                self._connection = pymysql.connect(
                    host=str(o.get("host", "127.0.0.1")), port=int(o.get("port", 3306)),
                    user=str(o.get("user", "root")), password=self._secrets.get("password", ""),
                    database=self.database, charset="utf8mb4",
                    connect_timeout=int(o.get("connect_timeout", 10)),
                    init_command="SET time_zone = '+00:00'", autocommit=True)
            except Exception as exc:
                raise self._failure(exc) from None
        return self._connection

    def _failure(self, exc: Exception) -> SourceError:
        if isinstance(exc, SourceError):
            return exc
        code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else None
        transient = True if code in _TRANSIENT_CODES else None if code is None else False
        return classify(self.label, exc, self._secrets, transient=transient)

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            with self._connect().cursor() as cursor:
                cursor.execute(sql, tuple(params))
                return list(cursor.fetchall())
        except Exception as exc:
            raise self._failure(exc) from None

    def test(self) -> str:
        ((version,),) = self._rows("SELECT VERSION()")
        flavour = "MariaDB" if "mariadb" in str(version).lower() else "MySQL"
        return f"{flavour} {str(version).split('-')[0]}"

    def tables(self) -> list[SourceTable]:
        found = []
        for name, comment, estimate in self._rows(_TABLES, [self.database]):
            columns = tuple(self.columns(name))
            keys = tuple(str(k) for (k,) in self._rows(_KEYS, [self.database, name]))
            found.append(SourceTable(name=str(name), comment=comment or None,
                                     rows_estimate=None if estimate is None else int(estimate),
                                     primary_key=keys, columns=columns))
        return found

    def columns(self, table: str) -> list[SourceColumn]:
        rows = self._rows(_COLUMNS, [self.database, table])
        if not rows:
            raise TerminalSourceError(f"{self.label}: table {table} does not exist")
        return [SourceColumn(name=str(name), source_type=str(column_type),
                             arrow_type=arrow_type(str(column_type)),
                             nullable=nullable == "YES", comment=comment or None,
                             primary_key=key == "PRI")
                for name, column_type, nullable, comment, key in rows]

    def read(self, table: str, *, columns: Sequence[str] | None = None,
             cursor: CursorFilter | None = None,
             batch_rows: int = 100_000) -> Iterator[pa.RecordBatch]:
        known = {c.name: c for c in self.columns(table)}
        chosen = choose_columns(self.label, table, list(known), columns)
        schema = pa.schema([pa.field(n, known[n].arrow_type) for n in chosen])
        sql = (f"SELECT {', '.join(quote(n, '`') for n in chosen)} "  # noqa: S608
               f"FROM {quote(table, '`')}")
        params: list[Any] = []
        if cursor is not None:
            check_cursor_column(self.label, table, list(known), cursor.column)
            bound = lower_bound(cursor)
            if bound is not None:
                if getattr(bound, "tzinfo", None) is not None:
                    bound = bound.astimezone(UTC).replace(tzinfo=None)  # session is in UTC
                sql += f" WHERE {quote(cursor.column, '`')} >= %s"
                params.append(bound)
            sql += f" ORDER BY {quote(cursor.column, '`')}"
        connection = self._connect()
        streaming = connection.cursor(pymysql.cursors.SSCursor)
        abandoned = False
        try:
            try:
                streaming.execute(sql, tuple(params))
            except Exception as exc:
                raise self._failure(exc) from None
            seen = 0
            while True:
                try:
                    rows = streaming.fetchmany(batch_rows)
                except Exception as exc:
                    raise self._failure(exc) from None
                if not rows:
                    return
                yield rows_to_batch(self.label, table, rows, schema, first_row=seen + 1)
                seen += len(rows)
        except GeneratorExit:
            abandoned = True
            self._kill_query(connection)
            raise
        finally:
            with contextlib.suppress(pymysql.err.Error):
                streaming.close()  # after a kill this reads the error, not the rest
            if abandoned:
                self.close()

    def _kill_query(self, connection: pymysql.connections.Connection[Any]) -> None:
        """Stopped early: kill the query instead of draining the rest of the table."""
        o = self._options
        thread_id: int = connection.thread_id()  # type: ignore[no-untyped-call]
        with contextlib.suppress(pymysql.err.Error):
            killer = pymysql.connect(
                host=str(o.get("host", "127.0.0.1")), port=int(o.get("port", 3306)),
                user=str(o.get("user", "root")), password=self._secrets.get("password", ""),
                connect_timeout=int(o.get("connect_timeout", 10)))
            with killer.cursor() as cursor:
                cursor.execute("KILL QUERY %s", (thread_id,))
            killer.close()

    def close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(pymysql.err.Error):
                self._connection.close()
            self._connection = None


KIND = register_kind(SourceKind(
    name="mysql", label="MySQL / MariaDB", open=MysqlSource,
    option_fields=("host", "port", "database", "user", "connect_timeout"),
    secret_fields=("password",)))
