"""Pages of the bureau's lists (/lists) and of the bulk import (/catalog/import).

The lists live outside /catalog so that the menu marks one entry; their XLSX comes from the
API route the page links to. Authorisation is the API's.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from starlette.datastructures import UploadFile

from datapolis.catalog.access import own_provider_ids
from datapolis.catalog.enums import LABELS, CatalogType, ShareMethod, ShareType
from datapolis.catalog.lists import (
    PAGE_TITLES,
    TITLES,
    ListKind,
    build_list,
    city_name,
    storage_text,
)
from datapolis.catalog.lists_api import read_upload, run_import
from datapolis.catalog.xlsx_import import MAX_UPLOAD_BYTES, ImportRefused
from datapolis.orgs import service as orgs_service
from datapolis.orgs.deps import Principal, SessionDep, requires
from datapolis.orgs.permissions import Permission
from datapolis.web.i18n import N_
from datapolis.web.nav import NavItem
from datapolis.web.render import render

router = APIRouter(include_in_schema=False)
NAV = [NavItem(N_("Bureau lists"), "/lists", Permission.READ_CATALOG, icon="lists")]
Reader = Annotated[Principal, Depends(requires(Permission.READ_CATALOG))]
Editor = Annotated[Principal, Depends(requires(Permission.EDIT_CATALOG))]


@router.get("/lists", response_class=HTMLResponse)
def lists_page(
    request: Request, session: SessionDep, principal: Reader,
    kind: str = ListKind.SHARING.value, provider: str = "",
    catalog_type: Annotated[str, Query(alias="type")] = "", share_type: str = "",
) -> HTMLResponse:
    chosen = ListKind(kind) if kind in set(ListKind) else ListKind.SHARING
    provider_org = orgs_service.get_organisation(session, provider) if provider else None
    chosen_type = CatalogType(catalog_type) if catalog_type in set(CatalogType) else None
    chosen_share = ShareType(share_type) if share_type in set(ShareType) else None
    scope = own_provider_ids(session, principal)
    rows = build_list(session, chosen, provider_ids=scope, provider=provider_org,
                      catalog_type=chosen_type, share_type=chosen_share)
    everything = build_list(session, chosen, provider_ids=scope)
    providers = {row.entry.provider.code: row.entry.provider for row in everything}
    filters = {"provider": provider, "type": catalog_type, "share_type": share_type}
    query = "&".join(f"{k}={v}" for k, v in filters.items() if v)
    return render(request, "catalog/lists.html", {
        "kind": chosen, "kinds": list(ListKind), "page_titles": PAGE_TITLES, "rows": rows,
        "printed_title": city_name(session) + TITLES[chosen],
        "providers": sorted(providers.values(), key=lambda org: org.code),
        "catalog_types": list(CatalogType), "share_types": list(ShareType), "labels": LABELS,
        "filters": filters, "storage_text": storage_text,
        "xlsx_url": f"/api/catalog/lists/{chosen.value}/xlsx" + (f"?{query}" if query else ""),
        "method_labels": {m.value: LABELS[m] for m in ShareMethod},
    })


# --- import ----------------------------------------------------------------------------------


def _import_page(request: Request, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    return render(request, "catalog/import.html", {
        "max_mb": MAX_UPLOAD_BYTES // (1024 * 1024), "report": None, "error": None, **context,
    }, status_code=status_code)


@router.get("/catalog/import", response_class=HTMLResponse)
def import_page(request: Request, _: Editor) -> HTMLResponse:
    return _import_page(request, {})


@router.post("/catalog/import", response_class=HTMLResponse)
async def import_upload(request: Request, session: SessionDep, principal: Editor) -> HTMLResponse:
    form = await request.form()
    try:
        upload = form.get("file")
        valid_only = form.get("valid_only") == "1"
        if not isinstance(upload, UploadFile) or not upload.filename:
            return _import_page(request, {"error": N_("Choose the filled-in template to upload.")},
                                status_code=400)
        data = await read_upload(upload)
        report = run_import(session, principal, data, upload.filename, valid_only)
    except ImportRefused as exc:
        session.rollback()
        return _import_page(request, {"error": str(exc)}, status_code=exc.status_code)
    finally:
        await form.close()  # the spooled upload
    failed = bool(report.errors) and not report.valid_only
    return _import_page(request, {"report": report, "valid_only": valid_only},
                        status_code=422 if failed else 200)
