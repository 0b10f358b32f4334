"""市水务集团 供水营销管理系统 (swjt_yxxt): accounts, monthly meter readings, bills, arrears.

Meters are read monthly and billed every two months (两月一收), as many northern water
companies do; arrears are the unpaid bills summed per account.
"""

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
    strings,
    take,
    timestamps,
    where,
)

SYSTEM = "swjt_yxxt"

ACCOUNTS = Table("yhda", "用水户档案", (
    col("hh", "str:10", "用水户号"),
    col("hm", "str:100", "户名", K.PERSON_NAME, D.FULLWIDTH, D.BLANK),
    col("zjlx", "str:20", "证件类型"),
    col("zjhm", "str:18", "证件号码", K.RESIDENT_ID, D.CHECK_DIGIT, D.LEGACY_ID15, D.BLANK),
    col("lxdh", "str:20", "联系电话", K.MOBILE, D.BLANK),
    col("ysdz", "str:200", "用水地址", K.ADDRESS, D.CONFLICT, D.FULLWIDTH),
    col("yhlx", "str:10", "用户类型"),
    col("sbbh", "str:12", "水表编号"),
    col("sbkj", "str:10", "水表口径"),
    col("dkyh", "str:30", "代扣银行"),
    col("yhkh", "str:19", "代扣银行卡号", K.BANK_CARD),
    col("khrq", "str:20", "开户日期", K.NONE, D.DATE_FORMAT),
    col("zt", "str:4", "用户状态"),
    col("gxsj", "datetime", "更新时间", K.NONE, D.STALE),
))

READINGS = Table("cbxx", "月度抄表信息", (
    col("id", "int", "抄表记录编号"),
    col("hh", "str:10", "用水户号"),
    col("zq", "str:6", "账期（年月）"),
    col("sqds", "int", "上期读数（吨）"),
    col("bqds", "int", "本期读数（吨）"),
    col("ysl", "int", "用水量（吨）"),
    col("cbrq", "date", "抄表日期"),
))

BILLS = Table("zdxx", "水费账单", (
    col("zdh", "str:16", "账单号"),
    col("hh", "str:10", "用水户号"),
    col("zq", "str:13", "计费账期"),
    col("sl", "int", "计费水量（吨）"),
    col("sf", "money", "水费（元）"),
    col("wsf", "money", "污水处理费（元）"),
    col("ysje", "money", "应收金额（元）"),
    col("ssje", "money", "实收金额（元）"),
    col("jfrq", "date", "缴费日期"),
    col("jfzt", "str:6", "缴费状态"),
))

ARREARS = Table("qfxx", "欠费信息", (
    col("hh", "str:10", "用水户号"),
    col("hm", "str:100", "户名", K.PERSON_NAME),
    col("qfje", "money", "欠费金额（元）"),
    col("qfqs", "int", "欠费期数"),
    col("zzqfzq", "str:13", "最早欠费账期"),
    col("cjcs", "int", "催缴次数"),
    col("gxsj", "datetime", "更新时间"),
))

TABLES = (ACCOUNTS, READINGS, BILLS, ARREARS)

LAST_MONTH = np.datetime64("2026-04", "M")  # the last month read before the demo's as-of day
# (water, sewage) price per tonne: residential and non-residential.
PRICES = {"居民生活": (2.60, 0.95), "非居民": (3.60, 1.40)}


def build(ctx: Context) -> Output:
    pop, ents = ctx.pop, ctx.ents
    rng = ctx.rng(SYSTEM, "data")
    out = Output(SYSTEM)

    # Residential accounts: most households, held by the head or (sometimes) the spouse.
    has = np.flatnonzero(rng.random(pop.households) < 0.85)
    holder = pop.hh_head[has].copy()
    spouse = holder + 1
    by_spouse = (pop.hh_size[has] > 1) & (pop.role[np.minimum(spouse, pop.n - 1)] == 1)
    holder = np.where(by_spouse & (rng.random(len(has)) < 0.2), spouse, holder)
    # Non-residential accounts: a tenth of the enterprises still in business.
    open_ents = np.flatnonzero(np.isnat(ents.closed))
    firms = open_ents[rng.random(len(open_ents)) < 0.1]
    r, f = len(has), len(firms)
    n = r + f
    firm = np.r_[np.full(r, -1), firms]
    resident = np.r_[holder, np.full(f, -1)]
    is_firm = firm >= 0
    name = where(is_firm, take(ents.name, np.maximum(firm, 0)),
                 take(pop.name, np.maximum(resident, 0)))
    id_number = where(is_firm, take(ents.credit_code, np.maximum(firm, 0)),
                      take(pop.id_number, np.maximum(resident, 0)))
    address = where(is_firm, take(ents.address, np.maximum(firm, 0)),
                    take(pop.addr_full, np.r_[has, np.zeros(f, dtype=np.int64)]))
    kind = np.where(is_firm, "非居民", "居民生活")
    order = rng.permutation(n)  # account numbers were handed out over time, not by household
    account = cat("37", num(order + 1, 8))
    opened = random_days(rng, n, "1998-01-01", "2025-12-31")
    card, bank = ids.bank_cards(rng, n)
    debit = rng.random(n) < 0.4
    mobile = where(is_firm, ids.mobiles(rng, n), take(pop.mobile, np.maximum(resident, 0)))

    def other_addresses(g: np.random.Generator, k: int) -> pa.Array:
        return take(pop.addr_full, g.integers(0, pop.households, k))

    accounts = conform(ACCOUNTS, {
        "hh": account, "hm": name,
        "zjlx": where(is_firm, pa.array(["统一社会信用代码"] * n), pa.array(["居民身份证"] * n)),
        "zjhm": id_number, "lxdh": mobile, "ysdz": address, "yhlx": strings(kind.tolist()),
        "sbbh": cat("SB", num(rng.integers(0, 10**10, n), 10)),
        "sbkj": where(is_firm, pa.array(["DN50"] * n), pa.array(["DN15"] * n)),
        "dkyh": where(debit, bank, pa.nulls(n, pa.string())),
        "yhkh": where(debit, card, pa.nulls(n, pa.string())), "khrq": date_text(opened),
        "zt": where(rng.random(n) < 0.02, pa.array(["停水"] * n), pa.array(["正常"] * n)),
        "gxsj": timestamps(random_times(rng, random_days(rng, n, "2024-01-01", "2026-05-30"))),
        "_person": resident, "_enterprise": firm,
    })
    accounts = dirt.apply(ctx.rng(SYSTEM, "yhda"), ACCOUNTS, accounts, ctx.rates, out.log,
                          conflicts={"ysdz": other_addresses})

    # Monthly readings: 12-24 months per account, seasonal use around a per-account level.
    months = rng.integers(12, 25, n)
    acct = np.repeat(np.arange(n), months)
    starts = np.cumsum(months) - months
    step = np.arange(len(acct)) - starts[acct]
    month = LAST_MONTH - (months[acct] - 1 - step).astype("timedelta64[M]")
    size = np.where(is_firm, 8, pop.hh_size[np.r_[has, np.zeros(f, dtype=np.int64)]])
    level = size * rng.uniform(2.2, 3.8, n) * np.where(is_firm, 4, 1)
    month_no = month.astype(np.int64) % 12
    season = 1 + 0.25 * np.cos((month_no - 6) / 12 * 2 * np.pi)
    usage = rng.poisson(level[acct] * season).astype(np.int64)
    first = rng.integers(0, 5000, n)
    cumulative = np.cumsum(usage)
    before = cumulative - usage - (cumulative - usage)[starts][acct]
    previous = first[acct] + before
    read_day = month.astype("datetime64[D]") + rng.integers(19, 27, len(acct)).astype(
        "timedelta64[D]")
    period = pc.utf8_replace_slice(pc.cast(pa.array(month.astype("datetime64[D]")), pa.string()),
                                   4, 5, "")
    period = pc.utf8_slice_codeunits(period, 0, 6)
    readings = conform(READINGS, {
        "id": np.arange(1, len(acct) + 1), "hh": take(account, acct), "zq": period,
        "sqds": previous, "bqds": previous + usage, "ysl": usage,
        "cbrq": pa.array(read_day, pa.date32()),
    })

    # Bills every two months: pairs of readings, counted back from the last month.
    pair = (months[acct] - 1 - step) // 2
    bill_key = acct * 100 + pair
    edges = np.r_[0, np.flatnonzero(np.diff(bill_key)) + 1]
    volume = np.add.reduceat(usage, edges)
    b_acct = acct[edges]
    last_read = np.r_[edges[1:], len(acct)] - 1
    b = len(edges)
    water, sewage = (np.where(is_firm[b_acct], PRICES["非居民"][i], PRICES["居民生活"][i])
                     for i in (0, 1))
    fee = np.round(volume * water, 2)
    sewage_fee = np.round(volume * sewage, 2)
    due = fee + sewage_fee
    # A few accounts stop paying: their latest bills stay open.
    defaulter = rng.random(n) < 0.05
    recent = pair[last_read] < rng.integers(1, 6, b)
    unpaid = (defaulter[b_acct] & recent) | (rng.random(b) < 0.01)
    partial = unpaid & (rng.random(b) < 0.15)
    paid = np.where(unpaid, np.where(partial, np.round(due * 0.5, 2), 0.0), due)
    paid_on = read_day[last_read] + rng.integers(3, 40, b).astype("timedelta64[D]")
    status = np.where(~unpaid, "已缴费", np.where(partial, "部分缴费", "未缴费"))
    span = cat(take(period, edges), "-", take(period, last_read))
    bills = conform(BILLS, {
        "zdh": cat("ZD", num(np.arange(1, b + 1), 14)), "hh": take(account, b_acct),
        "zq": span, "sl": volume, "sf": fee, "wsf": sewage_fee, "ysje": due, "ssje": paid,
        "jfrq": where(unpaid & ~partial, pa.nulls(b, pa.date32()),
                      pa.array(paid_on, pa.date32())),
        "jfzt": strings(status.tolist()),
    })

    # Arrears: unpaid amounts per account, earliest unpaid period first.
    owing = np.flatnonzero(unpaid)
    debtor = np.unique(b_acct[owing])
    amount = np.bincount(b_acct[owing], weights=due[owing] - paid[owing], minlength=n)
    periods = np.bincount(b_acct[owing], minlength=n)
    earliest = np.full(n, -1)
    earliest[b_acct[owing][::-1]] = owing[::-1]
    d = len(debtor)
    arrears = conform(ARREARS, {
        "hh": take(account, debtor), "hm": take(name, debtor),
        "qfje": np.round(amount[debtor], 2), "qfqs": periods[debtor],
        "zzqfzq": take(span, earliest[debtor]), "cjcs": rng.integers(0, 4, d),
        "gxsj": timestamps(random_times(rng, random_days(rng, d, "2026-05-01", "2026-05-30"))),
        "_person": resident[debtor], "_enterprise": firm[debtor],
    })
    out.tables += [(ACCOUNTS, accounts), (READINGS, readings), (BILLS, bills),
                   (ARREARS, arrears)]
    return out
