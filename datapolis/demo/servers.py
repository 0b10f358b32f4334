"""A database of the demo's own on a local server, for the one system that streams by cdc.

`make run` builds the demo with `--stream-server postgresql://postgres@127.0.0.1:5432`: the
household register (`gaj_hjxt`) then lives in PostgreSQL, so `demo land` gives it cdc jobs and
the demo shows every highway mode. The database is named after the demo directory
(`datapolis_demo_<crc32>`), so two checkouts on one machine never share it, and whatever an
earlier demo at the same directory left in it (tables, replication slots holding WAL) is ours to
replace. An unreachable server is not an error: the system stays in SQLite and the caller says so.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from datapolis.demo.schema import Table
from datapolis.demo.sinks import Target, drop
from datapolis.errors import UserError

STREAMED_SYSTEM = "gaj_hjxt"
_MAINTENANCE_DB = {"postgresql": "postgres", "mysql": None}
_DRIVERS = {"postgresql": "postgresql+psycopg2", "mysql": "mysql+pymysql",
            "mariadb": "mysql+pymysql"}
CONNECT_TIMEOUT = 3  # seconds: `make run` must not hang on a server that is not there


@dataclass(frozen=True)
class StreamDatabase:
    url: str | None  # the system's database, or None when the server could not be used
    note: str  # what happened, in one line for the console


def database_name(out_dir: Path) -> str:
    return f"datapolis_demo_{zlib.crc32(str(out_dir.resolve()).encode()):08x}"


def server_url(value: str) -> URL:
    try:
        url = make_url(value)
    except ArgumentError:
        raise UserError(f"--stream-server: not a database URL: {value!r}") from None
    backend = url.get_backend_name()
    if backend not in _DRIVERS:
        raise UserError(f"--stream-server wants a postgresql:// or mysql:// server URL, "
                        f"got {backend}://")
    return url.set(drivername=_DRIVERS[backend])


def prepare(server: str, out_dir: Path, tables: Sequence[Table]) -> StreamDatabase:
    """Create (once) the demo's database on `server` and clear what an earlier demo at
    `out_dir` left in it; return its URL, or None with the reason when the server is down."""
    url = server_url(server)
    dialect = url.get_backend_name()
    name = database_name(out_dir)
    shown = url.render_as_string(hide_password=True)
    admin = create_engine(url.set(database=_MAINTENANCE_DB[dialect]),
                          isolation_level="AUTOCOMMIT",
                          connect_args={"connect_timeout": CONNECT_TIMEOUT})
    try:
        with admin.connect() as connection:
            if dialect == "postgresql":
                exists = connection.scalar(
                    text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name})
                if not exists:
                    connection.execute(text(f'CREATE DATABASE "{name}"'))
                _drop_abandoned_slots(connection, name)
            else:
                connection.execute(text(f"CREATE DATABASE IF NOT EXISTS `{name}` "
                                        "CHARACTER SET utf8mb4"))
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        return StreamDatabase(None, f"{STREAMED_SYSTEM} stays in SQLite: cannot use {shown} "
                                    f"({reason})")
    finally:
        admin.dispose()
    database_url = url.set(database=name).render_as_string(hide_password=False)
    drop(Target(STREAMED_SYSTEM, database_url), tables)
    return StreamDatabase(database_url,
                          f"{STREAMED_SYSTEM} goes into {shown}/{name} and streams by cdc")


def _drop_abandoned_slots(connection: Connection, database: str) -> None:
    """Slots of an earlier demo in this database that no reader holds: they keep WAL forever
    once their registry is gone. A running demo's slots are active and stay."""
    connection.execute(text("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                            "WHERE database = :name AND slot_name LIKE 'datapolis\\_%' "
                            "AND NOT active"), {"name": database})
