from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest

from datapolis.ingest.errors import TerminalSourceError
from datapolis.ingest.sources.base import CursorFilter, Source
from datapolis.ingest.sources.registry import open_source

ROWS = [
    "身份证号,姓名,户号,金额,人数,发放日期,更新时间",
    "37130219900101123X,张三,0012,350.50,3,2024-05-01,2024-05-01 08:00:00",
    "371302199001011234,李四,0013,1200,1,2024-05-02,2024-05-02 09:30:00",
    "371302199001015678,王五,0100,88.05,2,,2024-05-03 10:00:00",
]


def _write(path: Path, text: str, encoding: str) -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def _csv(tmp_path: Path, encoding: str, extra_name: str = "") -> Source:
    rows = list(ROWS)
    rows[2] = rows[2].replace("李四", "李四" + extra_name)
    _write(tmp_path / "dibao.csv", "\r\n".join(rows) + "\r\n", encoding)
    return open_source("csv", {"path": str(tmp_path)}, {})


@pytest.mark.parametrize(("encoding", "detected", "extra"), [
    ("utf-8", "utf-8", ""), ("utf-8-sig", "utf-8-sig", ""), ("gbk", "gbk", ""),
    ("gb18030", "gb18030", "𠮷")])
def test_encodings_are_detected_and_types_inferred(tmp_path: Path, encoding: str,
                                                   detected: str, extra: str) -> None:
    source = _csv(tmp_path, encoding, extra)
    (table,) = source.tables()
    assert (table.name, table.comment, table.rows_estimate) == ("dibao.csv", f"CSV, {detected}", 3)
    assert {c.name: c.arrow_type for c in table.columns} == {
        "身份证号": pa.string(), "姓名": pa.string(), "户号": pa.string(),
        "金额": pa.decimal128(6, 2), "人数": pa.int64(), "发放日期": pa.date32(),
        "更新时间": pa.timestamp("us")}
    rows = pa.Table.from_batches(source.read("dibao.csv", batch_rows=2)).to_pylist()
    assert rows[0] == {"身份证号": "37130219900101123X", "姓名": "张三", "户号": "0012",
                       "金额": Decimal("350.50"), "人数": 3, "发放日期": date(2024, 5, 1),
                       "更新时间": datetime(2024, 5, 1, 8)}
    assert rows[1]["姓名"] == "李四" + extra and rows[1]["身份证号"] == "371302199001011234"
    assert rows[2]["发放日期"] is None


def test_broken_byte_names_file_row_and_column(tmp_path: Path) -> None:
    good = "\r\n".join(ROWS).encode("gbk")
    broken = good.replace("王五".encode("gbk"), "王".encode("gbk") + b"\xff")
    (tmp_path / "dibao.csv").write_bytes(broken)
    source = open_source("csv", {"path": str(tmp_path / "dibao.csv")}, {})
    with pytest.raises(TerminalSourceError) as caught:
        source.tables()
    offset = broken.index(b"\xff")
    assert str(caught.value) == (
        f"file dibao.csv: byte 0xff at offset {offset} (row 3, column 姓名) is not valid gbk; "
        "the file is not UTF-8, GBK or GB18030")


def test_broken_byte_at_the_start_of_a_row(tmp_path: Path) -> None:
    data = "\n".join(ROWS).encode("utf-8-sig").replace(b"\n371302199001015678", b"\n\xff71302")
    (tmp_path / "x.csv").write_bytes(data)
    expected = r"\(row 3, column 身份证号\) is not valid utf-8-sig"
    with pytest.raises(TerminalSourceError, match=expected):
        open_source("csv", {"path": str(tmp_path)}, {}).columns("x.csv")


def test_columns_cursor_and_bad_shapes(tmp_path: Path) -> None:
    source = _csv(tmp_path, "utf-8")
    cursor = CursorFilter("更新时间", datetime(2024, 5, 2, 9, 30), None)
    got = [r for b in source.read("dibao.csv", columns=["姓名"], cursor=cursor)
           for r in b.to_pylist()]
    assert got == [{"姓名": "李四"}, {"姓名": "王五"}]
    with pytest.raises(TerminalSourceError, match="does not compare with column 更新时间"):
        list(source.read("dibao.csv", cursor=CursorFilter("更新时间", "not a time")))
    with pytest.raises(TerminalSourceError, match="does not exist"):
        source.columns("nope.csv")
    (tmp_path / "short.csv").write_text("a,b\n1,2\n3\n", encoding="utf-8")
    with pytest.raises(TerminalSourceError, match="row 2 has 1 fields"):
        source.columns("short.csv")
    with pytest.raises(TerminalSourceError, match="does not exist"):
        open_source("csv", {"path": str(tmp_path / "none")}, {}).tables()
