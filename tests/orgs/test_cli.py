"""The `users`, `apps` and `orgs` CLI verbs against real registries (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import Result
from conftest import PASSWORD, TEST_SECRET_KEY, make_city
from typer import Typer
from typer.testing import CliRunner

from datapolis.config import get_settings
from datapolis.orgs import service
from datapolis.orgs.cli import apps, orgs, users
from datapolis.registry.db import Registry


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[pytest.MonkeyPatch]:
    """Settings from the environment, as the real command reads them."""
    for name in list(os.environ):
        if name.startswith("DATAPOLIS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("DATAPOLIS_ENV", "test")
    monkeypatch.setenv("DATAPOLIS_HOME", str(tmp_path / "var"))
    monkeypatch.setenv("DATAPOLIS_SECRET_KEY", TEST_SECRET_KEY)
    monkeypatch.setenv("COLUMNS", "200")  # wide enough that Rich tables do not elide values
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


@pytest.fixture
def city_registry(registry: Registry, cli_env: pytest.MonkeyPatch) -> Registry:
    cli_env.setenv("DATAPOLIS_DATABASE_URL", registry.engine.url.render_as_string(False))
    with registry.session() as session:
        make_city(session)
    return registry


def invoke(app: Typer, *args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(app, list(args), input=input)


def assert_one_line_error(result: Result, expected: str) -> None:
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and expected in lines[0], lines[0]
    assert "Traceback" not in result.output


def test_create_user_from_stdin_and_prompt(city_registry: Registry) -> None:
    result = invoke(users, "create", "zhang.san", "--org", "371300_gaj", "--role", "org_admin",
                    "--name", "张三", "--password-stdin", input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert "created user zhang.san (org_admin) in 临沂市公安局" in result.stdout
    prompted = invoke(users, "create", "li.si", "--org", "371302",
                      input=f"{PASSWORD}\n{PASSWORD}\n")
    assert prompted.exit_code == 0, prompted.output
    assert PASSWORD not in prompted.stdout  # the prompt does not echo
    with city_registry.session() as session:
        user = service.get_user(session, "zhang.san")
        assert user.display_name == "张三" and user.password_hash.startswith("$argon2id$")
        assert service.authenticate_user(session, username="li.si", password=PASSWORD)

    listed = invoke(users, "list", "--org", "371302")
    assert listed.exit_code == 0
    assert "li.si" in listed.stdout and "zhang.san" not in listed.stdout


def test_user_errors_are_one_red_line(city_registry: Registry) -> None:
    assert_one_line_error(
        invoke(users, "create", "wangwu", "--org", "nowhere", "--password-stdin",
               input=PASSWORD + "\n"),
        "no organisation with code 'nowhere'",
    )
    assert_one_line_error(
        invoke(users, "create", "wangwu", "--org", "371300", "--password-stdin",
               input="short\n"),
        "at least 10 characters",
    )
    invoke(users, "create", "wangwu", "--org", "371300", "--password-stdin", input=PASSWORD)
    assert_one_line_error(
        invoke(users, "create", "WANGWU", "--org", "371300", "--password-stdin",
               input=PASSWORD + "\n"),
        "already taken",
    )
    assert_one_line_error(invoke(users, "deactivate", "nobody"), "no user named 'nobody'")
    with city_registry.session() as session:
        assert [u.username for u in service.list_users(session)] == ["wangwu"]


def test_set_password_and_deactivate_end_tokens(city_registry: Registry) -> None:
    invoke(users, "create", "zhaoliu", "--org", "371300", "--password-stdin", input=PASSWORD)
    with city_registry.session() as session:
        user = service.get_user(session, "zhaoliu")
        first = service.issue_token(session, kind="bearer", lifetime=timedelta(hours=1), user=user)
    new_password = "a-new-long-password"
    result = invoke(users, "set-password", "zhaoliu", "--password-stdin", input=new_password)
    assert result.exit_code == 0, result.output
    with city_registry.session() as session:
        assert service.resolve_token(session, token=first.token, kind="bearer") is None
        assert service.authenticate_user(session, username="zhaoliu", password=PASSWORD) is None
        user = service.get_user(session, "zhaoliu")
        assert service.authenticate_user(session, username="zhaoliu", password=new_password)
        second = service.issue_token(session, kind="bearer", lifetime=timedelta(hours=1), user=user)

    assert invoke(users, "deactivate", "zhaoliu").exit_code == 0
    with city_registry.session() as session:
        assert service.resolve_token(session, token=second.token, kind="bearer") is None
        assert service.authenticate_user(session, username="zhaoliu", password=new_password) is None
    assert "no" in invoke(users, "list").stdout.split("zhaoliu", 1)[1].splitlines()[0]


def test_apps_create_prints_the_secret_once_and_revoke(city_registry: Registry) -> None:
    result = invoke(apps, "create", "不动产登记系统", "--org", "371302_gaj")
    assert result.exit_code == 0, result.output
    values = dict(line.split(": ", 1) for line in result.stdout.splitlines())
    key, secret = values["app_key"], values["app_secret"]
    assert "not shown again" in result.stderr
    with city_registry.session() as session:
        app = service.authenticate_app(session, app_key=key, secret=secret)
        assert app is not None and app.org.code == "371302_gaj"
        assert secret not in app.secret_hash

    listed = invoke(apps, "list")
    assert key in listed.stdout and secret not in listed.stdout

    assert invoke(apps, "revoke", key).exit_code == 0
    with city_registry.session() as session:
        assert service.authenticate_app(session, app_key=key, secret=secret) is None
    assert "revoked" in invoke(apps, "list", "--org", "371302").stdout
    assert_one_line_error(invoke(apps, "revoke", "dp_nothing"), "no API app with key")
    assert_one_line_error(invoke(apps, "create", "x", "--org", "nowhere"), "nowhere")


def test_orgs_create_and_list(city_registry: Registry) -> None:
    result = invoke(orgs, "create", "371311", "罗庄区", "--kind", "county",
                    "--division", "371311", "--parent", "371300")
    assert result.exit_code == 0, result.output
    assert "created county 罗庄区 (371311)" in result.stdout
    assert_one_line_error(
        invoke(orgs, "create", "371311001", "罗庄街道", "--kind", "street",
               "--division", "371302001", "--parent", "371311"),
        "does not lie within",
    )
    listed = invoke(orgs, "list").stdout
    assert "371311" in listed and "罗庄区" in listed and "371311001" not in listed


def test_unmigrated_registry_is_a_clear_error(
    cli_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    empty = tmp_path / "empty.sqlite"
    sqlite3.connect(empty).close()
    cli_env.setenv("DATAPOLIS_DATABASE_URL", f"sqlite:///{empty}")
    assert_one_line_error(invoke(users, "list"), "run `datapolis db upgrade`")
