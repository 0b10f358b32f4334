from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from datapolis.config import get_settings
from datapolis.demo.cli import app
from datapolis.orgs.models import Organisation, User
from datapolis.registry import migrate
from datapolis.registry.db import open_registry

runner = CliRunner()


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A DATAPOLIS_HOME with a migrated registry, as `make run` has before `demo build`."""
    monkeypatch.setenv("DATAPOLIS_HOME", str(tmp_path / "var"))
    get_settings.cache_clear()
    registry = open_registry(get_settings().registry_url)
    migrate.upgrade(registry)
    registry.close()
    yield tmp_path / "var"
    get_settings.cache_clear()


def test_build_registers_the_city_once(home: Path) -> None:
    first = runner.invoke(app, ["build", "--people", "300"])
    assert first.exit_code == 0, first.output
    assert "Registered" in first.output
    again = runner.invoke(app, ["build", "--if-absent"])
    assert again.exit_code == 0 and "Registered" not in again.output
    registry = open_registry(get_settings().registry_url)
    with registry.session() as session:
        assert session.scalar(select(func.count()).select_from(Organisation)) == 135
        assert session.scalar(select(User.role).where(User.username == "admin")) == "platform_admin"
    registry.close()


def test_build_refuses_an_unmigrated_registry_before_building(
    home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DATAPOLIS_HOME", str(tmp_path / "empty"))
    get_settings.cache_clear()
    result = runner.invoke(app, ["build", "--people", "300"])
    assert result.exit_code == 1 and "datapolis db upgrade" in result.output
    assert not (tmp_path / "empty").exists()


def test_build_then_info_then_refuse_then_if_absent(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = runner.invoke(app, ["build", "--people", "300", "--seed", "3", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "300 persons" in result.output and (out / "manifest.json").is_file()

    result = runner.invoke(app, ["info", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "gaj_hjxt" in result.output and "czrk" in result.output and "seed 3" in result.output

    result = runner.invoke(app, ["build", "--people", "300", "--out", str(out)])
    assert result.exit_code == 1
    assert "already exists" in result.output and "Traceback" not in result.output

    result = runner.invoke(app, ["build", "--if-absent", "--out", str(out)])
    assert result.exit_code == 0 and "nothing to build" in result.output


def test_errors_are_one_line_without_traceback(tmp_path: Path) -> None:
    result = runner.invoke(app, ["info", "--out", str(tmp_path / "missing")])
    assert result.exit_code == 1
    assert result.output.strip().startswith("error: no demo at")
    assert "Traceback" not in result.output

    result = runner.invoke(app, ["build", "--out", str(tmp_path / "x"), "--people", "300",
                                 "--source-url", "gaj_hjxt"])
    assert result.exit_code == 1 and "SYSTEM=URL" in result.output
    result = runner.invoke(app, ["build", "--out", str(tmp_path / "x"), "--people", "300",
                                 "--source-url", "gaj_hjxt=postgresql://nobody@127.0.0.1:1/x"])
    assert result.exit_code == 1 and "cannot connect" in result.output
    assert not (tmp_path / "x").exists()
