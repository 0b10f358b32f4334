"""Whose issues a caller sees and moves: the bureau (platform admins) all, auditors see all,
a department its own organisation's (and those below it, as elsewhere on the platform)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from datapolis.errors import NotFound
from datapolis.orgs import service as orgs
from datapolis.orgs.deps import Principal
from datapolis.orgs.models import Role
from datapolis.quality.issues.models import QualityIssue


def _role(principal: Principal) -> Role | None:
    return principal.user.role if principal.user is not None else None


def readable(session: Session, principal: Principal) -> set[int] | None:
    """Organisation ids whose issues the caller sees; None means every organisation's."""
    if _role(principal) in (Role.PLATFORM_ADMIN, Role.AUDITOR):
        return None
    return orgs.descendant_ids(session, principal.org)


def actable(session: Session, principal: Principal) -> set[int] | None:
    if _role(principal) == Role.PLATFORM_ADMIN:
        return None
    return orgs.descendant_ids(session, principal.org)


def check_sees(session: Session, principal: Principal, issue: QualityIssue) -> QualityIssue:
    """`issue` when the caller may see it; otherwise 404, as if it did not exist."""
    scope = readable(session, principal)
    if scope is not None and issue.org_id not in scope:
        raise NotFound(f"no quality issue {issue.id}")
    return issue


def may_act(session: Session, principal: Principal, issue: QualityIssue) -> bool:
    scope = actable(session, principal)
    return scope is None or issue.org_id in scope
