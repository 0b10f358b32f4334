"""PostgreSQL change capture: a publication, a logical slot (pgoutput), an initial snapshot
consistent with the slot's start, then a stream of committed changes.

Offsets: every Change's `position` is its transaction's end LSN ("X/Y"). The caller stores it
together with the warehouse commit and only then calls `acknowledge`; the server keeps and
re-sends everything not acknowledged, so after a crash a change may arrive again and the
consumer merges on the key. `stream(from_lsn)` skips transactions ending at or before
`from_lsn`. See docs/cdc-postgres.md.
"""

from __future__ import annotations

import logging
import select
import time
from collections.abc import Generator, Iterator, Sequence, Set
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import psycopg2
import psycopg2.extensions
import psycopg2.extras
from psycopg2 import sql

from datapolis.ingest.cdc.events import Change, Heartbeat
from datapolis.ingest.cdc.pgconnect import ConnectionParams, classify, connect, describe
from datapolis.ingest.cdc.pgoutput import Decoder, lsn_from_text, lsn_to_text
from datapolis.ingest.cdc.pgtypes import UnreadableValue, parse_text
from datapolis.ingest.errors import TerminalSourceError, TransientSourceError

log = logging.getLogger(__name__)

WithoutKey = Literal["refuse", "full"]


def _split(table: str) -> tuple[str, str]:
    schema, _, name = table.rpartition(".")
    return schema or "public", name


def _qualified(table: str) -> sql.Composed:
    schema, name = _split(table)
    return sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(name))


@contextmanager
def _session(params: ConnectionParams, doing: str) -> Iterator[Any]:
    conn = connect(params)
    try:
        with conn, conn.cursor() as cursor:
            yield cursor
    except psycopg2.Error as exc:
        raise classify(exc, params, doing) from exc
    finally:
        conn.close()


def _identity(cursor: Any, table: str) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """(replica identity 'd'/'n'/'f'/'i', its key columns, all columns) of one table."""
    schema, name = _split(table)
    cursor.execute(
        "SELECT c.oid, c.relreplident FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = %s AND c.relname = %s AND c.relkind IN ('r', 'p')",
        (schema, name),
    )
    found = cursor.fetchone()
    if found is None:
        raise TerminalSourceError(f"table {schema}.{name} does not exist")
    oid, identity = found
    cursor.execute(
        "SELECT attname FROM pg_attribute WHERE attrelid = %s AND attnum > 0"
        " AND NOT attisdropped AND attgenerated = '' ORDER BY attnum",
        (oid,),
    )
    columns = tuple(row[0] for row in cursor.fetchall())
    if identity == "f":
        return identity, columns, columns
    cursor.execute(
        "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid"
        " AND a.attnum = ANY(i.indkey) WHERE i.indrelid = %s"
        " AND CASE WHEN %s = 'd' THEN i.indisprimary ELSE i.indisreplident END ORDER BY a.attnum",
        (oid, identity),
    )
    return identity, tuple(row[0] for row in cursor.fetchall()), columns


def ensure_publication(
    params: ConnectionParams,
    name: str,
    tables: Sequence[str],
    *,
    without_key: WithoutKey = "refuse",
) -> None:
    """Create the publication for `tables`, or add the ones it lacks.

    Every table needs a replica identity, or the source's own UPDATEs and DELETEs fail once it
    is published. A primary key (or an identity index) is used as it is. A table without one
    is refused, unless `without_key="full"`: then it gets REPLICA IDENTITY FULL (whole old rows
    in the WAL, more volume; all columns become the key) and a warning is logged.
    """
    with _session(params, f"publication {name}") as cursor:
        missing_key = []
        for table in tables:
            _, key, _ = _identity(cursor, table)
            if not key:
                missing_key.append("{}.{}".format(*_split(table)))
        if missing_key and without_key == "refuse":
            raise TerminalSourceError(
                f"PostgreSQL {describe(params)}: tables without a primary key cannot be captured:"
                f" {', '.join(missing_key)} (add one, or allow REPLICA IDENTITY FULL)"
            )
        for table in missing_key:
            log.warning("%s has no primary key: REPLICA IDENTITY FULL, all columns key it", table)
            cursor.execute(
                sql.SQL("ALTER TABLE {} REPLICA IDENTITY FULL").format(_qualified(table))
            )
        cursor.execute(
            "SELECT schemaname || '.' || tablename FROM pg_publication_tables WHERE pubname = %s",
            (name,),
        )
        published = {row[0] for row in cursor.fetchall()}
        cursor.execute("SELECT 1 FROM pg_publication WHERE pubname = %s", (name,))
        exists = cursor.fetchone() is not None
        wanted = [t for t in tables if "{}.{}".format(*_split(t)) not in published]
        if exists and not wanted:
            return
        verb = "ALTER PUBLICATION {} ADD TABLE {}"
        if not exists:
            verb = "CREATE PUBLICATION {} FOR TABLE {}"
        cursor.execute(
            sql.SQL(verb).format(
                sql.Identifier(name), sql.SQL(", ").join(_qualified(t) for t in wanted)
            )
        )


def drop_publication(params: ConnectionParams, name: str) -> None:
    with _session(params, f"drop publication {name}") as cursor:
        cursor.execute(sql.SQL("DROP PUBLICATION IF EXISTS {}").format(sql.Identifier(name)))


@dataclass(frozen=True)
class SlotStart:
    """A new slot: changes after `consistent_point`; `snapshot` is the data as of that point."""

    slot: str
    consistent_point: str
    snapshot: str


@contextmanager
def create_slot(params: ConnectionParams, slot: str) -> Iterator[SlotStart]:
    """Create a pgoutput slot exporting its snapshot, valid while the `with` block runs.

    The replication connection stays open and idle inside the block: another connection may
    `SET TRANSACTION SNAPSHOT` (see `read_snapshot`) to read the tables as of the slot's start.
    """
    conn = connect(params, replication=True)
    try:
        with conn.cursor() as cursor:
            cursor.execute("SHOW wal_level")
            level = cursor.fetchone()
            if level is None or level[0] != "logical":
                raise TerminalSourceError(
                    f"PostgreSQL {describe(params)}: wal_level is {level and level[0]}, change"
                    " capture needs wal_level = logical (set it and restart the server)"
                )
            cursor.execute(
                sql.SQL("CREATE_REPLICATION_SLOT {} LOGICAL pgoutput EXPORT_SNAPSHOT").format(
                    sql.Identifier(slot)
                )
            )
            created = cursor.fetchone()
            assert created is not None
            yield SlotStart(slot=slot, consistent_point=created[1], snapshot=created[2])
    except psycopg2.Error as exc:
        raise classify(exc, params, f"create slot {slot}") from exc
    finally:
        conn.close()


def slot_exists(params: ConnectionParams, slot: str) -> bool:
    with _session(params, f"look up slot {slot}") as cursor:
        cursor.execute("SELECT 1 FROM pg_replication_slots WHERE slot_name = %s", (slot,))
        return cursor.fetchone() is not None


def drop_slot(params: ConnectionParams, slot: str, *, wait_seconds: float = 10.0) -> None:
    """Drop the slot if it exists, waiting for a reader that is going away to release it."""
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            with _session(params, f"drop slot {slot}") as cursor:
                cursor.execute(
                    "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
                    " WHERE slot_name = %s",
                    (slot,),
                )
                return
        except TransientSourceError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@dataclass(frozen=True)
class SnapshotBatch:
    """Rows of one table as of the slot's start; resume the stream from `resume_from`."""

    table: str
    key: tuple[str, ...]
    rows: list[dict[str, Any]]
    resume_from: str


def read_snapshot(
    params: ConnectionParams,
    start: SlotStart,
    tables: Sequence[str],
    *,
    batch_rows: int = 10_000,
) -> Iterator[SnapshotBatch]:
    """Every row of `tables` in the slot's exported snapshot, typed as the stream types them."""
    conn = connect(params)
    try:
        conn.set_session(isolation_level="REPEATABLE READ", readonly=True)
        with conn.cursor() as cursor:
            cursor.execute("SET TRANSACTION SNAPSHOT %s", (start.snapshot,))
            for table in tables:
                yield from _read_table(conn, cursor, table, start, batch_rows)
        conn.rollback()
    except psycopg2.Error as exc:
        raise classify(exc, params, "read the initial snapshot") from exc
    except UnreadableValue as exc:
        raise TerminalSourceError(f"PostgreSQL {describe(params)}: snapshot: {exc}") from exc
    finally:
        conn.close()


def _read_table(
    conn: psycopg2.extensions.connection,
    cursor: Any,
    table: str,
    start: SlotStart,
    batch_rows: int,
) -> Iterator[SnapshotBatch]:
    _, key, names = _identity(cursor, table)
    # Generated columns are left out, as pgoutput leaves them out of the stream.
    query = sql.SQL("SELECT {} FROM {}").format(
        sql.SQL(", ").join(map(sql.Identifier, names)), _qualified(table)
    )
    cursor.execute(query + sql.SQL(" LIMIT 0"))
    # Values come as PostgreSQL prints them and are parsed like the stream's.
    as_text = psycopg2.extensions.new_type(
        tuple({column.type_code for column in cursor.description or ()}) or (0,),
        "DATAPOLIS_TEXT",
        lambda value, _cursor: value,
    )
    with conn.cursor(name=f"snapshot_{start.slot}") as rows:
        psycopg2.extensions.register_type(as_text, rows)
        rows.itersize = batch_rows
        rows.execute(query)
        qualified = "{}.{}".format(*_split(table))
        while True:
            fetched = rows.fetchmany(batch_rows)
            if not fetched:
                break
            columns = rows.description or ()
            batch = [
                {c.name: parse_text(c.type_code, v) for c, v in zip(columns, row, strict=True)}
                for row in fetched
            ]
            yield SnapshotBatch(qualified, key, batch, start.consistent_point)


def initial_snapshot(
    params: ConnectionParams, *, slot: str, tables: Sequence[str], batch_rows: int = 10_000
) -> Iterator[SnapshotBatch]:
    """Create `slot` and read `tables` as of its start; then stream from `resume_from`.

    A snapshot abandoned halfway leaves the slot behind: drop it and start again.
    """
    with create_slot(params, slot) as start:
        yield from read_snapshot(params, start, tables, batch_rows=batch_rows)


class PostgresChangeReader:
    """Streams committed changes of a publication through a logical slot."""

    def __init__(
        self,
        params: ConnectionParams,
        *,
        slot: str,
        publication: str,
        heartbeat_seconds: float = 10.0,
        status_interval: int = 10,
    ) -> None:
        self.params = params
        self.slot = slot
        self.publication = publication
        self.heartbeat_seconds = heartbeat_seconds
        self.status_interval = status_interval
        self._cursor: psycopg2.extras.ReplicationCursor | None = None

    def stream(
        self, from_lsn: str | None = None, *, stop_after_idle: float | None = None
    ) -> Generator[Change | Heartbeat, None, None]:
        """Changes in commit order, Heartbeats while idle; ends after `stop_after_idle` s idle."""
        conn = connect(self.params, replication=True)
        try:
            cursor = conn.cursor()
            assert isinstance(cursor, psycopg2.extras.ReplicationCursor)
            start = lsn_from_text(from_lsn) if from_lsn else 0
            cursor.start_replication(
                slot_name=self.slot,
                slot_type=psycopg2.extras.REPLICATION_LOGICAL,
                start_lsn=start,
                decode=False,
                options={"proto_version": "1", "publication_names": self.publication},
                status_interval=self.status_interval,
            )
            self._cursor = cursor
            yield from self._messages(cursor, start, stop_after_idle)
        except psycopg2.Error as exc:
            raise classify(exc, self.params, f"stream slot {self.slot}") from exc
        except UnreadableValue as exc:
            raise TerminalSourceError(
                f"PostgreSQL {describe(self.params)}: stream slot {self.slot}: {exc}"
            ) from exc
        finally:
            self._cursor = None
            conn.close()

    def _messages(
        self, cursor: psycopg2.extras.ReplicationCursor, start: int, stop_after_idle: float | None
    ) -> Iterator[Change | Heartbeat]:
        decoder = Decoder(base_types=self._base_types)
        position = start
        last_data = last_beat = time.monotonic()
        while True:
            message = cursor.read_message()
            if message is not None:
                last_data = last_beat = time.monotonic()
                commit = decoder.feed(message.payload)
                if commit is not None and commit.end_lsn > start:
                    position = max(position, commit.end_lsn)
                    yield from commit.changes
                continue
            now = time.monotonic()
            if not decoder.in_transaction:
                if now - last_beat >= self.heartbeat_seconds:
                    # Between transactions everything before the server's sent point is ours.
                    position = max(position, cursor.wal_end)
                    yield Heartbeat(position=lsn_to_text(position), at=datetime.now(UTC))
                    last_beat = now
                if stop_after_idle is not None and now - last_data >= stop_after_idle:
                    return
            waits = [self.heartbeat_seconds - (now - last_beat), self.status_interval]
            if stop_after_idle is not None:
                waits.append(stop_after_idle - (now - last_data))
            select.select([cursor], [], [], max(0.01, min(waits)))

    def _base_types(self, oids: Set[int]) -> dict[int, int]:
        """The built-in type under each domain (snapshots receive values as the base type)."""
        with _session(self.params, "look up column types") as cursor:
            cursor.execute(
                "WITH RECURSIVE chain(start, oid, base) AS ("
                " SELECT oid, oid, typbasetype FROM pg_type WHERE oid = ANY(%s)"
                " UNION ALL SELECT c.start, t.oid, t.typbasetype"
                " FROM chain c JOIN pg_type t ON t.oid = c.base)"
                " SELECT start, oid FROM chain WHERE base = 0",
                (sorted(oids),),
            )
            return dict(cursor.fetchall())

    def acknowledge(self, position: str) -> None:
        """Tell the server everything up to `position` is safely in the warehouse."""
        lsn = lsn_from_text(position)
        if self._cursor is not None:
            try:
                self._cursor.send_feedback(  # type: ignore[no-untyped-call]
                    write_lsn=lsn, flush_lsn=lsn, force=True
                )
            except psycopg2.Error as exc:
                raise classify(exc, self.params, f"acknowledge {position}") from exc
            return
        with _session(self.params, f"acknowledge {position}") as cursor:
            cursor.execute(
                "SELECT pg_replication_slot_advance(slot_name, %s::pg_lsn)"
                " FROM pg_replication_slots"
                " WHERE slot_name = %s AND confirmed_flush_lsn < %s::pg_lsn",
                (position, self.slot, position),
            )
