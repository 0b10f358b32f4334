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
    assert login(client, "org_user").status_code == 303  # event 0
    client.post("/logout", headers=HTML, follow_redirects=False)
    assert login(client, "auditor").status_code == 303  # event 1
    page = client.get("/audit", params={"actor": "org_user"}, headers=HTML)
    assert page.status_code == 200, page.text
    assert "审计日志" in page.text and 'href="/audit/events/0"' in page.text
    assert 'href="/audit/events/1"' not in page.text  # filtered to org_user
    assert "尚无签名检查点覆盖" in client.get("/audit/events/0", headers=HTML).text

    with app.state.registry.session() as session:
        service.checkpoint(session, Signer.from_secret(TEST_SECRET_KEY))
    shown = client.get("/audit/events/0", headers=HTML)
    assert "已验证：该事件在规模为 2 的已签名树中。" in shown.text
    receipt = client.get("/audit/events/0/receipt.json")
    assert receipt.headers["content-disposition"].startswith("attachment")

    form = client.get("/audit/verify", headers=HTML)
    token = form_token(form.text)
    good = client.post("/audit/verify", data={"receipt": receipt.text, "csrf_token": token},
                       headers=HTML)
    assert good.status_code == 200 and "回执有效。" in good.text
    forged = receipt.text.replace("org_user", "mallory")
    bad = client.post("/audit/verify", data={"receipt": forged, "csrf_token": token},
                      headers=HTML)
    assert bad.status_code == 400 and "event 0 is not in the signed tree" in bad.text


def test_other_roles_do_not_see_the_audit_log(client: TestClient) -> None:
    login(client, "platform_admin")
    assert client.get("/audit", headers=HTML).status_code == 403
    assert 'href="/audit"' not in client.get("/", headers=HTML).text
