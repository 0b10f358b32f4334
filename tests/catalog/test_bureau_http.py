"""The lists, supply–demand docking and the bulk import over HTTP: the API with tokens and the
pages as a browser posts them (Chinese by default)."""

from __future__ import annotations

from io import BytesIO
from typing import Any
from urllib.parse import unquote

import httpx2 as httpx
from conftest import bearer_for
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from web.forms import HTML

from datapolis.orgs.models import Role
from tests.catalog.test_api import call, create
from tests.catalog.test_import import GOOD_ENTRY, GOOD_ITEMS, filled
from tests.catalog.test_pages import sign_in

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def published(client: TestClient, **changes: Any) -> str:
    code = create(client, **changes)
    call(client, Role.ORG_ADMIN, "POST", f"/api/catalog/entries/{code}/submit")
    for step in ("approve", "publish"):
        response = call(client, Role.PLATFORM_ADMIN, "POST", f"/api/catalog/entries/{code}/{step}")
        assert response.status_code == 200, response.text
    return code


def test_lists_as_json_and_as_a_printable_workbook(seeded_client: TestClient) -> None:
    client = seeded_client
    code = published(client, warehouse_table="ods_371300_gaj.czrk")
    draft = create(client, name="暂住人口信息", warehouse_table="ods_371300_gaj.zzrk")
    sharing = call(client, Role.AUDITOR, "GET", "/api/catalog/lists/sharing")
    assert sharing.status_code == 200
    body = sharing.json()
    assert body["title"] == "临沂市政务数据共享清单"
    assert [row["entry"]["resource_code"] for row in body["rows"]] == [code]
    assert body["rows"][0]["share_methods"] == ["interface"]
    # The auditor (city level) sees the police bureau's draft in the aggregation list only
    # because it sits below the city; a county user would not.
    aggregation = call(client, Role.ORG_USER, "GET", "/api/catalog/lists/aggregation").json()
    assert [row["entry"]["resource_code"] for row in aggregation["rows"]] == [code, draft]
    workbook = call(client, Role.ORG_USER, "GET",
                    "/api/catalog/lists/sharing/xlsx?provider=371300_gaj")
    assert workbook.status_code == 200
    assert workbook.headers["content-type"] == XLSX
    disposition = workbook.headers["content-disposition"]
    assert unquote(disposition.split("filename*=UTF-8''")[1]).startswith("临沂市政务数据共享清单-")
    ws = load_workbook(BytesIO(workbook.content))["共享清单"]
    assert ws["A1"].value == "临沂市政务数据共享清单"
    assert ws["A2"].value.endswith("提供单位：临沂市公安局")
    assert ws["D5"].value == code
    assert call(client, Role.ORG_USER, "GET", "/api/catalog/lists/nonsense").status_code == 422


def test_demands_through_the_api(seeded_client: TestClient) -> None:
    client = seeded_client
    code = published(client, tags=["户籍"])
    # The bureau registers a county's demand (it collects them in its yearly demand plan).
    registered = call(client, Role.PLATFORM_ADMIN, "POST", "/api/catalog/demands", json={
        "title": "常住人口信息", "purpose": "核验低保申请人身份",
        "fields": ["公民身份号码", "性别"], "urgency": "urgent", "provider_hint": "371300_gaj",
        "requester_code": "371302",
    })
    assert registered.status_code == 201, registered.text
    demand = registered.json()
    number = demand["code"]
    assert demand["status"] == "registered" and demand["events"][0]["actor"] == "platform_admin"
    assert demand["requester_name"] == "兰山区"
    # A department registers only for its own organisation.
    outside = call(client, Role.ORG_USER, "POST", "/api/catalog/demands", json={
        "title": "x", "purpose": "y", "requester_code": "371302"})
    assert outside.status_code == 403
    candidates = call(client, Role.ORG_USER, "GET", f"/api/catalog/demands/{number}/candidates")
    assert [c["entry"]["resource_code"] for c in candidates.json()] == [code]
    assert candidates.json()[0]["fields"] == ["公民身份号码", "性别"]
    # The auditor holds no catalog.edit; the provider (the police bureau) confirms the match.
    refused = call(client, Role.AUDITOR, "POST", f"/api/catalog/demands/{number}/match",
                   json={"entry_code": code})
    assert refused.status_code == 403
    matched = call(client, Role.ORG_USER, "POST", f"/api/catalog/demands/{number}/match",
                   json={"entry_code": code, "comment": "字段齐全"})
    assert matched.status_code == 200 and matched.json()["entry"]["resource_code"] == code
    # Moving the demand along is the requester's (or the bureau's), not the provider's.
    not_theirs = call(client, Role.ORG_USER, "POST", f"/api/catalog/demands/{number}/start")
    assert not_theirs.status_code == 403
    started = call(client, Role.PLATFORM_ADMIN, "POST", f"/api/catalog/demands/{number}/start",
                   json={"sharing_reference": "SQ2026000001"})
    assert started.json()["status"] == "in_progress"
    no_reason = call(client, Role.ORG_USER, "POST", f"/api/catalog/demands/{number}/close")
    assert no_reason.status_code == 400
    assert no_reason.json()["detail"] == "closing a demand needs the reason it cannot be met"
    fulfilled = call(client, Role.PLATFORM_ADMIN, "POST",
                     f"/api/catalog/demands/{number}/fulfil")
    assert [e["action"] for e in fulfilled.json()["events"]] == [
        "registered", "matched", "started", "fulfilled"]
    again = call(client, Role.PLATFORM_ADMIN, "POST", f"/api/catalog/demands/{number}/fulfil")
    assert again.status_code == 409
    listed = call(client, Role.AUDITOR, "GET", "/api/catalog/demands?status=fulfilled").json()
    assert [d["code"] for d in listed] == [number]
    workbook = call(client, Role.AUDITOR, "GET", "/api/catalog/demands/xlsx")
    ws = load_workbook(BytesIO(workbook.content))["供需清单"]
    assert ws["C5"].value == number and ws["M5"].value == "已满足"
    assert ws["N5"].value == "共享申请 SQ2026000001"
    unknown = call(client, Role.ORG_USER, "GET", "/api/catalog/demands/XQ1999000001")
    assert unknown.status_code == 404


def upload(client: TestClient, data: bytes, name: str = "目录.xlsx",
           valid_only: bool = False) -> httpx.Response:
    suffix = "?valid_only=true" if valid_only else ""
    return client.post(f"/api/catalog/import{suffix}", headers=bearer_for(client, Role.ORG_USER),
                       files={"file": (name, data, XLSX)})


def test_import_through_the_api(seeded_client: TestClient) -> None:
    client = seeded_client
    template = call(client, Role.ORG_USER, "GET", "/api/catalog/import/template")
    assert template.status_code == 200 and template.headers["content-type"] == XLSX
    assert call(client, Role.AUDITOR, "GET", "/api/catalog/import/template").status_code == 403
    bad = filled([GOOD_ENTRY, GOOD_ENTRY | {"资源名称": "特困人员", "更新周期": "偶尔"}],
                 GOOD_ITEMS)
    refused = upload(client, bad)
    assert refused.status_code == 422
    assert refused.json()["imported"] == []
    assert refused.json()["errors"] == [{"sheet": "目录信息", "row": 3, "column": "更新周期",
                                         "message": "'偶尔' is not one of the choices; "
                                                    "choose from the list"}]
    partial = upload(client, bad, valid_only=True)
    assert partial.status_code == 200 and partial.json()["imported"] == ["323001/000001"]
    entry = call(client, Role.ORG_USER, "GET", "/api/catalog/entries/323001/000001").json()
    assert entry["status"] == "draft" and len(entry["items"]) == 2
    csv = upload(client, "资源名称,目录类型\n低保,部门\n".encode("gbk"), name="目录.csv")
    assert csv.status_code == 400 and "looks like a CSV" in csv.json()["detail"]


def test_the_pages_in_chinese(seeded_client: TestClient) -> None:
    client = seeded_client
    code = published(client, warehouse_table="ods_371300_gaj.czrk", open_to_public=True,
                     open_conditions="仅用于统计", items=[
                         {"name": "姓名", "column_name": "xm", "length": 30,
                          "security_grade": "L2"}])
    csrf = sign_in(client, "platform_admin")
    lists = client.get("/lists?kind=open", headers=HTML)
    assert lists.status_code == 200
    assert "临沂市公共数据开放清单" in lists.text and "仅用于统计" in lists.text
    assert 'aria-current="page">开放清单' in lists.text
    assert "/api/catalog/lists/open/xlsx" in lists.text
    aggregation = client.get("/lists?kind=aggregation", headers=HTML).text
    assert "ods_371300_gaj.czrk" in aggregation and "汇聚清单" in aggregation
    # The bureau registers a county's demand through the form; its page proposes the entry.
    new = client.get("/demands/new", headers=HTML)
    assert new.status_code == 200 and "登记数据需求" in new.text
    posted = client.post("/demands/new", headers=HTML, follow_redirects=False, data={
        "csrf_token": csrf, "title": "常住人口信息", "purpose": "人口统计",
        "fields": "姓名、性别", "urgency": "critical", "provider_hint": "",
        "requester": "371302"})
    assert posted.status_code == 303, posted.text
    page = client.get(posted.headers["location"], headers=HTML).text
    assert "推荐资源" in page and code in page and "特急" in page
    # The provider's user confirms the match from the demand's page.
    csrf = sign_in(client, "org_user")
    number = posted.headers["location"].rsplit("/", 1)[1]
    assert "确认匹配" in client.get(f"/demands/{number}", headers=HTML).text
    confirmed = client.post(f"/demands/{number}/do/match", headers=HTML,
                            follow_redirects=False,
                            data={"csrf_token": csrf, "entry_code": code})
    assert confirmed.status_code == 303
    listed = client.get("/demands", headers=HTML).text
    assert "供需清单" in listed and "已匹配" in listed and number in listed
    # Import page: the form, then a file with an error shows the report and imports nothing.
    form = client.get("/catalog/import", headers=HTML)
    assert form.status_code == 200 and "下载导入模板" in form.text
    bad = filled([GOOD_ENTRY | {"目录类型": None}], GOOD_ITEMS)
    report = client.post("/catalog/import", headers=HTML, data={"csrf_token": csrf},
                         files={"file": ("目录.xlsx", bad, XLSX)})
    assert report.status_code == 422
    assert "未导入任何目录" in report.text and "目录类型" in report.text and "必填" in report.text
    good = client.post("/catalog/import", headers=HTML, data={"csrf_token": csrf},
                       files={"file": ("目录.xlsx", filled([GOOD_ENTRY], GOOD_ITEMS), XLSX)})
    assert good.status_code == 200 and "323001/000001" in good.text
    csv = client.post("/catalog/import", headers=HTML, data={"csrf_token": csrf},
                      files={"file": ("目录.csv", b"a,b\n1,2\n", "text/csv")})
    assert csv.status_code == 400 and "CSV" in csv.text
