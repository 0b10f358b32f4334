"""The catalog JSON API with real tokens: who may do what, and what each step records."""

from __future__ import annotations

from typing import Any

import httpx2 as httpx
from conftest import bearer_for
from fastapi.testclient import TestClient

from datapolis.orgs.models import Role


def entry_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "常住人口基本信息", "catalog_type": "basic_population", "heading": "001",
        "summary": "全市常住人口的身份与户籍信息", "share_type": "conditional",
        "share_conditions": "用于身份核验", "share_methods": ["interface"],
        "update_cycle": "daily",
        "items": [{"name": "公民身份号码", "column_name": "gmsfhm", "length": 18},
                  {"name": "性别", "column_name": "xb", "length": 1, "element_code": "DE0003"}],
    }
    return body | changes


def call(client: TestClient, role: Role, method: str, path: str, **kwargs: Any) -> httpx.Response:
    return client.request(method, path, headers=bearer_for(client, role), **kwargs)


def create(client: TestClient, role: Role = Role.ORG_USER, **changes: Any) -> str:
    response = call(client, role, "POST", "/api/catalog/entries", json=entry_body(**changes))
    assert response.status_code == 201, response.text
    code: str = response.json()["resource_code"]
    return code


def test_a_department_drafts_and_the_bureau_publishes(seeded_client: TestClient) -> None:
    client = seeded_client
    code = create(client)
    assert code == "101001/000001"
    entry = call(client, Role.ORG_USER, "GET", f"/api/catalog/entries/{code}").json()
    assert (entry["status"], entry["provider_code"]) == ("draft", "371300_gaj")
    assert entry["items"][1]["element_name"] == "性别"
    assert entry["items"][1]["mapped_by"] == "org_user"

    refused = call(client, Role.ORG_USER, "POST", f"/api/catalog/entries/{code}/submit")
    assert refused.status_code == 403  # org users edit; their admin submits
    assert call(client, Role.ORG_ADMIN, "POST",
                f"/api/catalog/entries/{code}/submit").json()["status"] == "submitted"
    assert call(client, Role.ORG_ADMIN, "POST",
                f"/api/catalog/entries/{code}/approve").status_code == 403
    rejected = call(client, Role.PLATFORM_ADMIN, "POST", f"/api/catalog/entries/{code}/reject",
                    json={})
    assert rejected.status_code == 400 and "needs a comment" in rejected.json()["detail"]
    for action in ("approve", "publish"):
        response = call(client, Role.PLATFORM_ADMIN, "POST",
                        f"/api/catalog/entries/{code}/{action}", json={"comment": "符合要求"})
        assert response.status_code == 200, response.text
    published = response.json()
    assert published["status"] == "published" and published["publish_date"]

    versions = call(client, Role.AUDITOR, "GET", f"/api/catalog/entries/{code}/versions").json()
    assert [(v["action"], v["actor"]) for v in versions] == [
        ("created", "org_user"), ("submitted", "org_admin"),
        ("approved", "platform_admin"), ("published", "platform_admin")]
    diff = call(client, Role.AUDITOR, "GET",
                f"/api/catalog/entries/{code}/diff?from=1&to=4").json()
    assert {(c["field"], c["old"], c["new"]) for c in diff["fields"]} >= {
        ("status", "draft", "published")}
    snapshot = call(client, Role.AUDITOR, "GET",
                    f"/api/catalog/entries/{code}/versions/1").json()["snapshot"]
    assert snapshot["status"] == "draft" and snapshot["items"][0]["name"] == "公民身份号码"

    edit = call(client, Role.ORG_USER, "PUT", f"/api/catalog/entries/{code}",
                json={"name": "改名"})
    assert edit.status_code == 409 and "is published" in edit.json()["detail"]
    again = call(client, Role.PLATFORM_ADMIN, "POST", f"/api/catalog/entries/{code}/publish")
    assert again.status_code == 409 and "cannot publish" in again.json()["detail"]


def test_drafts_stay_inside_the_provider(seeded_client: TestClient) -> None:
    client = seeded_client
    code = create(client)
    # The county's police bureau (a user created there) sees neither the draft nor its list.
    county = call(client, Role.PLATFORM_ADMIN, "POST", "/api/v1/users", json={
        "username": "county_user", "password": "another-password-1", "role": "org_user",
        "org_code": "371302_gaj"})
    assert county.status_code == 201, county.text
    token = client.post("/api/v1/auth/token", data={
        "username": "county_user", "password": "another-password-1"}).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(f"/api/catalog/entries/{code}", headers=headers).status_code == 404
    assert client.get("/api/catalog/entries", headers=headers).json() == []
    outside = client.put(f"/api/catalog/entries/{code}", headers=headers, json={"name": "x"})
    assert outside.status_code == 404
    foreign = client.post("/api/catalog/entries", headers=headers,
                          json=entry_body(provider_code="371300_gaj"))
    assert foreign.status_code == 403 and "outside your organisation" in foreign.text
    # Published, it is everyone's.
    for role, action in [(Role.ORG_ADMIN, "submit"), (Role.PLATFORM_ADMIN, "approve"),
                         (Role.PLATFORM_ADMIN, "publish")]:
        assert call(client, role, "POST", f"/api/catalog/entries/{code}/{action}").is_success
    listed = client.get("/api/catalog/entries", headers=headers).json()
    assert [e["resource_code"] for e in listed] == [code]


def test_refusals_are_clear_4xx(seeded_client: TestClient) -> None:
    client = seeded_client
    cases = [
        (entry_body(heading="12"), 400, "目 '12' must be three digits"),
        (entry_body(catalog_type="basic_credit", subject="01"), 400, "have 项 04, not 01"),
        (entry_body(related_codes=["101001/999999"]), 400, "unknown related resource code"),
        (entry_body(items=[{"name": "a", "element_code": "NOPE"}]), 400, "unknown data element"),
        (entry_body(share_type="sometimes"), 422, "share_type"),
        (entry_body(provider_code="no_such_org"), 404, "no_such_org"),
    ]
    for body, status, message in cases:
        response = call(client, Role.ORG_USER, "POST", "/api/catalog/entries", json=body)
        assert response.status_code == status, (body, response.text)
        assert message in response.text
    create(client, resource_code="101001/000007")
    duplicate = call(client, Role.ORG_USER, "POST", "/api/catalog/entries",
                     json=entry_body(resource_code="101001/000007"))
    assert duplicate.status_code == 409
    assert call(client, Role.ORG_USER, "GET", "/api/catalog/entries/101001/000099"
                ).status_code == 404
    assert len(call(client, Role.PLATFORM_ADMIN, "GET", "/api/catalog/export").json()) == 1


def test_mapping_suggestions_and_confirmation(seeded_client: TestClient) -> None:
    client = seeded_client
    code = create(client)
    suggested = call(client, Role.ORG_USER, "GET",
                     f"/api/catalog/entries/{code}/suggestions").json()
    best = suggested["公民身份号码"][0]
    assert (best["element_code"], best["reasons"][0]["kind"]) == ("DE0001", "name")
    confirmed = call(client, Role.ORG_USER, "POST", f"/api/catalog/entries/{code}/mappings",
                     json={"item": "公民身份号码", "element_code": best["element_code"]})
    assert confirmed.status_code == 200, confirmed.text
    assert (confirmed.json()["element_code"], confirmed.json()["mapped_by"]) == (
        "DE0001", "org_user")
    missing = call(client, Role.ORG_USER, "POST", f"/api/catalog/entries/{code}/mappings",
                   json={"item": "没有", "element_code": "DE0001"})
    assert missing.status_code == 404
    free = call(client, Role.AUDITOR, "POST", "/api/catalog/suggest",
                json={"name": "col_x", "samples": ["1", "2", "2", "1"]}).json()
    assert free[0]["element_name"] == "性别"


def test_standards_are_readable_by_everyone_signed_in(seeded_client: TestClient) -> None:
    client = seeded_client
    tables = call(client, Role.ORG_USER, "GET", "/api/catalog/code-tables").json()
    assert {t["code"]: t["value_count"] for t in tables}["sex"] == 4
    division = call(client, Role.ORG_USER, "GET", "/api/catalog/code-tables/division").json()
    assert division["standard"] == "GB/T 2260-2007"
    linyi = [v["code"] for v in division["values"] if v["parent_code"] == "371300"]
    assert len(linyi) == 12 and linyi[0] == "371302"
    element = call(client, Role.ORG_USER, "GET", "/api/catalog/elements/DE0004").json()
    assert (element["name"], element["code_table"]) == ("民族", "ethnic_group")
    assert call(client, Role.ORG_USER, "GET", "/api/catalog/code-tables/nope").status_code == 404
    assert client.get("/api/catalog/code-tables").status_code == 401
