"""Each normalisation rule tells a failing entry from a passing one.

The entries are built in memory and checked in a hand-made context: the rules are functions of
an entry and a context, so each case says exactly which fact makes the difference. The
registry-backed context (freshness from real sync runs, duplicates, the publish gate) is tested
in test_rules_registry.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from datapolis.catalog.enums import (
    CatalogType,
    DataType,
    EntryStatus,
    FormatClass,
    ShareType,
    UpdateCycle,
)
from datapolis.catalog.models import CatalogEntry, DataElement, InfoItem
from datapolis.catalog.rules.checks import Outcome, check_entry
from datapolis.catalog.rules.context import EntryFacts, RuleContext, facts_of
from datapolis.catalog.rules.grades import parse_grade
from datapolis.catalog.rules.registry import (
    Category,
    Finding,
    Rule,
    Severity,
    get_rule,
    list_rules,
    register,
    unregister,
)
from datapolis.errors import UserError
from datapolis.orgs.models import Organisation, OrgKind

NOW = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)  # 12:00 in Linyi
TABLE = "ods_371300_gaj.czrk"
SEX_TABLE_ID = 7


def element(code: str, name: str, length: int, fmt: str, **extra: Any) -> DataElement:
    return DataElement(code=code, name=name, data_type=extra.pop("data_type", DataType.STRING),
                       length=length, format=fmt, code_table_id=extra.pop("code_table_id", None),
                       value_pattern=extra.pop("value_pattern", None))


ID_NUMBER = element("DE0001", "公民身份号码", 18, "c18", value_pattern="resident_id")
NAME = element("DE0002", "姓名", 50, "c..50")
SEX = element("DE0003", "性别", 1, "n1", code_table_id=SEX_TABLE_ID)


def item(name: str, column: str | None, length: int | None, grade: str | None,
         elem: DataElement | None, data_type: DataType = DataType.STRING) -> InfoItem:
    return InfoItem(name=name, column_name=column, data_type=data_type, length=length,
                    security_grade=grade, element=elem, position=0)


@dataclass
class Scenario:
    entry: CatalogEntry
    facts: list[EntryFacts]
    landed: dict[str, datetime | None]
    rows: dict[str, int | None] | None

    def context(self) -> RuleContext:
        return RuleContext(
            today=date(2026, 3, 10), now=NOW, entries=[facts_of(self.entry), *self.facts],
            division_codes=frozenset({"371300", "371302", "371311"}),
            code_table_widths={SEX_TABLE_ID: 1}, landed=self.landed, warehouse_rows=self.rows,
        )

    def other(self, **changes: Any) -> None:
        """Another entry in the catalog (a different id)."""
        fields: dict[str, Any] = {
            "id": 2, "resource_code": "101001/000002", "name": "流动人口信息",
            "provider_id": 10, "catalog_type": CatalogType.BASIC_POPULATION, "subject": "01",
            "status": EntryStatus.PUBLISHED, "warehouse_table": None,
        }
        self.facts.append(EntryFacts(**(fields | changes)))


def scenario() -> Scenario:
    """An entry that passes every rule (a test below makes sure)."""
    provider = Organisation(id=10, code="371300_gaj", name="临沂市公安局",
                            kind=OrgKind.DEPARTMENT, division_code="371300")
    entry = CatalogEntry(
        id=1, resource_code="101001/000001", category="1", subject="01", heading="001",
        subheading=None, prefix="101001", sequence=1, name="常住人口基本信息",
        provider=provider, provider_id=10, catalog_type=CatalogType.BASIC_POPULATION,
        summary="全市常住人口的身份、户籍与联系方式信息。", format_class=FormatClass.DATABASE,
        format_detail=None, share_type=ShareType.CONDITIONAL,
        share_conditions="用于政务服务身份核验", share_methods=["interface"],
        open_to_public=False, open_conditions=None, update_cycle=UpdateCycle.DAILY,
        publish_date=None, related_codes=[], classified=False, tags=["人口"],
        record_count=1000, storage_bytes=None, warehouse_table=TABLE, status=EntryStatus.DRAFT,
        items=[item("公民身份号码", "gmsfhm", 18, "L3", ID_NUMBER),
               item("姓名", "xm", 50, "L2", NAME),
               item("性别", "xb", 1, "L1", SEX)],
    )
    return Scenario(entry, [], {TABLE: NOW - timedelta(hours=5)}, {TABLE: 1000})


Change = Callable[[Scenario], None]


def nothing(s: Scenario) -> None:
    pass


def setting(**changes: Any) -> Change:
    def change(s: Scenario) -> None:
        for name, value in changes.items():
            setattr(s.entry, name, value)
    return change


def on_item(index: int, **changes: Any) -> Change:
    def change(s: Scenario) -> None:
        for name, value in changes.items():
            setattr(s.entry.items[index], name, value)
    return change


def both(*changes: Change) -> Change:
    def change(s: Scenario) -> None:
        for one in changes:
            one(s)
    return change


def provider(**changes: Any) -> Change:
    def change(s: Scenario) -> None:
        for name, value in changes.items():
            setattr(s.entry.provider, name, value)
    return change


def other(**changes: Any) -> Change:
    return lambda s: s.other(**changes)


def landed(moment: datetime | None, table: str = TABLE) -> Change:
    def change(s: Scenario) -> None:
        s.landed = {table: moment}
    return change


def rows(count: int | None) -> Change:
    def change(s: Scenario) -> None:
        s.rows = {TABLE: count}
    return change


OPEN = setting(open_to_public=True, open_conditions="脱敏后依申请开放")
DEPARTMENT = setting(catalog_type=CatalogType.DEPARTMENT, category="3", subject="05",
                     prefix="305001", resource_code="305001/000001")
PUBLISHED = setting(status=EntryStatus.PUBLISHED, publish_date=date(2026, 3, 1))

# rule code: (a change that passes, a change that fails)
CASES: dict[str, tuple[Change, Change]] = {
    "R01": (nothing, setting(name="户")),
    "R02": (nothing, setting(summary="常住人口信息")),
    "R03": (nothing, setting(summary="常住人口基本信息。")),
    "R04": (provider(division_code="371302001"), provider(division_code="371399")),
    "R05": (setting(format_class=FormatClass.OTHER, format_detail="ofd"),
            setting(format_class=FormatClass.OTHER, format_detail=None)),
    "R06": (nothing, setting(warehouse_table=None)),
    "R07": (nothing, setting(tags=[" "])),
    "R08": (setting(name="常住人口（户籍）信息"), setting(name="常住人口(户籍)信息")),
    "R09": (nothing, setting(summary="全市常住人口的身份,户籍与联系方式信息。")),
    "R10": (nothing, setting(resource_code="101001-000001")),
    "R11": (nothing, setting(resource_code="101001/000002")),
    "R12": (setting(subheading="002", prefix="101001002", resource_code="101001002/000001"),
            setting(subheading="00", prefix="10100100", resource_code="10100100/000001")),
    "R13": (nothing, setting(subject="02", prefix="102001", resource_code="102001/000001")),
    "R14": (both(DEPARTMENT, other(catalog_type=CatalogType.DEPARTMENT, subject="06",
                                   provider_id=11)),
            both(DEPARTMENT, other(catalog_type=CatalogType.DEPARTMENT, subject="05",
                                   provider_id=11))),
    "R15": (nothing, setting(share_conditions="无")),
    "R16": (setting(share_type=ShareType.UNCONDITIONAL, share_conditions=None),
            setting(share_type=ShareType.UNCONDITIONAL)),
    "R17": (setting(share_type=ShareType.NOT_SHARED,
                    share_conditions="依据《中华人民共和国居民身份证法》第十三条"),
            setting(share_type=ShareType.NOT_SHARED, share_conditions="涉及隐私")),
    "R18": (nothing, setting(share_methods=[])),
    "R19": (setting(share_type=ShareType.NOT_SHARED, share_methods=[]),
            setting(share_type=ShareType.NOT_SHARED)),
    "R20": (setting(classified=True, share_type=ShareType.NOT_SHARED),
            setting(classified=True)),
    "R21": (both(setting(share_type=ShareType.UNCONDITIONAL), on_item(0, security_grade="L2")),
            setting(share_type=ShareType.UNCONDITIONAL)),
    "R22": (OPEN, both(OPEN, on_item(0, security_grade="L4"))),
    "R23": (OPEN, setting(open_to_public=True)),
    "R24": (OPEN, both(OPEN, setting(share_type=ShareType.NOT_SHARED))),
    "R25": (nothing, setting(open_conditions="依申请开放")),
    "R26": (on_item(0, security_grade="三级"), on_item(0, security_grade="L5")),
    "R27": (nothing, on_item(1, security_grade=None)),
    "R28": (OPEN, both(OPEN, on_item(2, security_grade=""))),
    "R29": (nothing, setting(items=[])),
    "R30": (on_item(0, data_type=DataType.INTEGER, length=None, element=None),
            on_item(1, length=None)),
    "R31": (nothing, on_item(2, name="姓　名")),
    "R32": (nothing, on_item(2, column_name="XM")),
    "R33": (nothing, on_item(1, element=None)),
    "R34": (nothing, on_item(0, data_type=DataType.INTEGER)),
    "R35": (on_item(1, length=30), on_item(0, length=20)),
    "R36": (nothing, on_item(2, data_type=DataType.INTEGER)),
    "R37": (on_item(2, name="性别代码"), on_item(2, name="性别代码", element=None)),
    "R38": (PUBLISHED, setting(status=EntryStatus.PUBLISHED)),
    "R39": (setting(publish_date=date(2026, 3, 10)), setting(publish_date=date(2026, 3, 11))),
    "R40": (nothing, landed(NOW - timedelta(days=3))),
    "R41": (nothing, landed(NOW, table="ods_371300_gaj.other")),
    "R42": (nothing, setting(record_count=None)),
    "R43": (nothing, setting(warehouse_table="ods_371300_gaj.gone")),
    "R44": (rows(1040), rows(1100)),
    "R45": (nothing, provider(code="371300_mzj")),
    "R46": (both(other(), setting(related_codes=["101001/000002"])),
            setting(related_codes=["101001/000009"])),
    "R47": (both(PUBLISHED, other(), setting(related_codes=["101001/000002"])),
            both(PUBLISHED, other(status=EntryStatus.RETIRED),
                 setting(related_codes=["101001/000002"]))),
    "R48": (other(warehouse_table=TABLE, resource_code="305001/000001"),
            other(warehouse_table=TABLE)),
    "R50": (nothing, setting(heading="999", prefix="101999", resource_code="101999/000001")),
    "R49": (other(name="常住人口基本信息", provider_id=11),
            other(name="常住人口 基本信息")),
}


def outcome(code: str, change: Change) -> tuple[Outcome, tuple[Finding, ...]]:
    s = scenario()
    change(s)
    (result,) = check_entry(s.entry, s.context(), [get_rule(code)])
    return result.outcome, result.findings


def test_the_reference_entry_passes_every_rule() -> None:
    s = scenario()
    failed = [r for r in check_entry(s.entry, s.context()) if r.outcome is Outcome.FAILED]
    assert failed == []


def test_at_least_thirty_rules_each_with_a_case() -> None:
    codes = [r.code for r in list_rules()]
    assert len(codes) >= 30
    assert sorted(CASES) == sorted(codes), "every rule needs a passing and a failing case"
    assert sum(r.severity is Severity.BLOCKING for r in list_rules()) >= 20


@pytest.mark.parametrize("code", sorted(CASES))
def test_a_rule_tells_a_failing_entry_from_a_passing_one(code: str) -> None:
    passing, failing = CASES[code]
    assert outcome(code, passing) == (Outcome.PASSED, ())
    verdict, findings = outcome(code, failing)
    assert verdict is Outcome.FAILED
    assert all(f.text() and "%(" not in f.text() for f in findings)  # every parameter filled


def test_rules_that_do_not_apply_say_nothing() -> None:
    assert outcome("R16", nothing)[0] is Outcome.NOT_APPLICABLE  # conditional entry
    assert outcome("R22", nothing)[0] is Outcome.NOT_APPLICABLE  # not open
    assert outcome("R40", setting(update_cycle=UpdateCycle.IRREGULAR))[0] is (
        Outcome.NOT_APPLICABLE)
    assert outcome("R43", rows(None))[0] is Outcome.PASSED
    s = scenario()
    s.rows = None  # no warehouse at hand: its two rules are silent
    results = {r.rule.code: r.outcome for r in check_entry(s.entry, s.context())}
    assert results["R43"] is results["R44"] is Outcome.NOT_APPLICABLE


def test_freshness_follows_the_declared_cycle() -> None:
    assert outcome("R40", both(setting(update_cycle=UpdateCycle.WEEKLY),
                               landed(NOW - timedelta(days=3))))[0] is Outcome.PASSED
    verdict, findings = outcome("R40", landed(None))
    assert verdict is Outcome.FAILED and "never been landed" in findings[0].text()
    verdict, findings = outcome("R40", both(setting(update_cycle=UpdateCycle.REALTIME),
                                            landed(NOW - timedelta(hours=2))))
    assert verdict is Outcome.FAILED and "2 h ago" in findings[0].text()


def test_findings_name_what_is_wrong() -> None:
    _, findings = outcome("R22", both(OPEN, on_item(0, security_grade="L4")))
    assert findings[0].text() == "open to the public with items graded L4: 公民身份号码"
    _, findings = outcome("R35", on_item(0, length=20))
    assert findings[0].params == {"item": "公民身份号码", "n": 20, "element": "公民身份号码",
                                  "limit": 18}


@pytest.mark.parametrize(("given", "grade"), [
    ("L1", "L1"), ("l4", "L4"), ("3", "L3"), ("二级", "L2"), (" L2 ", "L2"),
    ("L5", None), ("核心", "core"), ("重要数据", "important"), ("", None), (None, None),
])
def test_grades_read_in_several_spellings(given: str | None, grade: str | None) -> None:
    assert parse_grade(given) == grade


def test_a_plugin_rule_registers_like_the_builtins() -> None:
    def no_test_in_name(entry: CatalogEntry, ctx: RuleContext) -> list[Finding]:
        return [Finding("test entry")] if "测试" in entry.name else []

    plugin = Rule("X01", "No test entries", "不得编目测试资源", Category.DESCRIPTION,
                  Severity.WARNING, no_test_in_name)
    register(plugin)
    try:
        assert get_rule("x01") is plugin and plugin in list_rules()
        with pytest.raises(UserError, match="already registered"):
            register(Rule("X01", "again", "再次", Category.DESCRIPTION, Severity.WARNING,
                          no_test_in_name))
        s = scenario()
        s.entry.name = "测试资源"
        (result,) = check_entry(s.entry, s.context(), [plugin])
        assert result.outcome is Outcome.FAILED
    finally:
        unregister("X01")
    with pytest.raises(UserError, match="unknown normalisation rule"):
        get_rule("X01")
    with pytest.raises(UserError, match="must read like R01"):
        register(Rule("bad", "bad", "坏", Category.DESCRIPTION, Severity.WARNING,
                      no_test_in_name))
