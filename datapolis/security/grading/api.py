"""JSON API of classification and grading, under /api/security: the scheme and field grades.

Everyone who reads the catalog reads the scheme and the grades of the entries they see; the
bureau (`security.scheme`) edits the scheme; `security.grade` confirms grades and assigns the
category of an entry of the caller's own organisation (the bureau's reviewers: any entry).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from datapolis.catalog import service as catalog_service
from datapolis.catalog.access import actor_of, check_changes, check_visible, own_provider_ids
from datapolis.catalog.models import CatalogEntry
from datapolis.orgs.deps import Principal, SessionDep, requires
from datapolis.orgs.permissions import Permission
from datapolis.security.grading import scheme, service

router = APIRouter(prefix="/api/security", tags=["security"])
Reader = Annotated[Principal, Depends(requires(Permission.READ_CATALOG))]
Grader = Annotated[Principal, Depends(requires(Permission.GRADE_FIELDS))]
SchemeAdmin = Annotated[Principal, Depends(requires(Permission.MANAGE_SCHEME))]


class ItemGradePublic(BaseModel):
    item: str
    column_name: str | None
    suggested_kind: str
    suggested_grade: str
    confidence: float
    reasons: list[str]
    grade: str | None = Field(description="The confirmed grade; null until a person confirms.")
    confirmed_by: str | None
    confirmed_at: datetime | None


class EntryGradingPublic(BaseModel):
    resource_code: str
    grade: str | None = Field(description="The table's grade: its highest confirmed field grade.")
    provisional_grade: str | None
    unconfirmed: int
    category: str | None
    sector: str | None
    items: list[ItemGradePublic]

    @classmethod
    def of(cls, grading: service.EntryGrading) -> EntryGradingPublic:
        business = grading.category.category if grading.category else None
        return cls(
            resource_code=grading.entry.resource_code, grade=grading.grade,
            provisional_grade=grading.provisional_grade, unconfirmed=grading.unconfirmed,
            category=business.code if business else None,
            sector=business.parent.code if business and business.parent else None,
            items=[ItemGradePublic(
                item=i.item.name, column_name=i.item.column_name,
                suggested_kind=i.suggestion.kind, suggested_grade=i.suggestion.grade,
                confidence=i.suggestion.confidence, reasons=list(i.suggestion.reasons),
                grade=i.grade, confirmed_by=i.stored.confirmed_by if i.stored else None,
                confirmed_at=i.stored.confirmed_at if i.stored else None)
                for i in grading.items])


class Decisions(BaseModel):
    grades: dict[str, str | None] = Field(
        default_factory=dict,
        description="Item name → grade (core, important, L1–L4); null takes the suggestion.")
    all: bool = Field(False, description="Confirm the suggestion of every unconfirmed item.")


class CategoryChoice(BaseModel):
    business: str = Field(description="The code of a business of the scheme.")


class CategoryInput(BaseModel):
    code: str
    name: str
    name_en: str | None = None
    parent: str | None = Field(None, description="A sector's code; none for a new sector.")


class ImportResult(BaseModel):
    added: list[str]
    updated: list[str]
    removed: list[str]


def _visible(session: Session, principal: Principal, code: str) -> CatalogEntry:
    entry = catalog_service.get_entry(session, code)
    check_visible(session, principal, entry)
    return entry


def _changeable(session: Session, principal: Principal, code: str) -> CatalogEntry:
    entry = catalog_service.get_entry(session, code)
    check_changes(session, principal, entry)
    return entry


@router.get("/scheme")
def get_scheme(session: SessionDep, _: Reader) -> dict[str, Any]:
    """The classification scheme as an import document: sectors with their businesses."""
    return scheme.export_scheme(session)


@router.put("/scheme")
def put_scheme(session: SessionDep, principal: SchemeAdmin,
               document: Annotated[dict[str, Any], Body()], replace: bool = False
               ) -> ImportResult:
    """Import a scheme: categories are added or renamed by code; with `replace`, those the
    document leaves out are removed (never one an entry is assigned to)."""
    report = scheme.import_scheme(session, document, actor=principal.name, replace=replace)
    return ImportResult(added=report.added, updated=report.updated, removed=report.removed)


@router.post("/scheme/categories")
def save_category(session: SessionDep, principal: SchemeAdmin,
                  given: CategoryInput) -> dict[str, Any]:
    """Add a sector (no parent) or a business, or rename one."""
    saved = scheme.save_category(session, code=given.code, name=given.name,
                                 name_en=given.name_en, parent_code=given.parent,
                                 actor=principal.name)
    return {"code": saved.code, "name": saved.name, "name_en": saved.name_en,
            "parent": saved.parent.code if saved.parent else None}


@router.delete("/scheme/categories/{category}", status_code=204)
def remove_category(category: str, session: SessionDep, principal: SchemeAdmin) -> None:
    scheme.remove_category(session, code=category, actor=principal.name)


@router.get("/grading/entries/{code:path}")
def entry_grading(code: str, session: SessionDep, principal: Reader) -> EntryGradingPublic:
    """An entry's field grades: suggestion, confirmed grade with who and when, table grade."""
    return EntryGradingPublic.of(service.entry_grading(session, _visible(session, principal,
                                                                          code)))


@router.post("/grading/entries/{code:path}/confirm")
def confirm(code: str, session: SessionDep, principal: Grader,
            decisions: Decisions) -> EntryGradingPublic:
    """Confirm or change field grades of an entry of your organisation."""
    entry = _changeable(session, principal, code)
    chosen = dict(decisions.grades)
    if decisions.all:  # the suggestion for every other item not confirmed yet
        for row in service.entry_grading(session, entry).items:
            if not row.confirmed:
                chosen.setdefault(row.item.name, None)
    if chosen:
        service.confirm(session, entry, chosen, actor_of(principal))
    return EntryGradingPublic.of(service.entry_grading(session, entry))


@router.put("/grading/entries/{code:path}/category")
def assign_category(code: str, session: SessionDep, principal: Grader,
                    choice: CategoryChoice) -> EntryGradingPublic:
    entry = _changeable(session, principal, code)
    service.assign_category(session, entry, choice.business, actor_of(principal))
    return EntryGradingPublic.of(service.entry_grading(session, entry))


@router.get("/grading/progress")
def progress(session: SessionDep, principal: Reader) -> list[dict[str, Any]]:
    """Per organisation: entries, items, and items whose grade is not confirmed yet."""
    scope = own_provider_ids(session, principal)
    return [asdict(row) for row in service.progress_by_org(session, scope)]
