"""Service functions of the identity slice: organisations, users, tokens, API apps."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from datapolis.errors import Conflict, NotFound, UserError
from datapolis.orgs.models import AccessToken, ApiApp, Organisation, OrgKind, Role, User
from datapolis.orgs.passwords import (
    MIN_PASSWORD_LENGTH,
    hash_password,
    needs_rehash,
    verify_password,
)
from datapolis.registry.base import utcnow
from datapolis.security.audit import service as audit

ORG_CODE = re.compile(r"^[0-9a-z][0-9a-z_]{1,62}$")
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{1,63}$")
DIVISION_CODE = re.compile(r"^\d{6}(\d{3})?$")


# --- organisations -------------------------------------------------------------------------


def create_organisation(
    session: Session,
    *,
    code: str,
    name: str,
    kind: OrgKind,
    division_code: str,
    parent: Organisation | None = None,
    short_name: str | None = None,
) -> Organisation:
    if not ORG_CODE.match(code):
        raise UserError(f"organisation code {code!r} must be 2-63 lower-case letters, digits or _")
    if not DIVISION_CODE.match(division_code):
        raise UserError(
            f"division code {division_code!r} must have 6 (county) or 9 (street) digits"
        )
    check_placement(kind=kind, division_code=division_code, parent=parent)
    if session.scalar(select(Organisation.id).where(Organisation.code == code)) is not None:
        raise Conflict(f"organisation code {code!r} is already taken")
    org = Organisation(
        code=code,
        name=name,
        kind=kind,
        division_code=division_code,
        parent=parent,
        short_name=short_name,
    )
    session.add(org)
    session.flush()
    audit.record(session, kind="org.created", org=code, details={
        "code": code, "kind": kind.value, "division_code": division_code,
        "parent": parent.code if parent else None})
    return org


# Which kind of organisation may sit directly under which (GB/T 2260 levels; departments
# belong to any level and may have sub-units of their own).
_ALLOWED_PARENTS: dict[OrgKind, frozenset[OrgKind]] = {
    OrgKind.CITY: frozenset(),
    OrgKind.COUNTY: frozenset({OrgKind.CITY}),
    OrgKind.STREET: frozenset({OrgKind.COUNTY}),
    OrgKind.DEPARTMENT: frozenset(OrgKind),
}


def check_placement(*, kind: OrgKind, division_code: str, parent: Organisation | None) -> None:
    """Refuse a tree the division codes contradict: a street must sit in its county, etc."""
    if kind is OrgKind.CITY:
        if parent is not None:
            raise UserError("a city is the root of the tree and has no parent")
        return
    if parent is None:
        raise UserError(f"a {kind.value} organisation needs a parent")
    if parent.kind not in _ALLOWED_PARENTS[kind]:
        raise UserError(f"a {kind.value} cannot be placed under a {parent.kind.value}")
    if kind is OrgKind.STREET and len(division_code) != 9:
        raise UserError(f"a street's division code has 9 digits, not {division_code!r}")
    if kind is OrgKind.COUNTY and len(division_code) != 6:
        raise UserError(f"a county's division code has 6 digits, not {division_code!r}")
    # GB/T 2260: a county 3713xx lies in city 3713 00; a street 371302xxx in county 371302.
    prefix = {OrgKind.COUNTY: 4, OrgKind.STREET: 6}.get(kind)
    if prefix is not None and division_code[:prefix] != parent.division_code[:prefix]:
        raise UserError(
            f"division code {division_code!r} does not lie within "
            f"{parent.name} ({parent.division_code})"
        )


def list_organisations(
    session: Session, *, kind: OrgKind | None = None, parent: Organisation | None = None
) -> list[Organisation]:
    """Organisations in tree order (division code, then code); `parent` means direct children."""
    query = select(Organisation).order_by(Organisation.division_code, Organisation.code)
    if kind is not None:
        query = query.where(Organisation.kind == kind)
    if parent is not None:
        query = query.where(Organisation.parent_id == parent.id)
    return list(session.scalars(query))


def update_organisation(
    session: Session,
    *,
    org: Organisation,
    name: str | None = None,
    short_name: str | None = None,
    division_code: str | None = None,
    parent: Organisation | None = None,
) -> Organisation:
    """Change the given fields; the code (the stable identifier) and kind never change."""
    new_division = division_code if division_code is not None else org.division_code
    if not DIVISION_CODE.match(new_division):
        raise UserError(
            f"division code {new_division!r} must have 6 (county) or 9 (street) digits"
        )
    new_parent = parent if parent is not None else org.parent
    if parent is not None and parent.id in descendant_ids(session, org):
        raise UserError(f"{parent.name} lies inside {org.name}; that would make a cycle")
    check_placement(kind=org.kind, division_code=new_division, parent=new_parent)
    before = (org.name, org.short_name, org.division_code, org.parent_id)
    if name is not None:
        if not name.strip():
            raise UserError("an organisation needs a name")
        org.name = name.strip()
    if short_name is not None:
        org.short_name = short_name.strip() or None
    org.division_code = new_division
    org.parent = new_parent
    session.flush()
    after = (org.name, org.short_name, org.division_code, org.parent_id)
    changed = [field for field, old, new in zip(
        ("name", "short_name", "division_code", "parent"), before, after, strict=True)
        if old != new]
    if changed:
        audit.record(session, kind="org.updated", org=org.code,
                     details={"code": org.code, "changed": changed})
    return org


def get_organisation(session: Session, code: str) -> Organisation:
    org = session.scalar(select(Organisation).where(Organisation.code == code))
    if org is None:
        raise NotFound(f"no organisation with code {code!r}")
    return org


def descendant_ids(session: Session, org: Organisation) -> set[int]:
    """The organisation and everything below it (counties, streets, departments)."""
    # One query for the whole table: the tree is small (hundreds of rows) and this avoids a
    # recursive CTE that would read differently on SQLite and PostgreSQL.
    rows = session.execute(select(Organisation.id, Organisation.parent_id))
    parents = {child: parent for child, parent in rows}
    found = {org.id}
    changed = True
    while changed:
        changed = False
        for child, parent in parents.items():
            if parent in found and child not in found:
                found.add(child)
                changed = True
    return found


def department_codes(session: Session) -> list[str]:
    """Codes of every department: each one gets its own ods_<code> landing schema."""
    query = select(Organisation.code).where(Organisation.kind == OrgKind.DEPARTMENT)
    return list(session.scalars(query.order_by(Organisation.code)))


# --- users ---------------------------------------------------------------------------------


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: Role,
    org: Organisation,
    display_name: str | None = None,
) -> User:
    if not USERNAME.match(username):
        raise UserError(f"username {username!r} must be 2-64 letters, digits or _.@-")
    check_password_strength(password)
    if session.scalar(select(User.id).where(func.lower(User.username) == username.lower())):
        raise Conflict(f"username {username!r} is already taken")
    user = User(
        username=username,
        display_name=display_name or username,
        role=role,
        org=org,
        password_hash=hash_password(password),
    )
    session.add(user)
    session.flush()
    audit.record(session, kind="user.created", org=org.code,
                 details={"user": user.username, "role": role.value})
    return user


def get_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(func.lower(User.username) == username.lower()))
    if user is None:
        raise NotFound(f"no user named {username!r}")
    return user


def list_users(
    session: Session,
    *,
    org_ids: set[int] | None = None,
    role: Role | None = None,
    active: bool | None = None,
) -> list[User]:
    """Users by username; `org_ids` None means every organisation."""
    query = select(User).order_by(func.lower(User.username))
    if org_ids is not None:
        query = query.where(User.org_id.in_(org_ids))
    if role is not None:
        query = query.where(User.role == role)
    if active is not None:
        query = query.where(User.is_active.is_(active))
    return list(session.scalars(query))


def update_user(
    session: Session,
    *,
    user: User,
    role: Role | None = None,
    is_active: bool | None = None,
    display_name: str | None = None,
) -> User:
    """Change the given fields; deactivating ends every session and token of the user."""
    if display_name is not None:
        if not display_name.strip() or len(display_name) > 100:
            raise UserError("a display name has 1-100 characters")
        user.display_name = display_name.strip()
    if role is not None and role != user.role:
        audit.record(session, kind="user.role_changed", org=user.org.code,
                     details={"user": user.username, "from": user.role.value, "to": role.value})
        user.role = role
    if is_active is not None and is_active != user.is_active:
        audit.record(session, kind="user.enabled" if is_active else "user.disabled",
                     org=user.org.code, details={"user": user.username})
        user.is_active = is_active
        if not is_active:
            revoke_tokens(session, user=user)
    session.flush()
    return user


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"password must have at least {MIN_PASSWORD_LENGTH} characters")


def _login_refused(session: Session, *, account: str, org: Organisation | None, method: str,
                   reason: str, address: str | None) -> None:
    # The account name as typed (cut to the column's width) and never the password: an
    # auditor needs to see guessing against a name, not what was guessed.
    audit.record(session, kind="auth.login_failed", actor=account[:64],
                 org=org.code if org else None,
                 details={"method": method, "reason": reason, "address": address})


def authenticate_user(
    session: Session, *, username: str, password: str, address: str | None = None
) -> User | None:
    """The user, or None (recorded as a failed sign-in: the caller must still commit)."""
    user = session.scalar(select(User).where(func.lower(User.username) == username.lower()))
    ok = verify_password(user.password_hash if user else None, password)
    if user is None or not ok or not user.is_active:
        reason = "unknown_account" if user is None else "wrong_password" if not ok else "disabled"
        _login_refused(session, account=user.username if user else username,
                       org=user.org if user else None, method="password", reason=reason,
                       address=address)
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    audit.record(session, kind="auth.login", actor=user.username, org=user.org.code,
                 details={"method": "password", "address": address})
    return user


def set_password(session: Session, *, user: User, password: str) -> None:
    check_password_strength(password)
    user.password_hash = hash_password(password)
    revoke_tokens(session, user=user)
    audit.record(session, kind="auth.password_changed", org=user.org.code,
                 details={"user": user.username})


# --- tokens (web sessions and API bearer tokens) -------------------------------------------


def _digest(token: str) -> str:
    # Tokens are 256-bit random, so a fast hash suffices: no dictionary to attack.
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    token: str  # shown once, never stored
    record: AccessToken


def issue_token(
    session: Session,
    *,
    kind: str,
    lifetime: timedelta,
    user: User | None = None,
    app: ApiApp | None = None,
) -> IssuedToken:
    if (user is None) == (app is None):
        raise ValueError("a token belongs to exactly one user or one app")
    token = secrets.token_urlsafe(32)
    now = utcnow()
    record = AccessToken(
        token_hash=_digest(token),
        kind=kind,
        user=user,
        app=app,
        created_at=now,
        expires_at=now + lifetime,
        csrf_token=secrets.token_urlsafe(24) if kind == "session" else None,
    )
    session.add(record)
    session.flush()
    return IssuedToken(token=token, record=record)


def resolve_token(session: Session, *, token: str, kind: str) -> AccessToken | None:
    """The live token record for `token`, or None if unknown, expired, revoked or disabled."""
    record = session.scalar(
        select(AccessToken).where(
            AccessToken.token_hash == _digest(token), AccessToken.kind == kind
        )
    )
    now = utcnow()
    if record is None or record.revoked_at is not None or record.expires_at <= now:
        return None
    if record.user is not None and not record.user.is_active:
        return None
    if record.app is not None and record.app.revoked_at is not None:
        return None
    # Touch at most once a minute: a write per request would serialise SQLite readers.
    if record.last_used_at is None or now - record.last_used_at > timedelta(minutes=1):
        record.last_used_at = now
    return record


def revoke_token(session: Session, *, token: str) -> None:
    """End a session (recorded as auth.logout) or a bearer token (auth.token_revoked)."""
    record = session.scalar(select(AccessToken).where(AccessToken.token_hash == _digest(token)))
    if record is not None and record.revoked_at is None:
        record.revoked_at = utcnow()
        if record.user is not None:
            actor, org = record.user.username, record.user.org.code
        else:
            assert record.app is not None
            actor, org = f"app:{record.app.app_key}", record.app.org.code
        if record.kind == "session":
            audit.record(session, kind="auth.logout", actor=actor, org=org,
                         details={"via": "session"})
        else:
            audit.record(session, kind="auth.token_revoked", actor=actor, org=org,
                         details={"token_kind": record.kind})


def revoke_tokens(session: Session, *, user: User | None = None, app: ApiApp | None = None) -> int:
    if user is None and app is None:
        # Without a target the query below would end every session on the platform.
        raise ValueError("revoke_tokens needs a user or an app")
    query = select(AccessToken).where(AccessToken.revoked_at.is_(None))
    if user is not None:
        query = query.where(AccessToken.user_id == user.id)
    if app is not None:
        query = query.where(AccessToken.app_id == app.id)
    now = utcnow()
    records = session.scalars(query).all()
    for record in records:
        record.revoked_at = now
    return len(records)


# --- API apps ------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedApp:
    app: ApiApp
    secret: str  # shown once, stored only as an argon2 hash


def create_app(
    session: Session, *, org: Organisation, name: str, created_by: User | None = None
) -> IssuedApp:
    name = name.strip()
    if not name or len(name) > 200:
        raise UserError("an app needs a name of 1-200 characters")
    secret = secrets.token_urlsafe(32)
    app = ApiApp(
        org=org,
        name=name,
        app_key="dp_" + secrets.token_hex(12),
        secret_hash=hash_password(secret),
        created_by_id=created_by.id if created_by else None,
    )
    session.add(app)
    session.flush()
    audit.record(session, kind="app.created", org=org.code,
                 details={"app": app.app_key, "name": name})
    return IssuedApp(app=app, secret=secret)


def get_app(session: Session, app_key: str) -> ApiApp:
    app = session.scalar(select(ApiApp).where(ApiApp.app_key == app_key))
    if app is None:
        raise NotFound(f"no API app with key {app_key!r}")
    return app


def list_apps(session: Session, *, org_ids: set[int] | None = None) -> list[ApiApp]:
    """Apps, newest first; `org_ids` None means every organisation."""
    query = select(ApiApp).order_by(ApiApp.created_at.desc(), ApiApp.id.desc())
    if org_ids is not None:
        query = query.where(ApiApp.org_id.in_(org_ids))
    return list(session.scalars(query))


def authenticate_app(
    session: Session, *, app_key: str, secret: str, address: str | None = None
) -> ApiApp | None:
    """The app, or None (recorded as a failed sign-in: the caller must still commit)."""
    app = session.scalar(select(ApiApp).where(ApiApp.app_key == app_key))
    ok = verify_password(app.secret_hash if app else None, secret)
    if app is None or not ok or app.revoked_at is not None:
        reason = "unknown_account" if app is None else "wrong_secret" if not ok else "revoked"
        _login_refused(session, account=f"app:{app_key}", org=app.org if app else None,
                       method="client_credentials", reason=reason, address=address)
        return None
    audit.record(session, kind="auth.login", actor=f"app:{app.app_key}", org=app.org.code,
                 details={"method": "client_credentials", "address": address})
    return app


def revoke_app(session: Session, *, app: ApiApp) -> None:
    if app.revoked_at is None:
        app.revoked_at = utcnow()
        audit.record(session, kind="app.revoked", org=app.org.code, details={"app": app.app_key})
    revoke_tokens(session, app=app)


def rotate_app_secret(session: Session, *, app: ApiApp) -> str:
    if app.revoked_at is not None:
        raise UserError(f"app {app.app_key} is revoked")
    secret = secrets.token_urlsafe(32)
    app.secret_hash = hash_password(secret)
    revoke_tokens(session, app=app)
    audit.record(session, kind="app.secret_rotated", org=app.org.code,
                 details={"app": app.app_key})
    return secret
