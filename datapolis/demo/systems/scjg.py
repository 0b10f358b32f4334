"""市市场监督管理局 企业登记注册系统 (scjg_qydj): enterprises and their investors."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from datapolis.demo import dirt, ids
from datapolis.demo.enterprises import STATUSES
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
from datapolis.demo.vocab import EMAIL_DOMAINS, INDUSTRIES

SYSTEM = "scjg_qydj"

ENTERPRISES = Table("qyjbxx", "企业基本信息", (
    col("qyid", "int", "企业内部编号"),
    col("tyshxydm", "str:18", "统一社会信用代码", K.CREDIT_CODE, D.CHECK_DIGIT, D.BLANK),
    col("qymc", "str:100", "企业名称"),
    col("qylx", "str:60", "企业类型"),
    col("fddbr", "str:30", "法定代表人", K.PERSON_NAME, D.FULLWIDTH, D.BLANK),
    col("fddbr_zjhm", "str:18", "法定代表人证件号码", K.RESIDENT_ID, D.CHECK_DIGIT,
        D.LEGACY_ID15, D.BLANK),
    col("zczb", "money", "注册资本（万元）"),
    col("hyml", "str:1", "行业门类（GB/T 4754）"),
    col("hydm", "str:4", "行业代码（GB/T 4754）"),
    col("hymc", "str:60", "行业名称"),
    col("clrq", "str:20", "成立日期", K.NONE, D.DATE_FORMAT),
    col("djzt", "str:10", "登记状态"),
    col("zxrq", "str:20", "注销（吊销）日期", K.NONE, D.DATE_FORMAT),
    col("zs", "str:200", "住所", K.ADDRESS, D.FULLWIDTH, D.BLANK),
    col("djjg", "str:60", "登记机关"),
    col("lxdh", "str:20", "联系电话", K.LANDLINE, D.BLANK),
    col("dzyx", "str:60", "电子邮箱", K.EMAIL),
    col("gxsj", "datetime", "更新时间", K.NONE, D.STALE),
), duplicates=True)

INVESTORS = Table("qy_tzr", "企业投资人（股东）信息", (
    col("id", "int", "记录编号"),
    col("qyid", "int", "企业内部编号"),
    col("tyshxydm", "str:18", "统一社会信用代码", K.CREDIT_CODE),
    col("tzrmc", "str:30", "投资人名称", K.PERSON_NAME, D.FULLWIDTH),
    col("zjlx", "str:20", "证件类型"),
    col("zjhm", "str:18", "证件号码", K.RESIDENT_ID, D.CHECK_DIGIT, D.LEGACY_ID15, D.BLANK),
    col("rjcze", "money", "认缴出资额（万元）"),
    col("cgbl", "real", "持股比例（%）"),
    col("gxsj", "datetime", "更新时间", K.NONE, D.STALE),
))

TABLES = (ENTERPRISES, INVESTORS)


def build(ctx: Context) -> Output:
    pop, ents = ctx.pop, ctx.ents
    rng = ctx.rng(SYSTEM, "data")
    out = Output(SYSTEM)
    n = ents.n
    ent = np.arange(n, dtype=np.int64)
    geo = pop.geo
    county_name = take(geo.county_name, ents.county)
    registrar = where(ents.capital >= 1000, pa.array(["临沂市市场监督管理局"] * n),
                      cat(pc.if_else(pa.array(ents.county < 3), "临沂市", ""), county_name,
                          "市场监督管理局"))
    email = where(rng.random(n) < 0.35,
                  cat(num(rng.integers(10_000_000, 3_000_000_000, n)), "@",
                      take(EMAIL_DOMAINS, rng.integers(0, len(EMAIL_DOMAINS), n))),
                  pa.nulls(n, pa.string()))
    closed = ~np.isnat(ents.closed)
    closed_text = where(closed, date_text(np.where(closed, ents.closed, ents.founded)),
                        pa.nulls(n, pa.string()))
    last_change = np.where(closed, ents.closed, np.datetime64("2024-06-01"))
    changed = random_days(rng, n, "2024-06-01", "2026-05-30")
    enterprises = conform(ENTERPRISES, {
        "qyid": ent + 1, "tyshxydm": ents.credit_code, "qymc": ents.name, "qylx": ents.type,
        "fddbr": take(pop.name, ents.legal_rep),
        "fddbr_zjhm": take(pop.id_number, ents.legal_rep), "zczb": ents.capital,
        "hyml": take([i[0] for i in INDUSTRIES], ents.industry),
        "hydm": take([i[1] for i in INDUSTRIES], ents.industry),
        "hymc": take([i[2] for i in INDUSTRIES], ents.industry),
        "clrq": date_text(ents.founded), "djzt": take(STATUSES, ents.status),
        "zxrq": closed_text, "zs": ents.address, "djjg": registrar,
        "lxdh": ids.landlines(rng, n), "dzyx": email,
        "gxsj": timestamps(random_times(rng, np.maximum(last_change, changed))),
        "_person": ents.legal_rep, "_enterprise": ent,
    })
    enterprises = dirt.apply(ctx.rng(SYSTEM, "qyjbxx"), ENTERPRISES, enterprises, ctx.rates,
                             out.log)

    # One to three investors; the legal representative is usually the first.
    count = 1 + np.minimum(rng.poisson(0.6, n), 2)
    owner = np.repeat(ent, count)
    rank = np.arange(len(owner)) - np.repeat(np.cumsum(count) - count, count)
    age = pop.age()
    adults = np.flatnonzero((age >= 22) & (age <= 75))
    person = np.where(rank == 0, ents.legal_rep[owner],
                      adults[rng.integers(0, len(adults), len(owner))])
    share = rng.dirichlet(np.ones(3), len(owner))[:, 0]
    share = np.where(count[owner] == 1, 1.0, np.where(rank == 0, np.maximum(share, 0.5), share))
    total = np.bincount(owner, weights=share, minlength=n)[owner]
    share = np.round(share / total * 100, 2)
    m = len(owner)
    investors = conform(INVESTORS, {
        "id": np.arange(1, m + 1), "qyid": owner + 1,
        "tyshxydm": take(ents.credit_code, owner), "tzrmc": take(pop.name, person),
        "zjlx": strings(["居民身份证"] * m), "zjhm": take(pop.id_number, person),
        "rjcze": np.round(ents.capital[owner] * share / 100, 2), "cgbl": share,
        "gxsj": timestamps(random_times(rng, random_days(rng, m, "2022-01-01", "2026-05-30"))),
        "_person": person, "_enterprise": owner,
    })
    investors = dirt.apply(ctx.rng(SYSTEM, "qy_tzr"), INVESTORS, investors, ctx.rates, out.log)
    out.tables += [(ENTERPRISES, enterprises), (INVESTORS, investors)]
    return out
