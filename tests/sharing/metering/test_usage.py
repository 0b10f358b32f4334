"""Quotas end to end: signed calls through the gateway are refused at the grant's limit, and a
grant's usage is readable by the bureau and the grant's parties only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from datapolis.config import Settings
from datapolis.orgs import service as orgs
from datapolis.orgs.models import OrgKind, Role
from datapolis.registry.db import Registry
from datapolis.sharing.gateway.client import sign
from datapolis.sharing.grants import service as grants
from datapolis.warehouse import DuckDBEngine
from tests.conftest import PASSWORD
from tests.sharing.metering.world import SECRET_KEY, populate


@pytest.fixture
def served(registry: Registry, tmp_path: Path) -> Iterator[tuple[TestClient, str, str, str]]:
    """The app over a world whose grant allows 2 calls a day; (client, resource, key, secret)."""
    from datapolis.web.app import create_app

    warehouse = DuckDBEngine(tmp_path / "warehouse.duckdb")
    resource, app_key, secret = populate(registry, warehouse, rows=50)
    with registry.session() as session:
        city = orgs.get_organisation(session, "371300")
        other = orgs.create_organisation(session, code="371300_jyj", name="临沂市教育局",
                                         kind=OrgKind.DEPARTMENT, division_code="371300",
                                         parent=city)
        orgs.create_user(session, username="bureau", password=PASSWORD,
                         role=Role.PLATFORM_ADMIN, org=city)
        orgs.create_user(session, username="stranger", password=PASSWORD, role=Role.ORG_ADMIN,
                         org=other)
        orgs.create_user(session, username="consumer", password=PASSWORD, role=Role.ORG_USER,
                         org=orgs.get_organisation(session, "371300_rsj"))
        (grant,) = grants.list_grants(session)
        grants.change_grant(session, grant, limits=grants.Limits(calls_per_day=2),
                            actor="test")
    settings = Settings(env="test", home=tmp_path / "var", secret_key=SECRET_KEY,
                        scheduler=False, sharing_monitor_seconds=0)
    app = create_app(settings, registry, warehouse)
    with TestClient(app, base_url="https://testserver") as client:
        yield client, resource, app_key, secret
    warehouse.close()


def token(client: TestClient, username: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/token", data={"username": username,
                                                       "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_calls_beyond_the_daily_quota_are_refused_and_recorded(
    served: tuple[TestClient, str, str, str]
) -> None:
    client, resource, app_key, secret = served
    path = f"/share/v1/{quote(resource, safe='')}/records/LSH000000000007"
    answers = [client.get(path, headers=sign("GET", path, app_key=app_key, secret=secret))
               for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[2].json()["error"] == "quota_calls"

    bureau = token(client, "bureau")
    with client.app.state.registry.session() as session:  # type: ignore[attr-defined]
        (grant,) = grants.list_grants(session)
    usage = client.get(f"/api/sharing/grants/{grant.code}/usage", headers=bureau).json()
    assert (usage["calls"], usage["rows"], usage["calls_per_day"]) == (2, 2, 2)
    consumer = client.get(f"/api/sharing/grants/{grant.code}/usage",
                          headers=token(client, "consumer"))
    assert consumer.status_code == 200 and consumer.json()["calls"] == 2
    stranger = client.get(f"/api/sharing/grants/{grant.code}/usage",
                          headers=token(client, "stranger"))
    assert stranger.status_code == 404
    assert client.get("/api/sharing/grants/G0/usage", headers=bureau).status_code == 404
    client.app.state.meter.flush()  # type: ignore[attr-defined]  # the log reads the registry
    log = client.get("/api/sharing/calls", params={"error_code": "quota_calls"},
                     headers=bureau).json()
    assert [c["status"] for c in log["calls"]] == [429]


def test_cli_usage_of_a_grant(served: tuple[TestClient, str, str, str],
                              monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from datapolis.cli import app as cli
    from datapolis.config import get_settings

    client, resource, app_key, secret = served
    path = f"/share/v1/{quote(resource, safe='')}/records/LSH000000000003"
    assert client.get(path, headers=sign("GET", path, app_key=app_key,
                                         secret=secret)).status_code == 200
    client.app.state.meter.flush()  # type: ignore[attr-defined]
    registry: Registry = client.app.state.registry  # type: ignore[attr-defined]
    with registry.session() as session:
        (grant,) = grants.list_grants(session)
    monkeypatch.setenv("DATAPOLIS_DATABASE_URL", registry.engine.url.render_as_string(False))
    get_settings.cache_clear()
    result = CliRunner().invoke(cli, ["sharing", "usage", grant.code])
    assert result.exit_code == 0, result.output
    assert "1 calls of 2, 1 rows of no limit" in result.output
    missing = CliRunner().invoke(cli, ["sharing", "usage", "G000"])
    assert missing.exit_code == 1 and "G000" in missing.output
    get_settings.cache_clear()
