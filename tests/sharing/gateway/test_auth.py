"""Caller authentication: signatures (HMAC-SM3, HMAC-SHA256), replay and clock checks, OAuth2."""

from __future__ import annotations

import time

from sqlalchemy import select

from datapolis.orgs import service as orgs
from datapolis.orgs.models import ApiApp
from datapolis.sharing.gateway.client import NONCE_HEADER, SIGNATURE_HEADER, canonical_string
from datapolis.sharing.metering.models import ShareCall
from tests.sharing.gateway.gateway_world import Gateway, issue


def lookup_url(gw: Gateway, n: int = 0) -> str:
    return f"/share/v1/{gw.resource}/records/3713021980{n:08d}"


def calls(gw: Gateway) -> list[ShareCall]:
    gw.client.app.state.meter.flush()
    with gw.world.registry.session() as session:
        return list(session.scalars(select(ShareCall).order_by(ShareCall.id)))


def test_the_canonical_string_is_as_documented() -> None:
    text = canonical_string(algorithm="hmac-sha256", method="get", path="/share/v1/R/records/a b",
                            query=[("z", "1"), ("a", "x y"), ("a", "é")], timestamp="1700000000",
                            nonce="n" * 16, body=b"")
    assert text.split("\n") == [
        "HMAC-SHA256", "GET", "/share/v1/R/records/a%20b", "a=x%20y&a=%C3%A9&z=1",
        "1700000000", "n" * 16,
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"]


def test_a_signed_call_is_answered_and_metered(gateway: Gateway) -> None:
    response = gateway.get(lookup_url(gateway))
    assert response.status_code == 200, response.text
    assert response.json()["record"]["xzqh_dm"] == "371302"
    [record] = calls(gateway)
    assert (record.interface, record.status, record.error_code, record.rows_out) == (
        "lookup", 200, None, 1)
    assert record.resource_code == gateway.resource and record.grant_id is not None


def test_sha256_apps_sign_with_sha256_and_sm3_signatures_then_fail(gateway: Gateway) -> None:
    key, secret = issue(gateway.world.registry, gateway.world.county_app, "hmac-sha256")
    url = lookup_url(gateway)
    assert gateway.get(url, key=key, secret=secret, algorithm="hmac-sha256").status_code == 200
    refused = gateway.get(url, key=key, secret=secret, algorithm="hmac-sm3")
    assert refused.status_code == 401 and refused.json()["error"] == "bad_signature"


def test_tampering_with_path_query_body_or_signature_is_refused(gateway: Gateway) -> None:
    url = lookup_url(gateway)
    headers = gateway.signed("GET", url)
    other = gateway.client.get(lookup_url(gateway, 2), headers=headers)
    assert other.status_code == 401 and other.json()["error"] == "bad_signature"
    query = f"/share/v1/{gateway.resource}/records?xb=1"
    headers = gateway.signed("GET", query)
    changed = gateway.client.get(query.replace("xb=1", "xb=2"), headers=headers)
    assert changed.json()["error"] == "bad_signature"
    batch = f"/share/v1/{gateway.resource}/records:batch"
    headers = {**gateway.signed("POST", batch, body=b'{"keys":["1"]}'),
               "Content-Type": "application/json"}
    swapped = gateway.client.post(batch, content=b'{"keys":["2"]}', headers=headers)
    assert swapped.status_code == 401 and swapped.json()["error"] == "bad_signature"
    forged = {**gateway.signed("GET", url), SIGNATURE_HEADER: "0" * 64}
    assert gateway.client.get(url, headers=forged).json()["error"] == "bad_signature"
    wrong_secret = gateway.get(url, secret="not-the-secret")
    assert wrong_secret.json()["error"] == "bad_signature"
    assert {c.error_code for c in calls(gateway)} == {"bad_signature"}


def test_replayed_nonces_and_stale_timestamps_are_refused(gateway: Gateway) -> None:
    url = lookup_url(gateway)
    headers = gateway.signed("GET", url)
    assert gateway.client.get(url, headers=headers).status_code == 200
    replay = gateway.client.get(url, headers=headers)
    assert replay.status_code == 401 and replay.json()["error"] == "replayed_nonce"
    same_nonce = gateway.signed("GET", url, nonce=headers[NONCE_HEADER])
    assert gateway.client.get(url, headers=same_nonce).json()["error"] == "replayed_nonce"
    old = gateway.get(url, timestamp=int(time.time()) - 301)
    assert old.status_code == 401 and old.json()["error"] == "stale_timestamp"
    future = gateway.get(url, timestamp=int(time.time()) + 301)
    assert future.json()["error"] == "stale_timestamp"
    # Signed before this server started: refused, so a restart cannot reopen a replay.
    started = int(gateway.client.app.state.share_gateway.nonces.started)
    before = gateway.get(url, timestamp=started - 2)
    assert before.json()["error"] == "stale_timestamp"
    codes = [c.error_code for c in calls(gateway)]
    assert codes == [None, "replayed_nonce", "replayed_nonce", "stale_timestamp",
                     "stale_timestamp", "stale_timestamp"]


def test_unknown_revoked_unsigned_and_unissued_apps_are_refused(gateway: Gateway) -> None:
    url = lookup_url(gateway)
    assert gateway.client.get(url).json()["error"] == "unknown_app"
    assert gateway.get(url, key="dp_nosuchapp").json()["error"] == "unknown_app"
    with gateway.world.registry.session() as session:
        # An app from before the gateway: it has a secret but no signing secret.
        provider = session.get(ApiApp, gateway.world.provider_app)
        assert provider is not None
        plain = orgs.rotate_app_secret(session, app=provider)
        plain_key = provider.app_key
    unissued = gateway.get(url, key=plain_key, secret=plain)
    assert unissued.status_code == 401 and "no signing secret" in unissued.json()["detail"]
    with gateway.world.registry.session() as session:
        app = session.get(ApiApp, gateway.world.county_app)
        assert app is not None
        orgs.rotate_app_secret(session, app=app)  # rotated elsewhere: signing stops
    # ... within the gateway's APP_SECONDS; the test does not wait for it.
    gateway.client.app.state.share_gateway.forget_apps()
    assert gateway.get(url).json()["error"] == "unknown_app"
    key, secret = issue(gateway.world.registry, gateway.world.county_app)
    assert gateway.get(url, key=key, secret=secret).status_code == 200
    with gateway.world.registry.session() as session:
        app = session.get(ApiApp, gateway.world.county_app)
        assert app is not None
        orgs.revoke_app(session, app=app)
    gateway.client.app.state.share_gateway.forget_apps()
    assert gateway.get(url, key=key, secret=secret).json()["error"] == "unknown_app"


def test_oauth_client_credentials_give_a_bearer_token(gateway: Gateway) -> None:
    form = {"grant_type": "client_credentials", "client_id": gateway.app_key,
            "client_secret": gateway.secret}
    answer = gateway.client.post("/share/oauth/token", data=form)
    assert answer.status_code == 200, answer.text
    assert answer.json()["token_type"] == "bearer" and answer.json()["expires_in"] == 7200
    bearer = {"Authorization": f"Bearer {answer.json()['access_token']}"}
    assert gateway.client.get(lookup_url(gateway), headers=bearer).status_code == 200
    wrong = gateway.client.post("/share/oauth/token", data={**form, "client_secret": "x"})
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    assert gateway.client.post("/share/oauth/token",
                               data={**form, "grant_type": "password"}).status_code == 400
    # The other app's token opens only the other app's grants: it has none on this resource.
    other = gateway.client.post("/share/oauth/token", data={
        **form, "client_id": gateway.other_key, "client_secret": gateway.other_secret})
    other_bearer = {"Authorization": f"Bearer {other.json()['access_token']}"}
    refused = gateway.client.get(lookup_url(gateway), headers=other_bearer)
    assert refused.status_code == 403 and refused.json()["error"] == "no_grant"
    assert gateway.client.get(lookup_url(gateway),
                              headers={"Authorization": "Bearer nonsense"}).status_code == 401
    interfaces = [(c.interface, c.error_code) for c in calls(gateway)]
    assert interfaces == [("token", None), ("lookup", None), ("token", "unknown_app"),
                          ("token", "bad_request"), ("token", None), ("lookup", "no_grant"),
                          ("lookup", "unknown_app")]
