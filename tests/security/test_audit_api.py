"""The auditor's JSON API: search events, one event with its receipt, checkpoints, verify."""

from __future__ import annotations

from conftest import TEST_SECRET_KEY, bearer_for
from fastapi import FastAPI
from fastapi.testclient import TestClient

from datapolis.orgs.models import Role
from datapolis.security.audit import service
from datapolis.security.audit.signing import Signer


def test_an_auditor_searches_and_checks_a_receipt(app: FastAPI, client: TestClient) -> None:
    auditor = bearer_for(client, Role.AUDITOR)
    bearer_for(client, Role.ORG_USER)  # the newest event: org_user's login
    found = client.get("/api/audit/events", params={"kind": "auth.login", "actor": "org_user"},
                       headers=auditor)
    assert found.status_code == 200, found.text
    assert [(e["org"], e["details"]) for e in found.json()] == [
        ("371300_gaj", {"method": "password", "address": "testclient"})
    ]
    seq = found.json()[0]["seq"]
    pending = client.get(f"/api/audit/events/{seq}", headers=auditor).json()
    assert pending["receipt"] is None and "not yet covered" in pending["pending"]

    with app.state.registry.session() as session:
        service.checkpoint(session, Signer.from_secret(TEST_SECRET_KEY))
    shown = client.get(f"/api/audit/events/{seq}", headers=auditor).json()
    receipt = shown["receipt"]
    assert receipt["leaf_index"] == seq and receipt["tree_size"] == seq + 1
    verdict = client.post("/api/audit/receipts/verify", json=receipt, headers=auditor).json()
    assert verdict == {"valid": True, "problems": []}
    forged = receipt | {"event": receipt["event"].replace("org_user", "mallory")}
    verdict = client.post("/api/audit/receipts/verify", json=forged, headers=auditor).json()
    assert verdict["valid"] is False
    assert f"wrong audit path: it does not lead from event {seq}" in verdict["problems"][0]

    exported = client.get("/api/audit/checkpoints", headers=auditor).json()
    assert [c["size"] for c in exported["checkpoints"]] == [seq + 1]
    assert client.get("/api/audit/events/9999", headers=auditor).status_code == 404
    assert client.get("/api/audit/events", headers=bearer_for(client, Role.ORG_ADMIN)
                      ).status_code == 403
