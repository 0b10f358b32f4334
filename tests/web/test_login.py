"""Signing in and out through the login form; session cookies; CSRF on cookie writes."""

from __future__ import annotations

from http.cookies import SimpleCookie
from pathlib import Path

import pytest
from conftest import PASSWORD, TEST_SECRET_KEY, make_city, make_users
from fastapi import FastAPI
from fastapi.testclient import TestClient

from datapolis.config import Settings
from datapolis.orgs.deps import SESSION_COOKIE
from datapolis.registry.db import Registry
from datapolis.web.app import create_app
from datapolis.web.i18n import LANG_COOKIE
from web.forms import HTML, form_token, login, session_csrf


def _set_cookie(response_headers: list[str], name: str) -> SimpleCookie:
    for header in response_headers:
        cookie: SimpleCookie = SimpleCookie()
        cookie.load(header)
        if name in cookie:
            return cookie
    raise AssertionError(f"no Set-Cookie for {name}")


def test_login_sets_a_locked_down_session_cookie_and_redirects_home(client: TestClient) -> None:
    response = login(client, "platform_admin")
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    cookie = _set_cookie(response.headers.get_list("set-cookie"), SESSION_COOKIE)[SESSION_COOKIE]
    assert cookie["httponly"] is True
    assert cookie["samesite"].lower() == "lax"
    assert cookie["secure"] is True  # env=test is not dev
    assert cookie["path"] == "/"
    home = client.get("/", headers=HTML)
    assert home.status_code == 200
    assert "platform_admin" in home.text


def test_dev_mode_cookie_is_not_secure(sqlite_registry: Registry, tmp_path: Path) -> None:
    with sqlite_registry.session() as session:
        make_users(session, make_city(session))
    settings = Settings(env="dev", home=tmp_path, secret_key=TEST_SECRET_KEY)
    app = create_app(settings, sqlite_registry)
    with TestClient(app, base_url="http://testserver") as client:
        response = login(client, "org_user")
    cookie = _set_cookie(response.headers.get_list("set-cookie"), SESSION_COOKIE)[SESSION_COOKIE]
    assert response.status_code == 303
    assert cookie["secure"] == ""
    assert cookie["httponly"] is True


def test_wrong_password_re_renders_the_form_with_a_translated_error(client: TestClient) -> None:
    response = login(client, "platform_admin", password="not-the-password")
    assert response.status_code == 400
    assert "用户名或密码错误" in response.text
    assert 'value="platform_admin"' in response.text
    assert SESSION_COOKIE not in response.cookies
    assert client.get("/", headers=HTML).status_code == 401


def test_unknown_user_gets_the_same_answer(client: TestClient) -> None:
    response = login(client, "nobody-here")
    assert response.status_code == 400
    assert "用户名或密码错误" in response.text


def test_login_form_without_its_csrf_cookie_is_refused(client: TestClient) -> None:
    token = form_token(client.get("/login", headers=HTML).text)
    client.cookies.clear()  # the signed half of the token is gone, as from another site
    response = client.post(
        "/login",
        data={"username": "platform_admin", "password": PASSWORD, "csrf_token": token},
        headers=HTML,
        follow_redirects=False,
    )
    assert response.status_code == 400
    assert "登录表单已过期" in response.text
    assert SESSION_COOKIE not in response.cookies


def test_login_form_with_a_forged_token_is_refused(client: TestClient) -> None:
    client.get("/login", headers=HTML)
    response = client.post(
        "/login",
        data={"username": "platform_admin", "password": PASSWORD, "csrf_token": "forged"},
        headers=HTML,
        follow_redirects=False,
    )
    assert response.status_code == 400
    assert SESSION_COOKIE not in response.cookies


@pytest.mark.parametrize(
    ("next_path", "expected"),
    [
        ("/orgs?page=2", "/orgs?page=2"),
        ("//evil.com", "/"),
        ("https://evil.com", "/"),
        ("/\\evil.com", "/"),
        ("/\t/evil.com", "/"),
        ("javascript:alert(1)", "/"),
    ],
)
def test_login_redirects_only_to_local_paths(
    client: TestClient, next_path: str, expected: str
) -> None:
    response = login(client, "org_user", next_path=next_path)
    assert response.status_code == 303
    assert response.headers["location"] == expected


def test_logout_revokes_the_session(client: TestClient) -> None:
    login(client, "org_user")
    stolen = client.cookies.get(SESSION_COOKIE)
    response = client.post(
        "/logout", data={"csrf_token": session_csrf(client)}, headers=HTML, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert client.get("/", headers=HTML).status_code == 401
    # The old cookie is dead on the server too, not just forgotten by this browser.
    assert stolen
    client.cookies.set(SESSION_COOKIE, stolen)
    assert client.get("/", headers=HTML).status_code == 401


def test_cookie_posts_need_the_session_csrf_token(client: TestClient) -> None:
    login(client, "org_user")
    missing = client.post("/logout", headers=HTML, follow_redirects=False)
    assert missing.status_code == 403
    wrong = client.post(
        "/logout", data={"csrf_token": "wrong"}, headers=HTML, follow_redirects=False
    )
    assert wrong.status_code == 403
    assert client.get("/", headers=HTML).status_code == 200  # still signed in
    by_header = client.post(
        "/logout", headers={**HTML, "X-CSRF-Token": session_csrf(client)}, follow_redirects=False
    )
    assert by_header.status_code == 303


def test_htmx_requests_carry_the_csrf_header(client: TestClient) -> None:
    login(client, "org_user")
    page = client.get("/", headers=HTML).text
    assert f'hx-headers=\'{{"X-CSRF-Token": "{session_csrf(client)}"}}\'' in page


def test_logout_needs_a_signed_in_user(app: FastAPI) -> None:
    with TestClient(app, base_url="https://testserver") as client:
        response = client.post("/logout", headers={"Accept": "application/json"})
    assert response.status_code == 401


# --- failed sign-in throttling (the throttle itself: tests/orgs/test_throttle.py) ------------


def test_sixth_attempt_is_refused_even_with_the_right_password(client: TestClient) -> None:
    for _ in range(5):
        assert login(client, "org_user", password="not-the-password").status_code == 400
    response = login(client, "Org_User")
    assert response.status_code == 429
    assert 0 < int(response.headers["retry-after"]) <= 15 * 60
    assert "登录失败次数过多，请 15 分钟后再试。" in response.text
    assert 'value="Org_User"' in response.text
    assert SESSION_COOKIE not in response.cookies
    assert client.get("/", headers=HTML).status_code == 401
    assert login(client, "org_admin").status_code == 303  # another account is unaffected


def test_refusal_is_translated(client: TestClient) -> None:
    client.cookies.set(LANG_COOKIE, "en")
    for _ in range(5):
        login(client, "org_user", password="not-the-password")
    response = login(client, "org_user")
    assert response.status_code == 429
    assert "Too many failed sign-in attempts. Please try again in 15 minutes." in response.text


def test_form_and_api_failures_count_together(client: TestClient) -> None:
    for _ in range(3):
        assert login(client, "org_user", password="not-the-password").status_code == 400
    for _ in range(2):
        wrong = {"username": "org_user", "password": "not-the-password"}
        assert client.post("/api/v1/auth/token", data=wrong).status_code == 401
    assert login(client, "org_user").status_code == 429
    right = {"username": "org_user", "password": PASSWORD}
    assert client.post("/api/v1/auth/token", data=right).status_code == 429


def test_a_successful_login_resets_the_count(client: TestClient) -> None:
    for _ in range(4):
        login(client, "org_user", password="not-the-password")
    assert login(client, "org_user").status_code == 303
    for _ in range(4):
        login(client, "org_user", password="not-the-password")
    assert login(client, "org_user").status_code == 303


def test_the_sign_in_page_leads_visitors_to_the_open_data_portal(client: TestClient) -> None:
    page = client.get("/login", headers=HTML)
    assert page.status_code == 200
    assert '<a href="/open">临沂市公共数据开放网' in page.text
    assert client.get("/open", headers=HTML).status_code == 200  # no sign-in to browse
