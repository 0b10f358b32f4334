from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import openpyxl
import pyarrow as pa
import pytest

from datapolis.ingest.errors import TerminalSourceError
from datapolis.ingest.sources.base import CursorFilter
from datapolis.ingest.sources.registry import open_source


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "低保"
    sheet.append(["身份证号", "姓名", "金额", "人数", "日期", "更新时间", "户号", "在册"])
    for i in range(1, 8):
        sheet.append([f"37130219900101{i:03d}X", f"张{i}", 350.5 + i, i, date(2024, 5, i),
                      datetime(2024, 5, i, 8), f"{i:04d}", i % 2 == 0])
    workbook.create_sheet("空表")
    workbook.save(tmp_path / "dibao.xlsx")
    (tmp_path / "notes.txt").write_text("ignored", encoding="utf-8")
    return tmp_path


def test_sheets_are_tables_with_inferred_types(folder: Path) -> None:
    source = open_source("xlsx", {"path": str(folder)}, {})
    assert source.test().startswith("1 workbook")
    tables = {t.name: t for t in source.tables()}
    assert set(tables) == {"dibao.xlsx#低保", "dibao.xlsx#空表"}
    table = tables["dibao.xlsx#低保"]
    assert table.rows_estimate == 7
    assert {c.name: c.arrow_type for c in table.columns} == {
        "身份证号": pa.string(), "姓名": pa.string(), "金额": pa.float64(), "人数": pa.int64(),
        "日期": pa.date32(), "更新时间": pa.timestamp("us"), "户号": pa.string(),
        "在册": pa.bool_()}
    rows = pa.Table.from_batches(source.read("dibao.xlsx#低保", batch_rows=3)).to_pylist()
    assert len(rows) == 7
    assert rows[1] == {"身份证号": "37130219900101002X", "姓名": "张2", "金额": 352.5, "人数": 2,
                       "日期": date(2024, 5, 2), "更新时间": datetime(2024, 5, 2, 8),
                       "户号": "0002", "在册": True}


def test_cursor_columns_and_errors(folder: Path) -> None:
    source = open_source("xlsx", {"path": str(folder / "dibao.xlsx")}, {})
    cursor = CursorFilter("更新时间", datetime(2024, 5, 6, 8), None)
    got = [r for b in source.read("dibao.xlsx#低保", columns=["人数"], cursor=cursor)
           for r in b.to_pylist()]
    assert got == [{"人数": 6}, {"人数": 7}]
    with pytest.raises(TerminalSourceError, match="has no sheet"):
        source.columns("dibao.xlsx#nope")
    (folder / "bad.xlsx").write_bytes(b"not a zip")
    with pytest.raises(TerminalSourceError, match=r"file bad\.xlsx: not a readable workbook"):
        open_source("xlsx", {"path": str(folder)}, {}).tables()
