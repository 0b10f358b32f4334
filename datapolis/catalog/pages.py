"""Pages of the catalog: entry list, detail with versions and diffs, edit form, review queue,
and the data standards (code tables, data elements).

Forms post plain HTML; a refusal renders the same page with the message and the real status.
Authorisation is the API's: the same permissions and the same object checks.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from datapolis.catalog import mapping, preview, profiles, search_page, service, standards
from datapolis.catalog.access import actor_of, check_changes, check_provider, own_provider_ids
from datapolis.catalog.api import visible_entry
from datapolis.catalog.enums import (
    LABELS,
    CatalogType,
    DataType,
    EntryStatus,
    FormatClass,
    ShareMethod,
    ShareType,
    UpdateCycle,
)
from datapolis.catalog.forms import entry_form, form_values
from datapolis.catalog.lifecycle import (
    ACTION_LABELS,
    EDITABLE,
    TRANSITIONS,
    Action,
    allowed_actions,
)
from datapolis.catalog.models import CatalogEntry
from datapolis.catalog.patterns import PATTERNS
from datapolis.catalog.rules import pages as rules_pages
from datapolis.catalog.rules.registry import SEVERITY_LABELS
from datapolis.catalog.schemas import EntryCreate, EntryUpdate
from datapolis.catalog.versions import diff_versions, list_versions
from datapolis.errors import UserError
from datapolis.orgs import service as orgs_service
from datapolis.orgs.deps import Principal, SessionDep, requires
from datapolis.orgs.permissions import Permission
from datapolis.security.audit import kinds as audit_kinds
from datapolis.security.grading import panel as grading_panel
from datapolis.warehouse.deps import get_warehouse
from datapolis.web.i18n import N_
from datapolis.web.nav import NavItem
from datapolis.web.render import render

router = APIRouter(include_in_schema=False)
NAV = [
    NavItem(N_("Catalog"), "/catalog", Permission.READ_CATALOG, icon="catalog"),
    NavItem(N_("Review queue"), "/review/catalog", Permission.REVIEW_CATALOG, icon="review"),
    NavItem(N_("Data standards"), "/standards", Permission.READ_CATALOG, icon="standards"),
    *rules_pages.NAV,
]
router.include_router(rules_pages.router)  # /catalog/rules: the normalisation report
Reader = Annotated[Principal, Depends(requires(Permission.READ_CATALOG))]
Editor = Annotated[Principal, Depends(requires(Permission.EDIT_CATALOG))]
Reviewer = Annotated[Principal, Depends(requires(Permission.REVIEW_CATALOG))]
ReaderForActions = Annotated[Principal, Depends(requires(Permission.READ_CATALOG))]

REASON_LABELS = {
    "name": N_("same name"), "synonym": N_("synonym"), "pinyin": N_("same pinyin"),
    "initials": N_("pinyin initials"), "sounds_alike": N_("sounds alike"),
    "contains": N_("contains the name"), "confirmed": N_("confirmed elsewhere"),
    "pattern": N_("values follow the pattern"), "code_table": N_("values in the code table"),
}

# What the diff calls each snapshot field (versions.snapshot).
FIELD_LABELS = {
    "resource_code": N_("Resource code"), "category": N_("Class"), "subject": N_("Subject"),
    "heading": N_("Heading"), "subheading": N_("Subheading"), "name": N_("Name"),
    "provider": N_("Provider"), "catalog_type": N_("Catalog type"), "summary": N_("Summary"),
    "format_class": N_("Format"), "format_detail": N_("Format detail"),
    "share_type": N_("Share type"), "share_conditions": N_("Share conditions"),
    "share_methods": N_("Share methods"), "open_to_public": N_("Open to the public"),
    "open_conditions": N_("Open conditions"), "update_cycle": N_("Update cycle"),
    "publish_date": N_("Publish date"), "related_codes": N_("Related resources"),
    "classified": N_("Classified"), "tags": N_("Tags"), "record_count": N_("Records"),
    "storage_bytes": N_("Storage (bytes)"), "warehouse_table": N_("Warehouse table"),
    "status": N_("Status"), "item_order": N_("Order of items"), "column_name": N_("Column"),
    "data_type": N_("Data type"), "length": N_("Length"), "description": N_("Description"),
    "security_grade": N_("Security grade"), "element": N_("Data element"),
}


TREATMENT_LABELS = {"masked": N_("masked"), "hidden": N_("not shown")}


def _audited_sample(
    request: Request, session: Session, entry: CatalogEntry
) -> preview.Sample | None:
    """The sample rows, recorded as a data access in summary: which columns, how many rows."""
    sample = preview.sample(get_warehouse(request), entry)
    if sample is not None and sample.rows:
        audit_kinds.data_previewed(
            session, entry=entry.resource_code, table=sample.table, rows=len(sample.rows),
            columns=[c.column for c in sample.columns
                     if c.column and c.treatment != "hidden" and not c.missing])
    return sample


def _vocab() -> dict[str, Any]:
    return {
        "labels": LABELS, "statuses": list(EntryStatus), "catalog_types": list(CatalogType),
        "share_types": list(ShareType), "share_methods": list(ShareMethod),
        "update_cycles": list(UpdateCycle), "format_classes": list(FormatClass),
        "data_types": list(DataType), "action_labels": ACTION_LABELS,
        "transitions": TRANSITIONS, "reason_labels": REASON_LABELS, "field_labels": FIELD_LABELS,
    }


def _failure(exc: Exception) -> tuple[str, int]:
    if isinstance(exc, UserError):
        return str(exc), exc.status_code
    assert isinstance(exc, HTTPException)
    return str(exc.detail), exc.status_code


# --- list ----------------------------------------------------------------------------------


@router.get("/catalog", response_class=HTMLResponse)
def entries_page(
    request: Request, session: SessionDep, principal: Reader,
    provider: str = "", status: str = "",
    kind: Annotated[str, Query(alias="type")] = "",
) -> HTMLResponse:
    visible = own_provider_ids(session, principal)
    chosen_status = EntryStatus(status) if status in set(EntryStatus) else None
    chosen_type = CatalogType(kind) if kind in set(CatalogType) else None
    provider_org = orgs_service.get_organisation(session, provider) if provider else None
    entries = service.list_entries(session, provider_ids=visible, provider=provider_org,
                                   status=chosen_status, catalog_type=chosen_type)
    providers = {entry.provider.code: entry.provider for entry in
                 service.list_entries(session, provider_ids=visible)}
    return render(request, "catalog/entries.html", {
        **_vocab(), "entries": entries,
        "providers": sorted(providers.values(), key=lambda org: org.code),
        "filters": {"provider": provider, "status": status, "type": kind},
        "can_edit": principal.can(Permission.EDIT_CATALOG),
        "search": search_page.search_view(request, session, principal)
        if search_page.wanted(request) else None,
    })


# --- create and edit -----------------------------------------------------------------------


def _editable_providers(session: Session, principal: Principal) -> list[Any]:
    scope = own_provider_ids(session, principal)
    orgs = orgs_service.list_organisations(session)
    return [org for org in orgs if scope is None or org.id in scope]


def _form_page(
    request: Request, session: SessionDep, principal: Principal, *, form: dict[str, Any],
    entry: CatalogEntry | None, error: str | None = None, status_code: int = 200,
) -> HTMLResponse:
    return render(request, "catalog/edit.html", {
        **_vocab(), "form": form, "entry": entry, "error": error,
        "providers": _editable_providers(session, principal),
        "elements": standards.list_elements(session),
    }, status_code=status_code)


@router.get("/catalog/new", response_class=HTMLResponse)
def new_entry_page(request: Request, session: SessionDep, principal: Editor) -> HTMLResponse:
    form = entry_form(None)
    form["provider_code"] = principal.org.code
    return _form_page(request, session, principal, form=form, entry=None)


@router.post("/catalog/new", response_class=HTMLResponse)
async def create_entry(request: Request, session: SessionDep, principal: Editor) -> Response:
    form = form_values(await request.form())
    try:
        data = EntryCreate.model_validate(form["data"] | form["classification"])
        provider = orgs_service.get_organisation(session, form["classification"]
                                                 ["provider_code"] or principal.org.code)
        check_provider(session, principal, provider)
        entry = service.create_entry(session, data=data, provider=provider,
                                     actor=actor_of(principal))
    except (UserError, HTTPException) as exc:
        session.rollback()
        message, code = _failure(exc)
        return _form_page(request, session, principal, form=form["raw"], entry=None,
                          error=message, status_code=code)
    except ValueError as exc:  # pydantic's ValidationError
        session.rollback()
        return _form_page(request, session, principal, form=form["raw"], entry=None,
                          error=_validation_message(exc), status_code=422)
    return RedirectResponse(f"/catalog/entries/{entry.resource_code}", status_code=303)


def _validation_message(exc: ValueError) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        parts = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errors()]
        return "; ".join(parts)
    return str(exc)


@router.get("/catalog/entries/{code:path}/edit", response_class=HTMLResponse)
def edit_entry_page(
    request: Request, code: str, session: SessionDep, principal: Editor
) -> HTMLResponse:
    entry = service.get_entry(session, code)
    check_changes(session, principal, entry)
    service.check_editable(entry)
    return _form_page(request, session, principal, form=entry_form(entry), entry=entry)


@router.post("/catalog/entries/{code:path}/edit", response_class=HTMLResponse)
async def update_entry(
    request: Request, code: str, session: SessionDep, principal: Editor
) -> Response:
    form = form_values(await request.form())
    entry = service.get_entry(session, code)
    check_changes(session, principal, entry)
    try:
        service.update_entry(session, entry=entry, data=EntryUpdate.model_validate(form["data"]),
                             actor=actor_of(principal))
    except UserError as exc:
        session.rollback()
        entry = service.get_entry(session, code)
        return _form_page(request, session, principal, form=form["raw"], entry=entry,
                          error=str(exc), status_code=exc.status_code)
    except ValueError as exc:
        session.rollback()
        entry = service.get_entry(session, code)
        return _form_page(request, session, principal, form=form["raw"], entry=entry,
                          error=_validation_message(exc), status_code=422)
    return RedirectResponse(f"/catalog/entries/{entry.resource_code}", status_code=303)


# --- lifecycle -----------------------------------------------------------------------------


@router.post("/catalog/entries/{code:path}/do/{action}", response_class=HTMLResponse)
async def entry_action(
    request: Request, code: str, action: str, session: SessionDep, principal: ReaderForActions
) -> Response:
    """One lifecycle step from a button on the entry page; the step's own permission applies."""
    if action not in set(Action):
        raise UserError(f"unknown action {action!r}")
    rule = TRANSITIONS[Action(action)]
    if not principal.can(rule.permission):
        raise HTTPException(403, f"permission {rule.permission.value} required")
    form = await request.form()
    comment = form.get("comment")
    entry = service.get_entry(session, code)
    check_changes(session, principal, entry)
    try:
        service.transition(session, entry=entry, action=Action(action),
                           actor=actor_of(principal),
                           comment=comment if isinstance(comment, str) else None)
    except UserError as exc:
        session.rollback()
        return _detail_page(request, session, principal, service.get_entry(session, code),
                            error=str(exc), status_code=exc.status_code)
    back = form.get("next")
    allowed = isinstance(back, str) and back.startswith(("/catalog/", "/review/catalog"))
    target = back if allowed and isinstance(back, str) else (
        f"/catalog/entries/{entry.resource_code}")
    return RedirectResponse(target, status_code=303)


@router.get("/review/catalog", response_class=HTMLResponse)
def review_page(request: Request, session: SessionDep, principal: Reviewer) -> HTMLResponse:
    submitted = service.list_entries(session, provider_ids=None, status=EntryStatus.SUBMITTED)
    approved = service.list_entries(session, provider_ids=None, status=EntryStatus.APPROVED)
    return render(request, "catalog/review.html", {
        **_vocab(), "submitted": submitted, "approved": approved,
        "problems": {e.resource_code: service.submission_problems(e) for e in submitted},
    })


# --- detail --------------------------------------------------------------------------------


def _detail_page(
    request: Request, session: Session, principal: Principal, entry: CatalogEntry, *,
    diff_from: int | None = None, diff_to: int | None = None, error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    versions = list_versions(session, entry)
    diff = None
    if versions and len(versions) > 1:
        to_number = diff_to or versions[-1].number
        from_number = diff_from or max(1, to_number - 1)
        diff = diff_versions(session, entry, from_number, to_number)
    editable = entry.status in EDITABLE and principal.can(Permission.EDIT_CATALOG)
    scope = own_provider_ids(session, principal)
    own = scope is None or entry.provider_id in scope
    suggestions = {}
    if editable and own:
        suggestions = {item.name: mapping.suggest_elements(
            session, name=item.name, column_name=item.column_name, limit=3
        ) for item in entry.items if item.element is None}
    return render(request, "catalog/entry.html", {
        **_vocab(), "entry": entry, "versions": list(reversed(versions)), "diff": diff,
        "actions": [a for a in allowed_actions(entry.status)
                    if own and principal.can(TRANSITIONS[a].permission)],
        "can_edit": editable and own, "suggestions": suggestions, "error": error,
        "profile": (profiles.get_profile(session, entry.warehouse_table)
                    if entry.warehouse_table else None),
        "pattern_labels": {name: p.label for name, p in PATTERNS.items()},
        "lineage": preview.lineage(session, entry),
        "sample": _audited_sample(request, session, entry),
        "may_see_highway": principal.can(Permission.READ_SOURCES),
        "treatment_labels": TREATMENT_LABELS,
        "rule_failures": rules_pages.entry_failures(request, session, entry),
        "severity_labels": SEVERITY_LABELS,
        **grading_panel.panel_context(
            session, entry, can_confirm=own and principal.can(Permission.GRADE_FIELDS)),
    }, status_code=status_code)


@router.post("/catalog/entries/{code:path}/map", response_class=HTMLResponse)
async def map_item(
    request: Request, code: str, session: SessionDep, principal: Editor
) -> Response:
    form = await request.form()
    item, element = form.get("item"), form.get("element_code")
    entry = service.get_entry(session, code)
    check_changes(session, principal, entry)
    try:
        service.confirm_mapping(session, entry=entry, item_name=str(item or ""),
                                element_code=str(element) if element else None,
                                actor=actor_of(principal))
    except UserError as exc:
        session.rollback()
        return _detail_page(request, session, principal, service.get_entry(session, code),
                            error=str(exc), status_code=exc.status_code)
    return RedirectResponse(f"/catalog/entries/{entry.resource_code}", status_code=303)


@router.post("/catalog/entries/{code:path}/reclassify", response_class=HTMLResponse)
async def reclassify_entry(
    request: Request, code: str, session: SessionDep, principal: Editor
) -> Response:
    form = await request.form()
    entry = service.get_entry(session, code)
    check_changes(session, principal, entry)

    def text(name: str) -> str | None:
        value = str(form.get(name) or "").strip()
        return value or None

    try:
        kind = CatalogType(text("catalog_type") or "")
    except ValueError:
        kind = None
    try:
        if kind is None:
            raise UserError(f"unknown catalog type {text('catalog_type')!r}")
        service.reclassify(session, entry=entry, catalog_type=kind, subject=text("subject"),
                           heading=text("heading") or "", subheading=text("subheading"),
                           actor=actor_of(principal))
    except UserError as exc:
        session.rollback()
        return _detail_page(request, session, principal, service.get_entry(session, code),
                            error=str(exc), status_code=exc.status_code)
    return RedirectResponse(f"/catalog/entries/{entry.resource_code}", status_code=303)


@router.get("/catalog/entries/{code:path}", response_class=HTMLResponse)
def entry_page(
    request: Request, code: str, session: SessionDep, principal: Reader,
    diff_from: int | None = None, diff_to: int | None = None,
) -> HTMLResponse:
    entry = visible_entry(session, principal, code)
    return _detail_page(request, session, principal, entry, diff_from=diff_from,
                        diff_to=diff_to)


# --- standards -----------------------------------------------------------------------------


@router.get("/standards", response_class=HTMLResponse)
def standards_page(request: Request, session: SessionDep, _: Reader) -> HTMLResponse:
    return render(request, "catalog/standards.html", {
        **_vocab(), "tables": standards.list_code_tables(session),
        "elements": standards.list_elements(session),
    })


@router.get("/standards/code-tables/{table_code}", response_class=HTMLResponse)
def code_table_page(
    request: Request, table_code: str, session: SessionDep, _: Reader
) -> HTMLResponse:
    table = standards.get_code_table(session, table_code)
    names = {value.code: value.name for value in table.values}
    return render(request, "catalog/code_table.html", {"table": table, "names": names})
