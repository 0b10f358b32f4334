"""Auditor pages: search the audit log, one event with its proof, verify a receipt."""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse
from sqlalchemy import select

from datapolis.config import Settings
from datapolis.errors import NotFound, UserError
from datapolis.orgs.deps import Principal, SessionDep, requires
from datapolis.orgs.permissions import Permission
from datapolis.security.audit import proofs, service
from datapolis.security.audit.kinds import KINDS
from datapolis.security.audit.models import AuditEvent
from datapolis.security.audit.signing import Signer, key_id, public_key_text
from datapolis.web.i18n import N_
from datapolis.web.nav import NavItem
from datapolis.web.render import render

router = APIRouter(include_in_schema=False)
NAV = [NavItem(N_("Audit log"), "/audit", Permission.READ_AUDIT, icon="audit")]
Auditor = Annotated[Principal, Depends(requires(Permission.READ_AUDIT))]
PAGE = 100


def _signer(request: Request) -> Signer:
    settings: Settings = request.app.state.settings
    return Signer.from_secret(settings.secret_key)


def _details(event: AuditEvent) -> str:
    body = json.loads(event.canonical)
    return json.dumps(body.get("details") or {}, ensure_ascii=False, sort_keys=True)


@router.get("/audit", response_class=HTMLResponse)
def audit_log(request: Request, session: SessionDep, _: Auditor, kind: str = "",
              actor: str = "", org: str = "", page: Annotated[int, Query(ge=1)] = 1
              ) -> HTMLResponse:
    filters = {"kind": kind.strip(), "actor": actor.strip(), "org": org.strip()}
    try:
        target = service.get_log(session)
    except NotFound:
        target = None
    # One row more than a page tells whether older events follow.
    events = service.search_events(
        session, kind=filters["kind"], actor=filters["actor"], org=filters["org"],
        limit=PAGE + 1, offset=(page - 1) * PAGE,
    ) if target else []
    signed = service.checkpoints(session, target) if target else []
    key = _signer(request).public_key
    query = {name: value for name, value in filters.items() if value}
    return render(request, "audit/log.html", {
        "filters": filters, "events": [(e, _details(e)) for e in events[:PAGE]],
        "log": target, "latest": signed[-1] if signed else None,
        "public_key": public_key_text(key), "key_id": key_id(key), "page": page,
        "kinds": [k.name for k in KINDS],
        "newer": urlencode(query | {"page": page - 1}) if page > 1 else None,
        "older": urlencode(query | {"page": page + 1}) if len(events) > PAGE else None})


@router.get("/audit/events/{seq}", response_class=HTMLResponse)
def audit_event(request: Request, seq: int, session: SessionDep, _: Auditor) -> HTMLResponse:
    target = service.get_log(session)
    event = session.scalar(
        select(AuditEvent).where(AuditEvent.log_id == target.id, AuditEvent.seq == seq)
    )
    if event is None:
        raise NotFound(f"audit log {target.name!r} has no event {seq}")
    receipt: dict[str, Any] | None = None
    problems: list[str] = []
    if any(c.size > seq for c in service.checkpoints(session, target)):
        receipt = proofs.receipt(session, seq)
        problems = proofs.verify_receipt(receipt, _signer(request).public_key)
    return render(request, "audit/event.html", {
        "event": event, "details": _details(event), "receipt": receipt, "problems": problems,
        "receipt_json": json.dumps(receipt, ensure_ascii=False, indent=2) if receipt else ""})


@router.get("/audit/events/{seq}/receipt.json")
def audit_receipt(seq: int, session: SessionDep, _: Auditor) -> JSONResponse:
    receipt = proofs.receipt(session, seq)
    return JSONResponse(receipt, headers={
        "Content-Disposition": f'attachment; filename="audit-receipt-{seq}.json"'})


@router.get("/audit/verify", response_class=HTMLResponse)
def verify_form(request: Request, _: Auditor) -> HTMLResponse:
    return render(request, "audit/verify.html", {"text": "", "checked": False, "problems": []})


@router.post("/audit/verify", response_class=HTMLResponse)
async def verify_posted(request: Request, _: Auditor) -> HTMLResponse:
    form = await request.form()
    text = str(form.get("receipt") or "")
    problems: list[str] = []
    try:
        data = proofs.load(text, proofs.RECEIPT_FORMAT)
        problems = proofs.verify_receipt(data, _signer(request).public_key)
    except UserError as exc:
        problems = [str(exc)]
    return render(request, "audit/verify.html", {"text": text, "checked": True,
                                                 "problems": problems},
                  status_code=200 if not problems else 400)
