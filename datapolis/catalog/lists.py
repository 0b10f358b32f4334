"""The bureau's lists: 汇聚清单 (what has been aggregated), 共享清单 (what is shared, how and on
which conditions) and 开放清单 (what is open to the public), as rows and as printable sheets.

The lists read the catalog as the caller sees it (`provider_ids`, as in `service.list_entries`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from datapolis.catalog.enums import LABELS, CatalogType, EntryStatus, ShareMethod, ShareType
from datapolis.catalog.models import CatalogEntry
from datapolis.catalog.service import visible_filter
from datapolis.catalog.sheets import Column, Sheet
from datapolis.ingest.landed import LastSync, last_syncs
from datapolis.orgs import service as orgs_service
from datapolis.orgs.models import Organisation
from datapolis.web.i18n import DEFAULT_LOCALE, N_, translations_for
from datapolis.web.render import local_time


class ListKind(enum.StrEnum):
    AGGREGATION = "aggregation"  # 汇聚清单
    SHARING = "sharing"  # 共享清单
    OPEN = "open"  # 开放清单


# The printed title follows the city's name: 临沂市政务数据共享清单.
TITLES = {ListKind.AGGREGATION: "政务数据汇聚清单", ListKind.SHARING: "政务数据共享清单",
          ListKind.OPEN: "公共数据开放清单"}
PAGE_TITLES = {ListKind.AGGREGATION: N_("Aggregation list"), ListKind.SHARING: N_("Sharing list"),
               ListKind.OPEN: N_("Open data list")}
SHARE_ORDER = {ShareType.UNCONDITIONAL: 0, ShareType.CONDITIONAL: 1, ShareType.NOT_SHARED: 2}
UNCONDITIONAL_OPEN, CONDITIONAL_OPEN = "无条件开放", "有条件开放"


@dataclass(frozen=True)
class ListRow:
    entry: CatalogEntry
    last_sync: LastSync | None = None  # the aggregation list only

    @property
    def open_kind(self) -> str:
        return CONDITIONAL_OPEN if self.entry.open_conditions else UNCONDITIONAL_OPEN


def zh(label: str) -> str:
    """A label as the printed lists say it (Simplified Chinese, whatever the reader's UI)."""
    return translations_for(DEFAULT_LOCALE).gettext(label)


def city_name(session: Session) -> str:
    """The name of the top of the organisation tree (the city the bureau serves)."""
    roots = [org for org in orgs_service.list_organisations(session) if org.parent_id is None]
    return roots[0].name if roots else ""


def build_list(
    session: Session,
    kind: ListKind,
    *,
    provider_ids: set[int] | None,
    provider: Organisation | None = None,
    catalog_type: CatalogType | None = None,
    share_type: ShareType | None = None,
) -> list[ListRow]:
    query = visible_filter(select(CatalogEntry), provider_ids).options(
        selectinload(CatalogEntry.provider), selectinload(CatalogEntry.items))
    if kind is ListKind.AGGREGATION:
        query = query.where(CatalogEntry.warehouse_table.is_not(None),
                            CatalogEntry.status != EntryStatus.RETIRED)
    else:
        query = query.where(CatalogEntry.status == EntryStatus.PUBLISHED)
    if kind is ListKind.OPEN:
        query = query.where(CatalogEntry.open_to_public.is_(True))
    if provider is not None:
        query = query.where(CatalogEntry.provider_id == provider.id)
    if catalog_type is not None:
        query = query.where(CatalogEntry.catalog_type == catalog_type)
    if share_type is not None:
        query = query.where(CatalogEntry.share_type == share_type)
    entries: list[CatalogEntry] = list(session.scalars(query))
    if kind is ListKind.SHARING:
        # Grouped by share type, then by provider: the groups a bureau merges when it prints.
        entries.sort(key=lambda e: (SHARE_ORDER[e.share_type], e.provider.code, e.prefix,
                                    e.sequence))
    else:
        entries.sort(key=lambda e: (e.provider.code, e.prefix, e.sequence))
    if kind is not ListKind.AGGREGATION:
        return [ListRow(entry) for entry in entries]
    syncs = last_syncs(session, {e.warehouse_table for e in entries if e.warehouse_table})
    return [ListRow(entry, syncs.get(entry.warehouse_table or "")) for entry in entries]


# --- printing ------------------------------------------------------------------------------


def storage_text(size: int | None) -> str:
    if size is None:
        return ""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def methods_text(methods: list[str]) -> str:
    return "、".join(zh(LABELS[ShareMethod(m)]) for m in methods)


def _sync_time(moment: datetime | None) -> str:
    return local_time(moment, "%Y-%m-%d %H:%M") if moment else ""


def _aggregation_sheet(rows: list[ListRow]) -> tuple[list[Column], list[list[object]], list[int]]:
    columns = [
        Column("提供单位", 18), Column("资源代码", 16, center=True), Column("资源名称", 26),
        Column("汇聚库表", 26), Column("更新周期", 9, center=True),
        Column("数据量（条）", 13, group="汇聚情况", number_format="#,##0"),
        Column("存储量", 10, group="汇聚情况", center=True),
        Column("最近同步时间", 17, group="汇聚情况", center=True),
        Column("同步方式", 9, group="汇聚情况", center=True),
        Column("目录状态", 9, center=True),
    ]
    modes = {"snapshot": "全量", "incremental": "增量", "cdc": "实时增量"}
    values: list[list[object]] = [[
        row.entry.provider.name, row.entry.resource_code, row.entry.name,
        row.entry.warehouse_table or "", zh(LABELS[row.entry.update_cycle]),
        row.entry.record_count, storage_text(row.entry.storage_bytes),
        _sync_time(row.last_sync.succeeded_at) if row.last_sync else "",
        modes.get(row.last_sync.mode, row.last_sync.mode) if row.last_sync else "",
        zh(LABELS[row.entry.status]),
    ] for row in rows]
    return columns, values, [0]


def _sharing_sheet(rows: list[ListRow]) -> tuple[list[Column], list[list[object]], list[int]]:
    columns = [
        Column("共享类型", 11, center=True), Column("提供单位", 18),
        Column("资源代码", 16, center=True), Column("资源名称", 24), Column("信息项", 34),
        Column("共享条件", 24, group="共享属性"), Column("共享方式", 12, group="共享属性",
                                                       center=True),
        Column("更新周期", 9, center=True), Column("发布日期", 12, center=True),
    ]
    values: list[list[object]] = [[
        zh(LABELS[row.entry.share_type]), row.entry.provider.name, row.entry.resource_code,
        row.entry.name, [item.name for item in row.entry.items],
        row.entry.share_conditions or "", methods_text(row.entry.share_methods),
        zh(LABELS[row.entry.update_cycle]), _date(row.entry.publish_date),
    ] for row in rows]
    return columns, values, [0, 1]


def _open_sheet(rows: list[ListRow]) -> tuple[list[Column], list[list[object]], list[int]]:
    columns = [
        Column("提供单位", 18), Column("资源代码", 16, center=True), Column("资源名称", 24),
        Column("资源摘要", 32), Column("开放类型", 11, group="开放属性", center=True),
        Column("开放条件", 24, group="开放属性"), Column("更新周期", 9, center=True),
        Column("数据量（条）", 13, number_format="#,##0"), Column("发布日期", 12, center=True),
    ]
    values: list[list[object]] = [[
        row.entry.provider.name, row.entry.resource_code, row.entry.name, row.entry.summary,
        row.open_kind, row.entry.open_conditions or "", zh(LABELS[row.entry.update_cycle]),
        row.entry.record_count, _date(row.entry.publish_date),
    ] for row in rows]
    return columns, values, [0]


def _date(day: date | None) -> str:
    return day.isoformat() if day else ""


SHEET_NAMES = {ListKind.AGGREGATION: "汇聚清单", ListKind.SHARING: "共享清单",
               ListKind.OPEN: "开放清单"}
_BUILDERS = {ListKind.AGGREGATION: _aggregation_sheet, ListKind.SHARING: _sharing_sheet,
             ListKind.OPEN: _open_sheet}


def list_sheet(
    kind: ListKind, rows: list[ListRow], *, city: str, made_on: date, note: str = ""
) -> Sheet:
    columns, values, merged = _BUILDERS[kind](rows)
    return Sheet(name=SHEET_NAMES[kind], title=f"{city}{TITLES[kind]}", columns=columns,
                 rows=values, made_on=made_on, note=note, merge_same=merged)
