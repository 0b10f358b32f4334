"""Building: determinism, refusing to overwrite, atomicity, and real PostgreSQL / MariaDB."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from datapolis.demo import DirtRates, Manifest, build_demo
from datapolis.demo.systems import all_systems
from datapolis.errors import UserError
from tests.demo.conftest import HIGH_RATES


def checksums(out: Path) -> dict[str, str]:
    return {str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(out.rglob("*")) if p.is_file() and p.name != "manifest.json"}


def test_same_seed_builds_identical_files_in_one_or_two_processes(tmp_path: Path) -> None:
    one = build_demo(out_dir=tmp_path / "a", people=1500, seed=11, workers=1)
    two = build_demo(out_dir=tmp_path / "b", people=1500, seed=11, workers=2)
    sums = checksums(tmp_path / "a")
    assert len(sums) > 15 and sums == checksums(tmp_path / "b")
    assert [s.tables for s in one.systems] == [s.tables for s in two.systems]
    build_demo(out_dir=tmp_path / "c", people=1500, seed=12)
    other = checksums(tmp_path / "c")
    assert other["sources/gaj_hjxt.sqlite"] != sums["sources/gaj_hjxt.sqlite"]


def test_refuses_to_overwrite_unless_replace(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    first = build_demo(out_dir=out, people=300, seed=1)
    with pytest.raises(UserError, match="already exists"):
        build_demo(out_dir=out, people=300, seed=2)
    assert Manifest.load(out) == first
    second = build_demo(out_dir=out, people=400, seed=2, replace=True)
    assert Manifest.load(out) == second and second.people == 400
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo"]


@pytest.mark.parametrize("bad", [
    {"people": 10}, {"seed": -1}, {"source_urls": {"nope": "sqlite://"}},
    {"source_urls": {"mzj_dibao": "sqlite://"}}, {"rates": None},
])
def test_bad_requests_are_user_errors(tmp_path: Path, bad: dict[str, object]) -> None:
    args: dict[str, object] = {"out_dir": tmp_path / "demo", "people": 300, "seed": 1}
    if bad.get("rates", 0) is None:
        with pytest.raises(UserError, match="between 0 and 1"):
            DirtRates(blank=1.5)
        return
    with pytest.raises(UserError):
        build_demo(**args | bad)  # type: ignore[arg-type]
    assert not (tmp_path / "demo").exists()


class Crash(Exception):
    pass


def crash_after(rows: int):  # type: ignore[no-untyped-def]
    def progress(label: str, done: int, total: int) -> None:
        if done >= rows:
            raise Crash(f"simulated crash while loading {label}")
    return progress


@pytest.mark.parametrize("workers", [1, 2])
def test_a_crash_mid_build_leaves_nothing_behind(tmp_path: Path, workers: int) -> None:
    with pytest.raises(Crash):
        build_demo(out_dir=tmp_path / "demo", people=2000, seed=3, workers=workers,
                   progress=crash_after(3000))
    assert list(tmp_path.iterdir()) == []


def test_a_crash_while_replacing_keeps_the_old_demo(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    old = build_demo(out_dir=out, people=300, seed=1)
    before = checksums(out)
    with pytest.raises(Crash):
        build_demo(out_dir=out, people=2000, seed=3, replace=True, progress=crash_after(3000))
    assert Manifest.load(out) == old and checksums(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo"]


# --- PostgreSQL and MariaDB targets (real servers; they run in CI) ---------------------------

def with_password(url: str, password: str) -> str:
    return make_url(url).set(password=password).render_as_string(hide_password=False)


def test_postgres_target_gets_comments_rows_and_no_password_in_manifest(
        tmp_path: Path, pg_url: str) -> None:
    url = with_password(pg_url, "trust-ignores-this")  # trust auth: a password to hide
    manifest = build_demo(out_dir=tmp_path / "demo", people=1500, seed=5, rates=HIGH_RATES,
                          source_urls={"gaj_hjxt": url, "scjg_qydj": url})
    info = manifest.system("gaj_hjxt")
    assert info.storage == "postgresql" and "trust-ignores-this" not in json.dumps(
        manifest.to_dict())
    assert not (tmp_path / "demo" / "sources" / "gaj_hjxt.sqlite").exists()
    engine = create_engine(pg_url)
    try:
        with engine.connect() as conn:
            for name, count in info.tables.items():
                assert conn.execute(text(f"SELECT COUNT(*) FROM {name}")).scalar() == count
            comments = dict(conn.execute(text(
                "SELECT a.attname, d.description FROM pg_description d "
                "JOIN pg_attribute a ON a.attrelid = d.objoid AND a.attnum = d.objsubid "
                "WHERE d.objoid = 'czrk'::regclass")).all())
            assert comments["gmsfhm"] == "公民身份号码" and comments["hjdz"] == "户籍地址"
            assert conn.execute(text("SELECT obj_description('czrk'::regclass)")).scalar() \
                == "常住人口基本信息"
            # Blanks survive COPY as both kinds: empty strings and NULLs.
            blanks = conn.execute(text(
                "SELECT COUNT(*) FILTER (WHERE xm = ''), COUNT(*) FILTER (WHERE xm IS NULL) "
                "FROM czrk")).one()
            assert blanks[0] > 0 and blanks[1] > 0
            assert conn.execute(text("SELECT COUNT(*) FROM qyjbxx WHERE zxrq IS NULL")).scalar()
    finally:
        engine.dispose()
    with pytest.raises(UserError, match="already has demo tables"):
        build_demo(out_dir=tmp_path / "again", people=300, seed=5,
                   source_urls={"gaj_hjxt": pg_url})
    assert not (tmp_path / "again").exists()


def test_postgres_tables_are_dropped_when_the_build_fails(tmp_path: Path, pg_url: str) -> None:
    with pytest.raises(Crash):
        build_demo(out_dir=tmp_path / "demo", people=2000, seed=5, workers=1,
                   source_urls={"gaj_hjxt": pg_url}, progress=crash_after(6000))
    engine = create_engine(pg_url)
    try:
        assert inspect(engine).get_table_names() == []
    finally:
        engine.dispose()
    assert list(tmp_path.iterdir()) == []


def test_mariadb_target_gets_comments_and_rows(tmp_path: Path, mariadb_url: str) -> None:
    manifest = build_demo(out_dir=tmp_path / "demo", people=1500, seed=5,
                          source_urls={"jy_xlxx": mariadb_url, "bdc_djxt": mariadb_url})
    database = make_url(mariadb_url).database
    engine = create_engine(mariadb_url)
    try:
        with engine.connect() as conn:
            for system in ("jy_xlxx", "bdc_djxt"):
                info = manifest.system(system)
                assert info.storage == "mysql"
                for name, count in info.tables.items():
                    assert conn.execute(text(f"SELECT COUNT(*) FROM {name}")).scalar() == count
            comments = dict(conn.execute(text(
                "SELECT COLUMN_NAME, COLUMN_COMMENT FROM information_schema.COLUMNS "
                "WHERE TABLE_SCHEMA = :db AND TABLE_NAME = 'xlxx'"), {"db": database}).all())
            expected = {c.name: c.comment for c in all_systems()["jy_xlxx"].tables[0].columns}
            assert comments == expected
            table_comment = conn.execute(text(
                "SELECT TABLE_COMMENT FROM information_schema.TABLES "
                "WHERE TABLE_SCHEMA = :db AND TABLE_NAME = 'qlr'"), {"db": database}).scalar()
            assert table_comment == "权利人信息"
            name = conn.execute(text("SELECT qlrmc FROM qlr ORDER BY id LIMIT 1")).scalar()
            assert isinstance(name, str) and len(name) >= 2
    finally:
        engine.dispose()


def test_mariadb_tables_are_dropped_when_the_build_fails(tmp_path: Path,
                                                         mariadb_url: str) -> None:
    with pytest.raises(Crash):
        build_demo(out_dir=tmp_path / "demo", people=2000, seed=5, workers=2,
                   source_urls={"bdc_djxt": mariadb_url}, progress=crash_after(20000))
    engine = create_engine(mariadb_url)
    try:
        assert inspect(engine).get_table_names() == []
    finally:
        engine.dispose()
