"""市网格化服务中心 网格化事件管理系统 (wgzx_sjxt): grids, events and their handling steps."""

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
from datapolis.demo.vocab import EVENT_STEPS, EVENT_TYPES, HANDLING_UNITS, ROADS

SYSTEM = "wgzx_sjxt"

GRIDS = Table("wgxx", "网格信息", (
    col("wgbm", "str:14", "网格编码"),
    col("wgmc", "str:60", "网格名称"),
    col("jdxz_dm", "str:9", "街道（乡镇）代码"),
    col("jdxz_mc", "str:20", "街道（乡镇）名称"),
    col("sqjc_mc", "str:30", "社区（村）名称"),
    col("wgy", "str:30", "专职网格员", K.PERSON_NAME),
    col("wgy_lxdh", "str:20", "网格员联系电话", K.MOBILE),
    col("gxsj", "datetime", "更新时间"),
))

EVENTS = Table("sjxx", "网格事件信息", (
    col("sjbh", "str:20", "事件编号"),
    col("sjdl", "str:20", "事件大类"),
    col("sjxl", "str:20", "事件小类"),
    col("sjms", "text", "事件描述"),
    col("wgbm", "str:14", "网格编码"),
    col("fsdz", "str:200", "发生地址", K.ADDRESS, D.FULLWIDTH),
    col("cph", "str:10", "涉事车辆号牌", K.LICENCE_PLATE),
    col("sbly", "str:10", "上报来源"),
    col("sbr", "str:30", "上报人", K.PERSON_NAME, D.BLANK),
    col("sbr_lxdh", "str:20", "上报人联系电话", K.MOBILE, D.BLANK),
    col("sbsj", "datetime", "上报时间"),
    col("dqzt", "str:10", "当前状态"),
    col("bjsj", "datetime", "办结时间"),
))

STEPS = Table("sjlz", "事件流转记录", (
    col("id", "int", "流转记录编号"),
    col("sjbh", "str:20", "事件编号"),
    col("hj", "str:10", "环节（上报、分流交办、处置、反馈、办结）"),
    col("czbm", "str:60", "处理部门"),
    col("czr", "str:30", "操作人", K.PERSON_NAME),
    col("czsj", "datetime", "操作时间"),
    col("clyj", "str:200", "处理意见"),
))

TABLES = (GRIDS, EVENTS, STEPS)
EVENTS_PER_PERSON = 0.05
STATES = ("待分流", "已交办", "处置中", "待办结", "已办结")  # after reaching each step
OPINIONS = ("请核实上报", "已交办责任单位处理", "已到场处置完毕", "已电话回访群众，表示满意",
            "准予办结")


def build(ctx: Context) -> Output:
    pop = ctx.pop
    rng = ctx.rng(SYSTEM, "data")
    out = Output(SYSTEM)
    geo = pop.geo

    # One to three grids per community, each with a resident grid worker.
    per = rng.integers(1, 4, len(geo.community_street))
    community = np.repeat(np.arange(len(per)), per)
    g = len(community)
    seq = rank_within(community) + 1
    grid_code = cat(take(geo.community_code, community), num(seq, 2))
    street = geo.community_street[community]
    age = pop.age()
    workers = np.flatnonzero((age >= 23) & (age <= 55) & pc.is_valid(pop.mobile).to_numpy(
        zero_copy_only=False))
    worker = workers[rng.integers(0, len(workers), g)]
    grids = conform(GRIDS, {
        "wgbm": grid_code,
        "wgmc": cat(take(geo.community_name, community), "第", num(seq), "网格"),
        "jdxz_dm": take(geo.street_code, street), "jdxz_mc": take(geo.street_name, street),
        "sqjc_mc": take(geo.community_name, community), "wgy": take(pop.name, worker),
        "wgy_lxdh": take(pop.mobile, worker),
        "gxsj": timestamps(random_times(rng, random_days(rng, g, "2024-01-01", "2026-05-30"))),
        "_person": worker,
    })

    # Events in the last two years; residents report about a third, grid workers the rest.
    n = max(10, int(pop.n * EVENTS_PER_PERSON))
    grid = rng.integers(0, g, n)
    etype = weighted(rng, n, [w for _, _, w, _ in EVENT_TYPES])
    day = random_days(rng, n, "2024-06-01", "2026-05-30")
    reported = random_times(rng, day)
    place = cat("山东省临沂市", take(geo.county_name, geo.street_county[street[grid]]),
                take(geo.street_name, street[grid]), take(geo.community_name, community[grid]),
                take(ROADS, rng.integers(0, len(ROADS), n)), num(rng.integers(1, 300, n)), "号")
    minor = take([t[1] for t in EVENT_TYPES], etype)
    with_car = np.array([t[3] for t in EVENT_TYPES])[etype] & (rng.random(n) < 0.8)
    by_resident = rng.random(n) < 0.35
    residents = np.flatnonzero(pc.is_valid(pop.mobile).to_numpy(zero_copy_only=False))
    reporter = np.where(by_resident, residents[rng.integers(0, len(residents), n)],
                        worker[grid])
    source = np.where(by_resident, np.where(rng.random(n) < 0.5, "群众上报", "12345热线"),
                      "网格员巡查")
    # Steps reached: most events are closed (办结), some still open at an earlier step.
    reached = 1 + weighted(rng, n, (4, 5, 7, 6, 78))
    stamp = np.datetime64("2026-05-31T18:00:00")  # nothing happens after the as-of day
    number = cat("SJ", pc.utf8_replace_slice(pc.utf8_replace_slice(
        pc.cast(pa.array(day, pa.date32()), pa.string()), 4, 5, ""), 6, 7, ""),
        num(rank_within(day.astype(np.int64)) + 1, 6))

    event = np.repeat(np.arange(n), reached)
    starts = np.r_[0, np.cumsum(reached)[:-1]]
    step = np.arange(len(event)) - np.repeat(starts, reached)
    gap = np.where(step == 0, 0, rng.integers(1800, 2 * 86400, len(event)))
    total = np.cumsum(gap)
    within = total - np.repeat(total[starts], reached)  # seconds since the report
    when = reported[event] + within.astype("timedelta64[s]")
    when = np.minimum(when, stamp)
    closed = reached == len(EVENT_STEPS)
    last = np.cumsum(reached) - 1
    closed_at = where(closed, timestamps(when[last]), pa.nulls(n, pa.timestamp("s")))
    events = conform(EVENTS, {
        "sjbh": number, "sjdl": take([t[0] for t in EVENT_TYPES], etype), "sjxl": minor,
        "sjms": cat("在", place, "发现", minor, "问题，请相关单位及时处理。"),
        "wgbm": take(grid_code, grid), "fsdz": place,
        "cph": where(with_car, ids.plates(rng, n), pa.nulls(n, pa.string())),
        "sbly": strings(source.tolist()), "sbr": take(pop.name, reporter),
        "sbr_lxdh": take(pop.mobile, reporter), "sbsj": timestamps(reported),
        "dqzt": take(STATES, reached - 1),
        "bjsj": closed_at, "_person": reporter,
    })
    events = dirt.apply(ctx.rng(SYSTEM, "sjxx"), EVENTS, events, ctx.rates, out.log)

    m = len(event)
    unit = take(HANDLING_UNITS, rng.integers(0, len(HANDLING_UNITS), n))
    handler = take(pop.name, rng.integers(0, pop.n, m))
    steps = conform(STEPS, {
        "id": np.arange(1, m + 1), "sjbh": take(number, event),
        "hj": take(list(EVENT_STEPS), step),
        "czbm": where(step == 0, strings(["网格员"] * m), take(unit, event)),
        "czr": where(step == 0, take(pop.name, reporter[event]), handler),
        "czsj": timestamps(when), "clyj": take(OPINIONS, step),
        "_person": np.where(step == 0, reporter[event], -1),
    })
    out.tables += [(GRIDS, grids), (EVENTS, events), (STEPS, steps)]
    return out
