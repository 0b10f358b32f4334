"""The organisation, user and app pages as a browser uses them: signed in, htmx form posts."""

from __future__ import annotations

import re

import httpx2 as httpx
from conftest import PASSWORD
from fastapi.testclient import TestClient
from web.forms import HTML, login, session_csrf


def sign_in(client: TestClient, username: str) -> dict[str, str]:
    """Log in through the form; returns the headers htmx sends (CSRF from the page chrome)."""
    assert login(client, username).status_code == 303
    return {**HTML, "HX-Request": "true", "X-CSRF-Token": session_csrf(client)}


def nav_paths(client: TestClient) -> list[str]:
    page = client.get("/", headers=HTML).text
    nav = re.search(r'<nav class="main-nav".*?</nav>', page, re.S)
    assert nav is not None
    return re.findall(r'href="([^"]+)"', nav.group(0))


def test_nav_shows_only_pages_the_role_may_open(client: TestClient) -> None:
    expected = {
        "platform_admin": ["/orgs", "/users", "/apps"],
        "org_admin": ["/orgs", "/users", "/apps"],
        "auditor": ["/orgs", "/users"],
        "org_user": ["/orgs"],
    }
    for username, pages in expected.items():
        client.cookies.clear()
        sign_in(client, username)
        shown = [p for p in nav_paths(client) if p in {"/orgs", "/users", "/apps"}]
        assert shown == pages, username
        for page in {"/orgs", "/users", "/apps"} - set(pages):
            assert client.get(page, headers=HTML).status_code == 403, (username, page)


def test_organisation_tree_page(client: TestClient) -> None:
    sign_in(client, "org_user")
    page = client.get("/orgs", headers=HTML)
    assert page.status_code == 200
    html = page.text
    assert "<h1>组织机构</h1>" in html  # Chinese by default
    for name, division in [("临沂市", "371300"), ("兰山区", "371302"), ("兰山街道", "371302001"),
                           ("临沂市公安局", "371300"), ("兰山区公安分局", "371302")]:
        assert re.search(
            rf'org-name">{name}<.*?org-division"[^>]*>{division}<', html, re.S
        ), name
    assert "<details open>" in html  # collapsible, top levels open
    assert html.index("兰山区") < html.index("兰山街道")  # the street nests under its county
    assert 'hx-post="/orgs"' not in html  # only platform admins get the form


def test_platform_admin_adds_an_organisation_with_htmx(client: TestClient) -> None:
    headers = sign_in(client, "platform_admin")
    form = {"kind": "county", "parent_code": "371300", "name": "罗庄区",
            "code": "371311", "division_code": "371311"}
    response = client.post("/orgs", data=form, headers=headers)
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="org-panel"')  # the panel, no chrome
    assert "罗庄区" in response.text and "alert-success" in response.text

    wrong = client.post("/orgs", data={**form, "code": "371312", "division_code": "370102"},
                        headers=headers)
    assert wrong.status_code == 200  # htmx swaps only 2xx; the error is in the panel
    assert "alert-error" in wrong.text and "does not lie within" in wrong.text
    assert 'value="371312"' in wrong.text  # the form keeps what was typed

    plain = client.post("/orgs", data={**form, "csrf_token": headers["X-CSRF-Token"]},
                        headers=HTML)
    assert plain.status_code == 409 and "<html" in plain.text  # whole page without htmx


def test_form_posts_need_the_csrf_token(client: TestClient) -> None:
    headers = sign_in(client, "platform_admin")
    del headers["X-CSRF-Token"]
    response = client.post("/apps", data={"name": "x"}, headers=headers)
    assert response.status_code == 403


def test_users_page_scope_and_create(client: TestClient) -> None:
    headers = sign_in(client, "org_admin")
    page = client.get("/users", headers=HTML).text
    assert "org_user" in page and "platform_admin</code>" not in page
    role_select = page.split('name="role"', 1)[1].split("</select>")[0]
    roles = re.findall(r'<option value="(\w+)"', role_select)
    assert roles == ["org_admin", "org_user"]  # never offers platform_admin or auditor
    assert "$argon2" not in page

    form = {"username": "li.si", "display_name": "李四", "password": PASSWORD,
            "role": "org_user", "org_code": "371300_gaj"}
    created = client.post("/users", data=form, headers=headers)
    assert created.status_code == 200 and "li.si" in created.text
    assert "alert-success" in created.text and PASSWORD not in created.text

    escalate = client.post("/users", data={**form, "username": "x1", "role": "platform_admin"},
                           headers=headers)
    assert "alert-error" in escalate.text and "<code>x1</code>" not in escalate.text
    foreign = client.post("/users", data={**form, "username": "x2", "org_code": "371302_gaj"},
                          headers=headers)
    assert "outside your organisation" in foreign.text and "<code>x2</code>" not in foreign.text


def test_deactivate_from_the_users_page(client: TestClient) -> None:
    headers = sign_in(client, "org_admin")
    response = client.post("/users/org_user/active", data={"active": "0"}, headers=headers)
    assert response.status_code == 200
    row = re.search(r"<tr class=\"inactive\">.*?</tr>", response.text, re.S)
    assert row is not None and "org_user" in row.group(0)
    foreign = client.post("/users/platform_admin/active", data={"active": "0"}, headers=headers)
    assert "alert-error" in foreign.text
    client.cookies.clear()
    assert login(client, "org_user").status_code == 400  # can no longer sign in


def _secret(response: httpx.Response) -> str | None:
    match = re.search(r'aria-label="[^"]*client_secret[^"]*"', response.text)
    values = re.findall(r'class="secret-value" readonly value="([^"]+)"', response.text)
    return values[1] if match and len(values) == 2 else None


def test_apps_page_shows_the_secret_once_and_revokes(client: TestClient) -> None:
    headers = sign_in(client, "org_admin")
    created = client.post("/apps", data={"name": "户籍系统", "org_code": "371300_gaj"},
                          headers=headers)
    assert created.status_code == 200
    assert "secret-box" in created.text
    assert created.headers["cache-control"] == "no-store"
    secret = _secret(created)
    assert secret is not None and len(secret) >= 40
    key = re.findall(r'class="secret-value" readonly value="([^"]+)"', created.text)[0]

    again = client.get("/apps", headers=HTML)
    assert key in again.text and secret not in again.text and "secret-box" not in again.text
    token = client.post("/api/v1/auth/token", data={
        "grant_type": "client_credentials", "client_id": key, "client_secret": secret})
    assert token.status_code == 200

    revoked = client.post(f"/apps/{key}/revoke", headers=headers)
    assert revoked.status_code == 200 and "alert-success" in revoked.text
    assert f'hx-post="/apps/{key}/revoke"' not in revoked.text  # no button on a revoked app
    bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
    assert client.get("/api/v1/orgs", headers=bearer).status_code == 401


def test_org_admin_cannot_use_pages_on_other_orgs_apps(client: TestClient) -> None:
    admin_headers = sign_in(client, "platform_admin")
    created = client.post("/apps", data={"name": "区系统", "org_code": "371302_gaj"},
                          headers=admin_headers)
    key = re.findall(r'class="secret-value" readonly value="([^"]+)"', created.text)[0]
    client.cookies.clear()
    headers = sign_in(client, "org_admin")
    assert key not in client.get("/apps", headers=HTML).text
    refused = client.post(f"/apps/{key}/revoke", headers=headers)
    assert "outside your organisation" in refused.text
    foreign = client.post("/apps", data={"name": "x", "org_code": "371302_gaj"}, headers=headers)
    assert "outside your organisation" in foreign.text and "secret-box" not in foreign.text
