"""The supply–demand list (供需清单) as a printable sheet."""

from __future__ import annotations

from datetime import date

from datapolis.catalog.demands.models import DEMAND_LABELS, DataDemand
from datapolis.catalog.lists import zh
from datapolis.catalog.sheets import Column, Sheet
from datapolis.web.render import local_time

TITLE = "政务数据供需对接清单"


def demand_sheet(demands: list[DataDemand], *, city: str, made_on: date, note: str = "") -> Sheet:
    columns = [
        Column("需求单位", 16), Column("需求编号", 15, center=True), Column("需求名称", 22),
        Column("用途（应用场景）", 26), Column("所需信息项", 26),
        Column("建议提供单位", 15), Column("紧急程度", 8, center=True),
        Column("登记日期", 11, center=True),
        Column("匹配资源代码", 16, group="对接情况", center=True),
        Column("匹配资源名称", 20, group="对接情况"),
        Column("资源提供单位", 15, group="对接情况"),
        Column("状态", 8, group="对接情况", center=True),
        Column("说明", 22, group="对接情况"),
    ]
    rows: list[list[object]] = []
    for demand in demands:
        note_text = demand.close_reason or (
            f"共享申请 {demand.sharing_reference}" if demand.sharing_reference else "")
        rows.append([
            demand.requester.name, demand.code, demand.title, demand.purpose,
            list(demand.fields), demand.provider_hint.name if demand.provider_hint else "",
            zh(DEMAND_LABELS[demand.urgency]), local_time(demand.created_at, "%Y-%m-%d"),
            demand.entry.resource_code if demand.entry else "",
            demand.entry.name if demand.entry else "",
            demand.entry.provider.name if demand.entry else "",
            zh(DEMAND_LABELS[demand.status]), note_text,
        ])
    return Sheet(name="供需清单", title=f"{city}{TITLE}", columns=columns, rows=rows,
                 made_on=made_on, note=note, merge_same=[0])
