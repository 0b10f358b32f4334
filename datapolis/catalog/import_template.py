"""The bulk-import template: its two sheets (目录信息, 信息项), their columns with Chinese
headers, and the workbook a user downloads, with dropdowns for every coded field.

`xlsx_import` reads the same columns back; headers are matched by text, so a user may reorder
columns; a leading `*` marks a required column and is ignored when reading.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from itertools import combinations

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from datapolis.catalog.enums import (
    LABELS,
    CatalogType,
    DataType,
    FormatClass,
    ShareMethod,
    ShareType,
    UpdateCycle,
)
from datapolis.catalog.lists import zh
from datapolis.catalog.sheets import BORDER, FONT_NAME, HEADER_FILL, new_workbook, to_bytes

ENTRY_SHEET, ITEM_SHEET, HELP_SHEET, CODES_SHEET = "目录信息", "信息项", "填写说明", "代码"
TEMPLATE_ROWS = 1000  # rows the dropdowns and text formats reach
YES, NO = "是", "否"


@dataclass(frozen=True)
class TemplateColumn:
    key: str  # the EntryCreate / ItemInput field (or a parse helper's name)
    header: str
    width: float
    required: bool = False
    help: str = ""
    choices: type[enum.StrEnum] | str | None = None  # a vocabulary, or "yes_no", "methods"
    text: bool = False  # formatted as text, so 001 keeps its zeros

    @property
    def title(self) -> str:
        return ("*" if self.required else "") + self.header


ENTRY_COLUMNS = (
    TemplateColumn("name", "资源名称", 26, True, "同一文件内不可重复；信息项页按此名称对应"),
    TemplateColumn("provider_code", "提供单位代码", 16, False,
                   "组织机构代码，如 371300_gaj；留空为导入人所在单位", text=True),
    TemplateColumn("catalog_type", "目录类型", 22, True, "下拉选择", CatalogType),
    TemplateColumn("subject", "项", 6, False, "两位数字；基础类目录可留空", text=True),
    TemplateColumn("heading", "目", 6, True, "三位数字，如 001", text=True),
    TemplateColumn("subheading", "细目", 6, False, "三位数字，可留空", text=True),
    TemplateColumn("resource_code", "资源代码", 18, False,
                   "已有编码的资源填写，如 101001/000123；新资源留空自动生成", text=True),
    TemplateColumn("summary", "资源摘要", 34),
    TemplateColumn("format_class", "资源格式", 14, True, "下拉选择", FormatClass),
    TemplateColumn("format_detail", "格式说明", 12, False, "如 xlsx、PostgreSQL"),
    TemplateColumn("share_type", "共享类型", 14, True, "下拉选择", ShareType),
    TemplateColumn("share_conditions", "共享条件", 24, False,
                   "有条件共享、不予共享时必填（提交审核时检查）"),
    TemplateColumn("share_methods", "共享方式", 14, False, "下拉选择，多个用顿号分隔", "methods"),
    TemplateColumn("open_to_public", "是否向社会开放", 10, False, "是 / 否，留空为否", "yes_no"),
    TemplateColumn("open_conditions", "开放条件", 20),
    TemplateColumn("update_cycle", "更新周期", 10, True, "下拉选择", UpdateCycle),
    TemplateColumn("related_codes", "关联资源代码", 18, False, "多个用顿号或空格分隔", text=True),
    TemplateColumn("classified", "是否涉密", 8, False, "是 / 否，留空为否", "yes_no"),
    TemplateColumn("tags", "标签", 14, False, "多个用顿号或空格分隔"),
    TemplateColumn("record_count", "数据量（条）", 12),
    TemplateColumn("storage_bytes", "存储量（字节）", 14),
    TemplateColumn("warehouse_table", "汇聚库表", 22, False, "如 ods_371300_gaj.czrk", text=True),
)
ITEM_COLUMNS = (
    TemplateColumn("entry_name", "资源名称", 26, True, "与“目录信息”页的资源名称一致"),
    TemplateColumn("name", "信息项名称", 18, True, "同一资源内不可重复"),
    TemplateColumn("column_name", "字段名", 14, False, "数据库字段名，如 gmsfhm", text=True),
    TemplateColumn("data_type", "数据类型", 12, True, "下拉选择", DataType),
    TemplateColumn("length", "长度", 6),
    TemplateColumn("description", "描述", 24),
    TemplateColumn("security_grade", "安全级别", 8, False, "如 1、2、3", text=True),
    TemplateColumn("element_code", "数据元代码", 12, False, "如 DE0001，见数据标准页", text=True),
)


def choice_labels(choices: type[enum.StrEnum] | str) -> list[str]:
    """What a dropdown offers: the Chinese labels (the codes are accepted too when reading)."""
    if choices == "yes_no":
        return [YES, NO]
    if choices == "methods":
        names = [zh(LABELS[m]) for m in ShareMethod]
        return ["、".join(combo) for size in range(1, len(names) + 1)
                for combo in combinations(names, size)]
    assert not isinstance(choices, str)
    return [zh(LABELS[member]) for member in choices]


HELP_LINES = (
    "政务信息资源目录批量导入模板",
    "",
    "1. “目录信息”页每行一个资源，“信息项”页每行一个信息项，按资源名称对应。",
    "2. 表头带 * 的列必填；下拉列请从下拉中选择（也可填写英文代码，如 conditional）。",
    "3. 项、目、细目、资源代码等编码列为文本格式，请保留前导 0。",
    "4. 导入时逐行检查；任何一行有错误时整个文件都不导入，并给出错误报告（页、行、列、说明）。",
    "   如只导入无误的行，请在导入时选择“仅导入无误的行”。",
    "5. 导入的目录均为草稿，由导入人创建，可在目录页修改后提交审核。",
)


def _header(ws: Worksheet, columns: tuple[TemplateColumn, ...]) -> None:
    for index, column in enumerate(columns, start=1):
        cell = ws.cell(1, index, column.title)
        cell.font = Font(name=FONT_NAME, bold=True, color="C00000" if column.required else None)
        cell.fill = HEADER_FILL
        cell.border = BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        if column.help:
            cell.comment = Comment(column.help, "Datapolis")
        letter = get_column_letter(index)
        ws.column_dimensions[letter].width = column.width
        if column.text:
            for row in range(2, TEMPLATE_ROWS + 2):
                ws.cell(row, index).number_format = "@"
    ws.row_dimensions[1].height = 30
    ws.freeze_panes = "A2"


def _dropdowns(ws: Worksheet, codes: Worksheet, columns: tuple[TemplateColumn, ...],
               lists: dict[str, str]) -> None:
    for index, column in enumerate(columns, start=1):
        if column.choices is None:
            continue
        key = column.choices if isinstance(column.choices, str) else column.choices.__name__
        if key not in lists:
            values = choice_labels(column.choices)
            col = len(lists) + 1
            codes.cell(1, col, key)
            for row, value in enumerate(values, start=2):
                codes.cell(row, col, value)
            letter = get_column_letter(col)
            lists[key] = f"{quote_sheetname(CODES_SHEET)}!${letter}$2:${letter}${len(values) + 1}"
        validation = DataValidation(type="list", formula1=lists[key], allow_blank=True,
                                    showErrorMessage=True, errorTitle="取值无效",
                                    error=f"请从下拉列表中选择{column.header}")
        letter = get_column_letter(index)
        validation.add(f"{letter}2:{letter}{TEMPLATE_ROWS + 1}")
        ws.add_data_validation(validation)


def template_workbook() -> bytes:
    wb: Workbook = new_workbook()
    entries = wb.create_sheet(ENTRY_SHEET)
    items = wb.create_sheet(ITEM_SHEET)
    guide = wb.create_sheet(HELP_SHEET)
    codes = wb.create_sheet(CODES_SHEET)
    codes.sheet_state = "hidden"
    lists: dict[str, str] = {}
    for ws, columns in ((entries, ENTRY_COLUMNS), (items, ITEM_COLUMNS)):
        _header(ws, columns)
        _dropdowns(ws, codes, columns, lists)
    for row, line in enumerate(HELP_LINES, start=1):
        guide.cell(row, 1, line).font = Font(name=FONT_NAME, bold=row == 1,
                                             size=14 if row == 1 else 11)
    guide.column_dimensions["A"].width = 100
    return to_bytes(wb)
