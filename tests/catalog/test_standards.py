"""The shipped national code tables and data elements, seeded into both registries."""

from __future__ import annotations

from sqlalchemy import select

from datapolis.catalog import standards
from datapolis.catalog.models import CodeValue
from datapolis.registry.db import Registry
from tests.catalog.conftest import Seeded

LINYI = {
    "371302": "兰山区", "371311": "罗庄区", "371312": "河东区", "371321": "沂南县",
    "371322": "郯城县", "371323": "沂水县", "371324": "兰陵县", "371325": "费县",
    "371326": "平邑县", "371327": "莒南县", "371328": "蒙阴县", "371329": "临沭县",
}


def values(registry: Registry, table: str) -> dict[str, CodeValue]:
    with registry.session() as session:
        return {v.code: v for v in standards.get_code_table(session, table).values}


def test_the_national_tables_hold_their_real_codes(seeded: Seeded) -> None:
    sex = values(seeded.registry, "sex")
    assert {c: v.name for c, v in sex.items()} == {
        "0": "未知的性别", "1": "男性", "2": "女性", "9": "未说明的性别"}
    ethnic = values(seeded.registry, "ethnic_group")
    assert len(ethnic) == 58
    assert (ethnic["01"].name, ethnic["56"].name) == ("汉族", "基诺族")
    assert (ethnic["03"].name, ethnic["97"].name, ethnic["98"].name) == (
        "回族", "其他", "外国血统中国籍人士")
    education = values(seeded.registry, "education")
    assert education["10"].name == "研究生教育" and education["11"].parent_code == "10"
    assert education["21"].name == "大学本科毕业" and education["90"].parent_code is None
    industry = values(seeded.registry, "industry")
    sections = [c for c, v in industry.items() if v.parent_code is None]
    assert sections == [chr(c) for c in range(ord("A"), ord("T") + 1)]
    assert industry["C"].name == "制造业" and industry["I"].name == (
        "信息传输、软件和信息技术服务业")
    assert len(industry) - len(sections) == 97
    assert (industry["13"].parent_code, industry["65"].parent_code) == ("C", "I")


def test_shandong_divisions_are_complete(seeded: Seeded) -> None:
    divisions = values(seeded.registry, "division")
    assert divisions["370000"].name == "山东省"
    cities = {c: v.name for c, v in divisions.items() if v.parent_code == "370000"}
    assert len(cities) == 16 and cities["371300"] == "临沂市" and "371200" not in cities
    linyi = {c: v.name for c, v in divisions.items() if v.parent_code == "371300"}
    assert linyi == LINYI
    counties = [v for v in divisions.values() if v.parent_code in cities]
    assert len(counties) == 136
    assert all(v.code[:4] == v.parent_code[:4] for v in counties if v.parent_code)


def test_seeding_again_changes_nothing_and_repairs_edits(seeded: Seeded) -> None:
    with seeded.registry.session() as session:
        assert not standards.seed_standards(session).changed
        sex = standards.get_code_table(session, "sex")
        sex.values[1].name = "男"
        sex.values.append(CodeValue(code="5", name="stale", position=9))
    with seeded.registry.session() as session:
        report = standards.seed_standards(session)
        assert (report.values_changed, report.values_removed) == (1, 1)
    assert {c: v.name for c, v in values(seeded.registry, "sex").items()}["1"] == "男性"
    assert "5" not in values(seeded.registry, "sex")


def test_data_elements_link_to_their_code_tables(seeded: Seeded) -> None:
    with seeded.registry.session() as session:
        elements = {e.name: e for e in standards.list_elements(session)}
        for name, table in [("性别", "sex"), ("民族", "ethnic_group"), ("学历", "education"),
                            ("行业门类", "industry"), ("行政区划代码", "division")]:
            code_table = elements[name].code_table
            assert code_table is not None and code_table.code == table, name
        assert elements["公民身份号码"].value_pattern == "resident_id"
        assert "身份证号" in elements["公民身份号码"].synonyms
        assert session.scalar(select(CodeValue).where(CodeValue.code == "371302")) is not None
