"""Registered public users (注册用户): registration, sign-in sessions and open-API keys.

Passwords are argon2id hashes (the same hasher as platform users). Session tokens and API keys
are 256-bit random values kept only as SHA-256 digests: a key is shown once, at creation.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from datapolis.errors import Conflict, NotFound, UserError
from datapolis.orgs.passwords import MIN_PASSWORD_LENGTH, hash_password, verify_password
from datapolis.portal.public_models import PortalApiKey, PortalSession, PortalUser
from datapolis.web.i18n import N_

USERNAME = re.compile(r"^[a-z0-9_]{3,32}$")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
SESSION_HOURS = 12
KEY_PREFIX = "dpk_"
MAX_KEYS = 10


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def register(session: Session, *, username: str, email: str, password: str) -> PortalUser:
    username, email = username.strip().lower(), email.strip().lower()
    if not USERNAME.match(username):
        raise UserError(N_("a username has 3 to 32 lower-case letters, digits or underscores"))
    if len(email) > 254 or not EMAIL.match(email):
        raise UserError(N_("the email address is not valid"))
    if len(password) < MIN_PASSWORD_LENGTH:  # the message says 10: keep them equal
        raise UserError(N_("a password has at least 10 characters"))
    if len(password) > 1024:
        raise UserError(N_("the password is too long"))
    taken = session.scalar(select(func.count()).select_from(PortalUser).where(
        (PortalUser.username == username) | (PortalUser.email == email)))
    if taken:
        raise Conflict(N_("that username or email address is already registered"))
    user = PortalUser(username=username, email=email, password_hash=hash_password(password))
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, *, username: str, password: str) -> PortalUser | None:
    user = session.scalar(select(PortalUser).where(
        PortalUser.username == username.strip().lower()))
    ok = verify_password(user.password_hash if user else None, password)
    return user if ok and user is not None and not user.disabled else None


@dataclass(frozen=True)
class Issued:
    token: str
    csrf_token: str


def start_session(session: Session, user: PortalUser) -> Issued:
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    now = datetime.now(UTC)
    session.execute(delete(PortalSession).where(PortalSession.expires_at < now))
    session.add(PortalSession(user_id=user.id, token_hash=digest(token), csrf_token=csrf,
                              expires_at=now + timedelta(hours=SESSION_HOURS)))
    session.flush()
    return Issued(token, csrf)


def resolve_session(session: Session, token: str) -> PortalSession | None:
    found = session.scalar(select(PortalSession).where(PortalSession.token_hash == digest(token)))
    if found is None or found.expires_at < datetime.now(UTC) or found.user.disabled:
        return None
    return found


def end_session(session: Session, token: str) -> None:
    session.execute(delete(PortalSession).where(PortalSession.token_hash == digest(token)))


@dataclass(frozen=True)
class NewKey:
    key: PortalApiKey
    secret: str  # the key itself, shown once


def create_key(session: Session, user: PortalUser, name: str) -> NewKey:
    name = name.strip() or "default"
    if len(name) > 100:
        raise UserError("a key name has at most 100 characters")
    live = session.scalar(select(func.count()).select_from(PortalApiKey).where(
        PortalApiKey.user_id == user.id, PortalApiKey.revoked_at.is_(None)))
    if (live or 0) >= MAX_KEYS:
        raise Conflict(f"at most {MAX_KEYS} live keys; revoke one first")
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    key = PortalApiKey(user_id=user.id, name=name, prefix=secret[:10], key_hash=digest(secret))
    session.add(key)
    session.flush()
    return NewKey(key, secret)


def keys_of(session: Session, user: PortalUser) -> list[PortalApiKey]:
    return list(session.scalars(select(PortalApiKey).where(PortalApiKey.user_id == user.id)
                                .order_by(PortalApiKey.id.desc())))


def revoke_key(session: Session, user: PortalUser, key_id: int) -> PortalApiKey:
    key = session.get(PortalApiKey, key_id)
    if key is None or key.user_id != user.id:
        raise NotFound(f"no key {key_id}")
    if key.revoked_at is None:
        key.revoked_at = datetime.now(UTC)
    return key


def resolve_key(session: Session, secret: str) -> PortalApiKey | None:
    if not secret.startswith(KEY_PREFIX) or len(secret) > 100:
        return None
    key = session.scalar(select(PortalApiKey).where(PortalApiKey.key_hash == digest(secret)))
    if key is None or key.revoked_at is not None or key.user.disabled:
        return None
    return key
