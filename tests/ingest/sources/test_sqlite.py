from __future__ import annotations

import sqlite3
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest

from datapolis.errors import UserError
from datapolis.ingest.errors import TerminalSourceError
from datapolis.ingest.sources.base import CursorFilter, Source, SourceKind
from datapolis.ingest.sources.registry import get_kind, list_kinds, open_source, register_kind

CREATE = """CREATE TABLE czrk ( -- 常住人口
  sfzh VARCHAR(18) PRIMARY KEY, -- 公民身份号码
  xm VARCHAR(50), -- 姓名
  csrq DATE, -- 出生日期
  gxsj DATETIME, -- 更新时间
  "mj" DECIMAL(14,2), -- 面积
  age INTEGER -- 年龄
)"""


@pytest.fixture
def db(tmp_path: Path) -> Source:
    path = tmp_path / "gaj.sqlite"
    with sqlite3.connect(path) as connection:
        connection.execute(CREATE)
        connection.executemany("INSERT INTO czrk VALUES (?, ?, ?, ?, ?, ?)", [
            (f"0{i:017d}", f"张{i}", f"2000-01-{i:02d}", f"2024-05-{i:02d} 08:00:00",
             f"{i}.25", i) for i in range(1, 21)])
    return open_source("sqlite", {"path": str(path)}, {})


def test_comments_from_the_create_text(db: Source) -> None:
    assert "1 tables" in db.test()
    (table,) = db.tables()
    assert (table.name, table.comment, table.primary_key, table.rows_estimate) == (
        "czrk", "常住人口", ("sfzh",), 20)
    assert {c.name: c.comment for c in table.columns} == {
        "sfzh": "公民身份号码", "xm": "姓名", "csrq": "出生日期", "gxsj": "更新时间",
        "mj": "面积", "age": "年龄"}
    assert [c.arrow_type for c in table.columns] == [
        pa.string(), pa.string(), pa.date32(), pa.timestamp("us"), pa.decimal128(14, 2),
        pa.int64()]


def test_read_types_and_cursor(db: Source) -> None:
    rows = pa.Table.from_batches(db.read("czrk", batch_rows=7)).to_pylist()
    assert len(rows) == 20
    assert rows[2] == {"sfzh": "000000000000000003", "xm": "张3", "csrq": date(2000, 1, 3),
                       "gxsj": datetime(2024, 5, 3, 8), "mj": Decimal("3.25"), "age": 3}
    cursor = CursorFilter("gxsj", datetime(2024, 5, 18, 8), overlap=None)
    got = [r["age"] for b in db.read("czrk", columns=["age"], cursor=cursor)
           for r in b.to_pylist()]
    assert got == [18, 19, 20]
    got = [r["age"] for b in db.read("czrk", columns=["age"], cursor=CursorFilter("age", 18, 3))
           for r in b.to_pylist()]
    assert got == [15, 16, 17, 18, 19, 20]


def test_missing_file_and_table_are_terminal(tmp_path: Path, db: Source) -> None:
    with pytest.raises(TerminalSourceError, match="does not exist"):
        open_source("sqlite", {"path": str(tmp_path / "nope.sqlite")}, {}).test()
    with pytest.raises(TerminalSourceError, match="table nope does not exist"):
        list(db.read("nope"))


def test_registry_lists_builtins_and_refuses_unknowns() -> None:
    assert {"postgres", "sqlite"} <= {kind.name for kind in list_kinds()}
    with pytest.raises(UserError, match=r"known kinds: .*postgres"):
        get_kind("oracle")
    with pytest.raises(UserError, match="unknown option"):
        open_source("sqlite", {"path": "x", "bogus": 1}, {})
    sqlite = get_kind("sqlite")
    assert register_kind(sqlite) is sqlite  # registering the same kind again is harmless
    impostor = SourceKind(name="sqlite", label="other", open=sqlite.open, option_fields=())
    with pytest.raises(UserError, match="already registered"):
        register_kind(impostor)
