"""PostgreSQL: catalog and comments from pg_catalog, rows through ADBC's binary COPY into Arrow.

ADBC (adbc-driver-postgresql) reads `COPY (SELECT ...) TO STDOUT (FORMAT binary)` straight into
Arrow buffers in C, so a snapshot never builds Python objects per value (see docs/sources.md for
the measured comparison with psycopg2 and dlt).
"""

from __future__ import annotations

import contextlib
from collections.abc import Generator, Iterator, Mapping, Sequence
from typing import Any, ClassVar
from urllib.parse import quote as url_quote

import adbc_driver_postgresql.dbapi as adbc
import pyarrow as pa

from datapolis.ingest.errors import SourceError, TerminalSourceError
from datapolis.ingest.sources._cursor import lower_bound
from datapolis.ingest.sources._errors import classify
from datapolis.ingest.sources._identifiers import check_cursor_column, choose_columns, quote
from datapolis.ingest.sources._pgtypes import arrow_type, conform
from datapolis.ingest.sources._readahead import read_ahead
from datapolis.ingest.sources.base import CursorFilter, SourceColumn, SourceKind, SourceTable
from datapolis.ingest.sources.registry import register_kind

_TABLES = """
SELECT n.nspname, c.relname, obj_description(c.oid, 'pg_class'),
       GREATEST(c.reltuples, 0)::bigint,
       ARRAY(SELECT a.attname FROM pg_index i JOIN pg_attribute a
             ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
             WHERE i.indrelid = c.oid AND i.indisprimary
             ORDER BY array_position(i.indkey::int2[], a.attnum))::text
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
  AND has_table_privilege(c.oid, 'SELECT')
  AND ($1::text IS NULL OR n.nspname = $1::text)
ORDER BY n.nspname, c.relname
"""
_COLUMNS = """
SELECT a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull,
       col_description(a.attrelid, a.attnum),
       COALESCE(a.attnum = ANY(i.indkey), false)
FROM pg_attribute a
LEFT JOIN pg_index i ON i.indrelid = a.attrelid AND i.indisprimary
WHERE a.attrelid = to_regclass($1::text) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum
"""


class PostgresSource:
    kind: ClassVar[str] = "postgres"

    def __init__(self, options: Mapping[str, Any], secrets: Mapping[str, str]) -> None:
        self._options = dict(options)
        self._secrets = dict(secrets)
        self._schema: str | None = options.get("schema")
        host, port = options.get("host", "127.0.0.1"), int(options.get("port", 5432))
        self.label = f"postgres source {options.get('database', '')}@{host}:{port}"
        self._connection: Any = None

    def __repr__(self) -> str:
        return f"<PostgresSource {self.label}>"

    def _uri(self) -> str:
        o = self._options
        user = url_quote(str(o.get("user", "postgres")), safe="")
        password = self._secrets.get("password")
        auth = f"{user}:{url_quote(password, safe='')}" if password else user
        timeout = int(o.get("connect_timeout", 10))
        return (f"postgresql://{auth}@{o.get('host', '127.0.0.1')}:{int(o.get('port', 5432))}/"
                f"{url_quote(str(o.get('database', 'postgres')), safe='')}"
                f"?connect_timeout={timeout}&application_name=datapolis"
                "&options=-c%20TimeZone%3DUTC")

    def _connect(self) -> Any:
        if self._connection is None:
            try:
                self._connection = adbc.connect(self._uri(), autocommit=True)
            except Exception as exc:
                raise classify(self.label, exc, self._secrets) from None
        return self._connection

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        connection = self._connect()
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql, parameters=tuple(params) if params else None)
                rows: list[tuple[Any, ...]] = cursor.fetchall()
                return rows
        except Exception as exc:
            raise self._failure(exc) from None

    def _failure(self, exc: Exception) -> SourceError:
        if isinstance(exc, SourceError):
            return exc
        return classify(self.label, exc, self._secrets)

    def test(self) -> str:
        ((version,),) = self._rows("SELECT version()")
        return str(version).split(",")[0]

    def tables(self) -> list[SourceTable]:
        found = []
        for schema, name, comment, estimate, keys in self._rows(_TABLES, [self._schema]):
            columns = tuple(self.columns(f"{schema}.{name}"))
            primary = tuple(keys.strip("{}").split(",")) if keys not in (None, "{}") else ()
            found.append(SourceTable(name=f"{schema}.{name}", comment=comment,
                                     rows_estimate=int(estimate), primary_key=primary,
                                     columns=columns))
        return found

    def _regclass(self, table: str) -> str:
        schema, _, name = table.rpartition(".")
        return f"{quote(schema or self._schema or 'public')}.{quote(name)}"

    def columns(self, table: str) -> list[SourceColumn]:
        rows = self._rows(_COLUMNS, [self._regclass(table)])
        if not rows:
            raise TerminalSourceError(f"{self.label}: table {table} does not exist")
        return [SourceColumn(name=name, source_type=source_type,
                             arrow_type=arrow_type(source_type)[0], nullable=bool(nullable),
                             comment=comment, primary_key=bool(primary))
                for name, source_type, nullable, comment, primary in rows]

    def read(self, table: str, *, columns: Sequence[str] | None = None,
             cursor: CursorFilter | None = None,
             batch_rows: int = 100_000) -> Iterator[pa.RecordBatch]:
        known = {c.name: c for c in self.columns(table)}
        chosen = choose_columns(self.label, table, list(known), columns)
        select = []
        for name in chosen:
            as_text = arrow_type(known[name].source_type)[1]
            select.append(f"{quote(name)}::text AS {quote(name)}" if as_text else quote(name))
        schema = pa.schema([pa.field(n, known[n].arrow_type) for n in chosen])
        sql = f"SELECT {', '.join(select)} FROM {self._regclass(table)}"  # noqa: S608
        params: list[Any] = []
        if cursor is not None:
            check_cursor_column(self.label, table, list(known), cursor.column)
            column = quote(cursor.column)
            bound = lower_bound(cursor)
            if bound is not None:
                # The value travels as a parameter; the cast names the column's own type.
                sql += f" WHERE {column} >= CAST($1 AS {known[cursor.column].source_type})"
                params.append(str(bound))
            sql += f" ORDER BY {column}"
        yield from read_ahead(self._stream(sql, params, schema, batch_rows))

    def _stream(self, sql: str, params: list[Any], schema: pa.Schema,
                batch_rows: int) -> Generator[pa.RecordBatch, None, None]:
        connection = self._connect()
        with connection.cursor() as db_cursor:
            try:
                db_cursor.execute(sql, parameters=tuple(params) if params else None)
                reader = db_cursor.fetch_record_batch()
            except Exception as exc:
                raise self._failure(exc) from None
            try:
                while True:
                    try:
                        batch = reader.read_next_batch()
                    except StopIteration:
                        return
                    except Exception as exc:
                        raise self._failure(exc) from None
                    batch = conform(batch, schema)
                    for start in range(0, batch.num_rows, batch_rows):
                        yield batch.slice(start, batch_rows)
            except GeneratorExit:
                # Stopped early: cancel the COPY instead of draining the rest of the table.
                with contextlib.suppress(Exception):
                    db_cursor.adbc_cancel()
                with contextlib.suppress(Exception):
                    reader.close()
                raise

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


KIND = register_kind(SourceKind(
    name="postgres", label="PostgreSQL", open=PostgresSource,
    option_fields=("host", "port", "database", "user", "schema", "connect_timeout"),
    secret_fields=("password",)))
