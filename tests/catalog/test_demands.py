"""Supply–demand docking through the service: registration, matching, states, history, list."""

from __future__ import annotations

from datetime import date
from io import BytesIO

import pytest
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from datapolis.catalog.demands import matching
from datapolis.catalog.demands import service as demands
from datapolis.catalog.demands.models import DemandStatus, Urgency
from datapolis.catalog.demands.sheet import demand_sheet
from datapolis.catalog.sheets import write_workbook
from datapolis.catalog.versions import Actor
from datapolis.errors import Conflict, UserError
from datapolis.orgs import service as orgs_service
from tests.catalog.conftest import Seeded, create
from tests.catalog.test_lists import GRADED, publish

CIVIL = Actor("civil_affairs_user")
POLICE = Actor("police_admin")
BUREAU = Actor("platform_admin")


def seed_supply(session: Session) -> dict[str, str]:
    codes = {
        "population": create(session, tags=["人口", "户籍", "身份核验"]),
        "vehicles": create(session, name="机动车登记信息", catalog_type="department",
                           subject="12", heading="004", tags=["车辆"], items=GRADED,
                           warehouse_table="ods_371300_gaj.jdc"),
        "county": create(session, "371302_gaj", name="兰山区户籍人口", warehouse_table=None,
                         tags=["户籍"]),
        "draft": create(session, name="户籍迁移信息", warehouse_table="ods_371300_gaj.qy"),
    }
    for name in ("population", "vehicles", "county"):
        publish(session, codes[name])
    return codes


def register(session: Session, **changes: object) -> str:
    data = {
        "title": "户籍人口基本信息", "purpose": "低保申请审核时核验申请人户籍",
        "fields": ("公民身份号码", "姓名", "户籍地址"), "urgency": Urgency.URGENT,
        "provider_hint": orgs_service.get_organisation(session, "371300_gaj"),
    } | changes
    requester = orgs_service.get_organisation(session, "371302")  # the county (民政 there)
    demand = demands.register_demand(session, data=demands.DemandInput(**data),  # type: ignore[arg-type]
                                     requester=requester, actor=CIVIL)
    return demand.code


def test_demands_get_yearly_codes_and_a_history(seeded: Seeded) -> None:
    with seeded.registry.session() as session:
        first, second = register(session), register(session, title="婚姻登记信息")
        demand = demands.get_demand(session, first)
        assert demand.status is DemandStatus.REGISTERED
        assert demand.fields == ["公民身份号码", "姓名", "户籍地址"]
        events = [(e.number, e.action, e.from_status, e.to_status, e.actor)
                  for e in demand.events]
    year = date.today().year
    assert (first, second) == (f"XQ{year}000001", f"XQ{year}000002")
    assert events == [(1, "registered", None, DemandStatus.REGISTERED, "civil_affairs_user")]


@pytest.mark.parametrize(("changes", "message"), [
    ({"title": "  "}, "needs a title"),
    ({"purpose": ""}, "needs its purpose"),
    ({"title": "户" * 201}, "at most 200"),
])
def test_incomplete_demands_are_refused(seeded: Seeded, changes: dict[str, object],
                                        message: str) -> None:
    with pytest.raises(UserError, match=message), seeded.registry.session() as session:
        register(session, **changes)


def test_candidates_come_from_published_entries_with_reasons(seeded: Seeded) -> None:
    with seeded.registry.session() as session:
        codes = seed_supply(session)  # committed: the search index reads committed entries
    with seeded.registry.session() as session:
        demand = demands.get_demand(session, register(session))
        found = matching.propose(session, demand)
        unrelated = demands.get_demand(session, register(
            session, title="气象观测数据", fields=("气温",), provider_hint=None))
        nothing = matching.propose(session, unrelated)
    ranked = [(c.entry.resource_code, c.score, c.words, c.fields, c.suggested_provider)
              for c in found]
    # 0.5 × words held / 4 + 0.4 × fields held / 3 + 0.1 for the suggested provider; the draft
    # holds the words too but is not published, so it is not proposed.
    assert ranked == [
        (codes["county"], 0.6417, ("户籍人口", "公民身份号码", "姓名"), ("公民身份号码", "姓名"),
         False),
        (codes["population"], 0.6167, ("公民身份号码", "姓名"), ("公民身份号码", "姓名"), True),
        (codes["vehicles"], 0.3583, ("姓名",), ("姓名",), True),  # 户主姓名 holds 姓名
    ]
    assert matching.demand_words(demand) == ["户籍人口", "公民身份号码", "姓名", "户籍地址"]
    assert nothing == []


def test_a_demand_goes_from_match_to_fulfilment(seeded: Seeded) -> None:
    with seeded.registry.session() as session:
        codes = seed_supply(session)  # committed: the search index reads committed entries
    with seeded.registry.session() as session:
        code = register(session)
        city_police = orgs_service.descendant_ids(
            session, orgs_service.get_organisation(session, "371300_gaj"))
        county = orgs_service.descendant_ids(
            session, orgs_service.get_organisation(session, "371302"))
        demand = demands.get_demand(session, code)
        entry = _entry(session, codes["population"])
        # The requester cannot confirm a match for someone else's entry; the provider can.
        with pytest.raises(demands.NotAllowed, match="only the bureau or the provider"):
            demands.confirm_match(session, demand=demand, entry=entry, actor=CIVIL,
                                  scope=county)
        demands.confirm_match(session, demand=demand, entry=entry, actor=POLICE,
                              scope=city_police, comment="字段齐全")
        assert demands.allowed_steps(demand, city_police) == [demands.Step.MATCH,
                                                              demands.Step.CLOSE]
        assert demands.allowed_steps(demand, county) == [demands.Step.START, demands.Step.FULFIL,
                                                         demands.Step.CLOSE]
        # Only the requester (or the bureau) moves its demand along.
        with pytest.raises(demands.NotAllowed):
            demands.advance(session, demand=demand, step=demands.Step.START, actor=POLICE,
                            scope=city_police)
        demands.advance(session, demand=demand, step=demands.Step.START, actor=CIVIL,
                        scope=county, sharing_reference="SQ2026000123")
        with pytest.raises(Conflict, match="only matched, registered demands"):
            demands.confirm_match(session, demand=demand, entry=entry, actor=BUREAU, scope=None)
        demands.advance(session, demand=demand, step=demands.Step.FULFIL, actor=BUREAU,
                        scope=None, comment="已通过共享交换获取")
        with pytest.raises(Conflict, match="it is fulfilled"):
            demands.advance(session, demand=demand, step=demands.Step.CLOSE, actor=BUREAU,
                            scope=None, comment="x")
        history = [(e.action, e.from_status, e.to_status, e.entry_code, e.actor, e.comment)
                   for e in demand.events]
        assert demand.sharing_reference == "SQ2026000123"
    assert history == [
        ("registered", None, "registered", None, "civil_affairs_user", None),
        ("matched", "registered", "matched", codes["population"], "police_admin", "字段齐全"),
        ("started", "matched", "in_progress", codes["population"], "civil_affairs_user", None),
        ("fulfilled", "in_progress", "fulfilled", codes["population"], "platform_admin",
         "已通过共享交换获取"),
    ]


def _entry(session: Session, code: str):  # type: ignore[no-untyped-def]
    from datapolis.catalog import service

    return service.get_entry(session, code)


def test_only_published_entries_supply_and_closing_needs_a_reason(seeded: Seeded) -> None:
    with seeded.registry.session() as session:
        codes = seed_supply(session)  # committed: the search index reads committed entries
    with seeded.registry.session() as session:
        demand = demands.get_demand(session, register(session))
        with pytest.raises(UserError, match="only published entries"):
            demands.confirm_match(session, demand=demand, entry=_entry(session, codes["draft"]),
                                  actor=BUREAU, scope=None)
        city_police = orgs_service.descendant_ids(
            session, orgs_service.get_organisation(session, "371300_gaj"))
        with pytest.raises(UserError, match="needs the reason"):
            demands.advance(session, demand=demand, step=demands.Step.CLOSE, actor=POLICE,
                            scope=city_police, comment=" ")
        # The suggested provider may close a demand it cannot meet.
        demands.advance(session, demand=demand, step=demands.Step.CLOSE, actor=POLICE,
                        scope=city_police, comment="户籍地址字段不在本系统")
        assert demand.status is DemandStatus.CLOSED
        assert demand.close_reason == "户籍地址字段不在本系统"
        assert demands.allowed_steps(demand, None) == []


def test_the_supply_demand_list_prints_with_its_docking_columns(seeded: Seeded) -> None:
    with seeded.registry.session() as session:
        codes = seed_supply(session)  # committed: the search index reads committed entries
    with seeded.registry.session() as session:
        matched = demands.get_demand(session, register(session))
        demands.confirm_match(session, demand=matched, entry=_entry(session, codes["population"]),
                              actor=BUREAU, scope=None)
        closed = demands.get_demand(session, register(session, title="不动产登记信息",
                                                      provider_hint=None))
        demands.advance(session, demand=closed, step=demands.Step.CLOSE, actor=BUREAU,
                        scope=None, comment="尚未汇聚")
        listed = demands.list_demands(session)
        by_provider = demands.list_demands(
            session, provider=orgs_service.get_organisation(session, "371300_gaj"))
        sheet = demand_sheet(listed, city="临沂市", made_on=date(2026, 11, 25))
    assert [d.code for d in by_provider] == [matched.code]
    ws = load_workbook(BytesIO(write_workbook([sheet])))["供需清单"]
    assert ws["A1"].value == "临沂市政务数据供需对接清单"
    assert [ws.cell(3, c).value for c in (1, 2, 3, 10)] == ["序号", "需求单位", "需求编号",
                                                            "对接情况"]
    assert [ws.cell(4, c).value for c in range(10, 15)] == [
        "匹配资源代码", "匹配资源名称", "资源提供单位", "状态", "说明"]
    assert "J3:N3" in {str(r) for r in ws.merged_cells.ranges}
    assert "B5:B6" in {str(r) for r in ws.merged_cells.ranges}  # one requester, two demands
    assert [ws.cell(5, c).value for c in (3, 6, 8, 10, 13)] == [
        matched.code, "公民身份号码、姓名、户籍地址", "紧急", codes["population"], "已匹配"]
    assert [ws.cell(6, c).value for c in (13, 14)] == ["已关闭", "尚未汇聚"]
