"""The CKAN Action API, driven by the real `ckanapi` client against a live server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import ckanapi
import pytest
import requests
from fastapi import FastAPI

from datapolis.config import Settings
from datapolis.portal import usage
from datapolis.portal.datasets import slug_of
from datapolis.web.app import create_app
from tests.conftest import TEST_SECRET_KEY
from tests.portal.conftest import Portal
from tests.portal.live import serving


@dataclass
class Live:
    portal: Portal
    url: str
    ckan: ckanapi.RemoteCKAN
    app: FastAPI


@pytest.fixture
def live(portal: Portal, tmp_path: Path) -> Iterator[Live]:
    settings = Settings(env="test", home=tmp_path / "var", secret_key=TEST_SECRET_KEY,
                        scheduler=False, portal_base_url="https://data.linyi.example")
    app = create_app(settings, portal.registry, portal.engine)
    with serving(app) as url:
        yield Live(portal, url, ckanapi.RemoteCKAN(url, user_agent="datapolis-tests"), app)


def test_status_and_lists(live: Live) -> None:
    status = live.ckan.action.status_show()
    assert status["ckan_version"].startswith("2.") and status["site_url"] == \
        "https://data.linyi.example"
    open_code, conditional = live.portal.codes["open"], live.portal.codes["conditional"]
    assert live.ckan.action.package_list() == sorted([slug_of(open_code),
                                                      slug_of(conditional)])
    assert live.ckan.action.organization_list() == ["371300_gaj"]
    orgs = live.ckan.action.organization_list(all_fields=True)
    assert orgs[0]["title"] == "临沂市公安局" and orgs[0]["package_count"] == 2
    org = live.ckan.action.organization_show(id="371300_gaj")
    assert org["is_organization"] and org["name"] == "371300_gaj"
    groups = {g["name"]: g for g in live.ckan.action.group_list(all_fields=True)}
    assert groups["transport"]["package_count"] == 1 and groups["transport"]["title"] == \
        "交通出行"
    assert live.ckan.action.tag_list() == sorted(["交通", "企业", "投资", "公交"])
    assert live.ckan.action.tag_list(query="公") == ["公交"]


def test_package_show_and_search(live: Live) -> None:
    code = live.portal.codes["open"]
    package = live.ckan.action.package_show(id=slug_of(code))
    assert package["title"] == "公交线路信息" and package["license_id"] == "cc-by-4.0"
    assert package["organization"]["name"] == "371300_gaj"
    assert [g["name"] for g in package["groups"]] == ["transport"]
    assert {t["name"] for t in package["tags"]} == {"公交", "交通"}
    assert [r["format"] for r in package["resources"]] == ["CSV", "XLSX", "JSON", "Parquet"]
    assert package["resources"][0]["url"].startswith("https://data.linyi.example/dataset/")
    extras = {e["key"]: e["value"] for e in package["extras"]}
    assert extras["resource_code"] == code and extras["row_count"] == "3"
    assert extras["update_cycle"] == "monthly" and extras["open_kind"] == "unconditional"
    # by id as well as by name
    assert live.ckan.action.package_show(id=package["id"])["name"] == package["name"]

    found = live.ckan.action.package_search(q="公交线路", rows=5,
                                            **{"facet.field": ["organization", "tags"]})
    assert found["count"] == 1 and found["results"][0]["name"] == slug_of(code)
    assert found["facets"]["tags"] == {"交通": 1, "公交": 1}
    assert found["search_facets"]["organization"]["items"][0]["display_name"] == "临沂市公安局"
    conditional = live.ckan.action.package_search(fq="license_id:conditional-use")
    assert [p["name"] for p in conditional["results"]] == [slug_of(live.portal.codes[
        "conditional"])]
    assert not conditional["results"][0]["isopen"]
    assert live.ckan.action.package_search(fq='groups:transport +tags:"公交"')["count"] == 1
    ordered = live.ckan.action.package_search(sort="title asc", rows=1, start=1)
    assert ordered["count"] == 2 and len(ordered["results"]) == 1
    with pytest.raises(ckanapi.SearchQueryError):
        live.ckan.action.package_search(fq="secret:1")


def test_hidden_entries_are_not_found(live: Live) -> None:
    for name in ("unpublished", "closed"):
        code = live.portal.codes[name]
        with pytest.raises(ckanapi.NotFound):
            live.ckan.action.package_show(id=slug_of(code))
        assert live.ckan.action.package_search(q="驾驶员信息 站点")["count"] == 0
    response = requests.get(f"{live.url}/api/3/action/package_show",
                            params={"id": slug_of(live.portal.codes["closed"])}, timeout=30)
    assert response.status_code == 404
    body = response.json()
    assert body["success"] is False and body["error"]["__type"] == "Not Found Error"
    assert set(body) == {"help", "success", "error"}


def test_errors_have_ckan_shapes(live: Live) -> None:
    with pytest.raises(ckanapi.ValidationError) as missing:
        live.ckan.action.package_show()
    assert missing.value.error_dict["id"] == ["Missing value"]
    with pytest.raises(ckanapi.ValidationError):
        live.ckan.action.package_search(rows="many")
    unknown = requests.post(f"{live.url}/api/3/action/package_delete", json={"id": "x"},
                            timeout=30)
    assert unknown.status_code == 400 and unknown.json()["error"]["__type"] == "Bad request"
    broken = requests.post(f"{live.url}/api/3/action/package_show", data=b"{not json",
                        headers={"Content-Type": "application/json"}, timeout=30)
    assert broken.status_code == 400 and broken.json()["success"] is False
    # GET with a query string answers as POST does
    got = requests.get(f"{live.url}/api/3/action/package_search",
                    params={"q": "公交", "facet.field": json.dumps(["groups"])},
                       timeout=30).json()
    assert got["success"] and got["result"]["facets"]["groups"] == {"transport": 1}


def test_resource_show_and_datastore_search(live: Live) -> None:
    package = live.ckan.action.package_show(id=slug_of(live.portal.codes["open"]))
    csv = package["resources"][0]
    assert live.ckan.action.resource_show(id=csv["id"])["format"] == "CSV"
    with pytest.raises(ckanapi.NotFound):
        live.ckan.action.resource_show(id="00000000-0000-0000-0000-000000000000")

    found = live.ckan.action.datastore_search(resource_id=csv["id"])
    assert found["total"] == 3
    assert [f["id"] for f in found["fields"]] == ["xlmc", "smz", "rjkl"]
    assert {f["id"]: f["type"] for f in found["fields"]}["rjkl"] == "int"
    assert "jsysfzh" not in json.dumps(found) and "371302199001011234" not in json.dumps(found)
    by_filter = live.ckan.action.datastore_search(resource_id=csv["id"],
                                                  filters={"xlmc": ["1路", "K3路"]},
                                                  sort="rjkl desc", fields=["xlmc", "rjkl"])
    assert by_filter["records"] == [{"xlmc": "1路", "rjkl": 12000},
                                    {"xlmc": "K3路", "rjkl": 3000}]
    assert live.ckan.action.datastore_search(resource_id=csv["id"], q="k3")["total"] == 1
    # 机场 is in the masked 首末站 and the withheld 备注: q sees neither.
    assert live.ckan.action.datastore_search(resource_id=csv["id"], q="机场")["total"] == 0
    paged = live.ckan.action.datastore_search(resource_id=csv["id"], sort="rjkl", limit=1,
                                              offset=1)
    assert paged["records"][0]["xlmc"] == "2路" and paged["total"] == 3
    # A withheld column cannot be filtered on, and an injection attempt is just a value.
    with pytest.raises(ckanapi.ValidationError):
        live.ckan.action.datastore_search(resource_id=csv["id"], filters={"jsysfzh": "3"})
    injected = live.ckan.action.datastore_search(
        resource_id=csv["id"], filters={"xlmc": "1路' OR '1'='1"})
    assert injected["total"] == 0
    with pytest.raises(ckanapi.ValidationError):
        live.ckan.action.datastore_search(resource_id=csv["id"], sort="xlmc; drop table x")


def test_api_calls_are_counted_in_batches(live: Live) -> None:
    code = live.portal.codes["open"]
    for _ in range(3):
        live.ckan.action.package_show(id=slug_of(code))
    live.ckan.action.package_search(q="公交")  # a search names no one dataset
    with live.portal.registry.session() as session:
        assert usage.by_dataset(session) == {}  # still pending: written in batches
    assert live.app.state.portal_usage.flush() == 3
    with live.portal.registry.session() as session:
        assert usage.by_dataset(session) == {code: {"view": 0, "download": 0, "api": 3}}
        assert usage.by_organisation(session)["371300_gaj"]["api"] == 3
