"""Turning binlog events into `Change`s: transaction buffering, positions, value types."""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import numpy
import pymysql
from pymysqlreplication import BinLogStreamReader
from pymysqlreplication.constants import FIELD_TYPE
from pymysqlreplication.event import HeartbeatLogEvent, MariadbGtidEvent, QueryEvent, XidEvent
from pymysqlreplication.row_event import DeleteRowsEvent, RowsEvent, WriteRowsEvent

from datapolis.ingest.cdc.events import Change, Heartbeat, Op
from datapolis.ingest.errors import SourceError, TerminalSourceError, TransientSourceError

_GTID_LIST = re.compile(r"\d+-\d+-\d+(,\d+-\d+-\d+)*")
_TRUNCATE = re.compile(
    r"TRUNCATE\s+(?:TABLE\s+)?(?:`?(?P<schema>[^`.\s]+)`?\.)?`?(?P<table>[^`.\s]+)`?",
    re.IGNORECASE,
)

Pending = tuple[str, Op, dict[str, Any], tuple[str, ...]]


def split_table(name: str) -> tuple[str, str]:
    schema, sep, table = name.partition(".")
    if not sep or not schema or not table:
        raise TerminalSourceError(f"name MySQL tables as 'database.table', not {name!r}")
    return schema, table


def is_gtid(text: str) -> bool:
    """A MariaDB GTID position ("0-1-42" or "0-1-42,1-2-7"), as opposed to "file:pos"."""
    return bool(_GTID_LIST.fullmatch(text.replace(" ", "")))


class TableInfo:
    """Primary keys and timestamp columns from information_schema, cached until a DDL."""

    def __init__(
        self,
        conn: pymysql.connections.Connection[Any],
        reopen: Callable[[], pymysql.connections.Connection[Any]] | None = None,
    ) -> None:
        self._conn = conn
        self._reopen = reopen  # a stream's schema connection may idle out between DDLs
        self._keys: dict[str, tuple[str, ...]] = {}
        self._timestamps: dict[str, frozenset[str]] = {}
        self._dates: dict[str, frozenset[str]] = {}

    def _column_names(self, table: str, where: str) -> list[str]:
        schema, name = split_table(table)
        for attempt in (1, 2):
            try:
                with self._conn.cursor() as cursor:
                    cursor.execute(where, (schema, name))
                    return [str(row[0]) for row in cursor.fetchall()]
            except pymysql.err.OperationalError:
                if self._reopen is None or attempt == 2:
                    raise
                with contextlib.suppress(pymysql.err.Error):
                    self._conn.close()
                self._conn = self._reopen()
        raise AssertionError("unreachable")

    def key(self, table: str) -> tuple[str, ...]:
        if table not in self._keys:
            self._keys[table] = tuple(
                self._column_names(
                    table,
                    "SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE "
                    "WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s AND CONSTRAINT_NAME = 'PRIMARY' "
                    "ORDER BY ORDINAL_POSITION",
                )
            )
        return self._keys[table]

    def timestamps(self, table: str) -> frozenset[str]:
        """TIMESTAMP columns (an instant: read in UTC, returned UTC-aware)."""
        if table not in self._timestamps:
            self._timestamps[table] = frozenset(
                self._column_names(
                    table,
                    "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s "
                    "AND TABLE_NAME = %s AND DATA_TYPE = 'timestamp'",
                )
            )
        return self._timestamps[table]

    def dates(self, table: str) -> frozenset[str]:
        """DATE, DATETIME and TIMESTAMP columns: a zero date reads as text, the binlog as None."""
        if table not in self._dates:
            self._dates[table] = frozenset(
                self._column_names(
                    table,
                    "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s "
                    "AND TABLE_NAME = %s AND DATA_TYPE IN ('date', 'datetime', 'timestamp')",
                )
            )
        return self._dates[table]

    def forget(self) -> None:
        self._keys.clear()
        self._timestamps.clear()
        self._dates.clear()

    def close(self) -> None:
        with contextlib.suppress(pymysql.err.Error):  # already closed by a lost connection
            self._conn.close()


class Where:
    """The last commit seen, as "file:pos" or, when the reader started from one, a GTID list."""

    def __init__(self, file: str, pos: int, gtid: str | None) -> None:
        self.file, self.pos = file, pos
        self.gtid = None if gtid is None else _gtid_state(gtid)
        self._open: str | None = None  # the GTID of the transaction being read

    def begin(self, gtid: str) -> bool:
        """Note the transaction now read; True if it is the one already open (a re-read)."""
        again = gtid == self._open
        self._open = gtid
        return again

    def commit(self, file: str | None, pos: int) -> None:
        if file:
            self.file = file
        self.pos = pos
        if self.gtid is not None and self._open is not None:
            self.gtid[int(self._open.split("-", 1)[0])] = self._open
        self._open = None

    def __str__(self) -> str:
        if self.gtid is not None:
            return ",".join(self.gtid[domain] for domain in sorted(self.gtid))
        return f"{self.file}:{self.pos}"


def _gtid_state(text: str) -> dict[int, str]:
    state: dict[int, str] = {}
    for gtid in text.replace(" ", "").split(","):
        if gtid:
            state[int(gtid.split("-", 1)[0])] = gtid
    return state


def read(
    reader: BinLogStreamReader,
    info: TableInfo,
    wanted: set[tuple[str, str]],
    where: Where,
    error: Callable[[Exception, str], SourceError],
    heartbeat: float,
) -> Iterator[Change | Heartbeat]:
    pending: list[Pending] = []
    last_yield = time.monotonic()
    try:
        while True:
            try:
                event = reader.fetchone()
                if isinstance(event, RowsEvent) and (event.schema, event.table) in wanted:
                    pending.extend(_row_changes(event, info))
                    continue
            except (pymysql.err.MySQLError, OSError) as exc:
                raise error(exc, str(where)) from exc
            if event is None:  # a blocking dump never ends by itself: the server went away
                raise TransientSourceError(f"the server ended the binlog stream at {where}")
            if isinstance(event, RowsEvent):
                continue
            if isinstance(event, MariadbGtidEvent):
                if where.begin(str(event.gtid)):
                    pending = []  # the library reconnected and this transaction starts again
                continue
            statement = event.query.strip().upper() if isinstance(event, QueryEvent) else ""
            ddl = bool(statement) and statement not in ("BEGIN", "COMMIT", "ROLLBACK")
            if ddl:
                info.forget()  # keys may have changed
            if isinstance(event, XidEvent) or statement == "COMMIT" or (ddl and not pending):
                if ddl:  # a DDL statement commits by itself
                    try:
                        pending = list(_truncation(event, wanted, info))
                    except pymysql.err.MySQLError as exc:
                        raise error(exc, str(where)) from exc
                where.commit(reader.log_file, int(event.packet.log_pos))
                if where.gtid is not None:
                    # the library silently reconnects on a lost connection: from here, not the start
                    reader.auto_position = str(where)
                if pending:
                    yield from _commit(pending, event.timestamp, str(where))
                    pending = []
                    last_yield = time.monotonic()
                elif time.monotonic() - last_yield >= heartbeat:
                    yield Heartbeat(position=str(where), at=datetime.now(UTC))
                    last_yield = time.monotonic()
            elif isinstance(event, HeartbeatLogEvent) and not pending:
                yield Heartbeat(position=str(where), at=datetime.now(UTC))
                last_yield = time.monotonic()
    finally:
        reader.close()
        info.close()


def _truncation(
    event: QueryEvent, wanted: set[tuple[str, str]], info: TableInfo
) -> Iterator[Pending]:
    match = _TRUNCATE.fullmatch(event.query.strip().rstrip(";"))
    if match is None:
        return
    default = event.schema.decode() if isinstance(event.schema, bytes) else str(event.schema)
    schema, name = match.group("schema") or default, match.group("table")
    if (schema, name) in wanted:
        yield f"{schema}.{name}", Op.TRUNCATE, {}, info.key(f"{schema}.{name}")


def _commit(pending: list[Pending], timestamp: int, position: str) -> Iterator[Change]:
    committed_at = datetime.fromtimestamp(timestamp, UTC)
    for index, (table, op, row, key) in enumerate(pending):
        yield Change(
            table=table,
            op=op,
            row=row,
            key=key,
            committed_at=committed_at,
            position=position,
            transaction_end=index == len(pending) - 1,
        )


def _row_changes(event: RowsEvent, info: TableInfo) -> Iterator[Pending]:
    table = f"{event.schema}.{event.table}"
    names = [column.name for column in event.columns]
    if any(not name or name.startswith("UNKNOWN_COL") for name in names):
        raise TerminalSourceError(
            f"the binlog does not name the columns of {table}: set binlog_row_metadata = FULL"
        )
    convert = _converters(event.columns)
    key = info.key(table)
    for row in event.rows:
        if isinstance(event, WriteRowsEvent):
            yield table, Op.INSERT, _typed(row["values"], convert), key
        elif isinstance(event, DeleteRowsEvent):
            yield table, Op.DELETE, _typed(row["values"], convert), key
        else:
            before = _typed(row["before_values"], convert)
            after = _typed(row["after_values"], convert)
            if key and any(before[k] != after[k] for k in key):
                # the key moved: the old row is gone, a new one exists
                yield table, Op.DELETE, before, key
                yield table, Op.INSERT, after, key
            else:
                yield table, Op.UPDATE, after, key


def _converters(columns: list[Any]) -> dict[str, Callable[[Any], Any]]:
    """Per column, what turns the library's value into what a snapshot (PyMySQL) reads."""
    convert: dict[str, Callable[[Any], Any]] = {}
    for column in columns:
        if column.type in (FIELD_TYPE.TIMESTAMP, FIELD_TYPE.TIMESTAMP2):
            convert[column.name] = _utc
        elif column.type == FIELD_TYPE.FLOAT:
            convert[column.name] = _single
        elif column.type == FIELD_TYPE.JSON:
            convert[column.name] = _json
        elif column.type == FIELD_TYPE.BIT:
            convert[column.name] = _bits
        elif column.type == FIELD_TYPE.SET:
            convert[column.name] = _members(list(column.set_values or []))
    return convert


def _typed(values: dict[str, Any], convert: dict[str, Callable[[Any], Any]]) -> dict[str, Any]:
    return {
        name: value if value is None or name not in convert else convert[name](value)
        for name, value in values.items()
    }


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC)


def _single(value: float) -> float:
    # a FLOAT is single precision: 1.1 arrives as 1.100000023841858; the server's text says 1.1
    return float(str(numpy.float32(value)))


def _members(declared: list[str]) -> Callable[[set[str]], str]:
    """A SET reads as text in the declared order of its members."""
    order = {member: index for index, member in enumerate(declared)}

    def join(members: set[str]) -> str:
        return ",".join(sorted(members, key=lambda member: order.get(member, len(order))))

    return join


def _bits(value: str) -> bytes:
    return int(value, 2).to_bytes((len(value) + 7) // 8, "big")


def _json(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=_json_default)


def _json_default(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)
