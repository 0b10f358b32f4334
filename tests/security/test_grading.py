"""Classification and grading on both registries: the scheme, suggestions, confirmations."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from conftest import make_city, make_users
from sqlalchemy import select
from sqlalchemy.orm import Session

from datapolis.catalog import service as catalog_service
from datapolis.catalog import standards
from datapolis.catalog.models import CatalogEntry
from datapolis.catalog.versions import Actor
from datapolis.errors import Conflict, NotFound
from datapolis.registry.db import Registry
from datapolis.security import deid
from datapolis.security.audit import service as audit
from datapolis.security.grades import UnknownGrade, highest, parse_grade, rank, require_grade
from datapolis.security.grading import scheme, service
from datapolis.security.grading.models import FieldGrade
from tests.catalog.conftest import create

CLERK = Actor("org_user", None)


@pytest.fixture
def seeded(registry: Registry) -> Registry:
    with registry.session() as session:
        standards.seed_standards(session)
        make_users(session, make_city(session))
        scheme.seed_default(session)
    return registry


def _entry(session: Session, code: str) -> CatalogEntry:
    return catalog_service.get_entry(session, code)


# --- the vocabulary ------------------------------------------------------------------------


def test_the_grade_order_is_core_important_then_l4_to_l1() -> None:
    assert highest(["L2", "四级", None, "1"]) == "L4"
    assert highest(["L4", "重要数据"]) == "important"
    assert highest(["important", "核心"]) == "core"
    assert highest([None, "", "L9"]) is None
    assert [rank(g) for g in ("L1", "L2", "L3", "L4", "important", "core")] == [1, 2, 3, 4, 5, 6]
    assert parse_grade("第3级") == "L3" and parse_grade("CORE") == "core"


def test_an_unknown_grade_names_itself_and_the_allowed_ones() -> None:
    with pytest.raises(UnknownGrade, match=r"unknown security grade 'L7'; allowed: core, "
                       r"important, L4, L3, L2, L1"):
        require_grade("L7")
    with pytest.raises(UnknownGrade, match="unknown security grade ''"):
        require_grade(None)


# --- the scheme ----------------------------------------------------------------------------


def test_the_default_scheme_is_seeded_once_and_round_trips(seeded: Registry) -> None:
    with seeded.session() as session:
        sectors = scheme.list_sectors(session)
        assert {"社会保障", "卫生健康", "市场监管", "自然资源", "交通运输"} <= {
            s.name for s in sectors}
        assert all(len(s.children) >= 2 for s in sectors)
        assert scheme.seed_default(session) is None  # already there
        exported = scheme.export_scheme(session)
        again = scheme.import_scheme(session, scheme.load(scheme.dump(exported, "yaml")),
                                     actor="admin")
        assert (again.added, again.updated, again.removed) == ([], [], [])
        assert json.loads(scheme.dump(exported, "json")) == exported


def test_scheme_import_adds_renames_and_removes_by_code(seeded: Registry) -> None:
    document = {"sectors": [
        {"code": "03", "name": "社会保障（含民政）", "businesses": [
            {"code": "0301", "name": "社会保险", "name_en": "Social insurance"},
            {"code": "0399", "name": "残疾人服务"}]},
    ]}
    with seeded.session() as session:
        report = scheme.import_scheme(session, document, actor="admin", replace=True)
        assert report.added == ["0399"] and report.updated == ["03"]
        assert "01" in report.removed and "0302" in report.removed
        assert [(s.code, [b.code for b in s.children]) for s in scheme.list_sectors(session)] == [
            ("03", ["0301", "0399"])]
        events = audit.search_events(session, kind="grade.scheme_imported", limit=5)
        assert events and events[0].actor == "admin"


@pytest.mark.parametrize(("document", "message"), [
    ("sectors: [", "not valid YAML or JSON"),
    ({"sector": []}, "a list under 'sectors'"),
    ({"sectors": []}, "no sectors"),
    ({"sectors": [{"code": "0 1", "name": "x"}]}, r"sector 1: code '0 1' must be 1–16"),
    ({"sectors": [{"code": "A", "name": ""}]}, r"sector 1 \(A\): a name of 1–100"),
    ({"sectors": [{"code": "A", "name": "x", "businesses": [{"code": "A", "name": "y"}]}]},
     "category code 'A' appears twice"),
    ({"sectors": [{"code": "A", "name": "x", "colour": "red"}]}, "unknown keys colour"),
    ({"sectors": [{"code": "0301", "name": "x"}]}, "'0301' is a business in the stored"),
])
def test_a_bad_scheme_is_refused_whole_and_changes_nothing(
    seeded: Registry, document: object, message: str
) -> None:
    with seeded.session() as session:
        before = scheme.export_scheme(session)
        with pytest.raises(scheme.SchemeError, match=message):
            given = scheme.load(document) if isinstance(document, str) else document
            scheme.import_scheme(session, given, actor="admin", replace=True)
    with seeded.session() as session:
        assert scheme.export_scheme(session) == before


def test_categories_in_use_are_not_removed(seeded: Registry) -> None:
    with seeded.session() as session:
        code = create(session)
        service.assign_category(session, _entry(session, code), "0201", CLERK)
    with seeded.session() as session:
        with pytest.raises(Conflict, match=r"0201 \(1\)"):
            scheme.remove_category(session, code="02", actor="admin")
        with pytest.raises(Conflict, match="entries are assigned to: 0201"):
            scheme.import_scheme(session, {"sectors": [{"code": "01", "name": "公共管理"}]},
                                 actor="admin", replace=True)
        with pytest.raises(scheme.SchemeError, match="is a sector"):
            service.assign_category(session, _entry(session, code), "02", CLERK)
        with pytest.raises(NotFound, match="no category 'zz'"):
            service.assign_category(session, _entry(session, code), "zz", CLERK)
        scheme.save_category(session, code="0204", name="出入境", parent_code="02",
                             actor="admin")
        scheme.remove_category(session, code="0204", actor="admin")
        with pytest.raises(scheme.SchemeError, match="businesses go under a sector"):
            scheme.save_category(session, code="X1", name="x", parent_code="0201",
                                 actor="admin")


# --- suggestions, confirmations, the table grade -------------------------------------------


def test_confirming_and_changing_grades_keeps_who_when_and_audits(seeded: Registry) -> None:
    with seeded.session() as session:
        code = create(session)
        entry = _entry(session, code)
        grading = service.entry_grading(session, entry)
        assert grading.unconfirmed == 3 and grading.grade is None
        by_name = {row.item.name: row for row in grading.items}
        assert by_name["公民身份号码"].suggestion.kind == "resident_id"
        assert by_name["公民身份号码"].suggestion.grade == "L4"
        assert session.scalar(select(FieldGrade.id)) is None  # reading stored nothing

    with seeded.session() as session:
        entry = _entry(session, code)
        done = service.confirm(session, entry, {"公民身份号码": None, "性别": "二级"}, CLERK)
        assert done == ["公民身份号码", "性别"]
    with seeded.session() as session:
        entry = _entry(session, code)
        grading = service.entry_grading(session, entry)
        rows = {row.item.name: row for row in grading.items}
        assert rows["公民身份号码"].grade == "L4"
        assert rows["公民身份号码"].stored is not None
        assert rows["公民身份号码"].stored.confirmed_by == "org_user"
        assert rows["公民身份号码"].stored.confirmed_at is not None
        assert grading.unconfirmed == 1 and grading.grade == "L4"  # the table's grade = max
        items = {item.name: item.security_grade for item in entry.items}
        assert items["公民身份号码"] == "L4" and items["性别"] == "L2"  # the catalog agrees
        assert entry.versions[-1].action == "graded"
        kinds = [(e.kind, json.loads(e.canonical)["details"]["item"])
                 for e in audit.search_events(session, limit=10)
                 if e.kind.startswith("grade.") and e.kind != "grade.scheme_imported"]
        assert ("grade.confirmed", "公民身份号码") in kinds
        changed = audit.search_events(session, kind="grade.changed", limit=5)
        assert len(changed) == 1 and changed[0].actor == "org_user"
        details = json.loads(changed[0].canonical)["details"]
        assert (details["item"], details["grade"], details["suggested"]) == ("性别", "L2", "L1")

        service.confirm(session, entry, {"公民身份号码": "核心数据"}, Actor("platform_admin"))
        assert service.entry_grading(session, entry).grade == "core"
        assert service.confirm_all(session, entry, CLERK) == ["姓名"]
        assert service.entry_grading(session, entry).unconfirmed == 0


def test_a_bad_decision_refuses_the_whole_request(seeded: Registry) -> None:
    with seeded.session() as session:
        code = create(session)
    with seeded.session() as session:
        entry = _entry(session, code)
        with pytest.raises(UnknownGrade, match="'L5'"):
            service.confirm(session, entry, {"姓名": "L2", "性别": "L5"}, CLERK)
        with pytest.raises(NotFound, match="no information item '籍贯'"):
            service.confirm(session, entry, {"籍贯": "L2"}, CLERK)
    with seeded.session() as session:
        assert service.entry_grading(session, _entry(session, code)).unconfirmed == 3
        assert audit.search_events(session, kind="grade.confirmed", limit=1) == []


def test_the_deid_policy_reads_only_confirmed_grades(seeded: Registry) -> None:
    with seeded.session() as session:
        code = create(session)
        entry = _entry(session, code)
        # Typed grades ("3" on 公民身份号码) are no confirmation: everything is withheld.
        unconfirmed = deid.view_for(entry, "department", b"k" * 32)  # type: ignore[arg-type]
        assert unconfirmed.withheld == ("gmsfhm", "xm", "xb")
        service.confirm(session, entry, {"姓名": "L2", "性别": "L1", "公民身份号码": "重要"},
                        CLERK)
        fields = service.graded_fields(session, entry)
        public = deid.view_for(fields, "public")
        assert public.methods() == {"xm": "mask", "xb": "keep"}
        assert public.withheld == ("gmsfhm",)  # important data never leaves
        assert deid.view_for(fields, "department", b"k" * 32).withheld == ("gmsfhm",)


@dataclass
class _Stats:
    name: str
    samples: list[str]


def test_suggestions_from_samples_refresh_until_confirmed(seeded: Registry) -> None:
    ids = ["371302198001010017", "371302198512120023", "371302199003050033",
           "371302197511200043", "371302200002290057", "371302196606060069"]
    with seeded.session() as session:
        code = create(session, items=[
            {"name": "证件", "column_name": "zj", "length": 18},
            {"name": "备注", "column_name": "bz", "length": 50}])
        entry = _entry(session, code)
        assert service.suggest_for_entry(session, entry) == 2
        assert service.suggest_for_entry(session, entry) == 0  # nothing new
        assert service.suggest_for_entry(session, entry, {"zj": ids[:5]}) == 1
        rows = {r.item.column_name: r for r in service.entry_grading(session, entry).items}
        assert rows["zj"].suggestion.kind == "resident_id"
        assert any("sample values" in reason for reason in rows["zj"].suggestion.reasons)
        service.confirm(session, entry, {"证件": "L3"}, CLERK)
        assert service.suggest_for_entry(session, entry, {"zj": ids}) == 0  # confirmed stays
        assert service.entry_grading(session, entry).items[0].grade == "L3"


def test_unconfirmed_counts_per_entry_and_organisation(seeded: Registry) -> None:
    with seeded.session() as session:
        first = create(session)
        second = create(session, provider_code="371302_gaj")
        service.confirm_all(session, _entry(session, first), CLERK)
    with seeded.session() as session:
        entries = [_entry(session, first), _entry(session, second)]
        assert service.unconfirmed_by_entry(session, entries) == {entries[1].id: 3}
        progress = {row.org_code: row for row in service.progress_by_org(session)}
        assert (progress["371300_gaj"].items, progress["371300_gaj"].unconfirmed) == (3, 0)
        assert progress["371302_gaj"].unconfirmed == 3
        own = service.progress_by_org(session, {entries[0].provider_id})
        assert [row.org_code for row in own] == ["371300_gaj"]


def test_deleting_an_item_deletes_its_grade(seeded: Registry) -> None:
    with seeded.session() as session:
        code = create(session)
        service.confirm_all(session, _entry(session, code), CLERK)
    with seeded.session() as session:
        entry = _entry(session, code)
        entry.items = [item for item in entry.items if item.name != "性别"]
    with seeded.session() as session:
        assert len(list(session.scalars(select(FieldGrade)))) == 2
