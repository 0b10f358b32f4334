from __future__ import annotations

import socket
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import psycopg2
import pyarrow as pa
import pytest
from sqlalchemy.engine import make_url

from datapolis.ingest.errors import TerminalSourceError, TransientSourceError
from datapolis.ingest.sources.base import CursorFilter, Source
from datapolis.ingest.sources.registry import open_source
from datapolis.warehouse.duckdb_engine import DuckDBEngine

DDL = """
CREATE TABLE public.czrk (
  id int8 PRIMARY KEY, small int2, medium int4, ratio float4, score float8,
  amount numeric(12,2), name text, code varchar(18), born date, updated_at timestamptz,
  active bool, uid uuid, attrs jsonb, photo bytea, plain timestamp, big numeric);
COMMENT ON TABLE public.czrk IS '常住人口';
COMMENT ON COLUMN public.czrk.name IS '姓名';
COMMENT ON COLUMN public.czrk.code IS '公民身份号码';
INSERT INTO public.czrk
SELECT g, g::int2, g * 1000, g / 4.0, g / 3.0, (g * 1.25)::numeric(12,2), '张' || g,
       lpad(g::text, 18, '0'), DATE '2000-01-01' + g,
       TIMESTAMPTZ '2024-05-01 00:00:00+00' + g * INTERVAL '1 hour', g % 2 = 0,
       md5(g::text)::uuid, jsonb_build_object('k', g), '\\x0102'::bytea,
       TIMESTAMP '2024-05-01 08:00:00', 12345678901234567890.5
FROM generate_series(1, 50) g;
"""


def _source(url: str, **extra: object) -> Source:
    parsed = make_url(url)
    options = {"host": parsed.host, "port": parsed.port or 5432, "database": parsed.database,
               "user": parsed.username, **extra}
    return open_source("postgres", options, {})


@pytest.fixture
def pg(pg_url: str) -> Source:
    connection = psycopg2.connect(make_url(pg_url).set(drivername="postgresql")
                                  .render_as_string(hide_password=False))
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(DDL)
    connection.close()
    return _source(pg_url)


def test_tables_carry_comments_keys_and_types(pg: Source) -> None:
    assert pg.test().startswith("PostgreSQL")
    (table,) = pg.tables()
    assert (table.name, table.comment, table.primary_key) == ("public.czrk", "常住人口", ("id",))
    types = {c.name: c.arrow_type for c in table.columns}
    assert types == {
        "id": pa.int64(), "small": pa.int16(), "medium": pa.int32(), "ratio": pa.float32(),
        "score": pa.float64(), "amount": pa.decimal128(12, 2), "name": pa.string(),
        "code": pa.string(), "born": pa.date32(), "updated_at": pa.timestamp("us", "UTC"),
        "active": pa.bool_(), "uid": pa.uuid(), "attrs": pa.string(), "photo": pa.binary(),
        "plain": pa.timestamp("us"), "big": pa.string()}
    comments = {c.name: c.comment for c in table.columns}
    assert comments["name"] == "姓名" and comments["code"] == "公民身份号码"
    assert [c.name for c in table.columns if c.primary_key] == ["id"]


def test_read_round_trips_every_type(pg: Source) -> None:
    batches = list(pg.read("public.czrk", batch_rows=20))
    assert [b.num_rows for b in batches] == [20, 20, 10]
    data = pa.Table.from_batches(batches)
    assert data.schema == pa.schema([pa.field(c.name, c.arrow_type)
                                     for c in pg.columns("public.czrk")])
    row = data.slice(6, 1).to_pylist()[0]
    assert row["small"] == 7 and row["ratio"] == 1.75 and row["amount"] == Decimal("8.75")
    assert row["code"] == "000000000000000007" and row["born"] == date(2000, 1, 8)
    assert row["updated_at"] == datetime(2024, 5, 1, 7, tzinfo=UTC)
    assert row["uid"] == uuid.UUID("8f14e45f-ceea-167a-5a36-dedd4bea2543")
    assert row["attrs"] == '{"k": 7}' and row["photo"] == b"\x01\x02"
    assert row["big"] == "12345678901234567890.5"


def test_every_type_lands_in_the_warehouse_as_itself(pg: Source) -> None:
    engine = DuckDBEngine()
    for batch in pg.read("public.czrk", batch_rows=20):
        engine.write("ods_test.czrk", pa.Table.from_batches([batch]))
    landed = {c.name: c.type for c in engine.columns("ods_test.czrk")}
    assert landed == {
        "id": "BIGINT", "small": "SMALLINT", "medium": "INTEGER", "ratio": "FLOAT",
        "score": "DOUBLE", "amount": "DECIMAL(12,2)", "name": "VARCHAR", "code": "VARCHAR",
        "born": "DATE", "updated_at": "TIMESTAMP WITH TIME ZONE", "active": "BOOLEAN",
        "uid": "UUID", "attrs": "VARCHAR", "photo": "BLOB", "plain": "TIMESTAMP",
        "big": "VARCHAR"}
    assert engine.scalar("SELECT uid::VARCHAR FROM ods_test.czrk WHERE id = 7") == (
        "8f14e45f-ceea-167a-5a36-dedd4bea2543")
    engine.close()


def test_cursor_reads_past_the_offset_minus_overlap_in_order(pg: Source) -> None:
    after = datetime(2024, 5, 2, 16, tzinfo=UTC)
    cursor = CursorFilter("updated_at", after, timedelta(hours=2))
    ids = [r["id"] for b in pg.read("public.czrk", columns=["id"], cursor=cursor)
           for r in b.to_pylist()]
    assert ids == list(range(38, 51))
    by_id = CursorFilter("id", 45, 5)
    ids = [r["id"] for b in pg.read("public.czrk", columns=["id"], cursor=by_id)
           for r in b.to_pylist()]
    assert ids == list(range(40, 51))
    first = CursorFilter("id", None)
    assert sum(b.num_rows for b in pg.read("public.czrk", cursor=first)) == 50


def test_stopping_early_cancels_and_leaves_the_source_usable(pg: Source) -> None:
    stream = pg.read("public.czrk", batch_rows=5)
    assert next(stream).num_rows == 5
    stream.close()
    assert pg.test().startswith("PostgreSQL")
    assert sum(b.num_rows for b in pg.read("czrk")) == 50


def test_missing_table_and_column_are_terminal(pg: Source) -> None:
    with pytest.raises(TerminalSourceError, match="does not exist"):
        pg.columns("public.nope")
    with pytest.raises(TerminalSourceError, match="no column"):
        list(pg.read("public.czrk", columns=["id", "nope"]))
    with pytest.raises(TerminalSourceError, match="cursor column"):
        list(pg.read("public.czrk", cursor=CursorFilter("nope'; drop", 1)))


def test_unknown_role_is_terminal_and_hides_the_password(pg_url: str) -> None:
    source = open_source("postgres", {"host": "127.0.0.1", "port": 5432,
                                      "database": make_url(pg_url).database,
                                      "user": "no_such_role"}, {"password": "s3cret-Pa55"})
    with pytest.raises(TerminalSourceError) as caught:
        source.test()
    assert "s3cret-Pa55" not in str(caught.value) and "s3cret-Pa55" not in repr(source)
    assert "postgres source" in str(caught.value)


def test_nothing_listening_is_transient() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    source = open_source("postgres", {"host": "127.0.0.1", "port": port, "database": "x",
                                      "user": "u", "connect_timeout": 2}, {"password": "pw-123"})
    with pytest.raises(TransientSourceError) as caught:
        source.test()
    assert "pw-123" not in str(caught.value)
