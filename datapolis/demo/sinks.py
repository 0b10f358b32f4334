"""Loading generated tables into real databases: SQLite files, PostgreSQL, MariaDB/MySQL."""

from __future__ import annotations

import io
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from datapolis.demo.schema import Table, ddl
from datapolis.errors import UserError

OnRows = Callable[[str, int], None]
CHUNK = 100_000


@dataclass(frozen=True)
class Target:
    """Where one system's tables go: its SQLite file in the demo, or a database URL."""

    system: str
    url: str | None = None

    @property
    def dialect(self) -> str:
        if self.url is None:
            return "sqlite"
        backend = _parse(self.url).get_backend_name()
        return "mysql" if backend == "mariadb" else backend

    def public_url(self) -> str:
        if self.url is None:
            return f"sources/{self.system}.sqlite"
        return _parse(self.url).render_as_string(hide_password=True)


# Bulk loading needs these drivers (COPY through psycopg2, multi-row INSERT through PyMySQL),
# so bare URLs get them rather than SQLAlchemy's defaults.
_DRIVERS = {"postgresql": "postgresql+psycopg2", "mysql": "mysql+pymysql",
            "mariadb": "mariadb+pymysql"}


def _parse(url: str) -> URL:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise UserError(f"not a valid database URL: {url!r}") from None
    backend = parsed.get_backend_name()
    if backend in _DRIVERS and parsed.drivername != _DRIVERS[backend]:
        parsed = parsed.set(drivername=_DRIVERS[backend])
    return parsed


def sqlite_file(root: Path, system: str) -> Path:
    return root / "sources" / f"{system}.sqlite"


@contextmanager
def _engine(target: Target) -> Iterator[Engine]:
    assert target.url is not None
    url = _parse(target.url)
    if url.get_backend_name() not in ("postgresql", "mysql", "mariadb", "sqlite"):
        raise UserError(f"{target.system}: unsupported database {url.get_backend_name()!r}; "
                        "use postgresql://, mysql+pymysql://, mariadb+pymysql:// or sqlite://")
    try:
        engine = create_engine(url)
    except Exception as exc:  # unknown driver names surface here
        raise UserError(f"{target.system}: cannot use {target.public_url()}: {exc}") from None
    try:
        yield engine
    finally:
        engine.dispose()


def _reason(exc: SQLAlchemyError) -> str:
    orig = getattr(exc, "orig", None)
    return (str(orig) if orig else str(exc)).strip().splitlines()[0]


def check(target: Target, tables: Sequence[Table], *, replace: bool) -> None:
    """Fail early when the database is unreachable or already holds a demo (unless replace)."""
    if target.url is None:
        return
    with _engine(target) as engine:
        try:
            existing = set(inspect(engine).get_table_names())
        except SQLAlchemyError as exc:
            raise UserError(f"{target.system}: cannot connect to {target.public_url()}: "
                            f"{_reason(exc)}") from None
    clash = sorted(existing & {t.name for t in tables})
    if clash and not replace:
        raise UserError(f"{target.system}: {target.public_url()} already has demo tables "
                        f"({', '.join(clash)}); pass replace to overwrite them")


def drop(target: Target, tables: Sequence[Table]) -> None:
    if target.url is None:
        return
    with _engine(target) as engine, engine.begin() as conn:
        quote = engine.dialect.identifier_preparer.quote
        for table in tables:
            conn.execute(text(f"DROP TABLE IF EXISTS {quote(table.name)}"))


def load(target: Target, root: Path, tables: Sequence[tuple[Table, pa.Table]],
         on_rows: OnRows) -> None:
    if target.url is None:
        path = sqlite_file(root, target.system)
        path.parent.mkdir(parents=True, exist_ok=True)
        _load_sqlite(sqlite3.connect(path, isolation_level=None), tables, on_rows, fast=True)
        return
    drop(target, [t for t, _ in tables])
    with _engine(target) as engine:
        raw = engine.raw_connection()
        try:
            if target.dialect == "postgresql":
                _load_postgres(raw, tables, on_rows)
            elif target.dialect == "mysql":
                _load_mysql(raw, tables, on_rows)
            else:
                _load_sqlite(raw.driver_connection, tables, on_rows, fast=False)  # type: ignore[arg-type]
        finally:
            raw.close()


def _texts(data: pa.Table) -> pa.Table:
    """Dates and times as ISO text: every driver and COPY understand that form."""
    arrays = []
    for column in data.columns:
        arr = column.combine_chunks()
        if pa.types.is_date(arr.type):
            arr = pc.cast(arr, pa.string())
        elif pa.types.is_timestamp(arr.type):
            arr = pc.strftime(arr, format="%Y-%m-%d %H:%M:%S")
        arrays.append(arr)
    return pa.Table.from_arrays(arrays, names=data.column_names)


def _python_rows(data: pa.Table) -> Iterator[tuple[Any, ...]]:
    columns: list[list[Any]] = []
    for column in _texts(data).columns:
        arr = column.combine_chunks()
        if pa.types.is_string(arr.type) or arr.null_count == 0:
            columns.append(arr.to_numpy(zero_copy_only=False).tolist())
        else:
            columns.append(arr.to_pylist())
    return zip(*columns, strict=True)


def _public(spec: Table, data: pa.Table) -> pa.Table:
    return data.select([c.name for c in spec.columns])


def _chunks(data: pa.Table) -> Iterator[pa.Table]:
    for offset in range(0, data.num_rows, CHUNK):
        yield data.slice(offset, CHUNK)


def _load_sqlite(conn: sqlite3.Connection, tables: Sequence[tuple[Table, pa.Table]],
                 on_rows: OnRows, *, fast: bool) -> None:
    with closing(conn):
        if fast:  # a fresh file in a scratch directory: a crash discards it anyway
            conn.execute("PRAGMA journal_mode=OFF")
            conn.execute("PRAGMA synchronous=OFF")
        conn.execute("BEGIN")
        for spec, data in tables:
            for statement in ddl(spec, "sqlite"):
                conn.execute(statement)
            marks = ",".join("?" * len(spec.columns))
            insert = f"INSERT INTO {spec.name} VALUES ({marks})"  # noqa: S608 - our own names
            for chunk in _chunks(_public(spec, data)):
                conn.executemany(insert, _python_rows(chunk))
                on_rows(spec.name, chunk.num_rows)
        conn.execute("COMMIT")


def _load_postgres(raw: Any, tables: Sequence[tuple[Table, pa.Table]], on_rows: OnRows) -> None:
    cursor = raw.cursor()
    for spec, data in tables:
        for statement in ddl(spec, "postgresql"):
            cursor.execute(statement)
        columns = ", ".join(c.name for c in spec.columns)
        copy = f"COPY {spec.name} ({columns}) FROM STDIN WITH (FORMAT csv)"
        for chunk in _chunks(_public(spec, data)):
            buffer = io.BytesIO()
            # Strings are always quoted, so "" stays an empty string and a bare field is NULL.
            pacsv.write_csv(_texts(chunk), buffer, pacsv.WriteOptions(include_header=False))
            buffer.seek(0)
            cursor.copy_expert(copy, buffer)
            on_rows(spec.name, chunk.num_rows)
    raw.commit()


def _load_mysql(raw: Any, tables: Sequence[tuple[Table, pa.Table]], on_rows: OnRows) -> None:
    cursor = raw.cursor()
    for spec, data in tables:
        for statement in ddl(spec, "mysql"):
            cursor.execute(statement)
        names = ", ".join(f"`{c.name}`" for c in spec.columns)
        marks = ", ".join(["%s"] * len(spec.columns))
        # PyMySQL turns executemany on INSERT ... VALUES into multi-row INSERT statements.
        insert = f"INSERT INTO `{spec.name}` ({names}) VALUES ({marks})"  # noqa: S608
        for chunk in _chunks(_public(spec, data)):
            cursor.executemany(insert, list(_python_rows(chunk)))
            on_rows(spec.name, chunk.num_rows)
        raw.commit()
