"""The bureau's field-encryption page: protected columns and the field keyring."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from datapolis.errors import UserError
from datapolis.orgs.deps import Principal, SessionDep, requires
from datapolis.orgs.permissions import Permission
from datapolis.security.fields import service
from datapolis.security.fields.api import _registry, key_list, master_keyring
from datapolis.warehouse.deps import WarehouseDep
from datapolis.warehouse.engine import Engine
from datapolis.web.i18n import N_, gettext
from datapolis.web.nav import NavItem
from datapolis.web.render import render

router = APIRouter(include_in_schema=False)
NAV = [NavItem(N_("Field encryption"), "/security/fields", Permission.MANAGE_FIELD_ENCRYPTION,
               icon="fields")]
Admin = Annotated[Principal, Depends(requires(Permission.MANAGE_FIELD_ENCRYPTION))]
PAGE = "/security/fields"


def _page(request: Request, session: Session, warehouse: Engine, *, error: str = "",
          notice: str = "", form: dict[str, str] | None = None) -> HTMLResponse:
    context: dict[str, Any] = {
        "protections": service.protections(session), "keys": key_list(session, warehouse),
        "error": error, "notice": notice, "form": form or {}}
    return render(request, "fields/index.html", context, status_code=400 if error else 200)


@router.get(PAGE, response_class=HTMLResponse)
def fields_page(request: Request, session: SessionDep, warehouse: WarehouseDep, _: Admin
                ) -> HTMLResponse:
    return _page(request, session, warehouse)


@router.post(f"{PAGE}/protect", response_class=HTMLResponse, response_model=None)
async def protect_posted(request: Request, session: SessionDep, warehouse: WarehouseDep,
                         principal: Admin) -> HTMLResponse | RedirectResponse:
    posted = await request.form()
    form = {k: str(posted.get(k) or "").strip() for k in ("table", "column", "family")}
    try:
        service.protect(_registry(request, session), warehouse, master_keyring(request),
                        table=form["table"], column=form["column"],
                        family=form["family"] or None, actor=principal.name,
                        org=principal.org.code)
    except UserError as exc:
        return _page(request, session, warehouse, error=str(exc), form=form)
    return RedirectResponse(PAGE, status_code=303)


@router.post(f"{PAGE}/rotate", response_class=HTMLResponse)
def rotate_posted(request: Request, session: SessionDep, warehouse: WarehouseDep,
                  principal: Admin) -> HTMLResponse:
    # Answered with the page itself (no redirect): the notice names the new key.
    made = service.rotate_key(session, master_keyring(request), actor=principal.name,
                              org=principal.org.code)
    notice = gettext(request, "New writes now use field key %(key)s.", key=made.key_id)
    return _page(request, session, warehouse, notice=notice)


@router.post(PAGE + "/keys/{key_id}/retire", response_class=HTMLResponse, response_model=None)
def retire_posted(request: Request, key_id: str, session: SessionDep, warehouse: WarehouseDep,
                  principal: Admin) -> HTMLResponse | RedirectResponse:
    try:
        service.retire_key(session, warehouse, key_id, actor=principal.name,
                           org=principal.org.code)
    except UserError as exc:
        session.rollback()
        return _page(request, session, warehouse, error=str(exc))
    return RedirectResponse(PAGE, status_code=303)
