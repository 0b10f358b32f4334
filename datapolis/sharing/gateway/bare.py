"""Benchmarks only: the key lookup with nothing around it, to measure what the gateway costs.

`GET /share/bench/{resource}/records/{key}` runs the same warehouse query as the lookup
interface (the resource's items, by its key) with no signature, grant, de-identification or
metering. It answers 404 unless the bench-only setting `share_bench_bare` is on, which nothing
but `bench/share_lookup.py` sets.
"""

from __future__ import annotations

import json
import threading

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from datapolis.catalog.service import get_entry
from datapolis.orgs.deps import public
from datapolis.sharing.gateway.interfaces import key_column
from datapolis.warehouse.engine import Engine, TableName, quote_identifier

router = APIRouter(tags=["benchmarks"], include_in_schema=False)
_plans: dict[str, str] = {}
_lock = threading.Lock()


def _sql(request: Request, resource_code: str) -> str:
    found = _plans.get(resource_code)
    if found is None:
        with request.app.state.registry.session() as session:
            entry = get_entry(session, resource_code)
            columns = [i.column_name for i in sorted(entry.items, key=lambda i: i.position)
                       if i.column_name]
            if not entry.warehouse_table:
                raise HTTPException(404, "the resource has no warehouse table")
            selected = ", ".join(quote_identifier(c) for c in columns)
            found = (f"SELECT {selected} FROM {TableName.parse(entry.warehouse_table).sql} "  # noqa: S608
                     f"WHERE {quote_identifier(key_column(entry))} = ? LIMIT 1")
        with _lock:
            _plans[resource_code] = found
    return found


def _lookup(request: Request, resource_code: str, key: str) -> Response:
    engine: Engine = request.app.state.warehouse
    rows = engine.records(_sql(request, resource_code), [key])
    if not rows:
        raise HTTPException(404, "no record")
    body = json.dumps({"resource": resource_code, "record": rows[0]}, ensure_ascii=False,
                      separators=(",", ":"), default=str).encode()
    return Response(body, media_type="application/json")


@router.get("/share/bench/{resource_code:path}/records/{key}", dependencies=[Depends(public)])
async def bare_lookup(request: Request, resource_code: str, key: str) -> Response:
    if not request.app.state.settings.share_bench_bare:
        raise HTTPException(404, "Not Found")
    response: Response = await run_in_threadpool(_lookup, request, resource_code, key)
    return response
