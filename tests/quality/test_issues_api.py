"""The issue API, scores API and pages over HTTP: who sees and moves which issues, 409 on an
illegal move, the board, an issue and the governance dashboard in Chinese and English."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from conftest import bearer_for
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from datapolis.orgs import service as orgs
from datapolis.orgs.models import Role
from datapolis.quality import service
from datapolis.security.audit.models import AuditEvent
from tests.quality.issue_world import CITY_TABLE, COUNTY_TABLE, build
from tests.web.forms import login


@pytest.fixture
def loop(app: FastAPI, client: TestClient) -> Iterator[TestClient]:
    """Both tables checked once: the city department's issue and the county's."""
    registry, warehouse = app.state.registry, app.state.warehouse
    build(registry, warehouse, city=False)
    service.run_table(registry, warehouse, CITY_TABLE)
    service.run_table(registry, warehouse, COUNTY_TABLE)
    yield client


def _ids(client: TestClient, headers: dict[str, str], query: str = "") -> dict[str, int]:
    response = client.get(f"/api/quality/issues{query}", headers=headers)
    assert response.status_code == 200, response.text
    return {i["warehouse_table"]: i["id"] for i in response.json()}


def test_departments_see_and_move_only_their_own_issues(app: FastAPI, loop: TestClient
                                                       ) -> None:
    client = loop
    admin, user = bearer_for(client, Role.PLATFORM_ADMIN), bearer_for(client, Role.ORG_USER)
    auditor = bearer_for(client, Role.AUDITOR)
    everything = _ids(client, admin)
    assert set(everything) == {CITY_TABLE, COUNTY_TABLE}
    assert set(_ids(client, auditor)) == set(everything)
    assert set(_ids(client, user)) == {CITY_TABLE}  # org_user of 临沂市公安局
    assert set(_ids(client, admin, "?org=371302_gaj")) == {COUNTY_TABLE}
    county = everything[COUNTY_TABLE]
    assert client.get(f"/api/quality/issues/{county}", headers=user).status_code == 404
    moved = client.post(f"/api/quality/issues/{county}/transitions", headers=user,
                        json={"to": "acknowledged"})
    assert moved.status_code == 404
    refused = client.post(f"/api/quality/issues/{county}/transitions", headers=auditor,
                          json={"to": "acknowledged"})
    assert refused.status_code == 403  # auditors read, never act
    own = everything[CITY_TABLE]
    shown = client.get(f"/api/quality/issues/{own}", headers=user).json()
    assert shown["state"] == "open" and shown["next_states"] == ["acknowledged"]
    assert shown["failed"] == 3 and len(shown["sample"]) == 3
    # No catalog entry grades the columns: every value is hidden, as in the results API.
    assert shown["masked_fields"] and all(v is None for v in shown["sample"][0].values()
                                          if v != shown["sample"][0].get("_row"))
    illegal = client.post(f"/api/quality/issues/{own}/transitions", headers=user,
                          json={"to": "submitted"})
    assert illegal.status_code == 409
    assert "cannot go from open to submitted" in illegal.json()["detail"]
    done = client.post(f"/api/quality/issues/{own}/transitions", headers=user,
                       json={"to": "acknowledged", "comment": "收到"})
    assert done.status_code == 200 and done.json()["state"] == "acknowledged"
    assert done.json()["events"][-1]["comment"] == "收到"
    with app.state.registry.session() as session:
        event = session.scalars(select(AuditEvent.canonical).where(
            AuditEvent.kind == "quality.issue.acknowledged")).one()
    body = json.loads(event)
    assert (body["actor"], body["org"]) == ("org_user", "371300_gaj")
    assert body["details"] == {"issue": own, "table": CITY_TABLE, "subject": shown["subject"],
                               "from": "open", "to": "acknowledged", "comment": "收到"}
    by_admin = client.post(f"/api/quality/issues/{county}/transitions", headers=admin,
                           json={"to": "acknowledged"})
    assert by_admin.status_code == 200  # the bureau acts on every department's issues
    assert set(_ids(client, admin, "?state=acknowledged")) == {CITY_TABLE, COUNTY_TABLE}
    assert client.get("/api/quality/issues?state=nope", headers=admin).status_code == 400
    assert _ids(client, admin, "?overdue=true") == {}


def test_rates_and_scores(loop: TestClient) -> None:
    client = loop
    admin = bearer_for(client, Role.PLATFORM_ADMIN)
    rates = client.get("/api/quality/issues/rates", headers=admin).json()
    assert {(r["org"], r["opened"], r["verified"], r["rate"]) for r in rates} == {
        ("371300_gaj", 1, 0, 0.0), ("371302_gaj", 1, 0, 0.0)}
    got = client.get("/api/quality/scores", headers=admin).json()
    # city: mobile (error, 0.7) and not_null (info, 1.0) -> (3*0.7 + 1) / 4 = 77.5
    # county: (3*0.9 + 1) / 4 = 92.5; together (3*0.7 + 3*0.9 + 2) / 8 = 85
    tables = {t["key"]: t["score"] for t in got["tables"]}
    assert tables == {CITY_TABLE: 77.5, COUNTY_TABLE: 92.5}
    departments = {d["key"]: d["score"] for d in got["departments"]}
    assert departments == {"371300_gaj": 77.5, "371302_gaj": 92.5}
    counties = {c["name"]: c["score"] for c in got["counties"]}
    assert counties == {"临沂市": 77.5, "兰山区": 92.5}
    dimensions = {d["key"]: d["score"] for d in got["dimensions"]}
    assert dimensions["规范性"] == 80.0 and dimensions["完整性"] == 100.0  # mobile; not_null
    assert dimensions["时效性"] is None
    assert [p["score"] for p in got["trend"]] == [85.0]
    one = client.get(f"/api/quality/scores?table={CITY_TABLE}", headers=admin).json()
    assert [p["score"] for p in one["trend"]] == [77.5]
    org_admin = bearer_for(client, Role.ORG_ADMIN)  # 临沂市公安局: its own tables only
    theirs = client.get("/api/quality/scores", headers=org_admin).json()
    assert [t["key"] for t in theirs["tables"]] == [CITY_TABLE]
    assert client.get(f"/api/quality/scores?table={COUNTY_TABLE}",
                      headers=org_admin).status_code == 404


def test_pages_in_chinese_and_english(app: FastAPI, loop: TestClient) -> None:
    client = loop
    with app.state.registry.session() as session:
        orgs.create_user(session, username="county_user", password="pw-for-county-1",
                         role=Role.ORG_USER,
                         org=orgs.get_organisation(session, "371302_gaj"))
    assert login(client, "platform_admin").status_code == 303
    board = client.get("/quality/issues")
    assert board.status_code == 200 and "问题工单" in board.text and "待处理" in board.text
    assert CITY_TABLE in board.text and COUNTY_TABLE in board.text
    dashboard = client.get("/governance")
    assert dashboard.status_code == 200 and "各维度得分" in dashboard.text
    assert "data-chart-option" in dashboard.text and "整改率" in dashboard.text
    client.get("/lang/en")
    assert "Score per department" in client.get("/governance").text
    assert "Quality issues" in client.get("/quality/issues").text
    client.cookies.clear()
    assert login(client, "county_user", password="pw-for-county-1").status_code == 303
    ids = {}
    for line in client.get("/quality/issues").text.splitlines():
        if 'href="/quality/issues/' in line:
            ids[line.split("<code>")[1].split("</code>")[0]] = line.split(
                'href="/quality/issues/')[1].split('"')[0]
    assert list(ids) == [COUNTY_TABLE]  # the county department's board
    page = client.get(f"/quality/issues/{ids[COUNTY_TABLE]}")
    assert page.status_code == 200 and "确认" in page.text
    csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    bad = client.post(f"/quality/issues/{ids[COUNTY_TABLE]}/transition",
                      data={"csrf_token": csrf, "to": "submitted"})
    assert bad.status_code == 409 and "alert-error" in bad.text
    ok = client.post(f"/quality/issues/{ids[COUNTY_TABLE]}/transition",
                     data={"csrf_token": csrf, "to": "acknowledged", "comment": "正在核查"},
                     follow_redirects=False)
    assert ok.status_code == 303
    shown = client.get(f"/quality/issues/{ids[COUNTY_TABLE]}").text
    assert "正在核查" in shown and "已确认" in shown and "county_user" in shown
