"""Routes people use to equip apps for the sharing interfaces: issue a signing secret."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from datapolis.orgs import service as orgs
from datapolis.orgs.api import check_manages
from datapolis.orgs.deps import Principal, SessionDep, requires
from datapolis.orgs.permissions import Permission
from datapolis.sharing.gateway import credentials
from datapolis.sharing.gateway.client import ALGORITHMS
from datapolis.sharing.gateway.state import gateway_of

router = APIRouter(prefix="/api/v1/share", tags=["sharing gateway"])
AppManager = Annotated[Principal, Depends(requires(Permission.MANAGE_APPS))]


class SigningRequest(BaseModel):
    algorithm: Literal["hmac-sm3", "hmac-sha256"] = "hmac-sm3"


class SigningState(BaseModel):
    app_key: str
    algorithm: str | None  # "HMAC-SM3" / "HMAC-SHA256"; None: the app cannot sign
    revoked: bool


class SigningSecret(SigningState):
    """Returned once; the server keeps the secret sealed, never in the clear."""

    app_secret: str


@router.get("/apps/{app_key}/signing")
def signing_state(app_key: str, principal: AppManager, session: SessionDep) -> SigningState:
    """Whether the app can sign calls, and with which algorithm."""
    app = orgs.get_app(session, app_key)
    check_manages(session, principal, app.org)
    state = credentials.app_state(session, app.app_key)
    assert state is not None
    return SigningState(app_key=app.app_key, revoked=state.revoked,
                        algorithm=ALGORITHMS[state.algorithm] if state.algorithm else None)


@router.post("/apps/{app_key}/signing")
def issue_signing_secret(app_key: str, body: SigningRequest, request: Request,
                         principal: AppManager, session: SessionDep) -> SigningSecret:
    """A new secret that signs calls and is the app's OAuth2 client secret (shown once); the
    old secret and the app's tokens stop working."""
    app = orgs.get_app(session, app_key)
    check_manages(session, principal, app.org)
    issued = credentials.issue(session, gateway_of(request).keyring, app=app,
                               algorithm=body.algorithm)
    return SigningSecret(app_key=issued.app_key, algorithm=ALGORITHMS[issued.algorithm],
                         revoked=False, app_secret=issued.secret)
