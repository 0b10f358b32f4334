"""FastAPI dependencies for identity: who is calling, and may they do this?

Every route declares either `Depends(requires(Permission.X))` or `Depends(public)`; a test walks
the route table and fails on a route that declares neither.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from datapolis.config import Settings
from datapolis.orgs import service
from datapolis.orgs.models import ApiApp, Organisation, User
from datapolis.orgs.permissions import APP_PERMISSIONS, ROLE_PERMISSIONS, Permission
from datapolis.registry.db import Registry
from datapolis.security.audit import service as audit

SESSION_COOKIE = "datapolis_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_registry(request: Request) -> Registry:
    registry: Registry = request.app.state.registry
    return registry


def get_session(request: Request) -> Iterator[Session]:
    """One registry unit of work per request: committed when the route returns normally."""
    with get_registry(request).session() as session:
        yield session


# scope="function": commit before the response is sent. With FastAPI's default ("request")
# the client could receive a token, or follow a redirect, before its row is committed, and a
# failed commit would follow a 200 already on the wire.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


@dataclass(frozen=True)
class Principal:
    """The caller: a user (web session or bearer token) or an API app (bearer token)."""

    org: Organisation
    permissions: frozenset[Permission]
    via: str  # "session" | "bearer"
    user: User | None = None
    app: ApiApp | None = None
    csrf_token: str | None = None

    @property
    def name(self) -> str:
        if self.user is not None:
            return self.user.username
        assert self.app is not None
        return self.app.app_key

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions


def _bearer_token(request: Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def resolve_principal(request: Request, session: Session) -> Principal | None:
    """Who is calling, or None for an anonymous caller. Cached on the request."""
    if hasattr(request.state, "principal"):
        cached: Principal | None = request.state.principal
        return cached
    principal: Principal | None = None
    bearer = _bearer_token(request)
    cookie = request.cookies.get(SESSION_COOKIE)
    if bearer is not None:
        record = service.resolve_token(session, token=bearer, kind="bearer")
        if record is not None and record.user is not None:
            principal = Principal(org=record.user.org, user=record.user, via="bearer",
                                  permissions=ROLE_PERMISSIONS[record.user.role])
        elif record is not None and record.app is not None:
            principal = Principal(org=record.app.org, app=record.app, via="bearer",
                                  permissions=APP_PERMISSIONS)
    elif cookie:
        record = service.resolve_token(session, token=cookie, kind="session")
        if record is not None and record.user is not None:
            principal = Principal(org=record.user.org, user=record.user, via="session",
                                  permissions=ROLE_PERMISSIONS[record.user.role],
                                  csrf_token=record.csrf_token)
    if principal is not None:
        actor = principal.name if principal.user is not None else f"app:{principal.name}"
        audit.act_as(session, actor, principal.org.code)
    request.state.principal = principal
    return principal


def optional_principal(request: Request, session: SessionDep) -> Principal | None:
    return resolve_principal(request, session)


async def _check_csrf(request: Request, principal: Principal) -> None:
    # Cookie-authenticated writes must echo the session's CSRF token (header for htmx and
    # fetch, hidden form field for plain forms); bearer calls carry no ambient credential.
    if principal.via != "session" or request.method not in UNSAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    expected = principal.csrf_token or ""
    if not sent or not secrets.compare_digest(sent, expected):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "missing or wrong CSRF token")


# Declares the bearer scheme in OpenAPI (so /docs offers "Authorize" with a password login);
# the token itself is read by resolve_principal, which also accepts session cookies.
_bearer_scheme = OAuth2PasswordBearer(
    tokenUrl="/api/v1/auth/token", scheme_name="bearer", auto_error=False
)
BearerForDocs = Annotated[str | None, Depends(_bearer_scheme)]


class requires:  # lower-case on purpose: reads as `Depends(requires(Permission.X))`
    """Dependency: the caller is authenticated and holds `permission`."""

    def __init__(self, permission: Permission) -> None:
        self.permission = permission

    async def __call__(
        self, request: Request, session: SessionDep, _documented: BearerForDocs = None
    ) -> Principal:
        principal = resolve_principal(request, session)
        if principal is None:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "authentication required",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if not principal.can(self.permission):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, f"permission {self.permission.value} required"
            )
        await _check_csrf(request, principal)
        return principal


def public() -> None:
    """Dependency marking a route that anyone may call (login page, health, open portal)."""


OptionalPrincipal = Annotated[Principal | None, Depends(optional_principal)]


def basic_credentials(request: Request) -> tuple[str, str] | None:
    """client_id:client_secret sent as HTTP Basic (RFC 6749 section 2.3.1), if they were."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, sep, secret = base64.b64decode(value, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (client_id, secret) if sep else None
