"""Pages of supply–demand docking: the 供需清单 (/demands), registering a demand, and a
demand's page with its proposed entries, its steps and its history."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from datapolis.catalog import service as catalog_service
from datapolis.catalog.access import actor_of, check_provider, check_visible, own_provider_ids
from datapolis.catalog.demands import matching
from datapolis.catalog.demands import service as demands
from datapolis.catalog.demands.models import DEMAND_LABELS, DataDemand, DemandStatus, Urgency
from datapolis.errors import UserError
from datapolis.orgs import service as orgs_service
from datapolis.orgs.deps import Principal, SessionDep, requires
from datapolis.orgs.permissions import Permission
from datapolis.web.i18n import N_
from datapolis.web.nav import NavItem
from datapolis.web.render import render

router = APIRouter(include_in_schema=False)
NAV = [NavItem(N_("Supply and demand"), "/demands", Permission.READ_CATALOG, icon="demands")]
Reader = Annotated[Principal, Depends(requires(Permission.READ_CATALOG))]
Editor = Annotated[Principal, Depends(requires(Permission.EDIT_CATALOG))]
_SPLIT = "、,，;；\n"


def _vocab() -> dict[str, Any]:
    return {"demand_labels": DEMAND_LABELS, "statuses": list(DemandStatus),
            "urgencies": list(Urgency), "step_labels": demands.STEP_LABELS,
            "event_labels": demands.EVENT_LABELS}


@router.get("/demands", response_class=HTMLResponse)
def demands_page(
    request: Request, session: SessionDep, principal: Reader, status: str = "",
    requester: str = "", provider: str = "",
) -> HTMLResponse:
    listed = demands.list_demands(
        session, status=DemandStatus(status) if status in set(DemandStatus) else None,
        requester=orgs_service.get_organisation(session, requester) if requester else None,
        provider=orgs_service.get_organisation(session, provider) if provider else None,
    )
    filters = {"status": status, "requester": requester, "provider": provider}
    query = "&".join(f"{k}={v}" for k, v in filters.items() if v)
    return render(request, "catalog/demands.html", {
        **_vocab(), "demands": listed, "filters": filters,
        "organisations": orgs_service.list_organisations(session),
        "can_register": principal.can(Permission.EDIT_CATALOG),
        "xlsx_url": "/api/catalog/demands/xlsx" + (f"?{query}" if query else ""),
    })


def _form_page(request: Request, session: Session, principal: Principal, form: dict[str, str],
               error: str | None = None, status_code: int = 200) -> HTMLResponse:
    scope = own_provider_ids(session, principal)
    organisations = orgs_service.list_organisations(session)
    return render(request, "catalog/demand_new.html", {
        **_vocab(), "form": form, "error": error, "organisations": organisations,
        "requesters": [o for o in organisations if scope is None or o.id in scope],
    }, status_code=status_code)


@router.get("/demands/new", response_class=HTMLResponse)
def new_demand_page(request: Request, session: SessionDep, principal: Editor) -> HTMLResponse:
    form = {"title": "", "purpose": "", "description": "", "fields": "", "urgency": "normal",
            "provider_hint": "", "requester": principal.org.code}
    return _form_page(request, session, principal, form)


@router.post("/demands/new", response_class=HTMLResponse)
async def register_demand(request: Request, session: SessionDep, principal: Editor) -> Response:
    posted = await request.form()
    form = {name: str(posted.get(name) or "").strip() for name in
            ("title", "purpose", "description", "fields", "urgency", "provider_hint",
             "requester")}
    try:
        requester = orgs_service.get_organisation(session, form["requester"] or
                                                  principal.org.code)
        check_provider(session, principal, requester)
        hint = (orgs_service.get_organisation(session, form["provider_hint"])
                if form["provider_hint"] else None)
        fields = [part for part in _split(form["fields"]) if part]
        urgency = Urgency(form["urgency"]) if form["urgency"] in set(Urgency) else (
            Urgency.NORMAL)
        demand = demands.register_demand(session, data=demands.DemandInput(
            title=form["title"], purpose=form["purpose"], description=form["description"],
            fields=tuple(fields), urgency=urgency, provider_hint=hint,
        ), requester=requester, actor=actor_of(principal))
    except (UserError, HTTPException) as exc:
        session.rollback()
        message = str(exc) if isinstance(exc, UserError) else str(exc.detail)
        code = exc.status_code
        return _form_page(request, session, principal, form, error=message, status_code=code)
    return RedirectResponse(f"/demands/{demand.code}", status_code=303)


def _split(text: str) -> list[str]:
    for separator in _SPLIT:
        text = text.replace(separator, " ")
    return text.split()


def _detail(request: Request, session: Session, principal: Principal, demand: DataDemand, *,
            error: str | None = None, status_code: int = 200) -> HTMLResponse:
    scope = own_provider_ids(session, principal)
    steps = demands.allowed_steps(demand, scope) if principal.can(Permission.EDIT_CATALOG) \
        else []
    candidates = []
    if demand.status in (DemandStatus.REGISTERED, DemandStatus.MATCHED):
        candidates = matching.propose(session, demand)
    return render(request, "catalog/demand.html", {
        **_vocab(), "demand": demand, "candidates": candidates, "error": error,
        "steps": [s for s in steps if s is not demands.Step.MATCH],
        # A candidate's own provider may confirm it even when no one suggested that provider.
        "may_match": {c.entry.resource_code for c in candidates
                      if principal.can(Permission.EDIT_CATALOG)
                      and demand.status in demands.SOURCES[demands.Step.MATCH]
                      and demands.is_provider(demand, scope, c.entry)
                      and c.entry.id != demand.entry_id},
    }, status_code=status_code)


@router.get("/demands/{code}", response_class=HTMLResponse)
def demand_page(request: Request, code: str, session: SessionDep, principal: Reader
                ) -> HTMLResponse:
    return _detail(request, session, principal, demands.get_demand(session, code))


@router.post("/demands/{code}/do/{step}", response_class=HTMLResponse)
async def demand_step(
    request: Request, code: str, step: str, session: SessionDep, principal: Editor
) -> Response:
    if step not in set(demands.Step):
        raise UserError(f"unknown step {step!r}")
    form = await request.form()
    comment = str(form.get("comment") or "")
    demand = demands.get_demand(session, code)
    scope = own_provider_ids(session, principal)
    try:
        if step == demands.Step.MATCH:
            entry = catalog_service.get_entry(session, str(form.get("entry_code") or ""))
            check_visible(session, principal, entry)
            demands.confirm_match(session, demand=demand, entry=entry,
                                  actor=actor_of(principal), scope=scope, comment=comment)
        else:
            demands.advance(session, demand=demand, step=demands.Step(step),
                            actor=actor_of(principal), scope=scope, comment=comment,
                            sharing_reference=str(form.get("sharing_reference") or ""))
    except UserError as exc:
        session.rollback()
        return _detail(request, session, principal, demands.get_demand(session, code),
                       error=str(exc), status_code=exc.status_code)
    return RedirectResponse(f"/demands/{demand.code}", status_code=303)
