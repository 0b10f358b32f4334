"""JSON API of the base libraries, under /api/governance/base."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session

from datapolis.baselib import service
from datapolis.baselib.libraries import LIBRARIES, get_library
from datapolis.errors import UserError
from datapolis.ingest.service import secrets_keyring
from datapolis.orgs import service as orgs_service
from datapolis.orgs.deps import Principal, SessionDep, requires
from datapolis.orgs.permissions import Permission
from datapolis.standardise import stored
from datapolis.standardise.api import BuildPublic, BuildRequest, recorded, registry_of
from datapolis.warehouse.deps import WarehouseDep

router = APIRouter(prefix="/api/governance/base", tags=["governance"])
Reader = Annotated[Principal, Depends(requires(Permission.READ_QUALITY))]
Builder = Annotated[Principal, Depends(requires(Permission.MANAGE_GOVERNANCE))]


@router.post("/build")
def build_base(request: Request, body: BuildRequest, session: SessionDep,
               warehouse: WarehouseDep, who: Builder) -> list[BuildPublic]:
    """Merge base libraries now (each atomic, with provenance and conflicts)."""
    if not body.names and not body.all:
        raise UserError("name base libraries or set all to true")
    todo = list(LIBRARIES.values()) if body.all else [get_library(n) for n in body.names]
    registry = registry_of(request)
    keyring = secrets_keyring(request.app.state.settings)
    session.commit()  # one SQLite writer: the builds record in their own units of work
    ids = [service.build(registry, warehouse, lib, trigger="api", keyring=keyring,
                         actor=who.name).build_id for lib in todo]
    return recorded(registry, ids)


@router.get("/conflicts")
def conflicts(
    request: Request, session: SessionDep, warehouse: WarehouseDep, principal: Reader,
    library: Annotated[str | None, Query()] = None,
    field: Annotated[str | None, Query()] = None,
    source: Annotated[str | None, Query(description="a std table, e.g. std.swjt_yhda")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 500,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[service.SourceConflict]:
    """Values two sources disagree on. A department sees the conflicts its own std tables
    (those built from its ods schemas) take part in; the bureau sees all. The department's
    filter applies before `limit`, so its page is full when it has that many."""
    return service.conflicts(warehouse, library=library, field=field, source=source,
                             sources=visible_tables(request, session, principal),
                             limit=limit, offset=offset)


def visible_tables(request: Request, session: Session, principal: Principal
                   ) -> set[str] | None:
    """The std tables whose conflicts `principal` may see; None: all (the bureau)."""
    if principal.can(Permission.MANAGE_GOVERNANCE):
        return None
    below = orgs_service.descendant_ids(session, principal.org)
    codes = [o.code for o in orgs_service.list_organisations(session) if o.id in below]
    specs = stored.effective_specs(session, request.app.state.settings.home)
    return service.department_tables(specs, codes)
