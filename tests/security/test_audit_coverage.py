"""Every security-relevant action, driven through its route or service, leaves its audit event
(kind, actor, organisation, details) in the same transaction, and no secret ever reaches the
log. One test per family of kinds; the vocabulary and docs/audit.md agree."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import PASSWORD, bearer_for
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from datapolis.orgs import service as orgs
from datapolis.orgs.models import Role
from datapolis.security.audit import kinds, service
from datapolis.security.audit.models import AuditEvent
from tests.web.forms import HTML, login

NEW_PASSWORD = "tr0ub4dor-and-3-more"
DOCS = Path(__file__).parents[2] / "docs" / "audit.md"


def events(app: FastAPI, kind_prefix: str) -> list[dict[str, Any]]:
    """Events whose kind starts with the prefix, oldest first, as their canonical bodies."""
    with app.state.registry.session() as session:
        rows = session.scalars(select(AuditEvent.canonical)
                               .where(AuditEvent.kind.startswith(kind_prefix))
                               .order_by(AuditEvent.seq))
        return [json.loads(text) for text in rows]


def brief(found: list[dict[str, Any]]) -> list[tuple[str, str, str | None, dict[str, Any]]]:
    return [(e["kind"], e["actor"], e["org"], e["details"]) for e in found]


def test_sign_ins_failed_sign_ins_and_sign_outs(app: FastAPI, client: TestClient) -> None:
    assert client.post("/api/v1/auth/token", data={
        "username": "org_user", "password": "not-" + PASSWORD}).status_code == 401
    assert client.post("/api/v1/auth/token", data={
        "username": "nobody", "password": PASSWORD}).status_code == 401
    assert client.post("/api/v1/auth/token", data={
        "grant_type": "client_credentials", "client_id": "dp_unknown",
        "client_secret": "s3cret-app-value"}).status_code == 401
    token = bearer_for(client, Role.ORG_USER)
    assert client.post("/api/v1/auth/revoke", headers=token).status_code == 204
    assert login(client, "org_user").status_code == 303
    found = brief(events(app, "auth."))
    assert found[:4] == [
        ("auth.login_failed", "org_user", "371300_gaj",
         {"method": "password", "reason": "wrong_password", "address": "testclient"}),
        ("auth.login_failed", "nobody", None,
         {"method": "password", "reason": "unknown_account", "address": "testclient"}),
        ("auth.login_failed", "app:dp_unknown", None,
         {"method": "client_credentials", "reason": "unknown_account",
          "address": "testclient"}),
        ("auth.login", "org_user", "371300_gaj",
         {"method": "password", "address": "testclient"}),
    ]
    assert found[4] == ("auth.token_revoked", "org_user", "371300_gaj",
                        {"token_kind": "bearer"})
    assert found[5][0] == "auth.login"


def test_logout_is_recorded(app: FastAPI, client: TestClient) -> None:
    assert login(client, "org_user").status_code == 303
    home = client.get("/", headers=HTML).text
    csrf = re.search(r'name="csrf-token" content="([^"]*)"', home) or re.search(
        r'name="csrf_token" value="([^"]*)"', home)
    assert csrf is not None
    out = client.post("/logout", data={"csrf_token": csrf.group(1)}, headers=HTML,
                      follow_redirects=False)
    assert out.status_code == 303
    assert brief(events(app, "auth.logout")) == [
        ("auth.logout", "org_user", "371300_gaj", {"via": "session"})]


def test_user_and_role_changes(app: FastAPI, client: TestClient) -> None:
    admin = bearer_for(client, Role.PLATFORM_ADMIN)
    made = client.post("/api/v1/users", headers=admin, json={
        "username": "li_lei", "password": PASSWORD, "role": "org_user",
        "org_code": "371300_gaj"})
    assert made.status_code == 201, made.text
    assert client.patch("/api/v1/users/li_lei", headers=admin,
                        json={"role": "org_admin"}).status_code == 200
    assert client.patch("/api/v1/users/li_lei", headers=admin,
                        json={"is_active": False}).status_code == 200
    assert client.patch("/api/v1/users/li_lei", headers=admin,
                        json={"is_active": True}).status_code == 200
    assert client.post("/api/v1/users/li_lei/password", headers=admin,
                       json={"password": NEW_PASSWORD}).status_code == 204
    by_admin = [e for e in brief(events(app, "user.") + events(app, "auth.password"))
                if e[1] == "platform_admin"]
    assert by_admin == [
        ("user.created", "platform_admin", "371300_gaj", {"user": "li_lei", "role": "org_user"}),
        ("user.role_changed", "platform_admin", "371300_gaj",
         {"user": "li_lei", "from": "org_user", "to": "org_admin"}),
        ("user.disabled", "platform_admin", "371300_gaj", {"user": "li_lei"}),
        ("user.enabled", "platform_admin", "371300_gaj", {"user": "li_lei"}),
        ("auth.password_changed", "platform_admin", "371300_gaj", {"user": "li_lei"}),
    ]


def test_a_refused_change_leaves_no_event(app: FastAPI, client: TestClient) -> None:
    admin = bearer_for(client, Role.PLATFORM_ADMIN)
    before = len(events(app, "user."))
    refused = client.post("/api/v1/users", headers=admin, json={
        "username": "han_meimei", "password": "short", "role": "org_user"})
    assert refused.status_code == 400
    assert len(events(app, "user.")) == before


def test_apps_and_organisations(app: FastAPI, client: TestClient) -> None:
    admin = bearer_for(client, Role.PLATFORM_ADMIN)
    made = client.post("/api/v1/apps", headers=admin,
                       json={"name": "人口查询", "org_code": "371300_gaj"}).json()
    key, secret = made["app_key"], made["app_secret"]
    rotated = client.post(f"/api/v1/apps/{key}/rotate", headers=admin).json()
    assert client.post("/api/v1/auth/token", data={
        "grant_type": "client_credentials", "client_id": key,
        "client_secret": secret}).status_code == 401  # the old secret
    assert client.post(f"/api/v1/apps/{key}/revoke", headers=admin).status_code == 200
    assert brief(events(app, "app.")) == [
        ("app.created", "platform_admin", "371300_gaj", {"app": key, "name": "人口查询"}),
        ("app.secret_rotated", "platform_admin", "371300_gaj", {"app": key}),
        ("app.revoked", "platform_admin", "371300_gaj", {"app": key}),
    ]
    assert brief(events(app, "auth.login_failed"))[-1] == (
        "auth.login_failed", f"app:{key}", "371300_gaj",
        {"method": "client_credentials", "reason": "wrong_secret", "address": "testclient"})
    assert client.post("/api/v1/orgs", headers=admin, json={
        "code": "371300_sjj", "name": "临沂市数据局", "kind": "department",
        "division_code": "371300", "parent_code": "371300"}).status_code == 201
    assert client.patch("/api/v1/orgs/371300_sjj", headers=admin,
                        json={"name": "临沂市大数据局"}).status_code == 200
    assert brief(events(app, "org."))[-2:] == [
        ("org.created", "platform_admin", "371300_sjj", {
            "code": "371300_sjj", "kind": "department", "division_code": "371300",
            "parent": "371300"}),
        ("org.updated", "platform_admin", "371300_sjj",
         {"code": "371300_sjj", "changed": ["name"]}),
    ]
    _no_secrets(app, [secret, rotated["app_secret"]])


def test_exports_and_downloads(app: FastAPI, client: TestClient) -> None:
    admin = bearer_for(client, Role.PLATFORM_ADMIN)
    auditor = bearer_for(client, Role.AUDITOR)
    assert client.get("/api/catalog/export", headers=admin).status_code == 200
    assert client.get("/api/catalog/lists/sharing/xlsx", headers=admin).status_code == 200
    assert client.get("/api/catalog/demands/xlsx", headers=admin).status_code == 200
    assert client.get("/api/audit/checkpoints", headers=auditor).status_code == 200
    assert brief(events(app, "export.")) == [
        ("export.catalog", "platform_admin", "371300", {"format": "json", "entries": 0}),
        ("export.list", "platform_admin", "371300", {
            "list": "sharing", "format": "xlsx", "rows": 0,
            "filters": {"provider": None, "catalog_type": None, "share_type": None}}),
        ("export.demands", "platform_admin", "371300", {"format": "xlsx", "rows": 0}),
        ("export.audit_checkpoints", "auditor", "371300", {"checkpoints": 0}),
    ]


def test_sharing_helpers_record_grants_and_access_in_summary(app: FastAPI) -> None:
    with app.state.registry.session() as session:
        service.act_as(session, "org_admin", "371300_gaj")
        kinds.grant_created(session, grant="G-1", resource="371300/000123",
                            grantee="371302_gaj", fields=["xm", "sfzh"], expires="2027-01-01")
        kinds.data_accessed(session, table="share.rk_jbxx", rows=120, columns=["xm"],
                            grant="G-1", interface="lookup")
        kinds.grant_revoked(session, grant="G-1", resource="371300/000123",
                            grantee="371302_gaj", reason="期满")
    assert [(k, a, o) for k, a, o, _ in brief(events(app, "grant.") + events(app, "data."))
            ] == [("grant.created", "org_admin", "371300_gaj"),
                  ("grant.revoked", "org_admin", "371300_gaj"),
                  ("data.accessed", "org_admin", "371300_gaj")]
    assert events(app, "data.")[0]["details"] == {
        "grant": "G-1", "table": "share.rk_jbxx", "rows": 120, "columns": ["xm"],
        "interface": "lookup"}


def test_a_rolled_back_change_leaves_no_event(app: FastAPI) -> None:
    registry = app.state.registry
    with pytest.raises(RuntimeError), registry.session() as session:
        orgs.create_app(session, org=orgs.get_organisation(session, "371300_gaj"), name="x")
        raise RuntimeError("the action failed after its record")
    assert events(app, "app.") == []


def _no_secrets(app: FastAPI, extra: list[str]) -> None:
    with app.state.registry.session() as session:
        text = "\n".join(session.scalars(select(AuditEvent.canonical)))
    for secret in [PASSWORD, NEW_PASSWORD, "not-" + PASSWORD, "s3cret-app-value", *extra]:
        assert secret not in text


def test_no_password_or_secret_reaches_the_log(app: FastAPI, client: TestClient) -> None:
    test_sign_ins_failed_sign_ins_and_sign_outs(app, client)
    test_user_and_role_changes(app, client)
    assert client.post("/api/v1/auth/token", data={
        "username": "li_lei", "password": PASSWORD}).status_code == 401
    _no_secrets(app, [])


def test_every_kind_is_documented() -> None:
    table = DOCS.read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([a-z_]+(?:\.[a-z_]+)+)` \|", table, flags=re.MULTILINE))
    assert documented == set(kinds.BY_NAME)
