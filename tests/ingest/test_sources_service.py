"""Registering sources: encrypted credentials, testing, browsing and choosing tables."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from datapolis.errors import Conflict, NotFound, UserError
from datapolis.ingest import jobs, service
from datapolis.ingest.models import Source
from datapolis.registry.db import Registry, open_registry
from datapolis.security.crypto import DecryptionError, Keyring
from datapolis.warehouse import DuckDBEngine
from tests.commands import run
from tests.conftest import make_city
from tests.databases import PG_ADMIN_URL, throwaway_database

KEYRING = Keyring.from_secret("k" * 40)
PASSWORD = "s3cret-口令"


@pytest.fixture
def source_db() -> Iterator[str]:
    """A department database with one commented table, on the real PostgreSQL."""
    for url in throwaway_database(PG_ADMIN_URL, "source_test"):
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.execute(text(
                "CREATE TABLE czrk (gmsfhm varchar(18) PRIMARY KEY, xm text, csrq date)"
            ))
            connection.execute(text("COMMENT ON TABLE czrk IS '常住人口'"))
            connection.execute(text("COMMENT ON COLUMN czrk.xm IS '姓名'"))
        engine.dispose()
        yield url.rsplit("/", 1)[1]


def add(registry: Registry, database: str, code: str = "371300_gaj_hjxt") -> None:
    with registry.session() as session:
        city = make_city(session)
        service.add_source(
            session, keyring=KEYRING, org=city.city_dept, code=code, name="户籍管理系统",
            kind="postgres", secrets={"password": PASSWORD},
            options={"host": "127.0.0.1", "port": 5432, "database": database, "user": "postgres"},
        )


def test_secrets_are_stored_encrypted_and_bound_to_their_source(
    registry: Registry, source_db: str
) -> None:
    add(registry, source_db)
    with registry.engine.connect() as connection:
        stored = connection.execute(text("SELECT secrets_encrypted, options FROM sources")).one()
    assert stored[0].startswith("sm4gcm:k1:") and PASSWORD not in stored[0]
    assert PASSWORD not in str(stored[1])
    with registry.session() as session:
        source = service.get_source(session, "371300_gaj_hjxt")
        copy = Source(code="other", name="x", kind="postgres", org=source.org,
                      options=source.options, secrets_encrypted=source.secrets_encrypted)
        with pytest.raises(DecryptionError):
            service.test_source(copy, KEYRING)


def test_test_browse_and_choose(registry: Registry, source_db: str) -> None:
    add(registry, source_db)
    with registry.session() as session:
        source = service.get_source(session, "371300_gaj_hjxt")
        assert "PostgreSQL" in service.test_source(source, KEYRING)
        tables = {t.name: t for t in service.browse_tables(source, KEYRING)}
        czrk = next(t for name, t in tables.items() if name.endswith("czrk"))
        assert czrk.comment == "常住人口" and czrk.primary_key == ("gmsfhm",)
        chosen = service.choose_tables(session, source=source, keyring=KEYRING,
                                       names=[czrk.name])
        assert chosen[0].target_table == "ods_371300_gaj.czrk"
        again = service.choose_tables(session, source=source, keyring=KEYRING,
                                      names=[czrk.name])
        assert [c.id for c in again] == [c.id for c in chosen]
        with pytest.raises(NotFound, match="no table"):
            service.choose_tables(session, source=source, keyring=KEYRING, names=["nope"])


def test_bad_registrations_are_refused(registry: Registry, source_db: str) -> None:
    add(registry, source_db)
    with registry.session() as session:
        org = session.scalars(select(Source)).one().org
        city_org = org.parent
        assert city_org is not None
        cases: list[tuple[dict[str, object], type[Exception], str]] = [
            ({"kind": "oracle"}, UserError, "unknown source kind"),
            ({"code": "371300_gaj_hjxt"}, Conflict, "already taken"),
            ({"code": "Bad Code"}, UserError, "lower-case"),
            ({"options": {"hostname": "x"}}, UserError, "unknown option hostname"),
            ({"secrets": {"token": "x"}}, UserError, "unknown secret token"),
            ({"org": city_org}, UserError, "not a department"),
        ]
        for change, error, message in cases:
            arguments: dict[str, object] = {
                "org": org, "code": "new_source", "name": "n", "kind": "postgres",
                "options": {"host": "127.0.0.1"}, "secrets": None, **change,
            }
            with pytest.raises(error, match=message):
                service.add_source(session, keyring=KEYRING, **arguments)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("source_table", "target"),
    [("public.czrk", "czrk"), ("dibao_202405.csv", "dibao_202405"), ("qyjbxx", "qyjbxx"),
     ("files/2024 低保.CSV", "t_2024"), ("Sheet1.xlsx", "sheet1")],
)
def test_target_table_names(source_table: str, target: str) -> None:
    assert service.target_table_name(source_table) == target


def test_source_cli(tmp_path: Path, source_db: str) -> None:
    home = tmp_path / "var"
    assert run(home, "db", "upgrade").returncode == 0
    with open_registry(f"sqlite:///{home / 'registry.sqlite'}").session() as session:
        make_city(session)
    add = run(home, "source", "add", "371300_gaj_hjxt", "--org", "371300_gaj", "--kind",
              "postgres", "--name", "户籍管理系统", "--option", "host=127.0.0.1",
              "--option", f"database={source_db}", "--option", "user=postgres",
              "--secrets-stdin", stdin=json.dumps({"password": PASSWORD}))
    assert add.returncode == 0, add.stderr
    assert PASSWORD not in add.stdout + add.stderr
    tested = run(home, "source", "test", "371300_gaj_hjxt")
    assert tested.returncode == 0 and "PostgreSQL" in tested.stdout
    browsed = run(home, "source", "tables", "371300_gaj_hjxt")
    assert "常住人口" in browsed.stdout
    chosen = run(home, "source", "tables", "371300_gaj_hjxt", "--choose", "public.czrk")
    assert "ods_371300_gaj.czrk" in chosen.stdout, chosen.stderr
    assert "371300_gaj_hjxt" in run(home, "source", "list").stdout
    assert "postgres" in run(home, "source", "kinds").stdout
    unknown = run(home, "source", "test", "nope")
    assert unknown.returncode == 1 and "no source with code 'nope'" in unknown.stderr
    assert "Traceback" not in unknown.stderr


def test_a_run_records_its_schema_changes(registry: Registry, tmp_path: Path) -> None:
    source_file = tmp_path / "s.sqlite"
    with sqlite3.connect(source_file) as db:
        db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER, old TEXT)")
        db.execute("INSERT INTO t VALUES (1, 1, 'x')")
    with registry.session() as session:
        city = make_city(session)
        source = service.add_source(session, keyring=KEYRING, org=city.city_dept, code="s1",
                                    name="s", kind="sqlite", options={"path": str(source_file)})
        (table,) = service.choose_tables(session, source=source, keyring=KEYRING, names=["t"])
        jobs.create_job(session, table=table, mode="incremental", cursor_column="v")
    context = jobs.RunContext(registry=registry, warehouse=DuckDBEngine(tmp_path / "w.duckdb"),
                              keyring=KEYRING, lock_dir=tmp_path / "locks")
    assert jobs.run_job(context, "s1.t").inserted == 1
    with sqlite3.connect(source_file) as db:
        db.execute("ALTER TABLE t DROP COLUMN old")
        db.execute("ALTER TABLE t ADD COLUMN new REAL")
        db.execute("INSERT INTO t VALUES (2, 2, 2.5)")
    second = jobs.run_job(context, "s1.t")
    assert (second.status, second.inserted) == ("succeeded", 1)
    with registry.session() as session:
        changes = jobs.schema_changes(session, jobs.get_job(session, "s1.t"))
        assert {(c.column, c.change) for c in changes} == {("old", "dropped"), ("new", "added")}
        with pytest.raises(jobs.JobBusy), jobs.exclusive(tmp_path / "locks", "s1.t"):
            jobs.run_job(context, "s1.t")
