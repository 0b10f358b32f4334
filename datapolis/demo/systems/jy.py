"""市教育局 学历学位信息系统 (jy_xlxx): higher-education degree records of residents."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from datapolis.demo import dirt
from datapolis.demo.schema import DataKind as K
from datapolis.demo.schema import Dirt as D
from datapolis.demo.schema import Table, col, conform
from datapolis.demo.systems.base import Context, Output
from datapolis.demo.vec import (
    AS_OF_DAY,
    Ints,
    cat,
    date_text,
    lookup,
    num,
    random_days,
    random_times,
    rank_within,
    take,
    timestamps,
    weighted,
)
from datapolis.demo.vocab import MAJORS, SCHOOLS, STUDY_MODES

SYSTEM = "jy_xlxx"

DEGREES = Table("xlxx", "高等教育学历信息", (
    col("xlid", "int", "学历记录编号"),
    col("xm", "str:30", "姓名", K.PERSON_NAME, D.FULLWIDTH, D.BLANK),
    col("xb", "str:2", "性别"),
    col("csrq", "str:20", "出生日期", K.NONE, D.CONFLICT, D.DATE_FORMAT),
    col("sfzh", "str:18", "身份证号", K.RESIDENT_ID, D.CHECK_DIGIT, D.LEGACY_ID15, D.BLANK),
    col("xxdm", "str:5", "学校代码"),
    col("xxmc", "str:60", "学校名称"),
    col("zymc", "str:60", "专业名称"),
    col("cc", "str:2", "学历层次（GB/T 4658）"),
    col("xxxs", "str:10", "学习形式"),
    col("rxrq", "str:20", "入学日期", K.NONE, D.DATE_FORMAT),
    col("byrq", "str:20", "毕业日期", K.NONE, D.DATE_FORMAT),
    col("zsbh", "str:18", "证书编号"),
    col("gxsj", "datetime", "更新时间", K.NONE, D.STALE),
), duplicates=True)

TABLES = (DEGREES,)

# Level code -> (letter in SCHOOLS, graduation age, years of study, certificate level digit)
LEVELS = {"31": ("J", 21, 3, 6), "21": ("B", 22, 4, 5), "14": ("M", 25, 3, 2),
          "11": ("D", 29, 4, 1)}
MODE_DIGIT = {"普通全日制": 1, "成人教育": 5, "自学考试": 6, "网络教育": 7}


def _schools_for(rng: np.random.Generator, letters: np.ndarray) -> Ints:
    out = np.zeros(len(letters), dtype=np.int64)
    for letter in "JBMD":
        sel = np.flatnonzero(letters == letter)
        options = [i for i, s in enumerate(SCHOOLS) if letter in s[2]]
        # Most residents studied close to home: 临沂大学 and the local colleges dominate.
        weights = [10 if "临沂" in SCHOOLS[i][1] else 2 for i in options]
        out[sel] = np.array(options)[weighted(rng, len(sel), weights)]
    return out


def build(ctx: Context) -> Output:
    pop = ctx.pop
    rng = ctx.rng(SYSTEM, "data")
    out = Output(SYSTEM)
    edu = pop.education.to_numpy(zero_copy_only=False).astype(str)
    # Highest degree, plus the bachelor's under a master's and the master's under a doctorate.
    people = [np.flatnonzero(np.isin(edu, list(LEVELS)))]
    levels = [edu[people[0]]]
    for upper, lower in (("14", "21"), ("11", "21"), ("11", "14")):
        holders = np.flatnonzero(edu == upper)
        people.append(holders)
        levels.append(np.full(len(holders), lower))
    person = np.concatenate(people)
    level = np.concatenate(levels)
    order = np.argsort(person, kind="stable")
    person, level = person[order], level[order]

    grad_age = lookup(level, {k: v[1] for k, v in LEVELS.items()}).astype(np.int64)
    years = lookup(level, {k: v[2] for k, v in LEVELS.items()}).astype(np.int64)
    grad_year = pop.birth[person].astype("datetime64[Y]").astype(np.int64) + 1970 + grad_age
    grad_year += rng.integers(0, 3, len(person))
    graduated = np.array([f"{y}-06-30" for y in range(1900, 2100)], dtype="datetime64[D]")
    grad = graduated[grad_year - 1900]
    keep = grad <= AS_OF_DAY
    person, level, grad, years = person[keep], level[keep], grad[keep], years[keep]
    n = len(person)
    enrol = grad - (365.25 * years).astype("timedelta64[D]") + np.timedelta64(62, "D")
    letters = lookup(level, {k: v[0] for k, v in LEVELS.items()})
    school = _schools_for(rng, letters)
    mode_idx = weighted(rng, n, [w for _, w in STUDY_MODES])
    mode_idx[np.isin(letters, ["M", "D"])] = 0
    modes = [m for m, _ in STUDY_MODES]
    codes = np.array([s[0] for s in SCHOOLS])[school]
    year = grad.astype("datetime64[Y]").astype(np.int64) + 1970
    level_digit = lookup(level, {k: v[3] for k, v in LEVELS.items()}).astype(np.int64)
    mode_digit = np.array([MODE_DIGIT[m] for m in modes], dtype=np.int64)[mode_idx]
    series = school * 10**7 + year * 10 + level_digit
    certificate = cat(pa.array(codes.tolist()), num(mode_digit), num(year), num(level_digit),
                      num(rank_within(series) + 1, 6))
    degrees = conform(DEGREES, {
        "xlid": np.arange(1, n + 1), "xm": take(pop.name, person),
        "xb": take(["男", "女"], pop.sex[person] - 1),
        "csrq": date_text(pop.birth[person]), "sfzh": take(pop.id_number, person),
        "xxdm": pa.array(codes.tolist()), "xxmc": take([s[1] for s in SCHOOLS], school),
        "zymc": take(MAJORS, rng.integers(0, len(MAJORS), n)), "cc": pa.array(level.tolist()),
        "xxxs": take(modes, mode_idx), "rxrq": date_text(enrol), "byrq": date_text(grad),
        "zsbh": certificate,
        "gxsj": timestamps(random_times(rng, random_days(rng, n, "2023-01-01", "2026-05-30"))),
        "_person": person,
    })
    degrees = dirt.apply(ctx.rng(SYSTEM, "xlxx"), DEGREES, degrees, ctx.rates, out.log)
    out.tables.append((DEGREES, degrees))
    return out
