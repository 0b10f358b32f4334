"""`datapolis sharing credentials issue/show`: the secret printed once, and it signs."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import TEST_SECRET_KEY
from typer.testing import CliRunner

from datapolis.config import get_settings
from datapolis.orgs.models import ApiApp
from datapolis.registry.db import Registry
from datapolis.security.crypto import Keyring
from datapolis.sharing.gateway import credentials
from datapolis.sharing.gateway.cli import app as credentials_cli
from tests.sharing.core.world import build


def test_issue_prints_the_secret_once_and_show_tells_the_algorithm(
        registry: Registry, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    world = build(registry)
    monkeypatch.setenv("DATAPOLIS_HOME", str(tmp_path / "var"))
    monkeypatch.setenv("DATAPOLIS_SECRET_KEY", TEST_SECRET_KEY)
    monkeypatch.setenv("DATAPOLIS_DATABASE_URL", registry.engine.url.render_as_string(False))
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    with registry.session() as session:
        app = session.get(ApiApp, world.county_app)
        assert app is not None
        key = app.app_key
    runner = CliRunner()
    before = runner.invoke(credentials_cli, ["show", key])
    assert before.exit_code == 0 and "signature: none" in before.output
    issued = runner.invoke(credentials_cli, ["issue", key, "--algorithm", "hmac-sha256"])
    assert issued.exit_code == 0, issued.output
    secret = next(line.split(": ", 1)[1] for line in issued.stdout.splitlines()
                  if line.startswith("app_secret: "))
    with registry.session() as session:
        state = credentials.app_state(session, key)
        assert state is not None and state.algorithm == "hmac-sha256" and state.sealed
        assert credentials.unseal(Keyring.from_secret(TEST_SECRET_KEY), key,
                                  state.sealed) == secret
        assert secret not in state.sealed
    after = runner.invoke(credentials_cli, ["show", key])
    assert "signature: HMAC-SHA256" in after.output and secret not in after.output
    wrong = runner.invoke(credentials_cli, ["issue", key, "--algorithm", "md5"])
    assert wrong.exit_code == 1 and "unknown signing algorithm" in wrong.stderr
    unknown = runner.invoke(credentials_cli, ["show", "dp_nosuchapp"])
    assert unknown.exit_code == 1
    get_settings.cache_clear()
