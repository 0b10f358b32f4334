"""Printable XLSX sheets in the layout a bureau files: a title row, the date it was made, one or
two header rows (a group heading merged over its columns), 序号, bordered cells, merged runs of
the same provider, a frozen header, and A4 landscape print setup that fits the width and repeats
the header on every page.

The bureau's lists and the import template both write through `write_workbook`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from io import BytesIO
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

FONT_NAME = "宋体"
_THIN = Side(style="thin", color="000000")
BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
HEADER_FILL = PatternFill("solid", fgColor="D9E1F2")
SERIAL_HEADER = "序号"
SERIAL_WIDTH = 6.0
# Rows above the header: the title, then the date line.
TITLE_ROW, INFO_ROW, FIRST_HEADER_ROW = 1, 2, 3


@dataclass(frozen=True)
class Column:
    header: str  # printed as it stands: the bureau's sheets are Chinese whatever the UI says
    width: float  # in Excel character units
    group: str | None = None  # columns next to each other with the same group share a heading
    center: bool = False
    number_format: str | None = None


@dataclass
class Sheet:
    name: str  # the worksheet tab
    title: str  # e.g. 临沂市政务数据共享清单
    columns: Sequence[Column]
    rows: Sequence[Sequence[Any]]
    made_on: date
    note: str = ""  # after the date, e.g. the filter the list was made with
    merge_same: Sequence[int] = ()  # column indexes whose equal neighbours are merged downwards
    serial: bool = True  # a leading 序号 column


def header_rows(sheet: Sheet) -> int:
    return 2 if any(column.group for column in sheet.columns) else 1


def first_data_row(sheet: Sheet) -> int:
    return FIRST_HEADER_ROW + header_rows(sheet)


def _cell_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)  # openpyxl refuses aware datetimes; shown as given
    if isinstance(value, (list, tuple)):
        return "、".join(str(v) for v in value)
    return value


def _write_headers(ws: Worksheet, sheet: Sheet) -> None:
    two = header_rows(sheet) == 2
    top, bottom = FIRST_HEADER_ROW, FIRST_HEADER_ROW + (1 if two else 0)
    headers: list[tuple[str | None, str]] = [(None, SERIAL_HEADER)] if sheet.serial else []
    headers += [(column.group, column.header) for column in sheet.columns]
    index = 0
    while index < len(headers):
        group, header = headers[index]
        col = index + 1
        if group is None:
            ws.cell(top, col, header)
            if two:
                ws.merge_cells(start_row=top, start_column=col, end_row=bottom, end_column=col)
            index += 1
            continue
        end = index
        while end + 1 < len(headers) and headers[end + 1][0] == group:
            end += 1
        ws.cell(top, col, group)
        if end > index:
            ws.merge_cells(start_row=top, start_column=col, end_row=top, end_column=end + 1)
        for sub in range(index, end + 1):
            ws.cell(bottom, sub + 1, headers[sub][1])
        index = end + 1
    for row in range(top, bottom + 1):
        ws.row_dimensions[row].height = 24
        for col in range(1, len(headers) + 1):
            cell = ws.cell(row, col)
            cell.font = Font(name=FONT_NAME, bold=True, size=11)
            cell.fill = HEADER_FILL
            cell.border = BORDER
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)


def _merge_runs(ws: Worksheet, sheet: Sheet, start: int, offset: int) -> None:
    # Nested like the sort: a provider run never crosses the share-type run it sits in.
    for depth, index in enumerate(sheet.merge_same):
        outer = sheet.merge_same[: depth + 1]
        key = [tuple(values[i] for i in outer) for values in sheet.rows]
        col = index + 1 + offset
        run_start = 0
        for row in range(1, len(sheet.rows) + 1):
            if row == len(sheet.rows) or key[row] != key[run_start]:
                if row - run_start > 1:
                    ws.merge_cells(start_row=start + run_start, start_column=col,
                                   end_row=start + row - 1, end_column=col)
                run_start = row


def _print_setup(ws: Worksheet, sheet: Sheet, width: int) -> None:
    last_header = first_data_row(sheet) - 1
    ws.freeze_panes = ws.cell(first_data_row(sheet), 1)
    ws.print_title_rows = f"{FIRST_HEADER_ROW}:{last_header}"
    ws.print_area = f"A1:{get_column_letter(width)}{max(last_header, ws.max_row)}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0  # as many pages down as it takes
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"


def add_sheet(wb: Workbook, sheet: Sheet) -> Worksheet:
    ws: Worksheet = wb.create_sheet(sheet.name)
    offset = 1 if sheet.serial else 0
    width = len(sheet.columns) + offset
    ws.cell(TITLE_ROW, 1, sheet.title)
    ws.merge_cells(start_row=TITLE_ROW, start_column=1, end_row=TITLE_ROW, end_column=width)
    ws.cell(TITLE_ROW, 1).font = Font(name="黑体", bold=True, size=16)
    ws.cell(TITLE_ROW, 1).alignment = Alignment(horizontal="center", vertical="center")
    ws.row_dimensions[TITLE_ROW].height = 36
    info = f"生成日期：{sheet.made_on:%Y年%m月%d日}    共 {len(sheet.rows)} 条"
    ws.cell(INFO_ROW, 1, f"{info}    {sheet.note}".rstrip())
    ws.merge_cells(start_row=INFO_ROW, start_column=1, end_row=INFO_ROW, end_column=width)
    ws.cell(INFO_ROW, 1).font = Font(name=FONT_NAME, size=10)
    ws.cell(INFO_ROW, 1).alignment = Alignment(horizontal="left", vertical="center")
    _write_headers(ws, sheet)
    start = first_data_row(sheet)
    for number, values in enumerate(sheet.rows, start=1):
        row = start + number - 1
        cells = ([number] if sheet.serial else []) + [_cell_value(v) for v in values]
        for col, value in enumerate(cells, start=1):
            cell = ws.cell(row, col, value)
            cell.border = BORDER
            cell.font = Font(name=FONT_NAME, size=10)
            column = sheet.columns[col - 1 - offset] if col > offset else None
            center = column is None or column.center
            cell.alignment = Alignment(horizontal="center" if center else "left",
                                       vertical="center", wrap_text=True)
            if column is not None and column.number_format:
                cell.number_format = column.number_format
    _merge_runs(ws, sheet, start, offset)
    if sheet.serial:
        ws.column_dimensions["A"].width = SERIAL_WIDTH
    for index, column in enumerate(sheet.columns, start=1 + offset):
        ws.column_dimensions[get_column_letter(index)].width = column.width
    _print_setup(ws, sheet, width)
    return ws


def new_workbook() -> Workbook:
    wb = Workbook()
    wb.remove(wb.active)
    return wb


def to_bytes(wb: Workbook) -> bytes:
    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def write_workbook(sheets: Sequence[Sheet]) -> bytes:
    wb = new_workbook()
    for sheet in sheets:
        add_sheet(wb, sheet)
    return to_bytes(wb)


XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
