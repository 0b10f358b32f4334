"""The bureau's lists (汇聚 / 共享 / 开放清单): what each holds, and the printed XLSX layout."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from io import BytesIO
from typing import Any

from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy.orm import Session

from datapolis.catalog import service
from datapolis.catalog.lifecycle import Action
from datapolis.catalog.lists import ListKind, build_list, city_name, list_sheet, storage_text
from datapolis.catalog.schemas import ItemInput
from datapolis.catalog.sheets import write_workbook
from datapolis.catalog.versions import Actor
from datapolis.ingest.models import Source, SourceTableChoice, SyncJob, SyncRun
from datapolis.orgs import service as orgs_service
from tests.catalog.conftest import Seeded, create

REVIEWER = Actor("platform_admin")


def publish(session: Session, code: str) -> None:
    entry = service.get_entry(session, code)
    for action in (Action.SUBMIT, Action.APPROVE, Action.PUBLISH):
        service.transition(session, entry=entry, action=action, actor=REVIEWER)


GRADED = [ItemInput(name="户号", column_name="hh", length=9, security_grade="1"),
          ItemInput(name="户主姓名", column_name="hzxm", length=30, security_grade="2")]


def seed_lists(session: Session) -> dict[str, str]:
    codes = {
        "population": create(session, record_count=1_250_000, storage_bytes=3 * 1024**3),
        "households": create(session, name="户籍家庭信息", warehouse_table="ods_371300_gaj.hj",
                             share_type="unconditional", share_conditions=None,
                             open_to_public=True, open_conditions=None,
                             items=GRADED[:1]),
        "draft": create(session, name="暂住人口信息", warehouse_table="ods_371300_gaj.zzrk"),
        "county": create(session, "371302_gaj", name="兰山区流动人口", warehouse_table=None,
                         share_type="not_shared",
                         share_conditions="依据《居住证暂行条例》涉及个人隐私，不予共享",
                         share_methods=[]),
        "county2": create(session, "371302_gaj", name="兰山区出租房屋",
                          warehouse_table="ods_371302_gaj.czfw", open_to_public=True,
                          open_conditions="仅开放统计数据", items=GRADED),
    }
    for name in ("population", "households", "county", "county2"):
        publish(session, codes[name])
    return codes


def _codes(rows: list[Any]) -> list[str]:
    return [row.entry.resource_code for row in rows]


def test_each_list_holds_what_the_bureau_files(seeded: Seeded) -> None:
    with seeded.registry.session() as session:
        codes = seed_lists(session)
        everyone = None
        aggregation = build_list(session, ListKind.AGGREGATION, provider_ids=everyone)
        sharing = build_list(session, ListKind.SHARING, provider_ids=everyone)
        open_list = build_list(session, ListKind.OPEN, provider_ids=everyone)
        # A county department sees the city's published entries, not its draft.
        county = orgs_service.descendant_ids(session, seeded.city.county_dept)
        county_view = build_list(session, ListKind.AGGREGATION, provider_ids=county)
        only_county = build_list(session, ListKind.SHARING, provider_ids=everyone,
                                 provider=seeded.city.county_dept)
        assert city_name(session) == "临沂市"
    # 汇聚: entries with a warehouse table (any status but retired), by provider.
    assert _codes(aggregation) == [codes["population"], codes["households"], codes["draft"],
                                   codes["county2"]]
    assert _codes(county_view) == [codes["population"], codes["households"], codes["county2"]]
    # 共享: published entries grouped by share type (unconditional first), then provider.
    assert _codes(sharing) == [codes["households"], codes["population"], codes["county2"],
                               codes["county"]]
    assert [row.entry.share_type.value for row in sharing] == [
        "unconditional", "conditional", "conditional", "not_shared"]
    # 开放: published entries open to the public, with their kind of opening.
    assert _codes(open_list) == [codes["households"], codes["county2"]]
    assert [row.open_kind for row in open_list] == ["无条件开放", "有条件开放"]
    assert _codes(only_county) == [codes["county2"], codes["county"]]  # by share type


def test_the_aggregation_list_shows_the_last_successful_sync(seeded: Seeded) -> None:
    moment = datetime(2026, 11, 20, 1, 30, tzinfo=UTC)  # 09:30 in Linyi
    with seeded.registry.session() as session:
        codes = seed_lists(session)
        source = Source(code="gaj_rk", name="人口系统", kind="postgres",
                        org=orgs_service.get_organisation(session, "371300_gaj"),
                        options={})
        choice = SourceTableChoice(name="public.czrk", target_table="ods_371300_gaj.czrk")
        source.tables.append(choice)
        job = SyncJob(code="gaj_rk.czrk", table=choice, mode="cdc")
        job.runs = [
            SyncRun(started_at=moment - timedelta(minutes=1), ended_at=moment,
                    status="succeeded"),
            SyncRun(started_at=moment + timedelta(hours=1), ended_at=moment + timedelta(hours=1),
                    status="failed"),
        ]
        session.add_all([source, job])
        session.flush()
        rows = build_list(session, ListKind.AGGREGATION, provider_ids=None)
        sheet = list_sheet(ListKind.AGGREGATION, rows, city="临沂市", made_on=date(2026, 11, 25))
    synced = next(row for row in rows if row.entry.resource_code == codes["population"])
    assert synced.last_sync is not None
    assert synced.last_sync.succeeded_at == moment
    assert synced.last_sync.last_status == "failed"
    assert all(row.last_sync is None for row in rows if row is not synced)
    first = sheet.rows[0]
    assert first[0] == "临沂市公安局" and first[3] == "ods_371300_gaj.czrk"
    assert first[5] == 1_250_000 and first[6] == "3.0 GB"
    assert first[7] == "2026-11-20 09:30" and first[8] == "实时增量"


def _merged(ws: Worksheet) -> set[str]:
    return {str(r) for r in ws.merged_cells.ranges}


def test_the_sharing_list_prints_in_the_bureau_layout(seeded: Seeded) -> None:
    with seeded.registry.session() as session:
        seed_lists(session)
        rows = build_list(session, ListKind.SHARING, provider_ids=None)
        sheet = list_sheet(ListKind.SHARING, rows, city=city_name(session),
                           made_on=date(2026, 11, 25))
    ws = load_workbook(BytesIO(write_workbook([sheet])))["共享清单"]
    assert ws["A1"].value == "临沂市政务数据共享清单"
    assert ws["A1"].font.bold and ws["A1"].alignment.horizontal == "center"
    assert ws["A2"].value.startswith("生成日期：2026年11月25日    共 4 条")
    # Two header rows: 共享属性 over its two columns, the others merged down.
    headers3 = [c.value for c in ws[3]]
    headers4 = [c.value for c in ws[4]]
    assert headers3 == ["序号", "共享类型", "提供单位", "资源代码", "资源名称", "信息项",
                        "共享属性", None, "更新周期", "发布日期"]
    assert headers4[6:8] == ["共享条件", "共享方式"]
    merged = _merged(ws)
    assert {"A1:J1", "A2:J2", "G3:H3", "A3:A4", "B3:B4", "I3:I4"} <= merged
    # Data from row 5: serial numbers, share types merged where they repeat (rows 6-7 are
    # both conditional), the provider merged only inside its share type.
    assert [ws.cell(r, 1).value for r in range(5, 9)] == [1, 2, 3, 4]
    assert [ws.cell(r, 2).value for r in range(5, 9)] == [
        "无条件共享", "有条件共享", None, "不予共享"]
    assert "B6:B7" in merged
    assert "C6:C7" not in merged  # two providers within 有条件共享
    assert ws["F6"].value == "公民身份号码、姓名、性别"
    assert ws["H6"].value == "接口、库表"
    assert ws["C5"].border.left.style == "thin" and ws["J8"].border.bottom.style == "thin"
    assert ws["C5"].alignment.wrap_text
    # Column widths, frozen header, print setup.
    assert ws.column_dimensions["A"].width == 6
    assert ws.column_dimensions["F"].width == 34
    assert ws.freeze_panes == "A5"
    assert ws.page_setup.orientation == "landscape"
    assert ws.page_setup.paperSize == 9  # A4
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 0)
    assert ws.print_title_rows == "$3:$4"
    assert "&P" in ws.oddFooter.center.text


def test_open_and_aggregation_sheets_have_their_groups(seeded: Seeded) -> None:
    with seeded.registry.session() as session:
        seed_lists(session)
        sheets = [list_sheet(kind, build_list(session, kind, provider_ids=None), city="临沂市",
                             made_on=date(2026, 11, 25), note="提供单位：全部")
                  for kind in (ListKind.AGGREGATION, ListKind.OPEN)]
    wb = load_workbook(BytesIO(write_workbook(sheets)))
    assert wb.sheetnames == ["汇聚清单", "开放清单"]
    aggregation, open_ws = wb["汇聚清单"], wb["开放清单"]
    assert aggregation["A1"].value == "临沂市政务数据汇聚清单"
    assert aggregation["A2"].value.endswith("提供单位：全部")
    assert [aggregation.cell(3, c).value for c in (7, 11)] == ["汇聚情况", "目录状态"]
    assert [aggregation.cell(4, c).value for c in range(7, 11)] == [
        "数据量（条）", "存储量", "最近同步时间", "同步方式"]
    assert "G3:J3" in _merged(aggregation)
    assert "B5:B7" in _merged(aggregation)  # the city police bureau's three entries
    assert aggregation["G5"].number_format == "#,##0"
    assert open_ws["A1"].value == "临沂市公共数据开放清单"
    assert [open_ws.cell(4, c).value for c in (6, 7)] == ["开放类型", "开放条件"]
    assert [open_ws.cell(r, 7).value for r in (5, 6)] == [None, "仅开放统计数据"]


def test_storage_is_printed_in_readable_units() -> None:
    assert storage_text(None) == ""
    assert storage_text(512) == "512 B"
    assert storage_text(1536) == "1.5 KB"
    assert storage_text(5 * 1024**4 * 1024) == "5120.0 TB"
