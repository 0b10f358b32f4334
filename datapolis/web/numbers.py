"""The platform's key numbers, read from the registry: shown on the home page, and exported
as gauges on /metrics. Only capabilities that exist are counted."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from datapolis.orgs.models import ApiApp, Organisation, OrgKind, Role, User


@dataclass(frozen=True)
class KeyNumbers:
    orgs_by_kind: dict[OrgKind, int]
    users_by_role: dict[Role, int]  # active users only
    active_apps: int
    departments_by_parent: list[tuple[str, int]]  # (city or county name, departments), big first

    @property
    def users(self) -> int:
        return sum(self.users_by_role.values())

    @property
    def organisations(self) -> int:
        return sum(self.orgs_by_kind.values())


def key_numbers(session: Session) -> KeyNumbers:
    by_kind = select(Organisation.kind, func.count()).group_by(Organisation.kind)
    orgs = {kind: count for kind, count in session.execute(by_kind)}
    by_role = select(User.role, func.count()).where(User.is_active.is_(True)).group_by(User.role)
    users = {role: count for role, count in session.execute(by_role)}
    apps = session.scalar(
        select(func.count()).select_from(ApiApp).where(ApiApp.revoked_at.is_(None))
    )
    parent = Organisation.__table__.alias("parent")
    per_parent = session.execute(
        select(parent.c.name, func.count())
        .select_from(Organisation)
        .join(parent, parent.c.id == Organisation.parent_id)
        .where(Organisation.kind == OrgKind.DEPARTMENT)
        .group_by(parent.c.id, parent.c.name)
        .order_by(func.count().desc(), parent.c.name)
    )
    return KeyNumbers(
        orgs_by_kind={kind: orgs.get(kind, 0) for kind in OrgKind},
        users_by_role={role: users.get(role, 0) for role in Role},
        active_apps=apps or 0,
        departments_by_parent=[(name, count) for name, count in per_parent],
    )
