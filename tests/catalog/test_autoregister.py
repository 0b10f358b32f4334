"""Auto-registration after real highway runs of a SQLite source: one draft entry with the right
items and profile; later syncs refresh counts, keep a person's edits and add new columns."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from datapolis.catalog import autoregister, profiles, service
from datapolis.catalog.enums import CatalogType, DataType, EntryStatus
from datapolis.catalog.models import CatalogEntry
from datapolis.catalog.schemas import EntryUpdate, ItemInput
from datapolis.catalog.versions import Actor, list_versions
from datapolis.ingest import hooks, jobs
from datapolis.ingest import service as ingest_service
from datapolis.security.crypto import Keyring
from datapolis.security.grading import service as grading
from datapolis.warehouse import DuckDBEngine
from tests.catalog.conftest import Seeded

KEYRING = Keyring.from_secret("k" * 40)
TABLE = "ods_371300_gaj.czrk"
CREATE = """CREATE TABLE czrk ( -- 常住人口基本信息
  gmsfhm TEXT PRIMARY KEY, -- 公民身份号码
  xm TEXT, -- 姓名
  xb TEXT, -- 性别
  lxdh TEXT -- 联系电话
)"""


def add_address_column(path: Path) -> None:
    """The source gains a commented column (SQLite keeps comments in the CREATE text, which
    ALTER TABLE ... ADD COLUMN cannot extend with one)."""
    with sqlite3.connect(path) as db:
        db.execute("ALTER TABLE czrk RENAME TO czrk_old")
        db.execute(CREATE.replace("lxdh TEXT -- 联系电话",
                                  "lxdh TEXT, -- 联系电话\n  zz TEXT -- 住址"))
        db.execute("INSERT INTO czrk SELECT *, NULL FROM czrk_old")
        db.execute("DROP TABLE czrk_old")


def resident_id(body: str) -> str:
    weights = [pow(2, 17 - i, 11) for i in range(17)]
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]


PEOPLE = [
    (resident_id(f"3713021990010{n:04d}"), name, sex, f"1380000{n:04d}" if n % 4 else None)
    for n, (name, sex) in enumerate([("张三", "1"), ("李四", "2"), ("张三", "1"), ("王五", "1"),
                                     ("赵六", "2"), ("孙七", "2")], start=1)
]


@pytest.fixture
def hooked() -> Iterator[None]:
    autoregister.install()
    yield
    hooks.remove(autoregister.HOOK_NAME)


@pytest.fixture
def source_file(tmp_path: Path) -> Path:
    path = tmp_path / "hjxt.sqlite"
    with sqlite3.connect(path) as db:
        db.execute(CREATE)
        db.executemany("INSERT INTO czrk VALUES (?, ?, ?, ?)", PEOPLE)
    return path


@pytest.fixture
def context(seeded: Seeded, source_file: Path, tmp_path: Path) -> jobs.RunContext:
    with seeded.registry.session() as session:
        source = ingest_service.add_source(
            session, keyring=KEYRING, org=seeded.city.city_dept, code="gaj_hjxt",
            name="户籍管理系统", kind="sqlite", options={"path": str(source_file)})
        (table,) = ingest_service.choose_tables(session, source=source, keyring=KEYRING,
                                                names=["czrk"])
        jobs.create_job(session, table=table, mode="snapshot")
    return jobs.RunContext(registry=seeded.registry,
                           warehouse=DuckDBEngine(tmp_path / "w.duckdb"), keyring=KEYRING,
                           lock_dir=tmp_path / "locks")


def entries(context: jobs.RunContext) -> list[CatalogEntry]:
    with context.registry.session() as session:
        found = list(session.scalars(
            select(CatalogEntry).where(CatalogEntry.warehouse_table == TABLE)))
        for entry in found:
            _ = [(i.name, i.element) for i in entry.items], entry.provider.code
        session.expunge_all()
        return found


def test_a_sync_run_creates_one_draft_entry_with_profiled_items(
    context: jobs.RunContext, hooked: None
) -> None:
    jobs.run_job(context, "gaj_hjxt.czrk")
    (entry,) = entries(context)
    assert entry.name == "常住人口基本信息" and entry.status is EntryStatus.DRAFT
    assert entry.provider.code == "371300_gaj" and entry.catalog_type is CatalogType.DEPARTMENT
    assert entry.resource_code.startswith("399999/") and "自动登记" in entry.tags
    assert entry.record_count == 6 and entry.storage_bytes and entry.storage_bytes > 0
    assert entry.format_detail == "sqlite"
    items = {i.column_name: i for i in entry.items}
    assert [i.name for i in entry.items] == ["公民身份号码", "姓名", "性别", "联系电话"]
    assert items["gmsfhm"].data_type is DataType.STRING and items["gmsfhm"].length == 18
    assert all(i.element is None for i in entry.items)  # suggestions only, never confirmed
    with context.registry.session() as session:
        (version,) = list_versions(session, service.get_entry(session, entry.resource_code))
        assert (version.action, version.actor) == ("created", "system:autoregister")
        profile = profiles.get_profile(session, TABLE)
        assert profile is not None and profile.row_count == 6
        xm, lxdh, gmsfhm = (profile.column(n) for n in ("xm", "lxdh", "gmsfhm"))
        assert xm is not None and xm.top_values == [["张三", 2]] and xm.distinct_count == 5
        assert lxdh is not None and lxdh.present == 5 and round(lxdh.null_share(), 3) == 0.167
        assert gmsfhm is not None and gmsfhm.masked and gmsfhm.patterns["resident_id"] == 6
        assert gmsfhm.min_value is not None and "*" in gmsfhm.min_value
        best = {c.column_name: c.suggestions[0]["element_name"] for c in profile.columns
                if c.suggestions}
        assert best["gmsfhm"] == "公民身份号码" and best["xb"] == "性别"


def test_later_syncs_keep_human_edits_refresh_counts_and_add_new_columns(
    context: jobs.RunContext, hooked: None, source_file: Path
) -> None:
    jobs.run_job(context, "gaj_hjxt.czrk")
    (entry,) = entries(context)
    with context.registry.session() as session:
        stored = service.get_entry(session, entry.resource_code)
        update = EntryUpdate(
            name="常住人口（公安）", summary="人工填写的摘要", warehouse_table=TABLE,
            items=[ItemInput(name="身份证号", column_name="gmsfhm", length=18,
                             element_code="DE0001"),
                   ItemInput(name="姓名", column_name="xm", length=30)],
        )
        service.update_entry(session, entry=stored, data=update, actor=Actor("org_user"))
    add_address_column(source_file)
    with sqlite3.connect(source_file) as db:
        db.execute("INSERT INTO czrk VALUES (?, '周八', '1', NULL, '临沂市兰山区')",
                   [resident_id("37130219900200001")])
    jobs.run_job(context, "gaj_hjxt.czrk")
    (entry,) = entries(context)  # still one entry
    assert entry.name == "常住人口（公安）" and entry.summary == "人工填写的摘要"
    assert entry.record_count == 7
    names = [i.name for i in entry.items]
    # The person's two items stand; the dropped ones stay dropped; the new column arrives.
    assert names[:2] == ["身份证号", "姓名"] and names[-1] == "住址"
    assert {i.column_name for i in entry.items} == {"gmsfhm", "xm", "xb", "lxdh", "zz"}
    assert next(i for i in entry.items if i.column_name == "gmsfhm").element is not None
    with context.registry.session() as session:
        versions = list_versions(session, service.get_entry(session, entry.resource_code))
        assert [(v.action, v.actor) for v in versions] == [
            ("created", "system:autoregister"), ("edited", "org_user"),
            ("edited", "system:autoregister")]
        assert "住址" in (versions[-1].comment or "")
        profile = profiles.get_profile(session, TABLE)
        assert profile is not None and profile.row_count == 7 and profile.column("zz")
    jobs.run_job(context, "gaj_hjxt.czrk")  # nothing new: no new version
    with context.registry.session() as session:
        assert len(list_versions(session, service.get_entry(session, entry.resource_code))) == 3
        assert session.scalar(select(func.count()).select_from(CatalogEntry)) == 1


def test_a_published_entry_keeps_its_items(
    context: jobs.RunContext, hooked: None, source_file: Path
) -> None:
    jobs.run_job(context, "gaj_hjxt.czrk")
    (entry,) = entries(context)
    with context.registry.session() as session:
        # Published as the lifecycle would (its steps and rules are tested elsewhere).
        service.get_entry(session, entry.resource_code).status = EntryStatus.PUBLISHED
    add_address_column(source_file)
    jobs.run_job(context, "gaj_hjxt.czrk")
    (entry,) = entries(context)
    assert entry.status is EntryStatus.PUBLISHED and len(entry.items) == 4
    with context.registry.session() as session:
        profile = profiles.get_profile(session, TABLE)
        assert profile is not None and profile.column("zz") is not None  # the page lists it


def test_streams_refresh_counts_and_profile_at_most_every_interval(
    context: jobs.RunContext
) -> None:
    jobs.run_job(context, "gaj_hjxt.czrk")  # no hook installed: nothing registered
    assert entries(context) == []
    event = hooks.Landed(context.registry, context.warehouse, KEYRING, "gaj_hjxt.czrk", TABLE,
                         "cdc", 6, final=False)
    autoregister.on_landed(event)
    with context.registry.session() as session:
        first = profiles.get_profile(session, TABLE)
        assert first is not None
        profiled_at = first.profiled_at
    context.warehouse.execute(f"DELETE FROM {TABLE} WHERE xb = '2'")
    autoregister.on_landed(event)
    (entry,) = entries(context)
    assert entry.record_count == 3
    with context.registry.session() as session:
        again = profiles.get_profile(session, TABLE)
        assert again is not None and again.row_count == 3
        assert again.profiled_at == profiled_at  # counts only, within PROFILE_EVERY


def test_register_all_covers_ods_std_and_base_and_skips_the_rest(
    context: jobs.RunContext
) -> None:
    jobs.run_job(context, "gaj_hjxt.czrk")
    engine = context.warehouse
    for schema in ("std", "base", "theme"):
        engine.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    engine.execute("CREATE TABLE std.czrk AS SELECT * FROM ods_371300_gaj.czrk")
    engine.execute("CREATE TABLE base.population AS SELECT * FROM ods_371300_gaj.czrk")
    engine.execute("CREATE TABLE theme.x AS SELECT 1 AS a")
    done = autoregister.register_all(context.registry, engine, keyring=KEYRING)
    assert sorted(r.table for r in done) == ["base.population", "ods_371300_gaj.czrk",
                                            "std.czrk"]
    assert all(r.created and r.profiled for r in done)
    again = autoregister.register_all(context.registry, engine, keyring=KEYRING)
    assert not any(r.created for r in again)
    with context.registry.session() as session:
        base = session.scalars(select(CatalogEntry)
                               .where(CatalogEntry.warehouse_table == "base.population")).one()
        assert base.catalog_type is CatalogType.BASIC_POPULATION
        assert base.provider.code == "371300"  # the bureau's root organisation


def test_auto_registration_suggests_a_grade_for_every_item(
    context: jobs.RunContext, hooked: None
) -> None:
    jobs.run_job(context, "gaj_hjxt.czrk")
    (entry,) = entries(context)
    with context.registry.session() as session:
        graded = grading.entry_grading(session, service.get_entry(session, entry.resource_code))
        assert all(row.stored is not None for row in graded.items)  # stored, not worked out
        kinds = {row.item.column_name: (row.suggestion.kind, row.suggestion.grade)
                 for row in graded.items}
        assert kinds["xm"] == ("person_name", "L3") and kinds["lxdh"] == ("mobile", "L3")
        # The values outvote the name: this fixture's ID numbers are born on day 00.
        assert kinds["gmsfhm"] == ("none", "L1")
        assert graded.unconfirmed == 4 and graded.grade is None  # a person confirms
