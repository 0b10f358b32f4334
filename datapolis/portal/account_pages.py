"""Pages of registered public users: register, sign in and out, the account page with API
keys (created and revoked; a new key is shown once) and applications for conditionally open
datasets."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from datapolis.errors import UserError
from datapolis.orgs.deps import SessionDep, SettingsDep, public
from datapolis.orgs.throttle import client_address
from datapolis.portal import accounts, applications, datasets
from datapolis.portal.web import (
    PORTAL_COOKIE,
    OptionalPortalUser,
    PortalUserDep,
    limit_posts,
    portal_session,
    render_portal,
)
from datapolis.web.i18n import gettext
from datapolis.web.urls import local_path

router = APIRouter(include_in_schema=False, dependencies=[Depends(public)])
Text = Annotated[str, Form()]


def _signed_in_response(next_path: str, token: str, secure: bool) -> RedirectResponse:
    response = RedirectResponse(local_path(next_path), status_code=303)
    response.set_cookie(PORTAL_COOKIE, token, max_age=accounts.SESSION_HOURS * 3600, path="/",
                        httponly=True, samesite="lax", secure=secure)
    return response


@router.get("/open/register", response_class=HTMLResponse)
def register_form(request: Request, user: OptionalPortalUser) -> HTMLResponse:
    return render_portal(request, "portal/register.html", {})


@router.post("/open/register", response_model=None)
def register(request: Request, session: SessionDep, settings: SettingsDep,
             username: Text = "", email: Text = "", password: Text = "") -> Response:
    limit_posts(request)
    try:
        user = accounts.register(session, username=username, email=email, password=password)
    except UserError as exc:
        return render_portal(request, "portal/register.html", {
            "error": gettext(request, str(exc)), "username": username, "email": email},
            status_code=exc.status_code)
    issued = accounts.start_session(session, user)
    return _signed_in_response("/open/account", issued.token, settings.cookies_secure)


@router.get("/open/login", response_class=HTMLResponse)
def login_form(request: Request, user: OptionalPortalUser, next: str = "/open/account"
               ) -> HTMLResponse:
    return render_portal(request, "portal/login.html", {"next": next})


@router.post("/open/login", response_model=None)
def login(request: Request, session: SessionDep, settings: SettingsDep,
          username: Text = "", password: Text = "", next: Text = "/open/account") -> Response:
    throttle = request.app.state.login_throttle
    account_name, address = f"portal:{username.strip().lower()}", client_address(request)
    wait = throttle.admit(account_name, address)
    user = None if wait is not None else accounts.authenticate(
        session, username=username, password=password)
    if user is None:
        if wait is None:
            throttle.failed(account_name, address)
        message = ("Too many failed sign-in attempts. Please try again later." if wait
                   else "Wrong username or password.")
        response = render_portal(request, "portal/login.html", {
            "error": gettext(request, message), "next": next, "username": username},
            status_code=429 if wait is not None else 400)
        if wait is not None:
            response.headers["Retry-After"] = str(wait)
        return response
    throttle.succeeded(account_name, address)
    issued = accounts.start_session(session, user)
    return _signed_in_response(next, issued.token, settings.cookies_secure)


@router.post("/open/logout")
def logout(request: Request, session: SessionDep, user: PortalUserDep) -> RedirectResponse:
    token = request.cookies.get(PORTAL_COOKIE)
    if token:
        accounts.end_session(session, token)
    response = RedirectResponse("/open", status_code=303)
    response.delete_cookie(PORTAL_COOKIE, path="/")
    return response


@router.get("/open/account", response_class=HTMLResponse, response_model=None)
def account(request: Request, session: SessionDep, user: OptionalPortalUser) -> Response:
    if user is None:
        return RedirectResponse("/open/login?next=/open/account", status_code=303)
    return _account_page(request, session, user, None)


def _account_page(request: Request, session: SessionDep, user: PortalUserDep,
                  new_key: accounts.NewKey | None) -> HTMLResponse:
    return render_portal(request, "portal/account.html", {
        "keys": accounts.keys_of(session, user), "new_key": new_key,
        "applications": applications.of_user(session, user)})


@router.post("/open/account/keys", response_class=HTMLResponse)
def create_key(request: Request, session: SessionDep, user: PortalUserDep, name: Text = ""
               ) -> HTMLResponse:
    portal_session(request, session)
    return _account_page(request, session, user, accounts.create_key(session, user, name))


@router.post("/open/account/keys/{key_id}/revoke")
def revoke_key(session: SessionDep, user: PortalUserDep, key_id: int) -> RedirectResponse:
    accounts.revoke_key(session, user, key_id)
    return RedirectResponse("/open/account", status_code=303)


@router.post("/dataset/{slug}/apply")
def apply(session: SessionDep, user: PortalUserDep, slug: str, purpose: Text = ""
          ) -> RedirectResponse:
    found = datasets.get_dataset(session, slug)
    applications.apply(session, user=user, dataset=found, purpose=purpose)
    return RedirectResponse(f"/dataset/{found.slug}#downloads", status_code=303)
