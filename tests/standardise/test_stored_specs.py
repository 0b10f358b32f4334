"""Specs edited through the API and the CLI: GET a spec as JSON, PUT it back changed
(validated whole first: 422 says where it is wrong and nothing is stored), the stored spec
replaces the file for builds, DELETE returns to the file; `datapolis std spec
show|import|export`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import TEST_SECRET_KEY, bearer_for
from fastapi.testclient import TestClient

from datapolis.catalog.standards import seed_standards
from datapolis.config import Settings
from datapolis.orgs.models import Role
from datapolis.registry import migrate
from datapolis.registry.db import Registry, open_registry
from datapolis.standardise import stored
from datapolis.standardise.models import StoredSpec
from datapolis.warehouse import DuckDBEngine
from datapolis.web.app import create_app
from tests import commands
from tests.baselib.small_city import build_city

URL = "/api/governance/std/specs"


@pytest.fixture
def client(tmp_path: Path, sqlite_registry: Registry) -> Iterator[TestClient]:
    settings = Settings(env="test", home=tmp_path / "var", secret_key=TEST_SECRET_KEY)
    warehouse = DuckDBEngine()
    build_city(sqlite_registry, warehouse, settings.home)
    with TestClient(create_app(settings, sqlite_registry, warehouse),
                    base_url="https://testserver") as test_client:
        yield test_client
    warehouse.close()


def _count(client: TestClient) -> int:
    with client.app.state.registry.session() as session:  # type: ignore[attr-defined]
        return len(list(session.query(StoredSpec)))


def test_get_edit_put_build_and_reset_a_spec(client: TestClient) -> None:
    admin = bearer_for(client, Role.PLATFORM_ADMIN)
    police = bearer_for(client, Role.ORG_ADMIN)
    got = client.get(f"{URL}/swjt_yhda", headers=police)
    assert got.status_code == 200 and got.headers["X-Spec-Origin"] == "home"
    body = got.json()
    assert body["columns"] == {"ysdz": ["halfwidth"]}
    body["columns"]["hm"] = ["trim", {"null_if": ["不详"]}]
    assert client.put(f"{URL}/swjt_yhda", json=body, headers=police).status_code == 403
    put = client.put(f"{URL}/swjt_yhda", json=body, headers=admin)
    assert put.status_code == 200, put.text
    assert put.json()["origin"] == "registry" and put.json()["columns"]["hm"] == [
        "trim", 'null_if(["不详"])']
    again = client.get(f"{URL}/swjt_yhda", headers=police)
    assert again.headers["X-Spec-Origin"] == "registry" and again.json() == body
    listed = {s["table"]: s["origin"] for s in client.get(URL, headers=police).json()}
    assert listed["std.swjt_yhda"] == "registry" and listed["std.gaj_czrk"] == "home"
    assert listed["std.bdcdj_bdcdy"] == "shipped"
    built = client.post("/api/governance/std/build", json={"names": ["swjt_yhda"]},
                        headers=admin).json()[0]
    steps = {s["column"] for s in built["details"]["steps"]}
    assert steps == {"ysdz", "hm"}  # the stored spec was built, not the file
    assert client.delete(f"{URL}/swjt_yhda", headers=admin).status_code == 204
    assert client.get(f"{URL}/swjt_yhda", headers=police).headers["X-Spec-Origin"] == "home"
    assert client.delete(f"{URL}/swjt_yhda", headers=admin).status_code == 404
    assert client.get(f"{URL}/nosuch", headers=police).status_code == 404


@pytest.mark.parametrize(("change", "where"), [
    ({"columns": {"ysdz": ["halfwidth", "shout"]}}, "unknown transform 'shout'"),
    ({"columns": {"ysdz": [{"regex_replace": {"replacement": "x"}}]}},
     "column ysdz: regex_replace needs {pattern, replacement}"),
    ({"columns": {"hm": [{"code": "colour"}]}}, "column hm: no code table 'colour'"),
    ({"columns": {"nosuch": ["trim"]}}, "no column nosuch in ods_371300_swjt.yhda"),
    ({"pk": "missing"}, "has no primary key column missing"),
    ({"target": "other"}, "target is 'other'"),
    ({"dedupe": {"key": ["zjhm"], "keep": ["newest"]}}, "dedupe rule 'newest'"),
    ({"extra": 1}, "unknown keys extra"),
])
def test_a_bad_spec_is_a_422_that_says_where_and_stores_nothing(
    client: TestClient, change: dict[str, object], where: str
) -> None:
    admin = bearer_for(client, Role.PLATFORM_ADMIN)
    body = {**client.get(f"{URL}/swjt_yhda", headers=admin).json(), **change}
    refused = client.put(f"{URL}/swjt_yhda", json=body, headers=admin)
    assert refused.status_code == 422, refused.text
    assert where in refused.json()["detail"] and "std.swjt_yhda" in refused.json()["detail"]
    assert _count(client) == 0
    assert client.put(f"{URL}/swjt_yhda", json=[1], headers=admin).status_code == 422


def test_a_spec_whose_sources_have_not_landed_is_checked_but_its_columns_wait(
    tmp_path: Path, sqlite_registry: Registry
) -> None:
    body = {"target": "new_one", "sources": ["ods_371300_gaj.later"], "pk": "id",
            "columns": {"xm": ["trim"], "xb": [{"code": "sex"}]}}
    with sqlite_registry.session() as session:
        spec = stored.save(session, body, "new_one", actor="t", warehouse=DuckDBEngine(),
                           code_tables={"sex": {"男": "1"}})
        assert stored.effective_specs(session)["new_one"] == spec
        assert stored.document(session, None, "std.new_one").origin == "registry"


@pytest.mark.slow
def test_the_cli_shows_exports_and_imports_specs(tmp_path: Path) -> None:
    home = tmp_path / "var"
    registry = open_registry(f"sqlite:///{home / 'registry.sqlite'}", create=True)
    migrate.upgrade(registry)
    with registry.session() as session:
        seed_standards(session)  # the code tables specs map to
    registry.close()
    shown = commands.run(home, "std", "spec", "show", "gaj_czrk")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["target"] == "gaj_czrk" and "shipped" in shown.stderr
    exported = commands.run(home, "std", "spec", "export", str(tmp_path / "out"))
    assert exported.returncode == 0, exported.stderr
    files = sorted(p.name for p in (tmp_path / "out").glob("*.json"))
    assert "gaj_czrk.json" in files and len(files) >= 9
    edited = json.loads((tmp_path / "out" / "gaj_czrk.json").read_text(encoding="utf-8"))
    edited["title"] = "常住人口（已编辑）"
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_text(json.dumps(edited, ensure_ascii=False), encoding="utf-8")
    bad.write_text(json.dumps({**edited, "target": "x", "columns": {"xm": ["shout"]}}),
                   encoding="utf-8")
    refused = commands.run(home, "std", "spec", "import", str(good), str(bad))
    assert refused.returncode != 0 and "bad.json" in refused.stderr
    assert "unknown transform 'shout'" in refused.stderr and "Traceback" not in refused.stderr
    assert "shipped" in commands.run(home, "std", "spec", "show", "gaj_czrk").stderr
    stored_ok = commands.run(home, "std", "spec", "import", str(good))
    assert stored_ok.returncode == 0, stored_ok.stderr
    again = commands.run(home, "std", "spec", "show", "gaj_czrk")
    assert json.loads(again.stdout)["title"] == "常住人口（已编辑）"
    assert "registry" in again.stderr and "cli:" in again.stderr
