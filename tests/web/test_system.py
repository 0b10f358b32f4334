"""Health check, Prometheus metrics, static files and security headers."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import pytest
from conftest import TEST_SECRET_KEY, bearer_for
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from datapolis import __version__
from datapolis.config import Settings
from datapolis.orgs.models import Role
from datapolis.registry.db import open_registry
from datapolis.web.app import create_app
from web.forms import HTML, login

JSON = {"Accept": "application/json"}


def test_healthz_reports_a_reachable_registry(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "version": __version__, "registry": "reachable"}


def test_healthz_is_503_when_the_registry_is_down(app: FastAPI) -> None:
    # Nothing listens on port 1: connections are refused at once.
    down = open_registry("postgresql+psycopg2://postgres@127.0.0.1:1/none", check=False)
    with TestClient(create_app(app.state.settings, down)) as client:
        response = client.get("/healthz")
    down.close()
    assert response.status_code == 503
    assert response.json()["registry"] == "unreachable"


def test_metrics_needs_a_caller_with_the_metrics_permission(client: TestClient) -> None:
    assert client.get("/metrics", headers=JSON).status_code == 401
    assert client.get("/metrics", headers=bearer_for(client, Role.ORG_USER)).status_code == 403


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_metrics_in_prometheus_text_for_a_platform_admin(client: TestClient) -> None:
    client.get("/lang/en", params={"next": "/"}, follow_redirects=False)
    client.get("/lang/zh_Hans_CN", follow_redirects=False)
    client.get("/no/such/page", headers=HTML)
    response = client.get("/metrics", headers=bearer_for(client, Role.PLATFORM_ADMIN))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples = _samples(response.text)
    requests = "datapolis_http_requests_total"
    # Route templates, not raw paths: both language switches count under one series.
    lang = (requests, (("method", "GET"), ("route", "/lang/{code}"), ("status", "303")))
    assert samples[lang] == 2
    unmatched = (requests, (("method", "GET"), ("route", "<unmatched>"), ("status", "404")))
    assert samples[unmatched] == 1
    assert not any("/no/such/page" in str(key) for key in samples)
    assert any(name == "datapolis_http_request_duration_seconds_count" for name, _ in samples)
    # The key numbers, read from the registry at scrape time (the fixture city and users).
    assert samples[("datapolis_organisations", (("kind", "department"),))] == 2
    assert samples[("datapolis_organisations", (("kind", "city"),))] == 1
    assert samples[("datapolis_users", (("role", "auditor"),))] == 1
    assert samples[("datapolis_api_apps", ())] == 0


def test_each_app_counts_its_own_requests(app: FastAPI) -> None:
    other = create_app(app.state.settings, app.state.registry)
    assert other.state.metrics.registry is not app.state.metrics.registry


def test_auditor_may_read_metrics(client: TestClient) -> None:
    assert client.get("/metrics", headers=bearer_for(client, Role.AUDITOR)).status_code == 200


def test_security_headers_on_pages_and_api(client: TestClient) -> None:
    for response in (client.get("/login", headers=HTML), client.get("/healthz")):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "same-origin"
        policy = response.headers["content-security-policy"]
        assert "script-src 'self'" in policy
        assert "style-src 'self'" in policy
        assert "unsafe-inline" not in policy
        assert "frame-ancestors 'none'" in policy


def test_hsts_where_cookies_are_secure(client: TestClient) -> None:
    responses = [
        client.get("/login", headers=HTML),
        client.get("/healthz"),
        client.get("/no/such/page", headers=HTML),
        client.get("/api/v1/me"),  # 401
    ]
    for response in responses:
        assert (
            response.headers["strict-transport-security"]
            == "max-age=31536000; includeSubDomains"
        ), response.url


@pytest.mark.parametrize(
    ("env", "secure_cookies"), [("dev", None), ("dev", True), ("test", False)]
)
def test_no_hsts_in_dev_or_without_secure_cookies(
    app: FastAPI, tmp_path: Path, env: Literal["dev", "test"], secure_cookies: bool | None
) -> None:
    settings = Settings(
        env=env, home=tmp_path, secret_key=TEST_SECRET_KEY, secure_cookies=secure_cookies
    )
    with TestClient(create_app(settings, app.state.registry)) as client:
        for response in (client.get("/login", headers=HTML), client.get("/healthz")):
            assert response.status_code == 200
            assert response.headers["x-frame-options"] == "DENY"
            assert "strict-transport-security" not in response.headers


def test_pages_have_no_inline_script_or_style(client: TestClient) -> None:
    login(client, "platform_admin")
    for path in ("/", "/login", "/no/such/page"):
        html = client.get(path, headers=HTML).text
        for tag in html.split("<script")[1:]:
            opening = tag.split(">", 1)[0]
            assert "src=" in opening, opening
        assert "style=" not in html
        assert "<style" not in html


def test_docs_and_openapi_stay_public(client: TestClient) -> None:
    assert client.get("/openapi.json").status_code == 200
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()
    # Served from our own npm-installed assets: nothing is fetched from elsewhere at run time.
    hosts = set(re.findall(r"https?://([^/\"']+)", docs.text))
    assert hosts <= {"testserver"}, hosts
    assert "http" not in docs.headers["content-security-policy"]
    assert client.get("/static/vendor/swagger-ui-bundle.js").status_code == 200


def test_static_files_are_public(client: TestClient) -> None:
    css = client.get("/static/css/app.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    assert client.get("/static/js/charts.js").status_code == 200


def test_openapi_documents_the_bearer_login(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    scheme = spec["components"]["securitySchemes"]["bearer"]
    assert scheme["flows"]["password"]["tokenUrl"] == "/api/v1/auth/token"
    assert spec["paths"]["/api/v1/orgs"]["get"]["security"] == [{"bearer": []}]
    assert "security" not in spec["paths"]["/healthz"]["get"]
