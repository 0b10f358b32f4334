"""`demo land` leaves quality rules, checked tables, issues (some moved by department users)
and scores for the governance dashboard."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from datapolis.config import get_settings
from datapolis.demo import quality as demo_quality
from datapolis.demo.cli import app
from datapolis.quality import scores
from datapolis.quality.issues import service as issues
from datapolis.registry import migrate
from datapolis.registry.db import open_registry
from datapolis.sharing.metering.models import ShareCall
from datapolis.sharing.monitoring.models import CallHour
from datapolis.warehouse import DuckDBEngine

runner = CliRunner()


@pytest.fixture(scope="module")
def landed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("quality") / "var"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATAPOLIS_HOME", str(home))
        get_settings.cache_clear()
        registry = open_registry(get_settings().registry_url)
        migrate.upgrade(registry)
        registry.close()
        assert runner.invoke(app, ["build", "--people", "300"]).exit_code == 0
        result = runner.invoke(app, ["land"])
        assert result.exit_code == 0, result.output
        assert "Quality: " in result.output and "moved by department users" in result.output
        yield home
        get_settings.cache_clear()


def test_land_leaves_issues_moves_and_scores(landed: Path) -> None:
    registry = open_registry(f"sqlite:///{landed / 'registry.sqlite'}", create=False)
    try:
        with registry.session() as session:
            found = issues.list_issues(session)
            by_state = {i.state for i in found}
            assert found and "open" in by_state and "submitted" in by_state
            assert all(i.org is not None for i in found)  # every issue has its provider
            moved = [i for i in found if i.state != "open"]
            assert {e.actor for i in moved for e in i.events} >= {"gaj_user", "system"}
            departments = scores.department_scores(session)
            assert departments and all(d.score is not None for d in departments)
            rates = issues.rectification(session)
            assert sum(r.opened for r in rates) == len(found)
        warehouse = DuckDBEngine(landed / "warehouse.duckdb")
        try:  # a second run adds no rules and moves nothing already moved
            again = demo_quality.run(registry, warehouse)
        finally:
            warehouse.close()
        with registry.session() as session:
            assert again.issues == len(issues.list_issues(session)) == len(found)
    finally:
        registry.close()


def test_land_rolls_up_its_interface_traffic(landed: Path) -> None:
    """The monitoring pages have the demo's calls from the first minute, not after the
    server's first monitor run."""
    registry = open_registry(f"sqlite:///{landed / 'registry.sqlite'}", create=False)
    try:
        with registry.session() as session:
            calls = session.scalar(select(func.count()).select_from(ShareCall))
            rolled = session.scalar(select(func.sum(CallHour.calls)))
            assert calls and rolled == calls
    finally:
        registry.close()
