"""The CKAN Action API at /api/3/action/{action} (and /api/action/, which ckanapi calls):
public, no login, GET with a query string or POST with a JSON body, answered in CKAN's
`{"help", "success", "result"}` envelope or its `{"success": false, "error": ...}` shape."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from datapolis.errors import NotFound, UserError
from datapolis.orgs.deps import public
from datapolis.portal.ckan.actions import (
    ACTIONS,
    ActionError,
    Context,
    NotFoundError,
    ValidationError,
)
from datapolis.portal.urls import PortalUrls
from datapolis.portal.usage import UsageCounter
from datapolis.registry.db import Registry

router = APIRouter(tags=["CKAN Action API"], dependencies=[Depends(public)])
SITE_TITLE = "公共数据开放网"
# Calls about one dataset count as its API use.
COUNTED = {"package_show", "resource_show", "datastore_search"}
MAX_BODY = 1_000_000


def _envelope(help_url: str, *, result: Any = None, error: ActionError | None = None
              ) -> JSONResponse:
    if error is None:
        return JSONResponse({"help": help_url, "success": True, "result": result})
    return JSONResponse({"help": help_url, "success": False, "error": error.body()},
                        status_code=error.status_code)


async def _params(request: Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query_params)
    if request.method != "POST":
        return params
    body = await request.body()
    if len(body) > MAX_BODY:
        raise ActionError(f"the request body is larger than {MAX_BODY:,} bytes")
    if not body.strip():
        return params
    if request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        params.update({key: value for key, value in form.items() if isinstance(value, str)})
        return params
    try:
        decoded = json.loads(body)
    except ValueError:
        raise ActionError("JSON Error: the request body is not valid JSON") from None
    if not isinstance(decoded, dict):
        raise ActionError("JSON Error: the request body must be a JSON object")
    params.update(decoded)
    return params


def usage_counter(request: Request) -> UsageCounter:
    state = request.app.state
    counter: UsageCounter | None = getattr(state, "portal_usage", None)
    if counter is None:
        counter = state.portal_usage = UsageCounter(state.registry)
    return counter


def _run(request: Request, name: str, params: dict[str, Any]) -> Any:
    registry: Registry = request.app.state.registry
    urls = PortalUrls.of(request, request.app.state.settings)
    with registry.session() as session:
        ctx = Context(session, request.app.state.warehouse, urls, SITE_TITLE)
        try:
            result = ACTIONS[name](ctx, params)
        except NotFound as exc:
            raise NotFoundError(str(exc)) from None
        except ActionError:
            raise
        except UserError as exc:
            raise ValidationError("message", str(exc)) from None
        touched = ctx.touched
    counter = usage_counter(request)
    for code, org in touched:
        counter.record(code, org, "api")
    return result


# One operation id per method: FastAPI would give GET's id to POST as well.
@router.get("/api/3/action/{name}", operation_id="ckan_action_get")
@router.post("/api/3/action/{name}", operation_id="ckan_action_post")
@router.api_route("/api/action/{name}", methods=["GET", "POST"], include_in_schema=False)
async def call_action(name: str, request: Request) -> JSONResponse:
    """Answer one CKAN action (status_show, package_search, datastore_search, ...)."""
    urls = PortalUrls.of(request, request.app.state.settings)
    help_url = urls.api("help_show") + f"?name={name}"
    if name not in ACTIONS:
        return _envelope(help_url, error=ActionError(f"Action name not known: {name}"))
    try:
        params = await _params(request)
        result = await run_in_threadpool(_run, request, name, params)
    except ActionError as exc:
        return _envelope(help_url, error=exc)
    return _envelope(help_url, result=result)
