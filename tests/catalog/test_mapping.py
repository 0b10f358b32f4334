"""Suggesting data elements for information items: names, synonyms, pinyin, values."""

from __future__ import annotations

import pytest
from stdnum.cn import ric

from datapolis.catalog import mapping, service
from datapolis.catalog.schemas import ItemInput
from datapolis.catalog.versions import Actor
from tests.catalog.conftest import Seeded, create

VALID_IDS = [body + ric.calc_check_digit(body + "0")
             for body in ("37130219850612031", "37132819920101122", "37131119781230004")]


def top(seeded: Seeded, name: str, samples: list[str] | None = None,
        column: str | None = None) -> tuple[str, float, list[str]]:
    with seeded.registry.session() as session:
        found = mapping.suggest_elements(session, name=name, column_name=column,
                                         samples=samples or [])
    assert found, f"no suggestion for {name!r}"
    best = found[0]
    return best.element.name, best.score, [r.kind for r in best.reasons]


@pytest.mark.parametrize(("name", "element", "kind"), [
    ("公民身份号码", "公民身份号码", "name"),
    ("身份证号码", "公民身份号码", "synonym"),
    ("文化程度（GB/T 4658）", "学历", "synonym"),  # bracketed remark ignored
    ("ＸＢ", "性别", "initials"),  # full-width letters normalised
    ("gmsfhm", "公民身份号码", "initials"),
    ("xingbie", "性别", "pinyin"),
    ("联系电化", "联系电话", "sounds_alike"),
    ("户主公民身份号码", "公民身份号码", "contains"),
])
def test_names_suggest_elements(seeded: Seeded, name: str, element: str, kind: str) -> None:
    best, score, kinds = top(seeded, name)
    assert (best, kinds[0]) == (element, kind)
    assert 0.5 < score <= 1


def test_exact_names_rank_above_weaker_signals(seeded: Seeded) -> None:
    assert top(seeded, "姓名")[1] > top(seeded, "xm")[1] > top(seeded, "户主姓名")[1]


def test_resident_ids_in_the_values_suggest_the_id_element(seeded: Seeded) -> None:
    best, score, kinds = top(seeded, "zjhm_1", samples=[*VALID_IDS, ""])
    assert (best, kinds) == ("公民身份号码", ["pattern"])
    assert score == pytest.approx(0.9)
    with seeded.registry.session() as session:  # wrong check digits are not IDs
        wrong = [i[:-1] + ("0" if i[-1] != "0" else "1") for i in VALID_IDS]
        assert not mapping.suggest_elements(session, name="col_a", samples=wrong)


def test_code_table_values_suggest_the_element_using_the_table(seeded: Seeded) -> None:
    assert top(seeded, "col_b", ["男", "女", "女"])[0] == "性别"  # names (short forms)
    assert top(seeded, "col_c", ["371302", "371311", "371329"])[0] == "行政区划代码"
    best, score, kinds = top(seeded, "mz", ["01", "03", "01", "11"])
    assert (best, kinds) == ("民族", ["initials", "code_table"])
    assert score > 0.9  # two signals together beat either alone


def test_confirmed_mappings_teach_later_suggestions(seeded: Seeded) -> None:
    with seeded.registry.session() as session:
        entry = service.get_entry(session, create(session, items=[ItemInput(name="人员编号")]))
        assert not mapping.suggest_elements(session, name="人员编号")
        service.confirm_mapping(session, entry=entry, item_name="人员编号",
                                element_code="DE0001", actor=Actor("org_user"))
        found = mapping.suggest_elements(session, name="人员编号")
    assert [(s.element.code, [r.kind for r in s.reasons]) for s in found] == [
        ("DE0001", ["confirmed"])]
