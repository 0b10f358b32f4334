"""Identity service functions against real registries: SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import PASSWORD, make_city
from sqlalchemy import select

from datapolis.errors import Conflict, NotFound, UserError
from datapolis.orgs import service
from datapolis.orgs.models import AccessToken, ApiApp, OrgKind, Role, User
from datapolis.registry.base import utcnow
from datapolis.registry.db import Registry

# --- organisations -------------------------------------------------------------------------


def test_tree_and_descendants(registry: Registry) -> None:
    with registry.session() as session:
        city = make_city(session)
    with registry.session() as session:
        root = service.get_organisation(session, "371300")
        county = service.get_organisation(session, "371302")
        assert service.descendant_ids(session, root) == {
            city.city.id, city.county.id, city.street.id, city.city_dept.id, city.county_dept.id
        }
        assert service.descendant_ids(session, county) == {
            city.county.id, city.street.id, city.county_dept.id
        }
        street = service.get_organisation(session, "371302001")
        assert street.parent is not None and street.parent.code == "371302"
        assert service.descendant_ids(session, street) == {street.id}
        assert [o.code for o in service.list_organisations(session, kind=OrgKind.DEPARTMENT)] == [
            "371300_gaj", "371302_gaj"
        ]
        assert {o.code for o in service.list_organisations(session, parent=county)} == {
            "371302001", "371302_gaj"
        }


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"code": "Bad Code", "kind": OrgKind.DEPARTMENT}, "organisation code"),
        ({"code": "x", "kind": OrgKind.DEPARTMENT}, "organisation code"),
        ({"division_code": "3713", "kind": OrgKind.DEPARTMENT}, "division code"),
        ({"division_code": "37130a", "kind": OrgKind.DEPARTMENT}, "division code"),
        ({"kind": OrgKind.COUNTY, "parent": None, "division_code": "371399"}, "needs a parent"),
        ({"kind": OrgKind.STREET, "parent": "city", "division_code": "371300001"},
         "cannot be placed under a city"),
        ({"kind": OrgKind.STREET, "parent": "county", "division_code": "371302"}, "9 digits"),
        ({"kind": OrgKind.STREET, "parent": "county", "division_code": "371311001"},
         "does not lie within"),
        ({"kind": OrgKind.COUNTY, "parent": "city", "division_code": "370102"},
         "does not lie within"),
        ({"kind": OrgKind.CITY, "parent": "city", "division_code": "371400"}, "no parent"),
    ],
)
def test_organisation_validation(
    registry: Registry, kwargs: dict[str, object], message: str
) -> None:
    with registry.session() as session:
        city = make_city(session)
        parent_of = {"city": city.city, "county": city.county}
        arguments: dict[str, object] = {
            "code": "new_org", "name": "新机构", "division_code": "371300", "parent": city.city,
        }
        arguments.update(kwargs)
        if isinstance(arguments["parent"], str):
            arguments["parent"] = parent_of[arguments["parent"]]
        with pytest.raises(UserError, match=message):
            service.create_organisation(session, **arguments)  # type: ignore[arg-type]


def test_duplicate_code_and_unknown_code(registry: Registry) -> None:
    with registry.session() as session:
        city = make_city(session)
        with pytest.raises(Conflict, match="already taken"):
            service.create_organisation(
                session, code="371302", name="重复", kind=OrgKind.COUNTY,
                division_code="371302", parent=city.city,
            )
        with pytest.raises(NotFound, match="no organisation with code 'nowhere'"):
            service.get_organisation(session, "nowhere")


def test_update_organisation_refuses_cycles(registry: Registry) -> None:
    with registry.session() as session:
        city = make_city(session)
        service.update_organisation(
            session, org=city.city_dept, name=" 市公安局 ", parent=city.county
        )
    with registry.session() as session:
        dept = service.get_organisation(session, "371300_gaj")
        assert dept.name == "市公安局" and dept.parent is not None
        assert dept.parent.code == "371302"
        county = service.get_organisation(session, "371302")
        street = service.get_organisation(session, "371302001")
        with pytest.raises(UserError, match="cycle"):
            service.update_organisation(session, org=county, parent=street)


# --- users ---------------------------------------------------------------------------------


def test_user_password_is_argon2_hashed(registry: Registry) -> None:
    with registry.session() as session:
        city = make_city(session)
        service.create_user(
            session, username="Zhang.San", password=PASSWORD, role=Role.ORG_USER,
            org=city.city_dept,
        )
    with registry.session() as session:
        user = service.get_user(session, "zhang.san")
        assert user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in user.password_hash
        assert user.display_name == "Zhang.San"


def test_usernames_are_unique_ignoring_case(registry: Registry) -> None:
    with registry.session() as session:
        city = make_city(session)
        service.create_user(
            session, username="wangwu", password=PASSWORD, role=Role.ORG_USER, org=city.city
        )
        with pytest.raises(Conflict, match="already taken"):
            service.create_user(
                session, username="WangWu", password=PASSWORD, role=Role.ORG_USER, org=city.city
            )
        with pytest.raises(UserError, match="username"):
            service.create_user(
                session, username="王五", password=PASSWORD, role=Role.ORG_USER, org=city.city
            )
        with pytest.raises(UserError, match="at least 10 characters"):
            service.create_user(
                session, username="lisi", password="short", role=Role.ORG_USER, org=city.city
            )
        with pytest.raises(NotFound, match="no user named 'nobody'"):
            service.get_user(session, "nobody")


def test_authentication(registry: Registry) -> None:
    with registry.session() as session:
        city = make_city(session)
        service.create_user(
            session, username="zhaoliu", password=PASSWORD, role=Role.ORG_USER, org=city.city
        )
    with registry.session() as session:
        user = service.authenticate_user(session, username="ZHAOLIU", password=PASSWORD)
        assert user is not None and user.last_login_at is not None
        assert service.authenticate_user(session, username="zhaoliu", password="wrong!") is None
        assert service.authenticate_user(session, username="nobody", password=PASSWORD) is None
        service.update_user(session, user=user, is_active=False)
    with registry.session() as session:
        assert service.authenticate_user(session, username="zhaoliu", password=PASSWORD) is None


def test_list_and_update_users(registry: Registry) -> None:
    with registry.session() as session:
        city = make_city(session)
        for name, org in [("a_city", city.city), ("b_county", city.county),
                          ("c_street", city.street)]:
            service.create_user(
                session, username=name, password=PASSWORD, role=Role.ORG_USER, org=org
            )
    with registry.session() as session:
        county = service.get_organisation(session, "371302")
        below = service.descendant_ids(session, county)
        assert [u.username for u in service.list_users(session, org_ids=below)] == [
            "b_county", "c_street"
        ]
        user = service.get_user(session, "b_county")
        service.update_user(session, user=user, role=Role.ORG_ADMIN, display_name="县管理员")
    with registry.session() as session:
        assert [u.username for u in service.list_users(session, role=Role.ORG_ADMIN)] == [
            "b_county"
        ]
        assert service.get_user(session, "b_county").display_name == "县管理员"
        assert len(service.list_users(session, active=False)) == 0


# --- tokens --------------------------------------------------------------------------------


def _user(session: object) -> User:
    city = make_city(session)  # type: ignore[arg-type]
    return service.create_user(
        session,  # type: ignore[arg-type]
        username="tokens", password=PASSWORD, role=Role.ORG_USER, org=city.city,
    )


def test_token_issue_resolve_revoke(registry: Registry) -> None:
    with registry.session() as session:
        user = _user(session)
        issued = service.issue_token(session, kind="bearer", lifetime=timedelta(days=1), user=user)
        other = service.issue_token(session, kind="bearer", lifetime=timedelta(days=1), user=user)
    with registry.session() as session:
        stored = session.scalars(select(AccessToken.token_hash)).all()
        assert issued.token not in stored  # only the digest is kept
        record = service.resolve_token(session, token=issued.token, kind="bearer")
        assert record is not None and record.user is not None
        assert record.user.username == "tokens"
        assert service.resolve_token(session, token=issued.token, kind="session") is None
        assert service.resolve_token(session, token="not-a-token", kind="bearer") is None
        service.revoke_token(session, token=issued.token)
    with registry.session() as session:
        assert service.resolve_token(session, token=issued.token, kind="bearer") is None
        assert service.resolve_token(session, token=other.token, kind="bearer") is not None


def test_token_expires(registry: Registry) -> None:
    with registry.session() as session:
        user = _user(session)
        issued = service.issue_token(session, kind="bearer", lifetime=timedelta(hours=1), user=user)
        issued.record.expires_at = utcnow() - timedelta(seconds=1)
    with registry.session() as session:
        assert service.resolve_token(session, token=issued.token, kind="bearer") is None


def test_deactivation_and_password_change_revoke_tokens(registry: Registry) -> None:
    with registry.session() as session:
        user = _user(session)
        first = service.issue_token(session, kind="session", lifetime=timedelta(hours=1), user=user)
        assert first.record.csrf_token
    with registry.session() as session:
        user = service.get_user(session, "tokens")
        service.set_password(session, user=user, password="another-long-password")
    with registry.session() as session:
        assert service.resolve_token(session, token=first.token, kind="session") is None
        user = service.get_user(session, "tokens")
        second = service.issue_token(session, kind="bearer", lifetime=timedelta(hours=1), user=user)
        service.update_user(session, user=user, is_active=False)
    with registry.session() as session:
        record = session.scalar(select(AccessToken).where(AccessToken.id == second.record.id))
        assert record is not None and record.revoked_at is not None


def test_revoke_tokens_needs_a_target(registry: Registry) -> None:
    with registry.session() as session, pytest.raises(ValueError, match="user or an app"):
        service.revoke_tokens(session)


# --- API apps ------------------------------------------------------------------------------


def test_app_secret_shown_once_and_stored_hashed(registry: Registry) -> None:
    with registry.session() as session:
        city = make_city(session)
        issued = service.create_app(session, org=city.city_dept, name=" 户籍查询系统 ")
        key = issued.app.app_key
    with registry.session() as session:
        app = service.get_app(session, key)
        assert app.name == "户籍查询系统" and key.startswith("dp_")
        assert app.secret_hash.startswith("$argon2id$")
        assert issued.secret not in app.secret_hash
        assert service.authenticate_app(session, app_key=key, secret=issued.secret) is app
        assert service.authenticate_app(session, app_key=key, secret="wrong") is None
        assert service.authenticate_app(session, app_key="dp_none", secret=issued.secret) is None
        with pytest.raises(UserError, match="name"):
            service.create_app(session, org=city.city_dept, name="  ")
        with pytest.raises(NotFound, match="no API app with key 'dp_none'"):
            service.get_app(session, "dp_none")


def test_revoking_an_app_revokes_its_tokens(registry: Registry) -> None:
    with registry.session() as session:
        city = make_city(session)
        issued = service.create_app(session, org=city.city_dept, name="sys")
        token = service.issue_token(
            session, kind="bearer", lifetime=timedelta(days=1), app=issued.app
        )
    with registry.session() as session:
        record = service.resolve_token(session, token=token.token, kind="bearer")
        assert record is not None and record.app is not None
        service.revoke_app(session, app=service.get_app(session, issued.app.app_key))
    with registry.session() as session:
        assert service.resolve_token(session, token=token.token, kind="bearer") is None
        stored = session.scalar(select(AccessToken).where(AccessToken.id == token.record.id))
        assert stored is not None and stored.revoked_at is not None
        app = service.get_app(session, issued.app.app_key)
        assert service.authenticate_app(session, app_key=app.app_key, secret=issued.secret) is None
        with pytest.raises(UserError, match="revoked"):
            service.rotate_app_secret(session, app=app)


def test_rotate_secret(registry: Registry) -> None:
    with registry.session() as session:
        city = make_city(session)
        issued = service.create_app(session, org=city.city, name="sys")
        token = service.issue_token(
            session, kind="bearer", lifetime=timedelta(days=1), app=issued.app
        )
    with registry.session() as session:
        app = service.get_app(session, issued.app.app_key)
        new_secret = service.rotate_app_secret(session, app=app)
        assert new_secret != issued.secret
    with registry.session() as session:
        key = issued.app.app_key
        assert service.authenticate_app(session, app_key=key, secret=issued.secret) is None
        assert service.authenticate_app(session, app_key=key, secret=new_secret) is not None
        assert service.resolve_token(session, token=token.token, kind="bearer") is None


def test_list_apps_by_scope(registry: Registry) -> None:
    with registry.session() as session:
        city = make_city(session)
        service.create_app(session, org=city.city_dept, name="city")
        service.create_app(session, org=city.county_dept, name="county")
    with registry.session() as session:
        county = service.get_organisation(session, "371302")
        scoped = service.list_apps(session, org_ids=service.descendant_ids(session, county))
        assert [a.name for a in scoped] == ["county"]
        assert {a.name for a in service.list_apps(session)} == {"city", "county"}
        assert session.scalar(select(ApiApp.id).where(ApiApp.name == "none")) is None
