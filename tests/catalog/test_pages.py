"""The catalog pages as a browser uses them: signed in, plain form posts, Chinese by default."""

from __future__ import annotations

import re

import httpx2 as httpx
from fastapi.testclient import TestClient
from web.forms import HTML, login, session_csrf


def sign_in(client: TestClient, username: str) -> str:
    client.cookies.clear()
    assert login(client, username).status_code == 303
    return session_csrf(client)


NEW_ENTRY = {
    "catalog_type": "department", "subject": "12", "heading": "001", "subheading": "",
    "provider_code": "371300_gaj", "name": "道路交通事故信息",
    "summary": "全市道路交通事故登记信息",
    "format_class": "database", "update_cycle": "daily", "share_type": "conditional",
    "share_conditions": "用于保险理赔核验", "share_methods": ["interface", "tables"],
    "tags": "交通 事故", "record_count": "1200",
    "item_name": ["事故编号", "当事人身份证号", ""], "item_column": ["sgbh", "dsr_sfzh", ""],
    "item_type": ["string", "string", "string"], "item_length": ["20", "18", ""],
    "item_element": ["", "", ""], "item_grade": ["", "3", ""],
    "item_description": ["", "", ""],
}


def post(
    client: TestClient, path: str, csrf: str, data: dict[str, object]
) -> httpx.Response:
    return client.post(path, data={**data, "csrf_token": csrf}, headers=HTML,
                       follow_redirects=False)


def test_a_department_creates_an_entry_and_the_bureau_approves_it(
    seeded_client: TestClient,
) -> None:
    client = seeded_client
    csrf = sign_in(client, "org_user")
    form = client.get("/catalog/new", headers=HTML)
    assert form.status_code == 200 and "新建目录" in form.text
    created = client.post("/catalog/new", data={**NEW_ENTRY, "csrf_token": csrf}, headers=HTML,
                          follow_redirects=False)
    assert created.status_code == 303, created.text
    assert created.headers["location"] == "/catalog/entries/312001/000001"
    page = client.get("/catalog/entries/312001/000001", headers=HTML).text
    assert "道路交通事故信息" in page and "草稿" in page and "有条件共享" in page
    assert "接口、库表" in page
    # The unmapped ID item gets a suggestion a person can confirm with one button.
    assert re.search(r"对应到 公民身份号码", page)
    mapped = client.post("/catalog/entries/312001/000001/map", headers=HTML, data={
        "csrf_token": csrf, "item": "当事人身份证号", "element_code": "DE0001"},
        follow_redirects=False)
    assert mapped.status_code == 303
    page = client.get("/catalog/entries/312001/000001", headers=HTML).text
    assert "由 org_user 确认" in page and "信息项对应数据元" in page
    assert "提交审核" not in page  # org users do not submit

    csrf = sign_in(client, "org_admin")
    submitted = client.post("/catalog/entries/312001/000001/do/submit", headers=HTML,
                            data={"csrf_token": csrf}, follow_redirects=False)
    assert submitted.status_code == 303

    csrf = sign_in(client, "platform_admin")
    queue = client.get("/review/catalog", headers=HTML).text
    assert "目录审核" in queue and "道路交通事故信息" in queue
    approved = client.post("/catalog/entries/312001/000001/do/approve", headers=HTML,
                           data={"csrf_token": csrf, "next": "/review/catalog"},
                           follow_redirects=False)
    assert (approved.status_code, approved.headers["location"]) == (303, "/review/catalog")
    queue = client.get("/review/catalog", headers=HTML).text
    assert "已审核、待上架" in queue and "没有待审核的目录" in queue
    page = client.get("/catalog/entries/312001/000001?diff_from=1&diff_to=4", headers=HTML).text
    assert "版本 1 至版本 4 的变更" in page
    assert "<del>草稿</del>" in page and "<ins>已审核</ins>" in page


def test_a_form_error_keeps_what_was_typed(seeded_client: TestClient) -> None:
    client = seeded_client
    csrf = sign_in(client, "org_user")
    response = client.post("/catalog/new", headers=HTML, follow_redirects=False, data={
        **NEW_ENTRY, "heading": "7", "csrf_token": csrf})
    assert response.status_code == 400
    assert "目 &#39;7&#39; must be three digits" in response.text
    assert 'value="道路交通事故信息"' in response.text and 'value="当事人身份证号"' in response.text
    assert client.get("/catalog", headers=HTML).text.count("/catalog/entries/") == 0


def test_editing_and_the_list_filters(seeded_client: TestClient) -> None:
    client = seeded_client
    csrf = sign_in(client, "org_user")
    post(client, "/catalog/new", csrf, NEW_ENTRY)
    post(client, "/catalog/new", csrf, {**NEW_ENTRY, "catalog_type": "theme", "name": "主题库"})
    edit = client.get("/catalog/entries/312001/000001/edit", headers=HTML)
    assert edit.status_code == 200 and 'value="事故编号"' in edit.text
    saved = post(client, "/catalog/entries/312001/000001/edit", csrf,
                 {**NEW_ENTRY, "name": "道路交通事故登记信息"})
    assert saved.status_code == 303
    listing = client.get("/catalog?type=theme", headers=HTML).text
    assert "主题库" in listing and "道路交通事故登记信息" not in listing
    listing = client.get("/catalog?status=draft&provider=371300_gaj", headers=HTML).text
    assert "主题库" in listing and "道路交通事故登记信息" in listing


def test_standards_pages_in_both_languages(seeded_client: TestClient) -> None:
    client = seeded_client
    sign_in(client, "auditor")
    page = client.get("/standards", headers=HTML).text
    assert "数据标准" in page and "GB/T 2261.1-2003" in page and "公民身份号码" in page
    linyi = client.get("/standards/code-tables/division", headers=HTML).text
    assert "临沂市" in linyi and "371329" in linyi and "临沭县" in linyi
    client.get("/lang/en?next=/standards", headers=HTML)
    english = client.get("/standards", headers=HTML).text
    assert "Data standards" in english and "Code tables" in english
    nav = re.search(r'<nav class="main-nav".*?</nav>', english, re.S)
    assert nav is not None and "/catalog" in nav.group(0) and "/review/catalog" not in nav.group(0)
    assert client.get("/review/catalog", headers=HTML).status_code == 403
