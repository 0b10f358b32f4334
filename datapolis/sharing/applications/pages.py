"""Pages of applications and grants: the apply form (from a resource page), my
organisation's applications, the approval queue, an application with its history and the
decision forms, the grant list, a grant with its revoke form."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from datapolis.catalog.models import CatalogEntry
from datapolis.errors import UserError
from datapolis.orgs import service as orgs
from datapolis.orgs.deps import Principal, SessionDep, SettingsDep, requires
from datapolis.orgs.models import Organisation
from datapolis.orgs.permissions import Permission
from datapolis.sharing.applications import service
from datapolis.sharing.applications.api import public, shown_entry, sides, visible
from datapolis.sharing.applications.models import State
from datapolis.sharing.grants import api as grants_api
from datapolis.sharing.grants import service as grants
from datapolis.sharing.grants.items import METHOD_LABELS, stricter
from datapolis.sharing.grants.service import SHANGHAI, Limits
from datapolis.web.i18n import N_
from datapolis.web.nav import NavItem
from datapolis.web.render import render

router = APIRouter(include_in_schema=False)
NAV = [NavItem(N_("Sharing applications"), "/sharing/applications", Permission.APPLY_SHARING,
               icon="sharing"),
       NavItem(N_("Approvals"), "/sharing/approvals", Permission.APPROVE_SHARING,
               icon="approvals"),
       NavItem(N_("Grants"), "/sharing/grants", Permission.APPLY_SHARING, icon="grants")]
Applicant = Annotated[Principal, Depends(requires(Permission.APPLY_SHARING))]
Approver = Annotated[Principal, Depends(requires(Permission.APPROVE_SHARING))]

STATE_LABELS = {State.PROVIDER_REVIEW: N_("Provider review"),
                State.BUREAU_REVIEW: N_("Bureau review"), State.GRANTED: N_("Granted"),
                State.REJECTED: N_("Rejected"), State.WITHDRAWN: N_("Withdrawn")}
ACTION_LABELS = {"submitted": N_("Submitted"), "provider_approved": N_("Provider approved"),
                 "provider_rejected": N_("Provider rejected"),
                 "bureau_approved": N_("Bureau approved"),
                 "bureau_rejected": N_("Bureau rejected"), "granted": N_("Granted"),
                 "withdrawn": N_("Withdrawn")}
GRANT_STATUS = {"active": N_("Active"), "revoked": N_("Revoked"), "expired": N_("Expired"),
                "pending": N_("Not yet valid")}
LABELS: dict[str, Any] = {"state_labels": {s.value: label for s, label in STATE_LABELS.items()},
                          "action_labels": ACTION_LABELS, "grant_status": GRANT_STATUS,
                          "method_labels": METHOD_LABELS, "stricter": stricter}


def _day(text: str, *, end: bool = False) -> datetime | None:
    """A yyyy-mm-dd form date as a UTC moment (start, or end, of that day in Shanghai)."""
    text = text.strip()
    if not text:
        return None
    try:
        day = datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        raise UserError(f"{text!r} is not a date (yyyy-mm-dd)") from None
    moment = datetime.combine(day, time.max if end else time.min, tzinfo=SHANGHAI)
    return moment.astimezone(UTC)


def _number(form: FormData, name: str) -> float | None:
    text = str(form.get(name, "")).strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise UserError(f"{name}: {text!r} is not a number") from None


def _whole(form: FormData, name: str) -> int | None:
    number = _number(form, name)
    if number is not None and not number.is_integer():
        raise UserError(f"{name}: {number} is not a whole number")
    return None if number is None else int(number)


# --- apply ---------------------------------------------------------------------------------


def _apply_page(request: Request, session: Session, who: Principal, entry: CatalogEntry,
                error: str | None = None, form: dict[str, Any] | None = None,
                status_code: int = 200) -> HTMLResponse:
    return render(request, "sharing_core/apply.html", {
        "entry": entry, "policy": grants_api.policy_items(session, entry),
        "apps": [a for a in orgs.list_apps(session, org_ids={who.org.id}) if not a.revoked_at],
        "error": error, "form": form or {}, **LABELS}, status_code=status_code)


@router.get("/sharing/apply", response_class=HTMLResponse)
def apply_form(request: Request, resource: str, session: SessionDep, who: Applicant
               ) -> HTMLResponse:
    entry = shown_entry(session, who, resource)
    try:
        grants.check_shareable(entry)
    except UserError as exc:
        return _apply_page(request, session, who, entry, error=str(exc),
                           status_code=exc.status_code)
    return _apply_page(request, session, who, entry)


@router.post("/sharing/apply", response_class=HTMLResponse)
async def apply(request: Request, session: SessionDep, who: Applicant) -> Response:
    form = await request.form()
    entry = shown_entry(session, who, str(form.get("resource", "")))
    try:
        app = orgs.get_app(session, str(form.get("app", "")))
        application = service.apply(session, who, entry=entry, app=app, request=service.Request(
            purpose=str(form.get("purpose", "")), legal_basis=str(form.get("legal_basis", "")),
            scenario=str(form.get("scenario", "")),
            columns=[str(c) for c in form.getlist("items")],
            valid_from=_day(str(form.get("valid_from", ""))),
            valid_until=_day(str(form.get("valid_until", "")), end=True)))
    except UserError as exc:
        session.rollback()
        return _apply_page(request, session, who, entry, error=str(exc), status_code=
                           exc.status_code, form={k: form.getlist(k) for k in form})
    return RedirectResponse(f"/sharing/applications/{application.code}", status_code=303)


# --- lists ---------------------------------------------------------------------------------


@router.get("/sharing/applications", response_class=HTMLResponse)
def applications(request: Request, session: SessionDep, who: Applicant) -> HTMLResponse:
    mine = service.list_applications(session, consumer_ids={who.org.id})
    consumers, providers = sides(who)
    everything = service.list_applications(session, consumer_ids=consumers,
                                           provider_ids=providers)
    incoming = [a for a in everything if a.consumer_org_id != who.org.id]
    return render(request, "sharing_core/applications.html", {
        "mine": [public(session, a) for a in mine],
        "incoming": [public(session, a) for a in incoming], **LABELS})


@router.get("/sharing/approvals", response_class=HTMLResponse)
def approvals(request: Request, session: SessionDep, who: Approver) -> HTMLResponse:
    return render(request, "sharing_core/approvals.html", {
        "queue": [public(session, a) for a in service.queue(session, who)], **LABELS})


# --- one application -----------------------------------------------------------------------


def _application_page(request: Request, session: Session, who: Principal, code: str,
                      error: str | None = None, status_code: int = 200) -> HTMLResponse:
    application = visible(session, who, code)
    decides = False
    try:
        service.check_decider(application, who)
        decides = True
    except UserError:
        pass
    entry = session.get(CatalogEntry, application.entry_id)
    consumer = session.get(Organisation, application.consumer_org_id)
    assert entry is not None and consumer is not None
    default_scope = grants.default_scope(entry, consumer)
    terms = service.Terms.of_json(application.terms)
    return render(request, "sharing_core/application.html", {
        "a": public(session, application), "decides": decides,
        "withdraws": application.state in (State.PROVIDER_REVIEW, State.BUREAU_REVIEW)
        and who.org.id == application.consumer_org_id,
        "policy": [p for p in grants_api.policy_items(session, entry)
                   if p.column in application.columns],
        "default_scope": terms.row_scope or default_scope or "",
        "provider_terms": application.terms, "error": error, **LABELS},
        status_code=status_code)


@router.get("/sharing/applications/{code}", response_class=HTMLResponse)
def application_page(request: Request, code: str, session: SessionDep, who: Applicant
                     ) -> HTMLResponse:
    return _application_page(request, session, who, code)


def _terms(form: FormData) -> service.Terms:
    methods: dict[str, tuple[str, dict[str, int | str]]] = {}
    for key in form:
        if key.startswith("method_") and str(form.get(key, "")):
            methods[key.removeprefix("method_")] = (str(form.get(key)), {})
    scope = str(form.get("row_scope", "")).strip()
    return service.Terms(
        columns=[str(c) for c in form.getlist("items")],
        methods={c: m for c, m in methods.items() if m[0] != "policy"},
        row_scope=scope or None, default_scope=False,
        limits=Limits(_whole(form, "calls_per_day"), _whole(form, "rows_per_day"),
                      _number(form, "rate_per_second")),
        valid_until=_day(str(form.get("valid_until", "")), end=True))


@router.post("/sharing/applications/{code}/{decision}", response_class=HTMLResponse)
async def decide(request: Request, code: str, decision: str, session: SessionDep,
                 who: Applicant, settings: SettingsDep) -> Response:
    form = await request.form()
    comment = str(form.get("comment", ""))
    try:
        application = visible(session, who, code)
        if decision == "approve":
            service.approve(session, application, who, comment=comment, terms=_terms(form),
                            bureau_review=settings.sharing_bureau_review)
        elif decision == "reject":
            service.reject(session, application, who, comment=comment)
        elif decision == "withdraw":
            service.withdraw(session, application, who, comment=comment or None)
        else:
            raise UserError(f"unknown decision {decision!r}")
    except UserError as exc:
        session.rollback()
        return _application_page(request, session, who, code, error=str(exc),
                                 status_code=exc.status_code)
    return RedirectResponse(f"/sharing/applications/{code}", status_code=303)


# --- grants --------------------------------------------------------------------------------


@router.get("/sharing/grants", response_class=HTMLResponse)
def grant_list(request: Request, session: SessionDep, who: Applicant) -> HTMLResponse:
    scope = None if who.can(Permission.MANAGE_GRANTS) else {who.org.id}
    return render(request, "sharing_core/grants.html", {
        "grants": [grants_api.public(session, g)
                   for g in grants.list_grants(session, org_ids=scope)], **LABELS})


def _grant_page(request: Request, session: Session, who: Principal, code: str,
                error: str | None = None, status_code: int = 200) -> HTMLResponse:
    grant = grants_api.visible(session, who, code)
    return render(request, "sharing_core/grant.html", {
        "g": grants_api.public(session, grant),
        "manages": grants_api.may_manage(who, grant) and grant.revoked_at is None,
        "error": error, **LABELS}, status_code=status_code)


@router.get("/sharing/grants/{code}", response_class=HTMLResponse)
def grant_page(request: Request, code: str, session: SessionDep, who: Applicant
               ) -> HTMLResponse:
    return _grant_page(request, session, who, code)


@router.post("/sharing/grants/{code}/revoke", response_class=HTMLResponse)
async def revoke(request: Request, code: str, session: SessionDep, who: Applicant) -> Response:
    form = await request.form()
    try:
        grant = grants_api.managed(session, who, code)
        grants.revoke_grant(session, grant, actor=who.name,
                            reason=str(form.get("reason", "")).strip() or None)
    except UserError as exc:
        session.rollback()
        return _grant_page(request, session, who, code, error=str(exc),
                           status_code=exc.status_code)
    return RedirectResponse(f"/sharing/grants/{code}", status_code=303)
