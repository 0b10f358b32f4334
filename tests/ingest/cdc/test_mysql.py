"""The MariaDB binlog reader against the real server: values, transactions, resume, snapshot."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from datapolis.ingest.cdc.events import Change, Heartbeat, Op
from datapolis.ingest.cdc.mysql import (
    BinlogPosition,
    MySQLConnection,
    Snapshot,
    check_server,
    current_position,
    server_id_for,
    stream,
)
from datapolis.ingest.errors import TerminalSourceError, TransientSourceError
from tests.databases import MARIADB_ADMIN_URL, throwaway_database


def _connection(url: str) -> MySQLConnection:
    parsed = make_url(url)
    return MySQLConnection(
        host=parsed.host or "127.0.0.1",
        port=parsed.port or 3306,
        user=parsed.username or "root",
        password=parsed.password or "",
        database=parsed.database,
    )


def _server_id() -> int:
    """Unique per reader: the server drops an older replica connection with the same id."""
    return 1_000_000 + secrets.randbelow(1_000_000_000)


@pytest.fixture(scope="module")
def database() -> Iterator[MySQLConnection]:
    for url in throwaway_database(MARIADB_ADMIN_URL, "cdc_mysql"):
        connection = _connection(url)
        # Column names travel in the binlog only with full row metadata (see docs/cdc-mysql.md).
        _run(connection, "SET GLOBAL binlog_row_metadata = FULL")
        yield connection


def _run(connection: MySQLConnection, *statements: str) -> None:
    conn = connection.connect(autocommit=True)
    try:
        with conn.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
    finally:
        conn.close()


def _table(database: MySQLConnection, ddl: str) -> str:
    name = f"t_{secrets.token_hex(3)}"
    _run(database, f"CREATE TABLE {name} ({ddl}) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4")
    return f"{database.database}.{name}"


def _reached(position: str, end: BinlogPosition) -> bool:
    if ":" in position:
        return BinlogPosition.parse(position) >= end
    assert end.gtid, "a GTID stream needs a GTID end"
    seen = {g.split("-")[0]: int(g.split("-")[2]) for g in position.split(",")}
    return all(seen.get(g.split("-")[0], -1) >= int(g.split("-")[2]) for g in end.gtid.split(","))


def _collect(
    connection: MySQLConnection,
    start: BinlogPosition | str,
    tables: list[str],
    *,
    timeout: float = 15.0,
) -> list[Change]:
    """Every change after `start` up to the binlog end as it is now."""
    end = current_position(connection)
    changes: list[Change] = []
    deadline = time.monotonic() + timeout
    for event in stream(connection, start, tables, server_id=_server_id(), heartbeat=0.2):
        if isinstance(event, Change):
            changes.append(event)
            if event.transaction_end and _reached(event.position, end):
                break
        elif _reached(event.position, end):
            break
        assert time.monotonic() < deadline, f"no position {end} within {timeout}s"
    return changes


def test_check_server_accepts_a_binlog_ready_server(database: MySQLConnection) -> None:
    assert "MariaDB" in check_server(database)
    position = current_position(database)
    assert position.file.startswith("mysql-bin.") and position.pos > 0
    assert position.gtid is not None  # MariaDB's @@gtid_binlog_pos


def test_server_ids_are_stable_per_reader_and_clear_of_server_ids() -> None:
    ids = {server_id_for(f"job-{n}") for n in range(1000)}
    assert len(ids) == 1000 and server_id_for("job-1") == server_id_for("job-1")
    assert all(2**30 <= i < 2**31 for i in ids)


def test_check_server_names_the_missing_privilege(database: MySQLConnection) -> None:
    user, password = f"cdc_{secrets.token_hex(3)}", f"pw-{secrets.token_hex(8)}"
    _run(database, f"CREATE USER '{user}'@'%' IDENTIFIED BY '{password}'")
    try:
        _run(database, f"GRANT SELECT ON `{database.database}`.* TO '{user}'@'%'")
        reader = MySQLConnection(database.host, database.port, user, password)
        with pytest.raises(TerminalSourceError) as missing:
            check_server(reader)
        assert "REPLICATION SLAVE and REPLICATION CLIENT" in str(missing.value)
        assert password not in str(missing.value) and password not in repr(reader)

        _run(database, f"GRANT REPLICATION SLAVE ON *.* TO '{user}'@'%'")
        with pytest.raises(TerminalSourceError, match=r"lacks REPLICATION CLIENT: run GRANT"):
            check_server(reader)

        _run(database, f"GRANT REPLICATION CLIENT ON *.* TO '{user}'@'%'")
        assert "MariaDB" in check_server(reader)

        wrong = MySQLConnection(database.host, database.port, user, "not-the-password")
        with pytest.raises(TerminalSourceError, match="Access denied") as denied:
            check_server(wrong)
        assert "not-the-password" not in str(denied.value)
    finally:
        _run(database, f"DROP USER '{user}'@'%'")


def test_check_server_names_the_setting_to_change(database: MySQLConnection) -> None:
    table = _table(database, "id INT PRIMARY KEY")
    start = current_position(database)
    # dynamic server settings, each restored within milliseconds (other readers share the server)
    try:
        _run(database, "SET GLOBAL binlog_row_metadata = NO_LOG")
        with pytest.raises(TerminalSourceError, match=r"binlog_row_metadata is NO_LOG.*FULL"):
            check_server(database)
        _run(database, f"INSERT INTO {table} VALUES (1)")  # logged without column names
    finally:
        _run(database, "SET GLOBAL binlog_row_metadata = FULL")
    try:
        _run(database, "SET GLOBAL binlog_format = MIXED")
        with pytest.raises(TerminalSourceError, match=r"binlog_format is MIXED.*ROW"):
            check_server(database)
    finally:
        _run(database, "SET GLOBAL binlog_format = ROW")
    check_server(database)
    with pytest.raises(TerminalSourceError, match="set binlog_row_metadata = FULL"):
        _collect(database, start, [table])


def test_unreachable_server_is_transient() -> None:
    with pytest.raises(TransientSourceError, match=r"127\.0\.0\.1:1"):
        check_server(MySQLConnection(port=1, connect_timeout=2))


def test_a_purged_binlog_needs_a_new_snapshot(database: MySQLConnection) -> None:
    table = _table(database, "id INT PRIMARY KEY")
    with pytest.raises(TerminalSourceError, match=r"binlog at mysql-bin.999999:4 was purged"):
        _collect(database, "mysql-bin.999999:4", [table])


def test_inserts_updates_deletes_arrive_typed(database: MySQLConnection) -> None:
    table = _table(
        database,
        "id INT UNSIGNED PRIMARY KEY, name VARCHAR(40), amount DECIMAL(14,2), "
        "seen TIMESTAMP(3) NULL, local_time DATETIME, born DATE, photo BLOB, doc JSON, "
        "big BIGINT UNSIGNED, note TEXT",
    )
    start = current_position(database)
    _run(
        database,
        "SET time_zone = '+08:00'",
        f"INSERT INTO {table} VALUES (4000000000, '张三', 12345.67, '2024-05-01 08:00:00.125',"
        " '2024-05-01 08:00:00', '1990-02-03', x'00ff10', '{\"城市\": \"北京\"}',"
        " 18446744073709551615, '居民')",
        f"INSERT INTO {table} (id) VALUES (2)",
        f"UPDATE {table} SET name = '李四', amount = NULL WHERE id = 4000000000",
        f"UPDATE {table} SET id = 3 WHERE id = 2",
        f"DELETE FROM {table} WHERE id = 4000000000",
    )
    changes = _collect(database, start, [table])

    assert [(c.op, c.row["id"]) for c in changes] == [
        (Op.INSERT, 4000000000),
        (Op.INSERT, 2),
        (Op.UPDATE, 4000000000),
        (Op.DELETE, 2),  # a changed key is the old row's delete and the new row's insert
        (Op.INSERT, 3),
        (Op.DELETE, 4000000000),
    ]
    first = changes[0]
    assert first.table == table and first.key == ("id",)
    assert first.row == {
        "id": 4000000000,
        "name": "张三",
        "amount": Decimal("12345.67"),
        "seen": datetime(2024, 5, 1, 0, 0, 0, 125000, tzinfo=UTC),
        "local_time": datetime(2024, 5, 1, 8, 0, 0),  # DATETIME has no zone: kept naive
        "born": date(1990, 2, 3),
        "photo": b"\x00\xff\x10",
        "doc": '{"城市": "北京"}',
        "big": 18446744073709551615,
        "note": "居民",
    }
    assert changes[1].row["name"] is None and changes[1].row["seen"] is None
    assert changes[2].row["name"] == "李四" and changes[2].row["amount"] is None
    assert changes[-1].row["name"] == "李四"  # a delete carries the whole old row
    assert all(c.transaction_end for c in changes if c.op is not Op.DELETE or c.row["id"] != 2)
    assert not changes[3].transaction_end  # the key-change delete shares its transaction
    for change in changes:
        assert change.committed_at.tzinfo is UTC
        assert abs((datetime.now(UTC) - change.committed_at).total_seconds()) < 60
        assert BinlogPosition.parse(change.position) > start
    positions = [BinlogPosition.parse(c.position) for c in changes]
    assert positions == sorted(positions)


def test_a_transaction_arrives_together_and_a_rollback_not_at_all(
    database: MySQLConnection,
) -> None:
    people = _table(database, "id INT PRIMARY KEY, name VARCHAR(20)")
    audit = _table(database, "id INT PRIMARY KEY AUTO_INCREMENT, what VARCHAR(20)")
    other = _table(database, "id INT PRIMARY KEY")
    start = current_position(database)
    conn = database.connect()
    try:
        with conn.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute(f"INSERT INTO {people} VALUES (1, 'a'), (2, 'b'), (3, 'c')")
            cursor.execute(f"INSERT INTO {other} VALUES (1)")  # not watched: not yielded
            cursor.execute(f"INSERT INTO {audit} (what) VALUES ('import')")
            cursor.execute("COMMIT")
            cursor.execute("BEGIN")
            cursor.execute(f"INSERT INTO {people} VALUES (9, 'never')")
            cursor.execute("ROLLBACK")
            cursor.execute(f"UPDATE {people} SET name = 'z' WHERE id = 1")
            conn.commit()
    finally:
        conn.close()
    changes = _collect(database, start, [people, audit])

    assert [(c.table, c.row["id"]) for c in changes] == [
        (people, 1),
        (people, 2),
        (people, 3),
        (audit, 1),
        (people, 1),
    ]
    assert [c.transaction_end for c in changes] == [False, False, False, True, True]
    assert len({c.position for c in changes[:4]}) == 1
    assert changes[4].position != changes[0].position


def test_interleaved_transactions_arrive_in_commit_order(database: MySQLConnection) -> None:
    table = _table(database, "id INT PRIMARY KEY")
    start = current_position(database)
    first, second = database.connect(), database.connect()
    try:
        with first.cursor() as one, second.cursor() as two:
            one.execute(f"INSERT INTO {table} VALUES (1)")  # begun first ...
            two.execute(f"INSERT INTO {table} VALUES (2)")
            second.commit()
            one.execute(f"INSERT INTO {table} VALUES (3)")
            first.commit()  # ... committed last
    finally:
        first.close()
        second.close()
    changes = _collect(database, start, [table])
    assert [(c.row["id"], c.transaction_end) for c in changes] == [(2, True), (1, False), (3, True)]


@pytest.mark.parametrize("form", ["file:pos", "gtid"])
def test_resume_from_a_stored_position_sees_exactly_the_later_changes(
    database: MySQLConnection, form: str
) -> None:
    table = _table(database, "id INT PRIMARY KEY, v INT")
    now = current_position(database)
    start = str(now) if form == "file:pos" else str(now.gtid)
    _run(database, *(f"INSERT INTO {table} VALUES ({i}, 0)" for i in range(1, 4)))
    first = _collect(database, start, [table])
    stored = first[-1].position  # what the caller persisted after its warehouse commit
    assert (":" in stored) == (form == "file:pos")  # positions keep the form they started in

    # changes made while no reader runs
    _run(
        database,
        f"INSERT INTO {table} VALUES (4, 0)",
        f"UPDATE {table} SET v = 1 WHERE id = 1",
        f"DELETE FROM {table} WHERE id = 2",
    )
    later = _collect(database, stored, [table])
    assert [(c.op, c.row["id"]) for c in first] == [(Op.INSERT, i) for i in (1, 2, 3)]
    assert [(c.op, c.row["id"]) for c in later] == [
        (Op.INSERT, 4),
        (Op.UPDATE, 1),
        (Op.DELETE, 2),
    ]


@pytest.fixture
def reader_account(database: MySQLConnection) -> Iterator[MySQLConnection]:
    """A replication user of its own, so its connections can be told apart on the server."""
    user, password = f"cdc_{secrets.token_hex(3)}", secrets.token_hex(8)
    _run(
        database,
        f"CREATE USER '{user}'@'%' IDENTIFIED BY '{password}'",
        f"GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO '{user}'@'%'",
        f"GRANT SELECT ON `{database.database}`.* TO '{user}'@'%'",
    )
    try:
        yield MySQLConnection(database.host, database.port, user, password, database.database)
    finally:
        _run(database, f"DROP USER '{user}'@'%'")


def _kill_dump_threads(database: MySQLConnection, user: str) -> int:
    conn = database.connect(autocommit=True)
    try:
        with conn.cursor() as cursor:
            cursor.execute(
                "SELECT ID FROM information_schema.PROCESSLIST "
                "WHERE COMMAND = 'Binlog Dump' AND USER = %s",
                (user,),
            )
            threads = [int(row[0]) for row in cursor.fetchall()]
            for thread in threads:
                cursor.execute(f"KILL CONNECTION {thread}")
            return len(threads)
    finally:
        conn.close()


@pytest.mark.parametrize("form", ["file:pos", "gtid"])
def test_a_dropped_connection_resumes_after_the_last_commit(
    database: MySQLConnection, reader_account: MySQLConnection, form: str
) -> None:
    table = _table(database, "id INT PRIMARY KEY")
    now = current_position(database)
    events = stream(
        reader_account,
        str(now) if form == "file:pos" else str(now.gtid),
        [table],
        server_id=_server_id(),
        heartbeat=0.2,
    )
    _run(database, f"INSERT INTO {table} VALUES (1), (2)")
    ids: list[int] = []
    killed = 0
    deadline = time.monotonic() + 15
    for event in events:
        assert time.monotonic() < deadline
        if isinstance(event, Change):
            ids.append(event.row["id"])
            if event.row["id"] == 2:
                # the server drops the replication connection; the library reconnects by itself
                killed = _kill_dump_threads(database, reader_account.user)
                _run(database, f"INSERT INTO {table} VALUES (3)")
            if event.row["id"] == 3:
                break
    events.close()
    assert killed == 1 and ids == [1, 2, 3]


def test_a_table_without_primary_key(database: MySQLConnection) -> None:
    table = _table(database, "code VARCHAR(10), v INT")
    start = current_position(database)
    _run(
        database,
        f"INSERT INTO {table} VALUES ('a', 1), ('a', 1)",
        f"UPDATE {table} SET v = 2 LIMIT 1",
        f"DELETE FROM {table} WHERE v = 1",
    )
    changes = _collect(database, start, [table])
    assert {c.key for c in changes} == {()}
    assert [(c.op, c.row) for c in changes] == [
        (Op.INSERT, {"code": "a", "v": 1}),
        (Op.INSERT, {"code": "a", "v": 1}),
        (Op.UPDATE, {"code": "a", "v": 2}),
        (Op.DELETE, {"code": "a", "v": 1}),
    ]


def test_truncate_and_a_binlog_rotation(database: MySQLConnection) -> None:
    table = _table(database, "id INT PRIMARY KEY")
    start = current_position(database)
    _run(
        database,
        f"INSERT INTO {table} VALUES (1)",
        "FLUSH BINARY LOGS",
        f"TRUNCATE {table.split('.')[1]}",  # unqualified: the statement's default database
        f"INSERT INTO {table} VALUES (2)",
    )
    changes = _collect(database, start, [table])
    assert [(c.op, c.row) for c in changes] == [
        (Op.INSERT, {"id": 1}),
        (Op.TRUNCATE, {}),
        (Op.INSERT, {"id": 2}),
    ]
    assert changes[1].transaction_end and changes[1].key == ("id",)
    files = [BinlogPosition.parse(c.position).file for c in changes]
    assert files[0] < files[1] == files[2]  # positions follow the rotation
    resumed = _collect(database, changes[0].position, [table])  # from the old file
    assert [(c.op, c.row) for c in resumed] == [(Op.TRUNCATE, {}), (Op.INSERT, {"id": 2})]


def test_idle_stream_sends_heartbeats(database: MySQLConnection) -> None:
    table = _table(database, "id INT PRIMARY KEY")
    start = current_position(database)
    beats: list[Heartbeat] = []
    began = time.monotonic()
    for event in stream(database, start, [table], server_id=_server_id(), heartbeat=0.2):
        assert isinstance(event, Heartbeat)
        beats.append(event)
        if len(beats) == 3:
            break
    assert time.monotonic() - began < 5
    assert all(BinlogPosition.parse(b.position) >= start for b in beats)
    assert all(b.at.tzinfo is UTC for b in beats)


@pytest.mark.parametrize("form", ["file:pos", "gtid"])
def test_snapshot_and_stream_see_every_row_exactly_once(
    database: MySQLConnection, form: str
) -> None:
    table = _table(database, "id INT PRIMARY KEY, name VARCHAR(20)")
    _run(database, f"INSERT INTO {table} SELECT seq, '初始' FROM seq_1_to_300")
    stop = threading.Event()
    written: list[int] = []

    def write() -> None:
        conn = database.connect(autocommit=True)
        try:
            with conn.cursor() as cursor:
                next_id = 1000
                while not stop.is_set():
                    cursor.execute(f"INSERT INTO {table} VALUES (%s, '并发')", (next_id,))
                    written.append(next_id)
                    next_id += 1
        finally:
            conn.close()

    writer = threading.Thread(target=write)
    writer.start()
    try:
        time.sleep(0.2)
        with Snapshot(database) as snapshot:
            position = snapshot.position
            assert snapshot.key(table) == ("id",)
            snapped: list[int] = []
            for batch in snapshot.read(table, batch_rows=50):
                snapped.extend(row["id"] for row in batch)
                time.sleep(0.02)  # the writer keeps committing while the snapshot is read
        time.sleep(0.2)
    finally:
        stop.set()
        writer.join()
    start = str(position) if form == "file:pos" else str(position.gtid)
    streamed = [c.row["id"] for c in _collect(database, start, [table]) if c.op is Op.INSERT]

    assert len(written) > 20 and len(streamed) > 5
    everything = snapped + streamed
    assert len(everything) == len(set(everything))
    assert set(everything) == set(range(1, 301)) | set(written)


def test_snapshot_rows_are_typed_like_changes(database: MySQLConnection) -> None:
    table = _table(
        database,
        "id INT PRIMARY KEY, name VARCHAR(9), seen TIMESTAMP NULL, b VARBINARY(4), f FLOAT, "
        "d DOUBLE, s SET('x','b','a'), e ENUM('甲','乙'), t TIME(3), y YEAR, born DATE, "
        "at DATETIME(6), j JSON, bits BIT(10), tiny TINYINT UNSIGNED, m MEDIUMINT",
    )
    start = current_position(database)
    _run(
        database,
        "SET time_zone = '+08:00'",
        "SET sql_mode = ''",
        f"INSERT INTO {table} VALUES (1, '王五', '2024-01-01 08:00:00', x'01', 1.1, 2.2, 'a,x',"
        " '乙', '-12:30:00.5', 2024, '1990-01-02', '2024-01-01 08:00:00.000001', '[1, \"二\"]',"
        " b'1000000001', 255, -8388608),"
        " (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '0000-00-00',"
        " '0000-00-00 00:00:00', NULL, NULL, NULL, NULL)",
    )
    with Snapshot(database) as snapshot:
        snapped = [row for batch in snapshot.read(table) for row in batch]
    streamed = [c.row for c in _collect(database, start, [table])]
    assert snapped[0]["seen"] == datetime(2024, 1, 1, tzinfo=UTC)
    assert snapped[0]["name"] == "王五" and snapped[0]["b"] == b"\x01"
    assert snapped[1]["born"] is None and snapped[1]["at"] is None  # zero dates
    for column in snapped[0]:
        assert [r[column] for r in streamed] == [r[column] for r in snapped], column


_CHILD = textwrap.dedent(
    """
    import json, sys
    from datapolis.ingest.cdc.events import Change
    from datapolis.ingest.cdc.mysql import MySQLConnection, stream

    host, port, user, database, start, table, server_id, out = sys.argv[1:]
    connection = MySQLConnection(host, int(port), user, "", database)
    with open(out, "a") as sink:
        for event in stream(connection, start, [table], server_id=int(server_id), heartbeat=0.2):
            if isinstance(event, Change):
                line = {"id": event.row["id"], "position": event.position,
                        "end": event.transaction_end}
                sink.write(json.dumps(line) + "\\n")
                sink.flush()
    """
)


def test_a_reader_killed_mid_stream_resumes_without_losing_a_change(
    database: MySQLConnection, tmp_path: Path
) -> None:
    table = _table(database, "id INT PRIMARY KEY")
    start = current_position(database)
    out = tmp_path / "changes.jsonl"
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            _CHILD,
            database.host,
            str(database.port),
            database.user,
            str(database.database),
            str(start),
            table,
            str(_server_id()),
            str(out),
        ],
        cwd=Path(__file__).resolve().parents[3],
        env={**os.environ, "PYTHONWARNINGS": "error"},
    )
    conn = database.connect(autocommit=False)
    next_id = 1
    try:
        with conn.cursor() as cursor:

            def transaction() -> None:
                nonlocal next_id
                cursor.execute(f"INSERT INTO {table} VALUES (%s), (%s)", (next_id, next_id + 1))
                conn.commit()
                next_id += 2

            deadline = time.monotonic() + 20
            while not out.exists() or len(out.read_text().splitlines()) < 20:
                assert child.poll() is None, "the reader died by itself"
                assert time.monotonic() < deadline, "the reader wrote nothing"
                transaction()
                time.sleep(0.01)
            for _ in range(5):  # keep writing while it is killed
                transaction()
            os.kill(child.pid, signal.SIGKILL)
            child.wait()
            for _ in range(10):  # and while no reader runs
                transaction()
    finally:
        conn.close()
        if child.poll() is None:
            child.kill()
            child.wait()

    seen = [json.loads(line) for line in out.read_text().splitlines() if line.endswith("}")]
    ends = [i for i, line in enumerate(seen) if line["end"]]
    stored = seen[ends[-1]]["position"]  # the caller persisted only whole transactions
    applied = [line["id"] for line in seen[: ends[-1] + 1]]
    resumed = [c.row["id"] for c in _collect(database, stored, [table])]

    assert applied and resumed
    assert resumed[0] == applied[-1] + 1  # nothing applied twice, nothing skipped
    assert applied + resumed == list(range(1, next_id))
    assert child.returncode == -signal.SIGKILL
