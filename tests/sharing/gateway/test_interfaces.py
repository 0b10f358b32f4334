"""The interfaces let out only granted items and rows, de-identified; every way of asking for
more is refused, and every call, answered or refused, leaves a call record."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import urlencode

from sqlalchemy import select

from datapolis.catalog import service as catalog_service
from datapolis.registry.base import utcnow
from datapolis.sharing.grants import service as grants
from datapolis.sharing.metering.models import ShareCall
from tests.sharing.gateway.gateway_world import GRANTED, ROWS, Gateway, grant, person


def url(gw: Gateway, tail: str, **query: str | list[str]) -> str:
    text = urlencode(query, doseq=True)
    return f"/share/v1/{gw.resource}/{tail}" + (f"?{text}" if text else "")


def codes(gw: Gateway) -> list[str | None]:
    gw.client.app.state.meter.flush()
    with gw.world.registry.session() as session:
        return [c.error_code for c in session.scalars(select(ShareCall).order_by(ShareCall.id))]


def county_keys() -> list[str]:
    return sorted(person(n)["gmsfhm"] for n in range(ROWS) if n % 2 == 0)


def test_lookup_returns_granted_items_de_identified(gateway: Gateway) -> None:
    clear = person(4)
    record = gateway.get(url(gateway, f"records/{clear['gmsfhm']}")).json()["record"]
    assert sorted(record) == sorted(GRANTED)  # zjxy (重要) and bz (ungraded) never leave
    assert record["gmsfhm"] != clear["gmsfhm"] and len(record["gmsfhm"]) == 32  # pseudonym
    assert record["xm"] != clear["xm"] and record["xm"][0] == "张"  # masked
    assert record["xb"] == clear["xb"] and record["csrq"] == clear["csrq"].isoformat()
    again = gateway.get(url(gateway, f"records/{clear['gmsfhm']}")).json()["record"]
    assert again["gmsfhm"] == record["gmsfhm"]  # the consumer's stable pseudonym


def test_a_row_outside_the_scope_is_not_found_and_recorded_as_such(gateway: Gateway) -> None:
    outside = person(3)["gmsfhm"]  # 371311: another county
    answer = gateway.get(url(gateway, f"records/{outside}"))
    assert answer.status_code == 404 and answer.json()["error"] == "not_found"
    nowhere = gateway.get(url(gateway, "records/999"))
    assert nowhere.status_code == 404 and nowhere.json()["error"] == "not_found"
    assert codes(gateway) == ["row_scope", "not_found"]


def test_query_filters_on_granted_items_and_pages_with_a_cursor(gateway: Gateway) -> None:
    seen: list[str] = []
    cursor = None
    while True:
        query = {"limit": "7", **({"cursor": cursor} if cursor else {})}
        page = gateway.get(url(gateway, "records", **query)).json()
        seen += [r["gmsfhm"] for r in page["records"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == ROWS // 2  # the county's rows, each once
    women = gateway.get(url(gateway, "records", xb="2")).json()["records"]
    assert women and {r["xb"] for r in women} == {"2"}
    both = gateway.get(url(gateway, "records", **{"xb.in": ["1", "2"]})).json()["records"]
    assert len(both) == ROWS // 2
    ranged = gateway.get(url(gateway, "records", **{"csrq.gte": "1970-01-01",
                                                   "csrq.lte": "1990-12-31"})).json()
    assert ranged["records"] and all("1970" <= r["csrq"] <= "1991" for r in ranged["records"])
    prefixed = gateway.get(url(gateway, "records", **{"xzqh_dm.prefix": "3713"})).json()
    assert len(prefixed["records"]) == ROWS // 2
    chosen = gateway.get(url(gateway, "records", select="xb,csrq", limit="2")).json()
    assert [sorted(r) for r in chosen["records"]] == [["csrq", "xb"], ["csrq", "xb"]]
    assert set(codes(gateway)) == {None}


def test_asking_for_more_than_the_grant_is_refused(gateway: Gateway) -> None:
    def refused(path: str, status: int, code: str) -> None:
        answer = gateway.get(path)
        assert (answer.status_code, answer.json()["error"]) == (status, code), answer.text

    refused(url(gateway, "records", zjxy="无"), 403, "item_not_granted")
    refused(url(gateway, "records", **{"bz.prefix": "备"}), 403, "item_not_granted")
    refused(url(gateway, "records", select="xb,zjxy"), 403, "item_not_granted")
    refused(url(gateway, "records", **{"xb.like": "1"}), 400, "bad_request")
    refused(url(gateway, "records", **{"csrq.gte": "yesterday"}), 400, "bad_request")
    refused(url(gateway, "records", limit="100000"), 400, "bad_request")
    refused(url(gateway, "records", cursor="bm90LWEtY3Vyc29y"), 400, "bad_request")
    first = gateway.get(url(gateway, "records", xb="1", limit="2")).json()
    refused(url(gateway, "records", xb="2", limit="2", cursor=first["next_cursor"]), 400,
            "bad_request")  # a cursor of another query
    open_resource = f"/share/v1/{gateway.world.open_resource}/records/1"
    refused(open_resource, 403, "no_grant")  # another resource
    assert codes(gateway).count("item_not_granted") == 3


def test_filters_cannot_read_back_what_de_identification_hides(gateway: Gateway) -> None:
    def refused(query: dict[str, str], detail: str) -> None:
        answer = gateway.get(url(gateway, "records", **query))
        assert (answer.status_code, answer.json()["error"]) == (403, "filter_not_allowed")
        assert detail in answer.json()["detail"]

    # A masked name: a prefix, one character a call, would spell out the hidden ones.
    refused({"xm.prefix": "张00"}, "'xm' is granted de-identified (mask), so it takes no filters")
    refused({"xm": "张004"}, "takes no filters")
    # A pseudonymised ID number: ranges and prefixes would bisect the value behind it...
    refused({"gmsfhm.prefix": "3713021980"}, "only eq and in filters")
    refused({"gmsfhm.gte": "371302198000000004"}, "only eq and in filters")
    # ...but a value the caller already holds may be checked (核验), as a key lookup could.
    held = person(4)
    found = gateway.get(url(gateway, "records", gmsfhm=held["gmsfhm"])).json()["records"]
    assert len(found) == 1 and found[0]["xb"] == held["xb"]
    both = gateway.get(url(gateway, "records", **{
        "gmsfhm.in": [held["gmsfhm"], person(6)["gmsfhm"]]})).json()["records"]
    assert len(both) == 2
    assert codes(gateway).count("filter_not_allowed") == 4


def test_batch_lookup_answers_found_and_missing_keys_up_to_the_limit(gateway: Gateway) -> None:
    keys = [*county_keys()[:5], person(1)["gmsfhm"], "nope"]
    answer = gateway.post(url(gateway, "records:batch"), json.dumps({"keys": keys}).encode())
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert len(body["records"]) == 5 and body["missing"] == keys[5:]
    too_many = json.dumps({"keys": [str(n) for n in range(1001)]}).encode()
    huge = gateway.post(url(gateway, "records:batch"), too_many)
    assert huge.status_code == 413 and huge.json()["error"] == "bad_request"
    assert gateway.post(url(gateway, "records:batch"), b"[1,2]").status_code == 400
    assert codes(gateway) == [None, "bad_request", "bad_request"]


def test_revoked_and_expired_grants_refuse_the_next_call(gateway: Gateway) -> None:
    lookup = url(gateway, f"records/{county_keys()[0]}")
    assert gateway.get(lookup).status_code == 200
    with gateway.world.registry.session() as session:
        grants.revoke_grant(session, grants.get_grant(session, gateway.grant_code),
                            actor="org_admin")
    refused = gateway.get(lookup)
    assert refused.status_code == 403 and refused.json()["error"] == "grant_revoked"
    with gateway.world.registry.session() as session:
        now = utcnow()
        grant(session, gateway.world, gateway.world.county_app,
              valid_from=now - timedelta(days=2), valid_until=now - timedelta(days=1))
    assert gateway.get(lookup).json()["error"] == "grant_expired"
    assert codes(gateway) == [None, "grant_revoked", "grant_expired"]


def test_quotas_and_rates_refuse_calls_past_them(gateway: Gateway) -> None:
    lookup = url(gateway, f"records/{county_keys()[0]}")
    with gateway.world.registry.session() as session:
        grants.change_grant(session, grants.get_grant(session, gateway.grant_code),
                            limits=grants.Limits(calls_per_day=2), actor="org_admin")
    assert [gateway.get(lookup).status_code for _ in range(3)] == [200, 200, 429]
    with gateway.world.registry.session() as session:
        grants.change_grant(session, grants.get_grant(session, gateway.grant_code),
                            limits=grants.Limits(rows_per_day=4), actor="org_admin")
    # Two rows used by the lookups above; a page of three would pass four.
    over = gateway.get(url(gateway, "records", limit="3"))
    assert over.status_code == 429 and over.json()["error"] == "quota_rows"
    with gateway.world.registry.session() as session:
        grants.change_grant(session, grants.get_grant(session, gateway.grant_code),
                            limits=grants.Limits(rate_per_second=0.01), actor="org_admin")
    assert gateway.get(lookup).status_code == 200
    limited = gateway.get(lookup)
    assert limited.status_code == 429 and limited.json()["error"] == "rate_limited"
    assert codes(gateway) == [None, None, "quota_calls", "quota_rows", None, "rate_limited"]


def test_another_apps_grant_does_not_open_this_one(gateway: Gateway) -> None:
    with gateway.world.registry.session() as session:
        entry = catalog_service.get_entry(session, gateway.resource)
        assert entry is not None
    key = county_keys()[0]
    theirs = gateway.get(url(gateway, f"records/{key}"), key=gateway.other_key,
                         secret=gateway.other_secret)
    assert theirs.status_code == 403 and theirs.json()["error"] == "no_grant"
