"""The credentials page and API: app managers issue signing secrets for their own apps only."""

from __future__ import annotations

import re

from conftest import bearer_for

from datapolis.orgs.models import ApiApp, Role
from tests.sharing.gateway.gateway_world import Gateway

HTML = {"Accept": "text/html"}


def app_key(gw: Gateway, app_id: int) -> str:
    with gw.world.registry.session() as session:
        app = session.get(ApiApp, app_id)
        assert app is not None
        return app.app_key


def test_an_app_manager_issues_a_secret_that_signs(gateway: Gateway) -> None:
    admin = {**bearer_for(gateway.client, Role.ORG_ADMIN), **HTML}
    provider = app_key(gateway, gateway.world.provider_app)
    page = gateway.client.get("/sharing/credentials", headers=admin)
    assert page.status_code == 200 and provider in page.text
    assert "尚不能签名" in page.text  # the provider's app has no signing secret yet
    assert gateway.app_key not in page.text  # another organisation's app
    issued = gateway.client.post(f"/sharing/credentials/{provider}",
                                 data={"algorithm": "hmac-sha256"}, headers=admin)
    assert issued.status_code == 200 and issued.headers["cache-control"] == "no-store"
    values = re.findall(r'<input class="secret-value" readonly value="([^"]+)"', issued.text)
    assert values[0] == provider and len(values) == 2
    signed = gateway.get(f"/share/v1/{gateway.resource}/records/1", key=provider,
                         secret=values[1], algorithm="hmac-sha256")
    assert signed.status_code == 403 and signed.json()["error"] == "no_grant"  # signature ok
    foreign = gateway.client.post(f"/sharing/credentials/{gateway.app_key}",
                                  data={"algorithm": "hmac-sm3"}, headers=admin)
    assert foreign.status_code == 403


def test_the_api_issues_and_reports_signing_state(gateway: Gateway) -> None:
    admin = bearer_for(gateway.client, Role.ORG_ADMIN)
    provider = app_key(gateway, gateway.world.provider_app)
    before = gateway.client.get(f"/api/v1/share/apps/{provider}/signing", headers=admin)
    assert before.json() == {"app_key": provider, "algorithm": None, "revoked": False}
    issued = gateway.client.post(f"/api/v1/share/apps/{provider}/signing",
                                 json={"algorithm": "hmac-sm3"}, headers=admin).json()
    assert issued["algorithm"] == "HMAC-SM3" and len(issued["app_secret"]) > 20
    after = gateway.client.get(f"/api/v1/share/apps/{provider}/signing", headers=admin)
    assert after.json()["algorithm"] == "HMAC-SM3"
    bad = gateway.client.post(f"/api/v1/share/apps/{provider}/signing",
                              json={"algorithm": "md5"}, headers=admin)
    assert bad.status_code == 422
