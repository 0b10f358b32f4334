"""市不动产登记中心 不动产登记系统 (bdc_djxt): real-estate units and their right holders."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from datapolis.demo import dirt, ids
from datapolis.demo.schema import DataKind as K
from datapolis.demo.schema import Dirt as D
from datapolis.demo.schema import Table, col, conform
from datapolis.demo.systems.base import Context, Output
from datapolis.demo.vec import (
    cat,
    date_text,
    num,
    random_days,
    random_times,
    rank_within,
    strings,
    take,
    timestamps,
    weighted,
    where,
)

SYSTEM = "bdc_djxt"

UNITS = Table("bdcdy", "不动产单元（房屋）信息", (
    col("bdcdyh", "str:28", "不动产单元号"),
    col("zl", "str:200", "坐落", K.ADDRESS, D.FULLWIDTH, D.BLANK),
    col("jzmj", "money", "建筑面积（平方米）"),
    col("tnmj", "money", "套内建筑面积（平方米）"),
    col("ghyt", "str:10", "规划用途"),
    col("fwxz", "str:20", "房屋性质"),
    col("szc", "int", "所在层"),
    col("zcs", "int", "总层数"),
    col("bdcqzh", "str:60", "不动产权证号"),
    col("djrq", "str:20", "登记日期", K.NONE, D.DATE_FORMAT),
    col("qszt", "str:4", "权属状态"),
    col("gxsj", "datetime", "更新时间", K.NONE, D.STALE),
))

HOLDERS = Table("qlr", "权利人信息", (
    col("id", "int", "记录编号"),
    col("bdcdyh", "str:28", "不动产单元号"),
    col("qlrmc", "str:60", "权利人名称", K.PERSON_NAME, D.FULLWIDTH, D.BLANK),
    col("zjzl", "str:20", "证件种类"),
    col("zjh", "str:18", "证件号", K.RESIDENT_ID, D.CHECK_DIGIT, D.LEGACY_ID15, D.BLANK),
    col("gyfs", "str:10", "共有方式"),
    col("qlbl", "str:10", "权利比例"),
    col("lxdh", "str:20", "联系电话", K.MOBILE, D.BLANK),
    col("txdz", "str:200", "通讯地址", K.ADDRESS, D.CONFLICT, D.FULLWIDTH),
    col("gxsj", "datetime", "更新时间", K.NONE, D.STALE),
), duplicates=True)

TABLES = (UNITS, HOLDERS)

USES = ("住宅", "商业", "车库", "办公")
USE_WEIGHTS = (84, 6, 7, 3)
KINDS = ("市场化商品房", "房改房", "经济适用房", "自建房")


def build(ctx: Context) -> Output:
    pop = ctx.pop
    rng = ctx.rng(SYSTEM, "data")
    out = Output(SYSTEM)
    h = pop.households
    geo = pop.geo
    town = geo.street_is_town[pop.hh_street]
    # Registered units per household; village homesteads are often not registered yet.
    count = np.array([0, 1, 2, 3])[weighted(rng, h, (18, 62, 16, 4))]
    count = np.where(town & pop.addr_unit.is_null().to_numpy(zero_copy_only=False)
                     & (rng.random(h) < 0.5), 0, count)
    hh = np.repeat(np.arange(h), count)
    n = len(hh)
    extra = (np.arange(n) - np.repeat(np.cumsum(count) - count, count)) > 0
    # The first unit is the home; further ones are flats elsewhere in the city.
    located = np.where(extra, rng.integers(0, h, n), hh)
    street = pop.hh_street[located]
    county = geo.street_county[street]
    use = np.where(extra, weighted(rng, n, USE_WEIGHTS), 0)
    registered = np.where(rng.random(n) < 0.75, random_days(rng, n, "2016-06-01", "2026-05-20"),
                          random_days(rng, n, "2003-01-01", "2016-05-31"))
    year = registered.astype("datetime64[Y]").astype(np.int64) + 1970
    # 不动产单元号: division(6) + cadastral zone/subzone(6) + parcel GB+5 + building F+8.
    parcel = rank_within(street) // 40
    unit_no = cat(take(geo.county_code, county), pc.utf8_slice_codeunits(
        take(geo.street_code, street), 6, 9), "001", "GB", num(parcel % 100_000, 5), "F",
        num(rank_within(street) % 100_000_000 + 1, 8))
    home_floor = pop.addr_floor[located]
    floor = np.where(home_floor > 0, home_floor, rng.integers(1, 4, n))
    floors = np.where(home_floor > 0, np.maximum(home_floor, rng.integers(6, 34, n)), floor)
    area = np.round(np.where(use == 2, rng.uniform(12, 40, n), rng.uniform(55, 180, n)), 2)
    kind = np.where(town[located], 3, weighted(rng, n, (80, 12, 8, 0)))
    units = conform(UNITS, {
        "bdcdyh": unit_no, "zl": take(pop.addr_full, located), "jzmj": area,
        "tnmj": np.round(area * rng.uniform(0.76, 0.86, n), 2), "ghyt": take(USES, use),
        "fwxz": take(KINDS, kind), "szc": floor, "zcs": floors,
        "bdcqzh": cat("鲁(", num(year), ")临沂市不动产权第", num(np.arange(1, n + 1), 7), "号"),
        "djrq": date_text(registered),
        "qszt": where(rng.random(n) < 0.03, strings(["注销"] * n), strings(["现势"] * n)),
        "gxsj": timestamps(random_times(rng, np.maximum(
            registered, random_days(rng, n, "2023-01-01", "2026-05-30")))),
    })
    units = dirt.apply(ctx.rng(SYSTEM, "bdcdy"), UNITS, units, ctx.rates, out.log)

    # Holders: the head alone, or the couple jointly (共同共有) or by shares (按份共有).
    head = pop.hh_head[hh]
    has_spouse = (pop.hh_size[hh] > 1) & (pop.role[np.minimum(head + 1, pop.n - 1)] == 1)
    mode = np.where(has_spouse, weighted(rng, n, (45, 48, 7)), 0)
    owners = np.where(mode > 0, 2, 1)
    unit = np.repeat(np.arange(n), owners)
    second = (np.arange(len(unit)) - np.repeat(np.cumsum(owners) - owners, owners)) > 0
    person = np.where(second, head[unit] + 1, head[unit])
    m = len(unit)
    share_mode = mode[unit]
    share = np.where(share_mode == 2, np.where(second, "40%", "60%"),
                     np.where(share_mode == 1, "共同共有", "100%"))
    how = np.array(["单独所有", "共同共有", "按份共有"])[share_mode]

    def other_addresses(g: np.random.Generator, k: int) -> pa.Array:
        return take(pop.addr_full, g.integers(0, h, k))

    holders = conform(HOLDERS, {
        "id": np.arange(1, m + 1), "bdcdyh": take(unit_no, unit),
        "qlrmc": take(pop.name, person), "zjzl": strings(["身份证"] * m),
        "zjh": take(pop.id_number, person), "gyfs": strings(how.tolist()),
        "qlbl": strings(share.tolist()),
        "lxdh": where(pc.is_null(take(pop.mobile, person)), ids.mobiles(rng, m),
                      take(pop.mobile, person)),
        "txdz": take(pop.addr_full, hh[unit]),
        "gxsj": timestamps(random_times(rng, random_days(rng, m, "2023-01-01", "2026-05-30"))),
        "_person": person,
    })
    holders = dirt.apply(ctx.rng(SYSTEM, "qlr"), HOLDERS, holders, ctx.rates, out.log,
                         conflicts={"txdz": other_addresses})
    out.tables += [(UNITS, units), (HOLDERS, holders)]
    return out
