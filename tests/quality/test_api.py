"""/api/quality through the real app: who may do what, rules with suggestions, run now,
results with samples masked by the catalog's field grades."""

from __future__ import annotations

import pyarrow as pa
from conftest import bearer_for
from fastapi.testclient import TestClient

from datapolis.catalog.schemas import ItemInput
from datapolis.orgs.models import Role
from tests.catalog.conftest import create

TABLE = "ods_371300_gaj.czrk"
OTHER = "ods_371302_gaj.czrk"


def _land(client: TestClient) -> None:
    warehouse = client.app.state.warehouse  # type: ignore[attr-defined]
    for table in (TABLE, OTHER):
        warehouse.execute(f"CREATE SCHEMA IF NOT EXISTS {table.split('.')[0]}")
        warehouse.write(table, pa.table({
            "id": [1, 2, 3, 4],
            "xm": ["张三", "李四", "王五", "赵六"],
            "gmsfhm": ["11010519491231002X", "110105194912310021", "37130219900307123X", "bad"],
            "sjhm": ["13800000000", "123", "13900000000", None],
        }), mode="replace")


def test_rules_run_and_masked_results(seeded_client: TestClient) -> None:
    client = seeded_client
    _land(client)
    registry = client.app.state.registry  # type: ignore[attr-defined]
    with registry.session() as session:
        create(session, items=[
            ItemInput(name="编号", column_name="id", length=10, security_grade="L1"),
            ItemInput(name="公民身份号码", column_name="gmsfhm", length=18, security_grade="L3"),
            ItemInput(name="手机号码", column_name="sjhm", length=11, security_grade="L4"),
        ], warehouse_table=TABLE)
    dept = bearer_for(client, Role.ORG_ADMIN)  # of 371300_gaj
    kinds = client.get("/api/quality/kinds", headers=dept).json()
    assert {"resident_id", "unique", "custom_sql"} <= {k["name"] for k in kinds}
    made = client.post(f"/api/quality/tables/{TABLE}/rules", headers=dept,
                       json={"kind": "resident_id", "columns": ["gmsfhm"], "threshold": 0.9})
    assert made.status_code == 201, made.text
    assert made.json()["dimension"] == "规范性"
    phone = client.post(f"/api/quality/tables/{TABLE}/rules", headers=dept,
                        json={"kind": "mobile", "columns": ["sjhm"], "severity": "error"})
    assert phone.status_code == 201
    refused = client.post(f"/api/quality/tables/{TABLE}/rules", headers=dept, json={
        "kind": "custom_sql", "params": {"sql": f"SELECT * FROM {TABLE}"}})
    assert refused.status_code == 400 and "platform admin" in refused.json()["detail"]
    bad = client.post(f"/api/quality/tables/{TABLE}/rules", headers=dept,
                      json={"kind": "regex", "columns": ["xm"]})
    assert bad.status_code == 400 and "pattern" in bad.json()["detail"]
    # another department's table is not there for this one
    assert client.get(f"/api/quality/tables/{OTHER}/rules", headers=dept).status_code == 404
    assert client.post(f"/api/quality/tables/{OTHER}/rules", headers=dept, json={
        "kind": "not_null", "columns": ["xm"]}).status_code == 404

    ran = client.post(f"/api/quality/tables/{TABLE}/runs", headers=dept, json={})
    assert ran.status_code == 201, ran.text
    body = ran.json()
    assert body["status"] == "succeeded" and body["rows"] == 4 and body["passed"] is False
    ids, phones = body["results"]
    assert (ids["checked"], ids["failed"], ids["pass_rate"]) == (4, 2, 0.5)
    # no highway job names a primary key: rows are identified by DuckDB's row id
    assert ids["sample"] == [{"_row": 1, "gmsfhm": "1****************1"},
                             {"_row": 3, "gmsfhm": "b*d"}]
    assert ids["masked"] == ["gmsfhm"]
    assert phones["sample"] == [{"_row": 1, "sjhm": None}] and phones["masked"] == ["sjhm"]
    assert "110105194912310021" not in ran.text

    keys = client.get(f"/api/quality/runs/{body['id']}/results/0/keys", headers=dept)
    assert keys.status_code == 200, keys.text
    assert keys.json() == {"key": ["_row"], "keys": [{"_row": 1}, {"_row": 3}], "masked": []}
    assert client.get(f"/api/quality/runs/{body['id']}/results/7/keys",
                      headers=dept).status_code == 404

    listed = client.get("/api/quality/runs", headers=dept, params={"table": TABLE}).json()
    assert [r["id"] for r in listed] == [body["id"]]
    assert client.get(f"/api/quality/runs/{body['id']}", headers=dept).json()["results"] == \
        body["results"]
    later = client.post(f"/api/quality/tables/{TABLE}/runs", headers=dept).json()
    stale = client.get(f"/api/quality/runs/{body['id']}/results/0/keys", headers=dept)
    assert stale.status_code == 409 and f"run {later['id']}" in stale.json()["detail"]
    auditor = bearer_for(client, Role.AUDITOR)
    assert client.get(f"/api/quality/runs/{body['id']}", headers=auditor).status_code == 200
    assert client.post(f"/api/quality/tables/{TABLE}/runs", headers=auditor).status_code == 403

    rule_id = made.json()["id"]
    changed = client.put(f"/api/quality/rules/{rule_id}", headers=dept, json={
        "kind": "resident_id", "columns": ["gmsfhm"], "enabled": False})
    assert changed.status_code == 200 and changed.json()["enabled"] is False
    assert client.delete(f"/api/quality/rules/{rule_id}", headers=dept).status_code == 204
    assert [r["kind"] for r in client.get(f"/api/quality/tables/{TABLE}/rules",
                                          headers=dept).json()] == ["mobile"]


def test_admin_custom_sql_and_suggestions(seeded_client: TestClient) -> None:
    client = seeded_client
    _land(client)
    admin = bearer_for(client, Role.PLATFORM_ADMIN)
    made = client.post(f"/api/quality/tables/{OTHER}/rules", headers=admin, json={
        "kind": "custom_sql", "params": {"sql": f"SELECT id FROM {OTHER} WHERE sjhm IS NULL"}})
    assert made.status_code == 201, made.text
    refused = client.post(f"/api/quality/tables/{OTHER}/rules", headers=admin, json={
        "kind": "custom_sql", "params": {"sql": f"DELETE FROM {OTHER}"}})
    assert refused.status_code == 400 and "SELECT" in refused.json()["detail"]
    ran = client.post(f"/api/quality/tables/{OTHER}/runs", headers=admin).json()
    assert (ran["results"][0]["checked"], ran["results"][0]["failed"]) == (4, 1)
    found = client.get(f"/api/quality/tables/{OTHER}/suggestions", headers=admin)
    assert found.status_code == 200
    assert {"kind": "row_count", "columns": []}.items() <= found.json()[-1].items()


def test_anonymous_and_unpermitted_callers(seeded_client: TestClient) -> None:
    client = seeded_client
    assert client.get("/api/quality/kinds").status_code == 401
    user = bearer_for(client, Role.ORG_USER)
    assert client.get("/api/quality/kinds", headers=user).status_code == 403
