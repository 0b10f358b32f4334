"""The shell's own pages: login, logout, language switch and the home page."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from datapolis.orgs import service
from datapolis.orgs.deps import SESSION_COOKIE, Principal, SessionDep, SettingsDep, public, requires
from datapolis.orgs.models import OrgKind, Role
from datapolis.orgs.permissions import Permission
from datapolis.orgs.throttle import LoginThrottleDep, client_address, user_account
from datapolis.warehouse.deps import WarehouseDep
from datapolis.warehouse.layers import layer_summary
from datapolis.web import i18n
from datapolis.web.charts import bar_chart, pie_chart
from datapolis.web.i18n import N_
from datapolis.web.login import LOGIN_CSRF_COOKIE, form_token_valid, render_login
from datapolis.web.nav import NavItem
from datapolis.web.numbers import key_numbers
from datapolis.web.render import render
from datapolis.web.urls import local_path

router = APIRouter(include_in_schema=False)
NAV = [NavItem(N_("Home"), "/", Permission.VIEW_PLATFORM, icon="home")]

ORG_KIND_LABELS: dict[OrgKind, str] = {
    OrgKind.CITY: N_("City"),
    OrgKind.COUNTY: N_("Counties and districts"),
    OrgKind.STREET: N_("Streets and towns"),
    OrgKind.DEPARTMENT: N_("Departments"),
}
ROLE_LABELS: dict[Role, str] = {
    Role.PLATFORM_ADMIN: N_("Platform administrators"),
    Role.ORG_ADMIN: N_("Organisation administrators"),
    Role.ORG_USER: N_("Organisation users"),
    Role.AUDITOR: N_("Auditors"),
}
LANG_COOKIE_MAX_AGE = 365 * 24 * 3600

Text = Annotated[str, Form()]


@router.get("/login", dependencies=[Depends(public)])
def login_form(request: Request, next: str = "/") -> HTMLResponse:
    return render_login(request, next_path=next)


@router.post("/login", dependencies=[Depends(public)], response_model=None)
def login(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    throttle: LoginThrottleDep,
    username: Text = "",
    password: Text = "",
    next: Text = "/",
    csrf_token: Text = "",
) -> Response:
    if not form_token_valid(request, csrf_token):
        message = i18n.gettext(request, "The login form has expired. Please sign in again.")
        return render_login(
            request, next_path=next, error=message, username=username, status_code=400
        )
    account, address = user_account(username), client_address(request)
    wait = throttle.admit(account, address)
    if wait is not None:
        minutes = math.ceil(wait / 60)
        message = i18n.ngettext(
            request,
            "Too many failed sign-in attempts. Please try again in %(num)d minute.",
            "Too many failed sign-in attempts. Please try again in %(num)d minutes.",
            minutes,
        )
        refused = render_login(
            request, next_path=next, error=message, username=username, status_code=429
        )
        refused.headers["Retry-After"] = str(wait)
        return refused
    user = service.authenticate_user(session, username=username.strip(), password=password,
                                     address=address)
    if user is None:
        throttle.failed(account, address)
        message = i18n.gettext(request, "Wrong username or password.")
        return render_login(
            request, next_path=next, error=message, username=username, status_code=400
        )
    throttle.succeeded(account, address)
    issued = service.issue_token(
        session, kind="session", lifetime=timedelta(hours=settings.session_hours), user=user
    )
    response = RedirectResponse(local_path(next), status_code=status.HTTP_303_SEE_OTHER)
    response.set_cookie(
        SESSION_COOKIE,
        issued.token,
        max_age=settings.session_hours * 3600,
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.cookies_secure,
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: Annotated[Principal, Depends(requires(Permission.VIEW_PLATFORM))],
) -> RedirectResponse:
    token = request.cookies.get(SESSION_COOKIE)
    if principal.via == "session" and token:
        service.revoke_token(session, token=token)
    response = RedirectResponse("/login", status_code=status.HTTP_303_SEE_OTHER)
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=settings.cookies_secure
    )
    return response


@router.get("/lang/{code}", dependencies=[Depends(public)])
def switch_language(
    request: Request, code: str, settings: SettingsDep, next: str | None = None
) -> RedirectResponse:
    if code not in i18n.LOCALE_CODES:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no language {code!r}")
    back = local_path(next if next is not None else _same_site_referer(request))
    response = RedirectResponse(back, status_code=status.HTTP_303_SEE_OTHER)
    response.set_cookie(
        i18n.LANG_COOKIE,
        code,
        max_age=LANG_COOKIE_MAX_AGE,
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.cookies_secure,
    )
    return response


def _same_site_referer(request: Request) -> str | None:
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc != request.url.netloc:
        return None
    return referer.path + (f"?{referer.query}" if referer.query else "")


@router.get("/")
def home(
    request: Request,
    session: SessionDep,
    warehouse: WarehouseDep,
    principal: Annotated[Principal, Depends(requires(Permission.VIEW_PLATFORM))],
) -> HTMLResponse:
    numbers = key_numbers(session)
    layers = layer_summary(warehouse)

    def _(msgid: str) -> str:
        return i18n.gettext(request, msgid)

    cards = [
        (_(ORG_KIND_LABELS[kind]), numbers.orgs_by_kind[kind], kind.value) for kind in OrgKind
    ]
    cards.append((_("Active users"), numbers.users, "users"))
    cards.append((_("API apps"), numbers.active_apps, "apps"))
    cards.append((_("Warehouse tables"), sum(layer.tables for layer in layers), "tables"))
    users_chart = pie_chart(
        [(_(ROLE_LABELS[role]), count) for role, count in numbers.users_by_role.items() if count]
    )
    top = numbers.departments_by_parent[:15]
    departments_chart = bar_chart(
        [name for name, _count in top], [count for _name, count in top], horizontal=True
    )
    return render(
        request,
        "home.html",
        {
            "numbers": numbers,
            "cards": cards,
            "layers": layers,
            "users_chart": users_chart if numbers.users else None,
            "departments_chart": departments_chart if top else None,
        },
    )
