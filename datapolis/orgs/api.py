"""JSON API of the identity slice under /api/v1: tokens, the caller, organisations, users, apps.

Role checks happen in `requires(...)`; object checks (is this user or app inside the caller's
organisation subtree?) happen here, because only the route knows which object is meant.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request, Response, status
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from datapolis.orgs import service
from datapolis.orgs.deps import (
    Principal,
    SessionDep,
    SettingsDep,
    basic_credentials,
    public,
    requires,
)
from datapolis.orgs.models import Organisation, OrgKind, Role, User
from datapolis.orgs.permissions import ROLE_PERMISSIONS, Permission
from datapolis.orgs.schemas import (
    AppCreate,
    AppPublic,
    AppWithSecret,
    MePublic,
    OrganisationCreate,
    OrganisationNode,
    OrganisationPublic,
    OrganisationUpdate,
    PasswordReset,
    TokenResponse,
    UserCreate,
    UserPublic,
    UserUpdate,
    organisation_tree,
)
from datapolis.orgs.throttle import (
    LoginThrottle,
    LoginThrottleDep,
    app_account,
    client_address,
    user_account,
)

router = APIRouter(prefix="/api/v1", tags=["identity"])

Viewer = Annotated[Principal, Depends(requires(Permission.VIEW_PLATFORM))]
UserReader = Annotated[Principal, Depends(requires(Permission.READ_USERS))]
UserManager = Annotated[Principal, Depends(requires(Permission.MANAGE_USERS))]
AppManager = Annotated[Principal, Depends(requires(Permission.MANAGE_APPS))]

INVALID_CREDENTIALS = "invalid credentials"  # one message: never reveal which part was wrong


# --- object-level authorisation (shared with pages.py) ---------------------------------------


def readable_org_ids(session: Session, principal: Principal) -> set[int] | None:
    """Organisations whose users the caller may see; None means all of them."""
    # Auditors verify who may do what platform-wide, so they read every organisation's users.
    if principal.can(Permission.MANAGE_ORGS) or principal.can(Permission.READ_AUDIT):
        return None
    return service.descendant_ids(session, principal.org)


def manageable_org_ids(session: Session, principal: Principal) -> set[int] | None:
    """Organisations whose users and apps the caller may change; None means all of them."""
    if principal.can(Permission.MANAGE_ORGS):
        return None
    return service.descendant_ids(session, principal.org)


def check_reads(session: Session, principal: Principal, org: Organisation) -> None:
    scope = readable_org_ids(session, principal)
    if scope is not None and org.id not in scope:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, f"{org.name} ({org.code}) is outside your organisation"
        )


def check_manages(session: Session, principal: Principal, org: Organisation) -> None:
    scope = manageable_org_ids(session, principal)
    if scope is not None and org.id not in scope:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, f"{org.name} ({org.code}) is outside your organisation"
        )


def check_may_grant(principal: Principal, role: Role) -> None:
    """Only platform-wide admins grant any role; others grant no more than they hold."""
    if principal.can(Permission.MANAGE_ORGS) or ROLE_PERMISSIONS[role] <= principal.permissions:
        return
    raise HTTPException(status.HTTP_403_FORBIDDEN, f"you may not grant or change role {role}")


def check_may_manage_user(session: Session, principal: Principal, user: User) -> None:
    check_manages(session, principal, user.org)
    check_may_grant(principal, user.role)  # an org admin cannot touch an auditor in its org


def _target_org(session: Session, principal: Principal, code: str | None) -> Organisation:
    return service.get_organisation(session, code) if code else principal.org


# --- tokens --------------------------------------------------------------------------------


def _unauthorised(detail: str = INVALID_CREDENTIALS) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": "Bearer"}
    )


def _refused() -> JSONResponse:
    # Returned, not raised: the request's transaction commits, and with it the audit record
    # of the failed attempt (raising would roll it back).
    return JSONResponse({"detail": INVALID_CREDENTIALS}, headers={"WWW-Authenticate": "Bearer"},
                        status_code=status.HTTP_401_UNAUTHORIZED)


def _admit(throttle: LoginThrottle, account: str, address: str) -> None:
    wait = throttle.admit(account, address)
    if wait is not None:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            f"too many failed sign-in attempts; try again in {wait} seconds",
            headers={"Retry-After": str(wait)},
        )


@router.post("/auth/token", dependencies=[Depends(public)], response_model=TokenResponse,
             responses={401: {"description": "wrong credentials (the attempt is audited)"}})
def issue_token(
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    throttle: LoginThrottleDep,
    grant_type: Annotated[str, Form()] = "password",
    username: Annotated[str | None, Form()] = None,
    password: Annotated[str | None, Form()] = None,
    client_id: Annotated[str | None, Form()] = None,
    client_secret: Annotated[str | None, Form()] = None,
) -> TokenResponse | JSONResponse:
    """OAuth2 token endpoint: `password` grant for users, `client_credentials` for API apps.

    Repeated failures for one username or app key, or from one address, are refused for a
    while with 429 and Retry-After (see orgs/throttle.py).
    """
    lifetime = timedelta(days=settings.token_days)
    address = client_address(request)
    if grant_type == "password":
        if not username or password is None:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, "username and password are required")
        account = user_account(username)
        _admit(throttle, account, address)
        user = service.authenticate_user(session, username=username, password=password,
                                         address=address)
        if user is None:
            throttle.failed(account, address)
            return _refused()
        throttle.succeeded(account, address)
        issued = service.issue_token(session, kind="bearer", lifetime=lifetime, user=user)
    elif grant_type == "client_credentials":
        if not client_id and (basic := basic_credentials(request)) is not None:
            client_id, client_secret = basic
        if not client_id or client_secret is None:
            raise HTTPException(
                status.HTTP_400_BAD_REQUEST, "client_id and client_secret are required"
            )
        account = app_account(client_id)
        _admit(throttle, account, address)
        app = service.authenticate_app(session, app_key=client_id, secret=client_secret,
                                       address=address)
        if app is None:
            throttle.failed(account, address)
            return _refused()
        throttle.succeeded(account, address)
        issued = service.issue_token(session, kind="bearer", lifetime=lifetime, app=app)
    else:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST,
            f"unsupported grant_type {grant_type!r}; use password or client_credentials",
        )
    response.headers["Cache-Control"] = "no-store"  # RFC 6749 section 5.1
    return TokenResponse(access_token=issued.token, expires_in=int(lifetime.total_seconds()))


@router.post(
    "/auth/revoke", status_code=status.HTTP_204_NO_CONTENT, dependencies=[Depends(public)]
)
def revoke_token(request: Request, session: SessionDep) -> None:
    """Revoke the bearer token this request presents.

    Public because holding the token is the whole authorisation needed to give it up (as in
    RFC 7009); an already expired or revoked token is accepted silently.
    """
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorised("present the token to revoke as Authorization: Bearer <token>")
    service.revoke_token(session, token=token.strip())


@router.get("/me")
def me(principal: Viewer) -> MePublic:
    if principal.user is not None:
        kind, display, role = "user", principal.user.display_name, principal.user.role
    else:
        assert principal.app is not None
        kind, display, role = "app", principal.app.name, None
    return MePublic(
        kind=kind,
        name=principal.name,
        display_name=display,
        role=role,
        org=OrganisationPublic.of(principal.org),
        permissions=sorted(principal.permissions),
    )


# --- organisations -------------------------------------------------------------------------


@router.get("/orgs", dependencies=[Depends(requires(Permission.READ_ORGS))])
def list_organisations(
    session: SessionDep,
    kind: OrgKind | None = None,
    parent: Annotated[str | None, Query(description="Code of the parent organisation.")] = None,
    tree: Annotated[bool, Query(description="Nest children under their parents.")] = False,
) -> list[OrganisationNode] | list[OrganisationPublic]:
    """Flat: `parent` selects its direct children. Tree: `parent` selects its whole subtree."""
    parent_org = service.get_organisation(session, parent) if parent else None
    if not tree:
        orgs = service.list_organisations(session, kind=kind, parent=parent_org)
        return [OrganisationPublic.of(org) for org in orgs]
    orgs = service.list_organisations(session, kind=kind)
    if parent_org is not None:
        below = service.descendant_ids(session, parent_org) - {parent_org.id}
        orgs = [org for org in orgs if org.id in below]
    return organisation_tree(orgs)


@router.get("/orgs/{code}", dependencies=[Depends(requires(Permission.READ_ORGS))])
def get_organisation(code: str, session: SessionDep) -> OrganisationPublic:
    return OrganisationPublic.of(service.get_organisation(session, code))


@router.post(
    "/orgs",
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(requires(Permission.MANAGE_ORGS))],
)
def create_organisation(body: OrganisationCreate, session: SessionDep) -> OrganisationPublic:
    parent = service.get_organisation(session, body.parent_code) if body.parent_code else None
    org = service.create_organisation(
        session,
        code=body.code,
        name=body.name.strip(),
        kind=body.kind,
        division_code=body.division_code,
        parent=parent,
        short_name=body.short_name,
    )
    return OrganisationPublic.of(org)


@router.patch("/orgs/{code}", dependencies=[Depends(requires(Permission.MANAGE_ORGS))])
def update_organisation(
    code: str, body: OrganisationUpdate, session: SessionDep
) -> OrganisationPublic:
    org = service.get_organisation(session, code)
    parent = service.get_organisation(session, body.parent_code) if body.parent_code else None
    service.update_organisation(
        session,
        org=org,
        name=body.name,
        short_name=body.short_name,
        division_code=body.division_code,
        parent=parent,
    )
    return OrganisationPublic.of(org)


# --- users ---------------------------------------------------------------------------------


@router.get("/users")
def list_users(
    principal: UserReader,
    session: SessionDep,
    org: Annotated[str | None, Query(description="Organisation code, with its subtree.")] = None,
    role: Role | None = None,
    active: bool | None = None,
) -> list[UserPublic]:
    scope = readable_org_ids(session, principal)
    if org:
        chosen = service.get_organisation(session, org)
        check_reads(session, principal, chosen)
        scope = service.descendant_ids(session, chosen)
    users = service.list_users(session, org_ids=scope, role=role, active=active)
    return [UserPublic.of(user) for user in users]


@router.get("/users/{username}")
def get_user(username: str, principal: UserReader, session: SessionDep) -> UserPublic:
    user = service.get_user(session, username)
    check_reads(session, principal, user.org)
    return UserPublic.of(user)


@router.post("/users", status_code=status.HTTP_201_CREATED)
def create_user(body: UserCreate, principal: UserManager, session: SessionDep) -> UserPublic:
    org = _target_org(session, principal, body.org_code)
    check_manages(session, principal, org)
    check_may_grant(principal, body.role)
    user = service.create_user(
        session,
        username=body.username,
        password=body.password,
        role=body.role,
        org=org,
        display_name=body.display_name,
    )
    return UserPublic.of(user)


@router.patch("/users/{username}")
def update_user(
    username: str, body: UserUpdate, principal: UserManager, session: SessionDep
) -> UserPublic:
    user = service.get_user(session, username)
    check_may_manage_user(session, principal, user)
    if body.role is not None:
        check_may_grant(principal, body.role)
    is_self = principal.user is not None and principal.user.id == user.id
    if is_self and ((body.role not in (None, user.role)) or body.is_active is False):
        # Otherwise the last platform admin could lock everyone out with one click.
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST, "you cannot change your own role or deactivate yourself"
        )
    service.update_user(
        session,
        user=user,
        role=body.role,
        is_active=body.is_active,
        display_name=body.display_name,
    )
    return UserPublic.of(user)


@router.post("/users/{username}/password", status_code=status.HTTP_204_NO_CONTENT)
def reset_password(
    username: str, body: PasswordReset, principal: UserManager, session: SessionDep
) -> None:
    """Set a new password; every session and token of the user ends."""
    user = service.get_user(session, username)
    check_may_manage_user(session, principal, user)
    service.set_password(session, user=user, password=body.password)


# --- API apps ------------------------------------------------------------------------------


@router.get("/apps")
def list_apps(principal: AppManager, session: SessionDep) -> list[AppPublic]:
    apps = service.list_apps(session, org_ids=manageable_org_ids(session, principal))
    return [AppPublic.of(app) for app in apps]


@router.post("/apps", status_code=status.HTTP_201_CREATED)
def create_app(body: AppCreate, principal: AppManager, session: SessionDep) -> AppWithSecret:
    """Register an app. `app_secret` is in this response only; store it now."""
    org = _target_org(session, principal, body.org_code)
    check_manages(session, principal, org)
    issued = service.create_app(session, org=org, name=body.name, created_by=principal.user)
    return AppWithSecret.issued(issued.app, issued.secret)


@router.get("/apps/{app_key}")
def get_app(app_key: str, principal: AppManager, session: SessionDep) -> AppPublic:
    app = service.get_app(session, app_key)
    check_manages(session, principal, app.org)
    return AppPublic.of(app)


@router.post("/apps/{app_key}/rotate")
def rotate_app_secret(app_key: str, principal: AppManager, session: SessionDep) -> AppWithSecret:
    """Issue a new secret (shown once); the old one and the app's tokens stop working."""
    app = service.get_app(session, app_key)
    check_manages(session, principal, app.org)
    secret = service.rotate_app_secret(session, app=app)
    return AppWithSecret.issued(app, secret)


@router.post("/apps/{app_key}/revoke")
def revoke_app(app_key: str, principal: AppManager, session: SessionDep) -> AppPublic:
    """Disable the app for good; its tokens stop working at once."""
    app = service.get_app(session, app_key)
    check_manages(session, principal, app.org)
    service.revoke_app(session, app=app)
    return AppPublic.of(app)
