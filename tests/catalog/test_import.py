"""Bulk import from the XLSX template: the template itself, the row-by-row report, all or
nothing unless the valid rows only are asked for, refused files."""

from __future__ import annotations

from io import BytesIO
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from datapolis.catalog import service
from datapolis.catalog.enums import EntryStatus
from datapolis.catalog.import_template import ENTRY_COLUMNS, ITEM_COLUMNS, template_workbook
from datapolis.catalog.models import CatalogEntry
from datapolis.catalog.versions import Actor, list_versions
from datapolis.catalog.xlsx_import import MAX_UPLOAD_BYTES, ImportRefused, import_workbook
from datapolis.orgs import service as orgs_service
from tests.catalog.conftest import Seeded

UPLOADER = Actor("org_user")

GOOD_ENTRY = {
    "资源名称": "低保人员名单", "目录类型": "部门", "项": "23", "目": "001",
    "资源摘要": "全市最低生活保障对象的基本情况", "资源格式": "电子表格", "格式说明": "xlsx",
    "共享类型": "有条件共享", "共享条件": "用于救助审核", "共享方式": "接口、文件",
    "是否向社会开放": "否", "更新周期": "每月", "标签": "低保、救助", "数据量（条）": 52000,
    "汇聚库表": "ods_371300_gaj.dbry",
}
GOOD_ITEMS = [
    {"资源名称": "低保人员名单", "信息项名称": "公民身份号码", "字段名": "sfzh",
     "数据类型": "字符型", "长度": 18, "安全级别": "L3", "数据元代码": "DE0001"},
    {"资源名称": "低保人员名单", "信息项名称": "姓名", "字段名": "xm", "数据类型": "string",
     "长度": 30},
]


def filled(entries: list[dict[str, Any]], items: list[dict[str, Any]]) -> bytes:
    """The downloaded template with these rows typed in, by header."""
    wb = load_workbook(BytesIO(template_workbook()))
    for sheet, columns, rows in (("目录信息", ENTRY_COLUMNS, entries),
                                 ("信息项", ITEM_COLUMNS, items)):
        ws = wb[sheet]
        position = {c.header: i for i, c in enumerate(columns, start=1)}
        for number, row in enumerate(rows, start=2):
            for header, value in row.items():
                ws.cell(number, position[header], value)
    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def run(seeded: Seeded, data: bytes, *, valid_only: bool = False, org: str = "371300_gaj",
        filename: str = "目录.xlsx") -> Any:
    with seeded.registry.session() as session:
        uploader = orgs_service.get_organisation(session, org)
        return import_workbook(session, data=data, filename=filename, uploader=uploader,
                               scope=orgs_service.descendant_ids(session, uploader),
                               actor=UPLOADER, valid_only=valid_only)


def count(seeded: Seeded) -> int:
    with seeded.registry.session() as session:
        return session.scalar(select(func.count()).select_from(CatalogEntry)) or 0


def test_the_template_has_chinese_headers_dropdowns_and_a_guide() -> None:
    wb = load_workbook(BytesIO(template_workbook()))
    assert wb.sheetnames == ["目录信息", "信息项", "填写说明", "代码"]
    assert wb["代码"].sheet_state == "hidden"
    entries = wb["目录信息"]
    headers = [c.value for c in entries[1]]
    assert headers[:3] == ["*资源名称", "提供单位代码", "*目录类型"]
    assert "*共享类型" in headers and "*更新周期" in headers and "汇聚库表" in headers
    assert entries.freeze_panes == "A2"
    assert entries["A1"].comment is not None
    validations = {str(v.sqref): v.formula1 for v in entries.data_validations.dataValidation}
    share = headers.index("*共享类型") + 1
    letter = entries.cell(1, share).column_letter
    formula = validations[f"{letter}2:{letter}1001"]
    codes = wb["代码"]
    column = formula.split("!")[1].split(":")[0].replace("$", "")[0]
    offered = [c.value for c in codes[column][1:] if c.value]
    assert offered == ["无条件共享", "有条件共享", "不予共享"]
    cycle = headers.index("*更新周期") + 1
    assert any(str(v.sqref).startswith(entries.cell(1, cycle).column_letter)
               for v in entries.data_validations.dataValidation)
    # Code columns are text, so 001 keeps its zeros.
    heading = headers.index("*目") + 1
    assert entries.cell(2, heading).number_format == "@"
    assert [c.value for c in wb["信息项"][1]][:4] == ["*资源名称", "*信息项名称", "字段名",
                                                     "*数据类型"]


def test_a_clean_file_becomes_versioned_drafts_of_the_uploader(seeded: Seeded) -> None:
    second = GOOD_ENTRY | {"资源名称": "特困人员名单", "目": 2, "共享类型": "unconditional",
                           "共享条件": None, "汇聚库表": None}
    items = [*GOOD_ITEMS, {"资源名称": "特困人员名单", "信息项名称": "姓名",
                           "数据类型": "字符型"}]
    report = run(seeded, filled([GOOD_ENTRY, second], items))
    assert report.errors == []
    assert report.imported == ["323001/000001", "323002/000001"]
    assert (report.entry_rows, report.item_rows) == (2, 3)
    with seeded.registry.session() as session:
        entry = service.get_entry(session, "323001/000001")
        assert entry.status is EntryStatus.DRAFT
        assert entry.provider.code == "371300_gaj"
        assert entry.share_methods == ["interface", "file"]
        assert entry.update_cycle.value == "monthly" and entry.format_class.value == "spreadsheet"
        assert entry.tags == ["低保", "救助"] and entry.record_count == 52000
        assert [(i.name, i.column_name, i.length, i.security_grade) for i in entry.items] == [
            ("公民身份号码", "sfzh", 18, "L3"), ("姓名", "xm", 30, None)]
        assert entry.items[0].element is not None and entry.items[0].element.code == "DE0001"
        versions = list_versions(session, entry)
        assert [(v.action, v.actor) for v in versions] == [("created", "org_user")]
        typed_number = service.get_entry(session, "323002/000001")
        assert typed_number.heading == "002"  # 2 typed into a number cell


def _bad_file() -> bytes:
    bad_entries = [
        GOOD_ENTRY,
        GOOD_ENTRY | {"资源名称": "困难群众名单", "共享类型": "随便共享", "数据量（条）": "很多"},
        GOOD_ENTRY | {"资源名称": "低保人员名单"},  # the same name again
        GOOD_ENTRY | {"资源名称": "临时救助", "提供单位代码": "371302_gaj", "目": "1",
                      "更新周期": None},
    ]
    bad_items = [
        *GOOD_ITEMS,
        {"资源名称": "困难群众名单", "信息项名称": "姓名", "数据类型": "文本"},
        {"资源名称": "不存在的资源", "信息项名称": "姓名", "数据类型": "字符型"},
        {"资源名称": "低保人员名单", "信息项名称": "住址", "数据类型": "字符型",
         "数据元代码": "DE9999"},
    ]
    return filled(bad_entries, bad_items)


def test_errors_are_reported_row_by_row_and_nothing_is_imported(seeded: Seeded) -> None:
    report = run(seeded, _bad_file())
    assert report.imported == []
    assert count(seeded) == 0
    found = [(e.sheet, e.row, e.column, e.message) for e in report.errors]
    assert found == [
        ("目录信息", 3, "共享类型", "'随便共享' is not one of the choices; choose from the list"),
        ("目录信息", 3, "数据量（条）", "'很多' is not a whole number"),
        ("目录信息", 4, "资源名称", "'低保人员名单' already appears in row 2"),
        ("目录信息", 5, "提供单位代码",
         "entries of 兰山区公安分局 (371302_gaj) are outside your organisation"),
        ("目录信息", 5, "目", "classification: 目 '1' must be three digits from 001 to 999"),
        ("目录信息", 5, "更新周期", "required"),
        ("信息项", 4, "数据类型", "'文本' is not one of the choices; choose from the list"),
        ("信息项", 5, "资源名称", "no entry of this name on the sheet 目录信息"),
        ("信息项", 6, "数据元代码", "unknown data element code 'DE9999'"),
    ]


def test_valid_rows_only_imports_the_entries_without_errors(seeded: Seeded) -> None:
    clean = GOOD_ENTRY | {"资源名称": "临时救助对象", "目": "003"}
    data = filled([clean, GOOD_ENTRY | {"资源名称": "困难群众名单", "共享类型": "随便"},
                   GOOD_ENTRY],
                  [{"资源名称": "临时救助对象", "信息项名称": "姓名", "数据类型": "字符型"},
                   *GOOD_ITEMS[:1],
                   {"资源名称": "低保人员名单", "信息项名称": "住址", "数据类型": "字符型",
                    "数据元代码": "DE9999"}])
    report = run(seeded, data, valid_only=True)
    # Row 4's entry has a bad item: the whole entry stays out; row 2's is imported.
    assert report.imported == ["323003/000001"]
    assert {(e.sheet, e.row) for e in report.errors} == {("目录信息", 3), ("信息项", 4)}
    assert report.rejected_rows == 1
    assert count(seeded) == 1


def test_a_service_refusal_is_reported_on_its_row(seeded: Seeded) -> None:
    data = filled([GOOD_ENTRY | {"关联资源代码": "999999/000001"}], GOOD_ITEMS)
    report = run(seeded, data)
    assert [(e.row, e.column) for e in report.errors] == [(2, "关联资源代码")]
    assert "unknown related resource code" in report.errors[0].message
    assert count(seeded) == 0


@pytest.mark.parametrize(("data", "filename", "message"), [
    (b"", "a.xlsx", "the file is empty"),
    ("资源名称,目录类型\n低保,部门\n".encode("gbk"), "目录.csv", "looks like a CSV"),
    (b"\xd0\xcf\x11\xe0" + b"\0" * 100, "old.xls", "old .xls workbook"),
    (b"PK\x03\x04 broken", "broken.xlsx", "cannot be read"),
    (b"%PDF-1.7", "a.pdf", "not an XLSX workbook"),
    (b"PK\x03\x04" + b"\0" * MAX_UPLOAD_BYTES, "big.xlsx", "at most 10 MB"),
])
def test_files_that_are_not_the_template_are_refused(
    seeded: Seeded, data: bytes, filename: str, message: str
) -> None:
    with pytest.raises(ImportRefused, match=message):
        run(seeded, data, filename=filename)


def test_a_workbook_without_the_template_sheets_is_refused(seeded: Seeded) -> None:
    wb = load_workbook(BytesIO(template_workbook()))
    wb["目录信息"].cell(1, 1, "名称")  # the required 资源名称 column renamed
    buffer = BytesIO()
    wb.save(buffer)
    with pytest.raises(ImportRefused, match="lacks the column"):
        run(seeded, buffer.getvalue())
