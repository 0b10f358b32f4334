"""The demo's call traffic: signed calls through the real gateway and two weeks of history,
every one of them a call record."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from datapolis.config import Settings
from datapolis.demo.traffic import generate
from datapolis.registry.db import Registry
from datapolis.sharing.metering.models import ShareCall
from datapolis.warehouse import DuckDBEngine
from tests.sharing.metering.world import SECRET_KEY, populate


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[DuckDBEngine]:
    engine = DuckDBEngine(tmp_path / "warehouse.duckdb")
    yield engine
    engine.close()


def test_demo_traffic_goes_through_the_gateway_and_is_all_recorded(
    registry: Registry, warehouse: DuckDBEngine, tmp_path: Path
) -> None:
    resource_code, _key, _secret = populate(registry, warehouse, rows=500)
    settings = Settings(env="test", home=tmp_path / "var", secret_key=SECRET_KEY)

    traffic = generate(settings, registry, warehouse, history_calls=120, live_per_grant=8)

    assert traffic.grants == 1
    assert traffic.statuses is not None
    assert traffic.statuses[200] >= 8  # lookups, queries and the OpenAPI document answered
    assert traffic.statuses[401] == 1 and traffic.statuses[404] == 1  # tampered, missing key
    with registry.session() as session:
        total = session.scalar(select(func.count()).select_from(ShareCall))
        codes = dict(session.execute(select(ShareCall.error_code, func.count())
                                     .where(ShareCall.request_at > datetime.now(UTC)
                                            - timedelta(minutes=30))
                                     .group_by(ShareCall.error_code)).all())
        oldest = session.scalar(select(func.min(ShareCall.request_at)))
        interfaces = set(session.scalars(select(ShareCall.interface).distinct()))
        resources = set(session.scalars(select(ShareCall.resource_code).distinct()))
    assert total == traffic.live + traffic.history == traffic.live + 121
    assert codes["bad_signature"] == 1 and codes["not_found"] == 1
    assert codes[None] == traffic.statuses[200]
    assert oldest is not None and oldest < datetime.now(UTC) - timedelta(days=7)
    assert {"lookup", "query", "openapi"} <= interfaces
    assert resources == {resource_code}
    again = generate(settings, registry, warehouse)  # a second demo land adds no traffic
    assert (again.existing, again.live, again.history) == (total, 0, 0)


def test_no_live_grant_no_traffic(registry: Registry, warehouse: DuckDBEngine,
                                  tmp_path: Path) -> None:
    settings = Settings(env="test", home=tmp_path / "var", secret_key=SECRET_KEY)
    traffic = generate(settings, registry, warehouse)
    assert (traffic.grants, traffic.live, traffic.history) == (0, 0, 0)
