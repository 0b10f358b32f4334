"""The cross-source consistency rule against a base library reads the conflicts of the
library's last merge: end to end on a small built city (ods → std → base.person), on the std
table and on the ods table behind it, with the issue assigned to the providing department."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from datapolis.quality import service
from datapolis.quality.issues import service as issues
from datapolis.quality.rules import RuleError
from datapolis.quality.schemas import RuleIn
from datapolis.registry.db import Registry
from datapolis.warehouse import DuckDBEngine
from tests.baselib.small_city import ID_A, build_city


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[DuckDBEngine]:
    engine = DuckDBEngine(tmp_path / "warehouse.duckdb")
    yield engine
    engine.close()


def _rule(table: str, column: str, field: str, key: str = "zjhm") -> RuleIn:
    return RuleIn(kind="consistency", columns=[key, column],
                  params={"table": "base.person", "key": "id_number", "column": field})


@pytest.mark.parametrize("table", ["std.swjt_yhda", "ods_371300_swjt.yhda"])
def test_a_merge_conflict_fails_the_losing_source_and_opens_its_departments_issue(
    registry: Registry, warehouse: DuckDBEngine, tmp_path: Path, table: str
) -> None:
    build_city(registry, warehouse, tmp_path / "var")
    with registry.session() as session:
        service.create_rule(session, table, _rule(table, "ysdz", "address"), actor="t",
                            admin=True)
    run = service.run_table(registry, warehouse, table)
    (result,) = run.results
    # Water rows with an address: w1 (lost to the police's 兰山区1号) and w2 (agrees).
    assert (result.checked, result.failed, result.passed) == (2, 1, False)
    assert result.sample == [{"zjhm": ID_A[:17], "ysdz": "罗庄区3号", "base_value": "兰山区1号",
                              "base_source": "std.gaj_czrk"}]
    assert result.detail["conflicts"] == 1
    with registry.session() as session:
        (issue,) = issues.list_issues(session, table=table)
        assert issue.org is not None and issue.org.code == "371300_swjt"
        assert (issue.kind, issue.failed, issue.state) == ("consistency", 1, "open")


def test_the_winning_source_passes_and_a_rebuilt_library_verifies_the_issue(
    registry: Registry, warehouse: DuckDBEngine, tmp_path: Path
) -> None:
    build_city(registry, warehouse, tmp_path / "var")
    with registry.session() as session:
        service.create_rule(session, "std.gaj_czrk", _rule("std.gaj_czrk", "hjdz", "address",
                                                           key="gmsfhm"), actor="t", admin=True)
        service.create_rule(session, "std.gaj_czrk", _rule("std.gaj_czrk", "lxdh", "mobile",
                                                           key="gmsfhm"), actor="t", admin=True)
    address, mobile = service.run_table(registry, warehouse, "std.gaj_czrk").results
    assert (address.checked, address.failed) == (2, 0)  # the police's addresses won
    assert (mobile.checked, mobile.failed) == (2, 1)  # ID_B's older mobile lost to water's
    # The police fix the mobile at the source; std and base are rebuilt; the next run verifies.
    warehouse.execute("UPDATE ods_371300_gaj.czrk SET lxdh = '13900000009' WHERE ryid = 2")
    build_city_again(registry, warehouse, tmp_path / "var")
    _, mobile = service.run_table(registry, warehouse, "std.gaj_czrk").results
    assert mobile.failed == 0
    with registry.session() as session:
        (issue,) = issues.list_issues(session, table="std.gaj_czrk")
        assert issue.state == "verified"


def build_city_again(registry: Registry, warehouse: DuckDBEngine, home: Path) -> None:
    from datapolis.baselib import service as baselib
    from datapolis.baselib.libraries import PERSON
    from datapolis.standardise import build as std_build
    from datapolis.standardise.spec import load_specs

    with registry.session() as session:
        codes = std_build.load_code_tables(session)
    std_build.build(registry, warehouse, load_specs(home)["gaj_czrk"], code_tables=codes)
    baselib.build(registry, warehouse, PERSON)


def test_a_base_library_rule_must_name_a_field_and_a_table_the_library_reads(
    registry: Registry, warehouse: DuckDBEngine, tmp_path: Path
) -> None:
    build_city(registry, warehouse, tmp_path / "var")
    with registry.session() as session, pytest.raises(RuleError, match="no field 'colour'"):
        service.create_rule(session, "std.swjt_yhda", _rule("x", "ysdz", "colour"),
                            actor="t", admin=True)
    warehouse.execute("CREATE TABLE ods_371300_swjt.other AS SELECT 1 AS zjhm, 2 AS ysdz")
    with registry.session() as session:
        service.create_rule(session, "ods_371300_swjt.other", _rule("x", "ysdz", "address"),
                            actor="t", admin=True)
    with pytest.raises(RuleError, match=r"is not read by base\.person"):
        service.run_table(registry, warehouse, "ods_371300_swjt.other")
