"""Routes of the sharing gateway: the interfaces under /share/v1 and the OAuth2 token endpoint.

These routes are for apps, not people: they declare `public` to the user-permission system,
and every one of them authenticates the app itself (signature or bearer, `auth.py`) and
authorises the call against its live grant (`calls.run`), before anything is read.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from datapolis.orgs import service as orgs
from datapolis.orgs.deps import basic_credentials, public
from datapolis.orgs.throttle import app_account, client_address, get_login_throttle
from datapolis.sharing.gateway import exports, interfaces, openapi
from datapolis.sharing.gateway.calls import Answer, Context, refused_response
from datapolis.sharing.gateway.calls import run as run_call
from datapolis.sharing.gateway.errors import Refused
from datapolis.sharing.metering import Call, meter_of, params_hash

router = APIRouter(tags=["sharing gateway"], dependencies=[Depends(public)])

ResourceCode = Annotated[str, "a catalog resource code"]


async def _run(request: Request, interface: str, resource_code: str | None,
               work: Callable[[Context], Answer], params: dict[str, object],
               body: bytes = b"") -> Response:
    response: Response = await run_in_threadpool(
        run_call, request, interface=interface, resource_code=resource_code, body=body,
        params=params, work=work)
    return response


@router.get("/share/v1/openapi.json")
async def index(request: Request) -> Response:
    """The OpenAPI document of every resource the calling app holds a live grant on."""
    return await _run(request, "openapi", None, openapi.index, {})


@router.get("/share/v1/{resource_code:path}/openapi.json")
async def resource_openapi(request: Request, resource_code: ResourceCode) -> Response:
    """The OpenAPI document of one granted resource: its interfaces and granted items only."""
    return await _run(request, "openapi", resource_code, openapi.resource, {})


@router.get("/share/v1/{resource_code:path}/records/{key}")
async def lookup(request: Request, resource_code: ResourceCode, key: str) -> Response:
    """The record with this key, within the grant's rows, with the grant's items only."""
    return await _run(request, "lookup", resource_code, interfaces.lookup(key), {"key": key})


@router.get("/share/v1/{resource_code:path}/records")
async def query(request: Request, resource_code: ResourceCode) -> Response:
    """Records matching filters on granted items (`col=v`, `col.in=v` repeated, `col.gte`,
    `col.lte`, `col.prefix`; a pseudonymised item takes only the first two, another
    de-identified one none), `select`, `limit`, and `cursor` from the previous page."""
    pairs = request.query_params.multi_items()
    return await _run(request, "query", resource_code, interfaces.query(pairs),
                      {"query": sorted(pairs)})


@router.post("/share/v1/{resource_code:path}/records:batch")
async def batch(request: Request, resource_code: ResourceCode) -> Response:
    """The records of up to `share_batch_keys` keys: body `{"keys": [...]}`."""
    body = await request.body()
    return await _run(request, "batch", resource_code, interfaces.batch(body),
                      {"body": params_hash({"sm3": body.hex()})}, body)


@router.post("/share/v1/{resource_code:path}/exports")
async def create_export(request: Request, resource_code: ResourceCode) -> Response:
    """Bulk delivery: body `{"format": "csv"|"parquet", "where": {...}, "select": [...]}`;
    answers 202 with the export's code and status URL."""
    body = await request.body()
    return await _run(request, "bulk", resource_code, exports.create(body),
                      {"body": params_hash({"sm3": body.hex()})}, body)


@router.get("/share/v1/{resource_code:path}/exports/{code}")
async def export_status(request: Request, resource_code: ResourceCode, code: str) -> Response:
    """An export's state (queued, running, done, failed), rows and bytes."""
    return await _run(request, "bulk", resource_code, exports.status(code), {"export": code})


@router.get("/share/v1/{resource_code:path}/exports/{code}/file")
async def export_file(request: Request, resource_code: ResourceCode, code: str) -> Response:
    """The export's file, streamed; only while the grant is live."""
    return await _run(request, "bulk_download", resource_code, exports.download(code),
                      {"export": code})


@router.post("/share/oauth/token")
async def token(
    request: Request,
    grant_type: Annotated[str, Form()] = "client_credentials",
    client_id: Annotated[str | None, Form()] = None,
    client_secret: Annotated[str | None, Form()] = None,
) -> Response:
    """OAuth2 client credentials: the app key and secret for a bearer token (RFC 6749 4.4)."""
    return await run_in_threadpool(_token, request, grant_type, client_id, client_secret)


def _token(request: Request, grant_type: str, client_id: str | None,
           client_secret: str | None) -> Response:
    started = datetime.now(UTC)
    call = Call(request_at=started, response_at=started, consumer_org_id=None, app_id=None,
                provider_org_id=None, resource_code=None, grant_id=None, interface="token",
                params_hash=params_hash({"grant_type": grant_type, "client_id": client_id}),
                rows=0, bytes=0, status=200, error_code=None, latency_ms=0.0,
                client_ip=client_address(request))
    settings = request.app.state.settings
    response: Response
    try:
        if grant_type != "client_credentials":
            raise Refused(400, "bad_request", "grant_type must be client_credentials")
        if not client_id and (basic := basic_credentials(request)) is not None:
            client_id, client_secret = basic
        if not client_id or client_secret is None:
            raise Refused(400, "bad_request", "client_id and client_secret are required")
        throttle, address = get_login_throttle(request), client_address(request)
        if throttle.admit(app_account(client_id), address) is not None:
            raise Refused(429, "rate_limited", "too many failed attempts; try again later")
        lifetime = timedelta(minutes=settings.share_token_minutes)
        with request.app.state.registry.session() as session:
            app = orgs.authenticate_app(session, app_key=client_id, secret=client_secret,
                                        address=address)
            if app is None:
                throttle.failed(app_account(client_id), address)
                call.error_code = "unknown_app"
                response = JSONResponse({"error": "invalid_client",
                                         "detail": "unknown app key or wrong secret"}, 401,
                                        headers={"WWW-Authenticate": "Basic"})
            else:
                throttle.succeeded(app_account(client_id), address)
                call.app_id, call.consumer_org_id = app.id, app.org_id
                issued = orgs.issue_token(session, kind="bearer", lifetime=lifetime, app=app)
                response = JSONResponse(
                    {"access_token": issued.token, "token_type": "bearer",
                     "expires_in": int(lifetime.total_seconds())},
                    headers={"Cache-Control": "no-store"})
    except Refused as error:
        response = refused_response(error)
        call.error_code = error.recorded
    call.status, call.bytes = response.status_code, len(response.body)
    call.response_at = datetime.now(UTC)
    call.latency_ms = (call.response_at - started).total_seconds() * 1000
    meter_of(request).submit(call)
    return response


__all__ = ["Answer", "Context", "router"]
