"""Apps' signing secrets: issued by rotating the app's secret and sealing the new one.

ApiApp stores only an argon2 hash, which cannot check an HMAC. Issuing a signing secret rotates
the app's secret (orgs.service.rotate_app_secret: old bearer tokens end) and keeps the new one
sealed under the secrets keyring, bound to the app key. An app made before the gateway existed
signs nothing until it is issued one; rotating its secret elsewhere disables signing again
(the sealed secret no longer matches the app's hash) until it is re-issued.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, event, select
from sqlalchemy.orm import Session

from datapolis.errors import UserError
from datapolis.orgs import service as orgs
from datapolis.orgs.models import ApiApp
from datapolis.registry.base import utcnow
from datapolis.security.audit import service as audit
from datapolis.security.crypto import Keyring
from datapolis.sharing.gateway.client import ALGORITHMS
from datapolis.sharing.gateway.models import SigningSecret

_issued = 0  # moves whenever this process issues a secret, so caches read apps again


def issued_generation() -> int:
    return _issued


def _bump(_session: Session) -> None:
    global _issued
    _issued += 1


@dataclass(frozen=True)
class Issued:
    app_key: str
    algorithm: str
    secret: str  # shown once


def _context(app: ApiApp) -> str:
    return f"share-signing:{app.app_key}"


def issue(session: Session, keyring: Keyring, *, app: ApiApp,
          algorithm: str = "hmac-sm3") -> Issued:
    """A new secret for `app` that both signs calls and works as its client secret."""
    if algorithm not in ALGORITHMS:
        raise UserError(f"unknown signing algorithm {algorithm!r}; "
                        f"choose {' or '.join(ALGORITHMS)}")
    secret = orgs.rotate_app_secret(session, app=app)
    row = session.get(SigningSecret, app.id) or SigningSecret(app_id=app.id)
    row.algorithm = algorithm
    row.sealed = keyring.encrypt(secret, context=_context(app))
    row.secret_hash = app.secret_hash
    row.created_at = utcnow()
    session.add(row)
    session.flush()
    audit.record(session, kind="app.signing_issued", org=app.org.code,
                 details={"app": app.app_key, "algorithm": algorithm})
    event.listen(session, "after_commit", _bump, once=True)
    return Issued(app.app_key, algorithm, secret)


@dataclass(frozen=True)
class Signer:
    """What the gateway needs to check one app's signatures."""

    app_id: int
    org_id: int
    app_key: str
    algorithm: str
    secret: str

    def __repr__(self) -> str:  # never print the secret
        return f"Signer(app_key={self.app_key!r}, algorithm={self.algorithm!r})"


@dataclass(frozen=True)
class AppState:
    app_id: int
    org_id: int
    revoked: bool
    algorithm: str | None
    sealed: str | None  # None: the app has no usable signing secret


_APP_STATE = (
    select(ApiApp.id, ApiApp.org_id, ApiApp.revoked_at, ApiApp.secret_hash,
           SigningSecret.algorithm, SigningSecret.sealed, SigningSecret.secret_hash)
    .outerjoin(SigningSecret, SigningSecret.app_id == ApiApp.id)
    .where(ApiApp.app_key == bindparam("app_key")))


def app_state(session: Session, app_key: str) -> AppState | None:
    row = session.connection().execute(_APP_STATE, {"app_key": app_key}).one_or_none()
    if row is None:
        return None
    app_id, org_id, revoked_at, app_hash, algorithm, sealed, sealed_hash = row
    usable = sealed is not None and sealed_hash == app_hash
    return AppState(app_id, org_id, revoked_at is not None, algorithm if usable else None,
                    sealed if usable else None)


def unseal(keyring: Keyring, app_key: str, sealed: str) -> str:
    return keyring.decrypt(sealed, context=f"share-signing:{app_key}")


def signing_algorithm(session: Session, app: ApiApp) -> str | None:
    """The app's algorithm, or None when it has no usable signing secret."""
    state = app_state(session, app.app_key)
    return state.algorithm if state is not None else None
