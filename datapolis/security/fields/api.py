"""JSON API of field encryption under /api/security: protected columns and the field keyring.

Protecting, unprotecting and rekeying rewrite rows and run inside the request: fine for the
tables a county keeps; for very large ones prefer the CLI, which shows progress."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel
from sqlalchemy.orm import Session

from datapolis.config import Settings
from datapolis.ingest.service import secrets_keyring
from datapolis.orgs.deps import Principal, SessionDep, requires
from datapolis.orgs.permissions import Permission
from datapolis.registry.db import Registry
from datapolis.security.crypto import Keyring
from datapolis.security.fields import keys, service
from datapolis.warehouse.deps import WarehouseDep

router = APIRouter(prefix="/api/security", tags=["security"])
Admin = Annotated[Principal, Depends(requires(Permission.MANAGE_FIELD_ENCRYPTION))]


class ProtectRequest(BaseModel):
    table: str
    column: str
    family: str | None = None


class ProtectionPublic(BaseModel):
    table: str
    column: str
    family: str
    state: str
    since: datetime
    by: str
    rows_encrypted: int


class KeyPublic(BaseModel):
    key_id: str
    state: str
    created_at: datetime
    created_by: str
    retired_at: datetime | None
    values: int  # ciphertexts in the warehouse that name this key


class Rewritten(BaseModel):
    table: str
    rows: int


def master_keyring(request: Request) -> Keyring:
    settings: Settings = request.app.state.settings
    return secrets_keyring(settings)


def _registry(request: Request, session: Session) -> Registry:
    # Long operations commit in their own units of work; the request's session lets go of
    # SQLite's write lock first (it may have touched the caller's token).
    session.commit()
    registry: Registry = request.app.state.registry
    return registry


def _public(p: service.Protection) -> ProtectionPublic:
    return ProtectionPublic(table=p.table, column=p.column, family=p.family, state=p.state,
                            since=p.since, by=p.by, rows_encrypted=p.rows_encrypted)


@router.get("/fields")
def list_protected(session: SessionDep, _: Admin, table: str | None = None
                   ) -> list[ProtectionPublic]:
    return [_public(p) for p in service.protections(session, table)]


@router.post("/fields", status_code=201)
def protect(request: Request, body: ProtectRequest, session: SessionDep, warehouse: WarehouseDep,
            principal: Admin) -> ProtectionPublic:
    """Designate a column and encrypt what it holds (again after an interruption: resumes)."""
    done = service.protect(_registry(request, session), warehouse, master_keyring(request),
                           table=body.table, column=body.column, family=body.family,
                           actor=principal.name, org=principal.org.code)
    return _public(done)


@router.delete("/fields/{table}/{column}")
def unprotect(request: Request, table: str, column: str, session: SessionDep,
              warehouse: WarehouseDep, principal: Admin) -> Rewritten:
    done = service.unprotect(_registry(request, session), warehouse, master_keyring(request),
                             table=table, column=column, actor=principal.name,
                             org=principal.org.code)
    return Rewritten(table=table, rows=done)


@router.post("/fields/{table}/rekey")
def rekey(request: Request, table: str, session: SessionDep, warehouse: WarehouseDep,
          principal: Admin) -> Rewritten:
    """Re-encrypt the table's values made with older keys under the current key."""
    done = service.rekey(_registry(request, session), warehouse, master_keyring(request),
                         table=table, actor=principal.name, org=principal.org.code)
    return Rewritten(table=table, rows=done)


def key_list(session: Session, warehouse: WarehouseDep) -> list[KeyPublic]:
    usage = service.key_usage(session, warehouse)
    return [KeyPublic(key_id=k.key_id, state=k.state, created_at=k.created_at,
                      created_by=k.created_by, retired_at=k.retired_at,
                      values=sum(usage.get(k.key_id, {}).values()))
            for k in keys.keys(session)]


@router.get("/field-keys")
def list_keys(session: SessionDep, warehouse: WarehouseDep, _: Admin) -> list[KeyPublic]:
    return key_list(session, warehouse)


@router.post("/field-keys/rotate", status_code=201)
def rotate(request: Request, session: SessionDep, warehouse: WarehouseDep, principal: Admin
           ) -> list[KeyPublic]:
    """A new current key; the keyring afterwards."""
    service.rotate_key(session, master_keyring(request), actor=principal.name,
                       org=principal.org.code)
    return key_list(session, warehouse)


@router.post("/field-keys/{key_id}/retire")
def retire(key_id: str, session: SessionDep, warehouse: WarehouseDep, principal: Admin
           ) -> list[KeyPublic]:
    """Destroy a rotated-away key: 409 while any value still uses it."""
    service.retire_key(session, warehouse, key_id, actor=principal.name, org=principal.org.code)
    return key_list(session, warehouse)
