"""The page where an organisation's app managers equip apps for the sharing interfaces:
which apps can sign calls, with which algorithm, and issuing a signing secret (shown once)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from datapolis.errors import UserError
from datapolis.orgs import service as orgs
from datapolis.orgs.api import check_manages, manageable_org_ids
from datapolis.orgs.deps import Principal, SessionDep, requires
from datapolis.orgs.permissions import Permission
from datapolis.sharing.gateway import credentials
from datapolis.sharing.gateway.client import ALGORITHMS
from datapolis.sharing.gateway.state import gateway_of
from datapolis.web.i18n import N_
from datapolis.web.nav import NavItem
from datapolis.web.render import render

router = APIRouter(include_in_schema=False)
NAV = [NavItem(N_("Interface credentials"), "/sharing/credentials", Permission.MANAGE_APPS,
               icon="apps")]
AppManager = Annotated[Principal, Depends(requires(Permission.MANAGE_APPS))]
PAGE = "sharing_gateway/credentials.html"


def _context(session: Session, principal: Principal) -> dict[str, Any]:
    rows = []
    for app in orgs.list_apps(session, org_ids=manageable_org_ids(session, principal)):
        state = credentials.app_state(session, app.app_key)
        rows.append({"name": app.name, "app_key": app.app_key, "org": app.org.name,
                     "active": app.revoked_at is None,
                     "algorithm": ALGORITHMS[state.algorithm] if state and state.algorithm
                     else None})
    return {"apps": rows, "algorithms": ALGORITHMS,
            "csrf_token": principal.csrf_token}


@router.get("/sharing/credentials")
def credentials_page(request: Request, principal: AppManager,
                     session: SessionDep) -> HTMLResponse:
    return render(request, PAGE, _context(session, principal))


@router.post("/sharing/credentials/{app_key}")
def issue(request: Request, app_key: str, principal: AppManager, session: SessionDep,
          algorithm: Annotated[str, Form()] = "hmac-sm3") -> HTMLResponse:
    try:
        app = orgs.get_app(session, app_key)
        check_manages(session, principal, app.org)
        issued = credentials.issue(session, gateway_of(request).keyring, app=app,
                                   algorithm=algorithm)
    except (UserError, HTTPException) as exc:
        status = exc.status_code
        message = str(exc) if isinstance(exc, UserError) else str(exc.detail)
        context = {**_context(session, principal), "error": message}
        return render(request, PAGE, context, status_code=status)
    context = {**_context(session, principal), "issued": issued,
               "issued_algorithm": ALGORITHMS[issued.algorithm]}
    response = render(request, PAGE, context)
    response.headers["Cache-Control"] = "no-store"  # the secret must not sit in a cache
    return response
