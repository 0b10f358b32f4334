"""JSON API of table profiles and auto-registration, under /api/catalog."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from datapolis.catalog import autoregister, profiles
from datapolis.catalog.access import check_visible, own_provider_ids
from datapolis.catalog.models import CatalogEntry
from datapolis.errors import NotFound, UserError
from datapolis.ingest.service import secrets_keyring
from datapolis.orgs.deps import Principal, SessionDep, requires
from datapolis.orgs.permissions import Permission
from datapolis.warehouse.deps import WarehouseDep

router = APIRouter(prefix="/api/catalog", tags=["catalog"])
Reader = Annotated[Principal, Depends(requires(Permission.READ_CATALOG))]
Reviewer = Annotated[Principal, Depends(requires(Permission.REVIEW_CATALOG))]


class ColumnProfilePublic(BaseModel):
    column: str
    data_type: str
    present: int
    null_share: float
    distinct: int | None
    distinct_exact: bool
    min: str | None
    max: str | None
    min_length: int | None
    max_length: int | None
    top_values: list[tuple[str, int]]
    patterns: dict[str, int]
    masked: bool = Field(description="Identifying values (IDs, phones, e-mail) shown masked.")
    suggestions: list[dict[str, Any]]


class TableProfilePublic(BaseModel):
    table: str
    rows: int
    storage_bytes: int | None
    profiled_at: datetime
    counted_at: datetime
    seconds: float
    resource_codes: list[str]
    columns: list[ColumnProfilePublic]

    @classmethod
    def of(cls, profile: profiles.TableProfile, codes: list[str]) -> TableProfilePublic:
        return cls(
            table=profile.warehouse_table, rows=profile.row_count,
            storage_bytes=profile.storage_bytes, profiled_at=profile.profiled_at,
            counted_at=profile.counted_at, seconds=profile.seconds, resource_codes=codes,
            columns=[ColumnProfilePublic(
                column=c.column_name, data_type=c.data_type, present=c.present,
                null_share=round(c.null_share(), 6), distinct=c.distinct_count,
                distinct_exact=c.distinct_exact, min=c.min_value, max=c.max_value,
                min_length=c.min_length, max_length=c.max_length,
                top_values=[(str(v), int(n)) for v, n in c.top_values],
                patterns=dict(c.patterns), masked=c.masked, suggestions=list(c.suggestions),
            ) for c in profile.columns],
        )


class AutoregisterRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tables: list[str] = Field([], description="schema.table names; empty with all=true")
    all: bool = Field(False, description="Every table in ods_*, std and base.")


class RegisteredPublic(BaseModel):
    table: str
    resource_code: str | None
    created: bool
    profiled: bool
    added_items: list[str]
    skipped: str | None


@router.get("/profiles/{table}")
def table_profile(table: str, session: SessionDep, principal: Reader) -> TableProfilePublic:
    """The stored profile of a warehouse table, for those who can see an entry describing it."""
    entries = list(session.scalars(
        select(CatalogEntry).where(CatalogEntry.warehouse_table == table)))
    visible = []
    for entry in entries:
        try:
            check_visible(session, principal, entry)
        except NotFound:
            continue
        visible.append(entry.resource_code)
    profile = profiles.get_profile(session, table)
    if profile is None or (not visible and own_provider_ids(session, principal) is not None):
        raise NotFound(f"no profile of table {table!r}")
    return TableProfilePublic.of(profile, visible)


@router.post("/autoregister")
def autoregister_tables(
    request: Request, body: AutoregisterRequest, session: SessionDep, warehouse: WarehouseDep,
    _: Reviewer,
) -> list[RegisteredPublic]:
    """Register (once) and profile tables now: the named ones, or every ods_*/std/base table."""
    if not body.tables and not body.all:
        raise UserError("name tables or set all to true")
    keyring = secrets_keyring(request.app.state.settings)
    todo = autoregister.candidate_tables(warehouse) if body.all else body.tables
    missing = [t for t in todo if not warehouse.table_exists(t)]
    if missing:
        raise NotFound(f"no table {', '.join(missing)} in the warehouse")
    done = []
    for table in todo:  # in the request's unit of work: one registry writer (SQLite)
        measured = autoregister.measure(warehouse, table)
        if not isinstance(measured, autoregister.Registered):
            measured = autoregister.record(session, warehouse, measured, keyring=keyring)
        done.append(RegisteredPublic(**vars(measured)))
    return done
