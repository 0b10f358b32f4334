from __future__ import annotations

from pathlib import Path

import pytest

from datapolis.config import DEV_SECRET_KEY, ENV_PREFIX, Settings, load_settings
from datapolis.errors import ConfigError

DOCS = Path(__file__).resolve().parent.parent / "docs" / "settings.md"


def test_every_setting_has_help_and_is_documented() -> None:
    documented = DOCS.read_text(encoding="utf-8")
    for name, field in Settings.model_fields.items():
        assert field.description, f"setting {name} has no help text"
        assert f"`{ENV_PREFIX}{name.upper()}`" in documented, f"{name} missing from {DOCS}"


def test_environment_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DATAPOLIS_HOME", str(tmp_path))
    monkeypatch.setenv("DATAPOLIS_PORT", "8123")
    settings = load_settings()
    assert settings.port == 8123
    assert settings.registry_url == f"sqlite:///{tmp_path / 'registry.sqlite'}"
    assert settings.warehouse_file == tmp_path / "warehouse.duckdb"


def test_unknown_setting_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATAPOLIS_DATABSE_URL", "sqlite://")
    with pytest.raises(ConfigError, match="unknown setting DATAPOLIS_DATABSE_URL"):
        load_settings()


def test_invalid_value_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATAPOLIS_PORT", "eighty")
    with pytest.raises(ConfigError, match="invalid setting DATAPOLIS_PORT"):
        load_settings()


def test_default_secret_refused_outside_dev() -> None:
    Settings(env="dev").check_secure()
    for env in ("test", "prod"):
        with pytest.raises(ConfigError, match="built-in development key"):
            Settings(env=env).check_secure()  # type: ignore[arg-type]
    Settings(env="prod", secret_key="x" * 40).check_secure()
    assert Settings(env="prod", secret_key="x" * 40).cookies_secure
    assert not Settings(env="dev").cookies_secure


def test_short_secret_refused() -> None:
    with pytest.raises(ConfigError, match="DATAPOLIS_SECRET_KEY"):
        load_settings(secret_key="short")
    assert DEV_SECRET_KEY not in repr(Settings())
