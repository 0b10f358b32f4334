"""市民政局 最低生活保障 (mzj_dibao): no database, only monthly GBK-encoded CSV files.

Like many county civil-affairs offices, the department exports a spreadsheet each month
(Excel on Windows, so GBK and CRLF line ends) and delivers the file, nothing else.
"""

from __future__ import annotations

import dataclasses
import io

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from datapolis.demo import dirt
from datapolis.demo.schema import DataKind as K
from datapolis.demo.schema import Dirt as D
from datapolis.demo.schema import Table, col, conform
from datapolis.demo.systems.base import Context, Output
from datapolis.demo.vec import date_text, random_days, strings, take, where

SYSTEM = "mzj_dibao"
MONTHS = ("202603", "202604", "202605")
ENCODING = "gbk"

DIBAO = Table("dibao", "城乡最低生活保障对象花名册", (
    col("序号", "int", "序号"),
    col("区县", "str:20", "区县"),
    col("乡镇（街道）", "str:20", "乡镇（街道）"),
    col("村（社区）", "str:30", "村（社区）"),
    col("户主姓名", "str:30", "户主姓名", K.PERSON_NAME, D.FULLWIDTH, D.BLANK),
    col("身份证号码", "str:18", "户主身份证号码", K.RESIDENT_ID, D.CHECK_DIGIT, D.LEGACY_ID15,
        D.BLANK),
    col("家庭人口", "int", "家庭人口"),
    col("保障人数", "int", "保障人数"),
    col("保障类别", "str:10", "保障类别"),
    col("月保障金额（元）", "money", "月保障金额（元）"),
    col("享受起始日期", "str:20", "享受起始日期", K.NONE, D.DATE_FORMAT),
    col("家庭住址", "str:200", "家庭住址", K.ADDRESS, D.CONFLICT, D.FULLWIDTH),
    col("联系电话", "str:20", "联系电话", K.MOBILE, D.BLANK),
    col("备注", "str:50", "备注"),
), duplicates=True)

TABLES = (DIBAO,)
NOTES = ("", "", "", "", "重度残疾", "重病", "单人保", "老年人")


def encode_csv(data: pa.Table) -> bytes:
    buffer = io.BytesIO()
    pacsv.write_csv(data, buffer)
    text = buffer.getvalue().decode("utf-8").replace("\n", "\r\n")
    return text.encode(ENCODING)


def build(ctx: Context) -> Output:
    pop = ctx.pop
    rng = ctx.rng(SYSTEM, "data")
    out = Output(SYSTEM)
    geo = pop.geo
    town = geo.street_is_town[pop.hh_street]
    chosen = np.flatnonzero(rng.random(pop.households) < np.where(town, 0.035, 0.015))
    k = len(chosen)
    # Months of the window each household is on the roll: most all three, a few join or leave.
    first = np.where(rng.random(k) < 0.94, 0, rng.integers(1, 3, k))
    last = np.where(rng.random(k) < 0.96, 2, np.maximum(first, rng.integers(0, 2, k)))
    since = np.where(first == 0, random_days(rng, k, "2014-01-01", "2026-02-28"),
                     np.array(["2026-04-01", "2026-05-01"], dtype="datetime64[D]")[
                         np.maximum(first - 1, 0)])
    head = pop.hh_head[chosen]
    size = pop.hh_size[chosen]
    covered = np.minimum(size, 1 + rng.poisson(0.8, k))
    rural = town[chosen]
    per_person = np.where(rural, rng.uniform(700, 840, k), rng.uniform(880, 1014, k))
    street = pop.hh_street[chosen]

    def other_addresses(g: np.random.Generator, n: int) -> pa.Array:
        return take(pop.addr_full, g.integers(0, pop.households, n))

    roll = {
        "区县": take(geo.county_name, geo.street_county[street]),
        "乡镇（街道）": take(geo.street_name, street),
        "村（社区）": take(geo.community_name, pop.hh_community[chosen]),
        "户主姓名": take(pop.name, head), "身份证号码": take(pop.id_number, head),
        "家庭人口": size, "保障人数": covered,
        "保障类别": where(rural, strings(["农村低保"] * k), strings(["城市低保"] * k)),
        "月保障金额（元）": np.round(covered * per_person), "享受起始日期": date_text(since),
        "家庭住址": take(pop.addr_full, chosen), "联系电话": take(pop.mobile, head),
        "备注": take(NOTES, rng.integers(0, len(NOTES), k)), "_person": head,
    }
    for index, month in enumerate(MONTHS):
        on_roll = np.flatnonzero((first <= index) & (last >= index))
        columns = {name: (values.take(pa.array(on_roll)) if isinstance(values, pa.Array)
                          else values[on_roll]) for name, values in roll.items()}
        columns["序号"] = np.arange(1, len(on_roll) + 1)
        spec = dataclasses.replace(DIBAO, name=f"dibao_{month}")
        table = conform(spec, columns)
        table = dirt.apply(ctx.rng(SYSTEM, month), spec, table, ctx.rates, out.log,
                           conflicts={"家庭住址": other_addresses})
        public = table.select([c.name for c in spec.columns])
        out.files.append((f"files/mzj/dibao_{month}.csv", spec, table, encode_csv(public)))
    return out
