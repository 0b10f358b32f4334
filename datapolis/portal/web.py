"""What the portal's routes share: the signed-in public user, CSRF for their forms, the open-API
key and its rate limit, the per-address limit on public forms, and page rendering."""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from datapolis.orgs.deps import SessionDep
from datapolis.orgs.throttle import client_address
from datapolis.portal import accounts
from datapolis.portal.public_models import PortalApiKey, PortalSession, PortalUser
from datapolis.portal.ratelimit import RateLimit
from datapolis.portal.usage import UsageCounter
from datapolis.web.render import render

PORTAL_COOKIE = "datapolis_portal"
CSRF_FIELD = "csrf_token"
KEY_HEADERS = ("X-API-Key", "X-App-Token")  # ours, and Socrata's


def portal_session(request: Request, session: Session) -> PortalSession | None:
    if hasattr(request.state, "portal_session"):
        cached: PortalSession | None = request.state.portal_session
        return cached
    token = request.cookies.get(PORTAL_COOKIE)
    found = accounts.resolve_session(session, token) if token else None
    request.state.portal_session = found
    return found


def optional_user(request: Request, session: SessionDep) -> PortalUser | None:
    found = portal_session(request, session)
    return found.user if found is not None else None


async def signed_in(request: Request, session: SessionDep) -> PortalUser:
    """A signed-in public user; a form they post must echo their session's CSRF token."""
    found = portal_session(request, session)
    if found is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "sign in to the portal first")
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        sent = request.headers.get("X-CSRF-Token")
        if sent is None and request.headers.get("content-type", "").startswith(
                ("application/x-www-form-urlencoded", "multipart/form-data")):
            value = (await request.form()).get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
        if not sent or not secrets.compare_digest(sent, found.csrf_token):
            raise HTTPException(status.HTTP_403_FORBIDDEN, "missing or wrong CSRF token")
    user: PortalUser = found.user
    return user


PortalUserDep = Annotated[PortalUser, Depends(signed_in)]
OptionalPortalUser = Annotated[PortalUser | None, Depends(optional_user)]


def _limits(request: Request) -> tuple[RateLimit, RateLimit]:
    state = request.app.state
    limits: tuple[RateLimit, RateLimit] | None = getattr(state, "portal_limits", None)
    if limits is None:
        settings = state.settings
        limits = state.portal_limits = (
            RateLimit(settings.portal_api_calls_per_minute, 60.0),
            RateLimit(settings.portal_posts_per_hour, 3600.0))
    return limits


def _too_many(wait: int, what: str) -> HTTPException:
    return HTTPException(status.HTTP_429_TOO_MANY_REQUESTS,
                         f"too many {what}; try again in {wait} s",
                         headers={"Retry-After": str(wait)})


def api_key(request: Request, session: SessionDep) -> PortalApiKey:
    """The caller's open-API key (header X-API-Key or X-App-Token, or `$$app_token`), within
    its rate limit."""
    secret = next((request.headers[h] for h in KEY_HEADERS if request.headers.get(h)), None)
    secret = secret or request.query_params.get("$$app_token")
    if not secret:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED,
                            "an API key is required (header X-API-Key); register on the portal "
                            "and create one under 我的账户",
                            headers={"WWW-Authenticate": 'ApiKey realm="open"'})
    key = accounts.resolve_key(session, secret.strip())
    if key is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "unknown or revoked API key",
                            headers={"WWW-Authenticate": 'ApiKey realm="open"'})
    wait = _limits(request)[0].admit(f"key:{key.id}")
    if wait is not None:
        raise _too_many(wait, "API calls")
    return key


ApiKeyDep = Annotated[PortalApiKey, Depends(api_key)]


def limit_posts(request: Request) -> None:
    """Public forms (requests, reports, registration): a few per address per hour."""
    wait = _limits(request)[1].admit(f"post:{client_address(request)}")
    if wait is not None:
        raise _too_many(wait, "submissions from your address")


def counter(request: Request) -> UsageCounter:
    found: UsageCounter = request.app.state.portal_usage
    return found


def render_portal(request: Request, template: str, context: dict[str, Any] | None = None,
                  status_code: int = 200) -> HTMLResponse:
    state = getattr(request.state, "portal_session", None)
    chrome = {"portal_user": state.user if state is not None else None,
              "portal_csrf": state.csrf_token if state is not None else ""}
    return render(request, template, {**chrome, **(context or {})}, status_code=status_code)
