"""OpenAPI per resource: the granted items only, for the caller's own grants only."""

from __future__ import annotations

from tests.sharing.gateway.gateway_world import GRANTED, Gateway


def test_the_resource_document_describes_only_granted_items(gateway: Gateway) -> None:
    answer = gateway.get(f"/share/v1/{gateway.resource}/openapi.json")
    assert answer.status_code == 200, answer.text
    doc = answer.json()
    [record] = [s for name, s in doc["components"]["schemas"].items() if name != "error"]
    assert sorted(record["properties"]) == sorted(GRANTED)
    assert record["properties"]["gmsfhm"]["description"] == "de-identified: pseudonym"
    params = {p["name"] for p in doc["paths"][f"/share/v1/{gateway.resource}/records"]["get"]
              ["parameters"]}
    assert "zjxy" not in params and "bz.prefix" not in params and "xb.in" in params
    # Only the filters each item takes: none on the masked name, equality on the pseudonym.
    assert not {p for p in params if p.split(".")[0] == "xm"}
    assert {p for p in params if p.split(".")[0] == "gmsfhm"} == {"gmsfhm", "gmsfhm.in"}
    assert f"/share/v1/{gateway.resource}/records:batch" in doc["paths"]


def test_the_index_lists_the_apps_granted_resources_and_no_others(gateway: Gateway) -> None:
    mine = gateway.get("/share/v1/openapi.json").json()
    assert {p.split("/records")[0] for p in mine["paths"] if "/records" in p} == {
        f"/share/v1/{gateway.resource}"}
    theirs = gateway.get("/share/v1/openapi.json", key=gateway.other_key,
                         secret=gateway.other_secret).json()
    assert theirs["paths"] == {}
    refused = gateway.get(f"/share/v1/{gateway.resource}/openapi.json", key=gateway.other_key,
                          secret=gateway.other_secret)
    assert refused.status_code == 403 and refused.json()["error"] == "no_grant"
    assert gateway.client.get("/share/v1/openapi.json").status_code == 401
