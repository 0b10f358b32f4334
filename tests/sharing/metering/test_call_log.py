"""The call log: API, page and CLI, each showing a department only its own calls."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from datapolis.orgs.models import Organisation, Role
from datapolis.registry.db import Registry
from datapolis.sharing.metering import Call, Meter, params_hash
from tests.conftest import bearer_for
from tests.web.forms import HTML, login

NOW = datetime.now(UTC).replace(microsecond=0)


def org_ids(registry: Registry) -> dict[str, int]:
    with registry.session() as session:
        return {o.code: o.id for o in session.scalars(select(Organisation))}


def record(n: int, *, consumer: int, provider: int, status: int = 200,
           error_code: str | None = None, interface: str = "lookup", ago: int = 0) -> Call:
    at = NOW - timedelta(minutes=ago)
    return Call(request_at=at, response_at=at + timedelta(milliseconds=9),
                consumer_org_id=consumer, app_id=None, provider_org_id=provider,
                resource_code="371300/000001", grant_id=None, interface=interface,
                params_hash=params_hash({"n": n}), rows=1 if status < 400 else 0, bytes=120,
                status=status, error_code=error_code, latency_ms=9.0, client_ip="10.1.1.1",
                request_id=f"r{n}")


@pytest.fixture
def calls(app: FastAPI, tmp_path: Path) -> dict[str, int]:
    """12 calls from the county department to the city department (3 refused), and 5 between
    two other organisations."""
    registry: Registry = app.state.registry
    ids = org_ids(registry)
    meter = Meter(registry, tmp_path / "journal")
    meter.start(thread=False)
    for n in range(12):
        meter.submit(record(n, consumer=ids["371302_gaj"], provider=ids["371300_gaj"],
                            status=403 if n % 4 == 0 else 200,
                            error_code="no_grant" if n % 4 == 0 else None, ago=60 - n))
    for n in range(12, 17):
        meter.submit(record(n, consumer=ids["371302"], provider=ids["371300"], ago=30))
    meter.stop()
    return ids


def test_the_bureau_sees_every_call_newest_first_in_pages(
    client: TestClient, calls: dict[str, int]
) -> None:
    headers = bearer_for(client, Role.PLATFORM_ADMIN)
    first = client.get("/api/sharing/calls", params={"limit": 10}, headers=headers).json()
    assert len(first["calls"]) == 10
    second = client.get("/api/sharing/calls", params={"limit": 10,
                                                      "before": first["next_before"]},
                        headers=headers).json()
    seen = [c["request_id"] for c in first["calls"] + second["calls"]]
    assert sorted(seen) == sorted(f"r{n}" for n in range(17))
    assert second["next_before"] is None
    ids = [c["id"] for c in first["calls"] + second["calls"]]
    assert ids == sorted(ids, reverse=True)
    call = first["calls"][0]
    assert call["consumer_org"] in {"371302_gaj", "371302"}
    assert call["params_hash"] and call["latency_ms"] == 9.0


def test_a_department_sees_only_calls_its_organisation_made_or_answered(
    client: TestClient, calls: dict[str, int]
) -> None:
    headers = bearer_for(client, Role.ORG_USER)  # a user of 371300_gaj, the provider
    found = client.get("/api/sharing/calls", params={"limit": 100}, headers=headers).json()
    assert len(found["calls"]) == 12
    assert {c["provider_org"] for c in found["calls"]} == {"371300_gaj"}
    refused = client.get("/api/sharing/calls", params={"outcome": "refused"},
                         headers=headers).json()
    assert [c["error_code"] for c in refused["calls"]] == ["no_grant"] * 3
    # Asking for another organisation's calls by name finds nothing, rather than them.
    other = client.get("/api/sharing/calls", params={"consumer": "371302"},
                       headers=headers).json()
    assert other["calls"] == []


def test_bad_filters_are_400_and_strangers_401(client: TestClient,
                                               calls: dict[str, int]) -> None:
    headers = bearer_for(client, Role.PLATFORM_ADMIN)
    assert client.get("/api/sharing/calls", params={"interface": "nope"},
                      headers=headers).status_code == 400
    assert client.get("/api/sharing/calls", params={"app_key": "dp_missing"},
                      headers=headers).status_code == 404
    assert client.get("/api/sharing/calls", params={"limit": 0},
                      headers=headers).status_code == 422
    assert client.get("/api/sharing/calls").status_code == 401
    auditor = bearer_for(client, Role.AUDITOR)  # no sharing.usage
    assert client.get("/api/sharing/calls", headers=auditor).status_code == 403


def test_the_call_log_page_in_chinese_with_filters(client: TestClient,
                                                   calls: dict[str, int]) -> None:
    assert login(client, Role.ORG_ADMIN.value).status_code == 303
    page = client.get("/sharing/calls", headers=HTML)
    assert page.status_code == 200
    assert "调用记录" in page.text and "no_grant" in page.text
    assert page.text.count("<tr>") == 12 + 1  # its own 12 calls and the heading
    refused = client.get("/sharing/calls", params={"outcome": "refused"}, headers=HTML)
    assert refused.text.count("<tr>") == 3 + 1
    bad = client.get("/sharing/calls", params={"since": "yesterday"}, headers=HTML)
    assert bad.status_code == 400 and "yesterday" in bad.text


def test_cli_lists_and_exports_calls(calls: dict[str, int], app: FastAPI, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from datapolis.cli import app as cli
    from datapolis.config import get_settings

    registry: Registry = app.state.registry
    monkeypatch.setenv("DATAPOLIS_DATABASE_URL", registry.engine.url.render_as_string(False))
    monkeypatch.setenv("DATAPOLIS_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    runner = CliRunner()
    listed = runner.invoke(cli, ["sharing", "calls", "--org", "371300_gaj",
                                 "--outcome", "refused"])
    assert listed.exit_code == 0, listed.output
    assert "Call records (newest 3)" in listed.output
    target = tmp_path / "calls.csv"
    exported = runner.invoke(cli, ["sharing", "calls", "--csv", str(target)])
    assert exported.exit_code == 0, exported.output
    lines = target.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("record_id,request_at") and len(lines) == 18
    bad = runner.invoke(cli, ["sharing", "calls", "--outcome", "maybe"])
    assert bad.exit_code == 1 and "--outcome" in bad.output
    journal = runner.invoke(cli, ["sharing", "journal"])
    assert journal.exit_code == 0 and "0 journal segment(s)" in journal.output
    get_settings.cache_clear()


def test_cli_replays_a_journal_a_killed_server_left(
    registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datapolis.cli import app as cli
    from datapolis.config import get_settings
    from tests.sharing.metering.calls import make_call

    home = tmp_path / "home"
    crashed = Meter(registry, home / "meter")
    crashed.start(thread=False)
    for n in range(7):
        crashed.submit(make_call(n))
    assert crashed.journal is not None
    crashed.journal.close(remove_current=False)  # killed: the journal is all that is left

    monkeypatch.setenv("DATAPOLIS_DATABASE_URL", registry.engine.url.render_as_string(False))
    monkeypatch.setenv("DATAPOLIS_HOME", str(home))
    get_settings.cache_clear()
    runner = CliRunner()
    shown = runner.invoke(cli, ["sharing", "journal"])
    assert shown.exit_code == 0 and "7 call record(s)" in shown.output
    replayed = runner.invoke(cli, ["sharing", "journal", "--replay"])
    assert replayed.exit_code == 0, replayed.output
    assert "replayed: 7 record(s)" in replayed.output
    assert "0 journal segment(s)" in runner.invoke(cli, ["sharing", "journal"]).output
    get_settings.cache_clear()
