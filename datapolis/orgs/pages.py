"""Pages of the identity slice: the organisation tree, users and API apps.

Forms post with htmx and get back the panel they live in; without JavaScript the same routes
answer with the whole page. Authorisation is the API's: same permissions, same object checks.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from datapolis.errors import UserError
from datapolis.orgs import service
from datapolis.orgs.api import (
    check_manages,
    check_may_grant,
    check_may_manage_user,
    manageable_org_ids,
    readable_org_ids,
)
from datapolis.orgs.deps import Principal, SessionDep, requires
from datapolis.orgs.models import Organisation, OrgKind, Role
from datapolis.orgs.permissions import ROLE_PERMISSIONS, Permission
from datapolis.orgs.schemas import AppPublic, UserPublic, organisation_tree
from datapolis.web.i18n import N_
from datapolis.web.nav import NavItem
from datapolis.web.render import render

router = APIRouter(include_in_schema=False)
NAV = [
    NavItem(N_("Organisations"), "/orgs", Permission.READ_ORGS, icon="orgs"),
    NavItem(N_("Users"), "/users", Permission.READ_USERS, icon="users"),
    NavItem(N_("API apps"), "/apps", Permission.MANAGE_APPS, icon="apps"),
]

KIND_LABELS: dict[OrgKind, str] = {
    OrgKind.CITY: N_("City"),
    OrgKind.COUNTY: N_("County or district"),
    OrgKind.STREET: N_("Street or town"),
    OrgKind.DEPARTMENT: N_("Department"),
}
ROLE_LABELS: dict[Role, str] = {
    Role.PLATFORM_ADMIN: N_("Platform administrator"),
    Role.ORG_ADMIN: N_("Organisation administrator"),
    Role.ORG_USER: N_("Organisation user"),
    Role.AUDITOR: N_("Auditor"),
}

OrgReader = Annotated[Principal, Depends(requires(Permission.READ_ORGS))]
OrgManager = Annotated[Principal, Depends(requires(Permission.MANAGE_ORGS))]
UserReader = Annotated[Principal, Depends(requires(Permission.READ_USERS))]
UserManager = Annotated[Principal, Depends(requires(Permission.MANAGE_USERS))]
AppManager = Annotated[Principal, Depends(requires(Permission.MANAGE_APPS))]
Text = Annotated[str, Form()]
SHOWN_ZONE = ZoneInfo("Asia/Shanghai")  # stored in UTC, shown in the city's time


def _is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _respond(
    request: Request, page: str, panel: str, context: dict[str, Any], error_status: int = 200
) -> HTMLResponse:
    """The panel for htmx, the whole page otherwise.

    htmx swaps only 2xx responses, so a form error reaches it as 200 with the message inside;
    a plain form post gets the real status.
    """
    if _is_htmx(request):
        return render(request, panel, context)
    return render(request, page, context, status_code=error_status)


def _failure(exc: Exception) -> tuple[str, int]:
    if isinstance(exc, UserError):
        return str(exc), exc.status_code
    assert isinstance(exc, HTTPException)
    return str(exc.detail), exc.status_code


def local_time(moment: datetime | None) -> str:
    return moment.astimezone(SHOWN_ZONE).strftime("%Y-%m-%d %H:%M") if moment else "—"


def _common(principal: Principal) -> dict[str, Any]:
    return {
        "kind_labels": KIND_LABELS,
        "role_labels": ROLE_LABELS,
        "me": principal,
        "local_time": local_time,
    }


def _orgs_in(session: Session, scope: set[int] | None) -> list[Organisation]:
    orgs = service.list_organisations(session)
    return orgs if scope is None else [org for org in orgs if org.id in scope]


# --- organisations -------------------------------------------------------------------------


def _orgs_context(session: Session, principal: Principal) -> dict[str, Any]:
    orgs = service.list_organisations(session)
    return {
        **_common(principal),
        "tree": organisation_tree(orgs),
        "org_count": len(orgs),
        "parents": [org for org in orgs if org.kind is not OrgKind.DEPARTMENT]
        + [org for org in orgs if org.kind is OrgKind.DEPARTMENT],
        "kinds": list(OrgKind),
        "can_manage": principal.can(Permission.MANAGE_ORGS),
        "form": {},
    }


@router.get("/orgs")
def organisations_page(
    request: Request, principal: OrgReader, session: SessionDep
) -> HTMLResponse:
    return render(request, "orgs/organisations.html", _orgs_context(session, principal))


@router.post("/orgs")
def create_organisation(
    request: Request,
    principal: OrgManager,
    session: SessionDep,
    code: Text = "",
    name: Text = "",
    kind: Text = "",
    division_code: Text = "",
    parent_code: Text = "",
    short_name: Text = "",
) -> HTMLResponse:
    form = {
        "code": code.strip(),
        "name": name.strip(),
        "kind": kind,
        "division_code": division_code.strip(),
        "parent_code": parent_code,
        "short_name": short_name.strip(),
    }
    try:
        if kind not in {k.value for k in OrgKind}:
            raise UserError(f"unknown organisation kind {kind!r}")
        if not form["name"]:
            raise UserError("an organisation needs a name")
        # The service validates everything before it inserts, so a refusal writes nothing.
        org = service.create_organisation(
            session,
            code=form["code"],
            name=form["name"],
            kind=OrgKind(kind),
            division_code=form["division_code"],
            parent=service.get_organisation(session, parent_code) if parent_code else None,
            short_name=form["short_name"] or None,
        )
    except UserError as exc:
        context = _orgs_context(session, principal)
        context.update(form=form, error=str(exc))
        return _respond(
            request, "orgs/organisations.html", "orgs/_org_panel.html", context, exc.status_code
        )
    context = _orgs_context(session, principal)
    context.update(created=org)
    return _respond(request, "orgs/organisations.html", "orgs/_org_panel.html", context)


# --- users ---------------------------------------------------------------------------------


def _users_context(session: Session, principal: Principal) -> dict[str, Any]:
    users = service.list_users(session, org_ids=readable_org_ids(session, principal))
    can_manage = principal.can(Permission.MANAGE_USERS)
    platform_wide = principal.can(Permission.MANAGE_ORGS)
    grantable = [
        role for role in Role
        if platform_wide or ROLE_PERMISSIONS[role] <= principal.permissions
    ]
    manageable = manageable_org_ids(session, principal) if can_manage else set()
    return {
        **_common(principal),
        "users": [UserPublic.of(user) for user in users],
        "can_manage": can_manage,
        # Which rows get buttons: the caller's own row never does (no self-lockout).
        "manageable_users": {
            user.username
            for user in users
            if can_manage
            and (manageable is None or user.org_id in manageable)
            and user.role in grantable
            and not (principal.user is not None and user.id == principal.user.id)
        },
        "roles": grantable,
        "orgs": _orgs_in(session, manageable) if can_manage else [],
        "form": {"org_code": principal.org.code, "role": Role.ORG_USER.value},
    }


@router.get("/users")
def users_page(request: Request, principal: UserReader, session: SessionDep) -> HTMLResponse:
    return render(request, "orgs/users.html", _users_context(session, principal))


@router.post("/users")
def create_user(
    request: Request,
    principal: UserManager,
    session: SessionDep,
    username: Text = "",
    display_name: Text = "",
    password: Text = "",
    role: Text = "",
    org_code: Text = "",
) -> HTMLResponse:
    form = {
        "username": username.strip(),
        "display_name": display_name.strip(),
        "role": role,
        "org_code": org_code,
    }
    try:
        if role not in {r.value for r in Role}:
            raise UserError(f"unknown role {role!r}")
        org = service.get_organisation(session, org_code) if org_code else principal.org
        check_manages(session, principal, org)
        check_may_grant(principal, Role(role))
        user = service.create_user(
            session,
            username=form["username"],
            password=password,
            role=Role(role),
            org=org,
            display_name=form["display_name"] or None,
        )
    except (UserError, HTTPException) as exc:
        message, code = _failure(exc)
        context = _users_context(session, principal)
        context.update(form=form, error=message)
        return _respond(request, "orgs/users.html", "orgs/_users_panel.html", context, code)
    context = _users_context(session, principal)
    context.update(created=user.username)
    return _respond(request, "orgs/users.html", "orgs/_users_panel.html", context)


@router.post("/users/{username}/active")
def set_user_active(
    request: Request,
    username: str,
    principal: UserManager,
    session: SessionDep,
    active: Text = "",
) -> HTMLResponse:
    """Activate or deactivate a user; deactivation ends their sessions and tokens."""
    try:
        user = service.get_user(session, username)
        check_may_manage_user(session, principal, user)
        if principal.user is not None and principal.user.id == user.id:
            raise UserError("you cannot deactivate yourself")
        service.update_user(session, user=user, is_active=active == "1")
    except (UserError, HTTPException) as exc:
        message, code = _failure(exc)
        context = _users_context(session, principal)
        context.update(error=message)
        return _respond(request, "orgs/users.html", "orgs/_users_panel.html", context, code)
    context = _users_context(session, principal)
    return _respond(request, "orgs/users.html", "orgs/_users_panel.html", context)


# --- API apps ------------------------------------------------------------------------------


def _apps_context(session: Session, principal: Principal) -> dict[str, Any]:
    scope = manageable_org_ids(session, principal)
    return {
        **_common(principal),
        "apps": [AppPublic.of(app) for app in service.list_apps(session, org_ids=scope)],
        "orgs": _orgs_in(session, scope),
        "form": {"org_code": principal.org.code},
    }


@router.get("/apps")
def apps_page(request: Request, principal: AppManager, session: SessionDep) -> HTMLResponse:
    return render(request, "orgs/apps.html", _apps_context(session, principal))


@router.post("/apps")
def create_app(
    request: Request,
    principal: AppManager,
    session: SessionDep,
    name: Text = "",
    org_code: Text = "",
) -> HTMLResponse:
    try:
        org = service.get_organisation(session, org_code) if org_code else principal.org
        check_manages(session, principal, org)
        issued = service.create_app(session, org=org, name=name, created_by=principal.user)
    except (UserError, HTTPException) as exc:
        message, code = _failure(exc)
        context = _apps_context(session, principal)
        context.update(form={"name": name, "org_code": org_code}, error=message)
        return _respond(request, "orgs/apps.html", "orgs/_apps_panel.html", context, code)
    context = _apps_context(session, principal)
    context.update(issued=AppPublic.of(issued.app), secret=issued.secret)
    response = _respond(request, "orgs/apps.html", "orgs/_apps_panel.html", context)
    response.headers["Cache-Control"] = "no-store"  # the secret must not sit in a cache
    return response


@router.post("/apps/{app_key}/revoke")
def revoke_app(
    request: Request, app_key: str, principal: AppManager, session: SessionDep
) -> HTMLResponse:
    try:
        app = service.get_app(session, app_key)
        check_manages(session, principal, app.org)
        service.revoke_app(session, app=app)
    except (UserError, HTTPException) as exc:
        message, code = _failure(exc)
        context = _apps_context(session, principal)
        context.update(error=message)
        return _respond(request, "orgs/apps.html", "orgs/_apps_panel.html", context, code)
    context = _apps_context(session, principal)
    context.update(revoked=app.app_key)
    return _respond(request, "orgs/apps.html", "orgs/_apps_panel.html", context)

