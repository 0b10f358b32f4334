"""Applications for conditionally open datasets (有条件开放申请).

A registered public user applies with a purpose; the provider's department (or the bureau)
approves or rejects, as in sharing. Until an application is approved, the dataset's rows,
downloads and API answers are refused; its page and metadata stay public.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from datapolis.errors import Conflict, NotFound, UserError
from datapolis.portal.datasets import Dataset
from datapolis.portal.public_models import OpenApplication, PortalUser
from datapolis.security.audit import service as audit

PENDING, APPROVED, REJECTED, REVOKED = "pending", "approved", "rejected", "revoked"
DECISIONS = {"approve": APPROVED, "reject": REJECTED, "revoke": REVOKED}


class AccessRefused(UserError):
    status_code = 403


def may_read(session: Session, dataset: Dataset, user: PortalUser | None) -> bool:
    if dataset.open_kind == "unconditional":
        return True
    if user is None:
        return False
    return session.scalar(select(OpenApplication.id).where(
        OpenApplication.user_id == user.id, OpenApplication.dataset_code == dataset.code,
        OpenApplication.status == APPROVED).limit(1)) is not None


def check_read(session: Session, dataset: Dataset, user: PortalUser | None) -> None:
    if not may_read(session, dataset, user):
        raise AccessRefused(
            f"dataset {dataset.code} is conditionally open: sign in and apply; its rows are "
            "available once the provider approves your application")


def apply(session: Session, *, user: PortalUser, dataset: Dataset, purpose: str
          ) -> OpenApplication:
    purpose = purpose.strip()
    if dataset.open_kind != "conditional":
        raise Conflict(f"dataset {dataset.code} is open to everyone; no application is needed")
    if not 10 <= len(purpose) <= 2000:
        raise UserError("describe the purpose in 10 to 2000 characters")
    existing = session.scalar(select(OpenApplication).where(
        OpenApplication.user_id == user.id, OpenApplication.dataset_code == dataset.code,
        OpenApplication.status.in_([PENDING, APPROVED])))
    if existing is not None:
        raise Conflict(f"you already have a {existing.status} application for {dataset.code}")
    application = OpenApplication(user_id=user.id, dataset_code=dataset.code,
                                  org_code=dataset.provider.code, purpose=purpose)
    session.add(application)
    session.flush()
    audit.record(session, kind="portal.application.submitted", actor=f"public:{user.username}",
                 org=None, details={"application": application.id, "dataset": dataset.code})
    return application


def of_user(session: Session, user: PortalUser) -> list[OpenApplication]:
    return list(session.scalars(select(OpenApplication).where(OpenApplication.user_id == user.id)
                                .order_by(OpenApplication.id.desc())))


def queue(session: Session, org_code: str | None, status: str | None = PENDING
          ) -> list[OpenApplication]:
    """Applications for one provider's datasets (None: every provider, the bureau's view)."""
    query = select(OpenApplication).order_by(OpenApplication.id.desc()).limit(500)
    if org_code is not None:
        query = query.where(OpenApplication.org_code == org_code)
    if status:
        query = query.where(OpenApplication.status == status)
    return list(session.scalars(query))


def decide(session: Session, *, application_id: int, decision: str, actor: str,
           org_code: str | None, comment: str = "") -> OpenApplication:
    """Approve, reject (a pending one) or revoke (an approved one). `org_code`: the deciding
    department, which may decide only its own datasets' applications (None: the bureau)."""
    if decision not in DECISIONS:
        raise UserError(f"unknown decision {decision!r}; decisions: {', '.join(DECISIONS)}")
    application = session.get(OpenApplication, application_id)
    if application is None or (org_code is not None and application.org_code != org_code):
        raise NotFound(f"no application {application_id}")
    allowed_from = APPROVED if decision == "revoke" else PENDING
    if application.status != allowed_from:
        raise Conflict(f"application {application_id} is {application.status}; "
                       f"cannot {decision} it")
    application.status = DECISIONS[decision]
    application.comment = comment.strip()[:2000] or None
    application.decided_by = actor
    application.decided_at = datetime.now(UTC)
    audit.record(session, kind="portal.application.decided", actor=actor, org=org_code,
                 details={"application": application.id, "dataset": application.dataset_code,
                          "user": application.user.username, "decision": decision})
    return application
