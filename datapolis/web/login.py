"""The login form and its CSRF protection.

Before login there is no session to hold a CSRF token, so the form carries a random token that
is also set in a cookie signed with the secret key (double submit); POST /login accepts the form
only when both match and the signature is fresh. This stops another site logging a browser in
under the attacker's account.
"""

from __future__ import annotations

import secrets

from fastapi import Request
from fastapi.responses import HTMLResponse
from itsdangerous import BadSignature, URLSafeTimedSerializer

from datapolis.config import Settings
from datapolis.web.render import render
from datapolis.web.urls import local_path

LOGIN_CSRF_COOKIE = "datapolis_login_csrf"
LOGIN_CSRF_MAX_AGE = 2 * 3600  # seconds a login form stays valid
_SALT = "datapolis.login-form"


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key, salt=_SALT)


def form_token_valid(request: Request, sent: str | None) -> bool:
    settings: Settings = request.app.state.settings
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE)
    if not sent or not cookie:
        return False
    try:
        expected = _serializer(settings).loads(cookie, max_age=LOGIN_CSRF_MAX_AGE)
    except BadSignature:
        return False
    return isinstance(expected, str) and secrets.compare_digest(expected, sent)


def render_login(
    request: Request,
    *,
    next_path: str | None = None,
    error: str | None = None,
    username: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    """The login page with a fresh form token (its cookie is set on the same response)."""
    settings: Settings = request.app.state.settings
    token = secrets.token_urlsafe(24)
    response = render(
        request,
        "login.html",
        {
            "next_path": local_path(next_path),
            "error": error,
            "username": username,
            "login_csrf_token": token,
        },
        status_code=status_code,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        _serializer(settings).dumps(token),
        max_age=LOGIN_CSRF_MAX_AGE,
        path="/login",
        httponly=True,
        samesite="lax",
        secure=settings.cookies_secure,
    )
    response.headers["Cache-Control"] = "no-store"
    return response
