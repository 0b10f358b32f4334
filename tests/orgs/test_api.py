"""The identity API through HTTP: happy paths and the authorisation edges of each endpoint.

Fixture users (conftest): platform_admin and auditor in the city; org_admin and org_user in the
city's police department (371300_gaj). The county's police (371302_gaj) is "another org".
"""

from __future__ import annotations

import base64

import httpx2 as httpx
import pytest
from conftest import PASSWORD, bearer_for
from fastapi.testclient import TestClient

from datapolis.orgs.models import Role

TOKEN = "/api/v1/auth/token"


def _no_hashes(response: httpx.Response) -> httpx.Response:
    assert "$argon2" not in response.text
    assert "password" not in response.text.lower() or response.status_code >= 400
    return response


def _token(client: TestClient, **data: str) -> httpx.Response:
    return client.post(TOKEN, data=data)


def _app(client: TestClient, headers: dict[str, str], **body: str) -> dict[str, str]:
    response = client.post("/api/v1/apps", json={"name": "户籍系统", **body}, headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, str] = response.json()
    return created


def _app_bearer(client: TestClient, app: dict[str, str]) -> dict[str, str]:
    response = _token(
        client, grant_type="client_credentials", client_id=app["app_key"],
        client_secret=app["app_secret"],
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


# --- tokens --------------------------------------------------------------------------------


def test_password_grant(client: TestClient) -> None:
    response = _token(client, grant_type="password", username="ORG_USER", password=PASSWORD)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 30 * 24 * 3600  # settings.token_days
    assert response.headers["cache-control"] == "no-store"
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json()["name"] == "org_user" and me.json()["org"]["code"] == "371300_gaj"
    assert me.json()["kind"] == "user" and me.json()["role"] == "org_user"


def test_wrong_credentials_get_one_generic_401(client: TestClient) -> None:
    admin = bearer_for(client, Role.PLATFORM_ADMIN)
    assert client.patch(
        "/api/v1/users/org_user", json={"is_active": False}, headers=admin
    ).status_code == 200
    attempts = [
        {"username": "org_admin", "password": "wrong-password!"},
        {"username": "nobody", "password": PASSWORD},
        {"username": "org_user", "password": PASSWORD},  # deactivated
        {"grant_type": "client_credentials", "client_id": "dp_none", "client_secret": "x"},
    ]
    details = set()
    for data in attempts:
        response = _token(client, **data)
        assert response.status_code == 401, data
        assert response.headers["www-authenticate"] == "Bearer"
        details.add(response.json()["detail"])
    assert details == {"invalid credentials"}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"grant_type": "password", "username": "org_user"}, "username and password"),
        ({"grant_type": "client_credentials", "client_id": "dp_x"}, "client_id and client_secret"),
        ({"grant_type": "authorization_code", "code": "x"}, "unsupported grant_type"),
    ],
)
def test_malformed_token_requests_get_400(
    client: TestClient, data: dict[str, str], message: str
) -> None:
    response = _token(client, **data)
    assert response.status_code == 400
    assert message in response.json()["detail"]


def test_client_credentials_in_form_or_basic_auth(client: TestClient) -> None:
    app = _app(client, bearer_for(client, Role.ORG_ADMIN))
    app_headers = _app_bearer(client, app)
    orgs = client.get("/api/v1/orgs", headers=app_headers)
    assert orgs.status_code == 200  # apps may read the organisation list
    assert client.get("/api/v1/me", headers=app_headers).status_code == 403
    basic = base64.b64encode(f"{app['app_key']}:{app['app_secret']}".encode()).decode()
    response = client.post(
        TOKEN, data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert response.status_code == 200, response.text
    wrong = _token(client, grant_type="client_credentials", client_id=app["app_key"],
                   client_secret="not-the-secret")
    assert wrong.status_code == 401


def test_revoke_the_presented_token(client: TestClient) -> None:
    headers = bearer_for(client, Role.ORG_USER)
    assert client.post("/api/v1/auth/revoke", headers=headers).status_code == 204
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert client.post("/api/v1/auth/revoke", headers=headers).status_code == 204  # idempotent
    assert client.post("/api/v1/auth/revoke").status_code == 401
    assert client.get("/api/v1/me", headers=bearer_for(client, Role.ORG_USER)).status_code == 200


# --- organisations -------------------------------------------------------------------------


def test_list_organisations_flat_filtered_and_as_tree(client: TestClient) -> None:
    headers = bearer_for(client, Role.ORG_USER)
    flat = client.get("/api/v1/orgs", headers=headers).json()
    assert [o["code"] for o in flat] == [
        "371300", "371300_gaj", "371302", "371302_gaj", "371302001"
    ]
    assert flat[2]["parent_code"] == "371300" and flat[2]["kind"] == "county"
    departments = client.get("/api/v1/orgs?kind=department", headers=headers).json()
    assert [o["code"] for o in departments] == ["371300_gaj", "371302_gaj"]
    children = client.get("/api/v1/orgs?parent=371302", headers=headers).json()
    assert {o["code"] for o in children} == {"371302001", "371302_gaj"}

    tree = client.get("/api/v1/orgs?tree=true", headers=headers).json()
    assert [root["code"] for root in tree] == ["371300"]
    assert [c["code"] for c in tree[0]["children"]] == ["371302", "371300_gaj"]
    county = tree[0]["children"][0]
    assert [c["code"] for c in county["children"]] == ["371302001", "371302_gaj"]
    subtree = client.get("/api/v1/orgs?tree=true&parent=371302", headers=headers).json()
    assert [n["code"] for n in subtree] == ["371302001", "371302_gaj"]

    missing = client.get("/api/v1/orgs?parent=nowhere", headers=headers)
    assert missing.status_code == 404 and "nowhere" in missing.json()["detail"]
    bad_kind = client.get("/api/v1/orgs?kind=planet", headers=headers)
    assert bad_kind.status_code == 422


def test_get_organisation(client: TestClient) -> None:
    headers = bearer_for(client, Role.AUDITOR)
    response = client.get("/api/v1/orgs/371302001", headers=headers)
    assert response.status_code == 200
    assert response.json()["name"] == "兰山街道"
    assert response.json()["division_code"] == "371302001"
    missing = client.get("/api/v1/orgs/nowhere", headers=headers)
    assert missing.status_code == 404
    assert missing.json()["detail"] == "no organisation with code 'nowhere'"


def test_create_and_update_organisation(client: TestClient) -> None:
    admin = bearer_for(client, Role.PLATFORM_ADMIN)
    body = {"code": "371311", "name": "罗庄区", "kind": "county", "division_code": "371311",
            "parent_code": "371300"}
    created = client.post("/api/v1/orgs", json=body, headers=admin)
    assert created.status_code == 201, created.text
    assert created.json()["parent_code"] == "371300"
    assert client.post("/api/v1/orgs", json=body, headers=admin).status_code == 409

    street = {"code": "371311001", "name": "罗庄街道", "kind": "street",
              "division_code": "371302001", "parent_code": "371311"}
    wrong = client.post("/api/v1/orgs", json=street, headers=admin)
    assert wrong.status_code == 400 and "does not lie within" in wrong.json()["detail"]
    assert client.post(
        "/api/v1/orgs", json={**street, "division_code": "371311001"}, headers=admin
    ).status_code == 201
    unknown_parent = client.post(
        "/api/v1/orgs", json={**street, "code": "x_1", "parent_code": "nowhere"}, headers=admin
    )
    assert unknown_parent.status_code == 404
    extra = client.post("/api/v1/orgs", json={**body, "colour": "red"}, headers=admin)
    assert extra.status_code == 422

    updated = client.patch(
        "/api/v1/orgs/371311", json={"name": "罗庄区（新）", "short_name": "罗庄"}, headers=admin
    )
    assert updated.status_code == 200
    assert updated.json()["name"] == "罗庄区（新）" and updated.json()["short_name"] == "罗庄"
    cycle = client.patch("/api/v1/orgs/371311", json={"parent_code": "371311001"}, headers=admin)
    assert cycle.status_code == 400
    assert client.patch("/api/v1/orgs/nowhere", json={}, headers=admin).status_code == 404

    org_admin = bearer_for(client, Role.ORG_ADMIN)
    assert client.post("/api/v1/orgs", json=body, headers=org_admin).status_code == 403
    assert client.patch("/api/v1/orgs/371311", json={}, headers=org_admin).status_code == 403


# --- users ---------------------------------------------------------------------------------


def _usernames(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [u["username"] for u in _no_hashes(response).json()]


def test_list_users_by_scope(client: TestClient) -> None:
    everyone = ["auditor", "org_admin", "org_user", "platform_admin"]
    admin = bearer_for(client, Role.PLATFORM_ADMIN)
    assert _usernames(client.get("/api/v1/users", headers=admin)) == everyone
    assert _usernames(client.get("/api/v1/users", headers=bearer_for(client, Role.AUDITOR))) == (
        everyone
    )
    org_admin = bearer_for(client, Role.ORG_ADMIN)
    assert _usernames(client.get("/api/v1/users", headers=org_admin)) == ["org_admin", "org_user"]
    assert _usernames(
        client.get("/api/v1/users?org=371300&role=auditor", headers=admin)
    ) == ["auditor"]
    assert client.get("/api/v1/users?org=371300", headers=org_admin).status_code == 403
    assert client.get("/api/v1/users", headers=bearer_for(client, Role.ORG_USER)).status_code == (
        403
    )


def test_get_user(client: TestClient) -> None:
    org_admin = bearer_for(client, Role.ORG_ADMIN)
    response = _no_hashes(client.get("/api/v1/users/Org_User", headers=org_admin))
    assert response.status_code == 200
    assert response.json()["org_code"] == "371300_gaj" and response.json()["is_active"] is True
    assert client.get("/api/v1/users/platform_admin", headers=org_admin).status_code == 403
    missing = client.get("/api/v1/users/nobody", headers=org_admin)
    assert missing.status_code == 404 and missing.json()["detail"] == "no user named 'nobody'"


def test_org_admin_creates_users_only_in_own_subtree_and_roles(client: TestClient) -> None:
    org_admin = bearer_for(client, Role.ORG_ADMIN)
    body = {"username": "li.si", "display_name": "李四", "role": "org_user", "password": PASSWORD}
    created = _no_hashes(client.post("/api/v1/users", json=body, headers=org_admin))
    assert created.status_code == 201, created.text
    assert created.json()["org_code"] == "371300_gaj"  # defaults to the caller's org
    assert PASSWORD not in created.text
    assert _token(client, username="li.si", password=PASSWORD).status_code == 200

    other_org = client.post(
        "/api/v1/users", json={**body, "username": "x1", "org_code": "371302_gaj"},
        headers=org_admin,
    )
    assert other_org.status_code == 403 and "outside your organisation" in other_org.text
    for role in ("platform_admin", "auditor"):
        escalation = client.post(
            "/api/v1/users", json={**body, "username": "x2", "role": role}, headers=org_admin
        )
        assert escalation.status_code == 403, role
    assert client.post(
        "/api/v1/users", json={**body, "username": "x3", "role": "org_admin"}, headers=org_admin
    ).status_code == 201

    duplicate = client.post("/api/v1/users", json={**body, "username": "LI.SI"}, headers=org_admin)
    assert duplicate.status_code == 409
    weak = client.post(
        "/api/v1/users", json={**body, "username": "x4", "password": "short"}, headers=org_admin
    )
    assert weak.status_code == 400 and "at least 10 characters" in weak.json()["detail"]
    no_org = client.post(
        "/api/v1/users", json={**body, "username": "x5", "org_code": "nowhere"}, headers=org_admin
    )
    assert no_org.status_code == 404
    assert client.post("/api/v1/users", json={"username": "x6"}, headers=org_admin).status_code == (
        422
    )


def test_platform_admin_grants_any_role_anywhere(client: TestClient) -> None:
    admin = bearer_for(client, Role.PLATFORM_ADMIN)
    response = client.post(
        "/api/v1/users",
        json={"username": "shenji", "role": "auditor", "password": PASSWORD,
              "org_code": "371302_gaj"},
        headers=admin,
    )
    assert response.status_code == 201
    assert response.json()["role"] == "auditor"


def test_update_user_role_and_deactivate_revokes_tokens(client: TestClient) -> None:
    org_admin = bearer_for(client, Role.ORG_ADMIN)
    user_token = bearer_for(client, Role.ORG_USER)
    promoted = client.patch("/api/v1/users/org_user", json={"role": "org_admin"}, headers=org_admin)
    assert promoted.status_code == 200 and promoted.json()["role"] == "org_admin"
    deactivated = client.patch(
        "/api/v1/users/org_user", json={"is_active": False}, headers=org_admin
    )
    assert _no_hashes(deactivated).json()["is_active"] is False
    assert client.get("/api/v1/me", headers=user_token).status_code == 401
    reactivated = client.patch(
        "/api/v1/users/org_user", json={"is_active": True}, headers=org_admin
    )
    assert reactivated.json()["is_active"] is True
    assert client.get("/api/v1/me", headers=user_token).status_code == 401  # stays revoked

    assert client.patch(
        "/api/v1/users/org_user", json={"role": "platform_admin"}, headers=org_admin
    ).status_code == 403
    assert client.patch(
        "/api/v1/users/platform_admin", json={"is_active": False}, headers=org_admin
    ).status_code == 403
    myself = client.patch("/api/v1/users/org_admin", json={"is_active": False}, headers=org_admin)
    assert myself.status_code == 400 and "yourself" in myself.json()["detail"]
    assert client.patch(
        "/api/v1/users/nobody", json={"is_active": False}, headers=org_admin
    ).status_code == 404
    assert client.patch(
        "/api/v1/users/org_user", json={"role": "mayor"}, headers=org_admin
    ).status_code == 422


def test_reset_password(client: TestClient) -> None:
    org_admin = bearer_for(client, Role.ORG_ADMIN)
    old_token = bearer_for(client, Role.ORG_USER)
    new_password = "a-brand-new-password"
    response = client.post(
        "/api/v1/users/org_user/password", json={"password": new_password}, headers=org_admin
    )
    assert response.status_code == 204
    assert client.get("/api/v1/me", headers=old_token).status_code == 401
    assert _token(client, username="org_user", password=PASSWORD).status_code == 401
    assert _token(client, username="org_user", password=new_password).status_code == 200
    assert client.post(
        "/api/v1/users/platform_admin/password", json={"password": new_password},
        headers=org_admin,
    ).status_code == 403
    assert client.post(
        "/api/v1/users/org_user/password", json={"password": "short"}, headers=org_admin
    ).status_code == 400


# --- API apps ------------------------------------------------------------------------------


def test_app_lifecycle_secret_shown_once(client: TestClient) -> None:
    org_admin = bearer_for(client, Role.ORG_ADMIN)
    app = _app(client, org_admin)
    assert app["org_code"] == "371300_gaj" and app["active"] is True
    assert len(app["app_secret"]) >= 40
    listed = client.get("/api/v1/apps", headers=org_admin)
    assert [a["app_key"] for a in _no_hashes(listed).json()] == [app["app_key"]]
    assert app["app_secret"] not in listed.text and "secret" not in listed.text
    one = client.get(f"/api/v1/apps/{app['app_key']}", headers=org_admin)
    assert one.status_code == 200 and app["app_secret"] not in one.text

    app_token = _app_bearer(client, app)
    rotated = client.post(f"/api/v1/apps/{app['app_key']}/rotate", headers=org_admin)
    assert rotated.status_code == 200
    new_secret = rotated.json()["app_secret"]
    assert new_secret != app["app_secret"]
    assert client.get("/api/v1/orgs", headers=app_token).status_code == 401
    app_token = _app_bearer(client, {**app, "app_secret": new_secret})

    revoked = client.post(f"/api/v1/apps/{app['app_key']}/revoke", headers=org_admin)
    assert revoked.status_code == 200 and revoked.json()["active"] is False
    assert "app_secret" not in revoked.json()
    assert client.get("/api/v1/orgs", headers=app_token).status_code == 401
    again = client.post(f"/api/v1/apps/{app['app_key']}/rotate", headers=org_admin)
    assert again.status_code == 400 and "revoked" in again.json()["detail"]


def test_org_admin_manages_only_own_subtree_apps(client: TestClient) -> None:
    admin = bearer_for(client, Role.PLATFORM_ADMIN)
    org_admin = bearer_for(client, Role.ORG_ADMIN)
    county_app = _app(client, admin, org_code="371302_gaj")
    own_app = _app(client, org_admin)
    assert {a["app_key"] for a in client.get("/api/v1/apps", headers=admin).json()} == {
        county_app["app_key"], own_app["app_key"]
    }
    assert [a["app_key"] for a in client.get("/api/v1/apps", headers=org_admin).json()] == [
        own_app["app_key"]
    ]
    key = county_app["app_key"]
    for method, path in [("GET", f"/api/v1/apps/{key}"), ("POST", f"/api/v1/apps/{key}/rotate"),
                         ("POST", f"/api/v1/apps/{key}/revoke")]:
        assert client.request(method, path, headers=org_admin).status_code == 403, path
    foreign = client.post(
        "/api/v1/apps", json={"name": "x", "org_code": "371302_gaj"}, headers=org_admin
    )
    assert foreign.status_code == 403
    assert client.get("/api/v1/apps/dp_nothing", headers=org_admin).status_code == 404
    assert client.post("/api/v1/apps", json={"name": ""}, headers=org_admin).status_code == 422
    assert client.get("/api/v1/apps", headers=bearer_for(client, Role.ORG_USER)).status_code == (
        403
    )
