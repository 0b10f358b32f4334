"""The open API (/open/v1): registration and keys for public users, dataset metadata, and rows
with Socrata-style parameters ($select, $where, $order, $limit, $offset) as JSON or CSV.
Rows need an API key (header X-API-Key); calls over the key's rate limit get 429 with
Retry-After; conditionally open datasets need the key owner's approved application."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field

from datapolis.errors import NotFound, UserError
from datapolis.orgs.deps import SessionDep, public
from datapolis.portal import accounts, applications, datasets, downloads, rows
from datapolis.portal.licences import licence_for
from datapolis.portal.web import ApiKeyDep, counter, limit_posts
from datapolis.warehouse.deps import WarehouseDep

router = APIRouter(prefix="/open/v1", tags=["Open API"], dependencies=[Depends(public)])


class Registration(BaseModel):
    username: str = Field(max_length=32)
    email: str = Field(max_length=254)
    password: str = Field(max_length=1024)


class KeyRequest(BaseModel):
    username: str = Field(max_length=32)
    password: str = Field(max_length=1024)
    name: str = Field("default", max_length=100)


@router.post("/users", status_code=201)
def register(request: Request, body: Registration, session: SessionDep) -> dict[str, str]:
    """Register a public user (username, email, password of 10+ characters)."""
    limit_posts(request)
    user = accounts.register(session, username=body.username, email=body.email,
                             password=body.password)
    return {"username": user.username, "email": user.email}


@router.post("/keys", status_code=201)
def create_key(request: Request, body: KeyRequest, session: SessionDep) -> dict[str, Any]:
    """A new API key for the user whose username and password are given; shown only here."""
    throttle = request.app.state.login_throttle
    account, address = f"portal:{body.username.strip().lower()}", request.client.host \
        if request.client else ""
    wait = throttle.admit(account, address)
    if wait is not None:
        return JSONResponse({"detail": "too many failed sign-ins"}, status_code=429,
                            headers={"Retry-After": str(wait)})  # type: ignore[return-value]
    user = accounts.authenticate(session, username=body.username, password=body.password)
    if user is None:
        throttle.failed(account, address)
        return JSONResponse({"detail": "wrong username or password"},  # type: ignore[return-value]
                            status_code=401)
    throttle.succeeded(account, address)
    issued = accounts.create_key(session, user, body.name)
    return {"id": issued.key.id, "name": issued.key.name, "key": issued.secret,
            "note": "shown once; only its hash is kept"}


@router.get("/keys")
def list_keys(key: ApiKeyDep, session: SessionDep) -> list[dict[str, Any]]:
    """The calling key owner's keys (never the keys themselves)."""
    return [{"id": k.id, "name": k.name, "prefix": k.prefix, "created_at": k.created_at,
             "revoked_at": k.revoked_at} for k in accounts.keys_of(session, key.user)]


@router.delete("/keys/{key_id}", status_code=204)
def revoke_key(key_id: int, key: ApiKeyDep, session: SessionDep) -> Response:
    accounts.revoke_key(session, key.user, key_id)
    return Response(status_code=204)


def _dataset_body(dataset: datasets.Dataset, request: Request) -> dict[str, Any]:
    base = str(request.base_url).rstrip("/")
    return {
        "code": dataset.code, "slug": dataset.slug, "name": dataset.name,
        "summary": dataset.entry.summary, "provider": dataset.provider.code,
        "provider_name": dataset.provider.name, "theme": dataset.theme.code,
        "tags": list(dataset.entry.tags or []), "open_kind": dataset.open_kind,
        "update_cycle": dataset.entry.update_cycle.value,
        "modified": dataset.entry.updated_at.isoformat(),
        "licence": licence_for(dataset.open_kind).id,
        "rows_url": f"{base}/open/v1/datasets/{dataset.slug}/rows" if dataset.has_data else None,
        "downloads": {f.extension: f"{base}/dataset/{dataset.slug}/download.{f.extension}"
                      for f in dataset.formats},
    }


@router.get("/datasets")
def list_datasets(request: Request, session: SessionDep, q: str = "",
                  limit: Annotated[int, Query(ge=0, le=datasets.MAX_LIMIT)] = 20,
                  offset: Annotated[int, Query(ge=0)] = 0) -> dict[str, Any]:
    """Open datasets, searched in Chinese or English (public, no key)."""
    found = datasets.search_datasets(session, query=q, offset=offset, limit=limit)
    return {"total": found.total, "datasets": [_dataset_body(d, request)
                                                for d in found.datasets]}


@router.get("/datasets/{slug}")
def get_dataset(request: Request, slug: str, session: SessionDep, warehouse: WarehouseDep
                ) -> dict[str, Any]:
    found = datasets.get_dataset(session, slug)
    body = _dataset_body(found, request)
    body["columns"] = [{"name": item.column, "label": item.name, "type": item.data_type,
                        "treatment": item.treatment}
                       for item in datasets.items(session, warehouse, found)
                       if item.column and item.treatment != "withheld"]
    return body


@router.get("/datasets/{slug}/rows", response_model=None)
@router.get("/datasets/{slug}/rows.{extension}", response_model=None)
def get_rows(request: Request, slug: str, key: ApiKeyDep, session: SessionDep,
             warehouse: WarehouseDep, extension: str = "json") -> Response:
    """Rows of the de-identified public view. Query parameters: `$select=a,b`,
    `$where=a > 10 and b like '临沂%'`, `$order=a desc`, `$limit` (≤ 50,000, default 1,000),
    `$offset`; `rows.csv` for CSV (UTF-8 with BOM)."""
    if extension not in ("json", "csv"):
        raise NotFound(f"rows come as json or csv, not {extension!r}")
    found = datasets.get_dataset(session, slug)
    applications.check_read(session, found, key.user)
    view = datasets.public_view(session, warehouse, found)
    if view is None or view.sql is None:
        raise NotFound(f"dataset {found.code} has no rows the public may read")
    params = request.query_params
    unknown = sorted(k for k in params if k.startswith("$") and k not in (
        "$select", "$where", "$order", "$limit", "$offset", "$$app_token"))
    if unknown:
        raise UserError(f"unknown parameter {unknown[0]}; parameters: $select, $where, "
                        "$order, $limit, $offset")
    query = rows.build(view, select=params.get("$select"), where=params.get("$where"),
                       order=params.get("$order"), limit=params.get("$limit"),
                       offset=params.get("$offset"))
    counter(request).record(found.code, found.provider.code, "api")
    writer = downloads.writer_for(extension)
    sql, values = query.sql, query.params

    batches = downloads.started(warehouse.query_batches(sql, values))

    def body() -> Iterator[bytes]:
        yield from writer.write(query.columns, batches)

    return StreamingResponse(body(), media_type=downloads.media_type(writer),
                             headers={"Cache-Control": "no-store"})
