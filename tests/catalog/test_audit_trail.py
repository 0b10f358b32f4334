"""Catalog lifecycle transitions land in the tamper-evident audit log (issue 6)."""

from __future__ import annotations

import json

from sqlalchemy import select

from datapolis.catalog import service
from datapolis.catalog.lifecycle import Action
from datapolis.catalog.versions import Actor
from datapolis.security.audit.models import AuditEvent
from tests.catalog.conftest import Seeded, create


def test_each_transition_is_an_audit_event(seeded: Seeded) -> None:
    with seeded.registry.session() as session:
        code = create(session)
        entry = service.get_entry(session, code)
        for action in (Action.SUBMIT, Action.APPROVE, Action.PUBLISH):
            service.transition(session, entry=entry, action=action, actor=Actor("platform_admin"))
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.kind.like("catalog.%")).order_by(AuditEvent.seq)
        ).all()
    assert [e.kind for e in events] == ["catalog.submit", "catalog.approve", "catalog.publish"]
    published = json.loads(events[-1].canonical)
    assert published["actor"] == "platform_admin" and published["org"] == entry.provider.code
    assert published["details"] == {"entry": code, "from": "approved", "to": "published",
                                    "comment": None}
