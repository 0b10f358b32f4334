"""search_entries on real registries (SQLite and PostgreSQL): tokens written with every change,
reloaded by a fresh process equal to the live index, visibility, facets with labels."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select, update

from datapolis.catalog import service
from datapolis.catalog.lifecycle import Action
from datapolis.catalog.models import CatalogEntry
from datapolis.catalog.schemas import EntryUpdate, ItemInput
from datapolis.catalog.search import live, search_entries
from datapolis.catalog.search.analyzer import ANALYZER_VERSION
from datapolis.catalog.search.models import SearchDocument
from datapolis.catalog.search.query import parse_query
from datapolis.catalog.versions import Actor
from datapolis.errors import UserError
from tests.catalog.conftest import Seeded, create

REVIEWER = Actor("platform_admin")


def publish(session: object, code: str) -> None:
    entry = service.get_entry(session, code)  # type: ignore[arg-type]
    for action in (Action.SUBMIT, Action.APPROVE, Action.PUBLISH):
        service.transition(session, entry=entry, action=action, actor=REVIEWER)  # type: ignore[arg-type]


@pytest.fixture
def catalog(seeded: Seeded) -> dict[str, str]:
    """Four entries of two providers; the first three published, the county's one a draft."""
    with seeded.registry.session() as session:
        codes = {
            "population": create(session),
            "low_income": create(
                session, name="城乡低保人员名单", catalog_type="department", subject="05",
                heading="001", summary="民政部门发放最低生活保障金的低保对象名单。",
                tags=["低保", "民政"], share_type="unconditional", share_conditions=None,
                open_to_public=True, open_conditions="脱敏后依申请开放", update_cycle="monthly",
                items=[ItemInput(name="姓名", length=50, security_grade="2"),
                       ItemInput(name="保障金额", length=12, security_grade="2")]),
            "enterprise": create(
                session, name="企业登记信息", catalog_type="basic_legal_entity", heading="001",
                summary="市场主体的统一社会信用代码、营业执照信息。", tags=["法人"],
                warehouse_table="ods_371300_gaj.qydj",  # one table is catalogued once per class
                items=[ItemInput(name="统一社会信用代码", length=18),
                       ItemInput(name="企业名称", length=200)]),
            "county_draft": create(
                session, provider_code="371302_gaj", name="兰山区户籍人口统计",
                catalog_type="theme", subject="01", heading="002", tags=["户籍"]),
        }
        for key in ("population", "low_income", "enterprise"):
            publish(session, codes[key])
    return codes


def codes_of(seeded: Seeded, query: str, **options: object) -> list[str]:
    with seeded.registry.session() as session:
        page = search_entries(session, query=query, **options)  # type: ignore[arg-type]
        return [hit.entry.resource_code for hit in page.hits]


def test_chinese_queries_find_entries_and_rank_the_obvious_one_first(
    seeded: Seeded, catalog: dict[str, str]
) -> None:
    assert codes_of(seeded, "低保人员名单") == [catalog["low_income"]]
    assert codes_of(seeded, "企业登记") == [catalog["enterprise"]]
    assert codes_of(seeded, "户籍 人口")[0] == catalog["county_draft"]
    assert codes_of(seeded, "统一社会信用代码") == [catalog["enterprise"]]
    # An item's column name; the county's draft has the same items.
    assert set(codes_of(seeded, "gmsfhm")) == {catalog["population"], catalog["county_draft"]}


def test_visibility_hides_other_providers_drafts(
    seeded: Seeded, catalog: dict[str, str]
) -> None:
    county_dept = seeded.city.county_dept.id
    assert catalog["county_draft"] not in codes_of(seeded, "户籍", provider_ids=set())
    assert catalog["county_draft"] in codes_of(seeded, "户籍", provider_ids={county_dept})
    assert catalog["county_draft"] in codes_of(seeded, "户籍", provider_ids=None)
    assert len(codes_of(seeded, "", provider_ids=set())) == 3


def test_facets_carry_counts_labels_and_selection(
    seeded: Seeded, catalog: dict[str, str]
) -> None:
    with seeded.registry.session() as session:
        page = search_entries(session, query="", filters={"share_type": ["unconditional"]})
        facets = {name: {v.value: (v.label, v.count, v.selected) for v in values}
                  for name, values in page.facets.items()}
    assert page.total == 1
    assert facets["share_type"]["unconditional"] == ("Shared unconditionally", 1, True)
    assert facets["share_type"]["conditional"][1:] == (3, False)
    assert facets["provider"]["371300_gaj"] == ("临沂市公安局", 1, False)
    assert facets["grade"] == {"2": ("2", 1, False)}
    assert facets["open"] == {"open": ("Open to the public", 1, False)}


def test_highlights_are_escaped_and_marked(seeded: Seeded, catalog: dict[str, str]) -> None:
    with seeded.registry.session() as session:
        entry = service.get_entry(session, catalog["enterprise"])
        service.transition(session, entry=entry, action=Action.RETIRE, actor=REVIEWER)
        service.transition(session, entry=entry, action=Action.REOPEN, actor=REVIEWER)
        data = EntryUpdate.model_validate({
            **{k: getattr(entry, k) for k in ("name", "summary", "format_class", "share_type",
                                               "share_conditions", "update_cycle")},
            "summary": "<b>企业</b>登记 & 营业执照", "items": [ItemInput(name="企业名称")]})
        service.update_entry(session, entry=entry, data=data, actor=REVIEWER)
    with seeded.registry.session() as session:
        hit = search_entries(session, query="企业 登记").hits[0]
        assert str(hit.name_html) == "<mark>企业</mark><mark>登记</mark>信息"
        assert str(hit.summary_html) == (
            "&lt;b&gt;<mark>企业</mark>&lt;/b&gt;<mark>登记</mark> &amp; 营业执照")


def test_changes_are_seen_by_the_next_search(seeded: Seeded, catalog: dict[str, str]) -> None:
    assert codes_of(seeded, "居住证") == []
    with seeded.registry.session() as session:
        entry = service.get_entry(session, catalog["county_draft"])
        data = EntryUpdate.model_validate({
            "name": "兰山区居住证办理", "summary": "居住证", "format_class": entry.format_class,
            "share_type": entry.share_type, "share_conditions": entry.share_conditions,
            "update_cycle": entry.update_cycle, "items": [ItemInput(name="姓名")]})
        service.update_entry(session, entry=entry, data=data, actor=REVIEWER)
    assert codes_of(seeded, "居住证") == [catalog["county_draft"]]
    assert codes_of(seeded, "户籍人口统计") == []
    with seeded.registry.session() as session:
        entry = service.get_entry(session, catalog["county_draft"])
        for version in list(entry.versions):
            session.delete(version)
        session.delete(entry)
    assert codes_of(seeded, "居住证") == []


def test_a_fresh_process_reloads_the_same_index(seeded: Seeded, catalog: dict[str, str]) -> None:
    queries = ["户籍", "低保", "信息", "", "企业 登记", "姓名"]
    with seeded.registry.session() as session:
        warm = live.live_index(session).refresh(session)
        before = [warm.search(parse_query(q), facets=("provider", "grade")) for q in queries]
        reloaded = live.LiveIndex().refresh(session)
        after = [reloaded.search(parse_query(q), facets=("provider", "grade")) for q in queries]
    assert after == before
    assert len(reloaded) == len(catalog)


def test_entries_without_tokens_are_segmented_on_first_load(
    seeded: Seeded, catalog: dict[str, str]
) -> None:
    with seeded.registry.session() as session:
        first = service.get_entry(session, catalog["population"]).id
        session.execute(delete(SearchDocument).where(SearchDocument.entry_id == first))
        session.execute(update(SearchDocument).values(analyzer="an older dictionary"))
    with seeded.registry.session() as session:
        index = live.LiveIndex().refresh(session)
        assert len(index) == len(catalog)
        assert index.search(parse_query("常住人口")).hits[0].id == first
        stored = {entry_id: analyzer for entry_id, analyzer in session.execute(
            select(SearchDocument.entry_id, SearchDocument.analyzer))}
        assert sorted(stored) == sorted(session.scalars(select(CatalogEntry.id)).all())
        assert set(stored.values()) == {ANALYZER_VERSION}


def test_bad_input_is_refused_clearly(seeded: Seeded, catalog: dict[str, str]) -> None:
    with seeded.registry.session() as session:
        for options, message in [
            ({"query": "户" * 201}, "at most 200"),
            ({"page": 0}, "page numbers start at 1"),
            ({"size": 1000}, "page size must be between 1 and 100"),
            ({"filters": {"colour": ["red"]}}, "cannot filter by colour"),
            ({"page": 10_000}, "paged up to"),
        ]:
            with pytest.raises(UserError, match=message):
                search_entries(session, **options)  # type: ignore[arg-type]
        assert search_entries(session, query="'; DROP TABLE catalog_entries; --").total == 0
        assert search_entries(session, filters={"provider": ["nobody"]}).total == 0
