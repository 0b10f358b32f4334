"""The governance API: std and base builds by the bureau only, build history, and conflicts
scoped to the departments whose tables take part."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import pyarrow as pa
import pytest
from conftest import PASSWORD, TEST_SECRET_KEY, bearer_for, make_city, make_users
from fastapi.testclient import TestClient

from datapolis.catalog.standards import seed_standards
from datapolis.config import Settings
from datapolis.orgs import service
from datapolis.orgs.models import Role
from datapolis.registry.db import Registry
from datapolis.warehouse import DuckDBEngine
from datapolis.web.app import create_app

ID = "37010219800101004X"


@pytest.fixture
def client(tmp_path, sqlite_registry: Registry) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    settings = Settings(env="test", home=tmp_path / "var", secret_key=TEST_SECRET_KEY)
    with sqlite_registry.session() as session:
        city = make_city(session)
        make_users(session, city)
        service.create_user(session, username="county_admin", password=PASSWORD,
                            role=Role.ORG_ADMIN, org=city.county_dept)
        seed_standards(session)
    specs = settings.home / "standardise"
    specs.mkdir(parents=True)
    (specs / "a.json").write_text(json.dumps({
        "target": "gaj_czrk", "sources": ["ods_371300_gaj.czrk"], "pk": "ryid",
        "columns": {"xm": ["remove_spaces"], "xb": [{"code": "sex"}]}}), encoding="utf-8")
    (specs / "b.json").write_text(json.dumps({
        "target": "swjt_yhda", "sources": ["ods_371300_swjt.yhda"], "pk": "hh",
        "columns": {"ysdz": ["halfwidth"]}}), encoding="utf-8")
    warehouse = DuckDBEngine()
    warehouse.execute("CREATE SCHEMA ods_371300_gaj")
    warehouse.execute("CREATE SCHEMA ods_371300_swjt")
    now = dt.datetime(2026, 1, 1)
    warehouse.write("ods_371300_gaj.czrk", pa.table({
        "ryid": [1], "gmsfhm": [ID], "xm": ["张　伟"], "xb": ["男"],
        "csrq": [dt.date(1980, 1, 1)], "mz": ["01"], "hjdz": ["兰山区1号"],
        "lxdh": ["13800000001"], "gxsj": [now]}), mode="create")
    warehouse.write("ods_371300_swjt.yhda", pa.table({
        "hh": ["37001"], "zjhm": [ID], "hm": ["张伟"], "lxdh": ["13800000001"],
        "ysdz": ["罗庄区３号"], "gxsj": [now], "zjlx": ["居民身份证"]}), mode="create")
    app = create_app(settings, sqlite_registry, warehouse)
    with TestClient(app, base_url="https://testserver") as test_client:
        yield test_client
    warehouse.close()


def test_build_history_and_scoped_conflicts(client: TestClient) -> None:
    admin = bearer_for(client, Role.PLATFORM_ADMIN)
    org_admin = bearer_for(client, Role.ORG_ADMIN)
    body = {"names": ["gaj_czrk", "swjt_yhda"]}
    assert client.post("/api/governance/std/build", json=body,
                       headers=org_admin).status_code == 403
    built = client.post("/api/governance/std/build", json=body, headers=admin)
    assert built.status_code == 200, built.text
    first = built.json()[0]
    assert first["table"] == "std.gaj_czrk" and first["status"] == "succeeded"
    assert {s["step"]: s["changed"] for s in first["details"]["steps"]} == {
        "remove_spaces": 1, 'code("sex")': 1}
    bad = client.post("/api/governance/std/build", json={"names": ["nosuch"]}, headers=admin)
    assert bad.status_code == 400 and "no standardisation spec" in bad.json()["detail"]
    assert client.post("/api/governance/base/build", json={"names": ["person"]},
                       headers=admin).status_code == 200

    conflicts = client.get("/api/governance/base/conflicts", headers=admin).json()
    assert [(c["field"], c["chosen_value"], c["chosen_source"], c["other_value"],
             c["other_source"]) for c in conflicts] == [
        ("address", "兰山区1号", "std.gaj_czrk", "罗庄区3号", "std.swjt_yhda")]
    # The city police (its std table takes part) sees it; a county department does not.
    assert len(client.get("/api/governance/base/conflicts", headers=org_admin).json()) == 1
    token = client.post("/api/v1/auth/token",
                        data={"username": "county_admin", "password": PASSWORD}).json()
    county = {"Authorization": f"Bearer {token['access_token']}"}
    assert client.get("/api/governance/base/conflicts", headers=county).json() == []
    history = client.get("/api/governance/builds", headers=org_admin).json()
    assert [b["table"] for b in history][:3] == ["base.person", "std.swjt_yhda",
                                                 "std.gaj_czrk"]
    assert client.get("/api/governance/std/specs", headers=org_admin).status_code == 200
