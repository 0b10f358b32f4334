"""Bulk import of catalog entries from the XLSX template, with a row-by-row error report.

Every row of both sheets is checked first (required columns, dropdown values, numbers, codes,
providers, data elements, the item sheet pointing at an entry of the file), then each entry is
created as a draft by the uploader. If any row has an error nothing is imported, unless the
caller asks for the valid rows only: then every entry without an error (in its own row or in any
of its items) is imported and the rest are reported.
"""

from __future__ import annotations

import enum
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from io import BytesIO
from typing import Any

from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from datapolis.catalog import service
from datapolis.catalog.enums import (
    LABELS,
    CatalogType,
    DataType,
    FormatClass,
    ShareMethod,
    ShareType,
    UpdateCycle,
)
from datapolis.catalog.import_template import (
    ENTRY_COLUMNS,
    ENTRY_SHEET,
    ITEM_COLUMNS,
    ITEM_SHEET,
    NO,
    YES,
    TemplateColumn,
)
from datapolis.catalog.lists import zh
from datapolis.catalog.models import CatalogEntry, DataElement
from datapolis.catalog.schemas import EntryCreate
from datapolis.catalog.versions import Actor
from datapolis.errors import UserError
from datapolis.orgs.models import Organisation
from datapolis.security.audit import service as audit
from datapolis.web.i18n import N_

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_ENTRY_ROWS = 5_000
MAX_ITEM_ROWS = 100_000
_SPLIT = re.compile(r"[\s,，;；、/]+")
_TRUE = {YES, "y", "yes", "true", "1", "✓"}
_FALSE = {NO, "n", "no", "false", "0", ""}
Progress = Callable[[int, int], None]
REQUIRED = N_("required")  # the message of an empty required cell (pages translate it)


class ImportRefused(UserError):
    """The file as a whole cannot be read: wrong type, too large, sheets or columns missing."""


@dataclass(frozen=True)
class RowError:
    sheet: str
    row: int  # as Excel numbers it (the header is row 1)
    column: str  # the column's header, empty when the error is about the whole row
    message: str


@dataclass
class ImportReport:
    filename: str
    valid_only: bool
    entry_rows: int = 0
    item_rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    imported: list[str] = field(default_factory=list)  # resource codes of the new drafts

    @property
    def rejected_rows(self) -> int:
        return len({(e.sheet, e.row) for e in self.errors if e.sheet == ENTRY_SHEET})


# --- reading the file ------------------------------------------------------------------------


def open_upload(data: bytes, filename: str = "") -> Workbook:
    """The workbook in `data`, or ImportRefused saying what the file is instead."""
    if not data:
        raise ImportRefused("the file is empty")
    if len(data) > MAX_UPLOAD_BYTES:
        raise ImportRefused(f"the file has {len(data):,} bytes; at most "
                            f"{MAX_UPLOAD_BYTES // (1024 * 1024)} MB can be imported")
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportRefused("this is an old .xls workbook; save it as .xlsx (Excel 2007 or "
                            "later) and import that")
    if not data.startswith(b"PK\x03\x04"):
        lowered = filename.lower()
        if lowered.endswith((".csv", ".txt")) or b"," in data[:4096] or b"\t" in data[:4096]:
            raise ImportRefused("this looks like a CSV (text) file; download the XLSX "
                                "template, fill it in and import the .xlsx file")
        raise ImportRefused("the file is not an XLSX workbook; import the filled-in template")
    try:
        return load_workbook(BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ImportRefused(f"the workbook cannot be read ({exc.__class__.__name__}); "
                            "save it again as .xlsx") from None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return YES if value else NO
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else (
            value.isoformat())
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


@dataclass
class _Row:
    number: int
    values: dict[str, Any]  # by column key


def _rows(
    wb: Workbook, sheet: str, columns: tuple[TemplateColumn, ...], limit: int
) -> Iterator[_Row]:
    if sheet not in wb.sheetnames:
        raise ImportRefused(f"the workbook has no sheet {sheet!r}; use the import template")
    ws = wb[sheet]
    rows = ws.iter_rows(values_only=True)
    header = next(rows, None) or ()
    by_header = {column.header: column for column in columns}
    positions: dict[str, int] = {}
    for index, title in enumerate(header):
        name = _text(title).lstrip("*").strip()
        if name in by_header:
            positions[by_header[name].key] = index
    missing = [c.header for c in columns if c.key not in positions and c.required]
    if missing:
        raise ImportRefused(f"sheet {sheet!r} lacks the column(s) {', '.join(missing)}; "
                            "use the import template")
    count = 0
    for number, values in enumerate(rows, start=2):
        if not any(_text(v) for v in values):
            continue
        count += 1
        if count > limit:
            raise ImportRefused(f"sheet {sheet!r} has more than {limit:,} rows; split the file")
        yield _Row(number, {key: values[i] if i < len(values) else None
                            for key, i in positions.items()})


# --- checking one row ------------------------------------------------------------------------


def _vocabulary(kind: type[enum.StrEnum]) -> dict[str, enum.StrEnum]:
    found: dict[str, enum.StrEnum] = {}
    for member in kind:
        for name in (member.value, LABELS[member], zh(LABELS[member])):
            found[name.lower()] = member
    return found


VOCABULARIES = {kind.__name__: _vocabulary(kind) for kind in
                (CatalogType, FormatClass, ShareType, UpdateCycle, DataType, ShareMethod)}
CODE_WIDTHS = {"subject": 2, "heading": 3, "subheading": 3}
INTEGERS = {"record_count", "storage_bytes", "length"}
LISTS = {"related_codes", "tags"}


class _Bad(Exception):
    pass


def _value(column: TemplateColumn, raw: Any) -> Any:
    text = _text(raw)
    if column.key in CODE_WIDTHS and isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return text.zfill(CODE_WIDTHS[column.key])  # typed into a number cell: 1 → 001
    if column.choices == "yes_no":
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise _Bad(f"{text!r} is neither {YES} nor {NO}")
    if not text:
        return None
    if column.choices == "methods":
        names = [part for part in _SPLIT.split(text) if part]
        vocabulary = VOCABULARIES["ShareMethod"]
        unknown = [n for n in names if n.lower() not in vocabulary]
        if unknown:
            raise _Bad(f"unknown share method(s) {', '.join(unknown)}; choose from the list")
        return [vocabulary[n.lower()].value for n in names]
    if isinstance(column.choices, type):
        member = VOCABULARIES[column.choices.__name__].get(text.lower())
        if member is None:
            raise _Bad(f"{text!r} is not one of the choices; choose from the list")
        return member.value
    if column.key in INTEGERS:
        if not re.fullmatch(r"\d+", text):
            raise _Bad(f"{text!r} is not a whole number")
        return int(text)
    if column.key in LISTS:
        return [part for part in _SPLIT.split(text) if part]
    return text


def _parse(row: _Row, columns: tuple[TemplateColumn, ...], sheet: str,
           errors: list[RowError]) -> dict[str, Any]:
    parsed: dict[str, Any] = {}
    for column in columns:
        if column.key not in row.values:
            continue
        try:
            value = _value(column, row.values[column.key])
        except _Bad as exc:
            errors.append(RowError(sheet, row.number, column.header, str(exc)))
            continue
        if value is None or value == []:
            if column.required:
                errors.append(RowError(sheet, row.number, column.header, REQUIRED))
            continue
        parsed[column.key] = value
    return parsed


_HEADERS = {c.key: c.header for c in ENTRY_COLUMNS}
_ITEM_HEADERS = {c.key: c.header for c in ITEM_COLUMNS}
# Which column a refusal of the service is about, by the words of its message.
_MESSAGE_COLUMNS = (("related", "related_codes"), ("resource code", "resource_code"),
                    ("warehouse table", "warehouse_table"), ("项", "subject"),
                    ("细目", "subheading"), ("目", "heading"))


_ORDER = {(ENTRY_SHEET, c.header): i for i, c in enumerate(ENTRY_COLUMNS)} | {
    (ITEM_SHEET, c.header): i for i, c in enumerate(ITEM_COLUMNS)}


def _error_order(error: RowError) -> tuple[bool, int, int]:
    """As the user reads the file: sheet, row, then the columns left to right."""
    return (error.sheet != ENTRY_SHEET, error.row, _ORDER.get((error.sheet, error.column), -1))


def _column_of(message: str) -> str:
    return next((_HEADERS[key] for word, key in _MESSAGE_COLUMNS if word in message), "")


def _validation_errors(exc: ValidationError, row: int, errors: list[RowError]) -> None:
    for problem in exc.errors():
        loc = [str(part) for part in problem["loc"]]
        header = _HEADERS.get(loc[0], "") if loc else ""
        if loc and loc[0] == "items":
            header = "信息项"
        errors.append(RowError(ENTRY_SHEET, row, header, problem["msg"]))


# --- the import ------------------------------------------------------------------------------


@dataclass
class _Entry:
    row: int
    fields: dict[str, Any]
    items: list[dict[str, Any]] = field(default_factory=list)
    bad: bool = False


def _collect(
    session: Session, wb: Workbook, report: ImportReport, *, uploader: Organisation | None,
    scope: set[int] | None,
) -> list[_Entry]:
    errors = report.errors
    entries: dict[str, _Entry] = {}
    orgs = {org.code: org for org in session.scalars(select(Organisation))}
    for row in _rows(wb, ENTRY_SHEET, ENTRY_COLUMNS, MAX_ENTRY_ROWS):
        report.entry_rows += 1
        before = len(errors)
        fields = _parse(row, ENTRY_COLUMNS, ENTRY_SHEET, errors)
        name = fields.get("name", "")
        if name and name in entries:
            errors.append(RowError(ENTRY_SHEET, row.number, _HEADERS["name"],
                                   f"{name!r} already appears in row {entries[name].row}"))
        code = fields.get("provider_code") or (uploader.code if uploader else "")
        org = orgs.get(code)
        if not code:
            errors.append(RowError(ENTRY_SHEET, row.number, _HEADERS["provider_code"],
                                   REQUIRED))
        elif org is None:
            errors.append(RowError(ENTRY_SHEET, row.number, _HEADERS["provider_code"],
                                   f"no organisation with code {code!r}"))
        elif scope is not None and org.id not in scope:
            errors.append(RowError(ENTRY_SHEET, row.number, _HEADERS["provider_code"],
                                   f"entries of {org.name} ({org.code}) are outside your "
                                   "organisation"))
        if "catalog_type" in fields and "heading" in fields:
            try:
                service.classify(CatalogType(fields["catalog_type"]), fields.get("subject"),
                                 fields["heading"], fields.get("subheading"))
            except UserError as exc:
                errors.append(RowError(ENTRY_SHEET, row.number, _column_of(str(exc)), str(exc)))
        table = fields.get("warehouse_table")
        if table and not service.WAREHOUSE_TABLE.match(table):
            errors.append(RowError(ENTRY_SHEET, row.number, _HEADERS["warehouse_table"],
                                   f"{table!r} must read schema.table in lower case"))
        if name and name not in entries:
            entries[name] = _Entry(row.number, fields, bad=len(errors) > before)
    elements = set(session.scalars(select(DataElement.code)))
    for row in _rows(wb, ITEM_SHEET, ITEM_COLUMNS, MAX_ITEM_ROWS):
        report.item_rows += 1
        before = len(errors)
        item = _parse(row, ITEM_COLUMNS, ITEM_SHEET, errors)
        owner = entries.get(item.pop("entry_name", ""))
        if owner is None and len(errors) == before:
            errors.append(RowError(ITEM_SHEET, row.number, _ITEM_HEADERS["entry_name"],
                                   "no entry of this name on the sheet " + ENTRY_SHEET))
        if owner is not None and any(i["name"] == item.get("name") for i in owner.items):
            errors.append(RowError(ITEM_SHEET, row.number, _ITEM_HEADERS["name"],
                                   f"{item['name']!r} appears twice in this entry"))
        element = item.get("element_code")
        if element and element not in elements:
            errors.append(RowError(ITEM_SHEET, row.number, _ITEM_HEADERS["element_code"],
                                   f"unknown data element code {element!r}"))
        if owner is not None:
            owner.bad = owner.bad or len(errors) > before
            owner.items.append(item)
    return list(entries.values())


def import_workbook(
    session: Session,
    *,
    data: bytes,
    filename: str,
    uploader: Organisation | None,
    scope: set[int] | None,
    actor: Actor,
    valid_only: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Check every row of the file and create its entries as drafts (see the module doc).

    `scope`: the organisations the uploader may catalog for (None: every one). Rows without
    a provider code are the uploader's organisation's; without an uploader (the operator's CLI)
    they must name one.
    """
    report = ImportReport(filename=filename, valid_only=valid_only)
    wb = open_upload(data, filename)
    try:
        entries = _collect(session, wb, report, uploader=uploader, scope=scope)
    finally:
        wb.close()
    orgs = {org.code: org for org in session.scalars(select(Organisation))}
    outer = session.begin_nested()
    created: list[CatalogEntry] = []
    for done, entry in enumerate(entries, start=1):
        if progress is not None:
            progress(done, len(entries))
        if entry.bad:
            continue
        try:
            data_in = EntryCreate.model_validate(entry.fields | {"items": entry.items})
        except ValidationError as exc:
            _validation_errors(exc, entry.row, report.errors)
            continue
        provider = orgs[entry.fields.get("provider_code") or (uploader.code if uploader else "")]
        try:
            with session.begin_nested():
                created.append(service.create_entry(session, data=data_in, provider=provider,
                                                    actor=actor))
        except UserError as exc:
            report.errors.append(RowError(ENTRY_SHEET, entry.row, _column_of(str(exc)),
                                          str(exc)))
    report.errors.sort(key=_error_order)
    if report.errors and not valid_only:
        outer.rollback()
        return report
    outer.commit()
    report.imported = [entry.resource_code for entry in created]
    audit.record(session, kind="catalog.imported", details={
        "filename": report.filename, "imported": len(report.imported),
        "errors": len(report.errors)})
    return report
