"""PostgreSQL change capture against the real server: a throw-away database and slot per test.

Slots keep WAL on the server for ever, so every slot a test made is dropped afterwards, also
when the test fails (before its database is dropped: a database with a slot cannot be).
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import signal
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import psycopg2
import pytest
from sqlalchemy.engine import make_url

from datapolis.ingest.cdc.events import Change, Heartbeat, Op
from datapolis.ingest.cdc.pgconnect import ConnectionParams
from datapolis.ingest.cdc.postgres import (
    PostgresChangeReader,
    create_slot,
    drop_publication,
    drop_slot,
    ensure_publication,
    initial_snapshot,
    slot_exists,
)
from datapolis.ingest.errors import TerminalSourceError, TransientSourceError
from tests.databases import PG_ADMIN_URL, throwaway_database

REPO = Path(__file__).resolve().parents[3]
T = TypeVar("T")


@dataclass
class Source:
    params: ConnectionParams
    slot: str
    publication: str = "datapolis_pub"

    def sql(self, *statements: str, params: tuple[Any, ...] = ()) -> None:
        """Run statements in one source transaction."""
        conn = psycopg2.connect(**self.params)
        try:
            with conn, conn.cursor() as cursor:
                for statement in statements:
                    cursor.execute(statement, params or None)
        finally:
            conn.close()

    def reader(self, heartbeat_seconds: float = 10.0) -> PostgresChangeReader:
        return PostgresChangeReader(
            self.params,
            slot=self.slot,
            publication=self.publication,
            heartbeat_seconds=heartbeat_seconds,
        )

    def start(self, *tables: str) -> str:
        """Publication and slot for `tables`; the slot's consistent point."""
        ensure_publication(self.params, self.publication, tables)
        with create_slot(self.params, self.slot) as start:
            return start.consistent_point

    def changes(self, from_lsn: str | None) -> list[Change]:
        """Everything available now (stops after 0.5 s without data)."""
        events = self.reader().stream(from_lsn, stop_after_idle=0.5)
        return [event for event in events if isinstance(event, Change)]


def _params(url: str) -> dict[str, Any]:
    return dict(make_url(url).translate_connect_args(username="user", database="dbname"))


def _drop_slots_of(params: ConnectionParams) -> None:
    admin = {**params, "dbname": "postgres"}
    conn = psycopg2.connect(**admin)
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            for _ in range(50):
                cursor.execute(
                    "SELECT slot_name, active_pid FROM pg_replication_slots WHERE database = %s",
                    (params["dbname"],),
                )
                slots = cursor.fetchall()
                if not slots:
                    return
                for name, pid in slots:
                    if pid is not None:
                        cursor.execute("SELECT pg_terminate_backend(%s)", (pid,))
                        continue
                    cursor.execute(
                        "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
                        " WHERE slot_name = %s AND active_pid IS NULL",
                        (name,),
                    )
                time.sleep(0.1)
    finally:
        conn.close()


@pytest.fixture
def source() -> Iterator[Source]:
    for url in throwaway_database(PG_ADMIN_URL, "datapolis_cdc"):
        params = _params(url)
        try:
            yield Source(params=params, slot=f"datapolis_test_{secrets.token_hex(4)}")
        finally:
            _drop_slots_of(params)


def retry(action: Callable[[], T], seconds: float = 10.0) -> T:
    """Retry transient failures (a killed reader's slot is released a moment later)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return action()
        except TransientSourceError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


TYPES_TABLE = """
CREATE TABLE public.typed (
    id integer PRIMARY KEY, small smallint, big bigint, amount numeric(30, 10),
    ratio double precision, flag boolean, name text, code varchar(18), born date,
    seen timestamp, stamped timestamptz, token uuid, doc jsonb, raw json, blob bytea
)"""
TYPED_ROW = (
    "INSERT INTO typed VALUES (1, 7, 9007199254740993, 12345678901234567890.0123456789,"
    " 0.1, true, '张三 · 北京市朝阳区', '110101199003077777', '1990-03-07',"
    " '2024-05-01 08:00:00.5', '2024-05-01 08:00:00+08', "
    " 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{\"市\": 1}', '[1, 2]', '\\x00ff')"
)


def test_inserts_updates_and_deletes_arrive_typed(source: Source) -> None:
    source.sql(TYPES_TABLE)
    start = source.start("typed")
    source.sql(TYPED_ROW)
    source.sql("INSERT INTO typed (id) VALUES (2)")
    source.sql("UPDATE typed SET name = '李四', amount = -0.0000000001 WHERE id = 1")
    source.sql("DELETE FROM typed WHERE id = 2")

    insert, empty, update, delete = source.changes(start)

    assert (insert.op, insert.table, insert.key) == (Op.INSERT, "public.typed", ("id",))
    assert insert.row == {
        "id": 1,
        "small": 7,
        "big": 9007199254740993,
        "amount": Decimal("12345678901234567890.0123456789"),
        "ratio": 0.1,
        "flag": True,
        "name": "张三 · 北京市朝阳区",
        "code": "110101199003077777",
        "born": date(1990, 3, 7),
        "seen": datetime(2024, 5, 1, 8, 0, 0, 500000, tzinfo=UTC),
        "stamped": datetime(2024, 5, 1, 0, 0, tzinfo=UTC),
        "token": uuid.UUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
        "doc": '{"市": 1}',
        "raw": "[1, 2]",
        "blob": b"\x00\xff",
    }
    assert empty.row == {"id": 2} | {column: None for column in insert.row if column != "id"}
    assert update.op == Op.UPDATE
    assert update.row["name"] == "李四" and update.row["amount"] == Decimal("-1E-10")
    assert update.row["stamped"] == insert.row["stamped"]
    assert (delete.op, delete.row) == (Op.DELETE, {"id": 2})
    for change in (insert, update, delete):
        assert change.committed_at.tzinfo == UTC
        assert abs((datetime.now(UTC) - change.committed_at).total_seconds()) < 60


def test_snapshot_rows_and_streamed_rows_are_typed_alike(source: Source) -> None:
    source.sql(
        TYPES_TABLE,
        "CREATE DOMAIN yuan AS numeric(12, 2)",
        "ALTER TABLE typed ADD COLUMN fee yuan,"
        " ADD COLUMN twice int GENERATED ALWAYS AS (small * 2) STORED",
        TYPED_ROW,
        "UPDATE typed SET fee = 12.5",
    )
    ensure_publication(source.params, source.publication, ["typed"])
    batches = list(initial_snapshot(source.params, slot=source.slot, tables=["typed"]))
    source.sql(TYPED_ROW.replace("(1,", "(2,"), "UPDATE typed SET fee = 12.5 WHERE id = 2")

    (snapshot_row,) = batches[0].rows
    _, update = source.changes(batches[0].resume_from)

    assert snapshot_row["fee"] == Decimal("12.50") and "twice" not in snapshot_row
    assert snapshot_row | {"id": 2} == update.row
    assert batches[0].key == update.key == ("id",)


def test_a_truncate_arrives_as_one_change_per_table(source: Source) -> None:
    source.sql("CREATE TABLE a (id int PRIMARY KEY)", "CREATE TABLE b (id int PRIMARY KEY)")
    start = source.start("a", "b")
    source.sql("INSERT INTO a VALUES (1)", "TRUNCATE a, b")

    insert, *truncates = source.changes(start)

    assert insert.op == Op.INSERT and not insert.transaction_end
    assert [(c.op, c.table, c.row) for c in truncates] == [
        (Op.TRUNCATE, "public.a", {}),
        (Op.TRUNCATE, "public.b", {}),
    ]
    assert truncates[-1].transaction_end


def test_a_transaction_arrives_whole_with_its_end_marked(source: Source) -> None:
    source.sql("CREATE TABLE t (id int PRIMARY KEY, v text)")
    start = source.start("t")
    inserts = (f"INSERT INTO t VALUES ({i}, 'a')" for i in range(3))
    source.sql(*inserts, "DELETE FROM t WHERE id = 0")
    source.sql("UPDATE t SET v = 'b'")
    source.sql("UPDATE t SET id = 10, v = 'c' WHERE id = 1")

    changes = source.changes(start)

    assert [c.op for c in changes[:6]] == [Op.INSERT] * 3 + [Op.DELETE, Op.UPDATE, Op.UPDATE]
    assert [c.transaction_end for c in changes[:6]] == [False, False, False, True, False, True]
    first, second = changes[0].position, changes[5].position
    assert {c.position for c in changes[:4]} == {first}
    assert {c.position for c in changes[4:6]} == {second}
    assert _lsn(start) < _lsn(first) < _lsn(second)
    # A key change: the old key is deleted, the row lands under its new key.
    assert [(c.op, c.row, c.transaction_end) for c in changes[6:]] == [
        (Op.DELETE, {"id": 1}, False),
        (Op.UPDATE, {"id": 10, "v": "c"}, True),
    ]


def _lsn(text: str) -> int:
    high, low = text.split("/")
    return (int(high, 16) << 32) + int(low, 16)


def test_a_restart_from_the_acknowledged_position_sees_only_later_changes(source: Source) -> None:
    source.sql("CREATE TABLE t (id int PRIMARY KEY)")
    start = source.start("t")
    source.sql("INSERT INTO t VALUES (1)")
    reader = source.reader()
    stream = reader.stream(start, stop_after_idle=0.5)
    first = next(stream)
    assert isinstance(first, Change) and first.row == {"id": 1}
    reader.acknowledge(first.position)
    source.sql("INSERT INTO t VALUES (2)")  # read ahead by the stream, never acknowledged
    second = next(stream)
    assert isinstance(second, Change) and second.row == {"id": 2}
    stream.close()

    source.sql("INSERT INTO t VALUES (3)")  # while no reader runs

    again = source.changes(first.position)
    assert [c.row["id"] for c in again] == [2, 3]
    # The server also knows what was acknowledged: no position needed to resume.
    assert [c.row["id"] for c in source.changes(None)] == [2, 3]


def test_unacknowledged_changes_are_sent_again(source: Source) -> None:
    source.sql("CREATE TABLE t (id int PRIMARY KEY)")
    start = source.start("t")
    source.sql("INSERT INTO t VALUES (1)", "INSERT INTO t VALUES (2)")
    assert [c.row["id"] for c in source.changes(start)] == [1, 2]
    assert [c.row["id"] for c in source.changes(start)] == [1, 2]
    assert [c.row["id"] for c in source.changes(None)] == [1, 2]


def test_acknowledging_while_no_stream_runs_advances_the_slot(source: Source) -> None:
    source.sql("CREATE TABLE t (id int PRIMARY KEY)")
    start = source.start("t")
    source.sql("INSERT INTO t VALUES (1)")
    source.sql("INSERT INTO t VALUES (2)")
    first = source.changes(start)[0]
    source.reader().acknowledge(first.position)
    assert [c.row["id"] for c in source.changes(None)] == [2]


def test_idle_streams_beat_and_move_their_position_on(source: Source) -> None:
    source.sql("CREATE TABLE t (id int PRIMARY KEY)", "CREATE TABLE other (id int)")
    start = source.start("t")
    source.sql("INSERT INTO other VALUES (1)")  # not published: moves WAL, yields nothing
    events = list(source.reader(heartbeat_seconds=0.2).stream(start, stop_after_idle=1.0))
    beats = [e for e in events if isinstance(e, Heartbeat)]
    assert beats and beats == events
    assert all(beat.at.tzinfo == UTC for beat in beats)
    assert _lsn(beats[-1].position) > _lsn(start)


def test_snapshot_and_stream_see_each_row_exactly_once(source: Source) -> None:
    source.sql(
        "CREATE TABLE t (id int PRIMARY KEY, v text)",
        "INSERT INTO t SELECT i, 'before' FROM generate_series(1, 50) i",
    )
    ensure_publication(source.params, source.publication, ["t"])
    stop = threading.Event()
    written: list[int] = []

    def write_concurrently() -> None:
        next_id = 1000
        while not stop.is_set():
            source.sql(f"INSERT INTO t VALUES ({next_id}, 'during')")
            source.sql(f"UPDATE t SET v = 'changed' WHERE id = {next_id - 990}")
            written.append(next_id)
            next_id += 1

    snapshot: dict[int, str] = {}
    resume_from = None
    writer = threading.Thread(target=write_concurrently)
    try:
        for batch in initial_snapshot(source.params, slot=source.slot, tables=["t"], batch_rows=7):
            if writer.ident is None:
                writer.start()
            time.sleep(0.05)  # let the writer commit while the snapshot is being read
            assert batch.table == "public.t" and batch.key == ("id",)
            for row in batch.rows:
                assert row["id"] not in snapshot
                snapshot[row["id"]] = row["v"]
            resume_from = batch.resume_from
    finally:
        stop.set()
        writer.join()
    assert resume_from is not None and written
    assert snapshot == {i: "before" for i in range(1, 51)}

    rows = dict(snapshot)
    inserted: list[int] = []
    for change in source.changes(resume_from):
        if change.op == Op.INSERT:
            assert change.row["id"] not in rows
            inserted.append(change.row["id"])
        rows[change.row["id"]] = change.row["v"]
    assert inserted == written
    expected = conn_rows(source)
    assert rows == expected


def conn_rows(source: Source) -> dict[int, str]:
    conn = psycopg2.connect(**source.params)
    try:
        with conn, conn.cursor() as cursor:
            cursor.execute("SELECT id, v FROM t")
            return dict(cursor.fetchall())
    finally:
        conn.close()


BIG = secrets.token_hex(50_000)  # incompressible enough to be stored out of line (TOAST)


def test_an_unchanged_toasted_value_is_left_out_of_an_update(source: Source) -> None:
    source.sql("CREATE TABLE doc (id int PRIMARY KEY, title text, body text)")
    start = source.start("doc")
    source.sql("INSERT INTO doc VALUES (1, '通知', %s)", params=(BIG,))
    source.sql("UPDATE doc SET title = '公告' WHERE id = 1")
    source.sql("UPDATE doc SET body = %s WHERE id = 1", params=(BIG + "。",))

    insert, title_only, body = source.changes(start)

    assert insert.row["body"] == BIG
    # The server did not send the body: the row leaves it out, the warehouse keeps its value.
    assert title_only.row == {"id": 1, "title": "公告"}
    assert body.row["body"] == BIG + "。"


def test_a_table_without_primary_key_is_refused_or_gets_full_identity(
    source: Source, caplog: pytest.LogCaptureFixture
) -> None:
    source.sql("CREATE TABLE log (at date, msg text)", "CREATE TABLE doc (id int, body text)")
    with pytest.raises(TerminalSourceError, match=r"without a primary key.*public\.log"):
        ensure_publication(source.params, source.publication, ["log"])

    with caplog.at_level(logging.WARNING):
        ensure_publication(source.params, source.publication, ["log", "doc"], without_key="full")
    assert "log has no primary key" in caplog.text
    with create_slot(source.params, source.slot) as start:
        pass
    source.sql("INSERT INTO log VALUES ('2024-01-01', '开始')", "INSERT INTO doc VALUES (1, 'x')")
    source.sql("UPDATE log SET msg = '结束'", "DELETE FROM log")
    source.sql("INSERT INTO doc VALUES (2, %s)", params=(BIG,))
    source.sql("UPDATE doc SET id = 3 WHERE id = 2")

    changes = source.changes(start.consistent_point)
    log_changes = [c for c in changes if c.table == "public.log"]
    # All columns are the key: an update removes the old row and brings the new one.
    assert [(c.op, c.row) for c in log_changes] == [
        (Op.INSERT, {"at": date(2024, 1, 1), "msg": "开始"}),
        (Op.DELETE, {"at": date(2024, 1, 1), "msg": "开始"}),
        (Op.UPDATE, {"at": date(2024, 1, 1), "msg": "结束"}),
        (Op.DELETE, {"at": date(2024, 1, 1), "msg": "结束"}),
    ]
    assert all(c.key == ("at", "msg") for c in log_changes)
    # Full identity logs the whole old row: an unchanged TOASTed value is filled from it.
    assert changes[-2].op == Op.DELETE and changes[-2].row == {"id": 2, "body": BIG}
    assert changes[-1].row == {"id": 3, "body": BIG}


def test_ensure_publication_adds_tables_once(source: Source) -> None:
    source.sql("CREATE TABLE a (id int PRIMARY KEY)", "CREATE TABLE b (id int PRIMARY KEY)")
    ensure_publication(source.params, source.publication, ["a"])
    ensure_publication(source.params, source.publication, ["public.a", "b"])
    ensure_publication(source.params, source.publication, ["a", "b"])
    conn = psycopg2.connect(**source.params)
    try:
        with conn, conn.cursor() as cursor:
            cursor.execute("SELECT tablename FROM pg_publication_tables ORDER BY 1")
            assert cursor.fetchall() == [("a",), ("b",)]
    finally:
        conn.close()
    with pytest.raises(TerminalSourceError, match=r"public\.nope does not exist"):
        ensure_publication(source.params, source.publication, ["nope"])
    drop_publication(source.params, source.publication)
    drop_publication(source.params, source.publication)  # dropping a missing one is fine
    conn = psycopg2.connect(**source.params)
    try:
        with conn, conn.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_publication")
            assert cursor.fetchone() == (0,)
    finally:
        conn.close()


def test_slots_are_created_found_and_dropped(source: Source) -> None:
    source.sql("CREATE TABLE t (id int PRIMARY KEY)")
    source.start("t")
    assert slot_exists(source.params, source.slot)
    with pytest.raises(TerminalSourceError, match="already exists"):
        source.start("t")
    drop_slot(source.params, source.slot)
    drop_slot(source.params, source.slot)  # dropping a missing slot is fine
    assert not slot_exists(source.params, source.slot)


def test_errors_are_classified_and_keep_the_password_out(source: Source) -> None:
    closed = {**source.params, "port": 1, "password": "s3cret-pw", "connect_timeout": 2}
    with pytest.raises(TransientSourceError) as refused:
        slot_exists(closed, "x")
    assert "s3cret-pw" not in str(refused.value) and "127.0.0.1:1" in str(refused.value)

    with pytest.raises(TerminalSourceError, match="does not exist"):
        list(source.reader().stream(None, stop_after_idle=0.1))  # no such slot

    source.sql("CREATE TABLE t (id int PRIMARY KEY)")
    start = source.start("t")
    source.sql("INSERT INTO t VALUES (1)")
    unknown = PostgresChangeReader(source.params, slot=source.slot, publication="nope")
    with pytest.raises(TerminalSourceError, match='publication "nope" does not exist'):
        list(unknown.stream(start, stop_after_idle=1.0))

    role = f"datapolis_norepl_{secrets.token_hex(3)}"
    source.sql(f"CREATE ROLE {role} LOGIN PASSWORD 'pw-not-shown'")
    try:
        weak = {**source.params, "user": role, "password": "pw-not-shown"}
        with pytest.raises(TerminalSourceError) as denied:
            list(PostgresChangeReader(weak, slot=source.slot, publication="x").stream(None))
        assert "replication" in str(denied.value) and "pw-not-shown" not in str(denied.value)
        with pytest.raises(TerminalSourceError, match="permission denied"):
            ensure_publication(weak, "other_pub", ["t"])
    finally:
        source.sql(f"DROP ROLE {role}")


KILLED_READER = textwrap.dedent(
    """
    import json, os, signal, sys
    from datapolis.ingest.cdc.events import Change
    from datapolis.ingest.cdc.postgres import PostgresChangeReader

    params, slot, publication, from_lsn = json.loads(sys.argv[1])
    reader = PostgresChangeReader(params, slot=slot, publication=publication)
    for event in reader.stream(from_lsn, stop_after_idle=5):
        if isinstance(event, Change):
            print(json.dumps([event.row["id"], event.position]), flush=True)
            if event.transaction_end:
                # The warehouse commit would come next: die before it and the acknowledgement.
                os.kill(os.getpid(), signal.SIGKILL)
    """
)


def test_a_reader_killed_before_acknowledging_gets_the_changes_again(source: Source) -> None:
    source.sql("CREATE TABLE t (id int PRIMARY KEY)")
    start = source.start("t")
    source.sql("INSERT INTO t VALUES (1)")
    reader = source.reader()
    stream = reader.stream(start, stop_after_idle=0.5)
    first = next(stream)
    assert isinstance(first, Change) and first.transaction_end
    reader.acknowledge(first.position)
    stream.close()
    source.sql("INSERT INTO t VALUES (2)", "INSERT INTO t VALUES (3)")

    killed = subprocess.run(
        [
            sys.executable,
            "-c",
            KILLED_READER,
            json.dumps([source.params, source.slot, source.publication, first.position]),
        ],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    seen = [json.loads(line) for line in killed.stdout.splitlines()]
    assert [row_id for row_id, _ in seen] == [2, 3]

    again = retry(lambda: source.changes(first.position))
    assert [(c.row["id"], c.position) for c in again] == [tuple(s) for s in seen]
    assert retry(lambda: [c.row["id"] for c in source.changes(None)]) == [2, 3]


def test_a_connection_lost_mid_stream_is_transient(source: Source) -> None:
    source.sql("CREATE TABLE t (id int PRIMARY KEY)")
    start = source.start("t")
    stream = source.reader(heartbeat_seconds=0.1).stream(start)
    assert isinstance(next(stream), Heartbeat)
    source.sql(
        "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = %s",
        params=(source.slot,),
    )
    with pytest.raises(TransientSourceError, match="stream slot"):
        for _ in range(100):
            next(stream)


def test_a_column_added_at_the_source_appears_in_later_rows(source: Source) -> None:
    source.sql("CREATE TABLE t (id int PRIMARY KEY)")
    start = source.start("t")
    source.sql("INSERT INTO t VALUES (1)")
    source.sql("ALTER TABLE t ADD COLUMN amount numeric(10, 2)", "INSERT INTO t VALUES (2, 3.5)")

    assert [c.row for c in source.changes(start)] == [
        {"id": 1},
        {"id": 2, "amount": Decimal("3.50")},
    ]


def test_type_and_origin_messages_are_understood(source: Source) -> None:
    source.sql(
        "CREATE TYPE level AS ENUM ('低', '高')",
        "CREATE TABLE t (id int PRIMARY KEY, lvl level, tags int[])",
    )
    start = source.start("t")
    origin = f"datapolis_origin_{secrets.token_hex(3)}"
    source.sql("SELECT pg_replication_origin_create(%s)", params=(origin,))
    try:
        # Changes replayed from elsewhere carry an Origin message before them.
        source.sql(
            f"SELECT pg_replication_origin_session_setup('{origin}')",
            "INSERT INTO t VALUES (1, '高', '{1,2}')",
            "SELECT pg_replication_origin_session_reset()",
        )
    finally:
        source.sql("SELECT pg_replication_origin_drop(%s)", params=(origin,))

    (change,) = source.changes(start)
    assert change.row == {"id": 1, "lvl": "高", "tags": "{1,2}"}


def test_a_value_python_cannot_hold_is_terminal(source: Source) -> None:
    source.sql(
        "CREATE TABLE t (id int PRIMARY KEY, born date)", "INSERT INTO t VALUES (1, '12000-01-01')"
    )
    ensure_publication(source.params, source.publication, ["t"])
    with pytest.raises(TerminalSourceError, match=r"'12000-01-01' .* out of range"):
        list(initial_snapshot(source.params, slot=source.slot, tables=["t"]))
    source.sql("INSERT INTO t VALUES (2, '0044-03-15 BC')")
    with pytest.raises(TerminalSourceError, match=r"'0044-03-15 BC' .* out of range"):
        list(source.reader().stream(None, stop_after_idle=0.5))
