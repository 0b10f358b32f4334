from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pyarrow as pa
import pymysql
import pytest
from sqlalchemy.engine import make_url

from datapolis.ingest.errors import TerminalSourceError, TransientSourceError
from datapolis.ingest.sources.base import CursorFilter, Source
from datapolis.ingest.sources.registry import open_source

DDL = [
    """CREATE TABLE czrk (
      id BIGINT PRIMARY KEY COMMENT '编号', small SMALLINT, tiny TINYINT UNSIGNED,
      ratio FLOAT, score DOUBLE, amount DECIMAL(12,2), name VARCHAR(50) COMMENT '姓名',
      code CHAR(18) COMMENT '公民身份号码', born DATE, updated_at DATETIME,
      stamped TIMESTAMP NULL, photo BLOB, attrs JSON
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COMMENT='常住人口'""",
]


@pytest.fixture
def database(mariadb_url: str) -> Iterator[str]:
    url = make_url(mariadb_url)
    connection = pymysql.connect(host=url.host, port=url.port or 3306, user=url.username or "",
                                 database=url.database, autocommit=True)
    with connection.cursor() as cursor:
        for statement in DDL:
            cursor.execute(statement)
        cursor.execute("SET time_zone = '+00:00'")
        cursor.executemany(
            "INSERT INTO czrk VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [(i, i, 200 + i % 50, i / 4, i / 3, Decimal(i) * Decimal("1.25"), f"李{i}",
              f"{i:018d}", date(2000, 1, 1) + timedelta(days=i),
              datetime(2024, 5, 1) + timedelta(hours=i),
              datetime(2024, 5, 1) + timedelta(hours=i), b"\x00\xff", f'{{"k": {i}}}')
             for i in range(1, 31)])
    connection.close()
    yield str(url.database)


def _source(database: str, **secrets: str) -> Source:
    return open_source("mysql", {"host": "127.0.0.1", "port": 3306, "database": database,
                                 "user": "root"}, secrets)


def test_tables_comments_keys_and_types(database: str) -> None:
    source = _source(database)
    assert source.test().split()[0] in ("MariaDB", "MySQL")
    (table,) = source.tables()
    assert (table.name, table.comment, table.primary_key) == ("czrk", "常住人口", ("id",))
    comments = {c.name: c.comment for c in table.columns}
    assert comments["code"] == "公民身份号码" and comments["small"] is None
    types = {c.name: c.arrow_type for c in table.columns}
    assert types == {
        "id": pa.int64(), "small": pa.int16(), "tiny": pa.uint8(), "ratio": pa.float32(),
        "score": pa.float64(), "amount": pa.decimal128(12, 2), "name": pa.string(),
        "code": pa.string(), "born": pa.date32(), "updated_at": pa.timestamp("us"),
        "stamped": pa.timestamp("us", "UTC"), "photo": pa.binary(), "attrs": pa.string()}


def test_read_streams_typed_batches_and_cursor(database: str) -> None:
    source = _source(database)
    batches = list(source.read("czrk", batch_rows=12))
    assert [b.num_rows for b in batches] == [12, 12, 6]
    row = pa.Table.from_batches(batches).to_pylist()[4]
    assert row["id"] == 5 and row["amount"] == Decimal("6.25") and row["name"] == "李5"
    assert row["code"] == "000000000000000005" and row["tiny"] == 205
    assert row["stamped"] == datetime(2024, 5, 1, 5, tzinfo=UTC) and row["photo"] == b"\x00\xff"
    cursor = CursorFilter("updated_at", datetime(2024, 5, 2, 4), timedelta(hours=2))
    ids = [r["id"] for b in source.read("czrk", columns=["id"], cursor=cursor)
           for r in b.to_pylist()]
    assert ids == list(range(26, 31))
    ids = [r["id"] for b in source.read("czrk", columns=["id"], cursor=CursorFilter("id", 28, 1))
           for r in b.to_pylist()]
    assert ids == [27, 28, 29, 30]
    source.close()


def test_stopping_early_leaves_the_source_usable(database: str) -> None:
    source = _source(database)
    stream = source.read("czrk", batch_rows=4)
    assert next(stream).num_rows == 4
    stream.close()
    assert source.test().split()[0] in ("MariaDB", "MySQL")
    assert sum(b.num_rows for b in source.read("czrk")) == 30
    source.close()


def test_wrong_password_is_terminal_and_hidden(database: str) -> None:
    admin = pymysql.connect(host="127.0.0.1", port=3306, user="root", autocommit=True)
    with admin.cursor() as cursor:
        cursor.execute("CREATE USER IF NOT EXISTS 'src_test_user'@'%' IDENTIFIED BY 'right-pw'")
        cursor.execute("CREATE USER IF NOT EXISTS 'src_test_user'@'localhost' "
                       "IDENTIFIED BY 'right-pw'")
    try:
        source = open_source("mysql", {"host": "127.0.0.1", "database": database,
                                       "user": "src_test_user"}, {"password": "Wr0ng-Secret"})
        with pytest.raises(TerminalSourceError) as caught:
            source.test()
        assert "Wr0ng-Secret" not in str(caught.value) and "Wr0ng-Secret" not in repr(source)
        assert "mysql source" in str(caught.value)
    finally:
        with admin.cursor() as cursor:
            cursor.execute("DROP USER IF EXISTS 'src_test_user'@'%'")
            cursor.execute("DROP USER IF EXISTS 'src_test_user'@'localhost'")
        admin.close()


def test_missing_table_terminal_and_closed_port_transient(database: str) -> None:
    with pytest.raises(TerminalSourceError, match="does not exist"):
        list(_source(database).read("nope"))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    source = open_source("mysql", {"host": "127.0.0.1", "port": port, "database": database,
                                   "connect_timeout": 2}, {"password": "pw-9"})
    with pytest.raises(TransientSourceError) as caught:
        source.test()
    assert "pw-9" not in str(caught.value)
