"""Who is calling the gateway: an app proven by its signature, or by an OAuth2 bearer token.

A signed call carries X-Dp-App-Key, X-Dp-Timestamp, X-Dp-Nonce and X-Dp-Signature (see
client.py for the canonical string). A bearer call carries `Authorization: Bearer <token>`
issued by POST /share/oauth/token to an app (a user's token is refused: interfaces are for
apps). Every refusal raises `Refused` with one of the shared error codes.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from typing import Literal

from fastapi import Request
from sqlalchemy.orm import Session

from datapolis.orgs import service as orgs
from datapolis.security.crypto import DecryptionError
from datapolis.sharing.gateway.client import (
    APP_KEY_HEADER,
    NONCE_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    canonical_string,
    signature,
)
from datapolis.sharing.gateway.errors import Refused
from datapolis.sharing.gateway.state import Gateway

NONCE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


@dataclass(frozen=True)
class Caller:
    app_id: int
    org_id: int
    auth: Literal["signature", "bearer"]
    app_key: str = ""


def authenticate(request: Request, session: Session, body: bytes, gateway: Gateway) -> Caller:
    headers = request.headers
    scheme, _, token = headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return _bearer(session, token.strip())
    app_key = headers.get(APP_KEY_HEADER)
    if not app_key:
        raise Refused(401, "unknown_app", "sign the call (X-Dp-App-Key, X-Dp-Timestamp, "
                      "X-Dp-Nonce, X-Dp-Signature) or send an OAuth2 bearer token")
    return _signed(request, session, body, app_key, gateway)


def _bearer(session: Session, token: str) -> Caller:
    record = orgs.resolve_token(session, token=token, kind="bearer")
    if record is None or record.app is None:
        raise Refused(401, "unknown_app", "the bearer token is unknown, expired, revoked, "
                      "or not an app's")
    return Caller(record.app.id, record.app.org_id, "bearer", record.app.app_key)


def _signed(request: Request, session: Session, body: bytes, app_key: str,
            gateway: Gateway) -> Caller:
    headers = request.headers
    stamp, nonce = headers.get(TIMESTAMP_HEADER, ""), headers.get(NONCE_HEADER, "")
    sent = headers.get(SIGNATURE_HEADER, "")
    if not stamp.isdigit() or not NONCE.match(nonce) or not sent:
        raise Refused(401, "bad_signature", f"{TIMESTAMP_HEADER} must be Unix seconds, "
                      f"{NONCE_HEADER} 16-64 of A-Z a-z 0-9 - _, and {SIGNATURE_HEADER} set")
    state = gateway.app_state(session, app_key)
    if state is None or state.revoked:
        raise Refused(401, "unknown_app", f"no active app with key {app_key!r}")
    if state.sealed is None or state.algorithm is None:
        raise Refused(401, "unknown_app", f"app {app_key} has no signing secret; have one "
                      "issued (`datapolis sharing credentials issue`) or use OAuth2")
    try:
        secret = gateway.secret(app_key, state.sealed)
    except DecryptionError:
        raise Refused(401, "unknown_app", f"app {app_key}'s signing secret cannot be "
                      "unsealed with this server's key; have one issued again") from None
    canonical = canonical_string(
        algorithm=state.algorithm, method=request.method,
        path=request.scope["path"],
        query=request.query_params.multi_items(), timestamp=stamp, nonce=nonce, body=body)
    if not hmac.compare_digest(signature(secret, state.algorithm, canonical), sent.lower()):
        raise Refused(401, "bad_signature", "the signature does not match the request; see "
                      "docs/sharing.md for the canonical string")
    # Checked after the signature, so an attacker cannot burn nonces or learn about the clock.
    if not gateway.nonces.check_time(int(stamp)):
        raise Refused(401, "stale_timestamp", "the timestamp is more than 5 minutes from the "
                      "server's clock (or before the server started)")
    if not gateway.nonces.first_use(state.app_id, nonce):
        raise Refused(401, "replayed_nonce", "this nonce was used already")
    return Caller(state.app_id, state.org_id, "signature", app_key)
