"""The conflicts API: a department's filter applies before the limit (a police view limited
to one conflict gets its own, not an empty page), paging, and the service's filters."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import TEST_SECRET_KEY, bearer_for
from fastapi.testclient import TestClient

from datapolis.baselib import service
from datapolis.config import Settings
from datapolis.orgs.models import Role
from datapolis.registry.db import Registry
from datapolis.standardise.spec import parse
from datapolis.warehouse import DuckDBEngine
from datapolis.web.app import create_app
from tests.baselib.small_city import ID_A, ID_B, ID_C, build_city


@pytest.fixture
def client(tmp_path: Path, sqlite_registry: Registry) -> Iterator[TestClient]:
    settings = Settings(env="test", home=tmp_path / "var", secret_key=TEST_SECRET_KEY)
    warehouse = DuckDBEngine()
    build_city(sqlite_registry, warehouse, settings.home)
    with TestClient(create_app(settings, sqlite_registry, warehouse),
                    base_url="https://testserver") as test_client:
        yield test_client
    warehouse.close()


def _keys(found: list[dict[str, object]]) -> list[tuple[object, object]]:
    return [(c["link_key"], c["field"]) for c in found]


def test_the_department_filter_applies_before_the_limit(client: TestClient) -> None:
    admin = bearer_for(client, Role.PLATFORM_ADMIN)
    police = bearer_for(client, Role.ORG_ADMIN)  # 临沂市公安局: std.gaj_czrk
    url = "/api/governance/base/conflicts"
    assert _keys(client.get(url, headers=admin).json()) == [
        (ID_C[:17], "name"), (ID_A[:17], "address"), (ID_B[:17], "mobile")]
    # The first conflict (ID_C, water against education) is not the police's: with the old
    # limit-then-filter a police page of one was empty.
    assert _keys(client.get(url, params={"limit": 1}, headers=police).json()) == [
        (ID_A[:17], "address")]
    assert _keys(client.get(url, params={"limit": 1, "offset": 1}, headers=police).json()) == [
        (ID_B[:17], "mobile")]
    assert _keys(client.get(url, params={"limit": 5, "field": "mobile"},
                            headers=police).json()) == [(ID_B[:17], "mobile")]
    assert client.get(url, params={"offset": -1}, headers=police).status_code == 422


def test_service_filters_and_counts(tmp_path: Path, sqlite_registry: Registry) -> None:
    warehouse = DuckDBEngine()
    build_city(sqlite_registry, warehouse, tmp_path / "var")
    water = {"std.swjt_yhda"}
    assert service.count_conflicts(warehouse) == 3
    assert service.count_conflicts(warehouse, sources=water) == 3
    assert service.count_conflicts(warehouse, sources={"std.jyj_xlxx"}, field="name") == 1
    assert service.count_conflicts(warehouse, sources=set()) == 0
    # Water holds the value not chosen for ID_C's name and ID_A's address, not ID_B's mobile.
    assert [c.link_key for c in service.conflicts(warehouse, other_source="std.swjt_yhda",
                                                  limit=5)] == [ID_C[:17], ID_A[:17]]
    assert [c.field for c in service.conflicts(warehouse, sources=water, limit=2,
                                               offset=1)] == ["address", "mobile"]
    specs = {"a": parse({"target": "a", "sources": ["ods_371300_gaj.x"], "pk": "id"})}
    assert service.department_tables(specs, ["371300_gaj"]) == {"std.a"}
    assert service.department_tables(specs, ["371300_swjt"]) == set()
    warehouse.close()
