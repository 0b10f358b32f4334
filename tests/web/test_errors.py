"""Errors: pages for browsers, JSON for API clients, never a traceback."""

from __future__ import annotations

import logging

import pytest
from conftest import bearer_for
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from datapolis.errors import Conflict
from datapolis.orgs.deps import public
from datapolis.orgs.models import Role
from web.forms import HTML, login

JSON = {"Accept": "application/json"}


def test_browser_without_session_gets_the_login_form_with_next(client: TestClient) -> None:
    response = client.get("/metrics?x=1", headers=HTML)
    assert response.status_code == 401
    assert 'action="/login"' in response.text
    assert 'name="next" value="/metrics?x=1"' in response.text
    assert "请登录" in response.text or "登录" in response.text
    # Submitting it lands on the page that was asked for.
    assert login(client, "platform_admin", next_path="/metrics?x=1").headers["location"] == (
        "/metrics?x=1"
    )


def test_api_client_without_credentials_gets_json_401(client: TestClient) -> None:
    response = client.get("/metrics", headers=JSON)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json() == {"detail": "authentication required"}


def test_htmx_fragment_without_session_sends_the_page_to_login(client: TestClient) -> None:
    response = client.get(
        "/",
        headers={
            **HTML,
            "HX-Request": "true",
            "HX-Current-URL": "https://testserver/orgs?page=2",
        },
    )
    assert response.status_code == 401
    assert response.headers["hx-redirect"] == "/login?next=%2Forgs%3Fpage%3D2"


def test_forbidden_is_a_page_for_browsers_and_json_for_apis(client: TestClient) -> None:
    login(client, "org_user")
    page = client.get("/metrics", headers=HTML)
    assert page.status_code == 403
    assert "您无权访问此页面" in page.text
    assert "org_user" in page.text  # the chrome still knows who is signed in
    api = client.get("/metrics", headers=bearer_for(client, Role.ORG_USER) | JSON)
    assert api.status_code == 403
    assert api.json() == {"detail": "permission system.metrics required"}


def test_not_found_page_and_json(client: TestClient) -> None:
    page = client.get("/no/such/page", headers=HTML)
    assert page.status_code == 404
    assert "页面不存在" in page.text
    assert "退出登录" not in page.text  # nobody is signed in
    login(client, "org_user")
    signed_in = client.get("/no/such/page", headers=HTML)
    assert signed_in.status_code == 404
    assert "退出登录" in signed_in.text  # the header still shows the user menu and the menu
    assert 'class="main-nav"' in signed_in.text
    api = client.get("/api/v1/no-such-thing", headers=HTML)
    assert api.status_code == 404
    assert api.json() == {"detail": "Not Found"}


@pytest.fixture
def failing_app(app: FastAPI) -> FastAPI:
    def crash() -> None:
        raise RuntimeError("secret internals: password=hunter2")

    def conflict() -> None:
        raise Conflict("organisation code '371300' is already taken")

    app.add_api_route("/test/crash", crash, dependencies=[Depends(public)])
    app.add_api_route("/test/conflict", conflict, dependencies=[Depends(public)])
    return app


def test_user_errors_keep_their_status_and_message(failing_app: FastAPI) -> None:
    with TestClient(failing_app, base_url="https://testserver") as client:
        api = client.get("/test/conflict", headers=JSON)
        assert api.status_code == 409
        assert api.json() == {"detail": "organisation code '371300' is already taken"}
        page = client.get("/test/conflict", headers=HTML)
        assert page.status_code == 409
        assert "与现有数据冲突" in page.text
        assert "371300" in page.text


def test_server_errors_are_logged_and_shown_without_details(
    failing_app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    with TestClient(
        failing_app, base_url="https://testserver", raise_server_exceptions=False
    ) as client, caplog.at_level(logging.ERROR, logger="datapolis.web.errors"):
        page = client.get("/test/crash", headers=HTML)
        api = client.get("/test/crash", headers=JSON)
    assert page.status_code == 500
    assert "系统出现错误" in page.text
    assert "hunter2" not in page.text
    assert "Traceback" not in page.text
    assert api.status_code == 500
    assert api.json() == {"detail": "internal server error"}
    for response in (page, api):
        assert response.headers["x-frame-options"] == "DENY"
        assert "script-src 'self'" in response.headers["content-security-policy"]
    assert any("/test/crash" in record.getMessage() for record in caplog.records)
    assert any(record.exc_info for record in caplog.records)
