"""JSON API of the catalog under /api/catalog: entries, lifecycle, versions, standards.

Resource codes contain a slash (前段码/后段码), so entry routes take `{code:path}`; routes
with a suffix are declared before the bare entry route so that they match first.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status
from sqlalchemy.orm import Session

from datapolis.catalog import lists_api, mapping, service, standards
from datapolis.catalog.access import (
    actor_of,
    check_changes,
    check_provider,
    check_visible,
    own_provider_ids,
)
from datapolis.catalog.demands import api as demands_api
from datapolis.catalog.enums import CatalogType, EntryStatus
from datapolis.catalog.lifecycle import TRANSITIONS, Action
from datapolis.catalog.models import CatalogEntry
from datapolis.catalog.rules import api as rules_api
from datapolis.catalog.schemas import (
    Classification,
    CodeTablePublic,
    CodeTableSummary,
    Comment,
    DiffPublic,
    ElementPublic,
    EntryCreate,
    EntryPublic,
    EntrySummary,
    EntryUpdate,
    FieldChangePublic,
    ItemChangePublic,
    ItemPublic,
    MappingConfirm,
    ReasonPublic,
    SuggestionPublic,
    SuggestRequest,
    VersionPublic,
    VersionWithSnapshot,
)
from datapolis.catalog.search import api as search_api
from datapolis.catalog.versions import Diff, diff_versions, get_version, list_versions
from datapolis.orgs import service as orgs_service
from datapolis.orgs.deps import Principal, SessionDep, requires
from datapolis.orgs.permissions import Permission
from datapolis.security.audit import service as audit

router = APIRouter(prefix="/api/catalog", tags=["catalog"])
router.include_router(search_api.router)  # GET /api/catalog/search
router.include_router(rules_api.router)  # normalisation rules and their report
router.include_router(lists_api.router)  # lists and bulk import
router.include_router(demands_api.router)  # supply–demand docking

Reader = Annotated[Principal, Depends(requires(Permission.READ_CATALOG))]
Editor = Annotated[Principal, Depends(requires(Permission.EDIT_CATALOG))]
Submitter = Annotated[Principal, Depends(requires(Permission.SUBMIT_CATALOG))]
Reviewer = Annotated[Principal, Depends(requires(Permission.REVIEW_CATALOG))]


def visible_entry(session: Session, principal: Principal, code: str) -> CatalogEntry:
    entry = service.get_entry(session, code)
    check_visible(session, principal, entry)
    return entry


def diff_public(diff: Diff) -> DiffPublic:
    return DiffPublic(
        from_version=diff.from_version, to_version=diff.to_version,
        fields=[FieldChangePublic(field=c.field, old=c.old, new=c.new) for c in diff.fields],
        items=[ItemChangePublic(
            name=i.name, change=i.change,
            fields=[FieldChangePublic(field=c.field, old=c.old, new=c.new) for c in i.fields],
        ) for i in diff.items],
    )


def suggestions_public(found: list[mapping.Suggestion]) -> list[SuggestionPublic]:
    return [SuggestionPublic(
        element_code=s.element.code, element_name=s.element.name, score=s.score,
        reasons=[ReasonPublic(kind=r.kind, detail=r.detail, score=r.score) for r in s.reasons],
    ) for s in found]


# --- standards -----------------------------------------------------------------------------


@router.get("/code-tables")
def list_code_tables(session: SessionDep, _: Reader) -> list[CodeTableSummary]:
    return [CodeTableSummary(code=t.code, name=t.name, english_name=t.english_name,
                             standard=t.standard, description=t.description, value_count=n)
            for t, n in standards.list_code_tables(session)]


@router.get("/code-tables/{table_code}")
def get_code_table(table_code: str, session: SessionDep, _: Reader) -> CodeTablePublic:
    return CodeTablePublic.of(standards.get_code_table(session, table_code))


@router.get("/elements")
def list_elements(session: SessionDep, _: Reader) -> list[ElementPublic]:
    return [ElementPublic.of(element) for element in standards.list_elements(session)]


@router.get("/elements/{element_code}")
def get_element(element_code: str, session: SessionDep, _: Reader) -> ElementPublic:
    return ElementPublic.of(standards.get_element(session, element_code))


@router.post("/suggest")
def suggest(body: SuggestRequest, session: SessionDep, _: Reader) -> list[SuggestionPublic]:
    """Data elements an information item could map to, best first, with reasons."""
    return suggestions_public(mapping.suggest_elements(
        session, name=body.name, column_name=body.column_name, samples=body.samples
    ))


# --- entries -------------------------------------------------------------------------------


@router.get("/entries")
def list_entries(
    session: SessionDep,
    principal: Reader,
    provider: Annotated[str | None, Query(description="Provider organisation code")] = None,
    entry_status: Annotated[EntryStatus | None, Query(alias="status")] = None,
    catalog_type: Annotated[CatalogType | None, Query(alias="type")] = None,
) -> list[EntrySummary]:
    entries = service.list_entries(
        session, provider_ids=own_provider_ids(session, principal),
        provider=orgs_service.get_organisation(session, provider) if provider else None,
        status=entry_status, catalog_type=catalog_type,
    )
    return [EntrySummary.of(entry) for entry in entries]


@router.get("/export")
def export_entries(session: SessionDep, principal: Reader) -> list[EntryPublic]:
    """Every entry the caller can see, with its items, as JSON."""
    entries = service.list_entries(session, provider_ids=own_provider_ids(session, principal))
    audit.record(session, kind="export.catalog", details={"format": "json",
                                                          "entries": len(entries)})
    return [EntryPublic.of(entry) for entry in entries]


@router.post("/entries", status_code=status.HTTP_201_CREATED)
def create_entry(body: EntryCreate, session: SessionDep, principal: Editor) -> EntryPublic:
    provider = (orgs_service.get_organisation(session, body.provider_code)
                if body.provider_code else principal.org)
    check_provider(session, principal, provider)
    entry = service.create_entry(session, data=body, provider=provider,
                                 actor=actor_of(principal))
    return EntryPublic.of(entry)


@router.get("/entries/{code:path}/versions")
def entry_versions(code: str, session: SessionDep, principal: Reader) -> list[VersionPublic]:
    entry = visible_entry(session, principal, code)
    return [VersionPublic.of(version) for version in list_versions(session, entry)]


@router.get("/entries/{code:path}/versions/{number}")
def entry_version(
    code: str, number: int, session: SessionDep, principal: Reader
) -> VersionWithSnapshot:
    version = get_version(session, visible_entry(session, principal, code), number)
    return VersionWithSnapshot(**VersionPublic.of(version).model_dump(),
                               snapshot=version.snapshot)


@router.get("/entries/{code:path}/diff")
def entry_diff(
    code: str,
    session: SessionDep,
    principal: Reader,
    from_version: Annotated[int, Query(alias="from")],
    to_version: Annotated[int, Query(alias="to")],
) -> DiffPublic:
    entry = visible_entry(session, principal, code)
    return diff_public(diff_versions(session, entry, from_version, to_version))


@router.get("/entries/{code:path}/suggestions")
def entry_suggestions(
    code: str, session: SessionDep, principal: Reader
) -> dict[str, list[SuggestionPublic]]:
    """Suggested data elements for each item of the entry, by item name."""
    entry = visible_entry(session, principal, code)
    return {item.name: suggestions_public(mapping.suggest_elements(
        session, name=item.name, column_name=item.column_name, limit=3
    )) for item in entry.items}


@router.post("/entries/{code:path}/mappings")
def confirm_mapping(
    code: str, body: MappingConfirm, session: SessionDep, principal: Editor
) -> ItemPublic:
    entry = service.get_entry(session, code)
    check_changes(session, principal, entry)
    item = service.confirm_mapping(session, entry=entry, item_name=body.item,
                                   element_code=body.element_code, actor=actor_of(principal))
    return ItemPublic.of(item)


@router.post("/entries/{code:path}/reclassify")
def reclassify_entry(
    code: str, body: Classification, session: SessionDep, principal: Editor
) -> EntryPublic:
    """Classify a draft that was never published; it gets a new resource code."""
    entry = service.get_entry(session, code)
    check_changes(session, principal, entry)
    service.reclassify(session, entry=entry, catalog_type=body.catalog_type,
                       subject=body.subject, heading=body.heading, subheading=body.subheading,
                       actor=actor_of(principal))
    return EntryPublic.of(entry)


def _transition(
    session: Session, principal: Principal, code: str, action: Action, body: Comment | None
) -> EntryPublic:
    entry = service.get_entry(session, code)
    check_changes(session, principal, entry)
    service.transition(session, entry=entry, action=action, actor=actor_of(principal),
                       comment=body.comment if body else None)
    return EntryPublic.of(entry)


@router.post("/entries/{code:path}/submit")
def submit_entry(
    code: str, session: SessionDep, principal: Submitter, body: Comment | None = None
) -> EntryPublic:
    return _transition(session, principal, code, Action.SUBMIT, body)


@router.post("/entries/{code:path}/approve")
def approve_entry(
    code: str, session: SessionDep, principal: Reviewer, body: Comment | None = None
) -> EntryPublic:
    return _transition(session, principal, code, Action.APPROVE, body)


@router.post("/entries/{code:path}/reject")
def reject_entry(
    code: str, session: SessionDep, principal: Reviewer, body: Comment | None = None
) -> EntryPublic:
    """Send an entry back to its provider; the comment says why and is required."""
    return _transition(session, principal, code, Action.REJECT, body)


@router.post("/entries/{code:path}/publish")
def publish_entry(
    code: str, session: SessionDep, principal: Reviewer, body: Comment | None = None
) -> EntryPublic:
    return _transition(session, principal, code, Action.PUBLISH, body)


@router.post("/entries/{code:path}/retire")
def retire_entry(
    code: str, session: SessionDep, principal: Reviewer, body: Comment | None = None
) -> EntryPublic:
    return _transition(session, principal, code, Action.RETIRE, body)


@router.post("/entries/{code:path}/reopen")
def reopen_entry(
    code: str, session: SessionDep, principal: Editor, body: Comment | None = None
) -> EntryPublic:
    return _transition(session, principal, code, Action.REOPEN, body)


@router.get("/entries/{code:path}")
def get_entry(code: str, session: SessionDep, principal: Reader) -> EntryPublic:
    return EntryPublic.of(visible_entry(session, principal, code))


@router.put("/entries/{code:path}")
def update_entry(
    code: str, body: EntryUpdate, session: SessionDep, principal: Editor
) -> EntryPublic:
    entry = service.get_entry(session, code)
    check_changes(session, principal, entry)
    service.update_entry(session, entry=entry, data=body, actor=actor_of(principal))
    return EntryPublic.of(entry)


assert set(TRANSITIONS) == set(Action)  # every action has its route above
