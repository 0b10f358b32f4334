"""The demo's resource catalog: the draft entries auto-registration made for the landed demo
tables, described, graded and classified the way the departments' catalog staff would, then
submitted, and (most of them) approved and published by the bureau.

Grades come from the kinds of data the demo recorded per column (`truth/columns.parquet`): a
person's ID number, bank card or passport is L4; names, phone numbers, e-mail, addresses and
licence plates are L3; enterprise credit codes and everything else L1, or L2 in tables about
individual people. An entry is open to the public only when every item is L1. Only drafts still
under auto-registration's placeholder classification are touched, so a second run and a
person's later edits are left alone.

The bureau's reviewer then confirms the field grades of every published entry (the security
slice's suggestions, confirmed or changed to the grades above, each an audit event) and assigns
the entry a business of the classification scheme.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq
from sqlalchemy import select
from sqlalchemy.orm import Session

from datapolis.catalog import service
from datapolis.catalog.autoregister import AUTO_TAG
from datapolis.catalog.enums import (
    UNCLASSIFIED_HEADING,
    CatalogType,
    EntryStatus,
    ShareMethod,
    ShareType,
    UpdateCycle,
)
from datapolis.catalog.lifecycle import Action
from datapolis.catalog.models import CatalogEntry
from datapolis.catalog.schemas import EntryUpdate, ItemInput
from datapolis.catalog.versions import Actor
from datapolis.demo.manifest import Manifest
from datapolis.errors import UserError
from datapolis.orgs.models import User
from datapolis.security.grading import scheme as grading_scheme
from datapolis.security.grading import service as grading

BUREAU_REVIEWER = "admin"
# Each demo system's business in the default classification scheme.
BUSINESS_OF_SYSTEM = {"gaj_hjxt": "0201", "scjg_qydj": "0601", "jy_xlxx": "0501",
                      "swjt_yxxt": "0803", "bdc_djxt": "0701", "mzj_dibao": "0303",
                      "wgzx_sjxt": "0802"}
GRADE_OF_KIND = {"resident_id": "L4", "bank_card": "L4", "passport": "L4",
                 "person_name": "L3", "mobile": "L3", "landline": "L3", "email": "L3",
                 "address": "L3", "licence_plate": "L3", "credit_code": "L1"}
BOTH = [ShareMethod.INTERFACE, ShareMethod.TABLES]
FOR_SERVICES = ("仅用于政务服务办理、行政执法与统计分析，按最小必要原则申请所需信息项，"
                "不得向第三方提供。")


@dataclass(frozen=True)
class Described:
    """What catalog staff write about one demo table."""

    name: str
    summary: str
    catalog_type: CatalogType
    heading: str
    subject: str | None = None  # the basic types fix theirs
    share_type: ShareType = ShareType.CONDITIONAL
    share_conditions: str | None = FOR_SERVICES
    update_cycle: UpdateCycle = UpdateCycle.DAILY
    tags: tuple[str, ...] = ()
    about_people: bool = False  # ungraded columns are L2, not L1
    publish: bool = True  # False: left submitted, for the review queue


D = CatalogType.DEPARTMENT
DESCRIBED: dict[tuple[str, str], Described] = {
    ("gaj_hjxt", "czrk"): Described(
        "常住人口基本信息", "临沂市公安局户籍管理系统登记的常住人口基本信息，包括公民身份号码、"
        "姓名、性别、民族、出生日期、文化程度和户籍地址，是人口基础库的主要来源。",
        CatalogType.BASIC_POPULATION, "001", update_cycle=UpdateCycle.REALTIME,
        tags=("人口", "户籍", "身份核验"), about_people=True),
    ("gaj_hjxt", "hxx"): Described(
        "户信息", "户籍管理系统中的户信息：户号、户别、户主和户籍地址，用于核实家庭户构成。", D,
        "001", "11", update_cycle=UpdateCycle.REALTIME, tags=("户籍", "家庭户"),
        about_people=True),
    ("gaj_hjxt", "hcy"): Described(
        "户成员关系", "户籍管理系统中户成员与户主的关系，用于家庭关系核验与社会救助对象认定。", D,
        "002", "11", update_cycle=UpdateCycle.REALTIME, tags=("户籍", "家庭关系"),
        about_people=True),
    ("gaj_hjxt", "dzxx"): Described(
        "标准地址信息", "公安机关维护的标准地址库，包括区县、街道、门牌号和地址编码。", D, "003",
        "11", update_cycle=UpdateCycle.REALTIME, tags=("地址", "门牌"), publish=False),
    ("scjg_qydj", "qyjbxx"): Described(
        "企业基本信息", "企业登记注册系统中各类企业的登记信息，包括统一社会信用代码、名称、类型、"
        "法定代表人、注册资本、成立日期和登记状态，是法人基础库的主要来源。",
        CatalogType.BASIC_LEGAL_ENTITY, "001", tags=("法人", "企业", "登记注册")),
    ("scjg_qydj", "qy_tzr"): Described(
        "企业投资人信息", "企业登记注册系统中企业的投资人（股东）及其出资信息。", D, "001", "12",
        tags=("企业", "股东", "出资")),
    ("jy_xlxx", "xlxx"): Described(
        "高等教育学历信息", "学历学位信息系统中的高等教育学历记录，包括毕业院校、专业、学历层次和"
        "毕业时间，用于人才认定与就业服务。", D, "001", "13", update_cycle=UpdateCycle.MONTHLY,
        tags=("学历", "教育", "人才"), about_people=True),
    ("swjt_yxxt", "yhda"): Described(
        "用水户档案", "供水营销管理系统中的用水户档案：户号、户名、用水地址、用水性质和开户日期。",
        D, "001", "14", tags=("供水", "用水户"), about_people=True),
    ("swjt_yxxt", "cbxx"): Described(
        "月度抄表信息", "各用水户每月的抄表读数和用水量，用于用水分析和独居老人关爱等场景。", D,
        "002", "14", update_cycle=UpdateCycle.MONTHLY, tags=("供水", "抄表", "用水量")),
    ("swjt_yxxt", "zdxx"): Described(
        "水费账单", "各用水户每月的水费账单：计费水量、金额和缴费状态。", D, "003", "14",
        update_cycle=UpdateCycle.MONTHLY, tags=("供水", "水费", "账单")),
    ("swjt_yxxt", "qfxx"): Described(
        "欠费信息", "用水户的欠费记录，包括欠费月份、金额和催缴情况。", D, "004", "14",
        share_type=ShareType.NOT_SHARED,
        share_conditions="涉及用户缴费明细和企业经营信息，依据《城市供水条例》及企业商业秘密保护"
        "要求不予共享；信用评价需要时经专项协议另行提供。",
        update_cycle=UpdateCycle.MONTHLY, tags=("供水", "欠费")),
    ("bdc_djxt", "bdcdy"): Described(
        "不动产单元信息", "不动产登记系统中的不动产单元：单元号、坐落、面积、用途和权利类型，是"
        "自然资源和空间地理基础库的组成部分。", CatalogType.BASIC_GEOSPATIAL, "001",
        tags=("不动产", "房屋", "土地")),
    ("bdc_djxt", "qlr"): Described(
        "不动产权利人信息", "不动产登记系统中的权利人：姓名或名称、证件号码、共有方式和权利比例。",
        D, "001", "15", tags=("不动产", "权利人"), about_people=True),
    ("wgzx_sjxt", "wgxx"): Described(
        "网格信息", "全市网格化服务管理的网格划分：网格编码、名称、所属街道和网格员。", D, "001",
        "17", tags=("网格", "基层治理")),
    ("wgzx_sjxt", "sjxx"): Described(
        "网格事件信息", "网格员上报的民生事件：事件类别、发生地点、上报时间、处置状态和办结时间。",
        D, "002", "17", update_cycle=UpdateCycle.HOURLY, tags=("网格", "事件", "基层治理")),
    ("wgzx_sjxt", "sjlz"): Described(
        "事件流转记录", "网格事件在各部门之间的派发、处置、反馈和办结流转记录。", D, "003", "17",
        update_cycle=UpdateCycle.HOURLY, tags=("网格", "事件流转")),
}
DIBAO = Described(
    "最低生活保障对象名单（{month}）", "民政局按月报送的城乡最低生活保障对象名单，包括保障对象、"
    "家庭人口、保障金额和所属街道（{month}）。", D, "{heading}", "16",
    update_cycle=UpdateCycle.MONTHLY, tags=("民政", "低保", "社会救助"), about_people=True)


@dataclass
class Curated:
    published: list[str] = field(default_factory=list)
    submitted: list[str] = field(default_factory=list)
    not_ready: dict[str, str] = field(default_factory=dict)  # code -> why it stayed a draft


def describe(system: str, table: str) -> Described | None:
    if system == "mzj_dibao" and table.startswith("dibao_") and len(table) == 12:
        year, month = table[6:10], int(table[10:12])
        text = f"{year}年{month}月"
        return Described(DIBAO.name.format(month=text), DIBAO.summary.format(month=text),
                         DIBAO.catalog_type, f"{month:03d}", DIBAO.subject,
                         update_cycle=DIBAO.update_cycle, tags=DIBAO.tags, about_people=True)
    return DESCRIBED.get((system, table))


def grades(out_dir: Path) -> dict[tuple[str, str, str], str]:
    """(system, table, column) -> the kind of data the demo put there."""
    rows = pq.read_table(out_dir / "truth" / "columns.parquet",
                         columns=["system", "table", "column", "data_kind"]).to_pylist()
    return {(r["system"], r["table"], r["column"]): r["data_kind"] for r in rows}


def curate(session: Session, manifest: Manifest, out_dir: Path) -> Curated:
    kinds = grades(out_dir)
    reviewer = _actor(session, BUREAU_REVIEWER)
    done = Curated()
    for system in manifest.systems:
        for table in system.tables:
            described = describe(system.name, table)
            entry = _placeholder_draft(session, system.department, table)
            if described is None or entry is None:
                continue
            staff = _actor(session, _department_admin(system.department))
            _describe(session, entry, described, kinds, system.name, table, staff)
            try:
                service.transition(session, entry=entry, action=Action.SUBMIT, actor=staff,
                                   comment="目录梳理完成，提交审核")
                if described.publish:
                    service.transition(session, entry=entry, action=Action.APPROVE,
                                       actor=reviewer, comment="审核通过")
                    service.transition(session, entry=entry, action=Action.PUBLISH,
                                       actor=reviewer, comment="上架")
            except UserError as exc:
                done.not_ready[entry.resource_code] = str(exc)
                continue
            if entry.status is EntryStatus.PUBLISHED:
                _confirm_grades(session, entry, system.name, reviewer)
                done.published.append(entry.resource_code)
            else:
                done.submitted.append(entry.resource_code)
    return done


def _confirm_grades(session: Session, entry: CatalogEntry, system: str,
                    reviewer: Actor) -> None:
    """The bureau confirms every field's grade (the grades the catalog staff gave) and the
    entry's business in the scheme."""
    grading_scheme.seed_default(session, actor=reviewer.name)
    grading.confirm(session, entry, {item.name: item.security_grade
                                     for item in entry.items if item.security_grade},
                    reviewer, via="demo")
    if system in BUSINESS_OF_SYSTEM:
        grading.assign_category(session, entry, BUSINESS_OF_SYSTEM[system], reviewer,
                                via="demo")


def _placeholder_draft(session: Session, department: str, table: str) -> CatalogEntry | None:
    """The auto-registered draft of `ods_<department>.<table>`, if nobody classified it yet."""
    entry = session.scalar(select(CatalogEntry).where(
        CatalogEntry.warehouse_table == f"ods_{department}.{table}"))
    if entry is None or entry.status is not EntryStatus.DRAFT:
        return None
    return entry if entry.heading == UNCLASSIFIED_HEADING and AUTO_TAG in entry.tags else None


def _describe(session: Session, entry: CatalogEntry, described: Described,
              kinds: dict[tuple[str, str, str], str], system: str, table: str,
              staff: Actor) -> None:
    ungraded = "L2" if described.about_people else "L1"
    items = [ItemInput(
        name=item.name, column_name=item.column_name, data_type=item.data_type,
        length=item.length, description=item.description,
        security_grade=GRADE_OF_KIND.get(kinds.get((system, table, item.column_name or ""), ""),
                                         ungraded),
        element_code=item.element.code if item.element is not None else None,
    ) for item in entry.items]
    opens, conditions = _opening(described, {item.security_grade for item in items})
    shared = described.share_type is not ShareType.NOT_SHARED
    service.update_entry(session, entry=entry, actor=staff, data=EntryUpdate(
        name=described.name, summary=described.summary, format_class=entry.format_class,
        format_detail=entry.format_detail, share_type=described.share_type,
        share_conditions=(None if described.share_type is ShareType.UNCONDITIONAL
                          else described.share_conditions),
        share_methods=BOTH if shared else [], open_to_public=shared and opens,
        open_conditions=conditions if shared and opens else None,
        update_cycle=described.update_cycle,
        tags=list(described.tags), record_count=entry.record_count,
        storage_bytes=entry.storage_bytes, warehouse_table=entry.warehouse_table, items=items,
    ))
    service.reclassify(session, entry=entry, catalog_type=described.catalog_type,
                       subject=described.subject, heading=described.heading, subheading=None,
                       actor=staff)


OPEN_ON_APPLICATION = "依申请开放：经提供部门审核同意后开放"


def _opening(described: Described, grades: set[str | None]) -> tuple[bool, str | None]:
    """Whether the demo bureau opens an entry, and on which conditions (None: open to all).
    L1-only entries open to all. Entries not about people with L2/L3 items open on application
    (the public de-identification masks L2 and suppresses L3); entries about people, or with
    L4 or higher items (rule R22), stay closed."""
    if grades <= {"L1"}:
        return True, None
    if described.about_people or not grades <= {"L1", "L2", "L3"}:
        return False, None
    return True, OPEN_ON_APPLICATION


def _department_admin(org_code: str) -> str:
    """`371300_gaj` → `gaj_admin`, the demo's org admin of that department."""
    return f"{org_code.split('_', 1)[1]}_admin"


def _actor(session: Session, username: str) -> Actor:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise UserError(f"the demo user {username} is missing: run `datapolis demo build`")
    return Actor(user.username, user.id)
