"""Demo applications and grants (共享申请与授权) between the demo's departments and counties.

After the catalog is curated: county and city department users apply for published resources
through an app of their own; unconditionally shared ones are granted at once, conditional ones
go through the provider's admin and the bureau; one is rejected, one granted and then revoked,
one left waiting in the provider's queue. Everything goes through the product's services, so
the audit log, queues and grants are the real ones. A second run adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from datapolis.catalog.enums import EntryStatus, ShareType
from datapolis.catalog.models import CatalogEntry
from datapolis.errors import UserError
from datapolis.orgs import service as orgs
from datapolis.orgs.deps import Principal
from datapolis.orgs.models import ApiApp, Organisation, OrgKind, Role, User
from datapolis.orgs.permissions import ROLE_PERMISSIONS
from datapolis.registry.db import Registry
from datapolis.security.audit import service as audit
from datapolis.sharing.applications import service
from datapolis.sharing.applications.models import Application, State
from datapolis.sharing.grants import items as grant_items
from datapolis.sharing.grants import service as grants
from datapolis.sharing.grants.models import Grant
from datapolis.sharing.grants.service import Limits

APP_NAME = "共享交换对接系统"
BUREAU = "admin"
MAX_APPLICATIONS = 8
PURPOSES = (
    ("办理户籍与社会救助业务时核验群众身份信息", "《山东省公共数据共享工作细则》第十二条",
     "政务服务窗口业务办理"),
    ("开展市场主体信用监管与联合惩戒", "《优化营商环境条例》第五十五条", "信用监管平台比对"),
    ("基层网格治理中核对常住人口与房屋信息", "《山东省大数据发展促进条例》第二十九条",
     "网格化社会治理"),
    ("不动产登记业务中核验权利人信息", "《不动产登记暂行条例》第二十五条", "不动产登记窗口"),
)


@dataclass
class DemoSharing:
    applications: list[str] = field(default_factory=list)
    granted: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    revoked: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)


def _person(user: User) -> Principal:
    return Principal(org=user.org, permissions=ROLE_PERMISSIONS[user.role], via="demo",
                     user=user)


def _user(session: Session, username: str) -> User:
    found = session.scalar(select(User).where(User.username == username))
    if found is None:
        raise UserError(f"the demo user {username} is missing: run `datapolis demo build`")
    return found


def _consumers(session: Session) -> list[User]:
    """Department users, county departments first (they get a division scope)."""
    users = list(session.scalars(select(User).join(Organisation, Organisation.id == User.org_id)
                                 .where(User.role == Role.ORG_USER,
                                        Organisation.kind == OrgKind.DEPARTMENT)
                                 .order_by(User.username)))
    county = [u for u in users if u.org.parent and u.org.parent.kind == OrgKind.COUNTY]
    return county + [u for u in users if u not in county]


def _a_county(session: Session) -> Organisation:
    county = session.scalar(select(Organisation).where(Organisation.kind == OrgKind.COUNTY)
                            .order_by(Organisation.code))
    if county is None:
        raise UserError("the demo city has no county: run `datapolis demo build`")
    return county


def _provider_admin(session: Session, entry: CatalogEntry) -> User | None:
    return session.scalar(select(User).where(User.org_id == entry.provider_id,
                                             User.role == Role.ORG_ADMIN).order_by(User.id))


def _app(session: Session, user: User) -> ApiApp:
    found = session.scalar(select(ApiApp).where(ApiApp.org_id == user.org_id,
                                                ApiApp.name == APP_NAME,
                                                ApiApp.revoked_at.is_(None)))
    return found or orgs.create_app(session, org=user.org, name=APP_NAME, created_by=user).app


def run(registry: Registry, *, bureau_user: str = BUREAU) -> DemoSharing:
    done = DemoSharing()
    with registry.session() as session:
        if session.scalar(select(Application.id).limit(1)) is not None:
            return done  # already there
        audit.act_as(session, "demo", None)
        entries = list(session.scalars(
            select(CatalogEntry).where(CatalogEntry.status == EntryStatus.PUBLISHED,
                                       CatalogEntry.share_type != ShareType.NOT_SHARED,
                                       CatalogEntry.warehouse_table.is_not(None))
            .order_by(CatalogEntry.resource_code)))
        # Tables with a division column first: the county applicants come first and get a
        # row scope of their own division.
        entries.sort(key=lambda e: grants.default_scope(e, _a_county(session)) is None)
        consumers = _consumers(session)
        bureau = _person(_user(session, bureau_user))
        n = 0
        for entry in entries:
            if len(done.applications) >= MAX_APPLICATIONS or not consumers:
                break
            admin = _provider_admin(session, entry)
            allowed = [a.column for a in grant_items.policy(session, entry).values() if a.floor]
            if admin is None or not allowed:
                continue
            candidates = [u for u in consumers if u.org_id != entry.provider_id]
            if not candidates:
                continue
            applicant = candidates[n % len(candidates)]
            purpose, basis, scenario = PURPOSES[n % len(PURPOSES)]
            application = service.apply(
                session, _person(applicant), entry=entry, app=_app(session, applicant),
                request=service.Request(purpose, basis, scenario, allowed[:6]))
            done.applications.append(application.code)
            provider = _person(admin)
            conditional = application.state == State.PROVIDER_REVIEW
            if conditional and len(done.rejected) == 0 and n >= 2:
                service.reject(session, application, provider,
                               comment="申请用途与所申请信息项不匹配，请补充法律依据后重新申请")
                done.rejected.append(application.code)
            elif conditional and len(done.waiting) == 0 and n >= 3:
                done.waiting.append(application.code)  # left in the provider's queue
            else:
                if conditional:
                    service.approve(session, application, provider, comment="同意共享",
                                    terms=service.Terms(limits=Limits(5000, 200_000, 20.0)))
                    service.approve(session, application, bureau, comment="准予共享")
                done.granted.append(application.code)
            n += 1
        # One grant withdrawn by its provider, to show revocation.
        if len(done.granted) > 1:
            application = service.get_application(session, done.granted[-1])
            grant = session.get(Grant, application.grant_id)
            if grant is not None:
                grants.revoke_grant(session, grant, actor=bureau_user,
                                    reason="使用方业务系统下线，停止共享")
                done.revoked.append(grant.code)
    return done
