"""Pages of classification and grading: the scheme, grading progress, the entry panel's forms.

The panel itself is part of the catalog entry page (security/_grading_panel.html, context
from `panel.panel_context`); its forms post here and come back to the entry page.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from datapolis.catalog import service as catalog_service
from datapolis.catalog.access import actor_of, check_changes, own_provider_ids
from datapolis.catalog.models import CatalogEntry
from datapolis.errors import UserError
from datapolis.orgs.deps import Principal, SessionDep, requires
from datapolis.orgs.permissions import Permission
from datapolis.security.grading import scheme, service
from datapolis.security.grading.default_scheme import default_scheme
from datapolis.web.i18n import N_
from datapolis.web.nav import NavItem
from datapolis.web.render import render

router = APIRouter(include_in_schema=False)
NAV = [NavItem(N_("Classification and grading"), "/security/grading", Permission.READ_CATALOG,
               icon="audit")]
Reader = Annotated[Principal, Depends(requires(Permission.READ_CATALOG))]
Grader = Annotated[Principal, Depends(requires(Permission.GRADE_FIELDS))]
SchemeAdmin = Annotated[Principal, Depends(requires(Permission.MANAGE_SCHEME))]


def _refused(request: Request, exc: UserError, back: str) -> HTMLResponse:
    return render(request, "security/refused.html", {"message": str(exc), "back": back},
                  status_code=exc.status_code)


def _changeable(session: Session, principal: Principal, code: str) -> CatalogEntry:
    entry = catalog_service.get_entry(session, code)
    check_changes(session, principal, entry)
    return entry


@router.post("/security/grading/entries/{code:path}/confirm", response_class=HTMLResponse)
async def confirm(request: Request, code: str, session: SessionDep,
                  principal: Grader) -> Response:
    form = await request.form()
    entry = _changeable(session, principal, code)
    back = f"/catalog/entries/{entry.resource_code}#grading"
    grading = service.entry_grading(session, entry)
    decisions: dict[str, str | None] = {}
    for row in grading.items:
        chosen = str(form.get(f"grade_{row.item.id}") or "").strip()
        if chosen and chosen != row.grade:
            decisions[row.item.name] = chosen
        elif not row.confirmed and form.get("all"):
            decisions[row.item.name] = None  # the suggestion
    try:
        if decisions:
            service.confirm(session, entry, decisions, actor_of(principal), via="web")
    except UserError as exc:
        session.rollback()
        return _refused(request, exc, back)
    return RedirectResponse(back, status_code=303)


@router.post("/security/grading/entries/{code:path}/category", response_class=HTMLResponse)
async def assign_category(request: Request, code: str, session: SessionDep,
                          principal: Grader) -> Response:
    form = await request.form()
    entry = _changeable(session, principal, code)
    back = f"/catalog/entries/{entry.resource_code}#grading"
    try:
        service.assign_category(session, entry, str(form.get("business") or ""),
                                actor_of(principal), via="web")
    except UserError as exc:
        session.rollback()
        return _refused(request, exc, back)
    return RedirectResponse(back, status_code=303)


@router.get("/security/grading", response_class=HTMLResponse)
def progress(request: Request, session: SessionDep, principal: Reader) -> HTMLResponse:
    scope = own_provider_ids(session, principal)
    entries = [e for e in catalog_service.list_entries(session, provider_ids=scope)
               if scope is None or e.provider_id in scope]
    left = service.unconfirmed_by_entry(session, entries)
    return render(request, "security/grading.html", {
        "orgs": service.progress_by_org(session, scope),
        "pending": [(e, left[e.id]) for e in entries if e.id in left],
    })


@router.get("/security/scheme", response_class=HTMLResponse)
def scheme_page(request: Request, session: SessionDep, principal: Reader) -> HTMLResponse:
    return render(request, "security/scheme.html", {
        "sectors": scheme.list_sectors(session),
        "can_edit": principal.can(Permission.MANAGE_SCHEME)})


@router.get("/security/scheme/export")
def export(session: SessionDep, _: Reader, format: str = "yaml") -> Response:
    text = scheme.dump(scheme.export_scheme(session), format)
    media = "application/json" if format == "json" else "application/yaml"
    return Response(text, media_type=f"{media}; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="classification-scheme.{format}"'})


@router.post("/security/scheme/import", response_class=HTMLResponse)
async def import_scheme(request: Request, session: SessionDep,
                        principal: SchemeAdmin) -> Response:
    form = await request.form()
    upload = form.get("file")
    text = str(form.get("document") or "")
    if upload is not None and not isinstance(upload, str):
        text = (await upload.read()).decode("utf-8-sig", errors="replace") or text
    try:
        if form.get("default"):
            scheme.import_scheme(session, default_scheme(), actor=principal.name,
                                 via="web")
        else:
            scheme.import_scheme(session, scheme.load(text), actor=principal.name,
                                 replace=bool(form.get("replace")), via="web")
    except UserError as exc:
        session.rollback()
        return _refused(request, exc, "/security/scheme")
    return RedirectResponse("/security/scheme", status_code=303)


@router.post("/security/scheme/categories", response_class=HTMLResponse)
async def save_category(request: Request, session: SessionDep,
                        principal: SchemeAdmin) -> Response:
    form = await request.form()
    try:
        scheme.save_category(
            session, code=str(form.get("code") or "").strip(),
            name=str(form.get("name") or ""), name_en=str(form.get("name_en") or "") or None,
            parent_code=str(form.get("parent") or "") or None, actor=principal.name)
    except UserError as exc:
        session.rollback()
        return _refused(request, exc, "/security/scheme")
    return RedirectResponse("/security/scheme", status_code=303)


@router.post("/security/scheme/categories/{category}/delete", response_class=HTMLResponse)
def remove_category(request: Request, category: str, session: SessionDep,
                    principal: SchemeAdmin) -> Response:
    try:
        scheme.remove_category(session, code=category, actor=principal.name)
    except UserError as exc:
        session.rollback()
        return _refused(request, exc, "/security/scheme")
    return RedirectResponse("/security/scheme", status_code=303)
