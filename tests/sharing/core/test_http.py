"""The applications and grants API and pages, through the real app (SQLite registry)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conftest import PASSWORD
from fastapi.testclient import TestClient
from sqlalchemy import select

from datapolis.config import Settings
from datapolis.orgs.models import ApiApp
from datapolis.registry.base import utcnow
from datapolis.registry.db import Registry
from datapolis.sharing.grants.service import active_grant
from tests.sharing.core.world import World, build


@pytest.fixture
def web(settings: Settings, sqlite_registry: Registry) -> Iterator[tuple[TestClient, World]]:
    from datapolis.web.app import create_app

    world = build(sqlite_registry)
    with TestClient(create_app(settings, sqlite_registry),
                    base_url="https://testserver") as client:
        yield client, world


def bearer(client: TestClient, username: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/token", data={"username": username,
                                                       "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def app_key(world: World, app_id: int) -> str:
    with world.registry.session() as session:
        return str(session.scalar(select(ApiApp.app_key).where(ApiApp.id == app_id)))


def body(world: World, resource: str | None = None, **changes: object) -> dict[str, object]:
    return {"resource": resource or world.resource, "app": app_key(world, world.county_app),
            "purpose": "核验身份", "legal_basis": "《数据安全法》", "scenario": "窗口办事",
            "items": ["xm", "xb", "xzqh_dm"], **changes}


def test_apply_approve_twice_grant_and_revoke_over_the_api(
        web: tuple[TestClient, World]) -> None:
    client, world = web
    county, provider, bureau = (bearer(client, u) for u in
                                ("county_user", "org_admin", "platform_admin"))
    made = client.post("/api/sharing/applications", json=body(world), headers=county)
    assert made.status_code == 201, made.text
    code = made.json()["code"]
    assert made.json()["state"] == "provider_review"
    # The applicant cannot approve; the bureau cannot jump the provider.
    assert client.post(f"/api/sharing/applications/{code}/approve", json={},
                       headers=county).status_code == 403
    assert client.post(f"/api/sharing/applications/{code}/approve", json={},
                       headers=bureau).status_code == 403
    assert [a["code"] for a in client.get("/api/sharing/applications/queue",
                                          headers=provider).json()] == [code]
    bad = client.post(f"/api/sharing/applications/{code}/approve",
                      json={"terms": {"row_scope": "xzqh_dm = = 1"}}, headers=provider)
    assert bad.status_code == 400 and "at character" in bad.json()["detail"]
    step = client.post(f"/api/sharing/applications/{code}/approve", headers=provider, json={
        "comment": "同意", "terms": {"items": ["xm", "xzqh_dm"], "calls_per_day": 500,
                                    "methods": {"xm": {"method": "suppress"}}}})
    assert step.status_code == 200 and step.json()["state"] == "bureau_review"
    done = client.post(f"/api/sharing/applications/{code}/approve", json={"comment": "准予"},
                       headers=bureau)
    assert done.status_code == 200, done.text
    grant = done.json()["grant"]
    shown = client.get(f"/api/sharing/grants/{grant}", headers=county).json()
    assert shown["status"] == "active" and shown["calls_per_day"] == 500
    assert shown["row_scope"] == 'xzqh_dm prefix "371302"'
    assert [(i["column"], i["method"]) for i in shown["items"]] == [("xm", "suppress"),
                                                                     ("xzqh_dm", "keep")]
    # The consumer cannot revoke; the provider can, and the next call finds no grant.
    assert client.post(f"/api/sharing/grants/{grant}/revoke", json={},
                       headers=county).status_code == 403
    revoked = client.post(f"/api/sharing/grants/{grant}/revoke", json={"reason": "到期"},
                          headers=provider)
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    with world.registry.session() as session:
        assert active_grant(session, app_id=world.county_app, resource_code=world.resource,
                            now=utcnow()) is None


def test_refusals_over_the_api(web: tuple[TestClient, World]) -> None:
    client, world = web
    county = bearer(client, "county_user")
    closed = client.post("/api/sharing/applications", json=body(world, world.closed_resource),
                         headers=county)
    assert closed.status_code == 409 and "不予共享" in closed.json()["detail"]
    withheld = client.post("/api/sharing/applications", json=body(world, items=["zjxy"]),
                           headers=county)
    assert withheld.status_code == 400 and "zjxy" in withheld.json()["detail"]
    foreign = client.post("/api/sharing/applications", headers=county, json=body(
        world, app=app_key(world, world.city_app)))
    assert foreign.status_code == 400
    assert client.post("/api/sharing/applications", json=body(world)).status_code == 401
    auditor = bearer(client, "auditor")
    assert client.post("/api/sharing/applications", json=body(world),
                       headers=auditor).status_code == 403
    assert client.get("/api/sharing/grants", headers=auditor).status_code == 403
    policy = client.get(f"/api/sharing/policy/{world.resource}", headers=county).json()
    by_column = {p["column"]: p for p in policy}
    assert by_column["gmsfhm"]["method"] == "pseudonym"
    assert by_column["zjxy"]["method"] is None and by_column["bz"]["withheld_because"]


def login(client: TestClient, username: str) -> str:
    page = client.get("/login")
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    response = client.post("/login", data={"username": username, "password": PASSWORD,
                                           "csrf_token": token}, follow_redirects=False)
    assert response.status_code in (302, 303), response.text
    return client.cookies.get("datapolis_csrf") or token


def csrf(page: str) -> str:
    return page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def test_pages_apply_decide_and_revoke(web: tuple[TestClient, World]) -> None:
    client, world = web
    login(client, "county_user")
    form = client.get(f"/sharing/apply?resource={world.resource}")
    assert form.status_code == 200 and "公民身份号码" in form.text
    made = client.post("/sharing/apply", data={
        "csrf_token": csrf(form.text), "resource": world.resource,
        "app": app_key(world, world.county_app), "purpose": "核验", "legal_basis": "法规",
        "scenario": "窗口", "items": ["xm", "xb"], "valid_until": "2030-12-31"},
        follow_redirects=False)
    assert made.status_code == 303, made.text
    where = made.headers["location"]
    assert "/sharing/applications/A" in where
    mine = client.get("/sharing/applications")
    assert where.rsplit("/", 1)[1] in mine.text
    refused = client.post("/sharing/apply", data={
        "csrf_token": csrf(form.text), "resource": world.resource,
        "app": app_key(world, world.county_app), "purpose": "", "legal_basis": "x",
        "scenario": "y", "items": ["xm"]})
    assert refused.status_code == 400 and "purpose is required" in refused.text
    client.post("/logout", data={"csrf_token": csrf(mine.text)})
    client.cookies.clear()
    login(client, "org_admin")
    queue = client.get("/sharing/approvals")
    assert where.rsplit("/", 1)[1] in queue.text
    page = client.get(where)
    assert 'action="' + where + '/approve"' in page.text
    approved = client.post(where + "/approve", data={
        "csrf_token": csrf(page.text), "items": ["xm", "xb"], "method_xm": "suppress",
        "row_scope": 'xzqh_dm prefix "371302"', "calls_per_day": "100", "comment": "同意"},
        follow_redirects=False)
    assert approved.status_code == 303, approved.text
    client.post("/logout", data={"csrf_token": csrf(page.text)})
    client.cookies.clear()
    login(client, "platform_admin")
    page = client.get(where)
    done = client.post(where + "/approve", data={
        "csrf_token": csrf(page.text), "items": ["xm", "xb"], "method_xm": "suppress",
        "row_scope": 'xzqh_dm prefix "371302"', "calls_per_day": "100"},
        follow_redirects=False)
    assert done.status_code == 303, done.text
    grants = client.get("/sharing/grants")
    code = grants.text.split('href="/sharing/grants/', 1)[1].split('"', 1)[0]
    grant_page = client.get(f"/sharing/grants/{code}")
    assert "371302" in grant_page.text
    revoked = client.post(f"/sharing/grants/{code}/revoke", data={
        "csrf_token": csrf(grant_page.text), "reason": "test"}, follow_redirects=False)
    assert revoked.status_code == 303
    assert client.get(f"/sharing/grants/{code}").text.count("test") >= 1


def test_a_published_entry_page_links_to_the_apply_form(web: tuple[TestClient, World]) -> None:
    client, world = web
    login(client, "county_user")
    page = client.get(f"/catalog/entries/{world.resource}")
    assert page.status_code == 200
    assert "/sharing/apply?resource=" in page.text
    closed = client.get(f"/catalog/entries/{world.closed_resource}")
    assert "/sharing/apply?resource=" not in closed.text


def test_change_a_grant_over_the_api(web: tuple[TestClient, World]) -> None:
    client, world = web
    county, provider = bearer(client, "county_user"), bearer(client, "org_admin")
    made = client.post("/api/sharing/applications", json=body(world, world.open_resource),
                       headers=county)
    grant = made.json()["grant"]
    assert made.json()["state"] == "granted" and grant
    assert client.patch(f"/api/sharing/grants/{grant}", json={"row_scope": ""},
                        headers=county).status_code == 403
    changed = client.patch(f"/api/sharing/grants/{grant}", headers=provider, json={
        "row_scope": 'xzqh_dm in ("371302", "371311")', "rows_per_day": 100,
        "methods": {"xb": {"method": "suppress"}}})
    assert changed.status_code == 200, changed.text
    shown = changed.json()
    assert shown["row_scope"] == 'xzqh_dm in ("371302", "371311")'
    assert shown["rows_per_day"] == 100 and shown["calls_per_day"] is None
    assert {i["column"]: i["method"] for i in shown["items"]}["xb"] == "suppress"
    looser = client.patch(f"/api/sharing/grants/{grant}", headers=provider,
                          json={"methods": {"xm": {"method": "keep"}}})
    assert looser.status_code == 400 and "shows more" in looser.json()["detail"]
    everything = client.patch(f"/api/sharing/grants/{grant}", headers=provider,
                              json={"row_scope": ""})
    assert everything.json()["row_scope"] is None
    listed = client.get("/api/sharing/grants", headers=county).json()
    assert [g["code"] for g in listed] == [grant]


def test_ended_periods_and_others_drafts_are_refused(web: tuple[TestClient, World]) -> None:
    from datapolis.catalog import service as catalog_service
    from datapolis.catalog.lifecycle import Action
    from datapolis.catalog.versions import Actor

    client, world = web
    county = bearer(client, "county_user")
    ended = client.post("/api/sharing/applications", headers=county,
                        json=body(world, valid_until="2020-01-01T00:00:00+08:00"))
    assert ended.status_code == 400 and "already ended" in ended.json()["detail"]
    with world.registry.session() as session:
        entry = catalog_service.get_entry(session, world.resource)
        catalog_service.transition(session, entry=entry, action=Action.RETIRE,
                                   actor=Actor("platform_admin"))
    retired = client.post("/api/sharing/applications", json=body(world), headers=county)
    assert retired.status_code == 404
    assert client.get(f"/api/sharing/policy/{world.resource}",
                      headers=county).status_code == 404
    assert client.get(f"/api/sharing/policy/{world.resource}",
                      headers=bearer(client, "org_admin")).status_code == 200
