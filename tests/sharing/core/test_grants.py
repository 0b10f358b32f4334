"""Grants on both registries: items under the security policy (never looser), row scopes,
the live-grant question the gateway asks, revocation and expiry, the generation counter."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from datapolis.catalog import service as catalog_service
from datapolis.catalog.lifecycle import Action
from datapolis.catalog.versions import Actor
from datapolis.errors import Conflict, UserError
from datapolis.orgs import service as orgs_service
from datapolis.orgs.models import ApiApp, Organisation
from datapolis.registry.base import utcnow
from datapolis.security.audit.models import AuditEvent
from datapolis.sharing.grants import service
from datapolis.sharing.grants.items import GrantedItem, ItemRefused, no_looser
from datapolis.sharing.grants.service import Limits, active_grant, grants_generation
from datapolis.sharing.scope import ScopeError
from tests.sharing.core.world import World


def _grant(w: World, session, columns=("xm", "xb", "csrq"), **kw):  # type: ignore[no-untyped-def]
    entry = catalog_service.get_entry(session, w.resource)
    consumer = session.get(Organisation, w.city.county_dept.id)
    app = session.get(ApiApp, w.county_app)
    return service.create_grant(session, entry=entry, consumer=consumer, app=app,
                                columns=columns, actor="org_admin", **kw)


def test_items_take_the_policy_method_and_withheld_items_are_refused(world: World) -> None:
    with world.registry.session() as session:
        grant = _grant(world, session, columns=("gmsfhm", "xm", "xb", "csrq"))
        methods = {i.column: (i.method, i.params) for i in grant.items}
        assert methods["gmsfhm"][0] == "pseudonym"  # L4 to a department: keyed pseudonym
        assert methods["xm"] == ("mask", {"first": 1, "last": 1, "char": "*"})  # L3
        assert methods["xb"][0] == "keep" and methods["csrq"][0] == "keep"  # L1, L2
        assert grant.code.startswith("G") and len(grant.code) == 14
    for column, why in (("zjxy", "never leaves"), ("bz", "not confirmed")):
        with world.registry.session() as session, pytest.raises(ItemRefused, match=why):
            _grant(world, session, columns=("xb", column))
    with world.registry.session() as session, pytest.raises(ItemRefused, match="no item"):
        _grant(world, session, columns=("xb", "password"))


def test_a_grant_may_tighten_but_never_loosen_the_policy(world: World) -> None:
    with world.registry.session() as session:
        tight = _grant(world, session, methods={
            "xm": ("mask", {"first": 0, "last": 1}), "xb": ("suppress", {}),
            "csrq": ("date", {"unit": "year"})})
        assert [(i.column, i.method) for i in tight.items] == [
            ("xm", "mask"), ("xb", "suppress"), ("csrq", "date")]
    for loose in ({"xm": ("keep", {})}, {"xm": ("mask", {"first": 3, "last": 1})},
                  {"xm": ("date", {"unit": "year"})}, {"gmsfhm": ("mask", {})}):
        columns = ("xm", "gmsfhm")
        with world.registry.session() as session, pytest.raises(ItemRefused, match="shows more"):
            _grant(world, session, columns=columns, methods=loose)
    assert no_looser(GrantedItem("a", "date", {"unit": "month"}),
                     GrantedItem("a", "date", {"unit": "year"}))
    assert not no_looser(GrantedItem("a", "date", {"unit": "year"}),
                         GrantedItem("a", "date", {"unit": "month"}))
    assert not no_looser(GrantedItem("a", "band", {"width": 10}),
                         GrantedItem("a", "band", {"width": 15}))


def test_a_later_stricter_grade_wins_over_the_stored_method(world: World) -> None:
    from datapolis.security.grading import service as grading
    with world.registry.session() as session:
        _grant(world, session, columns=("xb", "csrq"))
    with world.registry.session() as session:
        entry = catalog_service.get_entry(session, world.resource)
        grading.confirm(session, entry, {"出生日期": "L4", "性别": "重要"}, Actor("org_admin"))
    with world.registry.session() as session:
        live = active_grant(session, app_id=world.county_app, resource_code=world.resource,
                            now=utcnow())
        assert live is not None
        assert [(i.column, i.method) for i in live.items] == [("csrq", "pseudonym")]


def test_row_scope_is_checked_and_stored_canonically(world: World) -> None:
    with world.registry.session() as session:
        grant = _grant(world, session, row_scope='xzqh_dm   PREFIX "371302"')
        assert grant.row_scope == 'xzqh_dm prefix "371302"'
    with world.registry.session() as session, pytest.raises(ScopeError, match="character"):
        _grant(world, session, row_scope='xzqh_dm = 1 or 1=1; --')
    with world.registry.session() as session:
        entry = catalog_service.get_entry(session, world.resource)
        county = session.get(Organisation, world.city.county_dept.id)
        city = session.get(Organisation, world.city.city.id)
        assert service.default_scope(entry, county) == 'xzqh_dm prefix "371302"'
        assert service.default_scope(entry, city) is None


def test_active_grant_follows_revocation_expiry_and_the_window(world: World) -> None:
    now = utcnow()
    with world.registry.session() as session:
        grant = _grant(world, session, limits=Limits(100, 5000, 2.5),
                       valid_until=now + timedelta(days=30))
        code = grant.code
        assert active_grant(session, app_id=world.county_app, resource_code=world.resource,
                            now=now - timedelta(seconds=1)) is None  # not yet valid
    now = utcnow()
    with world.registry.session() as session:
        live = active_grant(session, app_id=world.county_app, resource_code=world.resource,
                            now=now)
        assert live is not None and live.code == code
        assert live.table == "ods_371300_gaj.czrk"
        assert live.consumer_org_id == world.city.county_dept.id
        assert (live.calls_per_day, live.rows_per_day, live.rate_per_second) == (100, 5000, 2.5)
        assert active_grant(session, app_id=world.county_app, resource_code=world.resource,
                            now=now + timedelta(days=31)) is None
        assert service.refusal(session, app_id=world.county_app, resource_code=world.resource,
                               now=now + timedelta(days=31)) == "grant_expired"
        assert active_grant(session, app_id=world.city_app, resource_code=world.resource,
                            now=now) is None
        assert service.refusal(session, app_id=world.city_app, resource_code=world.resource,
                               now=now) == "no_grant"
    before = grants_generation()
    with world.registry.session() as session:
        stored = service.stored_generation(session)
        service.revoke_grant(session, service.get_grant(session, code), actor="org_admin",
                             reason="用途已结束")
    assert grants_generation() >= before + 2  # at the change and again at the commit
    with world.registry.session() as session:
        assert service.stored_generation(session) == stored + 1
        assert active_grant(session, app_id=world.county_app, resource_code=world.resource,
                            now=utcnow()) is None
        assert service.refusal(session, app_id=world.county_app, resource_code=world.resource,
                               now=utcnow()) == "grant_revoked"
        kinds = [e.kind for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
        assert kinds.count("grant.created") == 1 and kinds.count("grant.revoked") == 1
        with pytest.raises(Conflict, match="already revoked"):
            service.revoke_grant(session, service.get_grant(session, code), actor="x")


def test_a_revoked_app_or_retired_entry_has_no_live_grant(world: World) -> None:
    with world.registry.session() as session:
        _grant(world, session)
    with world.registry.session() as session:
        entry = catalog_service.get_entry(session, world.resource)
        catalog_service.transition(session, entry=entry, action=Action.RETIRE,
                                   actor=Actor("platform_admin"))
        assert active_grant(session, app_id=world.county_app, resource_code=world.resource,
                            now=utcnow()) is None
        session.rollback()
    with world.registry.session() as session:
        orgs_service.revoke_app(session, app=session.get(ApiApp, world.county_app))
        assert active_grant(session, app_id=world.county_app, resource_code=world.resource,
                            now=utcnow()) is None


def test_not_shared_unpublished_and_foreign_apps_are_refused(world: World) -> None:
    with world.registry.session() as session:
        closed = catalog_service.get_entry(session, world.closed_resource)
        county = session.get(Organisation, world.city.county_dept.id)
        with pytest.raises(Conflict, match="不予共享"):
            service.create_grant(session, entry=closed, consumer=county,
                                 app=session.get(ApiApp, world.county_app), columns=["xb"],
                                 actor="x")
        entry = catalog_service.get_entry(session, world.resource)
        with pytest.raises(UserError, match="another organisation"):
            service.create_grant(session, entry=entry, consumer=county,
                                 app=session.get(ApiApp, world.city_app), columns=["xb"],
                                 actor="x")
        with pytest.raises(UserError, match="above zero"):
            _grant(world, session, limits=Limits(calls_per_day=0))
        with pytest.raises(UserError, match="ends before"):
            _grant(world, session, valid_until=utcnow() - timedelta(days=1))


def test_changes_are_checked_audited_and_move_the_generation(world: World) -> None:
    with world.registry.session() as session:
        code = _grant(world, session).code
    before = grants_generation()
    with world.registry.session() as session:
        grant = service.get_grant(session, code)
        service.change_grant(session, grant, row_scope='xzqh_dm = "371302"',
                             limits=Limits(rows_per_day=10), actor="org_admin",
                             methods={"xb": ("suppress", {})})
        with pytest.raises(ItemRefused):
            service.change_grant(session, grant, methods={"xm": ("keep", {})}, actor="x")
    assert grants_generation() > before
    with world.registry.session() as session:
        live = active_grant(session, app_id=world.county_app, resource_code=world.resource,
                            now=utcnow())
        assert live is not None and live.row_scope == 'xzqh_dm = "371302"'
        assert live.rows_per_day == 10 and live.calls_per_day is None
        assert dict((i.column, i.method) for i in live.items)["xb"] == "suppress"
        assert session.scalar(select(AuditEvent.kind).where(AuditEvent.kind == "grant.changed"))
