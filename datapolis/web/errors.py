"""Errors as people and programs want them: a page for a browser, JSON for an API client.

A browser asking for a page it may not see without logging in gets the login form in place
(status 401), which sends it back to the page afterwards. API calls get `{"detail": ...}`.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode, urlsplit

from fastapi import FastAPI, Request, status
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from sqlalchemy import inspect
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException

from datapolis.errors import UserError
from datapolis.orgs.deps import Principal, resolve_principal
from datapolis.registry.db import Registry
from datapolis.web import i18n
from datapolis.web.headers import security_headers
from datapolis.web.login import render_login
from datapolis.web.render import render
from datapolis.web.urls import local_path

log = logging.getLogger(__name__)

TITLES = {
    400: i18n.N_("The request cannot be handled"),
    401: i18n.N_("Please sign in"),
    403: i18n.N_("You may not open this page"),
    404: i18n.N_("Page not found"),
    405: i18n.N_("The request cannot be handled"),
    409: i18n.N_("This conflicts with existing data"),
    500: i18n.N_("Something went wrong on our side"),
}
GENERIC_500 = i18n.N_(
    "The error has been logged. Please try again later or tell the platform operators."
)


def wants_html(request: Request) -> bool:
    """A browser navigating (not an API client, not a script asking for JSON)."""
    if request.url.path.startswith("/api/"):
        return False
    return "text/html" in request.headers.get("accept", "")


def is_htmx_partial(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true" and "HX-Boosted" not in request.headers


def _expired(principal: Principal) -> bool:
    objects = [principal.org] if principal.user is None else [principal.org, principal.user]
    return any(inspect(obj).expired_attributes for obj in objects)


def _principal_for_chrome(request: Request) -> None:
    """Know the caller on error pages too, so the header keeps the menu and the user's name.

    Unmatched paths never resolved the caller, and a route's error rolled its registry session
    back, leaving the user and organisation expired; either way, resolve again.
    """
    known = "principal" in request.scope.get("state", {})
    cached: Principal | None = getattr(request.state, "principal", None)
    if known and (cached is None or not _expired(cached)):
        return
    if known:
        del request.state.principal
    registry: Registry = request.app.state.registry
    try:
        with registry.session() as session:
            resolve_principal(request, session)
    except SQLAlchemyError:
        request.state.principal = None


def error_page(request: Request, status_code: int, message: str | None = None) -> HTMLResponse:
    _principal_for_chrome(request)
    title = i18n.gettext(request, TITLES.get(status_code, TITLES[400]))
    return render(
        request,
        "error.html",
        {"status_code": status_code, "title": title, "message": message},
        status_code=status_code,
    )


def _requested_path(request: Request) -> str:
    if is_htmx_partial(request):
        # The page the user is on, not the fragment htmx asked for.
        current = urlsplit(request.headers.get("HX-Current-URL", ""))
        if current.netloc != request.url.netloc:
            return "/"
        return local_path(current.path + (f"?{current.query}" if current.query else ""))
    query = request.url.query
    return local_path(request.url.path + (f"?{query}" if query else ""))


def _unauthorized(request: Request, exc: HTTPException) -> Response:
    if not wants_html(request):
        return JSONResponse(
            {"detail": exc.detail},
            status_code=status.HTTP_401_UNAUTHORIZED,
            headers={"WWW-Authenticate": "Bearer"},
        )
    next_path = _requested_path(request)
    if is_htmx_partial(request):
        # htmx follows HX-Redirect whatever the status: the whole page goes to the login form.
        login_url = "/login?" + urlencode({"next": next_path}) if next_path != "/" else "/login"
        return Response(status_code=401, headers={"HX-Redirect": login_url})
    return render_login(request, next_path=next_path, status_code=status.HTTP_401_UNAUTHORIZED)


async def http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == status.HTTP_401_UNAUTHORIZED:
        return _unauthorized(request, exc)
    headers: dict[str, str] | None = getattr(exc, "headers", None)
    if exc.status_code in (204, 304):
        return Response(status_code=exc.status_code, headers=headers)
    if wants_html(request):
        message = None if exc.status_code == 404 else i18n.gettext(request, str(exc.detail))
        response: Response = error_page(request, exc.status_code, message)
        if headers:
            response.headers.update(headers)
        return response
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=headers)


async def user_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, UserError)
    status_code = exc.status_code
    if wants_html(request):
        return error_page(request, status_code, i18n.gettext(request, str(exc)))
    return JSONResponse({"detail": str(exc)}, status_code=status_code)


async def server_error(request: Request, exc: Exception) -> Response:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    response: Response
    if not wants_html(request):
        response = JSONResponse({"detail": "internal server error"}, status_code=500)
    else:
        try:
            response = error_page(request, 500, i18n.gettext(request, GENERIC_500))
        except Exception:  # the page itself failed (a broken template, the registry down)
            log.exception("cannot render the error page")
            response = PlainTextResponse("Internal Server Error", status_code=500)
    # This answer is sent outside the middleware stack: add the security headers here.
    response.headers.update(security_headers())
    return response


def install(app: FastAPI) -> None:
    app.add_exception_handler(HTTPException, http_exception)
    app.add_exception_handler(UserError, user_error)
    app.add_exception_handler(Exception, server_error)

