"""The open API: registration, keys (shown once, hashed, revocable), rate limits with 429 and
Retry-After, Socrata-style parameters parsed (never interpolated), JSON and CSV, and
conditionally open datasets behind an approved application."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from datapolis.config import Settings
from datapolis.portal import soql
from datapolis.portal.datasets import slug_of
from datapolis.portal.public_models import PortalApiKey
from datapolis.portal.ratelimit import RateLimit
from datapolis.warehouse.engine import quote_identifier
from datapolis.web.app import create_app
from tests.conftest import TEST_SECRET_KEY
from tests.portal.conftest import Portal

PASSWORD = "open-data-2026"


@pytest.fixture
def api(portal: Portal, tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(env="test", home=tmp_path / "var", secret_key=TEST_SECRET_KEY,
                        scheduler=False, sharing_monitor_seconds=0,
                        portal_api_calls_per_minute=1000, portal_posts_per_hour=20)
    app = create_app(settings, portal.registry, portal.engine)
    with TestClient(app) as client:
        yield client


def key_for(api: TestClient, username: str = "citizen") -> str:
    made = api.post("/open/v1/users", json={"username": username,
                                            "email": f"{username}@example.cn",
                                            "password": PASSWORD})
    assert made.status_code == 201, made.text
    issued = api.post("/open/v1/keys", json={"username": username, "password": PASSWORD})
    assert issued.status_code == 201, issued.text
    key: str = issued.json()["key"]
    return key


def test_keys_are_shown_once_and_stored_hashed(api: TestClient, portal: Portal) -> None:
    key = key_for(api)
    with portal.registry.session() as session:
        stored = session.scalars(select(PortalApiKey)).one()
        assert stored.key_hash != key and key not in stored.key_hash and len(stored.key_hash) == 64
    listed = api.get("/open/v1/keys", headers={"X-API-Key": key}).json()
    assert [k["prefix"] for k in listed] == [key[:10]] and "key" not in listed[0]
    wrong = api.post("/open/v1/keys", json={"username": "citizen", "password": "nope-nope-no"})
    assert wrong.status_code == 401
    again = api.post("/open/v1/users", json={"username": "citizen", "email": "x@example.cn",
                                             "password": PASSWORD})
    assert again.status_code == 409
    short = api.post("/open/v1/users", json={"username": "another", "email": "a@example.cn",
                                             "password": "short"})
    assert short.status_code == 400 and "10 characters" in short.json()["detail"]
    assert api.delete(f"/open/v1/keys/{listed[0]['id']}",
                      headers={"X-API-Key": key}).status_code == 204
    assert api.get("/open/v1/keys", headers={"X-API-Key": key}).status_code == 401


def test_rows_with_socrata_parameters(api: TestClient, portal: Portal) -> None:
    key = key_for(api)
    headers = {"X-API-Key": key}
    url = f"/open/v1/datasets/{slug_of(portal.codes['open'])}/rows"
    assert api.get(url).status_code == 401
    everything = api.get(url, headers=headers)
    assert everything.status_code == 200
    rows = everything.json()
    assert sorted(r["xlmc"] for r in rows) == ["1路", "2路", "K3路"]  # the deleted row stays out
    assert all("bz" not in r for r in rows)  # withheld
    assert all(r.get("jsysfzh") != "371302199001011234" for r in rows)  # suppressed
    narrowed = api.get(url, headers=headers, params={
        "$select": "xlmc,rjkl", "$where": "rjkl between 3000 and 9000 and xlmc like 'K%'",
        "$order": "rjkl desc"}).json()
    assert narrowed == [{"xlmc": "K3路", "rjkl": 3000}]
    ordered = api.get(url, headers=headers, params={"$order": "rjkl desc", "$limit": "2",
                                                     "$offset": "1"}).json()
    assert [r["rjkl"] for r in ordered] == [8500, 3000]
    listed = api.get(url, headers=headers, params={
        "$where": "xlmc in ('1路', '2路') and not (rjkl < 9000) or xlmc is null"}).json()
    assert [r["xlmc"] for r in listed] == ["1路"]
    as_csv = api.get(url + ".csv", headers=headers, params={"$select": "xlmc",
                                                             "$order": "xlmc"})
    assert as_csv.content.startswith(b"\xef\xbb\xbf")
    assert list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig")))) == [
        ["xlmc"], ["1路"], ["2路"], ["K3路"]]
    for bad in ({"$where": "xlmc = '1路'; drop table x"}, {"$where": "bz = '夜班'"},
                {"$where": "xlmc like '%路'"}, {"$select": "xlmc,secret"},
                {"$order": "rjkl sideways"}, {"$limit": "-1"}, {"$limit": "1000000"},
                {"$group": "xlmc"}, {"$where": "rjkl > 'many'"}):
        refused = api.get(url, headers=headers, params=bad)
        assert refused.status_code == 400, (bad, refused.text)
        assert refused.json()["detail"]


def test_rate_limit_answers_429_with_retry_after(api: TestClient, portal: Portal) -> None:
    api.app.state.portal_limits = (RateLimit(8, 60.0), RateLimit(20, 3600.0))  # type: ignore[attr-defined]
    key = key_for(api)
    url = f"/open/v1/datasets/{slug_of(portal.codes['open'])}/rows"
    answers = [api.get(url, headers={"X-API-Key": key}) for _ in range(9)]
    assert [a.status_code for a in answers[:8]] == [200] * 8
    assert answers[8].status_code == 429
    assert 1 <= int(answers[8].headers["Retry-After"]) <= 60
    other = key_for(api, "second")  # limits are per key
    assert api.get(url, headers={"X-API-Key": other}).status_code == 200


def test_conditional_dataset_needs_an_approved_application(api: TestClient,
                                                           portal: Portal) -> None:
    key = key_for(api)
    slug = slug_of(portal.codes["conditional"])
    refused = api.get(f"/open/v1/datasets/{slug}/rows", headers={"X-API-Key": key})
    assert refused.status_code == 403 and "apply" in refused.json()["detail"]
    metadata = api.get(f"/open/v1/datasets/{slug}")
    assert metadata.status_code == 200 and metadata.json()["open_kind"] == "conditional"
    assert api.get("/open/v1/datasets", params={"q": "公交"}).json()["total"] == 1
    for hidden in ("unpublished", "closed"):
        assert api.get(f"/open/v1/datasets/{slug_of(portal.codes[hidden])}/rows",
                       headers={"X-API-Key": key}).status_code == 404


def test_where_never_becomes_sql_text() -> None:
    sql, params = soql.where("a = 'x'' or 1=1 --' and b in (1, 2.5) and c is not null",
                             ["a", "b", "c"], quote_identifier)
    assert "1=1" not in sql and "--" not in sql
    assert params == ["x' or 1=1 --", 1, 2.5]
    with pytest.raises(soql.QueryError, match="expected a value"):
        soql.where("a = ", ["a"], quote_identifier)
    with pytest.raises(soql.QueryError, match="at character 7"):
        soql.where("a = 1 ; drop", ["a"], quote_identifier)
    with pytest.raises(soql.QueryError, match="no column"):
        soql.where("sqlite_master = 1", ["a"], quote_identifier)
