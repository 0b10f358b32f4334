"""市公安局 户籍管理系统 (gaj_hjxt): residents, households, standard addresses, membership."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from datapolis.demo import dirt
from datapolis.demo.population import SPOUSE
from datapolis.demo.schema import DataKind as K
from datapolis.demo.schema import Dirt as D
from datapolis.demo.schema import Table, col, conform
from datapolis.demo.systems.base import Context, Output
from datapolis.demo.vec import (
    AS_OF_DAY,
    cat,
    date_text,
    num,
    random_days,
    random_times,
    take,
    timestamps,
    where,
)
from datapolis.demo.vocab import RELATION

SYSTEM = "gaj_hjxt"

PERSONS = Table("czrk", "常住人口基本信息", (
    col("ryid", "int", "人员编号"),
    col("gmsfhm", "str:18", "公民身份号码", K.RESIDENT_ID, D.CHECK_DIGIT, D.LEGACY_ID15),
    col("xm", "str:30", "姓名", K.PERSON_NAME, D.FULLWIDTH, D.BLANK),
    col("cym", "str:30", "曾用名", K.PERSON_NAME),
    col("xb", "str:1", "性别（GB/T 2261.1：1男 2女）"),
    col("mz", "str:2", "民族（GB 3304）"),
    col("csrq", "date", "出生日期"),
    col("whcd", "str:2", "文化程度（GB/T 4658）"),
    col("hyzk", "str:2", "婚姻状况（GB/T 2261.2）"),
    col("hh", "str:10", "户号"),
    col("yhzgx", "str:2", "与户主关系（GB/T 4761）"),
    col("hjdz_dzbm", "str:16", "户籍地址编码"),
    col("hjdz", "str:200", "户籍地址", K.ADDRESS, D.FULLWIDTH, D.BLANK),
    col("lxdh", "str:20", "联系电话", K.MOBILE, D.BLANK),
    col("hzhm", "str:20", "护照号码", K.PASSPORT),
    col("qrrq", "str:20", "迁入日期", K.NONE, D.DATE_FORMAT),
    col("djsj", "datetime", "登记时间"),
    col("gxsj", "datetime", "更新时间", K.NONE, D.STALE),
), duplicates=True)

HOUSEHOLDS = Table("hxx", "户信息", (
    col("hh", "str:10", "户号"),
    col("hb", "str:1", "户别（1家庭户 2集体户）"),
    col("hzxm", "str:30", "户主姓名", K.PERSON_NAME, D.FULLWIDTH),
    col("hz_gmsfhm", "str:18", "户主公民身份号码", K.RESIDENT_ID, D.CHECK_DIGIT),
    col("hrs", "int", "户内人数"),
    col("dzbm", "str:16", "地址编码"),
    col("hjdz", "str:200", "户籍地址", K.ADDRESS, D.FULLWIDTH),
    col("lhrq", "str:20", "立户日期", K.NONE, D.DATE_FORMAT),
    col("gxsj", "datetime", "更新时间", K.NONE, D.STALE),
))

ADDRESSES = Table("dzxx", "标准地址信息", (
    col("dzbm", "str:16", "地址编码"),
    col("xzqh_dm", "str:6", "区县代码（GB/T 2260）"),
    col("xzqh_mc", "str:20", "区县名称"),
    col("jdxz_dm", "str:9", "街道（乡镇）代码"),
    col("jdxz_mc", "str:20", "街道（乡镇）名称"),
    col("sqjc_dm", "str:12", "社区（村）代码"),
    col("sqjc_mc", "str:30", "社区（村）名称"),
    col("jlx", "str:50", "街路巷"),
    col("mph", "str:20", "门牌号"),
    col("xqlp", "str:100", "小区楼盘及楼栋单元室"),
    col("xxdz", "str:200", "详细地址", K.ADDRESS, D.FULLWIDTH),
    col("gxsj", "datetime", "更新时间", K.NONE, D.STALE),
))

MEMBERS = Table("hcy", "户成员关系", (
    col("id", "int", "记录编号"),
    col("hh", "str:10", "户号"),
    col("ryid", "int", "人员编号"),
    col("yhzgx", "str:2", "与户主关系（GB/T 4761）"),
    col("rhrq", "date", "入户日期"),
    col("bdlx", "str:10", "变动类型"),
    col("gxsj", "datetime", "更新时间"),
))

TABLES = (PERSONS, HOUSEHOLDS, ADDRESSES, MEMBERS)


def _recent(rng: np.random.Generator, n: int) -> pa.Array:
    return timestamps(random_times(rng, random_days(rng, n, "2024-06-01", "2026-05-30")))


def build(ctx: Context) -> Output:
    pop = ctx.pop
    rng = ctx.rng(SYSTEM, "data")
    out = Output(SYSTEM)
    n, h = pop.n, pop.households
    person = np.arange(n, dtype=np.int64)
    hh = pop.household

    # Relation to the head from role and sex: spouse 夫/妻, children 子/女, parents 父亲/母亲.
    male = pop.sex == 1
    rel = np.select([pop.role == 0, pop.role == SPOUSE, pop.role == 2],
                    [np.array("02"), np.where(male, "11", "12"), np.where(male, "20", "30")],
                    np.where(male, "51", "52"))
    relation = pa.array(rel.astype(str), pa.string())
    assert set(np.unique(rel).tolist()) <= set(RELATION)

    # Spouses moved in at marriage; everyone else was registered at birth.
    wed = pop.birth + (365 * rng.integers(20, 30, n)).astype("timedelta64[D]")
    moved_in = np.minimum(np.where(pop.role == SPOUSE, wed, pop.birth), AS_OF_DAY)
    registered = timestamps(random_times(rng, moved_in))
    # A former name: same surname, the given name of someone of the same sex.
    same_sex = np.where(male, np.flatnonzero(male)[rng.integers(0, max(male.sum(), 1), n)],
                        np.flatnonzero(~male)[rng.integers(0, max((~male).sum(), 1), n)])
    former = cat(pop.surname, pc.utf8_slice_codeunits(take(pop.name, same_sex), 1, None))
    used_name = where(rng.random(n) < 0.02, former, pa.nulls(n, pa.string()))
    persons = conform(PERSONS, {
        "ryid": person + 1, "gmsfhm": pop.id_number, "xm": pop.name, "cym": used_name,
        "xb": num(pop.sex), "mz": pop.ethnicity, "csrq": pa.array(pop.birth, pa.date32()),
        "whcd": pop.education, "hyzk": pop.marriage, "hh": take(pop.hh_no, hh),
        "yhzgx": relation, "hjdz_dzbm": take(pop.addr_code, hh),
        "hjdz": take(pop.addr_full, hh), "lxdh": pop.mobile, "hzhm": pop.passport,
        "qrrq": date_text(moved_in), "djsj": registered, "gxsj": _recent(rng, n),
        "_person": person,
    })
    persons = dirt.apply(ctx.rng(SYSTEM, "czrk"), PERSONS, persons, ctx.rates, out.log)

    head = pop.hh_head
    founded = np.minimum(pop.birth[head] + (365 * rng.integers(20, 30, h)).astype(
        "timedelta64[D]"), AS_OF_DAY)
    collective = (pop.hh_size == 1) & (rng.random(h) < 0.1)
    households = conform(HOUSEHOLDS, {
        "hh": pop.hh_no, "hb": where(collective, pa.scalar("2"), pa.scalar("1")),
        "hzxm": take(pop.name, head), "hz_gmsfhm": take(pop.id_number, head),
        "hrs": pop.hh_size, "dzbm": pop.addr_code, "hjdz": pop.addr_full,
        "lhrq": date_text(founded), "gxsj": _recent(rng, h), "_person": head,
    })
    households = dirt.apply(ctx.rng(SYSTEM, "hxx"), HOUSEHOLDS, households, ctx.rates, out.log)

    geo = pop.geo
    street = pop.hh_street
    addresses = conform(ADDRESSES, {
        "dzbm": pop.addr_code, "xzqh_dm": take(geo.county_code, geo.street_county[street]),
        "xzqh_mc": take(geo.county_name, geo.street_county[street]),
        "jdxz_dm": take(geo.street_code, street), "jdxz_mc": take(geo.street_name, street),
        "sqjc_dm": take(geo.community_code, pop.hh_community),
        "sqjc_mc": take(geo.community_name, pop.hh_community), "jlx": pop.addr_road,
        "mph": pop.addr_number, "xqlp": pop.addr_unit, "xxdz": pop.addr_full,
        "gxsj": _recent(rng, h),
    })
    addresses = dirt.apply(ctx.rng(SYSTEM, "dzxx"), ADDRESSES, addresses, ctx.rates, out.log)

    change = np.where(pop.role == SPOUSE, "婚姻迁入", "出生登记")
    members = conform(MEMBERS, {
        "id": person + 1, "hh": take(pop.hh_no, hh), "ryid": person + 1, "yhzgx": relation,
        "rhrq": pa.array(moved_in, pa.date32()), "bdlx": pa.array(change.astype(str)),
        "gxsj": pc.cast(registered, pa.timestamp("s")), "_person": person,
    })
    out.tables += [(PERSONS, persons), (HOUSEHOLDS, households), (ADDRESSES, addresses),
                   (MEMBERS, members)]
    return out
