"""`demo build --stream-server`: the streamed system in a database of the demo's own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest
from sqlalchemy import create_engine, inspect, text
from typer.testing import CliRunner

from datapolis.config import get_settings
from datapolis.demo import servers
from datapolis.demo.cli import app
from datapolis.demo.manifest import Manifest
from datapolis.demo.systems import all_systems
from datapolis.registry import migrate
from datapolis.registry.db import open_registry
from tests.databases import IN_CI, PG_ADMIN_URL

SERVER = PG_ADMIN_URL.rsplit("/", 1)[0]
TABLES = all_systems()[servers.STREAMED_SYSTEM].tables
runner = CliRunner()


@pytest.fixture
def out_dir(tmp_path: Path) -> Iterator[Path]:
    """A demo directory; its database on the server is dropped afterwards."""
    out = tmp_path / "demo"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        admin.connect().close()
    except Exception as exc:
        admin.dispose()
        if IN_CI:
            pytest.fail(f"PostgreSQL is required in CI and unreachable: {exc}")
        pytest.skip(f"PostgreSQL unreachable: {exc}")
    yield out
    with admin.connect() as connection:
        connection.execute(text("SELECT pg_drop_replication_slot(slot_name) "
                                "FROM pg_replication_slots WHERE database = :name"),
                           {"name": servers.database_name(out)})
        connection.execute(text(
            f'DROP DATABASE IF EXISTS "{servers.database_name(out)}" WITH (FORCE)'))
    admin.dispose()


def test_the_database_is_named_after_the_demo_directory(tmp_path: Path) -> None:
    one, other = servers.database_name(tmp_path / "a"), servers.database_name(tmp_path / "b")
    assert one != other and one.startswith("datapolis_demo_") and len(one) <= 63
    assert servers.database_name(tmp_path / "a") == one


def test_prepare_creates_once_and_clears_an_earlier_demo(out_dir: Path) -> None:
    first = servers.prepare(SERVER, out_dir, TABLES)
    assert first.url is not None and servers.database_name(out_dir) in first.url
    assert "streams by cdc" in first.note
    # What an earlier demo at this directory left: a table and a slot nobody reads.
    engine = create_engine(first.url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE czrk (id int)"))
        connection.execute(text("CREATE TABLE kept (id int)"))
    engine.dispose()
    slot = psycopg2.connect(first.url.replace("+psycopg2", ""))
    slot.autocommit = True
    with slot.cursor() as cursor:
        cursor.execute("SELECT pg_create_logical_replication_slot("
                       "'datapolis_old_demo_slot', 'pgoutput')")
    slot.close()

    again = servers.prepare(SERVER, out_dir, TABLES)
    assert again.url == first.url
    engine = create_engine(again.url)
    assert inspect(engine).get_table_names() == ["kept"]  # only the demo's own tables go
    with engine.connect() as connection:
        left = connection.scalar(text("SELECT count(*) FROM pg_replication_slots "
                                      "WHERE slot_name = 'datapolis_old_demo_slot'"))
    engine.dispose()
    assert left == 0


def test_an_unreachable_server_leaves_the_system_in_sqlite(tmp_path: Path) -> None:
    prepared = servers.prepare("postgresql://postgres@127.0.0.1:1", tmp_path / "demo", TABLES)
    assert prepared.url is None
    assert "gaj_hjxt stays in SQLite" in prepared.note and "127.0.0.1:1" in prepared.note


@pytest.mark.parametrize("bad", ["not a url", "sqlite:///x.db"])
def test_a_bad_server_url_is_refused(tmp_path: Path, bad: str) -> None:
    with pytest.raises(Exception, match="--stream-server"):
        servers.prepare(bad, tmp_path / "demo", TABLES)


def test_build_puts_the_household_register_into_postgresql(
    out_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATAPOLIS_HOME", str(tmp_path / "var"))
    get_settings.cache_clear()
    registry = open_registry(get_settings().registry_url)
    migrate.upgrade(registry)
    registry.close()
    try:
        result = runner.invoke(app, ["build", "--people", "300", "--out", str(out_dir),
                                     "--stream-server", SERVER])
        assert result.exit_code == 0, result.output
        assert "streams by cdc" in result.output
        manifest = Manifest.load(out_dir)
        assert manifest.system("gaj_hjxt").storage == "postgresql"
        assert manifest.system("scjg_qydj").storage == "sqlite"
    finally:
        get_settings.cache_clear()
