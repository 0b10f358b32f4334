"""JSON API of the bureau's lists and of the bulk import (included by catalog/api.py):

    GET  /api/catalog/lists/{kind}           汇聚清单 / 共享清单 / 开放清单 as JSON
    GET  /api/catalog/lists/{kind}/xlsx      the same, printable
    GET  /api/catalog/import/template        the XLSX import template
    POST /api/catalog/import                 a filled-in template (multipart `file`)
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile as StarletteUpload

from datapolis.catalog import xlsx_import
from datapolis.catalog.access import actor_of, own_provider_ids
from datapolis.catalog.enums import CatalogType, ShareType
from datapolis.catalog.import_template import template_workbook
from datapolis.catalog.lists import (
    TITLES,
    ListKind,
    ListRow,
    build_list,
    city_name,
    list_sheet,
)
from datapolis.catalog.schemas import EntrySummary
from datapolis.catalog.sheets import XLSX_MEDIA_TYPE, write_workbook
from datapolis.orgs import service as orgs_service
from datapolis.orgs.deps import Principal, SessionDep, requires
from datapolis.orgs.permissions import Permission
from datapolis.registry.base import utcnow
from datapolis.security.audit import service as audit
from datapolis.web.render import SHOWN_ZONE

router = APIRouter()
Reader = Annotated[Principal, Depends(requires(Permission.READ_CATALOG))]
Editor = Annotated[Principal, Depends(requires(Permission.EDIT_CATALOG))]


class LastSyncPublic(BaseModel):
    source_code: str
    mode: str
    succeeded_at: datetime | None
    last_status: str | None


class ListRowPublic(BaseModel):
    entry: EntrySummary
    share_conditions: str | None
    share_methods: list[str]
    open_conditions: str | None
    warehouse_table: str | None
    record_count: int | None
    storage_bytes: int | None
    last_sync: LastSyncPublic | None

    @classmethod
    def of(cls, row: ListRow) -> ListRowPublic:
        entry = row.entry
        sync = row.last_sync
        return cls(
            entry=EntrySummary.of(entry), share_conditions=entry.share_conditions,
            share_methods=list(entry.share_methods), open_conditions=entry.open_conditions,
            warehouse_table=entry.warehouse_table, record_count=entry.record_count,
            storage_bytes=entry.storage_bytes,
            last_sync=LastSyncPublic(source_code=sync.source_code, mode=sync.mode,
                                     succeeded_at=sync.succeeded_at,
                                     last_status=sync.last_status) if sync else None,
        )


class ListPublic(BaseModel):
    kind: ListKind
    title: str
    made_on: date
    rows: list[ListRowPublic]


def today() -> date:
    return utcnow().astimezone(SHOWN_ZONE).date()


def xlsx_response(content: bytes, filename: str) -> Response:
    # RFC 5987: the Chinese file name survives every browser.
    disposition = f"attachment; filename=\"export.xlsx\"; filename*=UTF-8''{quote(filename)}"
    return Response(content, media_type=XLSX_MEDIA_TYPE,
                    headers={"Content-Disposition": disposition})


def rows_for(
    session: Session, principal: Principal, kind: ListKind, *, provider: str | None,
    catalog_type: CatalogType | None, share_type: ShareType | None,
) -> list[ListRow]:
    return build_list(
        session, kind, provider_ids=own_provider_ids(session, principal),
        provider=orgs_service.get_organisation(session, provider) if provider else None,
        catalog_type=catalog_type, share_type=share_type,
    )


ProviderQuery = Annotated[str | None, Query(description="Provider organisation code")]
TypeQuery = Annotated[CatalogType | None, Query(alias="type")]


@router.get("/lists/{kind}")
def get_list(
    kind: ListKind, session: SessionDep, principal: Reader, provider: ProviderQuery = None,
    catalog_type: TypeQuery = None, share_type: ShareType | None = None,
) -> ListPublic:
    """One of the bureau's lists: aggregation (汇聚), sharing (共享) or open (开放)."""
    rows = rows_for(session, principal, kind, provider=provider, catalog_type=catalog_type,
                    share_type=share_type)
    return ListPublic(kind=kind, title=city_name(session) + TITLES[kind], made_on=today(),
                      rows=[ListRowPublic.of(row) for row in rows])


@router.get("/lists/{kind}/xlsx", response_class=Response)
def get_list_xlsx(
    kind: ListKind, session: SessionDep, principal: Reader, provider: ProviderQuery = None,
    catalog_type: TypeQuery = None, share_type: ShareType | None = None,
) -> Response:
    """The list as a printable workbook (A4 landscape, header repeated on every page)."""
    rows = rows_for(session, principal, kind, provider=provider, catalog_type=catalog_type,
                    share_type=share_type)
    note = ""
    if provider:
        note = f"提供单位：{orgs_service.get_organisation(session, provider).name}"
    city = city_name(session)
    sheet = list_sheet(kind, rows, city=city, made_on=today(), note=note)
    audit.record(session, kind="export.list", details={
        "list": kind.value, "format": "xlsx", "rows": len(rows), "filters": {
            "provider": provider, "catalog_type": catalog_type.value if catalog_type else None,
            "share_type": share_type.value if share_type else None}})
    return xlsx_response(write_workbook([sheet]), f"{sheet.title}-{today():%Y%m%d}.xlsx")


# --- import ----------------------------------------------------------------------------------


class RowErrorPublic(BaseModel):
    sheet: str
    row: int
    column: str
    message: str


class ImportReportPublic(BaseModel):
    filename: str
    valid_only: bool
    entry_rows: int
    item_rows: int
    imported: list[str]
    errors: list[RowErrorPublic]

    @classmethod
    def of(cls, report: xlsx_import.ImportReport) -> ImportReportPublic:
        return cls(filename=report.filename, valid_only=report.valid_only,
                   entry_rows=report.entry_rows, item_rows=report.item_rows,
                   imported=report.imported,
                   errors=[RowErrorPublic(sheet=e.sheet, row=e.row, column=e.column,
                                          message=e.message) for e in report.errors])


@router.get("/import/template", response_class=Response)
def import_template(_: Editor) -> Response:
    """The XLSX template: 目录信息 and 信息项 sheets with dropdowns, and instructions."""
    return xlsx_response(template_workbook(), "政务信息资源目录导入模板.xlsx")


async def read_upload(file: StarletteUpload) -> bytes:
    data = await file.read(xlsx_import.MAX_UPLOAD_BYTES + 1)
    if len(data) > xlsx_import.MAX_UPLOAD_BYTES:
        raise xlsx_import.ImportRefused(
            f"the file is larger than {xlsx_import.MAX_UPLOAD_BYTES // (1024 * 1024)} MB")
    return data


def run_import(
    session: Session, principal: Principal, data: bytes, filename: str, valid_only: bool
) -> xlsx_import.ImportReport:
    return xlsx_import.import_workbook(
        session, data=data, filename=filename, uploader=principal.org,
        scope=own_provider_ids(session, principal), actor=actor_of(principal),
        valid_only=valid_only,
    )


@router.post("/import", response_model=ImportReportPublic,
             responses={422: {"model": ImportReportPublic}})
async def import_entries(
    file: UploadFile, session: SessionDep, principal: Editor,
    valid_only: Annotated[bool, Query(description="Import the rows without errors")] = False,
) -> Response:
    """Create draft entries from a filled-in template; the report lists every row's errors.

    422 with the report when a row has an error and nothing was imported.
    """
    data = await read_upload(file)
    report = run_import(session, principal, data, file.filename or "", valid_only)
    body = ImportReportPublic.of(report).model_dump(mode="json")
    if report.errors and not report.valid_only:
        return JSONResponse(body, status_code=422)
    return JSONResponse(body)

