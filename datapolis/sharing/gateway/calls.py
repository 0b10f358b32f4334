"""One gateway call from request to meter: authenticate, find the grant, admit, answer, record.

Every call, answered or refused, is submitted to the Meter with its error code; refusals are
`Refused` exceptions turned into `{"error": code, "detail": message}` bodies here.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session

from datapolis.errors import UserError
from datapolis.orgs.throttle import client_address
from datapolis.registry.db import Registry
from datapolis.sharing.gateway.auth import Caller, authenticate
from datapolis.sharing.gateway.errors import Refused
from datapolis.sharing.gateway.state import Gateway, gateway_of
from datapolis.sharing.grants.service import ActiveGrant, refusal
from datapolis.sharing.metering import Call, Meter, meter_of, params_hash
from datapolis.warehouse.engine import Engine

log = logging.getLogger(__name__)


@dataclass
class Context:
    """What a call's work function gets."""

    request: Request
    session: Session
    gateway: Gateway
    meter: Meter
    caller: Caller
    grant: ActiveGrant | None
    call: Call

    @property
    def warehouse(self) -> Engine:
        engine: Engine = self.request.app.state.warehouse
        return engine


@dataclass
class Answer:
    response: Response
    rows: int = 0
    bytes: int | None = None  # None: the response body's length


def refused_response(error: Refused) -> JSONResponse:
    headers = {"WWW-Authenticate": "DP-HMAC, Bearer"} if error.status == 401 else None
    return JSONResponse({"error": error.code, "detail": error.message}, error.status,
                        headers=headers)


def json_answer(data: Any, rows: int, status: int = 200) -> Answer:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str).encode()
    return Answer(Response(body, status, media_type="application/json"), rows)


def run(request: Request, *, interface: str, resource_code: str | None, body: bytes,
        params: dict[str, Any], work: Callable[[Context], Answer]) -> Response:
    """Answer one call; blocking (route handlers run it in the thread pool)."""
    started, clock = datetime.now(UTC), time.perf_counter()
    gateway, meter = gateway_of(request), meter_of(request)
    call = Call(request_at=started, response_at=started, consumer_org_id=None, app_id=None,
                provider_org_id=None, resource_code=resource_code, grant_id=None,
                interface=interface, params_hash=params_hash(params), rows=0, bytes=0,
                status=200, error_code=None, latency_ms=0.0,
                client_ip=client_address(request),
                request_id=(request.headers.get("X-Request-Id") or "")[:64] or None)
    registry: Registry = request.app.state.registry
    response: Response
    try:
        with registry.session() as session:
            caller = authenticate(request, session, body, gateway)
            call.app_id, call.consumer_org_id = caller.app_id, caller.org_id
            grant = None
            if resource_code is not None:
                grant = granted(session, gateway, caller, resource_code, started)
                call.grant_id, call.provider_org_id = grant.id, grant.provider_org_id
                code = meter.admit(grant, now=started)
                if code is not None:
                    raise Refused(429, code, _LIMITS[code])
            answer = work(Context(request, session, gateway, meter, caller, grant, call))
        response = answer.response
        call.rows = answer.rows
        call.bytes = answer.bytes if answer.bytes is not None else len(response.body)
    except Refused as error:
        response = refused_response(error)
        call.error_code = error.recorded
        call.bytes = len(response.body)
    except UserError as error:
        # Everything the caller can get wrong is a Refused; an error from the layers below
        # (a grant's scope no longer parsing, a table gone) is ours, and its text may name
        # tables or SQL, so it is logged, not sent.
        log.warning("gateway call failed (%s %s): %s", interface, resource_code, error)
        response = refused_response(Refused(500, "internal", "the call failed on our side; "
                                            "it is logged"))
        call.error_code = "internal"
        call.bytes = len(response.body)
    except Exception:
        log.exception("gateway call failed (%s %s)", interface, resource_code)
        response = refused_response(Refused(500, "internal", "the call failed on our side; "
                                            "it is logged"))
        call.error_code = "internal"
        call.bytes = len(response.body)
    call.status = response.status_code
    call.response_at = datetime.now(UTC)
    call.latency_ms = (time.perf_counter() - clock) * 1000
    meter.submit(call)
    return response


_LIMITS = {
    "quota_calls": "the grant's calls for today are used up",
    "quota_rows": "the grant's rows for today are used up",
    "rate_limited": "too many calls per second under this grant; slow down",
}


def granted(session: Session, gateway: Gateway, caller: Caller, resource_code: str,
            now: datetime) -> ActiveGrant:
    """The caller's live grant on the resource, or the refusal saying why there is none."""
    grant = gateway.grants.get(session, caller.app_id, resource_code, now)
    if grant is not None:
        if grant.valid_until is not None and grant.valid_until <= now:
            raise Refused(403, "grant_expired", f"your grant on {resource_code} has expired")
        if grant.valid_from <= now:
            return grant
    code = refusal(session, app_id=caller.app_id, resource_code=resource_code, now=now)
    raise Refused(403, code, {
        "grant_revoked": f"your grant on {resource_code} was revoked",
        "grant_expired": f"your grant on {resource_code} has expired",
    }.get(code, f"your app holds no live grant on {resource_code!r}"))
