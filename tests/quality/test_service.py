"""Rules in the registry, runs after every sync (incremental when the job has a cursor), stored
results, suggestions from the catalog profile — on SQLite and PostgreSQL registries."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import make_city

from datapolis.catalog import autoregister, standards
from datapolis.config import Settings
from datapolis.errors import NotFound, UserError
from datapolis.ingest import hooks, jobs
from datapolis.ingest import service as ingest_service
from datapolis.orgs.service import get_organisation
from datapolis.quality import hook, service, suggest
from datapolis.quality.schemas import RuleIn
from datapolis.registry.db import Registry
from datapolis.security.crypto import Keyring
from datapolis.warehouse import DuckDBEngine

TABLE = "ods_371300_gaj.czrk"
VALID = ["11010519491231002X", "37130219900307123X", "110105194912310021"]


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[DuckDBEngine]:
    engine = DuckDBEngine(tmp_path / "warehouse.duckdb")
    yield engine
    engine.close()


@pytest.fixture
def city(registry: Registry) -> Registry:
    with registry.session() as session:
        standards.seed_standards(session)
        make_city(session)
    return registry


def _source(tmp_path: Path, rows: int = 200) -> Path:
    path = tmp_path / "hjxt.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE czrk (id INTEGER PRIMARY KEY, gmsfhm TEXT, sjhm TEXT, "
                   "xb TEXT, gxsj INTEGER)")
        db.executemany("INSERT INTO czrk VALUES (?, ?, ?, ?, 1)", [
            (i, VALID[i % 3], "13800000000" if i % 10 else "123", "1" if i % 7 else "M")
            for i in range(rows)])
    return path


def _job(registry: Registry, tmp_path: Path, settings: Settings) -> Keyring:
    keyring = ingest_service.secrets_keyring(settings)
    with registry.session() as session:
        source = ingest_service.add_source(
            session, keyring=keyring, org=get_organisation(session, "371300_gaj"), code="hjxt",
            name="户籍系统", kind="sqlite", options={"path": str(_source(tmp_path))})
        (table,) = ingest_service.choose_tables(session, source=source, keyring=keyring,
                                                names=["czrk"])
        table.target_table = TABLE
        jobs.create_job(session, table=table, mode="incremental", code="hjxt.czrk",
                        cursor_column="gxsj")
    return keyring


def _rules(registry: Registry) -> None:
    with registry.session() as session:
        for data in (RuleIn(kind="resident_id", columns=["gmsfhm"]),
                     RuleIn(kind="mobile", columns=["sjhm"], threshold=0.5),
                     RuleIn(kind="in_set", columns=["xb"], params={"code_table": "sex"}),
                     RuleIn(kind="unique", columns=["gmsfhm"], severity="error")):
            service.create_rule(session, TABLE, data, actor="tester", admin=False)


def test_rules_are_checked_and_kept(city: Registry) -> None:
    with city.session() as session:
        rule = service.create_rule(session, TABLE, RuleIn(
            kind="in_set", columns=["xb"], params={"code_table": "sex"}), actor="a", admin=False)
        assert rule.dimension == "准确性" and rule.created_by == "a"
        resolved = service.engine_rule(session, rule)
        assert {"1", "2"} <= set(resolved.params["values"])
        with pytest.raises(UserError, match="only a platform admin"):
            service.create_rule(session, TABLE, RuleIn(kind="custom_sql", params={
                "sql": f"SELECT * FROM {TABLE}"}), actor="a", admin=False)
        with pytest.raises(UserError, match="unknown rule kind"):
            service.create_rule(session, TABLE, RuleIn(kind="nope", columns=["x"]), actor="a",
                                admin=False)
        with pytest.raises(NotFound):
            service.create_rule(session, TABLE, RuleIn(kind="in_set", columns=["xb"], params={
                "code_table": "no_such_table"}), actor="a", admin=False)
        with pytest.raises(UserError, match="no catalog entry"):
            service.create_rule(session, TABLE, RuleIn(kind="freshness", params={
                "cycle": "catalog"}), actor="a", admin=False)
        custom = service.create_rule(session, TABLE, RuleIn(kind="custom_sql", params={
            "sql": f"SELECT * FROM {TABLE} WHERE xb = 'M'"}), actor="b", admin=True)
        service.update_rule(session, rule, RuleIn(kind="in_set", columns=["xb"], params={
            "values": ["1", "2"]}, threshold=0.9), admin=False)
        assert rule.threshold == 0.9
        with pytest.raises(UserError, match="only a platform admin"):
            service.delete_rule(session, custom, admin=False)
        service.delete_rule(session, custom, admin=True)
        assert [r.id for r in service.list_rules(session, TABLE)] == [rule.id]


def test_every_sync_runs_the_checks_then_only_changed_rows(
    city: Registry, warehouse: DuckDBEngine, tmp_path: Path, settings: Settings
) -> None:
    keyring = _job(city, tmp_path, settings)
    _rules(city)
    hook.install()
    context = jobs.RunContext(registry=city, warehouse=warehouse, keyring=keyring,
                              lock_dir=tmp_path / "locks")
    try:
        jobs.run_job(context, "hjxt.czrk")
        with city.session() as session:
            (first,) = service.list_runs(session, TABLE)
            assert (first.trigger, first.status, first.rows, first.changed_only) == (
                "sync", "succeeded", 200, False)
            failed = {r.kind: r.failed for r in service.get_run(session, first.id).results}
        assert failed == {"resident_id": 66, "mobile": 20, "in_set": 29, "unique": 200}
        with sqlite3.connect(tmp_path / "hjxt.sqlite") as db:  # fix 10 phones, break 2 IDs
            db.execute("UPDATE czrk SET sjhm = '13900000000', gxsj = 2 WHERE id < 100 AND "
                       "id % 10 = 0")
            db.execute("UPDATE czrk SET gmsfhm = 'x', gxsj = 2 WHERE id IN (1, 4)")
            db.execute("INSERT INTO czrk VALUES (500, '37130219900307123X', '1', '2', 2)")
        jobs.run_job(context, "hjxt.czrk")
    finally:
        hooks.remove(hook.HOOK_NAME)
    with city.session() as session:
        second = service.list_runs(session, TABLE)[0]
        assert second.changed_only and second.rows == 201
        changed = [(r.kind, r.checked, r.failed) for r in service.get_run(session, second.id
                                                                         ).results]
    assert changed == [("resident_id", 201, 68), ("mobile", 201, 11), ("in_set", 201, 29),
                       ("unique", 201, 201)]
    full = service.run_table(city, warehouse, TABLE, changed_only=False)
    assert not full.changed_only
    assert [(r.kind, r.checked, r.failed) for r in full.results] == changed
    mobile = next(r for r in full.results if r.kind == "mobile")
    assert mobile.passed and mobile.pass_rate == pytest.approx(1 - 11 / 201, abs=1e-6)
    assert not next(r for r in full.results if r.kind == "unique").passed
    assert full.passed is False


def test_a_failing_run_is_stored(city: Registry, warehouse: DuckDBEngine) -> None:
    _rules(city)
    with pytest.raises(UserError, match="does not exist"):
        service.run_table(city, warehouse, TABLE)
    with city.session() as session:
        (run,) = service.list_runs(session, TABLE)
        assert run.status == "failed" and "does not exist" in (run.error or "")


def test_suggestions_from_the_profile(city: Registry, warehouse: DuckDBEngine,
                                      tmp_path: Path, settings: Settings) -> None:
    keyring = _job(city, tmp_path, settings)
    context = jobs.RunContext(registry=city, warehouse=warehouse, keyring=keyring,
                              lock_dir=tmp_path / "locks")
    jobs.run_job(context, "hjxt.czrk")
    autoregister.register_table(city, warehouse, TABLE, keyring=keyring)
    with city.session() as session:
        found = {(s.kind, tuple(s.columns)) for s in suggest.suggest(session, TABLE)}
        assert ("resident_id", ("gmsfhm",)) in found
        assert ("mobile", ("sjhm",)) in found
        assert ("not_null", ("gmsfhm",)) in found and ("row_count", ()) in found
        service.create_rule(session, TABLE, RuleIn(kind="resident_id", columns=["gmsfhm"]),
                            actor="a", admin=False)
        again = {(s.kind, tuple(s.columns)) for s in suggest.suggest(session, TABLE)}
    assert ("resident_id", ("gmsfhm",)) not in again


def test_streams_are_checked_at_most_every_ten_minutes(
    city: Registry, warehouse: DuckDBEngine, settings: Settings
) -> None:
    warehouse.execute("CREATE SCHEMA ods_371300_gaj")
    warehouse.execute(f"CREATE TABLE {TABLE} AS SELECT 1 AS id, 'x' AS sjhm")
    with city.session() as session:
        service.create_rule(session, TABLE, RuleIn(kind="mobile", columns=["sjhm"]),
                            actor="a", admin=False)
    keyring = ingest_service.secrets_keyring(settings)

    def landed(final: bool) -> None:
        hook.on_landed(hooks.Landed(city, warehouse, keyring, "hjxt.czrk", TABLE, "cdc", 1,
                                    final))

    landed(final=False)
    landed(final=False)  # a minute later: skipped
    landed(final=True)  # the stream stopped: checked
    with city.session() as session:
        assert [r.trigger for r in service.list_runs(session, TABLE)] == ["sync", "sync"]


def test_a_table_also_fed_by_a_snapshot_is_always_checked_in_full(
    city: Registry, tmp_path: Path, settings: Settings
) -> None:
    _job(city, tmp_path, settings)
    with city.session() as session:
        assert service.table_key(session, TABLE) == (["id"], "gxsj", 0)
        (incremental,) = jobs.jobs_landing_in(session, TABLE)
        jobs.create_job(session, table=incremental.table, mode="snapshot", code="hjxt.czrk_full")
    with city.session() as session:
        assert service.table_key(session, TABLE) == (["id"], None, 0)


def test_incremental_checks_verify_and_reopen_issues(
    city: Registry, warehouse: DuckDBEngine, tmp_path: Path, settings: Settings
) -> None:
    from datapolis.ingest import changelog
    from datapolis.quality.issues import service as issues
    from datapolis.quality.issues import states

    keyring = _job(city, tmp_path, settings)
    with city.session() as session:
        service.create_rule(session, TABLE, RuleIn(kind="mobile", columns=["sjhm"]),
                            actor="tester", admin=False)
    hook.install()
    context = jobs.RunContext(registry=city, warehouse=warehouse, keyring=keyring,
                              lock_dir=tmp_path / "locks")

    def sync(sql: str) -> tuple[bool, str, int]:
        with sqlite3.connect(tmp_path / "hjxt.sqlite") as db:
            db.execute(sql)
        jobs.run_job(context, "hjxt.czrk")
        with city.session() as session:
            run = service.list_runs(session, TABLE)[0]
            (issue,) = issues.list_issues(session, table=TABLE)
            return run.changed_only, issue.state, issue.failed

    try:
        jobs.run_job(context, "hjxt.czrk")  # 20 bad phones: an issue opens
        with city.session() as session:
            (issue,) = issues.list_issues(session, table=TABLE)
            assert (issue.state, issue.failed) == (states.OPEN, 20)
            for target in (states.ACKNOWLEDGED, states.RECTIFYING, states.SUBMITTED):
                issues.transition(session, issue, target, actor="dept")
        # the department fixes the phones; the next landing's re-check verifies
        assert sync("UPDATE czrk SET sjhm = '13900000000', gxsj = 2 WHERE sjhm = '123'") == (
            True, states.VERIFIED, 0)
        # one phone breaks again: reopened by the next incremental check
        assert sync("UPDATE czrk SET sjhm = 'x', gxsj = 3 WHERE id = 7") == (
            True, states.REOPENED, 1)
        # without rules nobody reads the landing log: the next landing closes it
        assert changelog.is_open(warehouse, TABLE)
        with city.session() as session:
            (rule,) = service.list_rules(session, TABLE)
            service.delete_rule(session, rule, admin=True)
        with sqlite3.connect(tmp_path / "hjxt.sqlite") as db:
            db.execute("UPDATE czrk SET xb = '2', gxsj = 4 WHERE id = 8")
        jobs.run_job(context, "hjxt.czrk")
        assert not changelog.is_open(warehouse, TABLE)
    finally:
        hooks.remove(hook.HOOK_NAME)
