"""MySQL/MariaDB binlog change capture on python-mysql-replication.

A reader starts from a position ("file:pos" or a MariaDB GTID list, always the end of a
committed transaction), buffers each transaction's row events until its XID (commit) event and
then yields them in commit order, all carrying the position after that commit. A `Snapshot`
reads tables consistently with the position its stream starts from. See docs/cdc-mysql.md.
"""

from __future__ import annotations

import contextlib
import re
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC
from types import TracebackType
from typing import Any

import pymysql
import pymysql.cursors
from pymysqlreplication import BinLogStreamReader
from pymysqlreplication.event import (
    HeartbeatLogEvent,
    MariadbGtidEvent,
    QueryEvent,
    RotateEvent,
    XidEvent,
)
from pymysqlreplication.row_event import DeleteRowsEvent, UpdateRowsEvent, WriteRowsEvent

from datapolis.ingest.cdc._mysql_binlog import TableInfo, Where, is_gtid, read, split_table
from datapolis.ingest.cdc.events import Change, Heartbeat
from datapolis.ingest.errors import SourceError, TerminalSourceError, TransientSourceError

_TRANSIENT_CODES = {1040, 1053, 1205, 1213, 2002, 2003, 2006, 2013, 2055}
_TERMINAL_CODES = {1044, 1045, 1049, 1142, 1143, 1146, 1227, 1370}
_ER_MASTER_FATAL_READING_BINLOG = 1236
_REQUIRED_SETTINGS = (
    ("log_bin", "ON", "log_bin = mysql-bin (in the server's [mysqld]/[mariadbd] section)"),
    ("binlog_format", "ROW", "binlog_format = ROW"),
    ("binlog_row_image", "FULL", "binlog_row_image = FULL"),
    ("binlog_row_metadata", "FULL", "binlog_row_metadata = FULL"),
)


@dataclass(frozen=True)
class MySQLConnection:
    """Where the reader connects; the password never appears in repr, logs or errors."""

    host: str = "127.0.0.1"
    port: int = 3306
    user: str = "root"
    password: str = field(default="", repr=False)
    database: str | None = None
    connect_timeout: float = 10.0

    def describe(self) -> str:
        return f"MySQL {self.user}@{self.host}:{self.port}"

    def settings(self, **extra: Any) -> dict[str, Any]:
        values: dict[str, Any] = {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "password": self.password,
            "charset": "utf8mb4",
            "connect_timeout": self.connect_timeout,
        }
        if self.database:
            values["database"] = self.database
        values.update(extra)
        return values

    def connect(self, **extra: Any) -> pymysql.connections.Connection[Any]:
        try:
            return pymysql.connect(**self.settings(**extra))
        except pymysql.err.MySQLError as exc:
            raise source_error(exc, self) from exc


@dataclass(frozen=True, order=True)
class BinlogPosition:
    """A point in the binlog; `str()` is the persisted "file:pos" form."""

    file: str
    pos: int
    gtid: str | None = field(default=None, compare=False)  # the same point as MariaDB GTIDs

    def __str__(self) -> str:
        return f"{self.file}:{self.pos}"

    @classmethod
    def parse(cls, text: str) -> BinlogPosition:
        file, sep, pos = text.rpartition(":")
        if not sep or not file or not pos.isdigit():
            raise TerminalSourceError(f"not a binlog position (want 'file:pos'): {text!r}")
        return cls(file, int(pos))


def server_id_for(reader: str) -> int:
    """A stable replica id for a named reader (a sync job's code): from 2^30 up, clear of the
    small ids that real servers and replicas are usually given."""
    return 0x4000_0000 + zlib.crc32(reader.encode()) % 0x3FFF_FFFF


def source_error(exc: Exception, connection: MySQLConnection, where: str = "") -> SourceError:
    """Classify a driver error as terminal or transient, naming the server but no secret."""
    code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else None
    message = str(exc.args[1]) if len(exc.args) > 1 else str(exc)
    if connection.password:
        message = message.replace(connection.password, "••••")
    prefix = connection.describe()
    if code == _ER_MASTER_FATAL_READING_BINLOG:
        if "first log file" in message or "purged" in message or "not find" in message:
            return TerminalSourceError(
                f"{prefix}: the binlog at {where} was purged; a new snapshot is needed ({message})"
            )
        return TerminalSourceError(f"{prefix}: cannot read the binlog at {where}: {message}")
    if code in _TERMINAL_CODES:
        return TerminalSourceError(f"{prefix}: {message}")
    if code in _TRANSIENT_CODES or isinstance(exc, pymysql.err.OperationalError | OSError):
        return TransientSourceError(f"{prefix}: {message}")
    return TerminalSourceError(f"{prefix}: {message}")


def check_server(connection: MySQLConnection) -> str:
    """Check binlog settings and replication privileges; return the server version."""
    conn = connection.connect()
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT VERSION()")
            version = str(_one(cursor.fetchone()))
            for name, wanted, fix in _REQUIRED_SETTINGS:
                cursor.execute("SHOW GLOBAL VARIABLES LIKE %s", (name,))
                row = cursor.fetchone()
                if row is None and name == "binlog_row_metadata":
                    raise TerminalSourceError(
                        f"{connection.describe()} ({version}) cannot log column names in the "
                        "binlog (binlog_row_metadata); use MariaDB >= 10.5 or MySQL >= 8.0.14"
                    )
                actual = str(row[1]).upper() if row else "OFF"
                if actual != wanted:
                    raise TerminalSourceError(
                        f"{connection.describe()}: {name} is {actual}, change-capture needs "
                        f"{wanted}: set `{fix}` in the server configuration and restart it"
                        + ("" if name == "log_bin" else f" (or SET GLOBAL {name} = {wanted})")
                    )
            cursor.execute("SHOW GRANTS FOR CURRENT_USER()")
            grants = [str(row[0]) for row in cursor.fetchall()]
    except pymysql.err.MySQLError as exc:
        raise source_error(exc, connection) from exc
    finally:
        conn.close()
    privileges = _global_privileges(grants)
    missing = [
        label
        for label, accepted in (
            ("REPLICATION SLAVE", {"REPLICATION SLAVE"}),
            ("REPLICATION CLIENT", {"REPLICATION CLIENT", "BINLOG MONITOR"}),
        )
        if "ALL PRIVILEGES" not in privileges and not accepted & privileges
    ]
    if missing:
        raise TerminalSourceError(
            f"{connection.describe()}: the user lacks {' and '.join(missing)}: run "
            f"GRANT {', '.join(missing)} ON *.* TO '{connection.user}'@'...'"
        )
    return version


def _global_privileges(grants: Iterable[str]) -> set[str]:
    privileges: set[str] = set()
    for grant in grants:
        match = re.match(r"GRANT (.+?) ON \*\.\* TO ", grant)
        if match:
            privileges.update(p.strip().upper() for p in match.group(1).split(","))
    return privileges


def current_position(connection: MySQLConnection) -> BinlogPosition:
    """Where the binlog ends now (SHOW MASTER STATUS), on MariaDB also as a GTID list."""
    conn = connection.connect()
    try:
        with conn.cursor() as cursor:
            try:
                cursor.execute("SHOW MASTER STATUS")
            except pymysql.err.ProgrammingError:  # MySQL 8.4 renamed it
                cursor.execute("SHOW BINARY LOG STATUS")
            row = cursor.fetchone()
            if row is None:
                raise TerminalSourceError(
                    f"{connection.describe()}: the binlog is off: set `log_bin = mysql-bin`"
                )
            gtid: str | None = None
            cursor.execute("SELECT VERSION()")
            if "MariaDB" in str(_one(cursor.fetchone())):
                # the same point as a GTID list (not @@gtid_binlog_pos: a commit may come between)
                cursor.execute("SELECT BINLOG_GTID_POS(%s, %s)", (row[0], row[1]))
                gtid = str(_one(cursor.fetchone()) or "") or None
            return BinlogPosition(str(row[0]), int(row[1]), gtid)
    except pymysql.err.MySQLError as exc:
        raise source_error(exc, connection) from exc
    finally:
        conn.close()


def _one(row: Any) -> Any:
    if row is None:
        raise TerminalSourceError("the server returned no row")
    return row[0]


class Snapshot:
    """A consistent read of tables plus the binlog position the stream continues from.

    `START TRANSACTION WITH CONSISTENT SNAPSHOT` opens an InnoDB read view; inside it MariaDB's
    status variables `binlog_snapshot_file` / `binlog_snapshot_position` name the binlog point
    of exactly that view: every transaction before it is in the snapshot, every one after it is
    in the stream. No table lock is taken.
    """

    def __init__(self, connection: MySQLConnection) -> None:
        self._connection = connection
        self._conn = connection.connect(init_command="SET time_zone = '+00:00'")
        try:
            with self._conn.cursor() as cursor:
                cursor.execute("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                cursor.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT")
                cursor.execute("SHOW SESSION STATUS LIKE 'binlog_snapshot_%'")
                status = {str(name).lower(): str(value) for name, value in cursor.fetchall()}
                if status.get("binlog_snapshot_file"):
                    cursor.execute(
                        "SELECT BINLOG_GTID_POS(%s, %s)",
                        (status["binlog_snapshot_file"], status["binlog_snapshot_position"]),
                    )
                    status["gtid"] = str(_one(cursor.fetchone()) or "")
        except pymysql.err.MySQLError as exc:
            self._conn.close()
            raise source_error(exc, connection) from exc
        if "binlog_snapshot_file" not in status or not status["binlog_snapshot_file"]:
            self._conn.close()
            raise TerminalSourceError(
                f"{connection.describe()}: no binlog_snapshot_file status: a lock-free consistent "
                "snapshot needs MariaDB with log_bin = ON"
            )
        self.position = BinlogPosition(
            status["binlog_snapshot_file"],
            int(status["binlog_snapshot_position"]),
            status["gtid"] or None,
        )
        self._info = TableInfo(self._conn)

    def key(self, table: str) -> tuple[str, ...]:
        return self._info.key(table)

    def read(self, table: str, *, batch_rows: int = 10_000) -> Iterator[list[dict[str, Any]]]:
        """The table's rows as of the snapshot, typed like the stream's `Change.row`."""
        schema, name = split_table(table)
        timestamps = self._info.timestamps(table)
        dates = self._info.dates(table)
        quoted = f"`{schema.replace('`', '``')}`.`{name.replace('`', '``')}`"
        try:
            with self._conn.cursor(pymysql.cursors.SSDictCursor) as cursor:
                cursor.execute(f"SELECT * FROM {quoted}")  # noqa: S608 - quoted identifier
                while batch := cursor.fetchmany(batch_rows):
                    if dates:
                        for row in batch:
                            for column in dates:
                                value = row[column]
                                if isinstance(value, str):  # a zero date; the binlog says None
                                    row[column] = None
                                elif column in timestamps and value is not None:
                                    row[column] = value.replace(tzinfo=UTC)
                    yield list(batch)
        except pymysql.err.MySQLError as exc:
            raise source_error(exc, self._connection) from exc

    def close(self) -> None:
        with contextlib.suppress(pymysql.err.MySQLError):  # a read-only view: nothing to undo
            self._conn.rollback()
        self._conn.close()

    def __enter__(self) -> Snapshot:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def stream(
    connection: MySQLConnection,
    position: BinlogPosition | str,
    tables: Sequence[str],
    *,
    server_id: int,
    heartbeat: float = 1.0,
) -> Iterator[Change | Heartbeat]:
    """Changes to `tables` ("database.table") committed after `position`, in commit order.

    `position` is "file:pos" or a MariaDB GTID list ("0-1-42"); the changes carry positions of
    the same form. Blocks for new changes, yielding a `Heartbeat` at least every `heartbeat`
    seconds while idle, so the caller can stop by leaving the loop. `server_id` must be unique
    among the server's replicas and readers: a newer connection with the same id replaces one.
    """
    gtid = position if isinstance(position, str) and is_gtid(position) else None
    if gtid is not None:
        start = BinlogPosition("", 4, gtid)
    elif isinstance(position, BinlogPosition):
        start = position
    else:
        start = BinlogPosition.parse(position)
    wanted = {split_table(table) for table in tables}
    reader = BinLogStreamReader(
        connection_settings=connection.settings(read_timeout=max(30.0, heartbeat * 4)),
        # given here so the library's schema connection names `database`, not the deprecated `db`
        ctl_connection_settings=connection.settings(database="information_schema"),
        server_id=server_id,
        log_file=start.file if gtid is None else None,
        log_pos=start.pos if gtid is None else None,
        auto_position=gtid,
        is_mariadb=gtid is not None,  # the library's MariaDB mode is its GTID mode
        resume_stream=True,
        blocking=True,
        only_events=[
            WriteRowsEvent,
            UpdateRowsEvent,
            DeleteRowsEvent,
            MariadbGtidEvent,
            XidEvent,
            QueryEvent,
            RotateEvent,
            HeartbeatLogEvent,
        ],
        only_schemas=sorted({schema for schema, _ in wanted}),
        only_tables=sorted({table for _, table in wanted}),
        slave_heartbeat=heartbeat,
        enable_logging=False,  # its parameter dump would include connection settings
    )
    info = TableInfo(connection.connect(), connection.connect)
    where = Where(start.file, start.pos, gtid)

    def error(exc: Exception, at: str) -> SourceError:
        return source_error(exc, connection, at)

    yield from read(reader, info, wanted, where, error, heartbeat)
