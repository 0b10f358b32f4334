"""JSON API of the audit log for auditors, under /api/audit: search, receipts, checkpoints."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request
from pydantic import BaseModel
from sqlalchemy import select

from datapolis.config import Settings
from datapolis.errors import NotFound, UserError
from datapolis.orgs.deps import Principal, SessionDep, requires
from datapolis.orgs.permissions import Permission
from datapolis.security.audit import proofs, service
from datapolis.security.audit.models import AuditEvent
from datapolis.security.audit.signing import Signer, key_id, public_key_text

router = APIRouter(prefix="/api/audit", tags=["audit"])
Auditor = Annotated[Principal, Depends(requires(Permission.READ_AUDIT))]


class EventPublic(BaseModel):
    seq: int
    time: datetime
    kind: str
    actor: str
    org: str | None
    details: dict[str, Any]
    leaf_hash: str

    @classmethod
    def of(cls, event: AuditEvent) -> EventPublic:
        body = json.loads(event.canonical)
        return cls(seq=event.seq, time=event.recorded_at, kind=event.kind, actor=event.actor,
                   org=event.org, details=body.get("details") or {}, leaf_hash=event.leaf_hash)


class EventWithReceipt(BaseModel):
    event: EventPublic
    receipt: dict[str, Any] | None
    pending: str | None = None  # why there is no receipt yet


class Verdict(BaseModel):
    valid: bool
    problems: list[str]


def _signer(request: Request) -> Signer:
    settings: Settings = request.app.state.settings
    return Signer.from_secret(settings.secret_key)


@router.get("/events")
def search(
    session: SessionDep,
    _: Auditor,
    kind: str | None = None,
    actor: str | None = None,
    org: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[EventPublic]:
    """Events newest first; filters are exact."""
    events = service.search_events(session, kind=kind, actor=actor, org=org, since=since,
                                   until=until, limit=limit, offset=offset)
    return [EventPublic.of(e) for e in events]


@router.get("/events/{seq}")
def event(seq: int, session: SessionDep, _: Auditor) -> EventWithReceipt:
    """One event with its receipt (inclusion proof and signed checkpoint) when one exists."""
    target = service.get_log(session)
    stored = session.scalar(
        select(AuditEvent).where(AuditEvent.log_id == target.id, AuditEvent.seq == seq)
    )
    if stored is None:
        raise NotFound(f"audit log {target.name!r} has no event {seq}")
    made, pending = None, None
    if any(c.size > seq for c in service.checkpoints(session, target)):
        made = proofs.receipt(session, seq)
    else:
        pending = "not yet covered by a signed checkpoint"
    return EventWithReceipt(event=EventPublic.of(stored), receipt=made, pending=pending)


@router.get("/checkpoints")
def export(request: Request, session: SessionDep, _: Auditor) -> dict[str, Any]:
    """Every signed checkpoint and the public key, as `datapolis audit export-checkpoints`."""
    key = _signer(request).public_key
    target = service.get_log(session)
    signed = [c.as_json() for c in service.checkpoints(session, target)]
    service.record(session, kind="export.audit_checkpoints",
                   details={"checkpoints": len(signed)})
    return {"format": "datapolis-audit-checkpoints/1", "log": target.name, "hash": target.hash,
            "public_key": public_key_text(key), "key_id": key_id(key), "checkpoints": signed}


@router.post("/receipts/verify")
def verify_receipt(
    request: Request, _: Auditor, receipt: Annotated[dict[str, Any], Body()]
) -> Verdict:
    """Check a receipt against this platform's public key."""
    if receipt.get("format") != proofs.RECEIPT_FORMAT:
        raise UserError(f"not a {proofs.RECEIPT_FORMAT} document")
    problems = proofs.verify_receipt(receipt, _signer(request).public_key)
    return Verdict(valid=not problems, problems=problems)
