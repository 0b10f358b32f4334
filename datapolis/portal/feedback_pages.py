"""Public data requests and error reports: anyone files them (a few per address per hour);
the bureau answers requests publicly; providers and the bureau triage error reports and decide
applications for conditionally open datasets on the staff page /open/manage."""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from datapolis.orgs.deps import Principal, SessionDep, public, requires
from datapolis.orgs.permissions import Permission
from datapolis.portal import applications, datasets, feedback
from datapolis.portal.web import OptionalPortalUser, limit_posts, render_portal
from datapolis.web.i18n import N_
from datapolis.web.nav import NavItem
from datapolis.web.render import render

router = APIRouter(include_in_schema=False)
NAV = [NavItem(N_("Open portal desk"), "/open/manage", Permission.APPROVE_SHARING, icon="open")]
Text = Annotated[str, Form()]
PAGE_SIZE = 20
Staff = Annotated[Principal, Depends(requires(Permission.APPROVE_SHARING))]
Bureau = Annotated[Principal, Depends(requires(Permission.MANAGE_GRANTS))]


def _scope(principal: Principal) -> str | None:
    """The organisation whose datasets a staff member handles; None: the bureau, all."""
    return None if principal.can(Permission.MANAGE_GRANTS) else principal.org.code


@router.get("/open/requests", response_class=HTMLResponse, dependencies=[Depends(public)])
def request_list(request: Request, session: SessionDep, user: OptionalPortalUser,
                 status: str = "", page: Annotated[int, Query(ge=1)] = 1,
                 filed: int | None = None) -> HTMLResponse:
    total, found = feedback.requests(session, status=status or None,
                                     offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    return render_portal(request, "portal/requests.html", {
        "requests": found, "total": total, "status": status, "page": page,
        "pages": max(1, math.ceil(total / PAGE_SIZE)), "filed": filed,
        "states": feedback.REQUEST_STATES})


@router.post("/open/requests", dependencies=[Depends(public)])
def file_request(request: Request, session: SessionDep, title: Text = "",
                 description: Text = "", requester: Text = "", contact: Text = ""
                 ) -> RedirectResponse:
    limit_posts(request)
    filed = feedback.file_request(session, title=title, description=description,
                                  requester=requester, contact=contact)
    return RedirectResponse(f"/open/requests/{filed.id}", status_code=303)


@router.get("/open/requests/{request_id}", response_class=HTMLResponse,
            dependencies=[Depends(public)])
def request_page(request: Request, request_id: int, session: SessionDep,
                 user: OptionalPortalUser) -> HTMLResponse:
    return render_portal(request, "portal/request.html", {
        "item": feedback.get_request(session, request_id)})


@router.post("/dataset/{slug}/report", dependencies=[Depends(public)])
def file_report(request: Request, slug: str, session: SessionDep, description: Text = "",
                contact: Text = "") -> RedirectResponse:
    limit_posts(request)
    found = datasets.get_dataset(session, slug)
    feedback.file_report(session, dataset=found, description=description, contact=contact)
    return RedirectResponse(f"/dataset/{found.slug}#reports", status_code=303)


@router.get("/open/manage", response_class=HTMLResponse)
def manage(request: Request, session: SessionDep, principal: Staff) -> HTMLResponse:
    scope = _scope(principal)
    return render(request, "portal/manage.html", {
        "reports": feedback.reports(session, org_code=scope, status="open")
        + feedback.reports(session, org_code=scope, status="confirmed"),
        "applications": applications.queue(session, scope),
        "requests": feedback.requests(session, status="open", limit=100)[1]
        if scope is None else [],
        "bureau": scope is None})


@router.post("/open/manage/reports/{report_id}")
def triage(session: SessionDep, principal: Staff, report_id: int, status: Text = "",
           response: Text = "") -> RedirectResponse:
    feedback.triage_report(session, report_id=report_id, status=status, response=response,
                           actor=principal.name, org_code=_scope(principal))
    return RedirectResponse("/open/manage", status_code=303)


@router.post("/open/manage/applications/{application_id}")
def decide(session: SessionDep, principal: Staff, application_id: int, decision: Text = "",
           comment: Text = "") -> RedirectResponse:
    applications.decide(session, application_id=application_id, decision=decision,
                        actor=principal.name, org_code=_scope(principal), comment=comment)
    return RedirectResponse("/open/manage", status_code=303)


@router.post("/open/manage/requests/{request_id}")
def answer(session: SessionDep, principal: Bureau, request_id: int, answer: Text = "",
           status: Text = "answered") -> RedirectResponse:
    feedback.answer_request(session, request_id=request_id, answer=answer, status=status,
                            actor=principal.name)
    return RedirectResponse("/open/manage", status_code=303)
