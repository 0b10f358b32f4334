"""Classification and grading over HTTP: the API, the entry page's panel, the scheme page."""

from __future__ import annotations

from conftest import bearer_for
from fastapi import FastAPI
from fastapi.testclient import TestClient

from datapolis.catalog import standards
from datapolis.orgs.models import Role
from datapolis.security.audit import service as audit
from datapolis.security.grading import scheme
from tests.catalog.conftest import create
from tests.web.forms import HTML, form_token, login


def _seed(app: FastAPI, provider: str = "371300_gaj") -> str:
    with app.state.registry.session() as session:
        standards.seed_standards(session)
        scheme.seed_default(session)
        return create(session, provider_code=provider)


def test_a_department_user_confirms_and_changes_grades_through_the_api(
    app: FastAPI, client: TestClient
) -> None:
    code = _seed(app)
    user = bearer_for(client, Role.ORG_USER)
    shown = client.get(f"/api/security/grading/entries/{code}", headers=user)
    assert shown.status_code == 200, shown.text
    body = shown.json()
    assert body["unconfirmed"] == 3 and body["grade"] is None
    assert body["provisional_grade"] == "L4"
    first = body["items"][0]
    assert (first["item"], first["suggested_kind"], first["suggested_grade"]) == (
        "公民身份号码", "resident_id", "L4")

    done = client.post(f"/api/security/grading/entries/{code}/confirm", headers=user,
                       json={"grades": {"姓名": "L2"}, "all": True})
    assert done.status_code == 200, done.text
    graded = done.json()
    assert graded["unconfirmed"] == 0 and graded["grade"] == "L4"
    rows = {row["item"]: row for row in graded["items"]}
    assert rows["姓名"]["grade"] == "L2" and rows["姓名"]["confirmed_by"] == "org_user"
    assert rows["公民身份号码"]["confirmed_at"] is not None

    bad = client.post(f"/api/security/grading/entries/{code}/confirm", headers=user,
                      json={"grades": {"姓名": "secret"}})
    assert bad.status_code == 400
    assert "unknown security grade 'secret'; allowed: core, important" in bad.text

    category = client.put(f"/api/security/grading/entries/{code}/category", headers=user,
                          json={"business": "0201"})
    assert category.status_code == 200 and category.json()["sector"] == "02"
    assert client.put(f"/api/security/grading/entries/{code}/category", headers=user,
                      json={"business": "99"}).status_code == 404
    progress = client.get("/api/security/grading/progress", headers=user).json()
    assert progress == [{"org_code": "371300_gaj", "org_name": "临沂市公安局", "entries": 1,
                         "items": 3, "unconfirmed": 0}]
    with app.state.registry.session() as session:
        assert audit.search_events(session, kind="grade.changed", actor="org_user", limit=5)
        assert audit.search_events(session, kind="grade.category_assigned", limit=5)


def test_department_users_grade_only_their_own_organisations_entries(
    app: FastAPI, client: TestClient
) -> None:
    code = _seed(app, provider="371302_gaj")  # the county's police, not org_user's
    user = bearer_for(client, Role.ORG_USER)
    refused = client.post(f"/api/security/grading/entries/{code}/confirm", headers=user,
                          json={"all": True})
    assert refused.status_code in (403, 404)  # someone else's draft does not even exist
    auditor = bearer_for(client, Role.AUDITOR)
    assert client.post(f"/api/security/grading/entries/{code}/confirm", headers=auditor,
                       json={"all": True}).status_code == 403
    admin = bearer_for(client, Role.PLATFORM_ADMIN)
    done = client.post(f"/api/security/grading/entries/{code}/confirm", headers=admin,
                       json={"all": True})
    assert done.status_code == 200 and done.json()["unconfirmed"] == 0


def test_only_the_bureau_edits_the_scheme(app: FastAPI, client: TestClient) -> None:
    _seed(app)
    user = bearer_for(client, Role.ORG_USER)
    admin = bearer_for(client, Role.PLATFORM_ADMIN)
    document = client.get("/api/security/scheme", headers=user).json()
    assert document["sectors"][0]["code"] == "01"
    assert client.put("/api/security/scheme", headers=user, json=document).status_code == 403
    document["sectors"][0]["name"] = "公共管理与服务"
    saved = client.put("/api/security/scheme", headers=admin, json=document)
    assert saved.status_code == 200 and saved.json()["updated"] == ["01"]
    bad = client.put("/api/security/scheme", headers=admin, json={"sectors": "none"})
    assert bad.status_code == 400 and "a list under 'sectors'" in bad.text
    added = client.post("/api/security/scheme/categories", headers=admin,
                        json={"code": "0105", "name": "信访", "parent": "01"})
    assert added.status_code == 200 and added.json()["parent"] == "01"
    assert client.delete("/api/security/scheme/categories/0105",
                         headers=admin).status_code == 204


def test_the_entry_page_grading_panel_in_chinese_and_english(
    app: FastAPI, client: TestClient
) -> None:
    code = _seed(app)
    login(client, "org_user")
    page = client.get(f"/catalog/entries/{code}", headers=HTML)
    assert page.status_code == 200
    assert "分类分级" in page.text and "3 项待确认" in page.text
    assert "居民身份证号码" in page.text and "全部按建议确认" in page.text
    token = form_token(page.text)
    confirmed = client.post(f"/security/grading/entries/{code}/confirm",
                            data={"csrf_token": token, "all": "1"}, headers=HTML,
                            follow_redirects=False)
    assert confirmed.status_code == 303
    assert confirmed.headers["location"] == f"/catalog/entries/{code}#grading"
    page = client.get(f"/catalog/entries/{code}", headers=HTML)
    assert "0 项待确认" in page.text and "由 org_user 确认" in page.text
    assert "四级（敏感）" in page.text
    refused = client.post(f"/security/grading/entries/{code}/confirm",
                          data={"csrf_token": token, "grade_999999": "L1",
                                "category": "x"}, headers=HTML, follow_redirects=False)
    assert refused.status_code == 303  # unknown fields are no decisions
    bad = client.post(f"/security/grading/entries/{code}/category",
                      data={"csrf_token": token, "business": "02"}, headers=HTML)
    assert bad.status_code == 400 and "is a sector" in bad.text

    client.get("/lang/en")
    english = client.get(f"/catalog/entries/{code}", headers=HTML)
    assert "Classification and grading" in english.text and "0 unconfirmed" in english.text
    assert "L4 sensitive" in english.text
    assert "Sectors and businesses" in client.get("/security/scheme", headers=HTML).text
    assert "Progress by organisation" in client.get("/security/grading", headers=HTML).text


def test_the_scheme_page_edits_for_the_bureau_only(app: FastAPI, client: TestClient) -> None:
    _seed(app)
    login(client, "org_user")
    page = client.get("/security/scheme", headers=HTML)
    assert page.status_code == 200 and "社会保障" in page.text
    assert "导入分类目录" not in page.text  # no edit forms
    client.post("/logout", headers=HTML, data={"csrf_token": form_token(page.text)})
    login(client, "platform_admin")
    page = client.get("/security/scheme", headers=HTML)
    token = form_token(page.text)
    assert "导入分类目录" in page.text
    imported = client.post("/security/scheme/import", headers=HTML, follow_redirects=False,
                           data={"csrf_token": token, "document": "sectors:\n  - code: '11'\n"
                                 "    name: 数字政府\n    businesses:\n      - code: '1101'\n"
                                 "        name: 一网通办\n"})
    assert imported.status_code == 303
    assert "一网通办" in client.get("/security/scheme", headers=HTML).text
    bad = client.post("/security/scheme/import", headers=HTML,
                      data={"csrf_token": token, "document": "sectors: ["})
    assert bad.status_code == 400 and "not valid YAML or JSON" in bad.text
    exported = client.get("/security/scheme/export", params={"format": "json"})
    assert exported.status_code == 200 and '"1101"' in exported.text
    progress = client.get("/security/grading", headers=HTML)
    assert "临沂市公安局" in progress.text and "有待确认级别的目录" in progress.text
