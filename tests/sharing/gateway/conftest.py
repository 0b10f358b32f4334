"""The gateway fixture: CORE's city, a real warehouse table, a grant and the running app."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import TEST_SECRET_KEY
from fastapi.testclient import TestClient

from datapolis.config import Settings
from datapolis.registry.db import Registry
from datapolis.warehouse import DuckDBEngine
from datapolis.web.app import create_app
from tests.sharing.core.world import build
from tests.sharing.gateway.gateway_world import Gateway, fill_warehouse, grant, issue


@pytest.fixture
def gateway(registry: Registry, tmp_path: Path) -> Iterator[Gateway]:
    world = build(registry)
    engine = DuckDBEngine(tmp_path / "warehouse.duckdb")
    fill_warehouse(engine)
    with registry.session() as session:
        code = grant(session, world, world.county_app).code
    key, secret = issue(registry, world.county_app)
    other_key, other_secret = issue(registry, world.city_app)
    settings = Settings(env="test", home=tmp_path / "var", secret_key=TEST_SECRET_KEY,
                        scheduler=False, sharing_monitor_seconds=0)
    app = create_app(settings, registry, engine)
    with TestClient(app, base_url="https://testserver") as client:
        yield Gateway(world, client, key, secret, other_key, other_secret, code, engine)
    engine.close()
