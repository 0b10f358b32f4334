"""`datapolis sharing applications|approve|reject|grants|revoke` against a real registry."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from datapolis.catalog import service as catalog_service
from datapolis.cli import app
from datapolis.config import get_settings
from datapolis.orgs.deps import Principal
from datapolis.orgs.models import ApiApp, User
from datapolis.orgs.permissions import ROLE_PERMISSIONS
from datapolis.registry.db import Registry
from datapolis.sharing.applications import service
from tests.orgs.test_cli import assert_one_line_error
from tests.sharing.core.world import World, build

TEST_SECRET = "test-secret-key-0123456789abcdefghijklmnop"


@pytest.fixture
def cli_world(registry: Registry, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> World:
    monkeypatch.setenv("DATAPOLIS_ENV", "test")
    monkeypatch.setenv("DATAPOLIS_HOME", str(tmp_path / "var"))
    monkeypatch.setenv("DATAPOLIS_SECRET_KEY", TEST_SECRET)
    monkeypatch.setenv("DATAPOLIS_DATABASE_URL", registry.engine.url.render_as_string(False))
    monkeypatch.setenv("COLUMNS", "250")
    get_settings.cache_clear()
    return build(registry)


def _apply(world: World) -> str:
    with world.registry.session() as session:
        user = session.scalar(select(User).where(User.username == "county_user"))
        assert user is not None
        who = Principal(org=user.org, permissions=ROLE_PERMISSIONS[user.role], via="test",
                        user=user)
        return service.apply(session, who, entry=catalog_service.get_entry(
            session, world.resource), app=session.get(ApiApp, world.county_app),
            request=service.Request("核验", "法规", "窗口", ["xm", "xb"])).code


def test_list_approve_twice_list_grants_and_revoke(cli_world: World) -> None:
    code = _apply(cli_world)
    run = CliRunner().invoke
    listed = run(app, ["sharing", "applications", "--queue", "org_admin"])
    assert listed.exit_code == 0, listed.output
    assert code in listed.output and "1 applications" in listed.output
    assert_one_line_error(run(app, ["sharing", "approve", code, "--as", "county_user"]),
                          "nobody decides an application they made")
    assert_one_line_error(run(app, ["sharing", "approve", code, "--as", "org_admin",
                                    "--scope", "xzqh_dm =="]), "at character")
    first = run(app, ["sharing", "approve", code, "--as", "org_admin", "--calls-per-day", "50",
                      "--comment", "同意"])
    assert first.exit_code == 0 and "bureau_review" in first.output, first.output
    second = run(app, ["sharing", "approve", code, "--as", "platform_admin"])
    assert second.exit_code == 0 and "granted, grant G" in second.output, second.output
    grant = second.output.rsplit("grant ", 1)[1].strip()
    shown = run(app, ["sharing", "grants", "--org", "371302_gaj"])
    assert grant in shown.output and 'xzqh_dm prefix "371302"' in shown.output
    assert "active" in shown.output and "xm:mask" in shown.output
    assert_one_line_error(run(app, ["sharing", "revoke", grant, "--as", "county_user"]),
                          "may not revoke")
    revoked = run(app, ["sharing", "revoke", grant, "--reason", "项目结束"])
    assert revoked.exit_code == 0, revoked.output
    assert "revoked" in run(app, ["sharing", "grants"]).output
    assert_one_line_error(run(app, ["sharing", "revoke", grant]), "already revoked")


def test_reject_needs_a_comment_and_a_provider(cli_world: World) -> None:
    code = _apply(cli_world)
    run = CliRunner().invoke
    assert_one_line_error(run(app, ["sharing", "reject", code, "--as", "platform_admin",
                                    "--comment", "x"]), "providing department")
    done = run(app, ["sharing", "reject", code, "--as", "org_admin", "--comment", "用途不明"])
    assert done.exit_code == 0 and "rejected" in done.output
    assert "rejected" in run(app, ["sharing", "applications", "--state", "rejected"]).output
    assert_one_line_error(run(app, ["sharing", "approve", "A000", "--as", "org_admin"]),
                          "no application")
