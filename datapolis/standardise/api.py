"""JSON API of standardisation and governance builds, under /api/governance."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from datapolis.errors import UserError
from datapolis.ingest.service import secrets_keyring
from datapolis.orgs.deps import Principal, SessionDep, requires
from datapolis.orgs.permissions import Permission
from datapolis.registry.db import Registry
from datapolis.standardise import build as std_build
from datapolis.standardise import stored
from datapolis.standardise.spec import get_spec
from datapolis.warehouse.deps import WarehouseDep

router = APIRouter(prefix="/api/governance", tags=["governance"])
Reader = Annotated[Principal, Depends(requires(Permission.READ_QUALITY))]
Builder = Annotated[Principal, Depends(requires(Permission.MANAGE_GOVERNANCE))]


class SpecPublic(BaseModel):
    table: str
    origin: str = Field(description="shipped, home (<home>/standardise) or registry (edited)")
    title: str
    sources: list[str]
    pk: str
    columns: dict[str, list[str]]
    dedupe_key: list[str]


class BuildRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    names: list[str] = Field([], description="std tables (gaj_czrk) or base libraries (person)")
    all: bool = Field(False, description="Every spec (std) or every library (base).")


class BuildPublic(BaseModel):
    id: int
    layer: str
    table: str
    trigger: str
    actor: str | None
    status: str
    started_at: datetime
    finished_at: datetime | None
    seconds: float | None
    rows_in: int | None
    rows_out: int | None
    rows_changed: int | None
    details: dict[str, Any]
    error: str | None


def registry_of(request: Request) -> Registry:
    registry: Registry = request.app.state.registry
    return registry


@router.get("/std/specs")
def list_specs(request: Request, session: SessionDep, _: Reader) -> list[SpecPublic]:
    """The standardisation specs: shipped, the operator's (<home>/standardise) and those
    edited through this API (the registry's), each replacing the one before."""
    home = request.app.state.settings.home
    where = stored.origins(session, home)
    return [SpecPublic(table=s.table, origin=where.get(s.target, "shipped"), title=s.title,
                       sources=list(s.sources), pk=s.pk,
                       columns={c: [step.label for step in steps]
                                for c, steps in s.columns.items()},
                       dedupe_key=list(s.dedupe.key) if s.dedupe else [])
            for s in stored.effective_specs(session, home).values()]


@router.get("/std/specs/{target}")
def get_spec_document(request: Request, target: str, session: SessionDep, _: Reader,
                      response: Response) -> dict[str, Any]:
    """One spec as its JSON document, ready to edit and PUT back. `X-Spec-Origin` says where
    it comes from: shipped, home or registry."""
    found = stored.document(session, request.app.state.settings.home, target)
    response.headers["X-Spec-Origin"] = found.origin
    return found.body


@router.put("/std/specs/{target}")
def put_spec(request: Request, target: str, session: SessionDep, warehouse: WarehouseDep,
             who: Builder, body: Annotated[dict[str, Any], Body()]) -> SpecPublic:
    """Store a spec (validated whole first: shape, transforms and their arguments, code
    tables, and the columns of its sources when they have landed; 422 says where it is
    wrong and nothing is stored). It takes effect at the next build."""
    spec = stored.save(session, body, target, actor=who.name,
                       code_tables=std_build.load_code_tables(session), warehouse=warehouse)
    return SpecPublic(table=spec.table, origin="registry", title=spec.title,
                      sources=list(spec.sources), pk=spec.pk,
                      columns={c: [step.label for step in steps]
                               for c, steps in spec.columns.items()},
                      dedupe_key=list(spec.dedupe.key) if spec.dedupe else [])


@router.delete("/std/specs/{target}", status_code=204)
def reset_spec(target: str, session: SessionDep, _: Builder) -> Response:
    """Drop the edited spec: the shipped (or the operator's) file applies again."""
    stored.reset(session, target)
    return Response(status_code=204)


@router.post("/std/build")
def build_std(request: Request, body: BuildRequest, session: SessionDep,
              warehouse: WarehouseDep, who: Builder) -> list[BuildPublic]:
    """Rebuild std tables now (each atomic); a failure answers 400 and keeps the old table."""
    if not body.names and not body.all:
        raise UserError("name std tables or set all to true")
    settings = request.app.state.settings
    specs = stored.effective_specs(session, settings.home)
    todo = list(specs.values()) if body.all else [get_spec(specs, n) for n in body.names]
    registry = registry_of(request)
    codes = std_build.load_code_tables(session)
    # Builds record themselves in their own units of work; SQLite has one writer, so the
    # request's (the sign-in bookkeeping) commits first.
    session.commit()
    ids = [std_build.build(registry, warehouse, spec, trigger="api", code_tables=codes,
                           keyring=secrets_keyring(settings), actor=who.name).build_id
           for spec in todo]
    return recorded(registry, ids)


def recorded(registry: Registry, ids: list[int]) -> list[BuildPublic]:
    with registry.session() as session:
        found = {b.id: b for b in std_build.history(session, limit=10_000) if b.id in ids}
        return [public(found[i]) for i in ids]


def public(b: Any) -> BuildPublic:
    return BuildPublic(id=b.id, layer=b.layer, table=b.warehouse_table, trigger=b.trigger,
                       actor=b.actor, status=b.status, started_at=b.started_at,
                       finished_at=b.finished_at,
                       seconds=b.seconds, rows_in=b.rows_in, rows_out=b.rows_out,
                       rows_changed=b.rows_changed, details=b.details, error=b.error)


@router.get("/builds")
def builds(session: SessionDep, _: Reader,
           table: Annotated[str | None, Query(description="std.x or base.x")] = None,
           limit: Annotated[int, Query(ge=1, le=500)] = 50) -> list[BuildPublic]:
    """Recent std and base builds with rows in, out and changed (per transform for std)."""
    return [public(b) for b in std_build.history(session, table, limit)]
