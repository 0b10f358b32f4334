"""The application workflow on both registries: states, who may decide, not-shared refused,
every step in the history and the audit log, the grant an approval makes."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from datapolis.catalog import service as catalog_service
from datapolis.errors import Conflict, UserError
from datapolis.orgs.deps import Principal
from datapolis.orgs.models import ApiApp, User
from datapolis.orgs.permissions import ROLE_PERMISSIONS
from datapolis.registry.base import utcnow
from datapolis.security.audit.models import AuditEvent
from datapolis.security.fields.reads import NotAllowed
from datapolis.sharing.applications import service
from datapolis.sharing.applications.models import Application, State
from datapolis.sharing.grants import service as grants
from datapolis.sharing.grants.items import ItemRefused
from datapolis.sharing.grants.models import Grant
from datapolis.sharing.grants.service import Limits
from datapolis.sharing.scope import ScopeError
from tests.sharing.core.world import World

REQUEST = service.Request(purpose="核验办事群众身份", legal_basis="《山东省公共数据共享工作细则》",
                          scenario="户籍业务窗口", columns=["xm", "xb", "csrq", "xzqh_dm"])


def person(session: Session, username: str) -> Principal:
    user = session.scalar(select(User).where(User.username == username))
    assert user is not None
    return Principal(org=user.org, permissions=ROLE_PERMISSIONS[user.role], via="session",
                     user=user)


def file(session: Session, w: World, resource: str | None = None,
         request: service.Request = REQUEST) -> Application:
    entry = catalog_service.get_entry(session, resource or w.resource)
    return service.apply(session, person(session, "county_user"), entry=entry,
                         app=session.get(ApiApp, w.county_app), request=request)


def test_conditional_goes_provider_then_bureau_then_grants(world: World) -> None:
    with world.registry.session() as session:
        code = file(session, world).code
        assert code.startswith("A") and len(code) == 14
    with world.registry.session() as session:
        application = service.get_application(session, code)
        assert application.state == State.PROVIDER_REVIEW
        admin = person(session, "org_admin")  # the city police: the provider
        assert [a.code for a in service.queue(session, admin)] == [code]
        assert service.queue(session, person(session, "platform_admin")) == []
        service.approve(session, application, admin, comment="同意", terms=service.Terms(
            columns=["xm", "xzqh_dm"], methods={"xm": ("suppress", {})},
            limits=Limits(calls_per_day=1000)))
        assert application.state == State.BUREAU_REVIEW and application.grant_id is None
    with world.registry.session() as session:
        application = service.get_application(session, code)
        bureau = person(session, "platform_admin")
        assert [a.code for a in service.queue(session, bureau)] == [code]
        service.approve(session, application, bureau, comment="准予共享")
        assert application.state == State.GRANTED
        grant = session.get(Grant, application.grant_id)
        assert grant is not None
        assert [(i.column, i.method) for i in grant.items] == [("xm", "suppress"),
                                                                ("xzqh_dm", "keep")]
        assert grant.calls_per_day == 1000
        assert grant.row_scope == 'xzqh_dm prefix "371302"'  # the county consumer's division
        steps = [(s.action, s.from_state, s.to_state) for s in application.steps]
        assert steps == [("submitted", None, "provider_review"),
                         ("provider_approved", "provider_review", "bureau_review"),
                         ("bureau_approved", "bureau_review", "bureau_review"),
                         ("granted", "bureau_review", "granted")]
        kinds = set(session.scalars(select(AuditEvent.kind)))
        assert {"sharing.application.submitted", "sharing.application.provider_approved",
                "sharing.application.bureau_approved", "sharing.application.granted",
                "grant.created"} <= kinds


def test_without_bureau_review_the_provider_grants(world: World) -> None:
    with world.registry.session() as session:
        application = file(session, world)
        service.approve(session, application, person(session, "org_admin"),
                        bureau_review=False)
        assert application.state == State.GRANTED and application.grant_id is not None


def test_unconditional_is_granted_at_once_and_not_shared_is_refused(world: World) -> None:
    with world.registry.session() as session:
        application = file(session, world, world.open_resource)
        assert application.state == State.GRANTED
        assert application.steps[-1].actor == "system"
        live = grants.active_grant(session, app_id=world.county_app,
                                   resource_code=world.open_resource, now=utcnow())
        assert live is not None and {i.column for i in live.items} == set(REQUEST.columns)
    with world.registry.session() as session, pytest.raises(Conflict, match="不予共享") as e:
        file(session, world, world.closed_resource)
    assert e.value.status_code == 409
    with world.registry.session() as session:
        assert session.scalar(select(Application.id).where(
            Application.entry_id == catalog_service.get_entry(
                session, world.closed_resource).id)) is None


def test_who_may_decide(world: World) -> None:
    with world.registry.session() as session:
        application = file(session, world)
        # The applicant's own organisation admin is no provider; nor is the bureau first.
        for username in ("county_user", "platform_admin", "auditor", "org_user"):
            with pytest.raises(NotAllowed):
                service.approve(session, application, person(session, username))
        with pytest.raises(NotAllowed, match="made"):
            service.reject(session, application, person(session, "county_user"), comment="x")
        with pytest.raises(UserError, match="comment"):
            service.reject(session, application, person(session, "org_admin"), comment=" ")
        service.reject(session, application, person(session, "org_admin"), comment="用途不符")
        assert application.state == State.REJECTED
        with pytest.raises(Conflict, match="rejected"):
            service.approve(session, application, person(session, "org_admin"))


def test_applicants_cannot_decide_their_own_even_as_admin(world: World) -> None:
    with world.registry.session() as session:
        entry = catalog_service.get_entry(session, world.resource)
        # The provider's admin cannot apply for their own resource at all.
        with pytest.raises(Conflict, match="own"):
            service.apply(session, person(session, "org_admin"), entry=entry,
                          app=session.get(ApiApp, world.provider_app), request=REQUEST)
        bureau = person(session, "platform_admin")
        city_app = session.get(ApiApp, world.city_app)
        application = service.apply(session, bureau, entry=entry, app=city_app,
                                    request=REQUEST)
        service.approve(session, application, person(session, "org_admin"))
        with pytest.raises(NotAllowed, match="made"):
            service.approve(session, application, bureau)
        assert application not in service.queue(session, bureau)


def test_bad_applications_and_terms_are_refused_whole(world: World) -> None:
    with world.registry.session() as session:
        for request, error in (
            (service.Request("", "x", "y", ["xm"]), "purpose"),
            (service.Request("p", "x", "y", ["zjxy"]), "never leaves"),
            (service.Request("p", "x", "y", []), "at least one"),
        ):
            with pytest.raises(UserError, match=error):
                file(session, world, request=request)
        application = file(session, world)
        admin = person(session, "org_admin")
        with pytest.raises(ItemRefused):
            service.approve(session, application, admin,
                            terms=service.Terms(methods={"xm": ("keep", {})}))
        with pytest.raises(UserError, match="not requested"):
            service.approve(session, application, admin,
                            terms=service.Terms(columns=["xm", "gmsfhm"]))
        with pytest.raises(ScopeError):
            service.approve(session, application, admin,
                            terms=service.Terms(row_scope="xzqh_dm ~ 1"))
        assert application.state == State.PROVIDER_REVIEW


def test_withdraw_by_the_applying_organisation_only(world: World) -> None:
    with world.registry.session() as session:
        application = file(session, world)
        with pytest.raises(NotAllowed):
            service.withdraw(session, application, person(session, "org_admin"))
        service.withdraw(session, application, person(session, "county_user"))
        assert application.state == State.WITHDRAWN
        assert service.queue(session, person(session, "org_admin")) == []


def test_lists_by_side(world: World) -> None:
    with world.registry.session() as session:
        code = file(session, world).code
        county = world.city.county_dept.id
        assert [a.code for a in service.list_applications(session, consumer_ids={county})] \
            == [code]
        assert service.list_applications(session, provider_ids={county}) == []
        application = service.get_application(session, code)
        assert service.may_see(person(session, "org_user"), application)  # the provider's
        assert service.may_see(person(session, "platform_admin"), application)
        assert not service.may_see(person(session, "auditor"), application)


def test_another_departments_admin_cannot_decide(world: World) -> None:
    from datapolis.orgs import service as orgs_service
    from datapolis.orgs.models import Organisation, Role

    with world.registry.session() as session:
        other = orgs_service.create_user(
            session, username="county_admin", password="correct-horse-battery",
            role=Role.ORG_ADMIN, org=session.get(Organisation, world.city.county_dept.id))
        assert other.id
        application = file(session, world)
        with pytest.raises(NotAllowed, match="providing department"):
            service.approve(session, application, person(session, "county_admin"))
        with pytest.raises(NotAllowed, match="providing department"):
            service.reject(session, application, person(session, "county_admin"), comment="x")
        assert service.queue(session, person(session, "county_admin")) == []
        assert application.state == State.PROVIDER_REVIEW
