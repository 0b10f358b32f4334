"""Field encryption through its API, admin page and `datapolis security …` verbs."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
from conftest import bearer_for
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from datapolis.cli import app as cli_app
from datapolis.config import get_settings
from datapolis.orgs.models import Role
from datapolis.registry.db import Registry
from datapolis.security.audit.models import AuditEvent
from datapolis.warehouse import DuckDBEngine
from tests.orgs.test_cli import assert_one_line_error, city_registry, cli_env  # noqa: F401

NUMBERS = ["370102199001011234", "37010219850505123X", "370102200012310011"]


def person_table() -> pa.Table:
    return pa.table({"id": [1, 2, 3], "sfzh": NUMBERS})


def test_the_bureau_protects_rotates_and_retires_through_the_api(
    app: FastAPI, client: TestClient
) -> None:
    app.state.warehouse.write("ods_x.people", person_table(), mode="create")
    admin = bearer_for(client, Role.PLATFORM_ADMIN)
    for role in (Role.ORG_ADMIN, Role.AUDITOR):
        refused = client.post("/api/security/fields", json={"table": "ods_x.people",
                                                            "column": "sfzh"},
                              headers=bearer_for(client, role))
        assert refused.status_code == 403
    made = client.post("/api/security/fields", headers=admin,
                       json={"table": "ods_x.people", "column": "sfzh", "family": "id_number"})
    assert made.status_code == 201, made.text
    assert made.json()["state"] == "protected" and made.json()["rows_encrypted"] == 3
    again = client.post("/api/security/fields", headers=admin,
                        json={"table": "ods_x.people", "column": "sfzh"})
    assert again.status_code == 409
    missing = client.post("/api/security/fields", headers=admin,
                          json={"table": "ods_x.people", "column": "nope"})
    assert missing.status_code == 404 and "no column 'nope'" in missing.json()["detail"]
    stored = app.state.warehouse.query("SELECT sfzh FROM ods_x.people").column(0).to_pylist()
    assert all(v.startswith("sm4gcm:f1:") for v in stored)

    rotated = client.post("/api/security/field-keys/rotate", headers=admin).json()
    assert [(k["key_id"], k["state"], k["values"]) for k in rotated] == [
        ("f1", "active", 3), ("f2", "current", 0)]
    refused = client.post("/api/security/field-keys/f1/retire", headers=admin)
    assert refused.status_code == 409 and "still encrypts 3 value(s)" in refused.json()["detail"]
    rekeyed = client.post("/api/security/fields/ods_x.people/rekey", headers=admin)
    assert rekeyed.json() == {"table": "ods_x.people", "rows": 3}
    retired = client.post("/api/security/field-keys/f1/retire", headers=admin).json()
    assert [(k["key_id"], k["state"]) for k in retired] == [("f1", "retired"), ("f2", "current")]

    page = client.get("/security/fields", headers=admin)
    assert page.status_code == 200 and "字段加密" in page.text and "ods_x.people" in page.text
    assert client.get("/security/fields",
                      headers=bearer_for(client, Role.ORG_USER)).status_code == 403
    posted = client.post("/security/fields/protect", headers=admin, follow_redirects=False,
                         data={"table": "ods_x.people", "column": "id", "family": "Bad Name"})
    assert posted.status_code == 400 and "Bad Name" in posted.text

    gone = client.delete("/api/security/fields/ods_x.people/sfzh", headers=admin)
    assert gone.json()["rows"] == 3
    plain = app.state.warehouse.query("SELECT sfzh FROM ods_x.people ORDER BY id")
    assert plain.column(0).to_pylist() == NUMBERS
    with app.state.registry.session() as session:
        events = session.execute(select(AuditEvent.kind, AuditEvent.actor)
                                 .where(AuditEvent.kind.like("field%"))
                                 .order_by(AuditEvent.seq)).all()
    assert events == [("field.protected", "platform_admin"),
                      ("field_key.rotated", "platform_admin"),
                      ("field.rekeyed", "platform_admin"),
                      ("field_key.retired", "platform_admin"),
                      ("field.unprotected", "platform_admin")]


def test_the_cli_protects_with_progress_and_lists(city_registry: Registry, tmp_path: Path  # noqa: F811
                                                  ) -> None:
    warehouse = DuckDBEngine(get_settings().warehouse_file)
    warehouse.write("ods_x.people", person_table(), mode="create")
    warehouse.close()
    runner = CliRunner()
    done = runner.invoke(cli_app, ["security", "protect", "ods_x.people", "sfzh",
                                   "--family", "id_number", "--batch-rows", "100"])
    assert done.exit_code == 0, done.output
    assert "protected ods_x.people.sfzh (family id_number): 3 values encrypted" in done.stdout
    listed = runner.invoke(cli_app, ["security", "protected"])
    assert "ods_x.people" in listed.stdout and "protected" in listed.stdout
    assert "f2" in runner.invoke(cli_app, ["security", "rotate-key"]).stdout
    assert_one_line_error(runner.invoke(cli_app, ["security", "retire-key", "f1"]),
                          "field key 'f1' still encrypts 3 value(s)")
    rekeyed = runner.invoke(cli_app, ["security", "rekey", "ods_x.people"])
    assert "3 values re-encrypted" in rekeyed.stdout, rekeyed.output
    assert runner.invoke(cli_app, ["security", "retire-key", "f1"]).exit_code == 0
    keys = runner.invoke(cli_app, ["security", "keys"]).stdout
    assert "retired" in keys and "current" in keys
    assert_one_line_error(runner.invoke(cli_app, ["security", "protect", "ods_x.nope", "a"]),
                          "no table ods_x.nope")
    warehouse = DuckDBEngine(get_settings().warehouse_file)
    try:
        stored = warehouse.query("SELECT sfzh FROM ods_x.people").column(0).to_pylist()
    finally:
        warehouse.close()
    assert all(v.startswith("sm4gcm:f2:") for v in stored)
