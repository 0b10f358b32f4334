"""The per-table quality page: rules, suggestions a person accepts, check now, results in
Chinese with samples masked by grade."""

from __future__ import annotations

import pyarrow as pa
from fastapi.testclient import TestClient

from datapolis.catalog import autoregister
from datapolis.catalog.schemas import ItemInput
from tests.catalog.conftest import create
from tests.web.forms import HTML, form_token, login

TABLE = "ods_371300_gaj.czrk"


def test_a_department_accepts_a_suggestion_and_checks_its_table(
    seeded_client: TestClient,
) -> None:
    client = seeded_client
    state = client.app.state  # type: ignore[attr-defined]
    state.warehouse.execute("CREATE SCHEMA IF NOT EXISTS ods_371300_gaj")
    state.warehouse.write(TABLE, pa.table({
        "gmsfhm": ["11010519491231002X", "37130219900307123X", "110105194912310021"] * 10,
        "xm": ["张三", "李四", "王五"] * 10}), mode="replace")
    with state.registry.session() as session:
        create(session, items=[ItemInput(name="公民身份号码", column_name="gmsfhm", length=18,
                                         security_grade="L3")])
    autoregister.register_table(state.registry, state.warehouse, TABLE, keyring=None)
    login(client, "org_admin")
    page = client.get(f"/quality/tables/{TABLE}", headers=HTML)
    assert page.status_code == 200
    assert "建议规则" in page.text and "尚未检查" in page.text and "resident_id" in page.text
    accepted = client.post(f"/quality/tables/{TABLE}/rules", headers=HTML, data={
        "csrf_token": form_token(page.text), "kind": "resident_id", "columns": "gmsfhm",
        "params": "{}"}, follow_redirects=False)
    assert accepted.status_code == 303, accepted.text
    bad = client.post(f"/quality/tables/{TABLE}/rules", headers=HTML, data={
        "csrf_token": form_token(page.text), "kind": "range", "columns": "xm",
        "params": "{\"min\": \"x\"}"})
    assert bad.status_code == 400 and "min must be a number" in bad.text
    ran = client.post(f"/quality/tables/{TABLE}/run", headers=HTML, data={
        "csrf_token": form_token(page.text)}, follow_redirects=True)
    assert ran.status_code == 200
    assert "手动" in ran.text and "66.67%" in ran.text and "未通过" in ran.text
    assert "1****************1" in ran.text and "110105194912310021" not in ran.text
    listed = client.get("/quality/tables", headers=HTML)
    assert TABLE in listed.text and "有规则未通过" in listed.text
    assert client.get("/quality/tables/ods_371302_gaj.czrk", headers=HTML).status_code == 404
