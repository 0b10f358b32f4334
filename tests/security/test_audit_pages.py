"""Auditor pages: the log with filters, an event with its verified proof, verifying a receipt."""

from __future__ import annotations

from conftest import TEST_SECRET_KEY
from fastapi import FastAPI
from fastapi.testclient import TestClient

from datapolis.security.audit import service
from datapolis.security.audit.signing import Signer
from tests.web.forms import HTML, form_token, login


def test_an_auditor_reads_the_log_and_verifies_a_receipt(
    app: FastAPI, client: TestClient
) -> None:
    assert login(client, "org_user").status_code == 303
    client.post("/logout", headers=HTML, follow_redirects=False)
    assert login(client, "auditor").status_code == 303
    with app.state.registry.session() as session:
        seq = service.search_events(session, kind="auth.login", actor="org_user")[0].seq
        auditor_seq = service.search_events(session, kind="auth.login", actor="auditor")[0].seq
    page = client.get("/audit", params={"actor": "org_user"}, headers=HTML)
    assert page.status_code == 200, page.text
    assert "审计日志" in page.text and f'href="/audit/events/{seq}"' in page.text
    assert f'href="/audit/events/{auditor_seq}"' not in page.text  # filtered to org_user
    assert "尚无签名检查点覆盖" in client.get(f"/audit/events/{seq}", headers=HTML).text

    with app.state.registry.session() as session:
        signed = service.checkpoint(session, Signer.from_secret(TEST_SECRET_KEY))
    shown = client.get(f"/audit/events/{seq}", headers=HTML)
    assert f"已验证：该事件在规模为 {signed.size} 的已签名树中。" in shown.text
    receipt = client.get(f"/audit/events/{seq}/receipt.json")
    assert receipt.headers["content-disposition"].startswith("attachment")

    form = client.get("/audit/verify", headers=HTML)
    token = form_token(form.text)
    good = client.post("/audit/verify", data={"receipt": receipt.text, "csrf_token": token},
                       headers=HTML)
    assert good.status_code == 200 and "回执有效。" in good.text
    forged = receipt.text.replace("org_user", "mallory")
    bad = client.post("/audit/verify", data={"receipt": forged, "csrf_token": token},
                      headers=HTML)
    assert bad.status_code == 400
    assert f"wrong audit path: it does not lead from event {seq}" in bad.text


def test_other_roles_do_not_see_the_audit_log(client: TestClient) -> None:
    login(client, "platform_admin")
    assert client.get("/audit", headers=HTML).status_code == 403
    assert 'href="/audit"' not in client.get("/", headers=HTML).text


def test_the_log_filters_by_a_documented_kind_and_pages(app: FastAPI, client: TestClient) -> None:
    with app.state.registry.session() as session:
        for i in range(130):
            service.record(session, kind="export.list", actor="org_user", org="371300_gaj",
                           details={"list": "sharing", "format": "xlsx", "rows": i})
    login(client, "auditor")
    first = client.get("/audit", params={"kind": "export.list"}, headers=HTML)
    assert '<option value="export.list" selected>' in first.text
    assert '<option value="auth.login_failed">' in first.text
    assert first.text.count('href="/audit/events/') == 100
    assert 'href="/audit?kind=export.list&amp;page=2" rel="next">较早的事件' in first.text
    second = client.get("/audit", params={"kind": "export.list", "page": 2}, headers=HTML)
    assert second.text.count('href="/audit/events/') == 30
    assert 'rel="prev">较新的事件' in second.text and 'rel="next"' not in second.text
    assert client.get("/audit", params={"page": 0}, headers=HTML).status_code == 422
