"""OpenAPI documents that describe only what the caller's grants let out.

The per-resource document names the resource's interfaces and, as the record schema and the
filter parameters, only the granted items; the index joins the documents of every resource the
app holds a live grant on.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from datapolis import __version__
from datapolis.catalog.models import CatalogEntry
from datapolis.sharing.gateway.calls import Answer, Context, granted, json_answer
from datapolis.sharing.gateway.errors import Refused
from datapolis.sharing.gateway.interfaces import view_of
from datapolis.sharing.gateway.reads import FILTERS_OF_METHOD, View
from datapolis.sharing.grants.service import list_grants, status

SECURITY: list[dict[str, list[str]]] = [{"signature": []}, {"bearer": []}]
SCHEMES = {
    "signature": {"type": "apiKey", "in": "header", "name": "X-Dp-Signature",
                  "description": "HMAC-SM3 (or HMAC-SHA256) of the canonical request; also send "
                  "X-Dp-App-Key, X-Dp-Timestamp and X-Dp-Nonce (see docs/sharing.md)."},
    "bearer": {"type": "oauth2", "flows": {"clientCredentials": {
        "tokenUrl": "/share/oauth/token", "scopes": {}}}},
}
ERROR = {"type": "object", "properties": {"error": {"type": "string"},
                                          "detail": {"type": "string"}}}


def _json_type(view: View, column: str, method: str) -> dict[str, Any]:
    if method != "keep":
        return {"type": ["string", "null"], "description": f"de-identified: {method}"}
    kind = view.types.get(column, "VARCHAR").upper()
    if "INT" in kind:
        return {"type": ["integer", "null"]}
    if kind in {"DOUBLE", "FLOAT", "REAL"} or kind.startswith("DECIMAL"):
        return {"type": ["number", "null"]}
    if kind == "BOOLEAN":
        return {"type": ["boolean", "null"]}
    if kind == "DATE":
        return {"type": ["string", "null"], "format": "date"}
    if kind.startswith("TIMESTAMP"):
        return {"type": ["string", "null"], "format": "date-time"}
    return {"type": ["string", "null"]}


def _paths(code: str, view: View) -> dict[str, Any]:
    record = {"type": "object", "properties": {
        rule.column: _json_type(view, rule.column, rule.method) for rule in view.plan.rules}}
    ref = {"$ref": f"#/components/schemas/{code}_record"}
    answers = {"401": {"description": "not authenticated"},
               "403": {"description": "no live grant, or an item the grant does not cover"},
               "429": {"description": "quota or rate limit reached"}}
    filters = []
    for rule in view.plan.rules:
        for op in FILTERS_OF_METHOD.get(rule.method, ()):
            name = rule.column if op == "eq" else f"{rule.column}.{op}"
            filters.append({"name": name, "in": "query", "required": False,
                            "schema": {"type": "string"}})
    base = f"/share/v1/{code}"
    return {
        "paths": {
            f"{base}/records/{{key}}": {"get": {
                "operationId": f"{code}_lookup", "summary": f"lookup by {view.key}",
                "parameters": [{"name": "key", "in": "path", "required": True,
                                "schema": {"type": "string"}}],
                "responses": {"200": {"description": "the record", "content": {
                    "application/json": {"schema": {"type": "object", "properties": {
                        "resource": {"type": "string"}, "record": ref}}}}},
                    "404": {"description": "no such record within the grant"}, **answers}}},
            f"{base}/records": {"get": {
                "operationId": f"{code}_query", "summary": "filtered query, cursor paging",
                "parameters": [*filters,
                               {"name": "select", "in": "query", "schema": {"type": "string"}},
                               {"name": "limit", "in": "query", "schema": {"type": "integer"}},
                               {"name": "cursor", "in": "query", "schema": {"type": "string"}}],
                "responses": {"200": {"description": "a page", "content": {
                    "application/json": {"schema": {"type": "object", "properties": {
                        "records": {"type": "array", "items": ref},
                        "next_cursor": {"type": ["string", "null"]}}}}}}, **answers}}},
            f"{base}/records:batch": {"post": {
                "operationId": f"{code}_batch", "summary": "batch lookup by key",
                "requestBody": {"content": {"application/json": {"schema": {
                    "type": "object", "properties": {"keys": {"type": "array"}}}}}},
                "responses": {"200": {"description": "the records found"}, **answers}}},
            f"{base}/exports": {"post": {
                "operationId": f"{code}_export", "summary": "bulk delivery (CSV or Parquet)",
                "responses": {"202": {"description": "the export job"}, **answers}}},
        },
        "schema": (f"{code}_record", record),
    }


def document(parts: list[tuple[str, View]], title: str) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {"error": ERROR}
    for code, view in parts:
        made = _paths(code, view)
        paths.update(made["paths"])
        name, schema = made["schema"]
        schemas[name] = schema
    return {"openapi": "3.1.0", "info": {"title": title, "version": __version__},
            "security": SECURITY, "paths": paths,
            "components": {"securitySchemes": SCHEMES, "schemas": schemas}}


def resource(ctx: Context) -> Answer:
    assert ctx.grant is not None
    code = ctx.grant.resource_code
    return json_answer(document([(code, view_of(ctx))], f"Datapolis sharing: {code}"), 0)


def index(ctx: Context) -> Answer:
    now = datetime.now(UTC)
    parts = []
    entries = {g.entry_id for g in list_grants(ctx.session, app_id=ctx.caller.app_id)
               if status(g, now) == "active"}
    codes = sorted(entry.resource_code for entry in
                   (ctx.session.get(CatalogEntry, entry_id) for entry_id in entries)
                   if entry is not None)
    for code in codes:
        try:
            grant = granted(ctx.session, ctx.gateway, ctx.caller, code, now)
        except Refused:
            continue
        parts.append((code, view_of(Context(ctx.request, ctx.session, ctx.gateway, ctx.meter,
                                            ctx.caller, grant, ctx.call))))
    return json_answer(document(parts, "Datapolis sharing: your granted resources"), 0)
